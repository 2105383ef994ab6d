"""The runner interface every model backend implements.

The consumer runtime calls :meth:`Runner.infer` in its worker thread (never on the
event loop) with a list of decoded frames and publishes what comes back. A
benchmark or a test can implement a runner in a few lines::

    class NullRunner:
        name = "null"; version = "0"; weights = "untrained"; device = "cpu"
        def infer(self, images):
            return [[] for _ in images]

Coordinates in results are **pixels of the image passed in** (which is the
published frame, decoded), origin top-left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from contracts.annotations import Ball, DetectedObject

Weights = Literal["trained", "untrained"]


@dataclass(frozen=True, slots=True)
class FrameResult:
    """One frame's output when a runner has more than boxes to say (e.g. a ball)."""

    objects: tuple[DetectedObject, ...] = field(default_factory=tuple)
    ball: Ball | None = None


#: What a runner may return for one frame: a plain list of objects or a FrameResult.
RunnerOutput = Sequence[DetectedObject] | FrameResult


@runtime_checkable
class Runner(Protocol):
    """A loaded model. ``infer`` is blocking and is called from one thread at a time.

    Attributes:
        name: backend name ("ultralytics", "onnx", ...), for logs and heartbeats.
        version: model version string copied into every annotation (``model_version``).
        weights: "trained" only when real learned weights are loaded; a randomly
            initialised fallback is always "untrained".
        device: "cpu", "cuda:0", ...

    Optional members the runtime honours when present:
        ``stateful: bool`` - True for runners that keep per-camera state (tracking);
        their ``infer`` is then called as ``infer(images, cameras=[...])`` with the
        camera id of each image, and the runtime assigns each camera to exactly one
        replica (see :mod:`inference.runtime.ownership`).
        ``reset(camera: str) -> None`` - forget a camera's state; stateful runners get it,
        in the model thread, whenever the camera changes hands between replicas.
        ``close() -> None`` - release resources at shutdown.
        ``input_size: int`` - the long side the model resizes every image to (``imgsz``):
        the runtime may then decode frames at a reduced scale that still covers it
        (``ModelConfig.decode``) and maps results back to the published frame.
    """

    name: str
    version: str
    weights: Weights
    device: str

    def infer(self, images: list[np.ndarray]) -> Sequence[RunnerOutput]:
        """Run the model on BGR uint8 HxWx3 images; one result per image, same order."""
        ...


def as_frame_result(output: RunnerOutput) -> FrameResult:
    """Normalise either accepted return form to a :class:`FrameResult`."""
    if isinstance(output, FrameResult):
        return output
    return FrameResult(objects=tuple(output))
