"""The asyncio client: connect, subscribe, yield typed messages, reconnect with backoff."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable, Sequence
from types import TracebackType
from typing import Literal

from courtside_contracts.errors import ContractError
from courtside_contracts.ws import SUBPROTOCOL, bearer_subprotocol, ping_message, subscribe_message
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from courtside_client.messages import Message, Pong, Subscribed, parse_message

log = logging.getLogger(__name__)

__all__ = ["SUBPROTOCOL", "AuthError", "CourtsideClient", "backoff_delay"]


class AuthError(Exception):
    """The server refused the token (HTTP 401/403 on the handshake): retrying will not help."""


def backoff_delay(attempt: int, min_s: float, max_s: float,
                  random_: Callable[[], float] = random.random) -> float:
    """Seconds before reconnect attempt ``attempt`` (0-based): exponential, capped, half jitter."""
    ceiling = min(max_s, min_s * 2.0 ** min(attempt, 30))
    return ceiling / 2 + random_() * ceiling / 2


class CourtsideClient:
    """One logical subscription to fanout that survives disconnects and server restarts.

    ``token`` travels in the ``Authorization`` header (``token_via="header"``) or as
    the subprotocol ``bearer.<token>`` (``"subprotocol"``, as browsers must). It is
    never logged. ``connects`` counts successful connections (2 after one reconnect).
    """

    def __init__(self, url: str, *, token: str | None = None,
                 token_via: Literal["header", "subprotocol"] = "header",  # noqa: S107 - not a secret
                 reconnect: bool = True,
                 min_backoff_s: float = 0.2, max_backoff_s: float = 10.0, open_timeout_s: float = 5.0,
                 ping_interval_s: float | None = 10.0, max_message_bytes: int = 32 * 1024 * 1024) -> None:
        self.url = url
        self._token = token
        self._via = token_via
        self.reconnect = reconnect
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.open_timeout_s = open_timeout_s
        self.ping_interval_s = ping_interval_s
        self.max_message_bytes = max_message_bytes
        self.connects = 0
        self._ws: ClientConnection | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"CourtsideClient({self.url!r}, token={'***' if self._token else None})"

    async def __aenter__(self) -> CourtsideClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop: the running :meth:`subscribe` iterator ends after the socket closes."""
        self._closed = True
        if self._ws is not None:
            await self._ws.close()

    async def ping(self, nonce: str | None = None) -> None:
        """Application ping; the ``pong`` is consumed internally (protocol pings run anyway)."""
        if self._ws is not None:
            await self._ws.send(ping_message(nonce))

    def _connect(self) -> connect:
        headers: dict[str, str] = {}
        subprotocols = [SUBPROTOCOL]
        if self._token and self._via == "header":
            headers["Authorization"] = f"Bearer {self._token}"
        elif self._token:
            subprotocols.append(bearer_subprotocol(self._token))
        return connect(self.url, additional_headers=headers, subprotocols=subprotocols,  # type: ignore[arg-type]
                       compression=None, open_timeout=self.open_timeout_s, ping_interval=self.ping_interval_s,
                       max_size=self.max_message_bytes, close_timeout=2.0)

    async def subscribe(self, cameras: Sequence[str] | None = None, models: Sequence[str] | None = None,
                        video: Literal["jpeg", "none"] = "none") -> AsyncIterator[Message]:
        """Yield messages of this subscription until :meth:`close` (or the caller stops iterating).

        Raises :class:`AuthError` when the token is refused, and connection errors
        when ``reconnect`` is False.
        """
        request = subscribe_message(cameras, models, video)
        attempt = 0
        self._closed = False
        while not self._closed:
            try:
                async with self._connect() as ws:
                    self._ws = ws
                    self.connects += 1
                    log.info("connected to %s (connection %d)", self.url, self.connects)
                    await ws.send(request)
                    async for raw in ws:
                        try:
                            msg = parse_message(raw)
                        except ContractError as exc:
                            log.warning("skipping a malformed server message: %s", exc)
                            continue
                        if isinstance(msg, Subscribed):
                            attempt = 0  # a working connection: the next failure backs off from the start
                        if msg is not None and not isinstance(msg, Pong):
                            yield msg
            except InvalidStatus as exc:
                if exc.response.status_code in (401, 403):
                    raise AuthError(f"fanout refused the connection: HTTP {exc.response.status_code} "
                                    f"{exc.response.body.decode(errors='replace')[:200]}") from None
                if not self.reconnect:
                    raise
                reason = f"HTTP {exc.response.status_code}"
            except InvalidURI:
                raise
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError) as exc:
                if not self.reconnect:
                    raise
                reason = type(exc).__name__
            else:
                reason = "closed by the server"
            finally:
                self._ws = None
            if self._closed or not self.reconnect:
                return
            delay = backoff_delay(attempt, self.min_backoff_s, self.max_backoff_s)
            attempt += 1
            log.info("connection to %s lost (%s); reconnecting in %.2f s", self.url, reason, delay)
            await asyncio.sleep(delay)
