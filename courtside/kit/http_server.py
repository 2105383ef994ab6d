"""One embedded HTTP server: uvicorn inside the service's own event loop.

uvicorn's signal handlers are off (the service's ``stop`` event decides when to
go), the socket is bound here so that port 0 picks a free port and the bound
port is known (:attr:`HttpServer.port`) before a heartbeat announces it, and a
port in use fails at once with the setting to change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator
from types import TracebackType
from typing import Any

import uvicorn

log = logging.getLogger(__name__)

#: Seconds between two looks at whether uvicorn has finished starting.
_START_POLL_S = 0.01


class HttpStartError(RuntimeError):
    """The server could not listen, or its app failed to start (the lifespan raised)."""


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: the caller owns shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _bind(host: str, port: int, name: str, setting: str) -> socket.socket:
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say so, and accepted
    # connections inherit it; without it Nagle holds a small write back until the peer's ACK.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM,
                         socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise HttpStartError(f"{name} HTTP cannot listen on {host}:{port}: {exc.strerror} "
                             f"(set {setting})") from None
    return sock


class HttpServer:
    """Serves an ASGI ``app`` on ``host:port`` (0 = a free port) in the running loop.

    ``name`` and ``setting`` only word the errors (``setting``: the config field
    that chooses the port). ``options`` go to :class:`uvicorn.Config` (fanout gives its
    WebSocket protocol and lifespan there); by default no lifespan and no access log.
    An async context manager: started on entry, stopped on exit.
    """

    def __init__(self, app: Any, host: str, port: int, *, name: str, setting: str,
                 stop_timeout_s: float = 1.5, **options: Any) -> None:
        self.name = name
        self.host = host
        self.stop_timeout_s = stop_timeout_s
        self._sock = _bind(host, port, name, setting)
        self.port: int = self._sock.getsockname()[1]
        settings: dict[str, Any] = {"log_level": "warning", "access_log": False, "lifespan": "off",
                                    "timeout_graceful_shutdown": 1, **options}
        self._server = _EmbeddedServer(uvicorn.Config(app, **settings))
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Serve, returning once uvicorn accepts connections; :class:`HttpStartError` if it cannot."""
        self._task = asyncio.create_task(self._serve(), name=f"{self.name}-http")
        while not self._server.started:
            if self._task.done():
                self._sock.close()
                error = None if self._task.cancelled() else self._task.exception()
                self._task = None
                if isinstance(error, HttpStartError):
                    raise error
                raise HttpStartError(f"{self.name} HTTP did not start on {self.host}:{self.port}"
                                     + (f": {error!r}" if error else "")) from None
            await asyncio.sleep(_START_POLL_S)
        log.info("%s HTTP on %s", self.name, self.url)

    async def _serve(self) -> None:
        try:
            await self._server.serve(sockets=[self._sock])
        except SystemExit as exc:  # uvicorn exits when the app's lifespan startup fails
            raise HttpStartError(f"{self.name} HTTP did not start on {self.host}:{self.port}: its app "
                                 f"failed to start (uvicorn code {exc.code}); see the log lines above") from None

    async def wait(self) -> None:
        """Return when the server ends by itself (it should not, before :meth:`stop`)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def stop(self, timeout_s: float | None = None) -> None:
        """Let uvicorn close connections and drain, then force it after ``timeout_s`` seconds."""
        if self._task is None:
            self._sock.close()
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout_s or self.stop_timeout_s)
        except asyncio.TimeoutError:
            self._server.force_exit = True
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        finally:
            self._task = None
            self._sock.close()

    async def __aenter__(self) -> HttpServer:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()
