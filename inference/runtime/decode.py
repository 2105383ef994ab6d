"""JPEG -> BGR uint8 HxWx3, with libjpeg-turbo (simplejpeg) and OpenCV as fallback.

Runs in the worker thread. Any decoder failure becomes :class:`FrameDecodeError`.
"""

from __future__ import annotations

import numpy as np

from inference.errors import FrameDecodeError

try:  # simplejpeg is ~2x faster than cv2.imdecode on the same libjpeg-turbo
    import simplejpeg
except ImportError:  # pragma: no cover - the main environment has it
    simplejpeg = None


def decode_jpeg(data: bytes) -> np.ndarray:
    """Decode a JPEG to a contiguous BGR uint8 array of shape (H, W, 3)."""
    if not data:
        raise FrameDecodeError("empty frame payload")
    if simplejpeg is not None:
        try:
            return simplejpeg.decode_jpeg(data, colorspace="BGR")  # type: ignore[no-any-return]
        except (ValueError, RuntimeError) as exc:
            raise FrameDecodeError(f"not a decodable JPEG ({len(data)} bytes): {exc}") from None
    import cv2

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise FrameDecodeError(f"not a decodable JPEG ({len(data)} bytes)")
    return image
