"""The optimised input builder and peak decoder equal their straightforward references bit for bit.

The references are the code the shipped weights were trained and served with
before issue 13's speed work: stack, transpose and cast the whole window per
frame; a zero-padded 3 x 3 maximum and full-map sigmoids for the peaks.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inference.backends.ball.frames import FrameHistory, network_input, prepare
from inference.backends.ball.model import AGE_CLIP, AGE_SCALE, BallNetConfig
from inference.backends.ball.peaks import Candidate, candidates
from inference.backends.ball.pipeline import BallPipeline

TINY = BallNetConfig("tiny", frames=3, stride=4, widths=(4,), height=36, width=64)


def reference_prepare(image_bgr: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = image_bgr.shape[:2]
    if (w, h) != (width, height):
        interp = cv2.INTER_AREA if w >= width else cv2.INTER_LINEAR
        image_bgr = np.asarray(cv2.resize(image_bgr, (width, height), interpolation=interp), np.uint8)
    return np.ascontiguousarray(image_bgr[..., ::-1])


def reference_input(frames: list[np.ndarray], ages_s: list[float]) -> np.ndarray:
    h, w = frames[0].shape[:2]
    stacked = np.concatenate(frames, axis=2).transpose(2, 0, 1).astype(np.float32) * np.float32(1 / 255)
    planes = [np.full((1, h, w), min(AGE_CLIP, max(0.0, a * AGE_SCALE)), np.float32) for a in ages_s]
    return np.ascontiguousarray(np.concatenate([stacked, *planes], axis=0))


def reference_candidates(output: np.ndarray, stride: int, k: int = 3, min_score: float = 0.05) -> list[Candidate]:
    def sigmoid(x: np.ndarray) -> np.ndarray:
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -30, 30))), np.float32)

    heat = sigmoid(output[0])
    padded = np.pad(heat, 1, constant_values=0.0)
    h, w = heat.shape
    local = np.max(np.stack([padded[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)]), axis=0)
    peaks = np.flatnonzero((heat >= local) & (heat >= min_score))
    if peaks.size == 0:
        return []
    order = peaks[np.argsort(-heat.ravel()[peaks])][:k]
    ox, oy = sigmoid(output[1]).ravel(), sigmoid(output[2]).ravel()
    return [Candidate((int(i) % w + float(ox[i])) * stride, (int(i) // w + float(oy[i])) * stride,
                      float(heat.ravel()[i])) for i in order]


@pytest.mark.parametrize(("h", "w"), [(720, 1280), (360, 640), (36, 64), (20, 30)])
def test_prepare_equals_the_reference(h: int, w: int) -> None:
    image = np.random.default_rng(h).integers(0, 256, (h, w, 3), np.uint8)
    ours = prepare(image, TINY.width, TINY.height)
    assert ours.flags.c_contiguous and np.array_equal(ours, reference_prepare(image, TINY.width, TINY.height))


def test_network_input_equals_the_reference_on_random_and_strided_frames() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        frames = [rng.integers(0, 256, (36, 64, 3), np.uint8) for _ in range(3)]
        frames[1] = np.ascontiguousarray(frames[1])[:, ::-1]  # a flipped view, as training's augmentation
        ages = [float(a) for a in rng.uniform(-0.1, 0.3, 2)]
        expected = reference_input(frames, ages)
        assert np.array_equal(network_input(frames, ages), expected)
        out = np.full_like(expected, np.nan)
        assert network_input(frames, ages, out) is out and np.array_equal(out, expected)


def test_history_input_equals_the_reference_through_repeats_padding_and_eviction() -> None:
    rng = np.random.default_rng(2)
    history, ts = FrameHistory.empty(3), 0.0
    pushed = 0
    for step in range(30):
        if step % 7 == 3 and pushed:
            frame = history.window()[0][0].copy()  # a repeated picture: not added
        else:
            frame = rng.integers(0, 256, (36, 64, 3), np.uint8)
        ts += float(rng.uniform(0.005, 0.2))
        pushed += history.push(frame, ts)
        frames, ages = history.window()
        out = np.full((TINY.in_channels, 36, 64), np.nan, np.float32)
        assert np.array_equal(history.write_input(out), reference_input(frames, ages)), step


def test_pipeline_feeds_the_network_the_reference_input_for_each_camera() -> None:
    """Two cameras interleaved in batches (one camera twice in a batch): every row the network sees
    equals the reference built from that camera's own frames, newest first."""
    rng = np.random.default_rng(3)
    seen: list[np.ndarray] = []

    def forward(batch: np.ndarray) -> np.ndarray:
        seen.extend(batch.copy())
        return np.full((len(batch), 3, 9, 16), -10.0, np.float32)

    pipe = BallPipeline(forward, TINY)
    past: dict[str, list[tuple[np.ndarray, float]]] = {"a": [], "b": []}
    expected: list[np.ndarray] = []
    for step in range(8):
        items = [(cam, rng.integers(0, 256, (72, 128, 3), np.uint8), 0.04 * step + d)
                 for cam, d in (("a", 0.0), ("b", 0.0), ("a", 0.02))]
        for cam, image, ts in items:
            past[cam].insert(0, (reference_prepare(image, TINY.width, TINY.height), ts))
            window = (past[cam] + [past[cam][-1]] * 3)[:3]
            expected.append(reference_input([f for f, _ in window], [window[0][1] - t for _, t in window[1:]]))
        pipe.step(items)
    assert len(seen) == len(expected)
    for n, (got, want) in enumerate(zip(seen, expected, strict=True)):
        assert np.array_equal(got, want), n


@pytest.mark.parametrize("seed", range(6))
def test_candidates_equal_the_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    out = rng.normal(-4, 4, (3, 18, 32)).astype(np.float32)
    out[0, rng.integers(0, 18, 5), rng.integers(0, 32, 5)] = 40.0  # saturated ties, some on the border
    out[0, 0, :3] = 8.0
    for k in (1, 3, 10):
        assert candidates(out, 4, k) == reference_candidates(out, 4, k)
    assert candidates(np.full((3, 4, 4), -30.0, np.float32), 4) == []
