"""Ingest's HTTP surface: /healthz, /readyz, /metrics (and the WHIP routes, when given).

Routes stay thin: the running service arrives as an :class:`IngestView` from
``app.state``. The server runs inside the service's event loop (uvicorn's own
signal handling is disabled: the caller owns shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator, Sequence
from typing import Any, Protocol

import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from contracts.status import ServiceState
from ingest.camera_status import CameraSnapshot
from ingest.health import service_state

log = logging.getLogger(__name__)


class IngestView(Protocol):
    """What the HTTP routes may see of the running service."""

    registry: CollectorRegistry
    stopping: bool

    def nats_connected(self) -> bool: ...

    def snapshots(self) -> Sequence[CameraSnapshot]: ...


def _view(request: Request) -> IngestView:
    return request.app.state.ingest  # type: ignore[no-any-return]


router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Alive: the event loop answers."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready (200) when NATS is connected and the service is not stopping; 503 otherwise.

    Per-camera states are reported but do not decide readiness: one dead camera
    must not take the whole instance out of a load balancer.
    """
    view = _view(request)
    snaps = view.snapshots()
    connected = view.nats_connected()
    state = service_state(snaps, connected, view.stopping)
    ready = connected and state != ServiceState.STOPPING
    body: dict[str, Any] = {
        "ready": ready, "state": state.value, "nats": "connected" if connected else "disconnected",
        "cameras": {s.camera: {"state": s.state.value, "reason": s.reason, "fps": round(s.fps, 2)}
                    for s in snaps},
    }
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    return Response(generate_latest(_view(request).registry), media_type=CONTENT_TYPE_LATEST)


def create_app(view: IngestView, extra: Sequence[APIRouter] = ()) -> FastAPI:
    app = FastAPI(title="Courtside ingest", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ingest = view
    app.include_router(router)
    for r in extra:
        app.include_router(r)
    return app


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handlers: the service's ``stop`` event decides."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class HttpServer:
    """Serves ``app`` on ``host:port`` inside the running loop; port 0 picks a free one."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((host, port))
        except OSError as exc:
            self._sock.close()
            raise OSError(exc.errno, f"ingest HTTP cannot listen on {host}:{port}: {exc.strerror} "
                          "(set ingest.port / COURTSIDE_INGEST__PORT)") from None
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=1)
        self._server = _EmbeddedServer(config)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]), name="ingest-http")
        log.info("ingest HTTP on port %d", self.port)

    async def stop(self, timeout_s: float = 1.5) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout_s)
        except asyncio.TimeoutError:
            self._server.force_exit = True
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        finally:
            self._sock.close()
