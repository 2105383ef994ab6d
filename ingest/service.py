"""The ingest service: every configured camera -> ``frames.<camera>``, plus heartbeat and HTTP.

Start order: NATS -> cameras (hand-off queues, worker threads; ``whip://``
cameras wait for a publisher), the one frame-publishing task -> heartbeat,
stall watchdog -> HTTP (health, metrics, WHIP). Stop in reverse, within about 2 s: HTTP and WHIP sessions close, workers are told to stop and joined (a thread stuck in a
blocking read is abandoned: it is a daemon and owns no shared state), then a
last ``stopping`` heartbeat and the NATS connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError

from contracts.status import CameraState, Heartbeat
from contracts.subjects import status_subject
from courtside.config import CameraConfig, CourtsideConfig
from courtside.natsio import connect, heartbeat_loop, now_ns
from ingest.camera_status import CameraSnapshot, CameraStatus
from ingest.camera_worker import CameraWorker
from ingest.demo_clip import resolve_demo_url
from ingest.handoff import Doorbell, Handoff
from ingest.health import service_state
from ingest.http_api import HttpServer, create_app
from ingest.jpeg_encoder import EncodedFrame
from ingest.metrics import build_registry
from ingest.publisher import FramePublisher, publish_forever
from ingest.whip_api import router as whip_router
from ingest.whip_hub import WhipHub

log = logging.getLogger(__name__)

SERVICE = "ingest"
#: Frames of one camera waiting between its worker and the publisher (drop-oldest beyond this):
#: a busy publisher passes every PUBLISH_HOLD_S (10 ms), in which a 120 fps camera makes
#: up to 2 frames; one more absorbs a late pass.
HANDOFF_SIZE = 3
#: Seconds the shutdown waits for worker threads before abandoning them.
JOIN_TIMEOUT_S = 1.0
#: Minimum seconds between two extra heartbeats sent on camera state changes.
CHANGE_BEAT_GAP_S = 0.2


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
    """The running service; also the :class:`~ingest.http_api.IngestView` of the HTTP routes."""

    def __init__(self, config: CourtsideConfig, nc: NATS, *, demo_cache_dir: Path | None = None) -> None:
        self.config = config
        self.nc = nc
        self.stopping = False
        self._demo_cache_dir = demo_cache_dir
        self.cameras: dict[str, Camera] = {}
        self.whip = WhipHub(config.ingest.whip_token)
        self.registry = build_registry(self.snapshots, self.whip.sessions)
        self._tasks: list[asyncio.Task[None]] = []
        self._http: HttpServer | None = None
        self._changed = asyncio.Event()

    # -- IngestView ---------------------------------------------------------------

    def nats_connected(self) -> bool:
        return bool(self.nc.is_connected)

    def snapshots(self) -> Sequence[CameraSnapshot]:
        now = time.monotonic()
        return [cam.status.snapshot(now) for cam in self.cameras.values()]

    def heartbeat(self) -> Heartbeat:
        snaps = self.snapshots()
        return Heartbeat(
            service=SERVICE, instance=self.config.ingest.instance,
            state=service_state(snaps, self.nats_connected(), self.stopping), ts=now_ns(),
            cameras={s.camera: s.heartbeat_entry() for s in snaps},
            errors=[f"{s.camera}: {s.reason}" for s in snaps if s.state == CameraState.FAILED],
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

        def changed() -> None:  # called from worker threads
            try:
                loop.call_soon_threadsafe(self._changed.set)
            except RuntimeError:  # loop closed during shutdown
                pass

        doorbell = Doorbell(loop)  # one loop wake-up serves the frames of every camera
        for cfg in self.config.cameras:
            status = CameraStatus(cfg.id, cfg.scheme, on_change=changed)
            handoff: Handoff[EncodedFrame] = Handoff(loop, HANDOFF_SIZE, doorbell)
            self.cameras[cfg.id] = Camera(cfg, status, handoff, FramePublisher(self.nc, cfg.id, handoff, status))
        publishers = [cam.publisher for cam in self.cameras.values()]
        self._tasks.append(asyncio.create_task(publish_forever(doorbell, publishers), name="publish-frames"))
        for cam in self.cameras.values():
            if cam.config.scheme == "whip":
                self.whip.add_camera(cam.config, cam.status, cam.handoff)
            else:
                cam.worker = CameraWorker(cam.config, cam.status, cam.handoff, self._resolve_demo)
                cam.worker.start()
        self._tasks.append(asyncio.create_task(heartbeat_loop(self.nc, self.heartbeat), name="heartbeat"))
        self._tasks.append(asyncio.create_task(self._beat_on_change(), name="heartbeat-on-change"))
        self._tasks.append(asyncio.create_task(self._watch_stalls(), name="stall-watchdog"))
        app = create_app(self, extra=[whip_router])
        app.state.whip = self.whip
        self._http = HttpServer(app, self.config.ingest.host, self.config.ingest.port)
        self._http.start()
        log.info("ingest %s: %d camera(s): %s", self.config.ingest.instance, len(self.cameras),
                 ", ".join(f"{c.config.id} ({c.config.scheme})" for c in self.cameras.values()) or "none")

    def _resolve_demo(self, url: str) -> str:
        return resolve_demo_url(url, self._demo_cache_dir)

    async def _publish_heartbeat(self) -> None:
        beat = self.heartbeat()
        with contextlib.suppress(NatsError):
            await self.nc.publish(status_subject(beat.service, beat.instance), beat.to_json())

    async def _beat_on_change(self) -> None:
        """An extra heartbeat right after camera state changes (coalesced, rate-limited)."""
        while True:
            await self._changed.wait()
            self._changed.clear()
            await self._publish_heartbeat()
            await asyncio.sleep(CHANGE_BEAT_GAP_S)

    async def _watch_stalls(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            for cam in self.cameras.values():
                cam.status.check_stall(now, stall_after_s(cam.config))

    async def stop(self) -> None:
        self.stopping = True
        workers = [c.worker for c in self.cameras.values() if c.worker is not None]
        for worker in workers:
            worker.stop()
        if self._http is not None:
            await self._http.stop(timeout_s=1.0)
        await self.whip.close_all()
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        for worker in workers:
            if not await asyncio.to_thread(worker.join, max(0.0, deadline - time.monotonic())):
                log.warning("%s: worker still blocked in a read; abandoning it", worker.config.id)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for cam in self.cameras.values():
            if cam.status.state not in (CameraState.FAILED, CameraState.STOPPED):
                cam.status.set_state(CameraState.STOPPED, "ingest stopping")
        await self._publish_heartbeat()
        with contextlib.suppress(NatsError, asyncio.TimeoutError):
            await asyncio.wait_for(self.nc.flush(), 0.5)


async def run(config: CourtsideConfig, nats_url: str, stop: asyncio.Event) -> None:
    """Run ingest until ``stop`` is set, then shut down cleanly (about 2 s at most)."""
    nc = await connect(nats_url, f"{SERVICE}-{config.ingest.instance}")
    service = IngestService(config, nc)
    try:
        await service.start()
        await stop.wait()
    finally:
        await service.stop()
        with contextlib.suppress(NatsError, asyncio.TimeoutError):
            await asyncio.wait_for(nc.close(), 1.0)
        log.info("ingest %s stopped", config.ingest.instance)
