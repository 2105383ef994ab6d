"""JPEG -> BGR uint8 HxWx3, with libjpeg-turbo (simplejpeg) and OpenCV as fallback.

Runs in the worker thread. Any decoder failure becomes :class:`FrameDecodeError`.

Reduced decoding: a model that letterboxes to ``imgsz`` throws most of a large
frame's pixels away. libjpeg can decode straight to M/8 of the size (it skips
the high-frequency IDCT work), so :func:`decode_jpeg` with ``min_long_side``
returns the smallest such scale whose long side still covers the model input:
a 1280x720 frame for ``imgsz=640`` decodes to 640x360, about 3x cheaper, and the
model's own resize then has nothing left to do. Only scales up to 1/2 are used:
libjpeg's scaled IDCTs above it (5/8, 6/8, 7/8) cost as much CPU as a full decode
or more (thread CPU per frame, 2026-12-02: 640x360 at 7/8 1.25 ms vs 0.77 ms in full,
1280x720 at 6/8 3.35 ms vs 2.94 ms; see docs/benchmarks.md), so when only such a
scale covers the input the frame is decoded in full (a 640x360 frame for a 512-px
model: the pixels the model was trained from, resized by the model as in training).
Results are mapped back to the published frame's pixels by :mod:`inference.runtime.rescale`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.errors import FrameDecodeError

try:  # simplejpeg is ~2x faster than cv2.imdecode on the same libjpeg-turbo
    import simplejpeg
except ImportError:  # pragma: no cover - the main environment has it
    simplejpeg = None


@dataclass(frozen=True, slots=True)
class DecodedFrame:
    """A decoded image and the size of the JPEG it came from (pixels).

    ``width``/``height`` are the published frame's size; the image may be smaller
    (reduced decoding), never larger.
    """

    image: np.ndarray
    width: int
    height: int

    @property
    def reduced(self) -> bool:
        return bool(self.image.shape[1] != self.width or self.image.shape[0] != self.height)


def reduced_size_request(width: int, height: int, min_long_side: int | None) -> dict[str, int]:
    """simplejpeg arguments that make libjpeg pick the smallest M/8 scale whose long side is
    at least ``min_long_side`` (none when no reduction is possible or asked for, or when only a
    scale above 1/2 would cover it: those cost as much as a full decode, see the module doc)."""
    long_side = max(width, height)
    if not min_long_side or long_side <= min_long_side or (long_side + 1) // 2 < min_long_side:
        return {}
    return {"min_width": min_long_side} if width >= height else {"min_height": min_long_side}


def decode_jpeg(data: bytes) -> np.ndarray:
    """Decode a JPEG to a contiguous BGR uint8 array of shape (H, W, 3), full size."""
    return decode_frame(data).image


def decode_frame(data: bytes, min_long_side: int | None = None) -> DecodedFrame:
    """Decode a JPEG to BGR; with ``min_long_side``, at the smallest DCT scale covering it."""
    if not data:
        raise FrameDecodeError("empty frame payload")
    if simplejpeg is not None:
        try:
            height, width, _, _ = simplejpeg.decode_jpeg_header(data)
            image = simplejpeg.decode_jpeg(data, colorspace="BGR",
                                           **reduced_size_request(width, height, min_long_side))
        except (ValueError, RuntimeError) as exc:
            raise FrameDecodeError(f"not a decodable JPEG ({len(data)} bytes): {exc}") from None
        return DecodedFrame(image, width, height)
    import cv2

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise FrameDecodeError(f"not a decodable JPEG ({len(data)} bytes)")
    return DecodedFrame(image, image.shape[1], image.shape[0])
