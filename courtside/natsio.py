"""The NATS boundary shared by every service: connect, ensure streams, heartbeat.

nats-py errors are translated here into :class:`NatsUnavailable` with a message
that says what to check.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError
from nats.errors import SlowConsumerError
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from contracts.status import HEARTBEAT_INTERVAL_S, Heartbeat
from contracts.streams import StreamSpec
from contracts.subjects import status_subject

log = logging.getLogger(__name__)


class NatsUnavailable(RuntimeError):
    """NATS could not be reached or refused an operation."""


async def connect(url: str, name: str, *, connect_timeout_s: float = 5.0) -> NATS:
    """Connect with unlimited reconnects (a restarted server is found again).

    The first connection must succeed within ``connect_timeout_s``; later drops
    are retried forever, logged once per state change.
    """

    client = NATS()

    async def on_disconnect() -> None:
        if not (client.is_closed or client.is_draining):  # a deliberate close is not news
            log.warning("%s: disconnected from NATS; reconnecting", name)

    async def on_reconnect() -> None:
        log.info("%s: reconnected to NATS", name)

    slow = SlowConsumerLog(name)

    async def on_error(exc: Exception) -> None:
        if isinstance(exc, SlowConsumerError):
            slow.dropped(exc.subject)
            return
        log.warning("%s: NATS error: %s", name, exc)

    try:
        await client.connect(  # nats-py annotates the two timeouts as int; it uses them as seconds, floats work
            url, name=name, connect_timeout=connect_timeout_s,  # type: ignore[arg-type]
            max_reconnect_attempts=-1, reconnect_time_wait=0.5,  # type: ignore[arg-type]
            allow_reconnect=True, ping_interval=10,
            disconnected_cb=on_disconnect, reconnected_cb=on_reconnect, error_cb=on_error,
        )
        return client
    except (OSError, NatsError, asyncio.TimeoutError) as exc:
        raise NatsUnavailable(f"cannot connect to NATS for {name} ({type(exc).__name__}: {exc}); "
                              "check nats.url / COURTSIDE_NATS__URL and that the server runs") from None


class SlowConsumerLog:
    """nats-py reports every message it drops for a full subscription buffer; this turns that
    into a count and at most one log line per ``interval_s`` (never one per frame)."""

    def __init__(self, name: str, interval_s: float = 10.0) -> None:
        self.name = name
        self.total = 0
        self._since_log = 0
        self._interval_s = interval_s
        self._last_log = -interval_s

    def dropped(self, subject: str) -> None:
        self.total += 1
        self._since_log += 1
        now = time.monotonic()
        if now - self._last_log >= self._interval_s:
            log.warning("%s: falling behind: %d message(s) dropped by the NATS client buffer "
                        "(latest on %s; %d in total)", self.name, self._since_log, subject, self.total)
            self._since_log = 0
            self._last_log = now


async def ensure_stream(nc: NATS, spec: StreamSpec) -> None:
    """Create the stream, or update it to ``spec``, idempotently (any service may call it)."""
    js = nc.jetstream()
    cfg = StreamConfig(
        name=spec.name, subjects=list(spec.subjects),
        retention=RetentionPolicy.WORK_QUEUE if spec.retention == "workqueue" else RetentionPolicy.LIMITS,
        max_age=spec.max_age_s, max_bytes=spec.max_bytes, storage=StorageType.FILE,
        discard=DiscardPolicy.OLD, duplicate_window=spec.duplicate_window_s,
    )
    try:
        await js.add_stream(cfg)
    except BadRequestError:
        await js.update_stream(cfg)
    except (NatsError, asyncio.TimeoutError) as exc:
        raise NatsUnavailable(f"cannot create JetStream stream {spec.name}: {exc} "
                              "(is JetStream enabled on the server? run it with -js)") from None


async def heartbeat_loop(nc: NATS, build: Callable[[], Heartbeat],
                         interval_s: float = HEARTBEAT_INTERVAL_S) -> None:
    """Publish ``build()`` on ``status.<service>.<instance>`` every ``interval_s`` until cancelled."""
    while True:
        beat = build()
        try:
            await nc.publish(status_subject(beat.service, beat.instance), beat.to_json())
        except NatsError as exc:
            log.debug("heartbeat not sent: %s", exc)
        await asyncio.sleep(interval_s)


def now_ns() -> int:
    """Wall-clock Unix time in nanoseconds (the unit of every ``ts``)."""
    return time.time_ns()
