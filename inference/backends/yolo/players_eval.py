"""``courtside eval players``: mAP of a player/ball detector on the simulator's held-out split.

Ultralytics' own validator does the scoring (COCO-style mAP at IoU 0.5 and
0.5:0.95, per class), on a dataset exported by :mod:`courtside.sim.detection`:
by default the held-out seeds (:data:`~courtside.sim.detection.HELD_OUT_SEEDS`),
rendered into a scratch folder, or ``--data`` an existing export's ``test`` split.
``--baseline`` also scores the untrained architecture on the same frames.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from courtside.sim.boxes import NAMES
from courtside.sim.detection import HELD_OUT_SEEDS, DatasetError, DatasetSpec, export, read_record
from inference.backends.yolo.env import configure_offline

#: Frames per held-out clip, and clips, of the default evaluation.
EVAL_FRAMES = 40
EVAL_CLIPS = 12


class WeightsError(ValueError):
    """A weights file that is not a two-class Ultralytics detector."""


def held_out_spec(clips: int = EVAL_CLIPS, frames: int = EVAL_FRAMES) -> DatasetSpec:
    """The evaluation split: the first ``clips`` held-out seeds, ``frames`` frames each."""
    if not 1 <= clips <= len(HELD_OUT_SEEDS):
        raise DatasetError(f"1 to {len(HELD_OUT_SEEDS)} held-out clips, got {clips}")
    return DatasetSpec(splits={"test": tuple(HELD_OUT_SEEDS)[:clips]}, frames_per_clip=frames)


def ultralytics_cpu(threads: int) -> Any:
    """Ultralytics, imported after its offline settings, with torch held to ``threads`` CPU threads."""
    configure_offline()
    import torch
    import ultralytics
    import ultralytics.utils.torch_utils

    torch.set_num_threads(threads)
    ultralytics.utils.torch_utils.NUM_THREADS = threads  # type: ignore[attr-defined]  # select_device resets to it
    return ultralytics


def untrained_checkpoint(arch: str, path: Path) -> Path:
    """The architecture with random weights and our two classes, saved where Ultralytics can load it."""
    import torch
    from ultralytics.nn.tasks import DetectionModel

    model = DetectionModel(arch, nc=len(NAMES), verbose=False)  # type: ignore[no-untyped-call]
    model.names = dict(enumerate(NAMES))
    torch.save({"model": model, "courtside_weights": "untrained"}, path)
    return path


def evaluate(weights: Path, data_yaml: Path, *, imgsz: int, batch: int = 16, split: str = "test",
             threads: int = 1, workdir: Path | None = None) -> dict[str, Any]:
    """mAP50, mAP50-95, precision and recall (all classes, then per class) of ``weights`` on ``split``."""
    ultralytics = ultralytics_cpu(threads)
    with tempfile.TemporaryDirectory(prefix="courtside-val-") as scratch:
        try:
            model = ultralytics.YOLO(str(weights))
        except Exception as exc:  # torch's unpickling and Ultralytics' checks, translated here
            raise WeightsError(f"{weights} is not an Ultralytics detector checkpoint: {type(exc).__name__}: "
                               f"{str(exc)[:200]}") from None
        if len(model.names) != len(NAMES):
            raise WeightsError(f"{weights} detects {len(model.names)} classes, not {len(NAMES)} ({', '.join(NAMES)})")
        m = model.val(data=str(data_yaml), split=split, imgsz=imgsz, batch=batch, device="cpu", workers=0,
                      plots=False, verbose=False, save_json=False, project=str(workdir or scratch), name="val",
                      exist_ok=True)
    box = m.box
    per_class: dict[str, dict[str, float]] = {name: {"map50": 0.0, "map50_95": 0.0} for name in NAMES}
    for i, c in enumerate(box.ap_class_index):
        per_class[NAMES[int(c)]] = {"map50": round(float(box.ap50[i]), 4), "map50_95": round(float(box.ap[i]), 4)}
    return {"map50": round(float(box.map50), 4), "map50_95": round(float(box.map), 4),
            "precision": round(float(box.mp), 4), "recall": round(float(box.mr), 4), "per_class": per_class,
            "imgsz": imgsz, "split": split}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="courtside eval players", description=__doc__.split("\n")[0])
    p.add_argument("--weights", type=Path, required=True, help="a detector written by courtside train players")
    p.add_argument("--data", type=Path, help="an export of courtside.sim.detection (its test split); "
                   "default: render the held-out seeds")
    p.add_argument("--clips", type=int, default=EVAL_CLIPS, help="held-out clips to render (without --data)")
    p.add_argument("--frames", type=int, default=EVAL_FRAMES, help="frames per held-out clip (without --data)")
    p.add_argument("--imgsz", type=int, default=416, help="network input size, pixels (the long side)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--baseline", action="store_true", help="also score the untrained architecture")
    p.add_argument("--arch", default="yolo11n.yaml", help="the architecture of --baseline")
    p.add_argument("--json", type=Path, help="write the report here as well")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.weights.is_file():
        print(f"courtside eval players: weights {args.weights} not found", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="courtside-players-eval-") as tmp:
        try:
            if args.data is not None:
                record = read_record(args.data)
                data_yaml = args.data / "data.yaml"
            else:
                record = export(held_out_spec(args.clips, args.frames), Path(tmp) / "data")
                data_yaml = Path(tmp) / "data" / "data.yaml"
            scores = evaluate(args.weights, data_yaml, imgsz=args.imgsz, batch=args.batch, threads=args.threads)
        except (DatasetError, WeightsError) as exc:
            print(f"courtside eval players: {exc}", file=sys.stderr)
            return 2
        out: dict[str, Any] = {"weights": str(args.weights), "data": record["data"],
                               "seeds": record["spec"]["splits"].get("test"),
                               "images": record["counts"].get("test", {}).get("images"), "players": scores}
        if args.baseline:
            base = untrained_checkpoint(args.arch, Path(tmp) / "untrained.pt")
            out["untrained"] = evaluate(base, data_yaml, imgsz=args.imgsz, batch=args.batch, threads=args.threads)
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


__all__ = ["WeightsError", "evaluate", "held_out_spec", "main", "untrained_checkpoint"]
