"""BlazePose's 33 landmarks -> one COCO-17 ``person`` (pure: numpy and the contract only).

MediaPipe gives landmarks **normalised** to the input image (x / width, y / height;
they may lie outside [0, 1] when a body part is out of the picture) with a
``visibility`` in [0, 1] (present in the image and not occluded). The contract wants
**pixels** of the published frame and the COCO-17 order the overlay draws
(``web/js/render.js`` ``COCO_EDGES``; it hides points scored under 0.3).

Invariants of what :func:`person_from_landmarks` returns:

- 17 keypoints ``(x, y, score)`` in COCO order, x in [0, width], y in [0, height];
  score = the landmark's visibility, or 0 when the landmark lies outside the image
  (its position is then clamped to the border, and the overlay does not draw it);
- ``box`` = the bounding box of the landmarks (all 33, hands and feet included) whose
  visibility is at least ``min_visibility``, clipped to the image;
- ``score`` = the mean keypoint score over the COCO keypoints inside the image: how much
  of the person in view the model can see. (The legacy API does not expose its own pose
  presence probability; it only withholds poses under ``min_tracking_confidence``.)
"""

from __future__ import annotations

import numpy as np
from courtside_contracts.annotations import DetectedObject

PERSON_LABEL = "person"
PERSON_CLASS_ID = 0  # COCO's person

#: COCO-17 keypoint names, in the contract's order.
COCO_KEYPOINTS: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)

#: For each COCO keypoint, the index of the same point among BlazePose's 33 landmarks
#: (0 nose, 2 left eye, 5 right eye, 7/8 ears, 11-16 arms, 23-28 legs; BlazePose's inner
#: and outer eye corners, mouth, hands, heels and toes have no COCO counterpart).
BLAZEPOSE_TO_COCO: tuple[int, ...] = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)

BLAZEPOSE_LANDMARKS = 33


def person_from_landmarks(landmarks: np.ndarray, width: int, height: int,
                          min_visibility: float = 0.5) -> DetectedObject | None:
    """Convert one pose to a ``person`` object in pixels; None if no landmark is visible.

    ``landmarks``: float array of shape (33, 3), rows ``(x, y, visibility)`` with x and y
    normalised to the image (see the module docstring for what comes back).
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (BLAZEPOSE_LANDMARKS, 3):
        raise ValueError(f"expected ({BLAZEPOSE_LANDMARKS}, 3) landmarks, got {lm.shape}")
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    xs, ys, vis = lm[:, 0] * width, lm[:, 1] * height, np.clip(lm[:, 2], 0.0, 1.0)
    inside = (xs >= 0) & (xs <= width) & (ys >= 0) & (ys <= height)

    visible = vis >= min_visibility
    if not visible.any():
        return None
    bx = np.clip(xs[visible], 0, width)
    by = np.clip(ys[visible], 0, height)
    box = (float(bx.min()), float(by.min()), float(bx.max()), float(by.max()))

    idx = np.asarray(BLAZEPOSE_TO_COCO)
    kx, ky = np.clip(xs[idx], 0, width), np.clip(ys[idx], 0, height)
    ks = np.where(inside[idx], vis[idx], 0.0)
    keypoints = tuple((float(x), float(y), float(s)) for x, y, s in zip(kx, ky, ks, strict=True))
    in_view = inside[idx]
    score = float(ks[in_view].mean()) if in_view.any() else 0.0
    return DetectedObject(PERSON_LABEL, PERSON_CLASS_ID, score, box, keypoints=keypoints)
