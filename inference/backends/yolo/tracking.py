"""Per-camera multi-object trackers fed by batched detections.

Ultralytics' own ``model.track(list)`` uses a single tracker for every image of a
non-stream batch, which would mix cameras. Here each camera gets its own tracker
(ByteTrack by default) and detections are batched across cameras: the model runs
once per batch, trackers update per camera, in frame order. This mirrors
``ultralytics.trackers.track.on_predict_postprocess_end``.
"""

from __future__ import annotations

from typing import Any

import torch
from ultralytics.trackers.track import TRACKER_MAP
from ultralytics.utils import YAML, IterableSimpleNamespace
from ultralytics.utils.checks import check_yaml


class TrackerBank:
    """One tracker per camera id, created on first use."""

    def __init__(self, tracker: str = "bytetrack.yaml") -> None:
        cfg = IterableSimpleNamespace(**YAML.load(check_yaml(tracker)))  # type: ignore[no-untyped-call]
        if cfg.tracker_type not in ("bytetrack", "botsort") or getattr(cfg, "with_reid", False):
            raise ValueError(f"tracker {tracker!r}: only bytetrack and botsort without ReID are supported")
        self._cfg = cfg
        self._cls = TRACKER_MAP[cfg.tracker_type]
        self._trackers: dict[str, Any] = {}

    def update(self, camera: str, result: Any) -> Any:
        """Return ``result`` restricted to confirmed tracks, boxes carrying track ids."""
        tracker: Any = self._trackers.get(camera)
        if tracker is None:
            tracker = self._trackers[camera] = self._cls(args=self._cfg)
        det = result.boxes.cpu().numpy()
        tracks = tracker.update(det, result.orig_img)
        if len(tracks) == 0:
            return result[:0]
        tracked = result[tracks[:, -1].astype(int)]
        tracked.update(boxes=torch.as_tensor(tracks[:, :-1], device=result.boxes.data.device))
        return tracked

    def reset(self, camera: str) -> None:
        """Forget a camera's tracks (it moved to another replica and may come back)."""
        self._trackers.pop(camera, None)

    def cameras(self) -> list[str]:
        return sorted(self._trackers)
