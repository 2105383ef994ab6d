"""``/healthz``, ``/readyz`` and ``/metrics``: the operations routes every service serves.

One :class:`fastapi.APIRouter`, included in fanout's app (with its operator-scope
guard on ``/metrics``) and in :func:`ops_app`, the whole app of ingest and of each
inference consumer. Routes are ``async`` so a probe never waits for a thread pool. (No
``from __future__ import annotations`` here: FastAPI must see the route annotations as objects.)
"""

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, FastAPI
from fastapi.params import Depends as DependsParam
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.requests import HTTPConnection

from courtside.kit.readiness import Readiness


class OpsSource(Protocol):
    """What the routes read: a :class:`~courtside.kit.lifecycle.Lifecycle` is one."""

    @property
    def registry(self) -> CollectorRegistry: ...

    def readiness(self) -> Readiness: ...


def ops_router(source: Callable[[HTTPConnection], OpsSource], *,
               metrics_dependencies: Sequence[DependsParam] = (),
               metrics_responses: dict[int | str, dict[str, Any]] | None = None) -> APIRouter:
    """The three routes, reading the service from ``source(connection)`` at each request;
    ``metrics_responses`` documents the refusals of ``metrics_dependencies`` (OpenAPI)."""

    async def ops(conn: HTTPConnection) -> OpsSource:
        return source(conn)

    Ops = Annotated[OpsSource, Depends(ops)]
    router = APIRouter(tags=["ops"])

    @router.get("/healthz", summary="Alive: the event loop answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Ready to serve (200) or not (503), with every dependency's state",
                responses={503: {"description": "Not ready; the body says why"}})
    async def readyz(service: Ops) -> JSONResponse:
        verdict = service.readiness()
        return JSONResponse(verdict.body(), status_code=verdict.status_code)

    @router.get("/metrics", summary="Prometheus metrics (text exposition format)", response_class=Response,
                dependencies=list(metrics_dependencies), responses=metrics_responses)
    async def metrics(service: Ops) -> Response:
        return Response(generate_latest(service.registry), media_type=CONTENT_TYPE_LATEST)

    return router


def _app_source(conn: HTTPConnection) -> OpsSource:
    source: OpsSource = conn.app.state.ops
    return source


def ops_app(source: OpsSource, *, title: str, routers: Sequence[APIRouter] = (),
            state: dict[str, Any] | None = None) -> FastAPI:
    """A small app of the ops routes plus ``routers`` (ingest's WHIP); ``state`` goes on ``app.state``."""
    app = FastAPI(title=title, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ops = source
    for key, value in (state or {}).items():
        setattr(app.state, key, value)
    app.include_router(ops_router(_app_source))
    for router in routers:
        app.include_router(router)
    return app
