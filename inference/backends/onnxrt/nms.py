"""YOLO output decoding and non-maximum suppression in numpy (Ultralytics semantics).

Pure. Input is one image's raw head output, shape (4 + nc + extra, N): box centre
x, y, width, height in network-input pixels, ``nc`` class scores (already
sigmoid), then ``extra`` values per anchor (pose: K x 3 keypoints).
"""

from __future__ import annotations

import numpy as np

MAX_WH = 7680  # class offset for class-aware NMS, as Ultralytics
MAX_NMS = 30000  # candidates kept (by score) before NMS


def xywh_to_xyxy(xywh: np.ndarray) -> np.ndarray:
    out = np.empty_like(xywh)
    half_w, half_h = xywh[..., 2] / 2, xywh[..., 3] / 2
    out[..., 0] = xywh[..., 0] - half_w
    out[..., 1] = xywh[..., 1] - half_h
    out[..., 2] = xywh[..., 0] + half_w
    out[..., 3] = xywh[..., 1] + half_h
    return out


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy NMS: indices of kept boxes, highest score first.

    A box is suppressed when its IoU with a kept, higher-scoring box is strictly
    greater than ``iou_threshold`` (torchvision's rule).
    """
    order = np.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = (boxes[:, i] for i in range(4))
    areas = (x2 - x1) * (y2 - y1)
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        h = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = w * h
        iou = inter / (areas[i] + areas[rest] - inter)
        order = rest[~(iou > iou_threshold)]
    return np.array(keep, dtype=np.int64)


def decode_predictions(pred: np.ndarray, nc: int, conf: float, iou: float,
                       classes: list[int] | None = None, max_det: int = 300) -> np.ndarray:
    """One image's (4 + nc + extra, N) output -> (M, 6 + extra) rows
    ``x1, y1, x2, y2, score, class, extra...`` after best-class selection, the
    ``score > conf`` filter, the class filter and class-aware NMS; input pixels."""
    x = pred.T
    scores_all = x[:, 4:4 + nc]
    cls = scores_all.argmax(1)
    score = scores_all[np.arange(len(x)), cls]
    keep = score > conf
    if classes is not None:
        keep &= np.isin(cls, classes)
    x, cls, score = x[keep], cls[keep], score[keep]
    if len(x) == 0:
        return np.zeros((0, 6 + pred.shape[0] - 4 - nc), np.float32)
    if len(x) > MAX_NMS:
        top = np.argsort(-score, kind="stable")[:MAX_NMS]
        x, cls, score = x[top], cls[top], score[top]
    boxes = xywh_to_xyxy(x[:, :4])
    kept = nms(boxes + cls[:, None].astype(np.float32) * MAX_WH, score, iou)[:max_det]
    return np.concatenate([boxes[kept], score[kept, None], cls[kept, None].astype(np.float32),
                           x[kept, 4 + nc:]], axis=1).astype(np.float32)
