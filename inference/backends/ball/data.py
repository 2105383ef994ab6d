"""Training and evaluation data: simulated rallies and labelled footage in the TrackNet CSV layout.

A :class:`Clip` is consecutive frames of one camera kept as JPEG bytes (what the
consumer receives), with per-frame labels at the model's input scale: visibility
class (TrackNet's 0 absent, 1 visible, 2 partly hidden, 3 hidden), x, y pixels,
and the timestamp in seconds. :class:`Windows` turns clips into network inputs
the way the runner does (newest frame first, the oldest repeated at a clip's
start), with training augmentation: irregular frame gaps, flips, crops.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import simplejpeg

from courtside.sim.clip import SIM_VERSION, Simulation
from inference.backends.ball.frames import network_input, prepare
from inference.backends.ball.model import BallNetConfig

F32 = npt.NDArray[np.float32]
#: Heatmap target's standard deviation, input pixels.
SIGMA_PX = 2.5
TRACKNET_HEADER = ("Frame", "Visibility", "X", "Y")


class LabelFileError(ValueError):
    """A TrackNet CSV that cannot be read; the message names the file and the line."""


@dataclass(frozen=True, slots=True)
class Clip:
    name: str
    jpegs: tuple[bytes, ...]
    visibility: npt.NDArray[np.int8]
    xy: F32  # (N, 2) input pixels
    ts: npt.NDArray[np.float64]  # (N,) seconds

    def __len__(self) -> int:
        return len(self.jpegs)

    def frame(self, i: int, cfg: BallNetConfig) -> npt.NDArray[np.uint8]:
        """Frame ``i`` decoded and prepared exactly as the runner prepares a live frame."""
        bgr = simplejpeg.decode_jpeg(self.jpegs[i], colorspace="BGR")
        return prepare(bgr, cfg.width, cfg.height)


def _jpeg(image: npt.NDArray[np.uint8], quality: int) -> bytes:
    return bytes(simplejpeg.encode_jpeg(image, quality=quality, colorspace="BGR", colorsubsampling="420"))


def simulated_clip(seed: int, frames: int, cfg: BallNetConfig, *, width: int = 640, height: int = 360,
                   fps: float = 30.0, skip_s: float | None = None) -> Clip:
    """``frames`` frames of simulator seed ``seed``, rendered at ``width`` x ``height``, JPEG-coded
    at a seeded quality (60-92) and labelled at the model's input scale."""
    rng = np.random.default_rng([seed, 7])
    sim = Simulation(seed, width, height, fps)
    sim.rally.advance(float(rng.uniform(0.3, 4.0)) if skip_s is None else skip_s)
    quality = int(rng.integers(60, 93))
    sx, sy = cfg.width / width, cfg.height / height
    jpegs, vis, xy, ts = [], [], [], []
    for f in sim.frames(frames):
        t = f.truth
        jpegs.append(_jpeg(f.image, quality))
        vis.append(int(t.visibility))
        u, v = t.pixel
        xy.append(((u + 0.5) * sx - 0.5, (v + 0.5) * sy - 0.5) if t.visibility else (0.0, 0.0))
        ts.append(t.t)
    return Clip(f"sim-v{SIM_VERSION}-seed{seed}", tuple(jpegs), np.asarray(vis, np.int8),
                np.asarray(xy, np.float32), np.asarray(ts, np.float64))


def simulated_clips(seeds: Iterable[int], frames: int, cfg: BallNetConfig) -> list[Clip]:
    return [simulated_clip(s, frames, cfg) for s in seeds]


# -- TrackNet CSV ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Label:
    frame: int
    visibility: int
    x: float
    y: float


def read_tracknet_csv(path: Path) -> list[Label]:
    """Labels of one video: the header ``Frame,Visibility,X,Y``, then one row per frame, frames
    0, 1, 2, ... in order, visibility 0-3, X and Y pixels (>= 0). Raises :class:`LabelFileError`
    naming the file and line of the first bad row."""
    labels: list[Label] = []
    try:
        with path.open(newline="") as fh:
            rows = csv.reader(fh)
            header = next(rows, None)
            if header is None or tuple(h.strip() for h in header[:4]) != TRACKNET_HEADER:
                raise LabelFileError(f"{path}:1: the header must be {','.join(TRACKNET_HEADER)}, got {header!r}")
            for line, row in enumerate(rows, start=2):
                labels.append(_label(path, line, row, len(labels)))
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelFileError(f"{path}: cannot be read: {exc}") from None
    if not labels:
        raise LabelFileError(f"{path}: no label rows after the header")
    return labels


