"""The two blocking stages of a batch: JPEG decode, then the model.

Each runs in its own named worker thread (decode of batch N+1 overlaps the model
run of batch N); nothing here touches the event loop. Results leave in pixels of
the published frame, whatever scale the frame was decoded at.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from inference.backends.base import FrameRef, FrameResult, Runner, as_frame_result
from inference.errors import FrameDecodeError, InferenceFailed
from inference.runtime.decode import DecodedFrame, decode_frame
from inference.runtime.rescale import rescale_result


@dataclass(frozen=True, slots=True)
class Decoded:
    """Decoded frames of a batch; ``errors[i]`` is set for frames that did not decode.

    ``frames`` holds the decodable frames only, in input order; ``decode_ns`` is the
    stage's wall time.
    """

    frames: list[DecodedFrame]
    errors: list[FrameDecodeError | None]
    decode_ns: int

    @property
    def images(self) -> list[np.ndarray]:
        return [f.image for f in self.frames]


@dataclass(frozen=True, slots=True)
class FrameDone:
    """A frame the model ran on: its result, in pixels of the published ``width`` x ``height``."""

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


def decode_batch(jpegs: list[bytes], min_long_side: int | None = None) -> Decoded:
    """Decode every JPEG (reduced to ``min_long_side`` where possible); failures are recorded, never raised."""
    start = time.perf_counter_ns()
    frames: list[DecodedFrame] = []
    errors: list[FrameDecodeError | None] = []
    for data in jpegs:
        try:
            frames.append(decode_frame(data, min_long_side))
            errors.append(None)
        except FrameDecodeError as exc:
            errors.append(exc)
    return Decoded(frames, errors, time.perf_counter_ns() - start)


def infer_batch(runner: Runner, decoded: Decoded, frames: list[FrameRef]) -> BatchOutcome:
    """Run ``runner`` on the decoded images and pair results with the input frames.

    ``frames`` (one per input frame) says which published frame each is; the runner gets
    those of the decodable ones through :meth:`Runner.infer_frames` (which hands stateful
    runners their cameras). Raises :class:`InferenceFailed` when the runner raises or
    returns the wrong count.
    """
    kept = [i for i, err in enumerate(decoded.errors) if err is None]
    results: list[FrameDone | FrameDecodeError] = [
        err if err is not None else _PENDING for err in decoded.errors]
    if not kept:
        return BatchOutcome(results, 0.0)
    images = decoded.images
    start = time.perf_counter()
    try:
        outputs = runner.infer_frames(images, [frames[i] for i in kept])
    except Exception as exc:  # third-party model errors, translated at this one boundary
        raise InferenceFailed(f"{runner.name} failed on a batch of {len(images)}: "
                              f"{type(exc).__name__}: {exc}") from exc
    infer_ms = (time.perf_counter() - start) * 1e3
    if len(outputs) != len(images):
        raise InferenceFailed(f"{runner.name} returned {len(outputs)} results for {len(images)} images")
    for i, frame, output in zip(kept, decoded.frames, outputs, strict=True):
        h, w = frame.image.shape[:2]
        result = rescale_result(as_frame_result(output), w, h, frame.width, frame.height)
        results[i] = FrameDone(result, width=frame.width, height=frame.height)
    return BatchOutcome(results, infer_ms)
