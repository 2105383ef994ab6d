"""A player and ball detection dataset from the simulator, in the YOLO layout Ultralytics reads.

``export(spec, out)`` writes ``out/images/<split>/<name>.jpg`` and
``out/labels/<split>/<name>.txt`` (class 0 player, class 1 ball; one
``cls cx cy w h`` line per visible object, normalised by the image size), then
``out/data.yaml`` (what ``YOLO.train(data=...)`` and ``.val(data=...)`` take) and
``out/dataset.json`` (the spec, the data version and per-split counts).

Each clip is one simulator seed, so one random court style and camera pose (every
``demo_view_every``-th clip sees the demo court's broadcast camera instead); its
frames are ``stride`` simulator frames apart, after a seeded skip into the rally,
JPEG-coded at a seeded quality (60-92) like the frames the consumer receives. Boxes
come from the label map the renderer inks (:mod:`courtside.sim.boxes`): the
visible pixels of each object, occlusion by nearer players included, shadows not.
The held-out split's seeds (:data:`HELD_OUT_SEEDS`) are refused in any other split.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from courtside.court.camera import broadcast_camera
from courtside.sim.boxes import BALL, NAMES, PLAYER, boxes_from_labels, yolo_text
from courtside.sim.clip import SIM_VERSION, Simulation
from courtside.sim.render import BALL_INK

FORMAT = "courtside-detect/1"
DATA_VERSION = f"courtside.sim v{SIM_VERSION}"
#: Simulator seeds of the held-out split: never trained on (ball training uses 0 .. 99_999,
#: the ball's held-out set 900_000 .., the demo court 424_242).
HELD_OUT_SEEDS = range(950_000, 950_024)
#: Ink of the label map -> class id.
INKS = {1: PLAYER, 2: PLAYER, 3: PLAYER, 4: PLAYER, BALL_INK: BALL}


class DatasetError(ValueError):
    """A dataset spec that cannot be exported, or a folder that is not an export."""


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """What to export. Sizes in pixels; ``stride`` in simulator frames (30 per second);
    ``min_pixels`` by class: fewer visible pixels and the object gets no box."""

    splits: dict[str, tuple[int, ...]]
    width: int = 640
    height: int = 360
    frames_per_clip: int = 40
    stride: int = 7
    demo_view_every: int = 4
    min_pixels: dict[int, int] = field(default_factory=lambda: {PLAYER: 25, BALL: 2})

    def check(self) -> None:
        held = set(HELD_OUT_SEEDS)
        for name, seeds in self.splits.items():
            if not seeds:
                raise DatasetError(f"split {name!r} has no seeds")
            if name != "test" and held & set(seeds):
                raise DatasetError(f"split {name!r} uses held-out seeds {sorted(held & set(seeds))[:5]}")
        names = list(self.splits)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if set(self.splits[a]) & set(self.splits[b]):
                    raise DatasetError(f"splits {a!r} and {b!r} share seeds")
        if self.frames_per_clip < 1 or self.stride < 1 or self.width < 32 or self.height < 32:
            raise DatasetError("frames_per_clip and stride must be >= 1, width and height >= 32")


def training_seeds(seed: int, clips: int) -> tuple[int, ...]:
    """The training split's simulator seeds for a run seed: ``seed*1000 + 10 ..``."""
    return tuple(seed * 1000 + 10 + i for i in range(clips))


def validation_seeds(seed: int, clips: int) -> tuple[int, ...]:
    """The per-epoch validation split (Ultralytics picks ``best.pt`` on it): ``seed*1000 + 0 .. 9``."""
    if clips > 10:
        raise DatasetError("at most 10 validation clips")
    return tuple(seed * 1000 + i for i in range(clips))


