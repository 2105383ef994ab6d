"""The ball tracker's pure parts: history, peaks, tracker, metrics, the TrackNet CSV importer, causality."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from courtside.config import ModelConfig
from inference.backends.ball.data import LabelFileError, Windows, read_tracknet_csv, simulated_clip, target
from inference.backends.ball.frames import FrameHistory, network_input
from inference.backends.ball.metrics import Report, outcome
from inference.backends.ball.model import SMALL, BallNet
from inference.backends.ball.peaks import Candidate, candidates
from inference.backends.ball.pipeline import BallPipeline
from inference.backends.ball.tracker import BallTracker, TrackerParams
from inference.backends.ball.weights import torch_forward
from inference.errors import ModelLoadError


def _frame(value: int) -> np.ndarray:
    return np.full((4, 6, 3), value, np.uint8)


def test_history_skips_repeated_frames_and_pads_with_the_oldest() -> None:
    h = FrameHistory.empty(3)
    assert h.push(_frame(1), 0.0)
    frames, ages = h.window()
    assert [int(f[0, 0, 0]) for f in frames] == [1, 1, 1] and ages == [0.0, 0.0]
    assert not h.push(_frame(1), 0.033)  # same picture again: a repeated frame
    assert not h.push(_frame(2), 0.0)  # not after the newest
    assert h.push(_frame(2), 0.05) and h.push(_frame(3), 0.1)
    frames, ages = h.window()
    assert [int(f[0, 0, 0]) for f in frames] == [3, 2, 1]
    assert ages == [pytest.approx(0.05), pytest.approx(0.1)]
    x = network_input(frames, ages)
    assert x.shape == (SMALL.in_channels, 4, 6) and x[9, 0, 0] == pytest.approx(0.05 * 30)
    assert x[10, 0, 0] == pytest.approx(0.1 * 30)
    assert network_input(frames, [0.05, 1.0])[10, 0, 0] == 4.0  # a long gap reads as "long ago"


def test_peaks_decode_cell_and_offset_to_pixels() -> None:
    out = np.full((3, 8, 10), -10.0, np.float32)
    out[0, 5, 7] = 3.0
    out[1, 5, 7] = 0.0  # sigmoid 0.5: half a cell
    out[2, 5, 7] = 10.0  # ~1.0
    out[0, 1, 1] = 0.5
    found = candidates(out, stride=4, k=3)
    assert found[0].x == pytest.approx((7 + 0.5) * 4) and found[0].y == pytest.approx((5 + 1.0) * 4, abs=1e-3)
    assert found[0].score > found[1].score and len(found) == 2


def test_tracker_gates_bridges_and_jumps() -> None:
    t = BallTracker(TrackerParams(score=0.5, max_speed_px_s=300.0, slack_px=5.0, jump_score=0.9, bridge_s=0.1))
    assert t.update([Candidate(100, 100, 0.7)], 0.0).visible
    # A distractor far outside the gate loses to the ball moving on.
    est = t.update([Candidate(300, 50, 0.8), Candidate(108, 100, 0.6)], 0.033)
    assert (est.x, est.visible) == (108, True)
    # Nothing seen: the ball coasts on its velocity, then is lost.
    coast = t.update([], 0.066)
    assert coast.visible and coast.bridged and coast.x > 108
    assert not t.update([], 0.3).visible
    # A strong candidate anywhere starts a new track; the trail restarts with it.
    assert t.update([Candidate(400, 20, 0.95)], 0.35).x == 400 and len(t.trail) == 1


def test_metrics_follow_the_tracknet_protocol() -> None:
    assert outcome(1, (10, 10), (12, 13), 4.0).tp == 1
    assert outcome(2, (10, 10), (15, 10), 4.0).fp == 1  # too far: FP1
    assert outcome(0, (0, 0), (15, 10), 4.0).fp == 1  # no ball: FP2
    assert outcome(0, (0, 0), None, 4.0).tn == 1 and outcome(3, (5, 5), None, 4.0).fn == 1
    r = Report(4.0)
    for vis, pred in ((1, (10.0, 10.0)), (1, None), (0, None), (0, (1.0, 1.0))):
        r.add(vis, (10.0, 10.0), pred)
    s = r.summary()
    assert (s["tp"], s["fp"], s["tn"], s["fn"]) == (1, 1, 1, 1)
    assert s["precision"] == s["recall"] == s["f1"] == s["accuracy"] == 0.5
    assert s["by_visibility"]["1"]["recall"] == 0.5


def test_the_heat_target_peaks_on_the_ball_and_ignores_a_hidden_one() -> None:
    heat, offset, cell, ignore = target(SMALL, 1, 41.0, 22.0, 72, 128)
    assert cell == (5, 10) and heat[5, 10] == 1.0 and heat.max() == 1.0
    assert offset == pytest.approx([0.25, 0.5])
    assert ignore.sum() == 0
    heat, _, cell, ignore = target(SMALL, 3, 41.0, 22.0, 72, 128)
    assert cell == (-1, -1) and heat.sum() == 0 and ignore[5, 10] == 1.0
    heat, offset, cell, ignore = target(SMALL, 3, 41.0, 22.0, 72, 128, hidden_positive=True)
    assert cell == (5, 10) and heat[5, 10] == 1.0 and ignore.sum() == 0
    assert offset == pytest.approx([0.25, 0.5])


def test_training_batches_oversample_occluded_frames_only_when_asked() -> None:
    from inference.backends.ball.data import Clip
    from inference.backends.ball.train import draw_batch

    vis = np.asarray([1] * 90 + [3] * 5 + [2] * 5, np.int8)
    clip = Clip("t", (b"",) * 100, vis, np.zeros((100, 2), np.float32), np.arange(100) / 30.0)
    w = Windows([clip], SMALL, train=True)
    assert w.occluded == list(range(90, 100))
    plain = draw_batch(w, np.random.default_rng(5), 4000, 0.0)
    assert plain == [int(n) for n in np.random.default_rng(5).integers(0, 100, 4000)]  # unchanged draws
    share = sum(n >= 90 for n in draw_batch(w, np.random.default_rng(5), 4000, 0.5)) / 4000
    assert 0.5 < share < 0.6  # half drawn from the occluded frames, plus their 10 % of the rest


@pytest.mark.parametrize(("text", "line", "message"), [
    ("Frame,Vis,X,Y\n0,1,2,3\n", 1, "header"),
    ("Frame,Visibility,X,Y\n0,1,2,3\n1,1,a,3\n", 3, "not numbers"),
    ("Frame,Visibility,X,Y\n0,1,2,3\n2,1,2,3\n", 3, "out of order"),
    ("Frame,Visibility,X,Y\n0,4,2,3\n", 2, "visibility must be 0-3"),
    ("Frame,Visibility,X,Y\n0,1,-2,3\n", 2, ">= 0"),
    ("Frame,Visibility,X,Y\n0,1,2\n", 2, "expected 4 fields"),
    ("Frame,Visibility,X,Y\n0,1,nan,3\n", 2, "finite"),
])
def test_the_tracknet_importer_names_the_bad_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "clip_ball.csv"
    path.write_text(text)
    with pytest.raises(LabelFileError, match=f"{path.name}:{line}: .*{message}"):
        read_tracknet_csv(path)


def test_the_tracknet_importer_reads_a_good_file_and_refuses_an_empty_one(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("Frame,Visibility,X,Y\n0,1,10.5,20\n1,0,0,0\n2,3,11,21\n")
    labels = read_tracknet_csv(good)
    assert [(lb.frame, lb.visibility, lb.x) for lb in labels] == [(0, 1, 10.5), (1, 0, 0.0), (2, 3, 11.0)]
    empty = tmp_path / "empty.csv"
    empty.write_text("Frame,Visibility,X,Y\n")
    with pytest.raises(LabelFileError, match="no label rows"):
        read_tracknet_csv(empty)


def test_the_causal_model_never_reads_a_future_frame() -> None:
    """Run a random (untrained) network over a simulated clip twice, the second time with every
    frame after ``cut`` replaced by noise: nothing up to ``cut`` may change; a past frame may."""
    import torch

    torch.manual_seed(0)
    forward = torch_forward(BallNet(SMALL))
    clip = simulated_clip(5, 8, SMALL)
    import simplejpeg

    frames = [simplejpeg.decode_jpeg(j, colorspace="BGR") for j in clip.jpegs]
    noise = np.random.default_rng(0).integers(0, 255, frames[0].shape, dtype=np.uint8)
    cut = 4

    def run(images: list[np.ndarray]) -> list[np.ndarray]:
        outs: list[np.ndarray] = []
        pipe = BallPipeline(lambda b: outs.append(forward(b)) or outs[-1], SMALL)  # type: ignore[func-returns-value]
        for i, image in enumerate(images):
            pipe.step([("cam", image, float(clip.ts[i]))])
        return outs

    base = run(frames)
    future = run(frames[:cut + 1] + [noise] * (len(frames) - cut - 1))
    past = run([noise, *frames[1:]])
    for i in range(cut + 1):
        assert np.array_equal(base[i], future[i]), f"frame {i}'s output changed when later frames did"
    assert not np.array_equal(base[2], past[2]), "a past frame must reach the network"


def test_training_windows_use_only_the_current_and_earlier_frames() -> None:
    clip = simulated_clip(6, 12, SMALL)
    w = Windows([clip], SMALL, train=True, seed=1)
    for i in range(len(clip)):
        idx = w.history(0, i)
        assert idx[0] == i and all(0 <= k <= i for k in idx) and idx == sorted(idx, reverse=True)


def test_runner_refuses_bad_configuration(tmp_path: Path) -> None:
    from inference.backends.ball.runner import BallRunner

    with pytest.raises(ModelLoadError, match="task: track"):
        BallRunner(ModelConfig(name="ball", backend="ball", weights="arch:small", task="detect"))
    with pytest.raises(ModelLoadError, match="not found"):
        BallRunner(ModelConfig(name="ball", backend="ball", weights=str(tmp_path / "x.pt"), task="track"))
    with pytest.raises(ModelLoadError, match="unknown architecture"):
        BallRunner(ModelConfig(name="ball", backend="ball", weights="arch:tiny", task="track"))
    with pytest.raises(ModelLoadError, match="runtime"):
        BallRunner(ModelConfig(name="ball", backend="ball", weights="arch:small", task="track",
                               options={"runtime": "tensorrt"}))
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not torch")
    with pytest.raises(ModelLoadError, match="not a readable torch file"):
        BallRunner(ModelConfig(name="ball", backend="ball", weights=str(bad), task="track",
                               options={"runtime": "torch"}))


def test_untrained_architecture_says_so_and_onnx_matches_torch(tmp_path: Path) -> None:
    import torch

    from inference.backends.ball import weights
    from inference.backends.ball.export import export_onnx, onnx_forward

    torch.manual_seed(3)
    net = BallNet(SMALL).eval()
    pt = tmp_path / "random.pt"
    weights.save(pt, net, {})
    onnx_path = export_onnx(pt, tmp_path / "random.onnx")
    x = np.random.default_rng(0).random((2, SMALL.in_channels, SMALL.height, SMALL.width), dtype=np.float32)
    ours, theirs = torch_forward(net)(x), onnx_forward(onnx_path)(x)
    assert np.abs(ours - theirs).max() < 1e-3

    from inference.backends.ball.runner import BallRunner

    runner = BallRunner(ModelConfig(name="ball", backend="ball", weights=str(onnx_path), task="track"))
    assert runner.weights == "untrained" and runner.trained_on is None and runner.stateful
    assert runner.version.endswith("@onnx") and runner.input_size == 512
    out = runner.infer([np.zeros((360, 640, 3), np.uint8)], cameras=["c"])
    assert len(out) == 1 and out[0].objects == ()
    assert math.isfinite(runner.describe().version.count("-"))
