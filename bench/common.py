"""Helpers shared by the benchmarks: percentiles, generated clips, the RESULT line."""

from __future__ import annotations

import statistics
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

OUTPUT = Path(__file__).resolve().parents[1] / "bench-output"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile, ``q`` in [0, 100]; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def court_clip(width: int = 1280, height: int = 720, fps: int = 30, seconds: int = 10) -> Path:
    """A cached H.264 clip with motion and texture (JPEG sizes like a real court camera)."""
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"clip-{width}x{height}-{fps}-{seconds}s.mp4"
    if path.exists():
        return path
    rng = np.random.default_rng(7)
    texture = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
    ys, xs = np.mgrid[0:height, 0:width]
    tmp = path.with_suffix(".tmp.mp4")
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"slices": "1", "g": str(fps), "bf": "0", "preset": "veryfast", "crf": "23"}
        stream.codec_context.time_base = Fraction(1, fps)
        for i in range(fps * seconds):
            img = texture.copy()
            img[..., 2] += ((xs // 40 + ys // 40 + i // 3) % 2 * 120).astype(np.uint8)
            for k in range(4):
                x = int((i * (5 + k) + k * 300) % (width - 120))
                img[200 + k * 100: 320 + k * 100, x:x + 60] = (40 * k, 200, 255 - 40 * k)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    tmp.rename(path)
    return path


def result_line(metric: str, value: float, anchor: float, ratio: float) -> str:
    return f"RESULT {metric}={value:.4g} anchor={anchor:.4g} ratio={ratio:.4g}"
