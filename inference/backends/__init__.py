"""Backend factory: ``ModelConfig.backend`` -> a loaded :class:`~inference.backends.base.Runner`.

The mapping is explicit and each backend module is imported only when chosen, so a
service running the ONNX backend never imports torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
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

#: Backends whose dependencies conflict with the main environment: backend -> its environment
#: under ``.venvs/`` (built by ``inference/backends/<module>/setup_env.sh``). ``courtside up``
#: starts their consumers with that environment's interpreter, as their own images do.
ENVIRONMENTS: dict[str, tuple[str, str]] = {
    "opencv": ("opencv-hog", "inference/backends/opencv_hog/setup_env.sh"),
    "mediapipe": ("mediapipe", "inference/backends/mediapipe_pose/setup_env.sh"),
}
REPO_ROOT = Path(__file__).resolve().parents[2]


def backend_python(backend: str, root: Path = REPO_ROOT) -> Path | None:
    """The interpreter of ``backend``'s own environment, None when it runs in the main one.

    Raises :class:`BackendUnavailable` naming the set-up script when the environment is missing.
    """
    env = ENVIRONMENTS.get(backend)
    if env is None:
        return None
    name, setup = env
    python = root / ".venvs" / name / "bin" / "python"
    if not python.exists():
        raise BackendUnavailable(f"backend {backend} runs in its own environment .venvs/{name}, which is "
                                 f"not built: run {setup} (make up builds it)")
    return python


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
