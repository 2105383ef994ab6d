"""Top-down geometry and SimCC decoding (numpy/OpenCV only), with plain data.

These pin the invariants each step must hold (the crop maps the padded box onto the
network input, results map back exactly, the decoder picks the argmax and the smaller
maximum). Their equality with mmpose's own pipeline is to be checked in ``.venvs/mmpose``
once it is built (docs/deploy.md: the mmcv wheel).
"""

from __future__ import annotations

import numpy as np
import pytest

from inference.backends.mmpose.topdown import (
    MEAN,
    STD,
    center_scale,
    clamp_keypoints,
    crop,
    normalize,
    simcc_decode,
    to_frame,
    warp_matrix,
)

INPUT = (192, 256)  # RTMPose-t/s/m: width, height


def test_center_scale_pads_the_box_and_fixes_the_aspect() -> None:
    center, scale = center_scale((100, 50, 200, 450), aspect=192 / 256)  # a tall box: height wins
    assert center == pytest.approx((150, 250))
    assert scale == pytest.approx((400 * 1.25 * 0.75, 400 * 1.25))
    _, wide = center_scale((0, 0, 400, 100), aspect=0.75)  # a wide box: width wins
    assert wide == pytest.approx((500, 500 / 0.75))


def test_the_warp_maps_the_padded_box_onto_the_input_and_back() -> None:
    center, scale = center_scale((100, 50, 200, 450), aspect=0.75)
    m = warp_matrix(center, scale, INPUT)
    corners = np.array([center - scale / 2, center + scale / 2, center], np.float64)
    mapped = corners @ m[:, :2].T + m[:, 2]
    assert mapped == pytest.approx(np.array([[0, 0], [192, 256], [96, 128]]), abs=1e-3)
    rng = np.random.default_rng(0)
    points = rng.uniform(0, 400, (20, 2)).astype(np.float32)
    on_input = (points @ m[:, :2].T + m[:, 2]).astype(np.float32)
    assert to_frame(on_input, center, scale, INPUT) == pytest.approx(points, abs=1e-3)


def test_crop_takes_the_box_pixels() -> None:
    image = np.zeros((480, 640, 3), np.uint8)
    image[100:300, 200:350] = (10, 20, 30)
    center, scale = center_scale((200, 100, 350, 300), aspect=0.75, padding=1.0)
    out = crop(image, center, scale, INPUT)
    assert out.shape == (256, 192, 3)
    assert tuple(out[128, 96]) == (10, 20, 30)  # the box centre lands on the input centre


def test_normalize_is_rgb_imagenet_nchw() -> None:
    bgr = np.zeros((256, 192, 3), np.uint8)
    bgr[..., 0], bgr[..., 2] = 255, 0  # pure blue in BGR
    out = normalize([bgr, bgr])
    assert out.shape == (2, 3, 256, 192) and out.dtype == np.float32
    assert out[0, 2, 0, 0] == pytest.approx((255 - MEAN[2]) / STD[2])  # blue is channel 2 in RGB
    assert out[0, 0, 0, 0] == pytest.approx(-MEAN[0] / STD[0])


def test_simcc_decode_takes_argmax_over_the_split_and_the_smaller_maximum() -> None:
    sx = np.zeros((1, 2, 384), np.float32)
    sy = np.zeros((1, 2, 512), np.float32)
    sx[0, 0, 100], sy[0, 0, 300] = 0.9, 0.6  # keypoint 0 at (50, 150), score min(0.9, 0.6)
    sx[0, 1, :], sy[0, 1, :] = -1.0, -1.0
    sx[0, 1, 10], sy[0, 1, 20] = -0.5, -0.2  # keypoint 1: no positive score -> -1, -1 as mmpose leaves it
    kps, scores = simcc_decode(sx, sy, split_ratio=2.0)
    assert kps[0, 0] == pytest.approx((50, 150)) and scores[0, 0] == pytest.approx(0.6)
    assert kps[0, 1] == pytest.approx((-0.5, -0.5)) and scores[0, 1] == pytest.approx(-0.5)


def test_clamp_keeps_keypoints_in_the_frame() -> None:
    out = clamp_keypoints(np.array([[-5, 10], [700, 500], [5, 5]], np.float32), 640, 480)
    assert out.tolist() == [[0, 10], [640, 480], [5, 5]]
