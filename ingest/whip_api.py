"""WHIP routes (RFC 9725): ``POST /whip/{camera}`` with an SDP offer, ``DELETE`` to end.

Thin: parsing, limits and sessions live in :class:`~ingest.whip_hub.WhipHub`.
Every refusal is a 4xx with a plain-text reason; trickle ICE (PATCH) is not
supported (405), the answer carries all candidates.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from ingest.errors import WhipBadOffer, WhipError
from ingest.sdp_guard import MAX_SDP_BYTES
from ingest.whip_hub import WhipHub

router = APIRouter()
SDP = "application/sdp"


def _hub(request: Request) -> WhipHub:
    return request.app.state.whip  # type: ignore[no-any-return]


async def _bounded_body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_SDP_BYTES:
            raise WhipError(f"SDP offer larger than {MAX_SDP_BYTES} bytes")
    return bytes(body)


def _refusal(exc: WhipError, status: int | None = None) -> PlainTextResponse:
    return PlainTextResponse(str(exc), status_code=status or exc.status)


@router.post("/whip/{camera}")
async def whip_publish(camera: str, request: Request) -> Response:
    hub = _hub(request)
    try:
        hub.authorize(request.headers.get("authorization"))
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != SDP:
            return PlainTextResponse(f"Content-Type must be {SDP}", status_code=415)
        try:
            body = await _bounded_body(request)
        except WhipError as exc:
            return _refusal(exc, 413)
        session_id, answer = await hub.publish(camera, body)
    except WhipBadOffer as exc:
        return _refusal(exc)
    except WhipError as exc:
        return _refusal(exc)
    return Response(answer, status_code=201, media_type=SDP,
                    headers={"Location": f"/whip/{camera}/{session_id}"})


@router.delete("/whip/{camera}/{session_id}")
async def whip_delete(camera: str, session_id: str, request: Request) -> Response:
    hub = _hub(request)
    try:
        hub.authorize(request.headers.get("authorization"))
        await hub.delete(camera, session_id)
    except WhipError as exc:
        return _refusal(exc)
    return Response(status_code=200)
