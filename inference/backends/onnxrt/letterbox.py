"""Letterbox geometry, identical to Ultralytics' ``LetterBox`` + ``scale_boxes``.

Pure: sizes in pixels, (height, width) order where a shape is given. The image is
scaled by ``r = min(out_h / h, out_w / w)`` to ``(round(w r), round(h r))`` and
padded with grey 114, centred. ``auto`` (minimum rectangle) pads only up to a
multiple of ``stride`` - what Ultralytics does for a same-shape batch on a model
with dynamic input size.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PAD_VALUE = 114


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How one source size maps into the network input."""

    src_h: int
    src_w: int
    new_h: int  # scaled image, before padding
    new_w: int
    top: int
    bottom: int
    left: int
    right: int

    @property
    def out_shape(self) -> tuple[int, int]:
        """Network input (height, width) in pixels."""
        return self.new_h + self.top + self.bottom, self.new_w + self.left + self.right


def letterbox_params(src_h: int, src_w: int, imgsz: int, stride: int = 32, auto: bool = True) -> Letterbox:
    """Geometry for a ``src_h`` x ``src_w`` image into an ``imgsz`` square (or minimum rectangle)."""
    r = min(imgsz / src_h, imgsz / src_w)
    new_w, new_h = max(round(src_w * r), 1), max(round(src_h * r), 1)
    dw, dh = float(imgsz - new_w), float(imgsz - new_h)
    if auto:
        dw, dh = float(np.mod(dw, stride)), float(np.mod(dh, stride))
    dw, dh = dw / 2, dh / 2
    return Letterbox(src_h, src_w, new_h, new_w, top=round(dh - 0.1), bottom=round(dh + 0.1),
                     left=round(dw - 0.1), right=round(dw + 0.1))


def apply_letterbox(image: np.ndarray, lb: Letterbox) -> np.ndarray:
    """Resize (bilinear) and pad one BGR image per ``lb``."""
    if image.shape[:2] != (lb.new_h, lb.new_w):
        image = cv2.resize(image, (lb.new_w, lb.new_h), interpolation=cv2.INTER_LINEAR)
    return cv2.copyMakeBorder(image, lb.top, lb.bottom, lb.left, lb.right, cv2.BORDER_CONSTANT,
                              value=(PAD_VALUE,) * 3)


def to_blob(images: list[np.ndarray]) -> np.ndarray:
    """Letterboxed BGR uint8 HxWx3 images -> float32 NCHW RGB in [0, 1]."""
    batch = np.stack(images)[..., ::-1].transpose(0, 3, 1, 2)
    return np.ascontiguousarray(batch, dtype=np.float32) / np.float32(255.0)


def _to_source(lb: Letterbox) -> tuple[int, int, float, float]:
    """``(pad_x, pad_y, scale_x, scale_y)``: network-input pixel ``x`` is source pixel
    ``(x - pad_x) / scale_x`` (likewise y). Worked out from the two shapes, as Ultralytics'
    ``scale_boxes`` does, not taken from ``lb``'s own padding."""
    in_h, in_w = lb.out_shape
    gain = min(in_h / lb.src_h, in_w / lb.src_w)
    new_h, new_w = max(round(lb.src_h * gain), 1), max(round(lb.src_w * gain), 1)
    pad_x, pad_y = round((in_w - new_w) / 2 - 0.1), round((in_h - new_h) / 2 - 0.1)
    return pad_x, pad_y, new_w / lb.src_w, new_h / lb.src_h


def boxes_to_source(boxes: np.ndarray, lb: Letterbox) -> np.ndarray:
    """xyxy boxes in network-input pixels -> source pixels, clipped to the source image."""
    out = boxes.astype(np.float32, copy=True)
    pad_x, pad_y, scale_x, scale_y = _to_source(lb)
    out[..., [0, 2]] = ((out[..., [0, 2]] - pad_x) / scale_x).clip(0, lb.src_w)
    out[..., [1, 3]] = ((out[..., [1, 3]] - pad_y) / scale_y).clip(0, lb.src_h)
    return out


def points_to_source(points: np.ndarray, lb: Letterbox) -> np.ndarray:
    """(..., 2+) keypoints (x, y[, score]) in network-input pixels -> source pixels, clipped."""
    out = points.astype(np.float32, copy=True)
    pad_x, pad_y, scale_x, scale_y = _to_source(lb)
    out[..., 0] = ((out[..., 0] - pad_x) / scale_x).clip(0, lb.src_w)
    out[..., 1] = ((out[..., 1] - pad_y) / scale_y).clip(0, lb.src_h)
    return out
