"""ONNX Runtime backend vs the PyTorch (Ultralytics) backend: model fps on the same frames.

Courtside's ``onnx`` runner (our letterbox + NMS around an onnxruntime session of
the exported model) against the ``ultralytics`` runner (``model.predict``), the
same decoded 720p frames, the same weights (a yolo11n checkpoint exported with
``inference.export``), same imgsz/conf/threads, alternating runs. Both return
identical objects (see tests/inference/test_infer_onnx.py).

Prints ``RESULT onnx_fps=<median> anchor=<torch fps> ratio=<onnx/torch>``.

Run: ``.venv/bin/python -m bench.onnx_vs_torch [--frames 40] [--runs 5]``
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import median, result_line
from bench.consumer_vs_bare import load_frames
from courtside.config import ModelConfig
from inference.backends import create_runner
from inference.export import export_onnx
from inference.runtime.decode import decode_jpeg
from inference.runtime.worker import call_in_fresh_thread


def fps(runner: object, images: list[np.ndarray]) -> float:
    start = time.perf_counter()
    for image in images:
        runner.infer([image])  # type: ignore[attr-defined]
    return len(images) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    images = [decode_jpeg(j) for j in load_frames(args.frames)]
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = call_in_fresh_thread("export", export_onnx, "yolo11n.yaml", Path(tmp) / "yolo11n.onnx",
                                         args.imgsz)
        pt_path = Path(tmp) / "yolo11n.pt"
        from ultralytics import YOLO

        YOLO("yolo11n.yaml").save(pt_path)  # not the exported weights: timing does not depend on them
        common = dict(name="bench", imgsz=args.imgsz, conf=0.25, threads=args.threads)
        ort_runner = create_runner(ModelConfig(backend="onnx", weights=str(onnx_path), **common))  # type: ignore[arg-type]
        torch_runner = call_in_fresh_thread(  # torch in threads that exit: one OpenMP pool alive
            "load", create_runner, ModelConfig(backend="ultralytics", weights=str(pt_path), **common))  # type: ignore[arg-type]
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
    print(result_line("onnx_fps", o, t, o / t))


if __name__ == "__main__":
    main()
