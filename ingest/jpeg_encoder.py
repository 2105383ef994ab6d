"""Decoded frame -> resized 4:2:0 JPEG, straight from PyAV's YUV planes.

Encoding from the planes skips the BGR conversion (FACTS: 1.5 ms vs 1.6 ms at
720p plus ~1 ms of conversion saved); resizing the three planes with OpenCV is
about twice as fast as swscale for 1080p -> 720p.
"""

from __future__ import annotations

from dataclasses import dataclass

import av
import cv2
import numpy as np
import simplejpeg

from ingest.geometry import target_size

_PLANAR_420 = frozenset({"yuv420p", "yuvj420p"})


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    """One frame ready to publish. ``ts_ns``: wall-clock capture time (Unix ns);
    ``pts``: source time in seconds (None when unknown); ``width``/``height``: JPEG pixels."""

    jpeg: bytes
    width: int
    height: int
    ts_ns: int
    pts: float | None


def yuv420_planes(frame: av.VideoFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zero-copy (Y, U, V) views of a frame, converted to yuv420p first when needed."""
    if frame.format.name not in _PLANAR_420:
        frame = frame.reformat(format="yuv420p")
    planes = []
    for index, plane in enumerate(frame.planes):
        rows = frame.height if index == 0 else (frame.height + 1) // 2
        cols = frame.width if index == 0 else (frame.width + 1) // 2
        buf = np.frombuffer(memoryview(plane), np.uint8).reshape(rows, plane.line_size)
        planes.append(buf[:, :cols])
    return planes[0], planes[1], planes[2]


class JpegEncoder:
    """Resizes so the long side is <= ``max_side`` pixels and encodes at ``quality`` (1-100)."""

    def __init__(self, max_side: int, quality: int) -> None:
        self.max_side = max_side
        self.quality = quality

    def encode(self, frame: av.VideoFrame, ts_ns: int, pts: float | None) -> EncodedFrame:
        y, u, v = yuv420_planes(frame)
        width, height = target_size(frame.width, frame.height, self.max_side)
        if (width, height) != (frame.width, frame.height):
            cw, ch = width // 2, height // 2
            y = cv2.resize(y, (width, height), interpolation=cv2.INTER_LINEAR)
            u = cv2.resize(u, (cw, ch), interpolation=cv2.INTER_LINEAR)
            v = cv2.resize(v, (cw, ch), interpolation=cv2.INTER_LINEAR)
        jpeg = simplejpeg.encode_jpeg_yuv_planes(y, u, v, quality=self.quality, fastdct=True)
        return EncodedFrame(jpeg=jpeg, width=width, height=height, ts_ns=ts_ns, pts=pts)
