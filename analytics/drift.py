"""Calibration drift: the stored camera checked against the court lines of a live frame now and then.

Every ``analytics.drift_interval_s`` seconds (0 = never) the monitor takes one frame
of each camera whose calibration has a pose (the next JPEG of ``frames.<camera>``,
waited for at most :data:`FRAME_WAIT_S`), and scores the calibrated camera against
the frame's lines (:func:`courtside.court.line_fit.check_lines`, in a thread: a few
tens of milliseconds). :class:`DriftPolicy` decides: the first check after a
calibration revision sets its baseline; a camera whose matched share falls below the
baseline by :data:`DROP` or below :data:`FLOOR` has moved. A moved camera is flagged
(``moved`` in the status, ``courtside_analytics_camera_moved`` 1, a count in
``courtside_analytics_camera_moves_total``) and re-fitted from its calibration
(:func:`analytics.calibrate_auto.auto_calibrate`): a fit that matches is stored as a
new calibration revision (the service's watch then starts the camera afresh under it);
one that does not leaves the status ``recalibrate`` until an operator calibrates it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from nats.aio.client import Client as NATS
from prometheus_client import CollectorRegistry, Counter, Gauge

from analytics.calibrate_auto import auto_calibrate, decode_frame, next_frame
from analytics.calibrated import Calibrated
from analytics.calibration_store import CalibrationStore, CalibrationStoreError
from courtside.court.camera import Camera
from courtside.court.line_fit import LineFitError, check_lines
from courtside.kit.cancel import cancel_and_wait, raise_if_cancelled
from courtside.natsio import now_ns

log = logging.getLogger(__name__)

#: A check whose matched share (0..1) is this far below the revision's baseline means the camera moved.
DROP = 0.2
#: ... as does one below this, whatever the baseline.
FLOOR = 0.45
#: Seconds a check waits for a camera's frame.
FRAME_WAIT_S = 2.0


@dataclass(slots=True)
class DriftState:
    """One camera: the revision checked, its baseline share, the last share and the verdict."""

    revision: int
    baseline: float | None = None
    inliers: float | None = None
    state: str = "ok"  # ok | moved | recalibrate
    refits: int = 0


class DriftPolicy:
    """Pure: checks (camera, revision, matched share) in, verdicts out; no clock, no I/O."""

    def __init__(self) -> None:
        self.cameras: dict[str, DriftState] = {}

    def observe(self, camera: str, revision: int, inliers: float) -> bool:
        """Record a check; True when it says the camera moved (the first of a revision sets the baseline)."""
        st = self.cameras.get(camera)
        if st is None or st.revision != revision:
            st = self.cameras[camera] = DriftState(revision, refits=st.refits if st else 0)
        st.inliers = inliers
        if st.baseline is None:
            if inliers >= FLOOR:
                st.baseline = inliers
                st.state = "ok"
                return False
            st.state = "moved"
            return True
        moved = inliers < st.baseline - DROP or inliers < FLOOR
        st.state = "moved" if moved else "ok"
        return moved

    def refit_failed(self, camera: str) -> None:
        self.cameras[camera].state = "recalibrate"

    def status(self, camera: str) -> Mapping[str, object]:
        st = self.cameras.get(camera)
        if st is None:
            return {"drift": "unchecked"}
        return {"drift": st.state, "drift_inliers": None if st.inliers is None else round(st.inliers, 3),
                "refits": st.refits}


class DriftMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.moved = Gauge("courtside_analytics_camera_moved",
                           "1 while the last drift check says the camera moved from its calibration", ["camera"],
                           registry=registry)
        self.moves = Counter("courtside_analytics_camera_moves", "Drift checks that found the camera moved",
                             ["camera"], registry=registry)
        self.refits = Counter("courtside_analytics_camera_refits",
                              "Moved cameras re-fitted to the lines and stored as a new calibration revision",
                              ["camera"], registry=registry)
        self.checks = Counter("courtside_analytics_drift_checks", "Drift checks made", ["camera"],
                              registry=registry)


class DriftMonitor:
    """The periodic checks as a task; ``calibrations`` gives the service's current ones."""

    def __init__(self, nc: NATS, store: CalibrationStore, calibrations: Callable[[], Mapping[str, Calibrated]],
                 registry: CollectorRegistry, interval_s: float) -> None:
        self._nc, self._store, self._calibrations = nc, store, calibrations
        self.policy = DriftPolicy()
        self.metrics = DriftMetrics(registry)
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.interval_s > 0:
            self._task = asyncio.create_task(self._loop(), name="analytics-drift")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)

    async def _loop(self) -> None:
        while True:
            raise_if_cancelled()  # nats-py may have swallowed a cancel (courtside.kit.cancel)
            started = time.monotonic()
            for camera, cal in list(self._calibrations().items()):
                if cal.camera is not None:
                    await self.check(camera, cal)
            await asyncio.sleep(max(0.1, self.interval_s - (time.monotonic() - started)))

    async def check(self, camera: str, cal: Calibrated) -> None:
        """One check of ``camera`` (and a re-fit when it moved); errors are logged, never raised."""
        assert cal.camera is not None
        try:
            frame = decode_frame(await next_frame(self._nc, camera, FRAME_WAIT_S))
        except LineFitError:
            return  # no frame now: nothing to check
        h, w = frame.shape[:2]
        cam = Camera(cal.camera.intrinsics.scaled(w, h), cal.camera.pose)
        try:
            _, inliers = await asyncio.to_thread(check_lines, frame, cam)
        except LineFitError:
            inliers = 0.0
        self.metrics.checks.labels(camera).inc()
        was = self.policy.cameras.get(camera)
        was_state = was.state if was is not None and was.revision == cal.revision else "ok"
        moved = self.policy.observe(camera, cal.revision, inliers)
        self.metrics.moved.labels(camera).set(1 if moved else 0)
        if not moved:
            return
        if was_state == "ok":
            self.metrics.moves.labels(camera).inc()
            log.warning("analytics: %s: the camera moved (%.0f%% of the lines matched by calibration revision %d)",
                        camera, inliers * 100, cal.revision)
        elif was_state == "recalibrate":
            self.policy.refit_failed(camera)
            return  # told once; an operator calibrates it (or the next revision starts afresh)
        try:
            auto = await asyncio.to_thread(auto_calibrate, camera, frame, cam, now_ns())
            revision = await self._store.put(auto.record)
        except (LineFitError, CalibrationStoreError) as exc:
            self.policy.refit_failed(camera)
            log.warning("analytics: %s: re-fit failed (%s); calibrate it again", camera, exc)
            return
        self.policy.cameras[camera].refits += 1
        self.metrics.refits.labels(camera).inc()
        log.info("analytics: %s: re-fitted to the lines as calibration revision %d (%.0f%% matched)", camera,
                 revision, auto.fit.inliers * 100)
