"""Tunables of the WebSocket surface that are not (yet) part of the YAML config.

Defaults suit a LAN of browsers and SDK clients; tests shorten the timeouts.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.status import HEARTBEAT_INTERVAL_S


@dataclass(frozen=True, slots=True)
class Limits:
    #: Byte bound of one client's queue, besides ``fanout.client_queue`` messages
    #: (JPEG frames are ~100 KB: 256 of them would be 25 MB per slow client).
    client_queue_bytes: int = 16 * 1024 * 1024
    #: Largest WebSocket message uvicorn accepts at all (bytes); bigger closes with 1009.
    #: Messages over contracts.ws.MAX_CLIENT_MESSAGE_BYTES but under this get an error reply.
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
