"""The runner interface every model backend implements: :class:`Runner`.

The consumer runtime calls :meth:`Runner.infer` in its model thread (never on the
event loop) with a list of decoded frames and publishes what comes back. Every
member the runtime uses is declared here, with its default, so the runtime never
probes a runner for what it can do. The smallest complete runner is
:mod:`inference.backends.brightest.runner` (``docs/backends.md`` walks through it).

Coordinates in results are **pixels of the image passed in** (which is the
published frame, decoded, possibly at a reduced scale: see ``input_size``),
origin top-left.

This module imports only numpy and the contract, so it loads in every backend's
own environment (``.venvs/opencv-hog``, ``.venvs/mediapipe``: numpy<2 there).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
from courtside_contracts.annotations import Ball, DetectedObject

if TYPE_CHECKING:
    from nats.aio.client import Client as NATS

Weights = Literal["trained", "untrained"]


@dataclass(frozen=True, slots=True)
class FrameResult:
    """One frame's output when a runner has more than boxes to say (e.g. a ball)."""

    objects: tuple[DetectedObject, ...] = field(default_factory=tuple)
    ball: Ball | None = None


#: What a runner may return for one frame: a plain list of objects or a FrameResult.
RunnerOutput = Sequence[DetectedObject] | FrameResult


@dataclass(frozen=True, slots=True)
class FrameRef:
    """Which published frame an image is, for runners that join other messages to it.

    ``camera`` and ``seq`` identify the frame as the contract does (a top-down pose
    model finds its detector's annotation for the same frame by them); ``ts_ns`` is its
    capture time (nanoseconds since the epoch, the frame header's); ``width`` x
    ``height`` is the published frame's size in pixels, the coordinate space of every
    annotation (the image passed in may be decoded smaller: see ``Runner.input_size``).
    """

    camera: str
    seq: int
    ts_ns: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What a loaded runner is, for logs and operators (never guessed: None when unknown).

    ``backend`` is the registry name, ``model`` what was loaded (``yolo11n``,
    ``blazepose-full``), ``version`` the string every annotation carries as
    ``model_version``, ``weights`` whether learned weights are loaded, ``trained_on``
    the data those weights were trained on when the backend knows it.
    """

    backend: str
    model: str
    version: str
    weights: Weights
    device: str
    trained_on: str | None = None

    def summary(self) -> str:
        """One log-line fragment: ``onnx yolo11n (yolo11n-ab12@onnxruntime-1.32) on cpu, weights trained``."""
        data = f" on {self.trained_on}" if self.trained_on else ""
        return (f"{self.backend} {self.model} ({self.version}) on {self.device}, "
                f"weights {self.weights}{data}")


class Runner(ABC):
    """A loaded model. ``infer`` is blocking and is called from one thread at a time.

    A subclass sets, as class attributes or in ``__init__``:

    - ``name``: the backend's registry name ("ultralytics", "onnx", ...).
    - ``model_name``: what was loaded (``yolo11n``, ``blazepose-full``), for :meth:`describe`.
    - ``version``: copied into every annotation (``model_version``).
    - ``weights``: "trained" only when real learned weights are loaded; a randomly
      initialised model, or an algorithm without learned weights, is "untrained".

    and may override the defaults below. The registry's ``create_runner`` calls
    :meth:`warmup` once after loading (in the loading thread); the consumer calls
    :meth:`infer` per batch and :meth:`reset` before a batch when a camera changed
    hands (both in its model thread); the service calls :meth:`close` once at shutdown.
    """

    name: ClassVar[str]
    model_name: str
    version: str
    weights: Weights
    #: "cpu", "cuda:0", ...
    device: str = "cpu"
    #: True when the runner keeps per-camera state (tracking, background models): the
    #: runtime then passes ``cameras`` to :meth:`infer`, serves each camera from exactly one
    #: replica (:mod:`inference.runtime.camera_ownership`) and calls :meth:`reset` when a
    #: camera changes hands.
    stateful: bool = False
    #: The long side (pixels) the model resizes every image to (``imgsz``), None when it
    #: looks at every pixel. With ``ModelConfig.decode: auto`` the runtime then decodes
    #: frames at the smallest libjpeg scale still covering it and maps results back.
    input_size: int | None = None
    #: The data the weights were trained on, when known ("COCO 2017 train").
    trained_on: str | None = None

    @abstractmethod
    def infer(self, images: list[np.ndarray], cameras: list[str] | None = None) -> Sequence[RunnerOutput]:
        """Run the model on BGR uint8 HxWx3 images; one result per image, same order.

        ``cameras`` names each image's camera; the runtime passes it to stateful
        runners only (stateless ones get None).
        """

    def infer_frames(self, images: list[np.ndarray], frames: list[FrameRef]) -> Sequence[RunnerOutput]:
        """:meth:`infer` with each image's frame identity (``frames[i]`` is ``images[i]``'s).

        Default: :meth:`infer`, with the cameras for stateful runners (as the runtime
        passes them). A runner that joins other messages to a frame (top-down pose:
        the detector's boxes) overrides it; its :meth:`infer` then cannot run alone.
        """
        return self.infer(images, [f.camera for f in frames] if self.stateful else None)

    async def attach(self, nc: NATS) -> None:  # noqa: B027 - a deliberate no-op default
        """Subscribe to what the runner needs besides frames; on the consumer's event loop, before
        frames are subscribed. Default: nothing (a top-down pose model subscribes to its detector)."""

    async def detach(self) -> None:  # noqa: B027 - a deliberate no-op default
        """Undo :meth:`attach` (on the event loop, after the last batch). Must be idempotent."""

    def reset(self, camera: str) -> None:  # noqa: B027 - a deliberate no-op default
        """Forget ``camera``'s state (stateful runners). Default: nothing to forget."""

    def warmup(self) -> None:  # noqa: B027 - a deliberate no-op default
        """Make the first real batch as fast as the next ones; called once after loading.

        Default: nothing. A runner whose first call is slow (kernel selection, lazy
        allocation: PyTorch, ONNX Runtime) overrides it with one blank inference at
        its input size. It is a method rather than part of ``__init__`` so that a
        test can construct a runner without paying for it.
        """

    def close(self) -> None:  # noqa: B027 - a deliberate no-op default
        """Release resources at shutdown (graphs, sessions, threads). Must be idempotent."""

    def describe(self) -> ModelInfo:
        """What is loaded: backend, model, version, weights state, training data, device."""
        return ModelInfo(backend=self.name, model=self.model_name, version=self.version,
                         weights=self.weights, device=self.device, trained_on=self.trained_on)


def as_frame_result(output: RunnerOutput) -> FrameResult:
    """Normalise either accepted return form to a :class:`FrameResult`."""
    if isinstance(output, FrameResult):
        return output
    return FrameResult(objects=tuple(output))
