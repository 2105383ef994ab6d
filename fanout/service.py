"""``courtside fanout``: the app served by the kit's embedded uvicorn inside the caller's event loop.

The CLI owns SIGINT/SIGTERM and sets ``stop``; the server then closes WebSockets
(1012) and drains, bounded by :attr:`fanout.limits.Limits.shutdown_timeout_s`, and
the lifespan stops the runtime (:class:`fanout.runtime.FanoutRuntime`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from courtside.config import CourtsideConfig
from courtside.kit.http_server import HttpServer, HttpStartError
from fanout.app import create_app
from fanout.direct_write import DirectWriteProtocol
from fanout.errors import StartupError
from fanout.limits import Limits

log = logging.getLogger(__name__)

#: Seconds the lifespan shutdown (bridge, heartbeat, NATS) may take after the graceful drain.
LIFESPAN_STOP_S = 5.0


def uvicorn_options(limits: Limits) -> dict[str, Any]:
    """The server settings: no permessage-deflate (it doubles server CPU for small JSON), and
    uvicorn's sans-I/O WebSocket protocol with fanout's direct-write fast path."""
    return {
        "ws": DirectWriteProtocol, "ws_per_message_deflate": False, "ws_max_size": limits.ws_max_size,
        "ws_ping_interval": limits.ping_interval_s, "ws_ping_timeout": limits.ping_timeout_s,
        "lifespan": "on", "log_config": None, "log_level": None, "access_log": False, "server_header": False,
        "timeout_graceful_shutdown": int(limits.shutdown_timeout_s) or 1,
    }


async def run(config: CourtsideConfig, nats_url: str, stop: asyncio.Event, *,
              limits: Limits | None = None) -> None:
    """Serve until ``stop`` is set; raise :class:`StartupError` when it cannot start."""
    limits = limits or Limits()
    try:
        server = HttpServer(create_app(config, nats_url, limits=limits), config.fanout.host, config.fanout.port,
                            name="fanout", setting="fanout.port / COURTSIDE_FANOUT__PORT",
                            stop_timeout_s=limits.shutdown_timeout_s + LIFESPAN_STOP_S, **uvicorn_options(limits))
        await server.start()
    except HttpStartError as exc:
        raise StartupError(str(exc)) from None
    log.info("fanout listening on %s/", server.url)
    stopped = asyncio.create_task(stop.wait(), name="fanout-stop")
    ended = asyncio.create_task(server.wait(), name="fanout-serving")
    try:
        await asyncio.wait({stopped, ended}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        ended.cancel()
        await server.stop()
