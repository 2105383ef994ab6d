"""``courtside fanout``: the app served by uvicorn inside the caller's event loop.

uvicorn's own signal handling is disabled: the CLI owns SIGINT/SIGTERM and sets
``stop``; we then let uvicorn close WebSockets (1012) and drain, bounded by
:attr:`fanout.limits.Limits.shutdown_timeout_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import uvicorn

from courtside.config import CourtsideConfig
from fanout.app import create_app
from fanout.direct_write import DirectWriteProtocol
from fanout.errors import StartupError
from fanout.limits import Limits

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handlers to the caller."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def uvicorn_config(config: CourtsideConfig, nats_url: str, limits: Limits) -> uvicorn.Config:
    """The server settings: no permessage-deflate (it doubles server CPU for small JSON), and
    uvicorn's sans-I/O WebSocket protocol with fanout's direct-write fast path."""
    return uvicorn.Config(
        create_app(config, nats_url, limits=limits), host=config.fanout.host, port=config.fanout.port,
        ws=DirectWriteProtocol, ws_per_message_deflate=False, ws_max_size=limits.ws_max_size,
        ws_ping_interval=limits.ping_interval_s, ws_ping_timeout=limits.ping_timeout_s,
        lifespan="on", log_config=None, access_log=False, server_header=False,
        timeout_graceful_shutdown=int(limits.shutdown_timeout_s) or 1,
    )


async def run(config: CourtsideConfig, nats_url: str, stop: asyncio.Event, *,
              limits: Limits | None = None) -> None:
    """Serve until ``stop`` is set; raise :class:`StartupError` when it cannot start."""
    limits = limits or Limits()
    server = _Server(uvicorn_config(config, nats_url, limits))

    async def stopper() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.create_task(stopper(), name="fanout-stop")
    log.info("fanout listening on http://%s:%d/", config.fanout.host, config.fanout.port)
    try:
        await server.serve()
    except SystemExit as exc:  # uvicorn exits on startup failure (lifespan error, port in use)
        raise StartupError(f"fanout could not start on {config.fanout.host}:{config.fanout.port} "
                           f"(code {exc.code}); see the log lines above") from None
    finally:
        watcher.cancel()
    if not server.started:
        raise StartupError(f"fanout did not start on {config.fanout.host}:{config.fanout.port}")
