"""Everything fanout runs besides HTTP: NATS connection, bridge, hub, live state, status ticks.

An async context manager on the kit's :class:`~courtside.kit.lifecycle.Lifecycle`:
``__aenter__`` connects NATS, starts the bridge, the status ticks and the heartbeat
in order, ``__aexit__`` stops them in reverse (a last ``stopping`` heartbeat, then NATS
closes). The FastAPI lifespan holds one instance and hands its parts to routes as
typed dependencies; ``life`` is what ``/readyz`` and ``/metrics`` read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial
from types import TracebackType

from courtside_contracts.status import Heartbeat, ServiceState
from courtside_contracts.subjects import SERVICE_FANOUT
from courtside_contracts.ws import server_message
from nats.aio.client import Client as NATS

from courtside.config import CourtsideConfig
from courtside.kit.heartbeat import HeartbeatPublisher
from courtside.kit.lifecycle import Lifecycle
from courtside.kit.loop_metrics import LoopCollector
from courtside.kit.nats_metrics import NatsCollector
from courtside.natsio import NatsUnavailable, connect, nats_dependency, now_ns
from fanout.archive.service import ArchiveRuntime
from fanout.auth import Authenticator
from fanout.bridge import NatsBridge
from fanout.errors import StartupError
from fanout.hub import Hub
from fanout.limits import Limits
from fanout.live_state import LiveState, Snapshot
from fanout.metrics import PREFIX, FanoutMetrics
from fanout.rally_clips import RallyClips

log = logging.getLogger(__name__)


class FanoutRuntime:
    """Owns the NATS connection and the tasks; ``life`` holds the state ``/readyz`` reports."""

    def __init__(self, config: CourtsideConfig, nats_url: str, limits: Limits | None = None) -> None:
        self.config = config
        self.limits = limits or Limits()
        self._nats_url = nats_url
        self.auth = Authenticator(config.auth)
        self.live = LiveState([c.id for c in config.cameras], [m.name for m in config.models])
        self.hub = Hub(config.fanout.client_queue, self.limits, self._video_demand_changed)
        self.metrics = FanoutMetrics()
        self.life = Lifecycle(SERVICE_FANOUT, config.fanout.instance, self.metrics.registry)
        self.archive = ArchiveRuntime(config)
        self.protocol_errors = 0
        self._nc: NATS | None = None
        self.bridge: NatsBridge | None = None
        self.rally_clips: RallyClips | None = None

    def _video_demand_changed(self) -> None:
        if self.bridge is not None:
            self.bridge.video_demand_changed()

    @property
    def state(self) -> ServiceState:
        return self.life.state

    @property
    def nats_connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def __aenter__(self) -> FanoutRuntime:
        try:
            await self._start()
        except BaseException:
            await self.life.close()
            raise
        self.life.ready()
        log.info("fanout %s ready (auth %s, client queue %d)", self.config.fanout.instance,
                 "on" if self.auth.enabled else "off", self.config.fanout.client_queue)
        return self

    async def _start(self) -> None:
        name = f"fanout.{self.config.fanout.instance}"
        try:
            nc = self._nc = await connect(self._nats_url, name, tls=self.config.nats.tls)
        except NatsUnavailable as exc:
            raise StartupError(str(exc)) from None
        self.life.on_stop(nc.close)
        self.life.depend(lambda: nats_dependency(nc))
        bridge = self.bridge = NatsBridge(nc, self.hub, self.live, self.limits, self.metrics.annotation_age.observe)
        self.metrics.attach(self.hub, bridge.stats, lambda: len(bridge.frame_subjects),
                            lambda: self.protocol_errors)
        self.metrics.registry.register(NatsCollector(PREFIX, nc))
        self.metrics.registry.register(LoopCollector(PREFIX))
        await bridge.start()
        self.life.on_stop(bridge.stop)
        await self.archive.start(nc)
        self.life.on_stop(self.archive.stop)
        if self.archive.replay is not None:  # each finished rally saved as a clip (issue 15)
            self.rally_clips = RallyClips(nc, self.archive.replay, frozenset(c.id for c in self.config.cameras))
            await self.rally_clips.start()
            self.life.on_stop(self.rally_clips.stop)
        self.life.task(self._status_loop(), "fanout-status")
        await self.life.enter(HeartbeatPublisher(nc, self._heartbeat, self.limits.status_interval_s))

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.life.close()

    def _heartbeat(self) -> Heartbeat:
        return Heartbeat(SERVICE_FANOUT, self.config.fanout.instance, self.life.state, now_ns())

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
