"""Recording for the ingest service: one recorder + spool per camera, the shipper, flush requests.

The service makes one :class:`Recording` from the configuration (``archive.kind`` none:
nothing is recorded), gives :meth:`Recording.recorder` to each camera worker and
:meth:`Recording.published` to each frame publisher, and starts/stops it with the
rest. ``whip://`` cameras are recorded too: their recorder is fed by each WHIP session
(:mod:`ingest.recording.whip_recorder`: H.264 relayed as it arrives, other codecs encoded
once). A scheme that cannot be recorded is reported in the camera status, never silently skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from courtside_contracts.names import InvalidName
from courtside_contracts.subjects import RECORDING_PREFIX, recording_flush_subject
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError

from courtside.config import CourtsideConfig
from courtside.kit.cancel import cancel_and_wait
from courtside.natsio import NatsUnavailable
from ingest.recording.recorder import CameraRecorder, RecordingOptions, RecordingStats
from ingest.recording.shipper import SegmentShipper, SeqIndex, ShipTarget
from ingest.recording.spool import Spool, SpoolLimits

log = logging.getLogger(__name__)

#: Seconds a flush request waits for the camera's segment to be closed and shipped.
FLUSH_TIMEOUT_S = 8.0
#: Sources that are recorded (WHIP: relayed or encoded once, per session).
RECORDED_SCHEMES = ("rtsp", "rtsps", "file", "demo", "whip")


class Recording:
    """Every camera's recording; inert when ``archive.kind`` is ``none``."""

    def __init__(self, config: CourtsideConfig, nc: NATS, clock: Callable[[], int] = time.time_ns) -> None:
        archive = config.archive
        self.enabled = archive.kind != "none"
        self._nc = nc
        self._clock = clock
        self.recorders: dict[str, CameraRecorder] = {}
        self.targets: dict[str, ShipTarget] = {}
        self.not_recorded: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None
        self._sub: Subscription | None = None
        if not self.enabled:
            return
        root = archive.spool_dir or Path(tempfile.gettempdir()) / "courtside-spool"
        limits = SpoolLimits(archive.spool_max_bytes, archive.spool_max_age_s)
        options = RecordingOptions(archive.segment_s, archive.fragment_s)
        for camera in config.cameras:
            if camera.scheme not in RECORDED_SCHEMES:
                self.not_recorded[camera.id] = f"not recorded: {camera.scheme}:// recording is not built yet"
                log.warning("%s: %s", camera.id, self.not_recorded[camera.id])
                continue
            spool = Spool(camera.id, root / camera.id, limits, on_evict=self._evicted)
            recorder = CameraRecorder(camera.id, spool, options, clock)
            self.recorders[camera.id] = recorder
            self.targets[camera.id] = ShipTarget(spool, SeqIndex(), recorder.stats)
        self.shipper = SegmentShipper(nc, self.targets, object_store_max_bytes=archive.object_store_max_bytes,
                                      clock=clock)

    def _evicted(self, camera: str, segment_id: str, reason: str) -> None:
        """A segment dropped from a full spool (any thread): counted at once, whichever code
        path enforced the limit, so the status and metrics never lag the loss."""
        stats = self.stats(camera)
        if stats is not None:
            stats.evicted += 1
            stats.last_evict_reason = f"{segment_id}: {reason}"

    def recorder(self, camera: str) -> CameraRecorder | None:
        return self.recorders.get(camera)

    def published(self, camera: str) -> Callable[[int, int, float | None], None] | None:
        """The frame publisher's hook: (seq, ts ns, pts seconds) of each published frame."""
        target = self.targets.get(camera)
        return None if target is None else target.seqs.add

    def stats(self, camera: str) -> RecordingStats | None:
        recorder = self.recorders.get(camera)
        return None if recorder is None else recorder.stats

    def status_reason(self, camera: str) -> str:
        """Why recording of ``camera`` is not healthy; empty when it is (or recording is off)."""
        if camera in self.not_recorded:
            return self.not_recorded[camera]
        stats = self.stats(camera)
        if stats is None:
            return ""
        if stats.evicted:
            return (f"{stats.evicted} recorded segment(s) lost: dropped from the spool while NATS or the "
                    f"archive was down (last: {stats.last_evict_reason})")
        return stats.reason

    def heartbeat_entry(self, camera: str) -> dict[str, object]:
        """The ``recording`` field of the camera's heartbeat entry (empty when recording is off)."""
        if not self.enabled:
            return {}
        stats = self.stats(camera)
        if stats is None:
            return {"recording": {"on": False, "reason": self.not_recorded.get(camera, "")}}
        spool = self.targets[camera].spool
        return {"recording": {"on": stats.recording, "segments": stats.segments, "shipped": stats.shipped,
                              "lost": stats.evicted, "spooled": len(spool.pending()),
                              "reason": self.status_reason(camera)}}

    def errors(self) -> list[str]:
        """Heartbeat ``errors`` lines: recorded segments lost, or cameras not recorded."""
        return [f"{camera}: {reason}" for camera in [*self.not_recorded, *self.targets]
                if (reason := self.status_reason(camera))]

    async def start(self) -> None:
        if not self.enabled:
            return
        now = self._clock()
        for camera, target in self.targets.items():
            salvaged = await asyncio.to_thread(target.spool.recover, now)
            if salvaged:
                log.info("%s: %d crashed segment(s) salvaged from the spool", camera, len(salvaged))
        self._sub = await self._nc.subscribe(f"{RECORDING_PREFIX}.flush.*", cb=self._on_flush)
        self._task = asyncio.create_task(self.shipper.run(), name="ship-segments")

    async def stop(self, drain_s: float = 1.5) -> None:
        """Stop shipping after one last pass of at most ``drain_s`` seconds (call it after the
        camera workers stopped: their last segments are closed then); what is left stays in
        the spool for the next start."""
        if self._sub is not None:
            with contextlib.suppress(NatsError):
                await self._sub.unsubscribe()
        if self._task is not None:
            await cancel_and_wait(self._task)
            with contextlib.suppress(NatsError, NatsUnavailable, asyncio.TimeoutError, OSError):
                await asyncio.wait_for(self.shipper.pass_once(grace_ns=0), drain_s)

    async def _on_flush(self, msg: Msg) -> None:
        camera = msg.subject.rsplit(".", 1)[-1]
        try:
            recording_flush_subject(camera)
        except InvalidName:
            return
        reply = await self.flush(camera)
        if msg.reply:
            with contextlib.suppress(NatsError):
                await msg.respond(json.dumps(reply).encode())

    async def flush(self, camera: str) -> dict[str, object]:
        """Close the camera's open segment at its next keyframe and wait until it is shipped."""
        recorder = self.recorders.get(camera)
        if recorder is None:
            return {"error": self.not_recorded.get(camera, f"camera {camera} is not recorded here")}
        asked = self._clock()
        recorder.request_flush()
        deadline = time.monotonic() + FLUSH_TIMEOUT_S
        self.shipper.hurry += 1  # ship it the moment it is closed and indexed
        try:
            while time.monotonic() < deadline:
                for cam, seg_id, closed_ns, end_ns in reversed(self.shipper.shipped):
                    if cam == camera and closed_ns >= asked:
                        return {"segment_id": seg_id, "end_ns": end_ns}
                await asyncio.sleep(0.01)
        finally:
            self.shipper.hurry -= 1
        return {"error": f"camera {camera}: no segment closed and shipped within {FLUSH_TIMEOUT_S:.0f} s"}
