"""Everything fanout runs besides HTTP: NATS connection, bridge, hub, live state, status ticks.

An async context manager: ``__aenter__`` connects and subscribes in order,
``__aexit__`` stops in reverse. The FastAPI lifespan holds one instance and hands
its parts to routes as typed dependencies.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial
from types import TracebackType

from nats.aio.client import Client as NATS

from contracts.status import Heartbeat, ServiceState
from contracts.ws import server_message
from courtside.config import CourtsideConfig
from courtside.natsio import NatsUnavailable, connect, heartbeat_loop, now_ns
from fanout.auth import Authenticator
from fanout.bridge import NatsBridge
from fanout.errors import StartupError
from fanout.hub import Hub
from fanout.limits import Limits
from fanout.live_state import LiveState, Snapshot
from fanout.metrics import FanoutMetrics

log = logging.getLogger(__name__)


class FanoutRuntime:
    """Owns the NATS connection and the tasks; ``state`` is what ``/readyz`` reports."""

    def __init__(self, config: CourtsideConfig, nats_url: str, limits: Limits | None = None) -> None:
        self.config = config
        self.limits = limits or Limits()
        self._nats_url = nats_url
        self.state = ServiceState.STARTING
        self.auth = Authenticator(config.auth)
        self.live = LiveState([c.id for c in config.cameras], [m.name for m in config.models])
        self.hub = Hub(config.fanout.client_queue, self.limits, self._video_demand_changed)
        self.metrics = FanoutMetrics()
        self.protocol_errors = 0
        self._nc: NATS | None = None
        self.bridge: NatsBridge | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def _video_demand_changed(self) -> None:
        if self.bridge is not None:
            self.bridge.video_demand_changed()

    @property
    def nats_connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def __aenter__(self) -> FanoutRuntime:
        name = f"fanout.{self.config.fanout.instance}"
        try:
            self._nc = await connect(self._nats_url, name)
        except NatsUnavailable as exc:
            raise StartupError(str(exc)) from None
        self.bridge = NatsBridge(self._nc, self.hub, self.live, self.limits,
                                 self.metrics.annotation_age.observe)
        self.metrics.attach(self.hub, self.bridge.stats, lambda: len(self.bridge.frame_subjects)
                            if self.bridge else 0, lambda: self.nats_connected, lambda: self.protocol_errors)
        await self.bridge.start()
        self._tasks = [
            asyncio.create_task(self._status_loop(), name="fanout-status"),
            asyncio.create_task(heartbeat_loop(self._nc, self._heartbeat, self.limits.status_interval_s),
                                name="fanout-heartbeat"),
        ]
        self.state = ServiceState.READY
        log.info("fanout %s ready (auth %s, client queue %d)", self.config.fanout.instance,
                 "on" if self.auth.enabled else "off", self.config.fanout.client_queue)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.state = ServiceState.STOPPING
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.bridge is not None:
            await self.bridge.stop()
        if self._nc is not None:
            await self._nc.close()
        log.info("fanout %s stopped", self.config.fanout.instance)

    def _heartbeat(self) -> Heartbeat:
        state = self.state if self.nats_connected or self.state != ServiceState.READY else ServiceState.DEGRADED
        return Heartbeat("fanout", self.config.fanout.instance, state, now_ns())

    def status_message(self, cameras: frozenset[str] | None, snapshot: Snapshot | None = None) -> str:
        """A ``status`` message for a client that sees ``cameras`` (None = all)."""
        snapshot = snapshot or self.live.snapshot(time.monotonic())
        return server_message("status", **snapshot.status(cameras))

    async def _status_loop(self) -> None:
        """Every interval: log state transitions, push ``status`` to clients, forget old state."""
        while True:
            now = time.monotonic()
            for what, old, new in self.live.changes(now):
                log.info("%s: %s -> %s", what, old, new)
            self.live.forget_old(now)
            self.hub.publish_status(partial(self.status_message, snapshot=self.live.snapshot(now)))
            await asyncio.sleep(self.limits.status_interval_s)
