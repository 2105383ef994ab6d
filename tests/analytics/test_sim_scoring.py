"""The simulator's scoring counts the same frames in play on both sides: a truth bounce or hit it
scores can be matched by a found one, including in the rally the frames stop in (before, found
bounces there were dropped as "not in play" while the truth kept them, and recall read 0.76 for 0.89)."""

from __future__ import annotations

from tests.analytics import sim_annotations as sa


def test_every_scored_truth_bounce_lies_in_a_play_interval() -> None:
    frames = sa.frames(5, 1800, "c", "people", "ball")  # seed 5's clip stops in its fifth rally
    play = sa.play_intervals(frames)
    ended = sa.truth_rallies(frames)
    assert len(play) == len(ended) + 1 and play[-1][1] == frames[-1].ts, (play, ended)
    ts = {f.seq: f.ts for f in frames}
    bounces = sa.truth_bounces(frames, frames[-1].seq)
    assert any(ts[seq] > ended[-1][1] for seq, _ in bounces), "truth bounces after the last ended rally"
    outside = [seq for seq, _ in bounces if not any(a <= ts[seq] <= e for a, e in play)]
    assert outside == []


def test_a_clip_that_ends_between_rallies_adds_no_open_interval() -> None:
    frames = sa.frames(5, 1800, "c", "people", "ball")
    ended = sa.truth_rallies(frames)
    last_end = next(i for i, f in enumerate(frames) if f.ts == ended[0][1])
    cut = frames[: last_end + 5]  # stops just after the first rally ended
    assert sa.play_intervals(cut) == sa.truth_rallies(cut) == [ended[0]]