def _clip(args: tuple[DatasetSpec, str, int, int, Path]) -> dict[str, int]:
    """Render and write one clip; returns its counts (images, players, balls)."""
    spec, split, n, seed, out = args
    w, h = spec.width, spec.height
    camera = broadcast_camera(w, h) if spec.demo_view_every and n % spec.demo_view_every == 0 else None
    rng = np.random.default_rng([seed, 11])
    sim = Simulation(seed, w, h, camera=camera)
    sim.rally.advance(float(rng.uniform(0.3, 4.0)))
    quality = int(rng.integers(60, 93))
    labels = np.zeros((h, w), np.uint8)
    counts = {"images": 0, "players": 0, "balls": 0}
    images, texts = out / "images" / split, out / "labels" / split
    for k in range(spec.frames_per_clip):
        if k:
            sim.rally.advance((spec.stride - 1) / sim.fps)
        frame = sim.next_frame(labels)
        boxes = boxes_from_labels(labels, INKS, spec.min_pixels)
        stem = f"f{k:03d}_s{seed}"  # sorted names interleave the clips (a loader without shuffling mixes courts)
        ok, jpeg = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise DatasetError(f"JPEG encoding failed for {stem}")
        (images / f"{stem}.jpg").write_bytes(jpeg.tobytes())
        (texts / f"{stem}.txt").write_text(yolo_text(boxes, w, h))
        counts["images"] += 1
        counts["players"] += sum(b.cls == PLAYER for b in boxes)
        counts["balls"] += sum(b.cls == BALL for b in boxes)
    return counts


def export(spec: DatasetSpec, out: Path, workers: int = 1) -> dict[str, Any]:
    """Write the dataset into ``out`` (which must be empty or absent); returns what ``dataset.json`` holds."""
    spec.check()
    if out.exists() and any(out.iterdir()):
        raise DatasetError(f"{out} is not empty: export into a new folder")
    for split in spec.splits:
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
    jobs = [(spec, split, n, seed, out) for split, seeds in spec.splits.items() for n, seed in enumerate(seeds)]
    if workers <= 1:
        results = [_clip(j) for j in jobs]
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            results = pool.map(_clip, jobs, chunksize=1)
    summary: dict[str, Any] = {}
    for (_, split, _, _, _), counts in zip(jobs, results, strict=True):
        entry = summary.setdefault(split, {"images": 0, "players": 0, "balls": 0})
        for key, value in counts.items():
            entry[key] += value
    record = {"format": FORMAT, "data": DATA_VERSION, "classes": list(NAMES), "spec": spec_record(spec),
              "counts": summary}
    write_data_yaml(out, list(spec.splits))
    (out / "dataset.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def spec_record(spec: DatasetSpec) -> dict[str, Any]:
    """The spec as ``dataset.json`` stores it (JSON types: seed runs as text, class ids as strings)."""
    record = {**asdict(spec), "splits": {k: _seed_text(v) for k, v in spec.splits.items()}}
    return dict(json.loads(json.dumps(record)))


def write_data_yaml(out: Path, splits: Sequence[str]) -> Path:
    """Ultralytics' dataset file. It insists on ``train`` and ``val``: a split missing here stands in for them."""
    have = list(splits)
    fallback = "test" if "test" in have else have[0]
    lines = [f"path: {json.dumps(str(out.resolve()))}"]
    for key in ("train", "val", "test"):
        lines.append(f"{key}: images/{key if key in have else fallback}")
    lines.append("names:")
    lines += [f"  {i}: {name}" for i, name in enumerate(NAMES)]
    path = out / "data.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def read_record(folder: Path) -> dict[str, Any]:
    """``dataset.json`` of an export; raises :class:`DatasetError` when ``folder`` is not one."""
    path = folder / "dataset.json"
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{folder} is not a detection dataset export (no readable dataset.json: {exc})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT or not (folder / "data.yaml").is_file():
        raise DatasetError(f"{folder} is not a detection dataset export (format {FORMAT} with data.yaml)")
    return record


def _seed_text(seeds: Sequence[int]) -> str:
    """``a..b`` for a run of consecutive seeds, else the list."""
    s = list(seeds)
    if s == list(range(s[0], s[0] + len(s))):
        return f"{s[0]}..{s[-1]}"
    return ",".join(map(str, s))
