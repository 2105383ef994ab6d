"""Tunables of the WebSocket surface that are not (yet) part of the YAML config.

Defaults suit a LAN of browsers and SDK clients; tests shorten the timeouts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from courtside_contracts.status import HEARTBEAT_INTERVAL_S


@dataclass(frozen=True, slots=True)
class Limits:
    #: Byte bound of one client's queue, besides ``fanout.client_queue`` messages
    #: (JPEG frames are ~100 KB: 256 of them would be 25 MB per slow client).
    client_queue_bytes: int = 16 * 1024 * 1024
    #: Largest WebSocket message uvicorn accepts at all (bytes); bigger closes with 1009.
    #: Messages over courtside_contracts.ws.MAX_CLIENT_MESSAGE_BYTES but under this get an error reply.
    ws_max_size: int = 256 * 1024
    #: Protocol-level keepalive (seconds): a peer that misses a pong is disconnected.
    ping_interval_s: float = 20.0
    ping_timeout_s: float = 20.0
    #: A connection that has not subscribed within this many seconds is closed (4408).
    subscribe_timeout_s: float = 30.0
    #: Replies (pong, error, subscribed) waiting for a client that does not read; over it: close 1008.
    control_queue: int = 64
    #: Seconds between ``status`` messages and between fanout's own heartbeats.
    status_interval_s: float = HEARTBEAT_INTERVAL_S
    #: nats-py pending limit of each ``frames.<cam>`` subscription (frames; older are lost).
    frames_pending_msgs: int = 64
    #: uvicorn's graceful shutdown bound (seconds).
    shutdown_timeout_s: float = 5.0
    #: Largest HTTP request body (bytes, 413 beyond) and URL with its query (bytes, 414 beyond).
    max_body_bytes: int = 1024 * 1024
    max_url_bytes: int = 8 * 1024
    #: Concurrent WebSocket clients, in total and per token (429 beyond).
    connections: ConnectionLimits = field(default_factory=lambda: ConnectionLimits())


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """Caps on concurrent WebSocket clients; over either the handshake is refused with 429."""

    #: Clients at once, all tokens together.
    total: int = 2000
    #: Clients at once per credential (a static token or one signed token); not applied with auth off.
    per_token: int = 50


class ConnectionLimiter:
    """Counts open WebSocket clients per credential key; pure (no I/O, no clock).

    ``refused_total`` and ``refused_per_token`` count refusals since start (metrics read them);
    ``active`` is the number of clients admitted and not yet released.
    """

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.active = 0
        self._by_key: dict[str, int] = {}
        self.refused_total = 0
        self.refused_per_token = 0

    def acquire(self, key: str | None) -> str | None:
        """Admit a client of credential ``key`` (None: no per-token cap); the refusal reason otherwise."""
        if self.active >= self.limits.total:
            self.refused_total += 1
            return f"too many clients ({self.limits.total} at most); retry later"
        held = self._by_key.get(key, 0) if key is not None else 0
        if key is not None and held >= self.limits.per_token:
            self.refused_per_token += 1
            return f"too many clients with this token ({self.limits.per_token} at most)"
        self.active += 1
        if key is not None:
            self._by_key[key] = held + 1
        return None

    def release(self, key: str | None) -> None:
        self.active -= 1
        if key is not None:
            left = self._by_key.get(key, 0) - 1
            if left > 0:
                self._by_key[key] = left
            else:
                self._by_key.pop(key, None)
