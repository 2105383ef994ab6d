"""Prometheus metrics of ingest, read from the camera snapshots at scrape time.

A collector rather than counters updated per frame: the hot path only bumps
plain integers in :class:`~ingest.camera_status.CameraStatus`. The registry is the
service's own (its :class:`~courtside.kit.lifecycle.Lifecycle`'s): no global state.
Every name is listed in docs/operations.md (tests/courtside/test_operations_doc.py checks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from courtside_contracts.status import CameraState
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ingest.camera_status import CameraSnapshot

SnapshotFn = Callable[[], Sequence[CameraSnapshot]]
PREFIX = "courtside_ingest_"
#: Counter families (the exposed name adds ``_total``), per camera.
_COUNTERS: dict[str, tuple[str, Callable[[CameraSnapshot], int]]] = {
    "frames_published": ("Frames published on frames.<camera>", lambda s: s.frames),
    "frames_dropped": ("Frames lost after decoding (hand-off full, publish failed)", lambda s: s.dropped),
    "frames_skipped": ("Frames left out by the fps cap", lambda s: s.skipped),
    "decode_errors": ("Packets that failed to decode", lambda s: s.decode_errors),
    "reconnects": ("Times the camera went to reconnecting", lambda s: s.reconnects),
}


class IngestCollector(Collector):
    """Per-camera frames, drops, reconnects, frame rate and state; WHIP sessions and refusals
    (``whip_refused``: reason -> count since start, e.g. :attr:`ingest.whip_hub.WhipHub.refused`)."""

    def __init__(self, snapshots: SnapshotFn, whip_sessions: Callable[[], int] = lambda: 0,
                 whip_refused: Callable[[], Mapping[str, int]] = dict) -> None:
        self._snapshots = snapshots
        self._whip_sessions = whip_sessions
        self._whip_refused = whip_refused

    def collect(self) -> Iterator[Metric]:
        snaps = self._snapshots()
        for name, (doc, value) in _COUNTERS.items():
            family = CounterMetricFamily(PREFIX + name, doc, labels=["camera"])
            for snap in snaps:
                family.add_metric([snap.camera], value(snap))
            yield family
        fps = GaugeMetricFamily(PREFIX + "frames_per_second", "Published frames per second (5 s window)",
                                labels=["camera"])
        state = GaugeMetricFamily(PREFIX + "camera_state", "1 for the camera's current state, 0 for the others",
                                  labels=["camera", "state"])
        for snap in snaps:
            fps.add_metric([snap.camera], snap.fps)
            for candidate in CameraState:
                state.add_metric([snap.camera, candidate.value], 1.0 if snap.state == candidate else 0.0)
        yield fps
        yield state
        yield GaugeMetricFamily(PREFIX + "whip_sessions", "Active WHIP sessions", value=self._whip_sessions())
        refused = CounterMetricFamily(PREFIX + "whip_refused", "WHIP requests refused by auth (401 "
                                      "unauthorized, 403 forbidden)", labels=["reason"])
        for reason, count in sorted(self._whip_refused().items()):
            refused.add_metric([reason], count)
        yield refused


def build_registry(snapshots: SnapshotFn, whip_sessions: Callable[[], int] = lambda: 0,
                   whip_refused: Callable[[], Mapping[str, int]] = dict) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(IngestCollector(snapshots, whip_sessions, whip_refused))
    return registry
