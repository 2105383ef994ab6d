"""Which MMPose weights are loaded, and whether they are trained (no torch import here).

Policy (the fallback is always "untrained", whatever the options say):

1. ``options.checkpoint_path``: must exist (else a :class:`ModelLoadError` naming the
   backend and the file); its ``state_dict`` is loaded strictly into the architecture
   ``models[].weights`` names. Its state: the ``courtside_weights`` key when present
   (:data:`inference.backends.checkpoints.MARKER`), else "trained" when its ``meta`` records a training run
   (mmengine's Runner saves ``epoch`` and ``iter``; OpenMMLab's published checkpoints
   keep that ``meta``), else "untrained" (a bare ``{"state_dict": ...}`` saved from a
   freshly built model holds random weights); ``options.weights_state`` overrides it.
2. No checkpoint: the architecture with random weights (there is no download), version
   ``<name>-untrained@mmpose-<v>``, as the Ultralytics and YOLO-NAS backends label
   their fallback.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from inference.backends import checkpoints
from inference.backends.base import Weights
from inference.backends.checkpoints import MARKER as MARKER


def checkpoint_state(ckpt: Mapping[str, Any]) -> Weights:
    """Trained/untrained from a loaded mmengine checkpoint dict (see the module doc)."""
    meta = ckpt.get("meta")
    trained = isinstance(meta, Mapping) and bool(meta.get("epoch") or meta.get("iter"))
    return checkpoints.marked_state(ckpt) or ("trained" if trained else "untrained")


def state_dict_of(ckpt: Any, file: Path, model: str) -> dict[str, Any]:
    """The weights inside a loaded checkpoint (``state_dict`` or a bare dict; ``module.`` prefixes removed)."""
    from inference.errors import ModelLoadError

    weights = ckpt.get("state_dict", ckpt) if isinstance(ckpt, Mapping) else None
    if not isinstance(weights, Mapping) or not weights:
        raise ModelLoadError(f"model {model}: mmpose checkpoint {file} holds no state_dict "
                             "(expected an mmengine checkpoint: {'state_dict': ..., 'meta': ...})")
    return {k.removeprefix("module."): v for k, v in weights.items()}


def checkpoint_file(path: str, model: str) -> Path:
    """The checkpoint's path, or a ModelLoadError naming the backend, model and file."""
    return checkpoints.checkpoint_file(path, model, "mmpose",
                                       "an mmpose .pth; omit checkpoint_path to run the untrained architecture")
