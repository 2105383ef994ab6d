"""Latency percentiles and rates: plain numbers, no clock."""

from __future__ import annotations

import math

import pytest

from inference.runtime.stats import LatencyWindow, RateMeter, percentile


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile(values, 0) == 1
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_window_keeps_only_recent_samples() -> None:
    window = LatencyWindow(size=10)
    for v in range(100):
        window.add(float(v))
    assert len(window) == 10
    assert window.percentiles(50, 99) == [94.0, 99.0]


def test_rate_over_window() -> None:
    meter = RateMeter(window_ns=1_000_000_000)
    for i in range(30):  # 30 events over 1 s
        meter.mark(i * 33_333_333)
    assert meter.rate(1_000_000_000) == pytest.approx(30, rel=0.05)
    assert meter.rate(5_000_000_000) == 0.0
