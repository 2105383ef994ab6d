"""Counters and rolling windows of one consumer, rendered into its heartbeat entry."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from inference.runtime.stats import LatencyWindow, RateMeter


@dataclass
class ConsumerMetrics:
    """Everything the heartbeat reports about one model on one replica.

    ``dropped`` in the heartbeat is the sum of frames superseded by a newer frame of
    the same camera, stale frames (older than ``max_age_ms``) and out-of-order frames;
    ``malformed`` counts messages without valid headers or with an undecodable JPEG.
    Latencies are milliseconds, capture -> publish.
    """

    published: int = 0
    malformed: int = 0
    failed_batches: int = 0
    batches: int = 0
    not_owned: int = 0
    total_ms: LatencyWindow = field(default_factory=LatencyWindow)
    infer_ms: LatencyWindow = field(default_factory=LatencyWindow)
    fps: RateMeter = field(default_factory=RateMeter)

    def snapshot(self, now_mono_ns: int, *, superseded: int, stale: int, out_of_order: int,
                 loaded: bool, weights: str, device: str, cameras: list[str],
                 owned: list[str] | None) -> dict[str, Any]:
        p50, p99 = self.total_ms.percentiles(50, 99)
        infer_p50, = self.infer_ms.percentiles(50)
        out: dict[str, Any] = {
            "loaded": loaded,
            "weights": weights,
            "device": device,
            "fps": round(self.fps.rate(now_mono_ns), 2),
            "dropped": superseded + stale + out_of_order,
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
