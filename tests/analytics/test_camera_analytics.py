"""One camera's analytics on the simulator's ground-truth annotations, in process (the rules alone),
and its refusals: garbage, out-of-order, duplicated, foreign annotations are skipped and change nothing."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from courtside_contracts.analytics import AnalyticsMessage

from analytics.ball3d import LAG_FRAMES, PAST_WALL_M
from analytics.calibrated import solve
from analytics.camera_analytics import SAME_CONTACT_FRAMES, CameraAnalytics, Skipped
from courtside.court import model as court
from tests.analytics import sim_annotations as sa

CAM = "court-1"


def _analytics() -> CameraAnalytics:
    return CameraAnalytics(CAM, solve(sa.clicks(sa.camera(), CAM), 1), "people", "ball")


@pytest.mark.parametrize("seed", [3])
def test_truth_annotations_meet_the_issue_bars(seed: int) -> None:
    frames = sa.frames(seed, 900, CAM, "people", "ball")
    state = _analytics()
    assert state.calibration.kind == "pose"
    messages: list[AnalyticsMessage] = []
    for f in frames:
        messages += state.feed(f.players)
        messages += state.feed(f.ball)
    assert [m.seq for m in messages] == [f.seq for f in frames]
    s = sa.score(messages, frames, LAG_FRAMES)
    assert s.position_median_m <= 0.20, s.table()
    # The issue's bar, recall and precision >= 0.9 (over ten seeds of 1800 frames 0.954 / 0.926 pooled, 0.92
    # to 1.0 recall per seed; docs/benchmarks.md): this seed's 900 frames give 1.0 / 0.9.
    assert s.bounces_truth >= 10 and s.bounce_recall >= 0.9 and s.bounce_precision >= 0.9, s.table()
    assert s.surfaces_right >= 0.9, s.table()
    # The issue's bar: the ball's speed within 10 % of the truth where the pose is known. Of the frames given
    # a 3D speed on this seed's 1800 frames: 0.66 before the bounce law was the flight's prior, 0.85 after.
    assert s.speed_within >= 0.8 and s.speed_frames >= 400, s.table()
    assert len(s.rally_ious) >= 3 and min(s.rally_ious) >= 0.8, s.table()


def test_a_drive_into_the_far_glass_is_not_placed_through_it() -> None:
    """Seed 2's drive into the far back glass (frames 160-170): from the camera behind the near wall the
    glass turns the ball back along its sight line, so its pixels after the bounce still nearly fit the
    flight before. That flight is not extended through the glass (it went 0.5 m past it and the rally ended
    "out"); the bounce is seen and the rally goes on."""
    frames = sa.frames(2, 200, CAM, "people", "ball")
    state = _analytics()
    messages: list[AnalyticsMessage] = []
    for f in frames:
        messages += state.feed(f.players) + state.feed(f.ball)
    placed = [m for m in messages if 150 <= m.seq <= 190 and m.ball is not None and m.ball.z is not None]
    assert len(placed) >= 10
    beyond = [(m.seq, m.ball.y) for m in placed if m.ball is not None and m.ball.y > court.LENGTH_M]
    assert not beyond, beyond
    assert any(165 <= b.seq <= 172 and b.surface == "glass" for m in messages for b in m.bounces)
    assert not [m.finished_rally for m in messages if m.finished_rally is not None and m.seq < 190]


def test_a_return_off_the_glass_at_the_camera_stays_above_the_floor() -> None:
    """Seed 11's return off the far glass at frame 858 comes straight at the camera behind the near wall:
    one view hardly tells its depth, and a flight found 0.12 m under the floor put two floor bounces on the
    near side before the next hit, ending the rally at 794-1400 with a false "double bounce" at 882."""
    frames = sa.frames(11, 1450, CAM, "people", "ball")
    state = _analytics()
    messages: list[AnalyticsMessage] = []
    for f in frames:
        messages += state.feed(f.players) + state.feed(f.ball)
    under = [(m.seq, m.ball.z) for m in messages
             if m.ball is not None and m.ball.z is not None and m.ball.z < -PAST_WALL_M]
    assert not under, under
    truth = [r for r in sa.truth_rallies(frames) if r[0] > frames[780].ts]
    found = [(m.finished_rally.start_ts, m.finished_rally.end_ts) for m in messages if m.finished_rally is not None]
    assert truth and max(sa.iou(truth[0], g) for g in found) >= 0.8, (truth, found)


def test_the_ball_models_noise_allowed_for_finds_bounces_in_noisy_pixels() -> None:
    """Seed 3's ball pixels with 0.5 px of noise (one sigma per axis): the fits made for exact pixels find
    few bounces (recall 0.16 on 1800 frames); told the noise (``ball_noise_px``, as the analytics
    configuration tells it), they find most (0.73), at precision 0.9."""
    frames = sa.frames(3, 1800, CAM, "people", "ball", noise_px=0.5)
    recalls = []
    for noise in (0.0, 0.5):
        state = CameraAnalytics(CAM, solve(sa.clicks(sa.camera(), CAM), 1), "people", "ball", ball_noise_px=noise)
        messages: list[AnalyticsMessage] = []
        for f in frames:
            messages += state.feed(f.players) + state.feed(f.ball)
        s = sa.score(messages, frames, LAG_FRAMES)
        recalls.append(s.bounce_recall)
    assert recalls[0] < 0.3 and recalls[1] >= 0.65 and s.bounce_precision >= 0.85, (recalls, s.table())


def _messages(frames: list[sa.SimFrameTruth], ball_noise_px: float = 0.0) -> list[AnalyticsMessage]:
    state = CameraAnalytics(CAM, solve(sa.clicks(sa.camera(), CAM), 1), "people", "ball",
                            ball_noise_px=ball_noise_px)
    messages: list[AnalyticsMessage] = []
    for f in frames:
        messages += state.feed(f.players) + state.feed(f.ball)
    return messages


def test_a_shot_into_the_net_in_noisy_pixels_ends_the_rally_there() -> None:
    """Seed 12's first rally ends in the net (frame 68). At 0.6 px of ball noise the fitted flight stops
    0.12 m short of the net and its next flight is fitted wrong, so neither the flight's path nor the
    settled positions show the contact: the rally ran on to frame 328. The flight's break within
    NET_REACH_M of the net, below its top and heading into it, is the net: the rally ends there."""
    frames = sa.frames(12, 120, CAM, "people", "ball", noise_px=0.6)
    messages = _messages(frames, 0.6)
    truth = sa.truth_rallies(frames)
    found = [m.finished_rally for m in messages if m.finished_rally is not None]
    assert len(truth) == 1 and found, (truth, found)
    assert found[0].reason == "net" and sa.iou(truth[0], (found[0].start_ts, found[0].end_ts)) >= 0.8, (truth, found)


def test_a_contact_read_twice_is_reported_once() -> None:
    """A net contact the flight's break tells is read again from the settled positions a frame later (seed
    4's first 1000 frames, exact pixels: eight nets, seven found); each is one bounce, none on the same surface
    within SAME_CONTACT_FRAMES, and each net found is a net of the truth."""
    frames = sa.frames(4, 1000, CAM, "people", "ball")
    bounces = [(b.seq, b.surface) for m in _messages(frames) for b in m.bounces]
    twice = [(a, b) for a, b in itertools.pairwise(bounces) if a[1] == b[1] and b[0] - a[0] <= SAME_CONTACT_FRAMES]
    assert not twice, twice
    nets = [seq for seq, surface in bounces if surface == "net"]
    truth = [seq for seq, surface in sa.truth_bounces(frames, frames[-1].seq - LAG_FRAMES - 2) if surface == "net"]
    assert len(nets) >= 7 and all(any(abs(n - t) <= 2 for t in truth) for n in nets), (nets, truth)


def test_refusals_change_nothing() -> None:
    frames = sa.frames(1, 40, CAM, "people", "ball")
    state = _analytics()
    for f in frames[:20]:
        state.feed(f.players)
        state.feed(f.ball)
    done = frames[19]
    cases = [
        (dataclasses.replace(done.players, seq=done.seq - 3), "out_of_order"),
        (done.ball, "out_of_order"),
        (dataclasses.replace(done.ball, model="other"), "model"),
        (dataclasses.replace(done.ball, camera="court-2"), "camera"),
        (dataclasses.replace(frames[20].ball, frame_w=640, frame_h=640), "frame_size"),
    ]
    for ann, reason in cases:
        with pytest.raises(Skipped) as caught:
            state.feed(ann)
        assert caught.value.reason == reason
    # A frame's annotation twice, and a second model's copy with another time: refused.
    assert state.feed(frames[20].players) == []
    with pytest.raises(Skipped, match="twice"):
        state.feed(frames[20].players)
    with pytest.raises(Skipped) as caught:
        state.feed(dataclasses.replace(frames[20].ball, ts=frames[20].ts + 1))
    assert caught.value.reason == "garbage"
    # Nothing was lost: the rest analyses in order, one message per frame.
    out = state.feed(frames[20].ball)
    for f in frames[21:]:
        out += state.feed(f.players) + state.feed(f.ball)
    assert [m.seq for m in out] == [f.seq for f in frames[20:]]


def test_a_model_that_skips_frames_and_a_restarted_stream() -> None:
    frames = sa.frames(2, 60, CAM, "people", "ball")
    state = _analytics()
    out: list[AnalyticsMessage] = []
    for f in frames[:30]:
        out += state.feed(f.players)
        if f.seq % 3:  # the ball model skipped every third frame: those frames are analysed without it
            out += state.feed(f.ball)
    # Complete frames go out at once, and the partial ones before them with them; frame 30 waits.
    assert [m.seq for m in out] == [f.seq for f in frames[:29]]  # (within JOIN_WINDOW)
    assert all(len(m.players) == 4 for m in out)
    for f in frames[30:]:
        out += state.feed(f.players) + state.feed(f.ball)
    assert out[-1].seq == 60
    # ingest restarted: seqs start at 1 again, times go on.
    shift = frames[-1].ts - frames[0].ts + 33_333_333
    again = [dataclasses.replace(a, ts=a.ts + shift) for f in frames[:10] for a in (f.players, f.ball)]
    restarted = [m for a in again for m in state.feed(a)]
    assert state.restarts == 1 and [m.seq for m in restarted] == list(range(1, 11))
