"""Which weights to load, and whether they are trained.

Policy (the fallback is always "untrained", whatever the options say):

1. ``weights`` ending in ``.yaml``: the architecture, randomly initialised -> untrained.
2. An existing local checkpoint (``.pt``): loaded as is. Its state comes from its
   own metadata: the ``courtside_weights`` key when present (written by
   :func:`mark_checkpoint`), else "trained" when the checkpoint records a training
   run (Ultralytics' trainer stores ``train_args``; official releases keep it),
   else "untrained" - a file written by ``YOLO('x.yaml').save()`` holds random
   weights and is reported as such. ``options.weights_state`` overrides this for
   a checkpoint whose metadata is known to be wrong.
3. A name that is not a local file (``yolo11n.pt``): Ultralytics fetches it when
   online. When that fails: one loud log line, then the architecture yaml of the
   same name (``yolo11n-pose.pt`` -> ``yolo11n-pose.yaml``) -> untrained.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inference.backends.base import Weights
from inference.backends.checkpoints import MARKER, marked_state


def local_weights(weights: str) -> str:
    """``shipped:<name>`` -> the committed file (:mod:`inference.backends.yolo.shipped`), resolved before the
    policy above applies (the file is a checkpoint marked trained); any other value unchanged."""
    from inference.backends.yolo.shipped import resolve

    return resolve(weights)


def fallback_yaml(weights: str) -> str:
    """Architecture yaml for a weights name: ``yolo11n.pt`` -> ``yolo11n.yaml``."""
    return Path(weights).stem + ".yaml"


def is_architecture(weights: str) -> bool:
    return weights.endswith((".yaml", ".yml"))


def checkpoint_state(ckpt: dict[str, Any] | None) -> Weights:
    """Trained/untrained from a loaded Ultralytics checkpoint dict (see module doc)."""
    if not ckpt:
        return "untrained"
    return marked_state(ckpt) or ("trained" if ckpt.get("train_args") else "untrained")


def mark_checkpoint(path: Path, state: Weights) -> None:
    """Record ``state`` inside a checkpoint file (e.g. weights trained outside Ultralytics)."""
    import torch

    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    ckpt[MARKER] = state
    torch.save(ckpt, path)
