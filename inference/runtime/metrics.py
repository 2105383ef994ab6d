"""Counters and rolling windows of one consumer: its heartbeat entry and its Prometheus metrics.

Every metric name is listed in docs/operations.md (tests/courtside/test_operations_doc.py checks).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from courtside.kit.rate import RateMeter
from inference.runtime.intake import IntakeTally
from inference.runtime.stats import LatencyWindow

PREFIX = "courtside_inference_"


def _fps_meter() -> RateMeter:
    return RateMeter(unit_s=1e-9)  # marked with time.monotonic_ns()


@dataclass
class ConsumerMetrics:
    """Everything the heartbeat and ``/metrics`` report about one model on one replica.

    ``dropped`` in the heartbeat is the sum of frames the NATS client dropped for a full
    buffer (``client_buffer``), frames superseded by a newer frame of the same camera,
    stale frames (older than ``max_age_ms`` by the time the model could start) and
    out-of-order frames; ``received`` counts frames the callback saw (after the client's drops);
    ``malformed`` counts messages without valid headers or with an undecodable JPEG.
    Latencies are milliseconds: ``total_ms`` capture -> publish per annotation,
    ``infer_ms`` model time per batch.
    """

    received: int = 0
    published: int = 0
    malformed: int = 0
    failed_batches: int = 0
    batches: int = 0
    not_owned: int = 0
    total_ms: LatencyWindow = field(default_factory=LatencyWindow)
    infer_ms: LatencyWindow = field(default_factory=LatencyWindow)
    fps: RateMeter = field(default_factory=_fps_meter)
    intake: IntakeTally = field(default_factory=IntakeTally)

    def snapshot(self, now_mono_ns: int, *, superseded: int, stale: int, out_of_order: int,
                 loaded: bool, weights: str, device: str, cameras: list[str],
                 owned: list[str] | None) -> dict[str, Any]:
        p50, p99 = self.total_ms.percentiles(50, 99)
        infer_p50, = self.infer_ms.percentiles(50)
        client_buffer = self.intake.dropped
        out: dict[str, Any] = {
            "loaded": loaded,
            "weights": weights,
            "device": device,
            "fps": round(self.fps.rate(now_mono_ns), 2),
            "dropped": client_buffer + superseded + stale + out_of_order,
            "client_buffer": client_buffer,
            "superseded": superseded,
            "stale": stale,
            "malformed": self.malformed,
            "failed_batches": self.failed_batches,
            "published": self.published,
            "batches": self.batches,
            "p50_ms": _ms(p50),
            "p99_ms": _ms(p99),
            "infer_p50_ms": _ms(infer_p50),
            "cameras": cameras,
        }
        if owned is not None:
            out["owned"] = owned
        return out


def _ms(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 2)


class SlotCounts(Protocol):
    """The drop counters of :class:`inference.runtime.slots.LatestFrameSlots`."""

    superseded: int
    stale: int
    out_of_order: int


class ConsumerCollector(Collector):
    """Reads one consumer's :class:`ConsumerMetrics` and slot counters at scrape time (label ``model``)."""

    def __init__(self, model: str, metrics: ConsumerMetrics, slots: SlotCounts) -> None:
        self._model = model
        self._metrics = metrics
        self._slots = slots

    def collect(self) -> Iterator[Metric]:
        m, slots, labels = self._metrics, self._slots, [self._model]
        dropped = CounterMetricFamily(
            PREFIX + "frames_dropped", "Frames never run by the model, by reason: client_buffer (the NATS "
            "client's per-subscription buffer was full), superseded (a newer frame of the camera came "
            "first), stale (older than max_age_ms by the time the model could start), out_of_order, not_owned (another "
            "replica's camera), malformed (bad headers or undecodable JPEG)", labels=["model", "reason"])
        for reason, count in (("client_buffer", m.intake.dropped), ("superseded", slots.superseded), ("stale", slots.stale),
                              ("out_of_order", slots.out_of_order), ("not_owned", m.not_owned),
                              ("malformed", m.malformed)):
            dropped.add_metric([self._model, reason], count)
        yield dropped
        for name, doc, value in (
                ("frames_received", "Frame messages this replica received on frames.<camera> (before any drop)",
                 m.intake.delivered),
                ("batches", "Batches the model ran", m.batches),
                ("batches_failed", "Batches whose model call raised (their frames get no annotation)",
                 m.failed_batches),
                ("annotations_published", "Annotations published on annotations.<camera>.<model>", m.published)):
            family = CounterMetricFamily(PREFIX + name, doc, labels=["model"])
            family.add_metric(labels, value)
            yield family
        for name, doc, window in (
                ("infer_seconds", "Model time per batch (decode excluded)", m.infer_ms),
                ("capture_to_publish_seconds", "Capture ts to annotation publish, per annotation "
                 "(wall clock: includes ingest, NATS transit and clock skew between hosts)", m.total_ms)):
            histogram = HistogramMetricFamily(PREFIX + name, doc, labels=["model"])
            histogram.add_metric(labels, window.buckets(), window.sum_ms / 1000)
            yield histogram
        busy = GaugeMetricFamily(PREFIX + "busy_ratio", "Share of the last 10 s the model spent running "
                                 "batches (0..1; near 1: the model is the bottleneck)", labels=["model"])
        busy.add_metric(labels, m.infer_ms.busy_ratio())
        yield busy
