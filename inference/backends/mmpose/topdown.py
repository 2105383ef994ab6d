"""Top-down pose geometry and SimCC decoding, as mmpose 1.3.2 does it: numpy and OpenCV only.

Both RTMPose paths use it: the native runner (mmpose) only for its keypoint clamp, the
lean ONNX runner (:mod:`inference.backends.mmpose.onnx_runner`) for everything around
the network. Each function reproduces one mmpose step (named in its docstring), so the
ONNX path's output equals the native one within float error.

Units: boxes ``(x1, y1, x2, y2)`` and keypoints in frame pixels; ``input_size`` is the
network input ``(width, height)`` (RTMPose-t/s/m: 192x256).
"""

from __future__ import annotations

import cv2
import numpy as np

#: ImageNet mean / std on RGB 0-255, RTMPose's data_preprocessor.
MEAN = np.array([123.675, 116.28, 103.53], np.float32)
STD = np.array([58.395, 57.12, 57.375], np.float32)
#: GetBBoxCenterScale's default padding around a detector box.
BOX_PADDING = 1.25


def center_scale(box: tuple[float, float, float, float], aspect: float,
                 padding: float = BOX_PADDING) -> tuple[np.ndarray, np.ndarray]:
    """Box -> (center, scale) in pixels: ``bbox_xyxy2cs`` then TopdownAffine's ``_fix_aspect_ratio``.

    ``aspect`` is the input's width / height; the padded box grows on one side to match it.
    """
    x1, y1, x2, y2 = box
    center = np.array([(x1 + x2) * 0.5, (y1 + y2) * 0.5], np.float32)
    w, h = (x2 - x1) * padding, (y2 - y1) * padding
    scale = np.array([w, w / aspect] if w > h * aspect else [h * aspect, h], np.float32)
    return center, scale


def warp_matrix(center: np.ndarray, scale: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
    """mmpose's ``get_warp_matrix`` with rot=0, shift=0, no UDP: a 2x3 affine (frame -> input)."""
    dst_w, dst_h = output_size
    src = np.zeros((3, 2), np.float32)
    dst = np.zeros((3, 2), np.float32)
    src[0] = center
    src[1] = center + np.array([scale[0] * -0.5, 0.0], np.float32)
    dst[0] = [dst_w * 0.5, dst_h * 0.5]
    dst[1] = np.array([dst_w * 0.5, dst_h * 0.5], np.float32) + np.array([dst_w * -0.5, 0.0], np.float32)
    src[2] = _third_point(src[0], src[1])
    dst[2] = _third_point(dst[0], dst[1])
    return np.asarray(cv2.getAffineTransform(src, dst), np.float64)


def _third_point(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    direction = a - b
    return np.asarray(b + np.array([-direction[1], direction[0]], np.float32), np.float32)


def crop(image: np.ndarray, center: np.ndarray, scale: np.ndarray, input_size: tuple[int, int]) -> np.ndarray:
    """TopdownAffine: the box region of a BGR frame warped to ``input_size`` (bilinear)."""
    return np.asarray(cv2.warpAffine(image, warp_matrix(center, scale, input_size), input_size,
                                     flags=cv2.INTER_LINEAR))


def normalize(crops: list[np.ndarray]) -> np.ndarray:
    """PoseDataPreprocessor: BGR uint8 HxWx3 crops -> float32 Nx3xHxW, RGB, ImageNet-normalised."""
    batch = np.stack(crops)[..., ::-1].astype(np.float32)
    return np.ascontiguousarray(((batch - MEAN) / STD).transpose(0, 3, 1, 2))


def simcc_decode(simcc_x: np.ndarray, simcc_y: np.ndarray, split_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """SimCCLabel.decode (no DARK): ``get_simcc_maximum`` / ``split_ratio``.

    ``simcc_x`` N x K x Wx, ``simcc_y`` N x K x Hy (the head's raw outputs). Returns
    keypoints N x K x 2 in input pixels and scores N x K (the smaller of the two maxima;
    a keypoint whose score is <= 0 sits at -1, -1, as mmpose leaves it).
    """
    n, k, _ = simcc_x.shape
    sx, sy = simcc_x.reshape(n * k, -1), simcc_y.reshape(n * k, -1)
    locs = np.stack((np.argmax(sx, axis=1), np.argmax(sy, axis=1)), axis=-1).astype(np.float32)
    vals = np.minimum(np.amax(sx, axis=1), np.amax(sy, axis=1))
    locs[vals <= 0.0] = -1
    return locs.reshape(n, k, 2) / split_ratio, vals.reshape(n, k)


def to_frame(keypoints: np.ndarray, center: np.ndarray, scale: np.ndarray,
             input_size: tuple[int, int]) -> np.ndarray:
    """TopdownPoseEstimator.add_pred_to_datasample: input pixels -> frame pixels (K x 2)."""
    size = np.array(input_size, np.float32)
    return np.asarray(keypoints / size * scale + center - 0.5 * scale, np.float32)


def clamp_keypoints(keypoints: np.ndarray, width: int, height: int) -> np.ndarray:
    """Keypoints K x 2 clamped into the frame (both paths publish them so)."""
    return np.stack([np.clip(keypoints[:, 0], 0, width), np.clip(keypoints[:, 1], 0, height)], axis=-1)
