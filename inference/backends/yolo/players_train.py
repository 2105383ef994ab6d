"""``courtside train players``: train a player/ball YOLO detector from the architecture on simulated courts.

No pretrained start exists offline, so the network starts from ``--arch``
(``yolo11n.yaml``) with random weights and two classes. Data: an export of
:mod:`courtside.sim.detection` (``--data``), or one rendered into ``--out/data``:
training clips from simulator seeds ``seed*1000 + 10 ..``, a small per-epoch
validation split (``seed*1000 + 0 ..``: Ultralytics keeps the best epoch on it)
and the held-out test split (seeds never trained on), which alone is reported.
Deterministic for a seed (Ultralytics' ``seed`` and ``deterministic``, single-process
data loading on the CPU). Writes into ``--out``: ``players.pt`` (the weights, marked
trained, with how they were made), ``metrics.json`` (the held-out evaluation) and
``train.json`` (the command, seed, data version, settings, time). Ultralytics'
per-epoch bar is the progress display.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from courtside.sim.detection import (
    HELD_OUT_SEEDS,
    DatasetError,
    DatasetSpec,
    export,
    read_record,
    spec_record,
    training_seeds,
    validation_seeds,
)
from inference.backends.checkpoints import MARKER
from inference.backends.yolo.players_eval import evaluate, ultralytics_cpu

WEIGHTS_NAME = "players.pt"
#: What the weights' checkpoint names as its data (``train_args.data``, which the runner reports as trained_on).
TRAINED_ON = "synthetic court (courtside.sim)"


@dataclass(frozen=True, slots=True)
class PlayersTrainConfig:
    """One run. Sizes in pixels (``imgsz`` the network's long side); ``hours`` bounds the run's wall time
    (Ultralytics then fits the epochs and the learning-rate schedule into it)."""

    out: Path
    arch: str = "yolo11n.yaml"
    seed: int = 0
    clips: int = 60
    val_clips: int = 4
    test_clips: int = 12
    frames_per_clip: int = 40
    imgsz: int = 416
    epochs: int = 40
    batch: int = 16
    lr0: float = 0.002
    warmup_epochs: float = 0.0
    close_mosaic: int = 5
    mosaic: float = 1.0
    stride: int = 7
    hours: float | None = None
    threads: int = 2
    workers: int = 0
    data: Path | None = None
    command: str = ""

    def spec(self) -> DatasetSpec:
        return DatasetSpec(splits={"train": training_seeds(self.seed, self.clips),
                                   "val": validation_seeds(self.seed, self.val_clips),
                                   "test": tuple(HELD_OUT_SEEDS)[:self.test_clips]},
                           frames_per_clip=self.frames_per_clip, stride=self.stride)


def _dataset(tc: PlayersTrainConfig) -> tuple[Path, dict[str, Any]]:
    if tc.data is not None:
        return tc.data, read_record(tc.data)
    folder = tc.out / "data"
    if folder.exists():  # a previous run's export of the same spec is reused, anything else refused
        record = read_record(folder)
        if record["spec"] != spec_record(tc.spec()):
            raise DatasetError(f"{folder} holds another dataset: remove it or pass it as --data")
        return folder, record
    return folder, export(tc.spec(), folder, workers=1)


def _mark(src: Path, dst: Path, meta: dict[str, Any]) -> None:
    """Copy Ultralytics' best checkpoint to ``dst``, marked trained, naming its data and how it was made."""
    import torch

    ckpt = torch.load(src, map_location="cpu", weights_only=False)
    ckpt[MARKER] = "trained"
    ckpt["courtside"] = meta
    args = dict(ckpt.get("train_args") or {})
    args["data"] = f"synthetic court ({meta['data']['simulator']})"  # no folder: the runner shows it as is
    ckpt["train_args"] = args
    tmp = dst.with_suffix(".tmp")
    torch.save(ckpt, tmp)
    tmp.replace(dst)


def train(tc: PlayersTrainConfig) -> dict[str, Any]:
    """Export (or reuse) the data, train, write the weights and the held-out metrics; returns the metrics."""
    started = time.monotonic()
    tc.out.mkdir(parents=True, exist_ok=True)
    folder, record = _dataset(tc)
    if "test" not in record["counts"] or "val" not in record["counts"]:  # best.pt must never be picked on test
        raise DatasetError(f"{folder} needs a val split (to pick the best epoch) and a test split (to report on)")
    ultralytics = ultralytics_cpu(tc.threads)
    model = ultralytics.YOLO(tc.arch)
    extra: dict[str, Any] = {} if tc.hours is None else {"time": tc.hours}
    # nbs=batch: one optimiser step per batch (Ultralytics' nbs=64 would accumulate 8 batches of 8, which
    # leaves a short CPU run only a few dozen steps).
    model.train(data=str(folder / "data.yaml"), epochs=tc.epochs, imgsz=tc.imgsz, batch=tc.batch, seed=tc.seed,
                deterministic=True, device="cpu", workers=tc.workers, project=str(tc.out.resolve()), name="run",
                exist_ok=True, plots=False, amp=False, optimizer="AdamW", lr0=tc.lr0, cos_lr=True,
                nbs=tc.batch, warmup_epochs=tc.warmup_epochs, close_mosaic=tc.close_mosaic, mosaic=tc.mosaic,
                cache=False, verbose=False,
                pretrained=False, **extra)
    train_s = time.monotonic() - started
    run = tc.out / "run"
    best = run / "weights" / "best.pt"
    if not best.is_file():
        raise DatasetError(f"training wrote no {best}")
    data = {"simulator": record["data"], "train_seeds": record["spec"]["splits"]["train"],
            "val_seeds": record["spec"]["splits"].get("val"), "test_seeds": record["spec"]["splits"]["test"],
            "frames_per_clip": record["spec"]["frames_per_clip"], "counts": record["counts"]}
    meta = {"trained_on": TRAINED_ON, "command": tc.command, "seed": tc.seed, "data": data, "arch": tc.arch,
            "imgsz": tc.imgsz}
    weights = tc.out / WEIGHTS_NAME
    _mark(best, weights, meta)
    metrics = {"weights": WEIGHTS_NAME, "data": record["data"], "held_out_seeds": data["test_seeds"],
               "images": record["counts"]["test"]["images"],
               "players": evaluate(weights, folder / "data.yaml", imgsz=tc.imgsz, batch=tc.batch, threads=tc.threads)}
    (tc.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    results = run / "results.csv"
    record_out = {**{k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(tc).items()}, "data": data,
                  "train_seconds": round(train_s, 1), "total_seconds": round(time.monotonic() - started, 1),
                  "ultralytics": ultralytics.__version__, "epochs_log": results.read_text() if results.is_file() else ""}
    (tc.out / "train.json").write_text(json.dumps(record_out, indent=2, default=str) + "\n")
    shutil.rmtree(run / "weights", ignore_errors=True)  # best.pt / last.pt: superseded by players.pt
    return metrics


def _parser() -> argparse.ArgumentParser:
    d = PlayersTrainConfig(out=Path("."))
    p = argparse.ArgumentParser(prog="courtside train players", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True, help="folder for the data, weights and metrics")
    p.add_argument("--data", type=Path, help="train on this export of courtside.sim.detection instead")
    p.add_argument("--arch", default=d.arch, help="Ultralytics architecture yaml (random start)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--clips", type=int, default=d.clips, help="simulated training clips (one court style each)")
    p.add_argument("--val-clips", type=int, default=d.val_clips)
    p.add_argument("--test-clips", type=int, default=d.test_clips, help="held-out clips reported on")
    p.add_argument("--frames-per-clip", type=int, default=d.frames_per_clip)
    p.add_argument("--imgsz", type=int, default=d.imgsz, help="network input size, pixels (frames are 640x360)")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--hours", type=float, help="bound the run's wall time (epochs are fitted into it)")
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--lr0", type=float, default=d.lr0)
    p.add_argument("--warmup-epochs", type=float, default=d.warmup_epochs)
    p.add_argument("--close-mosaic", type=int, default=d.close_mosaic, help="last epochs without mosaic")
    p.add_argument("--mosaic", type=float, default=d.mosaic, help="probability of Ultralytics' mosaic augmentation")
    p.add_argument("--stride", type=int, default=d.stride, help="simulator frames between exported frames")
    p.add_argument("--threads", type=int, default=d.threads, help="torch CPU threads")
    p.add_argument("--workers", type=int, default=d.workers, help="data-loading processes (0: in the trainer)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    tc = PlayersTrainConfig(out=args.out, arch=args.arch, seed=args.seed, clips=args.clips, val_clips=args.val_clips,
                            test_clips=args.test_clips, frames_per_clip=args.frames_per_clip, imgsz=args.imgsz,
                            epochs=args.epochs, batch=args.batch, lr0=args.lr0, warmup_epochs=args.warmup_epochs,
                            close_mosaic=args.close_mosaic, mosaic=args.mosaic, stride=args.stride, hours=args.hours, threads=args.threads,
                            workers=args.workers, data=args.data, command="courtside train players " + " ".join(argv))
    try:
        metrics = train(tc)
    except (DatasetError, OSError) as exc:
        print(f"courtside train players: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"weights": str(tc.out / WEIGHTS_NAME), "players": metrics["players"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
