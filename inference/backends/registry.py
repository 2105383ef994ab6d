"""Every model backend, in one table: ``ModelConfig.backend`` -> runner, options, environment.

Adding a backend is one package under ``inference/backends/`` plus one line in
:data:`BACKENDS` (``docs/backends.md``). The runner module is imported only when its
backend is chosen (a service running ``onnx`` never imports torch); the options
models are light (pydantic only), so any environment validates any model's options
at configuration load without importing a heavy backend.

Layering: this module belongs to the services layer (``inference``); the composition
root (``courtside`` CLI and supervisor) calls :func:`validate_config` right after
loading the configuration, so ``courtside check-config`` refuses bad options too.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple, cast

from courtside.config import ConfigError, CourtsideConfig, ModelConfig
from inference.backends.ball.options import BallOptions
from inference.backends.brightest.options import BrightestOptions
from inference.backends.mediapipe_pose.options import MediaPipeOptions
from inference.backends.mmpose.options import MMPoseOnnxOptions, MMPoseOptions
from inference.backends.onnxrt.options import OnnxOptions
from inference.backends.opencv_hog.options import HogOptions
from inference.backends.options import BackendOptions, option_problems, parse_options
from inference.backends.yolo.options import UltralyticsOptions
from inference.backends.yolonas.options import YoloNasOptions
from inference.errors import BackendUnavailable, ModelLoadError

if TYPE_CHECKING:
    from inference.backends.base import Runner

REPO_ROOT = Path(__file__).resolve().parents[2]


class Environment(NamedTuple):
    """A backend's own environment, for dependencies that conflict with the main one.

    ``courtside up`` starts its consumers with ``.venvs/<venv>/bin/python``, as their
    own images do; ``setup`` (relative to the repo root) builds it.
    """

    venv: str
    setup: str


@dataclass(frozen=True, slots=True)
class Backend:
    """One registry entry: ``runner`` is ``"module:Class"``, a :class:`Runner` subclass
    constructed as ``Class(model_config)``; ``options`` validates ``models[].options``;
    ``environment`` is None when the backend runs in the main environment."""

    runner: str
    options: type[BackendOptions]
    environment: Environment | None = None


BACKENDS: dict[str, Backend] = {
    "ultralytics": Backend("inference.backends.yolo.runner:UltralyticsRunner", UltralyticsOptions),
    "onnx": Backend("inference.backends.onnxrt.runner:OnnxRunner", OnnxOptions),
    "opencv": Backend("inference.backends.opencv_hog.runner:HogRunner", HogOptions,
                      Environment("opencv-hog", "inference/backends/opencv_hog/setup_env.sh")),
    "mediapipe": Backend("inference.backends.mediapipe_pose.runner:MediaPipePoseRunner", MediaPipeOptions,
                         Environment("mediapipe", "inference/backends/mediapipe_pose/setup_env.sh")),
    "brightest": Backend("inference.backends.brightest.runner:BrightestRunner", BrightestOptions),
    "ball": Backend("inference.backends.ball.runner:BallRunner", BallOptions),
    "yolonas": Backend("inference.backends.yolonas.runner:YoloNasRunner", YoloNasOptions,
                       Environment("yolonas", "inference/backends/yolonas/setup_env.sh")),
    "mmpose": Backend("inference.backends.mmpose.runner:MMPoseRunner", MMPoseOptions,
                      Environment("mmpose", "inference/backends/mmpose/setup_env.sh")),
    "mmpose-onnx": Backend("inference.backends.mmpose.onnx_runner:MMPoseOnnxRunner", MMPoseOnnxOptions),
}

#: backend -> its own environment, for backends that have one (a read-only view of :data:`BACKENDS`).
ENVIRONMENTS = MappingProxyType({name: b.environment for name, b in BACKENDS.items() if b.environment})


def backend(name: str) -> Backend:
    """The registry entry of ``name``; :class:`BackendUnavailable` listing the known ones."""
    entry = BACKENDS.get(name)
    if entry is None:
        raise BackendUnavailable(f"unknown backend {name!r} (available: {', '.join(sorted(BACKENDS))})")
    return entry


def backend_python(name: str, root: Path = REPO_ROOT) -> Path | None:
    """The interpreter of backend ``name``'s own environment, None when it runs in the main one.

    Raises :class:`BackendUnavailable` naming the set-up script when the environment is missing.
    """
    env = backend(name).environment
    if env is None:
        return None
    python = root / ".venvs" / env.venv / "bin" / "python"
    if not python.exists():
        raise BackendUnavailable(f"backend {name} runs in its own environment .venvs/{env.venv}, which is "
                                 f"not built: run {env.setup} (make up builds it)")
    return python


def model_problems(model: ModelConfig, index: int) -> list[str]:
    """``models.<index>.<field>: reason (backend <b>)`` lines for ``model`` ([] when valid)."""
    entry = BACKENDS.get(model.backend)
    if entry is None:
        return [f"models.{index}.backend: unknown backend {model.backend!r} "
                f"(available: {', '.join(sorted(BACKENDS))})"]
    return [f"models.{index}.options.{where}: {reason} (backend {model.backend})"
            for where, reason in option_problems(entry.options, model.options)]


def validate_options(model: ModelConfig, source: str, index: int = 0) -> BackendOptions:
    """``model.options`` parsed by its backend's options model.

    Raises :class:`ConfigError` naming the file ``source``, the field
    (``models.<index>.options.<key>``) and the backend; an unknown backend is refused too.
    """
    problems = model_problems(model, index)
    if problems:
        raise ConfigError(f"invalid configuration in {source}:\n" + "\n".join(f"  {p}" for p in problems))
    return BACKENDS[model.backend].options.model_validate(dict(model.options))


def validate_config(config: CourtsideConfig, source: str) -> None:
    """Check every model's backend and options (all problems in one :class:`ConfigError`)."""
    problems = [p for i, m in enumerate(config.models) for p in model_problems(m, i)]
    if problems:
        raise ConfigError(f"invalid configuration in {source}:\n" + "\n".join(f"  {p}" for p in problems))


def create_runner(model: ModelConfig) -> Runner:
    """Import ``model.backend``'s runner, load the model and warm it up (blocking, may take seconds).

    Raises :class:`BackendUnavailable` (unknown backend, packages missing) or
    :class:`ModelLoadError` (bad options, the model cannot be built).
    """
    from inference.backends.base import Runner

    try:
        entry = backend(model.backend)
    except BackendUnavailable as exc:
        raise BackendUnavailable(f"model {model.name}: {exc}") from None
    parse_options(entry.options, model)  # refuse bad options before importing anything heavy
    module_name, _, attr = entry.runner.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendUnavailable(f"model {model.name}: backend {model.backend} cannot be imported "
                                 f"({exc}); is its environment installed?") from exc
    runner_type = getattr(module, attr, None)
    if not (isinstance(runner_type, type) and issubclass(runner_type, Runner)):
        raise ModelLoadError(f"model {model.name}: {entry.runner} is not a Runner subclass")
    runner = cast("Callable[[ModelConfig], Runner]", runner_type)(model)  # the registry's constructor contract
    runner.warmup()
    return runner
