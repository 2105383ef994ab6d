import itertools

import pytest

from ingest.pacing import FpsLimiter, RealtimePacer, cap_time


def kept(limiter: FpsLimiter, times: list[float]) -> list[float]:
    return [t for t in times if limiter.keep(t)]


@pytest.mark.parametrize(("source_fps", "cap", "expected"), [
    (30, 15, 15), (30, 10, 10), (30, 20, 20), (30, 30, 30), (30, 60, 30), (25, 15, 15), (60, 29, 29),
])
def test_fps_limiter_long_run_rate(source_fps: float, cap: float, expected: int) -> None:
    times = [i / source_fps for i in range(int(source_fps * 10))]
    out = kept(FpsLimiter(cap), times)
    assert abs(len(out) / 10 - expected) <= 0.2


def test_fps_limiter_spreads_frames_evenly() -> None:
    out = kept(FpsLimiter(15), [i / 30 for i in range(60)])
    gaps = {round(b - a, 4) for a, b in itertools.pairwise(out)}
    assert gaps == {round(2 / 30, 4)}


def test_fps_limiter_tolerates_jitter() -> None:
    jitter = [0.004, -0.003, 0.002, -0.004, 0.0]
    times = [i / 30 + jitter[i % 5] for i in range(300)]
    out = kept(FpsLimiter(15), times)
    assert 148 <= len(out) <= 151


def test_fps_limiter_reanchors_after_a_gap_instead_of_bursting() -> None:
    limiter = FpsLimiter(10)
    assert kept(limiter, [0.0, 0.1, 0.2]) == [0.0, 0.1, 0.2]
    # 5 s without frames, then a 30 fps burst: still at most 10 per second.
    burst = [5.0 + i / 30 for i in range(30)]
    assert len(kept(limiter, burst)) == 10


def test_fps_limiter_survives_a_clock_going_back() -> None:
    limiter = FpsLimiter(10)
    kept(limiter, [100.0, 100.1])
    assert limiter.keep(3.0)


def test_fps_limiter_reanchors_when_a_short_file_loops() -> None:
    # A 0.5 s clip at 30 fps, capped at 30, looping: source time goes back every pass.
    limiter = FpsLimiter(30)
    pts = [i / 30 for i in range(15)] * 4
    assert len(kept(limiter, pts)) == 60


def test_fps_limiter_on_source_time_keeps_frames_delivered_in_bursts() -> None:
    # A 30 fps source capped at 30 on a loaded machine: frames reach the cap late and
    # then in bursts. Judged on arrival time, frames after each hiccup are thrown away
    # (after being decoded); judged on their pts, every frame is kept.
    arrival = [i / 30 + (0.05 if i % 10 == 5 else 0.0) for i in range(300)]
    arrival = [max(arrival[: i + 1]) for i in range(300)]  # a late frame holds up the next ones
    pts = [i / 30 for i in range(300)]
    assert len(kept(FpsLimiter(30), arrival)) < 300
    limiter = FpsLimiter(30)
    assert sum(limiter.keep(cap_time(p, now)) for p, now in zip(pts, arrival, strict=True)) == 300


def test_cap_time_falls_back_to_arrival_time() -> None:
    assert cap_time(None, 12.5) == 12.5
    assert cap_time(0.25, 12.5) == 0.25


def test_pacer_plays_in_real_time() -> None:
    pacer = RealtimePacer()
    assert pacer.delay(0.0, now=50.0) == 0.0
    assert pacer.delay(1 / 30, now=50.0) == pytest.approx(1 / 30)
    assert pacer.delay(0.5, now=50.2) == pytest.approx(0.3)


def test_pacer_continues_after_a_loop() -> None:
    pacer = RealtimePacer()
    for i in range(30):  # one second of a 30 fps file, read instantly
        pacer.delay(i / 30, now=10.0 + i / 30)
    # The file restarts at pts 0: due one frame period after the last frame.
    assert pacer.delay(0.0, now=10.0 + 29 / 30) == pytest.approx(1 / 30)


def test_pacer_reanchors_when_far_behind() -> None:
    pacer = RealtimePacer(max_lag_s=1.0)
    pacer.delay(0.0, now=0.0)
    assert pacer.delay(0.1, now=5.0) == 0.0           # a 5 s stall: no catch-up burst
    assert pacer.delay(0.2, now=5.0) == pytest.approx(0.1)
