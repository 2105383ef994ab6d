"""Ultralytics ``Results`` -> contract objects (boxes in pixels of the input image)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from courtside_contracts.annotations import DetectedObject


def label_for(names: Mapping[int, str], class_id: int) -> str:
    """The class name, limited to the contract's 1-64 characters."""
    name = str(names.get(class_id, "")) if names else ""
    return (name or f"class-{class_id}")[:64]


def objects_from_arrays(names: Mapping[int, str], xyxy: np.ndarray, conf: np.ndarray, cls: np.ndarray,
                        ids: np.ndarray | None = None,
                        keypoints: np.ndarray | None = None) -> list[DetectedObject]:
    """Build objects from (N,4) boxes, (N,) scores and classes, optional (N,) track ids
    and (N,K,2|3) keypoints (x, y[, score]); all coordinates pixels."""
    out: list[DetectedObject] = []
    for i in range(len(conf)):
        kps = None
        if keypoints is not None:
            pts = keypoints[i]
            kps = tuple((float(p[0]), float(p[1]), float(p[2]) if len(p) > 2 else 1.0) for p in pts)
        x1, y1, x2, y2 = (float(v) for v in xyxy[i])
        out.append(DetectedObject(
            label=label_for(names, int(cls[i])), class_id=int(cls[i]), score=float(conf[i]),
            box=(x1, y1, max(x1, x2), max(y1, y2)),
            track_id=None if ids is None else int(ids[i]), keypoints=kps))
    return out


def objects_from_result(result: Any) -> list[DetectedObject]:
    """Convert one Ultralytics ``Results`` (detect, pose or tracked)."""
    boxes = result.boxes
    if boxes is None or len(boxes) == 0:
        return []
    ids = boxes.id.cpu().numpy() if boxes.is_track and boxes.id is not None else None
    kps = result.keypoints.data.cpu().numpy() if result.keypoints is not None else None
    return objects_from_arrays(result.names, boxes.xyxy.cpu().numpy(), boxes.conf.cpu().numpy(),
                               boxes.cls.cpu().numpy(), ids, kps)
