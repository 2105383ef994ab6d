"""Which YOLO-NAS weights are loaded, and whether they are trained (no torch import here).

Policy (the fallback is always "untrained", whatever the options say):

1. ``options.checkpoint_path``: must exist (else a :class:`ModelLoadError` naming the
   backend and the file); loaded into the architecture named by ``models[].weights``.
   Its state: the ``courtside_weights`` key when present
   (:data:`inference.backends.checkpoints.MARKER`), else
   "trained" when the checkpoint records a training run (super-gradients' Trainer
   stores ``epoch`` and ``acc``), else "untrained" (a bare ``{"net": state_dict}``
   saved from a freshly built model holds random weights).
2. No checkpoint and ``pretrained``: the library's COCO download (``coco`` /
   ``coco_pose``). Offline it fails: one loud log line, then rule 3.
3. The architecture, randomly initialised: weights "untrained", version
   ``<architecture>-untrained@super-gradients-<v>`` (as the Ultralytics backend labels
   its fallback).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from inference.backends import checkpoints
from inference.backends.base import Weights
from inference.backends.checkpoints import MARKER as MARKER


def checkpoint_state(ckpt: Mapping[str, Any]) -> Weights:
    """Trained/untrained from a loaded super-gradients checkpoint dict (see module doc)."""
    trained = "epoch" in ckpt and "acc" in ckpt
    return checkpoints.marked_state(ckpt) or ("trained" if trained else "untrained")


def checkpoint_file(path: str, model: str) -> Path:
    """The checkpoint's path, or a ModelLoadError naming the backend, model and file."""
    return checkpoints.checkpoint_file(path, model, "yolonas", "a super-gradients .pth; omit checkpoint_path "
                                       "to use the pretrained download")
