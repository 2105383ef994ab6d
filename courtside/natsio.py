"""The NATS boundary shared by every service: connect, ensure streams, readiness of the connection.

nats-py errors are translated here into :class:`NatsUnavailable` with a message
that says what to check.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time

from courtside_contracts.streams import StreamSpec
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError
from nats.errors import SlowConsumerError
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from courtside.config import NatsTlsConfig
from courtside.kit.readiness import Dependency

log = logging.getLogger(__name__)


class NatsUnavailable(RuntimeError):
    """NATS could not be reached or refused an operation."""


def tls_context(tls: NatsTlsConfig) -> ssl.SSLContext:
    """A client context that trusts only ``tls.ca`` and checks the server's name (or IP)."""
    try:
        return ssl.create_default_context(cafile=str(tls.ca))
    except (OSError, ssl.SSLError) as exc:
        raise NatsUnavailable(f"nats.tls.ca: cannot read a CA certificate from {tls.ca} ({exc})") from None


async def connect(url: str, name: str, *, connect_timeout_s: float = 5.0,
                  tls: NatsTlsConfig | None = None) -> NATS:
    """Connect with unlimited reconnects (a restarted server is found again).

    The first connection must succeed within ``connect_timeout_s``; later drops
    are retried forever, logged once per state change. With ``tls`` (``config.nats.tls``)
    the TLS handshake comes first, against a certificate signed by ``tls.ca``; a plain-text
    server is refused rather than used.
    """

    client = NATS()
    failed_attempts = 0  # reconnect attempts that failed during the current outage

    async def on_disconnect() -> None:
        if not (client.is_closed or client.is_draining):  # a deliberate close is not news
            log.warning("%s: disconnected from NATS; reconnecting", name)

    async def on_reconnect() -> None:
        nonlocal failed_attempts
        log.info("%s: reconnected to NATS%s", name,
                 f" after {failed_attempts} failed attempt(s)" if failed_attempts else "")
        failed_attempts = 0

    slow = SlowConsumerLog(name)
    first_tls_error: asyncio.Future[ssl.SSLError] = asyncio.get_running_loop().create_future()

    async def on_error(exc: Exception) -> None:
        nonlocal failed_attempts
        if isinstance(exc, SlowConsumerError):
            slow.dropped(exc.subject)
            return
        if isinstance(exc, ssl.SSLError) and not first_tls_error.done() and not client.is_connected:
            first_tls_error.set_result(exc)  # nats-py would retry a failed first handshake for ever
        if client.is_reconnecting:  # one line per outage, not one per attempt (every 0.5 s)
            failed_attempts += 1
            log.log(logging.WARNING if failed_attempts == 1 else logging.DEBUG,
                    "%s: NATS unreachable (%s); retrying until it is back", name, exc)
            return
        log.warning("%s: NATS error: %s", name, exc)

    # TLS first (the server's `tls { handshake_first: true }`): nothing, the password in the URL least of
    # all, crosses in plain text, and a server that answers in plain text fails the handshake.
    tls_options = {} if tls is None else {"tls": tls_context(tls), "tls_handshake_first": True}
    connecting = asyncio.ensure_future(client.connect(  # nats-py annotates the two timeouts as int; floats work
        url, name=name, connect_timeout=connect_timeout_s,  # type: ignore[arg-type]
        max_reconnect_attempts=-1, reconnect_time_wait=0.5,  # type: ignore[arg-type]
        allow_reconnect=True, ping_interval=10,
        disconnected_cb=on_disconnect, reconnected_cb=on_reconnect, error_cb=on_error,
        **tls_options,  # type: ignore[arg-type]
    ))
    try:
        waits: set[asyncio.Future[object]] = {connecting, first_tls_error}  # type: ignore[arg-type]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        if not connecting.done():  # the first TLS handshake failed: a wrong CA does not heal by retrying
            connecting.cancel()
            await client.close()
            raise first_tls_error.result()
        connecting.result()
    except ssl.SSLError as exc:  # before OSError: its subclass
        raise NatsUnavailable(f"TLS to NATS failed for {name} ({exc.reason or exc}); check that the server's "
                              "certificate is signed by nats.tls.ca and names the host in nats.url") from None
    except (OSError, NatsError, asyncio.TimeoutError) as exc:
        raise NatsUnavailable(f"cannot connect to NATS for {name} ({type(exc).__name__}: {exc}); "
                              "check nats.url / COURTSIDE_NATS__URL and that the server runs") from None
    finally:
        if not connecting.done():  # cancelled from outside
            connecting.cancel()
    return client


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
    """Create the stream, or update it to ``spec``, idempotently (any service may call it).

    An existing stream keeps its replica count: on a NATS cluster the operator creates the
    streams replicated (``num_replicas: 3``) and a service starting later must not scale them down.
    """
    js = nc.jetstream()
    cfg = StreamConfig(
        name=spec.name, subjects=list(spec.subjects),
        retention=RetentionPolicy.WORK_QUEUE if spec.retention == "workqueue" else RetentionPolicy.LIMITS,
        max_age=spec.max_age_s, max_bytes=spec.max_bytes, storage=StorageType.FILE,
        discard=DiscardPolicy.OLD, duplicate_window=spec.duplicate_window_s,
    )
    try:
        try:
            await js.add_stream(cfg)
        except BadRequestError:
            cfg.num_replicas = (await js.stream_info(spec.name)).config.num_replicas
            await js.update_stream(cfg)
    except (NatsError, asyncio.TimeoutError) as exc:
        raise NatsUnavailable(f"cannot create JetStream stream {spec.name}: {exc} "
                              "(is JetStream enabled on the server? run it with -js)") from None


def now_ns() -> int:
    """Wall-clock Unix time in nanoseconds (the unit of every ``ts``)."""
    return time.time_ns()


def nats_dependency(nc: NATS) -> Dependency:
    """The NATS connection as a readiness dependency (``connected``, ``reconnecting``, ...)."""
    if nc.is_connected:
        return Dependency("nats", "connected", True)
    if nc.is_closed:
        return Dependency("nats", "closed", False)
    return Dependency("nats", "reconnecting" if nc.is_reconnecting else "disconnected", False)
