"""The FastAPI app factory: usable in-process (tests) and by :func:`fanout.service.run`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from courtside.config import CourtsideConfig
from fanout import api, ws_session
from fanout.api_docs import mount_api_docs
from fanout.limits import Limits
from fanout.pages import WEB_DIR, mount_pages
from fanout.runtime import FanoutRuntime


def create_app(config: CourtsideConfig, nats_url: str, *, limits: Limits | None = None,
               web_dir: Path | None = None) -> FastAPI:
    """Build the app; NATS is connected by the lifespan (so building it does no I/O).

    Pages come from ``web_dir``, else ``fanout.web_dir`` (set in the container image), else the
    repository's ``web/``.
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with FanoutRuntime(config, nats_url, limits) as runtime:
            yield {"runtime": runtime}

    app = FastAPI(title="Courtside fanout", version="1",
                  description="Live annotations and video of padel courts over WebSocket (`/ws`, "
                              "protocol v1), camera and model state, operations endpoints.",
                  lifespan=lifespan, docs_url=None)  # /docs from local assets: mount_api_docs
    if config.fanout.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(config.fanout.cors_origins),
                           allow_methods=["GET"], allow_headers=["Authorization"])
    app.include_router(api.router)
    mount_api_docs(app)
    app.add_middleware(ws_session.LiveSocketMiddleware, path="/ws")
    mount_pages(app, web_dir or config.fanout.web_dir or WEB_DIR)
    return app
