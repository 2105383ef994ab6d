"""The FastAPI app factory: usable in-process (tests) and by :func:`fanout.service.run`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from courtside.config import CourtsideConfig
from fanout import api, calibration_api, highlights_api, replay_api, ws_session
from fanout.api_docs import mount_api_docs
from fanout.limits import ConnectionLimiter, Limits
from fanout.pages import WEB_DIR, mount_pages
from fanout.request_limits import RequestLimitMiddleware, RequestRefusals
from fanout.runtime import FanoutRuntime


def create_app(config: CourtsideConfig, nats_url: str, *, limits: Limits | None = None,
               web_dir: Path | None = None) -> FastAPI:
    """Build the app; NATS is connected by the lifespan (so building it does no I/O).

    Pages come from ``web_dir``, else ``fanout.web_dir`` (set in the container image), else the
    repository's ``web/``. The limiters (``app.state.ws_connections``, ``app.state.http_refusals``)
    are made here, with the app, and counted in the runtime's metrics.
    """
    size = limits or Limits()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with FanoutRuntime(config, nats_url, size) as runtime:
            runtime.metrics.attach_limits(app.state.ws_connections, app.state.http_refusals)
            yield {"runtime": runtime}

    app = FastAPI(title="Courtside fanout", version="1",
                  description="Live annotations and video of padel courts over WebSocket (`/ws`, "
                              "protocol v1), camera and model state, operations endpoints.",
                  lifespan=lifespan, docs_url=None)  # /docs from local assets: mount_api_docs
    if config.fanout.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(config.fanout.cors_origins),
                           allow_methods=["GET"], allow_headers=["Authorization"])
    app.include_router(api.router)
    app.include_router(replay_api.router)
    app.include_router(highlights_api.router)
    app.include_router(calibration_api.router)
    mount_api_docs(app)
    app.add_middleware(ws_session.LiveSocketMiddleware, path="/ws")
    mount_pages(app, web_dir or config.fanout.web_dir or WEB_DIR)
    app.state.ws_connections = ConnectionLimiter(size.connections)
    app.state.http_refusals = RequestRefusals()
    app.add_middleware(RequestLimitMiddleware, max_body_bytes=size.max_body_bytes,  # outermost
                       max_url_bytes=size.max_url_bytes, counts=app.state.http_refusals)
    return app
