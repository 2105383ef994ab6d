"""``courtside analytics``: annotations of the player and ball models in, ``analytics.<camera>`` out.

One more consumer on NATS, on the service kit. Start order: ops HTTP (``/healthz``,
``/readyz``, ``/metrics`` on ``analytics.port``) -> NATS -> the calibration bucket
(``analytics.seed_calibrations`` stored for the cameras that have none,
:mod:`analytics.seed_calibration`; then its current records are solved before any annotation is read) -> the annotation
subscriptions -> heartbeat, ready. Stop in reverse.

Per camera: a :class:`~analytics.camera_analytics.CameraAnalytics` built from the
camera's calibration; a new calibration revision (``courtside calibrate``) replaces it,
so the state starts afresh under the new geometry. A camera without a calibration is
counted (``uncalibrated``) and skipped. Which cameras: ``analytics.cameras`` (all when
omitted); one instance serves each camera: the replica ownership of the inference
consumers is not shared with analytics yet (see docs/architecture.md).

The per-frame work (a few small least-squares solves) takes well under a millisecond
and runs on the event loop: a thread hop would cost as much as the work. Solving a
calibration (a pose search: tens of milliseconds) runs in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from courtside_contracts.analytics_calibration import CalibrationRecord
from courtside_contracts.annotations import Annotation
from courtside_contracts.errors import ContractError
from courtside_contracts.names import InvalidName
from courtside_contracts.status import HEARTBEAT_INTERVAL_S, Heartbeat
from courtside_contracts.subjects import (
    SERVICE_ANALYTICS,
    analytics_subject,
    annotations_filter,
    parse_subject,
)
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from analytics import calibration_api
from analytics.calibrated import Calibrated, CalibrationError, solve
from analytics.calibration_store import CalibrationStore
from analytics.camera_analytics import SKIP_REASONS, CameraAnalytics, Skipped
from analytics.drift import DriftMonitor
from analytics.seed_calibration import seed_calibrations
from courtside.config import AnalyticsConfig, ConfigError, CourtsideConfig
from courtside.kit.cancel import cancel_and_wait
from courtside.kit.heartbeat import HeartbeatPublisher
from courtside.kit.http_server import HttpServer
from courtside.kit.lifecycle import Lifecycle
from courtside.kit.ops_routes import ops_app
from courtside.natsio import connect, nats_dependency, now_ns

log = logging.getLogger(__name__)

SERVICE = SERVICE_ANALYTICS
#: Annotations buffered per subscription inside the NATS client; beyond it nats-py drops (and says so).
PENDING_MSGS = 4096
#: Skip reasons besides those of CameraAnalytics: not an annotation, or no calibration for its camera.
SERVICE_SKIP_REASONS = ("uncalibrated", "unserved")


class AnalyticsMetrics:
    """The service's Prometheus metrics (see docs/architecture.md, analytics)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.annotations = Counter("courtside_analytics_annotations", "Annotations received, by model",
                                   ["model"], registry=registry)
        self.skipped = Counter("courtside_analytics_skipped", "Annotations refused and skipped, by reason",
                               ["reason"], registry=registry)
        self.messages = Counter("courtside_analytics_messages", "analytics.<camera> messages published",
                                ["camera"], registry=registry)
        self.seconds = Histogram("courtside_analytics_frame_seconds",
                                 "Seconds from an annotation's arrival to its analytics being published",
                                 buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1), registry=registry)
        self.revision = Gauge("courtside_analytics_calibration_revision",
                              "Store revision of the calibration in use, by camera", ["camera"], registry=registry)
        self.calibration_errors = Counter("courtside_analytics_calibration_errors",
                                          "Stored calibrations that could not be solved (the previous one stays)",
                                          registry=registry)
        for reason in (*SKIP_REASONS, *SERVICE_SKIP_REASONS):
            self.skipped.labels(reason)


