"""The ingest service: every configured camera -> ``frames.<camera>``, plus heartbeat and HTTP.

Built on the service kit (:mod:`courtside.kit`). Start order: cameras'
hand-off queues -> heartbeat -> the one frame-publishing task -> camera worker
threads (``whip://`` cameras wait for a publisher) -> stall watchdog -> HTTP
(health, metrics, WHIP); then ready. Stop in reverse, within about 2 s: workers are told
to stop first (so their reads end while the rest closes), HTTP closes, WHIP
sessions close, workers are joined (a thread stuck in a blocking read is
abandoned: it is a daemon and owns no shared state), cameras are marked
``stopped``, and a last ``stopping`` heartbeat goes out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
from courtside_contracts.status import CameraState, Heartbeat, ServiceState
from courtside_contracts.subjects import SERVICE_INGEST
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError

from courtside.config import CameraConfig, CourtsideConfig
from courtside.kit.heartbeat import HeartbeatPublisher
from courtside.kit.http_server import HttpServer
from courtside.kit.lifecycle import Lifecycle
from courtside.kit.loop_metrics import LoopCollector
from courtside.kit.nats_metrics import NatsCollector
from courtside.kit.ops_routes import ops_app
from courtside.natsio import connect, nats_dependency, now_ns
from ingest.camera_status import CameraSnapshot, CameraStatus, cameras_health
from ingest.camera_worker import CameraWorker
from ingest.demo_clip import resolve_demo_url
from ingest.handoff import Doorbell, Handoff
from ingest.jpeg_encoder import EncodedFrame
from ingest.metrics import PREFIX, build_registry
from ingest.publisher import FramePublisher, publish_forever
from ingest.recording.metrics import RecordingCollector
from ingest.recording.recording import Recording
from ingest.whip_api import router as whip_router
from ingest.whip_hub import WhipHub

log = logging.getLogger(__name__)

SERVICE = SERVICE_INGEST
#: Frames of one camera waiting between its worker and the publisher (drop-oldest beyond this):
#: a busy publisher passes every PUBLISH_HOLD_S (10 ms), in which a 120 fps camera makes
#: up to 2 frames; one more absorbs a late pass.
HANDOFF_SIZE = 3
#: Seconds the shutdown waits for worker threads before abandoning them.
JOIN_TIMEOUT_S = 1.0


def stall_after_s(camera: CameraConfig) -> float:
    """Seconds without frames before a live camera is reported ``stalled``."""
    return max(2.0, 3.0 / camera.fps)


@dataclass(slots=True)
class Camera:
    """Everything the service holds for one camera."""

    config: CameraConfig
    status: CameraStatus
    handoff: Handoff[EncodedFrame]
    publisher: FramePublisher
    worker: CameraWorker | None = None


class IngestService:
    """The running service: cameras, publisher, heartbeat and HTTP on one :class:`Lifecycle`."""

    def __init__(self, config: CourtsideConfig, nc: NATS, *, demo_cache_dir: Path | None = None) -> None:
        self.config = config
        self.nc = nc
        self._demo_cache_dir = demo_cache_dir
        self.cameras: dict[str, Camera] = {}
        self.whip = WhipHub.from_config(config)
        self.recording = Recording(config, nc)
        registry = build_registry(self.snapshots, self.whip.sessions, lambda: self.whip.refused)
        self.life = Lifecycle(SERVICE, config.ingest.instance, registry, health=self._health, detail=self._detail)
        self.life.depend(lambda: nats_dependency(nc))
        self.life.registry.register(RecordingCollector(self.recording))
        self.life.registry.register(NatsCollector(PREFIX, nc))
        self.life.registry.register(LoopCollector(PREFIX))
        self.heartbeats = HeartbeatPublisher(nc, self.heartbeat)
        self._http: HttpServer | None = None

    def snapshots(self) -> Sequence[CameraSnapshot]:
        now = time.monotonic()
        return [cam.status.snapshot(now) for cam in self.cameras.values()]

    def _health(self) -> ServiceState:
        return cameras_health(self.snapshots())

    def _detail(self) -> Mapping[str, Any]:
        return {"cameras": {s.camera: {"state": s.state.value, "reason": s.reason, "fps": round(s.fps, 2)}
                            for s in self.snapshots()}}

    def heartbeat(self) -> Heartbeat:
        snaps = self.snapshots()
        return Heartbeat(
            service=SERVICE, instance=self.config.ingest.instance, state=self.life.state, ts=now_ns(),
            cameras={s.camera: {**s.heartbeat_entry(), **self.recording.heartbeat_entry(s.camera)} for s in snaps},
            errors=[f"{s.camera}: {s.reason}" for s in snaps if s.state == CameraState.FAILED]
            + self.recording.errors(),
            http_port=self.http_port,
        )

    @property
    def http_port(self) -> int | None:
        return None if self._http is None else self._http.port

    # -- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        # Per-camera threads give the parallelism; OpenCV's own pool would only add
        # hand-offs to every small plane resize (measured in bench/ingest_density.py).
        cv2.setNumThreads(1)
        loop = asyncio.get_running_loop()
        app = ops_app(self.life, title="Courtside ingest", routers=[whip_router], state={"whip": self.whip})
        # Bound now (port 0 = a free one) so that every heartbeat announces the port.
        self._http = HttpServer(app, self.config.ingest.host, self.config.ingest.port, name="ingest",
                                setting="ingest.port / COURTSIDE_INGEST__PORT", stop_timeout_s=1.0)

        def changed() -> None:  # called from worker threads: a beat at once, coalesced
            with contextlib.suppress(RuntimeError):  # loop closed during shutdown
                loop.call_soon_threadsafe(self.heartbeats.beat_soon)

        doorbell = Doorbell(loop)  # one loop wake-up serves the frames of every camera
        for cfg in self.config.cameras:
            status = CameraStatus(cfg.id, cfg.scheme, on_change=changed)
            handoff: Handoff[EncodedFrame] = Handoff(loop, HANDOFF_SIZE, doorbell)
            self.cameras[cfg.id] = Camera(cfg, status, handoff, FramePublisher(self.nc, cfg.id, handoff, status))
            self.cameras[cfg.id].publisher.on_published = self.recording.published(cfg.id)
        await self.life.enter(self.heartbeats)  # stops last: its final beat shows the cameras stopped
        publishers = [cam.publisher for cam in self.cameras.values()]
        self.life.task(publish_forever(doorbell, publishers), "publish-frames")
        await self.recording.start()  # salvages crashed segments, then ships the spool
        self.life.on_stop(self.recording.stop)  # after the cameras stopped: their last segments ship
        for cam in self.cameras.values():
            if cam.config.scheme == "whip":
                self.whip.add_camera(cam.config, cam.status, cam.handoff,
                                     recorder=self.recording.recorder(cam.config.id))
            else:
                cam.worker = CameraWorker(cam.config, cam.status, cam.handoff, self._resolve_demo,
                                          recorder=self.recording.recorder(cam.config.id))
                cam.worker.start()
        self.life.on_stop(self._stop_cameras)
        self.life.task(self._watch_stalls(), "stall-watchdog")
        await self.life.enter(self._http)
        self.life.ready()
        log.info("ingest %s: %d camera(s): %s", self.config.ingest.instance, len(self.cameras),
                 ", ".join(f"{c.config.id} ({c.config.scheme})" for c in self.cameras.values()) or "none")

    def _resolve_demo(self, url: str) -> str:
        return resolve_demo_url(url, self._demo_cache_dir)

    async def _watch_stalls(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            for cam in self.cameras.values():
                cam.status.check_stall(now, stall_after_s(cam.config))

    async def _stop_cameras(self) -> None:
        await self.whip.close_all()
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        for worker in (c.worker for c in self.cameras.values() if c.worker is not None):
            worker.stop()  # already told in stop(); again for a start that failed half-way
            if not await asyncio.to_thread(worker.join, max(0.0, deadline - time.monotonic())):
                log.warning("%s: worker still blocked in a read; abandoning it", worker.config.id)
        for cam in self.cameras.values():
            if cam.status.state not in (CameraState.FAILED, CameraState.STOPPED):
                cam.status.set_state(CameraState.STOPPED, "ingest stopping")

    async def stop(self) -> None:
        for cam in self.cameras.values():  # their reads end while HTTP and WHIP close
            if cam.worker is not None:
                cam.worker.stop()
        await self.life.close()


async def run(config: CourtsideConfig, nats_url: str, stop: asyncio.Event) -> None:
    """Run ingest until ``stop`` is set, then shut down cleanly (about 2 s at most)."""
    nc = await connect(nats_url, f"{SERVICE}-{config.ingest.instance}", tls=config.nats.tls)
    service = IngestService(config, nc)
    try:
        await service.start()
        await stop.wait()
    finally:
        await service.stop()
        with contextlib.suppress(NatsError, asyncio.TimeoutError):
            await asyncio.wait_for(nc.close(), 1.0)
        log.info("ingest %s stopped", config.ingest.instance)
