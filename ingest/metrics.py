"""Prometheus metrics of ingest, read from the camera snapshots at scrape time.

A collector rather than counters updated per frame: the hot path only bumps
plain integers in :class:`~ingest.camera_status.CameraStatus`. Each service
builds its own :class:`CollectorRegistry` (no global state, tests stay isolated).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from contracts.status import CameraState
from ingest.camera_status import CameraSnapshot

SnapshotFn = Callable[[], Sequence[CameraSnapshot]]
_COUNTERS: dict[str, tuple[str, Callable[[CameraSnapshot], int]]] = {
    "frames_published": ("Frames published on frames.<camera>", lambda s: s.frames),
    "frames_dropped": ("Frames lost after decoding (hand-off full, publish failed)", lambda s: s.dropped),
    "frames_skipped": ("Frames left out by the fps cap", lambda s: s.skipped),
    "decode_errors": ("Packets that failed to decode", lambda s: s.decode_errors),
    "reconnects": ("Times the camera went to reconnecting", lambda s: s.reconnects),
}


class IngestCollector(Collector):
    """Per-camera frames, drops, reconnects, fps and state."""

    def __init__(self, snapshots: SnapshotFn, whip_sessions: Callable[[], int] = lambda: 0) -> None:
        self._snapshots = snapshots
        self._whip_sessions = whip_sessions

    def collect(self) -> Iterator[Metric]:
        snaps = self._snapshots()
        for name, (doc, value) in _COUNTERS.items():
            family = CounterMetricFamily(f"ingest_{name}", doc, labels=["camera"])
            for snap in snaps:
                family.add_metric([snap.camera], value(snap))
            yield family
        fps = GaugeMetricFamily("ingest_fps", "Published frames per second (5 s window)", labels=["camera"])
        state = GaugeMetricFamily("ingest_camera_state", "1 for the camera's current state",
                                  labels=["camera", "state"])
        for snap in snaps:
            fps.add_metric([snap.camera], snap.fps)
            for candidate in CameraState:
                state.add_metric([snap.camera, candidate.value], 1.0 if snap.state == candidate else 0.0)
        yield fps
        yield state
        yield GaugeMetricFamily("ingest_whip_sessions", "Active WHIP sessions", value=self._whip_sessions())


def build_registry(snapshots: SnapshotFn, whip_sessions: Callable[[], int] = lambda: 0) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(IngestCollector(snapshots, whip_sessions))
    return registry
