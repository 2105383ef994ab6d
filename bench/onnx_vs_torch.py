"""ONNX Runtime backend vs the PyTorch (Ultralytics) backend: model fps on the same frames.

Courtside's ``onnx`` runner (our letterbox + NMS around an onnxruntime session of
the exported model) against the ``ultralytics`` runner (``model.predict``), the
same decoded 720p frames, the same weights (a yolo11n checkpoint exported with
``inference.export``), same imgsz/conf/threads, alternating runs. Both return
identical objects (see tests/inference/test_infer_onnx.py).

Prints ``RESULT onnx_fps=<median> anchor=<torch fps> ratio=<onnx/torch>``.

``--int8`` first compares ``options.precision: int8`` (static quantization calibrated
on simulated court frames) with fp32, both on ONNX Runtime, on a checkpoint whose
weights are re-drawn from a seeded normal distribution (no trained weights can be
downloaded here; Ultralytics' own init scores every anchor alike, which would make
the comparison empty): fps, the largest and mean score difference of the raw
outputs, and the share of fp32 detections (conf 0.25) that int8 finds too (same
class, IoU >= 0.5). Printed as ``RESULT int8_fps=... anchor=<fp32 fps> ...`` before the
main line.

Run: ``.venv/bin/python -m bench.onnx_vs_torch [--frames 40] [--runs 5]``
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import median, result_line
from bench.consumer_vs_bare import load_frames
from courtside.config import ModelConfig
from inference.backends import create_runner
from inference.backends.base import Runner
from inference.export import export_onnx
from inference.runtime.decode import decode_jpeg
from inference.runtime.worker import call_in_fresh_thread


def fps(runner: Runner, images: list[np.ndarray]) -> float:
    start = time.perf_counter()
    for image in images:
        runner.infer([image])
    return len(images) / (time.perf_counter() - start)


def redrawn_checkpoint(path: Path, seed: int = 3) -> Path:
    """yolo11n with seeded normal weights (untrained, but with varied boxes and scores)."""
    import torch
    from ultralytics.models import YOLO

    model = YOLO("yolo11n.yaml")
    net: Any = model.model
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for mod in net.modules():
            if isinstance(mod, torch.nn.Conv2d) and mod.weight.requires_grad:
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=gen) * (2.0 / mod.weight[0].numel()) ** 0.5)
                if mod.bias is not None:
                    mod.bias.copy_(torch.randn(mod.bias.shape, generator=gen) * 0.5)
            elif isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.zero_()  # type: ignore[union-attr]
                mod.running_var.fill_(1.0)  # type: ignore[union-attr]
                mod.weight.copy_(1 + 0.1 * torch.randn(mod.weight.shape, generator=gen))
                mod.bias.copy_(0.1 * torch.randn(mod.bias.shape, generator=gen))
    model.save(path)
    return path


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


def int8_vs_fp32(args: argparse.Namespace, images: list[np.ndarray], tmp: Path) -> str:
    """Speed and output difference of precision int8 against fp32 (see the module doc)."""
    pt = call_in_fresh_thread("redraw", redrawn_checkpoint, tmp / "redrawn.pt")
    common = dict(name="bench", weights=str(pt), imgsz=args.imgsz, conf=0.25, threads=args.threads)
    fp32: Any = call_in_fresh_thread("load", create_runner, ModelConfig(
        options={"runtime": "onnx", "onnx_cache_dir": str(tmp / "cache")}, **common))
    int8: Any = call_in_fresh_thread("load", create_runner, ModelConfig(
        options={"runtime": "onnx", "precision": "int8", "onnx_cache_dir": str(tmp / "cache")}, **common))
    ours: list[float] = []
    anchor: list[float] = []
    for run in range(args.runs):
        ours.append(fps(int8, images))
        anchor.append(fps(fp32, images))
        print(f"run {run + 1}: int8 {ours[-1]:.2f} fps, fp32 {anchor[-1]:.2f} fps", flush=True)
    raw8, raw32 = int8._onnx.raw(images)[0], fp32._onnx.raw(images)[0]
    diffs = np.concatenate([np.abs(x[4:] - y[4:]).ravel() for x, y in zip(raw8, raw32, strict=True)])
    found = total = 0
    for got, ref in zip(int8.infer(images), fp32.infer(images), strict=True):
        total += len(ref)
        found += sum(any(o.class_id == r.class_id and _iou(o.box, r.box) >= 0.5 for o in got) for r in ref)
    print(f"int8 vs fp32: raw score difference max {diffs.max():.4f}, mean {diffs.mean():.5f}; "
          f"{found}/{total} fp32 detections (conf 0.25) found by int8 (same class, IoU >= 0.5)")
    o, a = median(ours), median(anchor)
    return result_line("int8_fps", o, a, o / a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--int8", action="store_true", help="also compare precision int8 with fp32")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    images = [decode_jpeg(j) for j in load_frames(args.frames)]
    with tempfile.TemporaryDirectory() as tmp:
        int8_line = int8_vs_fp32(args, images, Path(tmp)) if args.int8 else None
        onnx_path = call_in_fresh_thread("export", export_onnx, "yolo11n.yaml", Path(tmp) / "yolo11n.onnx",
                                         args.imgsz)
        pt_path = Path(tmp) / "yolo11n.pt"
        from ultralytics.models import YOLO

        YOLO("yolo11n.yaml").save(pt_path)  # not the exported weights: timing does not depend on them
        common = dict(name="bench", imgsz=args.imgsz, conf=0.25, threads=args.threads)
        ort_runner = create_runner(ModelConfig(backend="onnx", weights=str(onnx_path), **common))
        torch_runner = call_in_fresh_thread(  # torch in threads that exit: one OpenMP pool alive
            "load", create_runner, ModelConfig(backend="ultralytics", weights=str(pt_path), **common))
        fps(ort_runner, images[:3])
        call_in_fresh_thread("torch", fps, torch_runner, images[:3])
        ours: list[float] = []
        anchor: list[float] = []
        for run in range(args.runs):
            ours.append(fps(ort_runner, images))
            anchor.append(call_in_fresh_thread("torch", fps, torch_runner, images))
            print(f"run {run + 1}: onnxruntime {ours[-1]:.2f} fps, torch {anchor[-1]:.2f} fps", flush=True)
    o, t = median(ours), median(anchor)
    print(f"{images[0].shape[1]}x{images[0].shape[0]} frames, imgsz {args.imgsz}, threads {args.threads}, "
          f"providers {ort_runner.session.get_providers()}")  # type: ignore[attr-defined]
    if int8_line:
        print(int8_line)
    print(result_line("onnx_fps", o, t, o / t))


if __name__ == "__main__":
    main()