class AnalyticsService:
    """The consumer: calibrations from the store, annotations from NATS, analytics back to NATS."""

    def __init__(self, config: AnalyticsConfig, nc: NATS, metrics: AnalyticsMetrics, *,
                 http_port: int | None = None) -> None:
        self.config = config
        self.nc = nc
        self.metrics = metrics
        self.http_port = http_port
        self.cameras: dict[str, CameraAnalytics] = {}
        self.calibrations: dict[str, Calibrated] = {}
        #: The drift checks (analytics/drift.py), set by run() once the store is open.
        self.drift: DriftMonitor | None = None
        self.frames: dict[str, int] = {}
        self._subs: list[Subscription] = []
        self._served = None if config.cameras is None else frozenset(config.cameras)

    # -- calibrations -----------------------------------------------------------------------
    async def calibrated(self, camera: str, record: CalibrationRecord | ContractError | None, revision: int) -> None:
        """A calibration record of ``camera`` (from the store's watch): solve it and start the camera afresh."""
        if self._served is not None and camera not in self._served:
            return
        if record is None:
            log.info("analytics: %s: calibration deleted; its annotations are skipped", camera)
            self.calibrations.pop(camera, None)
            self.cameras.pop(camera, None)
            return
        if isinstance(record, ContractError):
            self.metrics.calibration_errors.inc()
            log.warning("analytics: %s: stored calibration revision %d is not valid (%s); keeping the one in use",
                        camera, revision, record)
            return
        try:
            solved = await asyncio.to_thread(solve, record, revision)
        except CalibrationError as exc:
            self.metrics.calibration_errors.inc()
            log.warning("analytics: %s: calibration revision %d cannot be solved (%s); keeping the one in use",
                        camera, revision, exc)
            return
        self.calibrations[camera] = solved
        self.cameras[camera] = CameraAnalytics(camera, solved, self.config.player_model, self.config.ball_model,
                                               self.config.player_label, ball_noise_px=self.config.ball_noise_px)
        self.metrics.revision.labels(camera).set(revision)
        log.info("analytics: %s: calibration revision %d (%s, %.2f px%s)", camera, revision, solved.kind,
                 solved.reprojection_px, f"; {record.source}" if record.source else "")

    async def load(self, store: CalibrationStore) -> asyncio.Task[None]:
        """Solve every stored calibration, then follow the changes in a task (returned; the caller cancels it)."""
        updates = store.watch()
        current = asyncio.Event()

        async def follow() -> None:
            async for item in updates:
                if item is None:
                    current.set()
                else:
                    await self.calibrated(*item)

        task = asyncio.create_task(follow(), name="analytics-calibrations")
        done, _ = await asyncio.wait([task, asyncio.create_task(current.wait())], return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # the watch failed at once: raise its error
        return task

    # -- annotations -------------------------------------------------------------------------
    async def subscribe(self) -> None:
        """One subscription per camera (or one for all) over every model: the player and the ball
        annotations then reach :meth:`on_annotation` in the order NATS got them, in one task, and the
        join by seq never sees one model's stream run ahead of the other's callback."""
        cameras: list[str | None] = list(self.config.cameras) if self.config.cameras is not None else [None]
        for camera in cameras:
            self._subs.append(await self.nc.subscribe(annotations_filter(camera, None), cb=self.on_annotation,
                                                      pending_msgs_limit=PENDING_MSGS))

    async def unsubscribe(self) -> None:
        for sub in self._subs:
            with contextlib.suppress(NatsError):
                await sub.unsubscribe()
        self._subs.clear()

    def _skip(self, reason: str) -> None:
        self.metrics.skipped.labels(reason).inc()

    async def on_annotation(self, msg: Msg) -> None:
        started = time.perf_counter()
        model = msg.subject.rsplit(".", 1)[-1]
        if model != self.config.player_model and model != self.config.ball_model:
            return  # another model's annotations: not for us
        try:
            parts = parse_subject(msg.subject)
            ann = Annotation.from_json(msg.data)
        except (InvalidName, ContractError) as exc:
            self._skip("garbage")
            log.debug("analytics: skipped a malformed annotation on %s: %s", msg.subject[:120], exc)
            return
        self.metrics.annotations.labels(ann.model).inc()
        if parts.camera != ann.camera or parts.model != ann.model:
            self._skip("garbage")
            return
        if self._served is not None and ann.camera not in self._served:
            self._skip("unserved")
            return
        state = self.cameras.get(ann.camera)
        if state is None:
            self._skip("uncalibrated")
            return
        try:
            out = state.feed(ann)
        except Skipped as exc:
            self._skip(exc.reason)
            log.debug("analytics: %s: skipped: %s", ann.camera, exc)
            return
        for message in out:
            try:
                await self.nc.publish(analytics_subject(message.camera), message.to_json())
            except NatsError as exc:
                log.warning("analytics: %s: could not publish: %s", message.camera, exc)
                continue
            self.metrics.messages.labels(message.camera).inc()
            self.frames[message.camera] = self.frames.get(message.camera, 0) + 1
        if out:
            self.metrics.seconds.observe(time.perf_counter() - started)

    # -- status ------------------------------------------------------------------------------
    def detail(self) -> Mapping[str, Any]:
        return {"cameras": {c: {"kind": k.kind, "revision": k.revision,
                                **(self.drift.policy.status(c) if self.drift is not None else {})}
                            for c, k in sorted(self.calibrations.items())}}

    def heartbeat(self, life: Lifecycle) -> Heartbeat:
        cameras = {c: {"calibration": k.kind, "revision": k.revision, "frames": self.frames.get(c, 0),
                       "ball_noise_px": self.cameras[c].ball_noise_px,
                       **(self.drift.policy.status(c) if self.drift is not None else {})}
                   for c, k in self.calibrations.items()}
        return Heartbeat(SERVICE, life.instance, life.state, now_ns(), cameras=cameras, http_port=self.http_port)


async def run(config: CourtsideConfig, nats_url: str, stop: asyncio.Event) -> None:
    """Serve court analytics until ``stop`` is set (graceful drain)."""
    settings = config.analytics
    if settings is None:
        raise ConfigError("`courtside analytics` needs an analytics section in the configuration "
                          "(analytics.player_model and analytics.ball_model)")
    holder: dict[str, AnalyticsService] = {}

    def detail() -> Mapping[str, Any]:
        return holder["service"].detail() if "service" in holder else {}

    async with Lifecycle(SERVICE, settings.instance, detail=detail) as life:
        app = ops_app(life, title="Courtside analytics", routers=[calibration_api.router])
        http = await life.enter(HttpServer(app, settings.host, settings.port, name="analytics",
                                           setting="analytics.port"))
        nc = await connect(nats_url, f"analytics-{settings.instance}", tls=config.nats.tls)
        life.on_stop(lambda: nc.drain() if nc.is_connected else nc.close())
        life.depend(lambda: nats_dependency(nc))
        service = holder["service"] = AnalyticsService(settings, nc, AnalyticsMetrics(life.registry),
                                                       http_port=http.port)
        store = app.state.calibration_store = await CalibrationStore.open(nc)
        await seed_calibrations(store, settings.seed_calibrations, now_ns())
        watch = await service.load(store)
        life.on_stop(lambda: cancel_and_wait(watch))
        service.drift = DriftMonitor(nc, store, lambda: service.calibrations, life.registry,
                                     settings.drift_interval_s)
        service.drift.start()
        life.on_stop(service.drift.stop)
        await service.subscribe()
        life.on_stop(service.unsubscribe)
        await life.enter(HeartbeatPublisher(nc, lambda: service.heartbeat(life), HEARTBEAT_INTERVAL_S))
        log.info("analytics %s: players from %s, ball from %s, cameras %s", settings.instance,
                 settings.player_model, settings.ball_model, ", ".join(settings.cameras or ["(all)"]))
        await life.serve_until(stop)
