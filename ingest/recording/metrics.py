"""Prometheus metrics of recording, per camera: segments written, shipped, lost from the full
spool (never a silent loss), bytes waiting in the spool."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from ingest.recording.recording import Recording


class RecordingCollector:
    """Read at scrape time from each camera's :class:`~ingest.recording.recorder.RecordingStats`."""

    def __init__(self, recording: Recording) -> None:
        self._recording = recording

    def collect(self) -> Iterator[Metric]:
        counters = {
            "segments": ("courtside_ingest_recording_segments", "Segments closed into the spool"),
            "shipped": ("courtside_ingest_recording_shipped", "Segments handed to NATS (object store + clips.<camera>)"),
            "evicted": ("courtside_ingest_recording_lost", "Segments dropped from the full spool (oldest first)"),
            "failed": ("courtside_ingest_recording_failed", "Segments abandoned after a write error"),
            "skipped": ("courtside_ingest_recording_skipped_frames",
                        "Frames not recorded: their references were lost (WHIP loss, garbage, full queue)"),
        }
        families = {k: CounterMetricFamily(name, doc, labels=["camera"]) for k, (name, doc) in counters.items()}
        spool = GaugeMetricFamily("courtside_ingest_recording_spool_bytes", "Bytes of closed segments waiting", labels=["camera"])
        for camera, target in self._recording.targets.items():
            for key, family in families.items():
                family.add_metric([camera], getattr(target.stats, key))
            spool.add_metric([camera], target.spool.total_bytes)
        yield from families.values()
        yield spool
