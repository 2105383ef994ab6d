"""WHIP routes (RFC 9725): ``POST /whip/{camera}`` with an SDP offer, ``DELETE`` to end.

Thin: parsing, limits, sessions and who may publish live in :class:`~ingest.whip_hub.WhipHub`.
Every refusal is a 4xx with a plain-text reason; trickle ICE (PATCH) is not supported
(405), the answer carries all candidates. ``OPTIONS`` answers CORS preflights for the
origins in ``ingest.cors_origins``, so a browser page served elsewhere can publish;
a request from any other origin is refused (403). The routes carry their OpenAPI
description (ingest's app serves none; the fuzz tests build it from this router).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from ingest.errors import WhipError, WhipForbidden
from ingest.sdp_guard import MAX_SDP_BYTES
from ingest.whip_hub import WhipHub

router = APIRouter(tags=["whip"])
SDP = "application/sdp"
_TEXT: dict[str, Any] = {"text/plain": {"schema": {"type": "string"}}}
_REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The SDP offer is malformed or offers no usable video codec", "content": _TEXT},
    401: {"description": "No bearer token, or one that is not valid", "content": _TEXT},
    403: {"description": "The token may not publish to this camera, or the origin is not allowed",
          "content": _TEXT},
    404: {"description": "The camera does not accept WHIP, or the session is unknown", "content": _TEXT},
}
_OFFER = {"requestBody": {"required": True, "content": {SDP: {"schema": {
    "type": "string", "maxLength": MAX_SDP_BYTES, "description": "the SDP offer"}}}}}


def _hub(request: Request) -> WhipHub:
    return request.app.state.whip  # type: ignore[no-any-return]


async def _bounded_body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_SDP_BYTES:
            raise WhipError(f"SDP offer larger than {MAX_SDP_BYTES} bytes")
    return bytes(body)


def _refusal(exc: WhipError, cors: dict[str, str], status: int | None = None) -> PlainTextResponse:
    headers = {**cors, **({"WWW-Authenticate": "Bearer"} if (status or exc.status) == 401 else {})}
    return PlainTextResponse(str(exc), status_code=status or exc.status, headers=headers)


def _check_origin(hub: WhipHub, request: Request) -> dict[str, str]:
    """CORS headers for the response; :class:`WhipForbidden` for a page from a foreign origin."""
    origin = request.headers.get("origin")
    if origin and not hub.cors.allows(origin):
        raise WhipForbidden(f"origin {origin[:100]} is not allowed (ingest.cors_origins)")
    return hub.cors.response_headers(origin)


@router.post("/whip/{camera}", summary="Publish a camera: an SDP offer in, the SDP answer out",
             status_code=201, response_class=Response, openapi_extra=_OFFER, responses={
                 201: {"description": "Session created; Location is its URL for DELETE",
                       "content": {SDP: {"schema": {"type": "string"}}},
                       "headers": {"Location": {"schema": {"type": "string"}}}},
                 **_REFUSALS,
                 409: {"description": "The camera already has a publisher, or too many negotiations",
                       "content": _TEXT},
                 413: {"description": f"The offer is larger than {MAX_SDP_BYTES} bytes", "content": _TEXT},
                 415: {"description": f"The Content-Type is not {SDP}", "content": _TEXT}})
async def whip_publish(camera: str, request: Request) -> Response:
    hub = _hub(request)
    cors: dict[str, str] = {}
    try:
        cors = _check_origin(hub, request)
        hub.authorize(request.headers.get("authorization"), camera)
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != SDP:
            return PlainTextResponse(f"Content-Type must be {SDP}", status_code=415, headers=cors)
        try:
            body = await _bounded_body(request)
        except WhipError as exc:
            return _refusal(exc, cors, 413)
        session_id, answer = await hub.publish(camera, body)
    except WhipError as exc:
        return _refusal(exc, cors)
    return Response(answer, status_code=201, media_type=SDP,
                    headers={**cors, "Location": f"/whip/{camera}/{session_id}"})


@router.delete("/whip/{camera}/{session_id}", summary="End a WHIP session", response_class=Response,
               responses={200: {"description": "Session ended"}, **_REFUSALS})
async def whip_delete(camera: str, session_id: str, request: Request) -> Response:
    hub = _hub(request)
    cors: dict[str, str] = {}
    try:
        cors = _check_origin(hub, request)
        hub.authorize(request.headers.get("authorization"), camera)
        await hub.delete(camera, session_id)
    except WhipError as exc:
        return _refusal(exc, cors)
    return Response(status_code=200, headers=cors)


def _preflight(request: Request, method: str) -> Response:
    """The answer for a resource that supports ``method`` (and OPTIONS) only."""
    policy = replace(_hub(request).cors, methods=(method,))
    answer = policy.preflight(request.headers.get("origin"), request.headers.get("access-control-request-method"),
                              request.headers.get("access-control-request-headers"))
    return PlainTextResponse(answer.reason, status_code=answer.status, headers=answer.headers) \
        if answer.reason else Response(status_code=answer.status, headers=answer.headers)


_PREFLIGHT: dict[int | str, dict[str, Any]] = {
    204: {"description": "Allowed: the Access-Control-Allow-* headers say what"},
    403: {"description": "The origin, method or a request header is not allowed", "content": _TEXT}}


@router.options("/whip/{camera}", summary="CORS preflight of a publish", status_code=204,
                response_class=Response, responses=_PREFLIGHT)
async def whip_publish_preflight(camera: str, request: Request) -> Response:
    return _preflight(request, "POST")


@router.options("/whip/{camera}/{session_id}", summary="CORS preflight of a DELETE", status_code=204,
                response_class=Response, responses=_PREFLIGHT)
async def whip_delete_preflight(camera: str, session_id: str, request: Request) -> Response:
    return _preflight(request, "DELETE")
