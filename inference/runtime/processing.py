"""One batch in the worker thread: decode JPEGs, run the runner, pair results with frames.

Blocking; called only from the consumer's worker thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from inference.backends.base import FrameResult, Runner, as_frame_result
from inference.errors import FrameDecodeError, InferenceFailed
from inference.runtime.decode import decode_jpeg


@dataclass(frozen=True, slots=True)
class FrameDone:
    """A frame the model ran on: its result and decoded size (pixels)."""

    result: FrameResult
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """Per-frame results in input order (a decode error in place of undecodable frames).

    ``infer_ms`` is the runner's wall time for the whole batch, decode excluded.
    """

    results: list[FrameDone | FrameDecodeError]
    infer_ms: float


def process_batch(runner: Runner, jpegs: list[bytes], cameras: list[str] | None = None) -> BatchOutcome:
    """Decode ``jpegs`` and run ``runner`` on the decodable ones.

    ``cameras`` (same order as ``jpegs``) is passed on to stateful runners.
    Raises :class:`InferenceFailed` when the runner raises or returns the wrong count.
    """
    images: list[np.ndarray] = []
    kept: list[int] = []
    results: list[FrameDone | FrameDecodeError] = []
    for i, data in enumerate(jpegs):
        try:
            images.append(decode_jpeg(data))
        except FrameDecodeError as exc:
            results.append(exc)
            continue
        kept.append(i)
        results.append(FrameDecodeError("placeholder"))
    if not images:
        return BatchOutcome(results, 0.0)
    start = time.perf_counter()
    try:
        if cameras is not None:
            outputs = runner.infer(images, cameras=[cameras[i] for i in kept])  # type: ignore[call-arg]
        else:
            outputs = runner.infer(images)
    except Exception as exc:  # third-party model errors, translated at this one boundary
        raise InferenceFailed(f"{runner.name} failed on a batch of {len(images)}: "
                              f"{type(exc).__name__}: {exc}") from exc
    infer_ms = (time.perf_counter() - start) * 1e3
    if len(outputs) != len(images):
        raise InferenceFailed(f"{runner.name} returned {len(outputs)} results for {len(images)} images")
    for i, image, output in zip(kept, images, outputs, strict=True):
        results[i] = FrameDone(as_frame_result(output), width=image.shape[1], height=image.shape[0])
    return BatchOutcome(results, infer_ms)
