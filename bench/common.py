"""Helpers shared by the benchmarks: percentiles, generated clips, the RESULT line."""

from __future__ import annotations

import contextlib
import os
import statistics
import time
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


def proc_cpu_s(pid: int | str | None) -> float:
    """User + system CPU seconds of process ``pid`` so far (0.0 for None, or once it has gone)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _proc_name(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return str(pid)
    words = [Path(a.decode(errors="replace")).name for a in argv if a]
    if not words or not words[0].startswith("python"):
        return words[0] if words else str(pid)
    skip = {"-m", "--config", "--nats", "--cameras"}
    words = [w for w in words[1:] if w not in skip and not w.endswith(".yaml") and ":" not in w and "," not in w]
    return " ".join(words[:4]) if words else str(pid)


def _children() -> list[int]:
    pids: list[int] = []
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            pids.extend(int(p) for p in (task / "children").read_text().split())
    return pids


def _machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of every core since boot, from ``/proc/stat``."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


class CpuSample:
    """CPU seconds of this process, each direct child (by name) and the whole machine, between
    :meth:`start` and :meth:`stop` (Linux ``/proc``). Tells whether a run was CPU-bound."""

    def __init__(self) -> None:
        self._start: dict[int, float] = {}
        self._names: dict[int, str] = {}
        self._wall = 0.0
        self._machine = (0, 0)
        self.cores_used: dict[str, float] = {}
        self.machine_busy = float("nan")

    def start(self) -> None:
        pids = [os.getpid(), *_children()]
        self._names = {pid: ("bench (observer)" if pid == os.getpid() else _proc_name(pid)) for pid in pids}
        self._start = {pid: proc_cpu_s(pid) for pid in pids}
        self._machine = _machine_jiffies()
        self._wall = time.monotonic()

    def stop(self) -> dict[str, float]:
        """Cores used per process over the window (CPU seconds / wall seconds)."""
        wall = max(1e-9, time.monotonic() - self._wall)
        self.cores_used = {self._names[pid]: (proc_cpu_s(pid) - begin) / wall for pid, begin in self._start.items()}
        busy, total = _machine_jiffies()
        self.machine_busy = (busy - self._machine[0]) / max(1, total - self._machine[1]) * (os.cpu_count() or 1)
        return self.cores_used

    def report(self, indent: str = "  ") -> str:
        """One line per process, then this process's children together and the whole machine (cores)."""
        lines = [f"{indent}{name:<52} {cores:5.2f} cores" for name, cores in sorted(self.cores_used.items())]
        lines.append(f"{indent}{'all of the above':<52} {sum(self.cores_used.values()):5.2f} cores")
        lines.append(f"{indent}{'whole machine (other work included)':<52} {self.machine_busy:5.2f} of "
                     f"{os.cpu_count()} cores")
        return "\n".join(lines)
