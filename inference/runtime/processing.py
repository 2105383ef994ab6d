"""The two blocking stages of a batch: JPEG decode, then the model.

Each runs in its own named worker thread (decode of batch N+1 overlaps the model
run of batch N); nothing here touches the event loop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from inference.backends.base import FrameResult, Runner, as_frame_result
from inference.errors import FrameDecodeError, InferenceFailed
from inference.runtime.decode import decode_jpeg


@dataclass(frozen=True, slots=True)
class Decoded:
    """Decoded images of a batch; ``errors[i]`` is set for frames that did not decode.

    ``images`` holds the decodable frames only, in input order; ``decode_ns`` is the
    stage's wall time.
    """

    images: list[np.ndarray]
    errors: list[FrameDecodeError | None]
    decode_ns: int


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


#: Placeholder for a decodable frame until its result is known (never published).
_PENDING = FrameDecodeError("result pending")


def decode_batch(jpegs: list[bytes]) -> Decoded:
    """Decode every JPEG; failures are recorded, never raised."""
    start = time.perf_counter_ns()
    images: list[np.ndarray] = []
    errors: list[FrameDecodeError | None] = []
    for data in jpegs:
        try:
            images.append(decode_jpeg(data))
            errors.append(None)
        except FrameDecodeError as exc:
            errors.append(exc)
    return Decoded(images, errors, time.perf_counter_ns() - start)


def infer_batch(runner: Runner, decoded: Decoded, cameras: list[str] | None = None) -> BatchOutcome:
    """Run ``runner`` on the decoded images and pair results with the input frames.

    ``cameras`` (one per input frame) is passed on to stateful runners. Raises
    :class:`InferenceFailed` when the runner raises or returns the wrong count.
    """
    kept = [i for i, err in enumerate(decoded.errors) if err is None]
    results: list[FrameDone | FrameDecodeError] = [
        err if err is not None else _PENDING for err in decoded.errors]
    if not kept:
        return BatchOutcome(results, 0.0)
    images = decoded.images
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


def process_batch(runner: Runner, jpegs: list[bytes], cameras: list[str] | None = None) -> BatchOutcome:
    """Both stages in the calling thread (tests and simple callers)."""
    return infer_batch(runner, decode_batch(jpegs), cameras)
