"""Backend factory: ``ModelConfig.backend`` -> a loaded :class:`~inference.backends.base.Runner`.

The mapping is explicit and each backend module is imported only when chosen, so a
service running the ONNX backend never imports torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import cast

from courtside.config import ModelConfig
from inference.backends.base import Runner
from inference.errors import BackendUnavailable

#: backend name -> "module:factory" (factory(ModelConfig) -> Runner).
BACKENDS: dict[str, str] = {
    "ultralytics": "inference.backends.yolo.runner:UltralyticsRunner",
    "onnx": "inference.backends.onnxrt.runner:OnnxRunner",
    "opencv": "inference.backends.opencv_hog.runner:HogRunner",
    "mediapipe": "inference.backends.mediapipe_pose.runner:MediaPipePoseRunner",
}


def create_runner(model: ModelConfig) -> Runner:
    """Import the backend for ``model.backend`` and load the model (blocking, may take seconds)."""
    target = BACKENDS.get(model.backend)
    if target is None:
        raise BackendUnavailable(f"model {model.name}: unknown backend {model.backend!r} "
                                 f"(available: {', '.join(sorted(BACKENDS))})")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendUnavailable(f"model {model.name}: backend {model.backend} cannot be imported "
                                 f"({exc}); is its environment installed?") from exc
    factory = cast(Callable[[ModelConfig], Runner], getattr(module, attr))
    return factory(model)
