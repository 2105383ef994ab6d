"""Letterbox geometry and NMS of the ONNX backend, against Ultralytics' own functions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision

from inference.backends.onnxrt.letterbox import (
    apply_letterbox,
    boxes_to_source,
    letterbox_params,
    points_to_source,
    to_blob,
)
from inference.backends.onnxrt.nms import decode_predictions, nms
from inference.backends.yolo.env import configure_offline

configure_offline()
from ultralytics.data.augment import LetterBox  # noqa: E402
from ultralytics.utils import ops  # noqa: E402

SIZES = [(720, 1280), (240, 320), (500, 300), (144, 176), (1080, 1920), (33, 700)]


@pytest.mark.parametrize("auto", [True, False])
@pytest.mark.parametrize(("h", "w"), SIZES)
def test_letterbox_matches_ultralytics_pixel_for_pixel(h: int, w: int, auto: bool) -> None:
    image = np.random.default_rng(h * w).integers(0, 255, (h, w, 3), dtype=np.uint8)
    lb = letterbox_params(h, w, 320, 32, auto=auto)
    ours = apply_letterbox(image, lb)
    theirs = LetterBox(320, auto=auto, stride=32)(image=image)
    assert ours.shape == theirs.shape == (*lb.out_shape, 3)
    assert np.array_equal(ours, theirs)


@pytest.mark.parametrize(("h", "w"), SIZES)
def test_boxes_and_points_scale_back_like_ultralytics(h: int, w: int) -> None:
    lb = letterbox_params(h, w, 640, 32, auto=True)
    rng = np.random.default_rng(w)
    xy = rng.uniform(0, 1, (50, 2)) * np.array(lb.out_shape[::-1])
    wh = rng.uniform(1, 200, (50, 2))
    boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    expected = ops.scale_boxes(lb.out_shape, torch.tensor(boxes), (h, w)).numpy()
    assert np.allclose(boxes_to_source(boxes, lb), expected, atol=1e-3)
    points = np.concatenate([xy, rng.uniform(0, 1, (50, 1))], 1).astype(np.float32)[:, None, :]
    expected_pts = ops.scale_coords(lb.out_shape, torch.tensor(points.copy()), (h, w)).numpy()
    assert np.allclose(points_to_source(points, lb), expected_pts, atol=1e-3)


def test_blob_is_rgb_nchw_unit_range() -> None:
    img = np.zeros((2, 3, 3), np.uint8)
    img[..., 0] = 255  # blue in BGR
    blob = to_blob([img])
    assert blob.shape == (1, 3, 2, 3) and blob.dtype == np.float32
    assert blob[0, 2].max() == 1.0 and blob[0, 0].max() == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_nms_equals_torchvision(seed: int) -> None:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 300, (400, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(5, 80, (400, 2))], 1).astype(np.float32)
    scores = rng.permutation(400).astype(np.float32) / 400  # distinct: no tie-break ambiguity
    for iou in (0.3, 0.5, 0.7):
        expected = torchvision.ops.nms(torch.tensor(boxes), torch.tensor(scores), iou).numpy()
        assert np.array_equal(nms(boxes, scores, iou), expected)


def test_decode_keeps_best_class_filters_and_suppresses_per_class() -> None:
    # 3 anchors, 2 classes: two overlapping boxes of class 0, one of class 1 on top of them.
    pred = np.array([
        [50, 52, 50],  # cx
        [50, 50, 50],  # cy
        [20, 20, 20],  # w
        [20, 20, 20],  # h
        [0.9, 0.8, 0.1],  # class 0 score
        [0.1, 0.2, 0.7],  # class 1 score
    ], dtype=np.float32)
    rows = decode_predictions(pred, nc=2, conf=0.25, iou=0.5)
    assert rows[:, 5].tolist() == [0, 1]  # the 0.8 box is suppressed by the 0.9 one; class 1 survives
    assert rows[0].tolist() == pytest.approx([40, 40, 60, 60, 0.9, 0])
    assert decode_predictions(pred, 2, 0.25, 0.5, classes=[1])[:, 5].tolist() == [1]
    assert len(decode_predictions(pred, 2, 0.95, 0.5)) == 0