def _label(path: Path, line: int, row: list[str], expected: int) -> Label:
    where = f"{path}:{line}"
    if len(row) < 4:
        raise LabelFileError(f"{where}: expected 4 fields (Frame,Visibility,X,Y), got {len(row)}")
    try:
        frame, vis = int(row[0]), int(row[1])
        x, y = float(row[2]), float(row[3])
    except ValueError:
        raise LabelFileError(f"{where}: not numbers: {','.join(row[:4])!r}") from None
    if frame != expected:
        raise LabelFileError(f"{where}: frame {frame} out of order (expected {expected})")
    if vis not in (0, 1, 2, 3):
        raise LabelFileError(f"{where}: visibility must be 0-3, got {vis}")
    if not (math.isfinite(x) and math.isfinite(y)) or x < 0 or y < 0:
        raise LabelFileError(f"{where}: X and Y must be finite pixels >= 0, got {x}, {y}")
    return Label(frame, vis, x, y)


def tracknet_clip(csv_path: Path, video: Path, cfg: BallNetConfig, fps: float | None = None) -> Clip:
    """A labelled video (any container PyAV reads) and its CSV -> a clip at the model's input scale."""
    import av

    labels = read_tracknet_csv(csv_path)
    jpegs: list[bytes] = []
    ts: list[float] = []
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        rate = fps or float(stream.average_rate or 30)
        for i, frame in enumerate(container.decode(stream)):
            if i >= len(labels):
                break
            image = np.asarray(frame.to_ndarray(format="bgr24"), np.uint8)
            if i == 0:
                width, height = image.shape[1], image.shape[0]
            jpegs.append(_jpeg(image, 92))
            ts.append(float(frame.time) if frame.time is not None else i / rate)
    if len(jpegs) != len(labels):
        raise LabelFileError(f"{csv_path}: {len(labels)} labels but {video} has {len(jpegs)} frames")
    sx, sy = cfg.width / width, cfg.height / height
    vis = np.asarray([lb.visibility for lb in labels], np.int8)
    xy = np.asarray([((lb.x + 0.5) * sx - 0.5, (lb.y + 0.5) * sy - 0.5) if lb.visibility else (0.0, 0.0)
                     for lb in labels], np.float32)
    return Clip(f"tracknet-{video.stem}", tuple(jpegs), vis, xy, np.asarray(ts, np.float64))


def tracknet_clips(root: Path, cfg: BallNetConfig) -> list[Clip]:
    """Every ``<video>.csv`` (or ``<video>_ball.csv``) under ``root`` paired with ``<video>.mp4``
    in the same folder or a sibling ``video/`` folder (TrackNetV2's ``csv/`` + ``video/``)."""
    clips = []
    for path in sorted(root.rglob("*.csv")):
        stem = path.stem.removesuffix("_ball")
        options = [path.with_name(f"{stem}.mp4"), path.parent.parent / "video" / f"{stem}.mp4"]
        video = next((v for v in options if v.is_file()), None)
        if video is None:
            raise LabelFileError(f"{path}: no video {stem}.mp4 beside it or in ../video/")
        clips.append(tracknet_clip(path, video, cfg))
    if not clips:
        raise LabelFileError(f"{root}: no TrackNet CSV files found")
    return clips


# -- windows and targets ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Sample:
    """One network input with its target: (C, H, W) input, (h, w) heat target, offsets, masks."""

    x: F32
    heat: F32
    offset: F32  # (2,) 0..1 of a cell
    cell: tuple[int, int]  # (row, col) of the ball's cell; (-1, -1) when absent
    ignore: F32  # (h, w) 1 where the loss is not counted (a hidden ball's neighbourhood)


def target(cfg: BallNetConfig, vis: int, x: float, y: float, h: int, w: int, x0: int = 0, y0: int = 0, *,
           hidden_positive: bool = False) -> tuple[F32, F32, tuple[int, int], F32]:
    """Heatmap target for a ball at input pixel (x, y) in a crop at (x0, y0) of ``h`` x ``w`` cells.

    A hidden ball (class 3) is neither rewarded nor punished near it by default; with
    ``hidden_positive`` it is a target like a visible one (TrackNet's labels: the network is to
    place a ball it cannot see from the frames before, as the evaluation counts it)."""
    s = cfg.stride
    heat = np.zeros((h, w), np.float32)
    ignore = np.zeros((h, w), np.float32)
    cx, cy = (x - x0) / s, (y - y0) / s
    inside = vis > 0 and 0 <= cx < w and 0 <= cy < h
    if not inside:
        return heat, np.zeros(2, np.float32), (-1, -1), ignore
    jj, ii = np.meshgrid(np.arange(w, dtype=np.float32) + 0.5, np.arange(h, dtype=np.float32) + 0.5)
    g = np.exp(-((jj - cx) ** 2 + (ii - cy) ** 2) / (2 * (SIGMA_PX / s) ** 2)).astype(np.float32)
    if vis == 3 and not hidden_positive:  # hidden behind a player: neither rewarded nor punished near it
        ignore[g > 0.01] = 1.0
        return heat, np.zeros(2, np.float32), (-1, -1), ignore
    i, j = int(cy), int(cx)
    g[i, j] = 1.0
    return g, np.asarray([cx - j, cy - i], np.float32), (i, j), ignore


class Windows:
    """Network inputs from clips; ``train`` adds irregular gaps, flips and crops (``crop`` = (h, w) pixels);
    ``hidden_positive`` makes a hidden ball a target (see :func:`target`)."""

    def __init__(self, clips: Sequence[Clip], cfg: BallNetConfig, *, train: bool, seed: int = 0,
                 crop: tuple[int, int] | None = None, hidden_positive: bool = False) -> None:
        self.clips, self.cfg, self.train, self.crop = list(clips), cfg, train, crop
        self.hidden_positive = hidden_positive
        self.index = [(c, i) for c, clip in enumerate(self.clips) for i in range(len(clip))]
        #: Window numbers whose ball is partly hidden or hidden (classes 2, 3): what training may oversample.
        self.occluded = [n for n, (c, i) in enumerate(self.index) if self.clips[c].visibility[i] in (2, 3)]
        self.rng = np.random.default_rng(seed)
        self._cache: dict[tuple[int, int], npt.NDArray[np.uint8]] = {}

    def __len__(self) -> int:
        return len(self.index)

    def _frame(self, c: int, i: int) -> npt.NDArray[np.uint8]:
        key = (c, i)
        img = self._cache.get(key)
        if img is None:
            if len(self._cache) > 64:
                self._cache.clear()
            img = self._cache[key] = self.clips[c].frame(i, self.cfg)
        return img

    def history(self, c: int, i: int) -> list[int]:
        """Indices newest first: the frame before each is 1 back, or 1-3 back when training
        (a camera that drops frames), clamped at the clip's start as the runner pads."""
        out = [i]
        for _ in range(self.cfg.frames - 1):
            step = 1
            if self.train and self.rng.random() < 0.3:
                step = int(self.rng.integers(2, 4))
            out.append(max(0, out[-1] - step))
        return out

    def sample(self, n: int) -> Sample:
        c, i = self.index[n]
        clip, cfg = self.clips[c], self.cfg
        idx = self.history(c, i)
        frames = [self._frame(c, k) for k in idx]
        ages = [float(clip.ts[i] - clip.ts[k]) for k in idx[1:]]
        vis, (x, y) = int(clip.visibility[i]), clip.xy[i]
        x0 = y0 = 0
        if self.train:
            if self.rng.random() < 0.5:
                frames = [np.ascontiguousarray(f[:, ::-1]) for f in frames]
                x = cfg.width - 1 - x
            if self.crop is not None:
                ch, cw = self.crop
                if vis and self.rng.random() < 0.75:  # most crops hold the ball
                    x0 = int(np.clip(x - self.rng.uniform(8, cw - 8), 0, cfg.width - cw))
                    y0 = int(np.clip(y - self.rng.uniform(8, ch - 8), 0, cfg.height - ch))
                else:
                    x0 = int(self.rng.integers(0, cfg.width - cw + 1))
                    y0 = int(self.rng.integers(0, cfg.height - ch + 1))
                x0 -= x0 % cfg.stride
                y0 -= y0 % cfg.stride
                frames = [f[y0:y0 + ch, x0:x0 + cw] for f in frames]
            if self.rng.random() < 0.3:  # exposure and colour drift
                gain = self.rng.uniform(0.8, 1.2, 3).astype(np.float32)
                frames = [np.clip(f.astype(np.float32) * gain, 0, 255).astype(np.uint8) for f in frames]
        h, w = frames[0].shape[0] // cfg.stride, frames[0].shape[1] // cfg.stride
        heat, offset, cell, ignore = target(cfg, vis, float(x), float(y), h, w, x0, y0,
                                            hidden_positive=self.hidden_positive)
        return Sample(network_input(frames, ages), heat, offset, cell, ignore)

    def __iter__(self) -> Iterator[Sample]:
        for n in range(len(self)):
            yield self.sample(n)


def resize_xy(xy: F32, from_size: tuple[int, int], to_size: tuple[int, int]) -> F32:
    """Pixel centres from one image size (w, h) to another."""
    sx, sy = to_size[0] / from_size[0], to_size[1] / from_size[1]
    return np.asarray((xy + 0.5) * np.asarray([sx, sy], np.float32) - 0.5, np.float32)


__all__ = ["Clip", "Label", "LabelFileError", "Sample", "Windows", "read_tracknet_csv", "simulated_clip",
           "simulated_clips", "target", "tracknet_clip", "tracknet_clips"]
