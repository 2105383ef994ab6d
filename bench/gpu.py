"""YOLO11n on a GPU: batch 1-32 in FP32 and FP16, JPEG decode on the GPU vs the CPU, and
how many 720p15 camera streams one process serves in real time.

Made for the GPU machines this project can borrow (``../shared/FACTS.md``: torch,
torchvision, onnxruntime, OpenCV and numpy, no Ultralytics, PyAV or nats, no
network): it needs only torch, torchvision, OpenCV, numpy and this repository.
The network is :class:`bench.yolo11_torch.YOLO11` (YOLO11n built from its
architecture in plain PyTorch, checked against Ultralytics' on the same weights in
tests/bench/test_gpu.py) with random weights: time per frame does not depend on them.

Parts, each printed as it finishes and written to ``--out`` as JSON:

1. ``model``: forward of a (B, 3, 384, 640) batch (a 720p frame letterboxed to
   imgsz 640) for B in 1, 2, 4, 8, 16, 32, FP32 and FP16 (``torch.cuda.synchronize``
   around each timed call); ms per batch and frames/s, median of ``--iters``.
2. ``decode``: 720p quality-80 JPEGs (generated with OpenCV, court-like texture and
   moving blocks, ~100-150 KB) decoded by ``torchvision.io.decode_jpeg`` on the GPU
   (nvJPEG, batches of 32) vs OpenCV on the CPU (``--cpu-workers`` threads); frames/s.
3. ``streams``: N cameras at 15 fps (arrivals staggered, clock-driven, in process:
   there is no NATS there) into one consumer loop: newest frame per camera wins, up
   to ``--max-batch`` frames per batch, decode (GPU or CPU), resize and pad on the
   GPU, FP16 forward, per image the top 100 candidates through ``batched_nms``
   (constant post-processing work, as on a busy court; random weights score every
   anchor alike), results copied back to the host. Added latency = result on the
   host - frame arrival. N is served in real time when p99 <= ``--p99-ms`` and at
   most 1 % of frames are superseded before they run. N rises through a ladder
   until it fails; reported for GPU and CPU decode.

Last line: ``RESULT gpu_streams_720p15=<N, GPU decode> anchor=<N, CPU decode> ratio=<quotient>``
(goal: >= 200 streams per H200 with p99 <= 100 ms).

Run on the GPU machine: ``python -m bench.gpu --out $OUT/gpu.json`` (under 8 minutes).
``--smoke`` runs a tiny configuration on the CPU (tests/bench/test_gpu.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torchvision.ops import batched_nms

from bench.yolo11_torch import YOLO11

FPS = 15.0
LADDER = (25, 50, 100, 150, 200, 250, 300, 400, 500, 600, 800, 1000)
SMOKE_LADDER = (1, 2, 4)


@dataclass(frozen=True, slots=True)
class Setup:
    """Sizes in pixels (frames ``width`` x ``height``, network input ``in_h`` x ``in_w``)."""

    device: str
    width: int = 1280
    height: int = 720
    in_h: int = 384
    in_w: int = 640
    batches: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    iters: int = 30
    warmup: int = 3
    trial_s: float = 4.0
    max_batch: int = 32
    p99_ms: float = 100.0
    ladder: tuple[int, ...] = LADDER
    cpu_workers: int = 8


@dataclass(slots=True)
class Trial:
    streams: int
    decode: str
    offered: int = 0
    served: int = 0
    superseded: int = 0
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    mean_batch: float = float("nan")
    ok: bool = False
    latencies: list[float] = field(default_factory=list, repr=False)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile, ``q`` in [0, 100]; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def make_jpegs(count: int, width: int, height: int) -> list[bytes]:
    """Quality-80 4:2:0 JPEGs with texture and motion (sizes like a court camera's)."""
    rng = np.random.default_rng(7)
    texture = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
    ys, xs = np.mgrid[0:height, 0:width]
    out = []
    for i in range(count):
        img = texture.copy()
        img[..., 2] += ((xs // 40 + ys // 40 + i // 3) % 2 * 120).astype(np.uint8)
        for k in range(4):
            x = int((i * (5 + k) + k * 300) % max(width - 120, 1))
            y0 = (height // 4 + k * height // 8) % max(height - height // 6, 1)
            img[y0:y0 + height // 6, x:x + max(width // 20, 2)] = (40 * k, 200, 255 - 40 * k)
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80,
                                             cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420])
        assert ok
        out.append(buf.tobytes())
    return out


def build_model(setup: Setup, half: bool) -> YOLO11:
    model = YOLO11().fuse().eval().to(setup.device)
    return model.half() if half else model


def time_model(setup: Setup) -> list[dict[str, float | int | str]]:
    """Part 1: ms per batch and frames/s, FP32 and (on a GPU) FP16."""
    rows: list[dict[str, float | int | str]] = []
    precisions = ["fp32", "fp16"] if setup.device.startswith("cuda") else ["fp32"]
    for precision in precisions:
        model = build_model(setup, precision == "fp16")
        dtype = torch.float16 if precision == "fp16" else torch.float32
        for b in setup.batches:
            x = torch.rand(b, 3, setup.in_h, setup.in_w, device=setup.device, dtype=dtype)
            times = []
            with torch.inference_mode():
                for i in range(setup.iters + setup.warmup):
                    sync(setup.device)
                    start = time.perf_counter()
                    model(x)
                    sync(setup.device)
                    if i >= setup.warmup:
                        times.append(time.perf_counter() - start)
            ms = statistics.median(times) * 1e3
            rows.append({"precision": precision, "batch": b, "ms_per_batch": round(ms, 3),
                         "fps": round(b / ms * 1e3, 1)})
            print(f"model {precision} batch {b:2d}: {ms:8.2f} ms/batch, {b / ms * 1e3:9.1f} frames/s", flush=True)
    return rows


class Decoder:
    """JPEG bytes -> list of (3, H, W) uint8 tensors on ``device``: nvJPEG or OpenCV threads."""

    def __init__(self, mode: str, device: str, workers: int) -> None:
        self.mode, self.device = mode, device
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="jpeg") if mode == "cpu" else None

    def __call__(self, jpegs: list[bytes]) -> list[torch.Tensor]:
        if self.mode == "gpu":
            data = [torch.frombuffer(bytearray(j), dtype=torch.uint8) for j in jpegs]
            out = torchvision.io.decode_jpeg(data, device=self.device)
            return list(out) if isinstance(out, list) else [out]
        assert self.pool is not None
        images = list(self.pool.map(_cv2_rgb, jpegs))
        return [torch.from_numpy(im).permute(2, 0, 1).to(self.device, non_blocking=True) for im in images]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def _cv2_rgb(data: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"not a decodable JPEG ({len(data)} bytes)")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def time_decode(setup: Setup, jpegs: list[bytes]) -> dict[str, float]:
    """Part 2: frames/s of each decoder (batches of ``max_batch``)."""
    out: dict[str, float] = {}
    modes = ["gpu", "cpu"] if setup.device.startswith("cuda") else ["cpu"]
    for mode in modes:
        dec = Decoder(mode, setup.device, setup.cpu_workers)
        batch = (jpegs * (setup.max_batch // len(jpegs) + 1))[:setup.max_batch]
        dec(batch)
        sync(setup.device)
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < max(1.0, setup.trial_s / 2):
            dec(batch)
            n += len(batch)
        sync(setup.device)
        out[mode] = round(n / (time.perf_counter() - start), 1)
        dec.close()
        print(f"decode {mode}: {out[mode]:.1f} frames/s ({setup.width}x{setup.height} JPEG)", flush=True)
    if "gpu" not in out:
        print("decode gpu: skipped (no CUDA device)", flush=True)
    return out


def preprocess(images: list[torch.Tensor], setup: Setup, dtype: torch.dtype) -> torch.Tensor:
    """Resize every (3, H, W) uint8 frame to the input width and pad (grey 114) to ``in_h`` x ``in_w``."""
    x = torch.stack(images).to(dtype).div_(255.0)
    h, w = x.shape[2:]
    r = min(setup.in_h / h, setup.in_w / w)
    nh, nw = round(h * r), round(w * r)
    if (nh, nw) != (h, w):
        x = F.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False)
    top, left = (setup.in_h - nh) // 2, (setup.in_w - nw) // 2
    return F.pad(x, (left, setup.in_w - nw - left, top, setup.in_h - nh - top), value=114 / 255)


def postprocess(pred: torch.Tensor, iou: float = 0.7, candidates: int = 100) -> list[np.ndarray]:
    """Per image: the top ``candidates`` anchors by best class score, class-aware NMS, rows
    ``x1, y1, x2, y2, score, class`` (input pixels) on the host."""
    boxes_xywh, scores = pred[:, :4], pred[:, 4:]
    best, cls = scores.max(1)
    top = best.topk(min(candidates, best.shape[1]), dim=1).indices
    out = []
    for i in range(pred.shape[0]):
        idx = top[i]
        b = boxes_xywh[i][:, idx].T.float()
        xyxy = torch.cat((b[:, :2] - b[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2), 1)
        s, c = best[i, idx].float(), cls[i, idx]
        keep = batched_nms(xyxy, s, c, iou)
        out.append(torch.cat((xyxy[keep], s[keep, None], c[keep, None].float()), 1).cpu().numpy())
    return out


def serve(setup: Setup, model: YOLO11, jpegs: list[bytes], streams: int, decode: str) -> Trial:
    """Part 3, one trial: ``streams`` cameras at 15 fps for ``trial_s`` seconds, one consumer loop."""
    dec = Decoder(decode, setup.device, setup.cpu_workers)
    trial = Trial(streams, decode)
    period = 1.0 / FPS
    phase = [i * period / streams for i in range(streams)]
    next_seq = [0] * streams
    pending: dict[int, float] = {}  # camera -> arrival (s) of its newest unserved frame
    batches: list[int] = []
    dtype = torch.float16 if setup.device.startswith("cuda") else torch.float32
    start = time.perf_counter()
    end = start + setup.trial_s
    with torch.inference_mode():
        while True:
            now = time.perf_counter() - start
            for cam in range(streams):  # frames that have arrived since the last pass
                while phase[cam] + next_seq[cam] * period <= min(now, setup.trial_s):
                    if cam in pending:
                        trial.superseded += 1
                    pending[cam] = phase[cam] + next_seq[cam] * period
                    next_seq[cam] += 1
                    trial.offered += 1
            if not pending:
                if now >= setup.trial_s:
                    break
                time.sleep(min(period / streams, 0.002))
                continue
            chosen = sorted(pending, key=pending.__getitem__)[:setup.max_batch]
            arrivals = [pending.pop(cam) for cam in chosen]
            images = dec([jpegs[(cam + next_seq[cam]) % len(jpegs)] for cam in chosen])
            postprocess(model(preprocess(images, setup, dtype)))  # ends with the copy to the host
            done = time.perf_counter() - start
            trial.latencies.extend((done - a) * 1e3 for a in arrivals)
            trial.served += len(chosen)
            batches.append(len(chosen))
            if time.perf_counter() > end + 5:  # hopelessly behind: stop the trial
                break
    dec.close()
    trial.p50_ms = round(percentile(trial.latencies, 50), 2)
    trial.p99_ms = round(percentile(trial.latencies, 99), 2)
    trial.mean_batch = round(statistics.mean(batches), 2) if batches else float("nan")
    trial.ok = trial.p99_ms <= setup.p99_ms and trial.superseded <= 0.01 * max(trial.offered, 1)
    print(f"streams {streams:4d} decode {decode}: served {trial.served}/{trial.offered}, superseded "
          f"{trial.superseded}, latency p50 {trial.p50_ms} ms p99 {trial.p99_ms} ms, mean batch "
          f"{trial.mean_batch} -> {'real time' if trial.ok else 'NOT real time'}", flush=True)
    return trial


def max_streams(setup: Setup, model: YOLO11, jpegs: list[bytes], decode: str,
                deadline: float) -> tuple[int, list[Trial]]:
    """Climb the ladder until a trial fails (or time runs out): the last N served in real time."""
    best, trials = 0, list[Trial]()
    for n in setup.ladder:
        if trials and time.perf_counter() + setup.trial_s + 2 > deadline:  # the first trial always runs
            print(f"streams: stopping the {decode} ladder at {n} (time budget)", flush=True)
            break
        trial = serve(setup, model, jpegs, n, decode)
        trials.append(trial)
        if not trial.ok:
            break
        best = n
    return best, trials


def run(setup: Setup, budget_s: float, out: Path | None, log: Callable[[str], None] = print) -> dict[str, object]:
    """All three parts within ``budget_s`` seconds; returns (and writes) the JSON report."""
    deadline = time.perf_counter() + budget_s
    torch.backends.cudnn.benchmark = setup.device.startswith("cuda")
    name = torch.cuda.get_device_name(0) if setup.device.startswith("cuda") else "cpu"
    log(f"device {name}, torch {torch.__version__}, torchvision {torchvision.__version__}, "
        f"opencv {cv2.__version__}, python {sys.version.split()[0]}")
    report: dict[str, object] = {"device": name, "setup": asdict(setup), "torch": torch.__version__}
    report["model"] = time_model(setup)
    jpegs = make_jpegs(64, setup.width, setup.height)
    report["jpeg_kb"] = round(statistics.mean(len(j) for j in jpegs) / 1024, 1)
    report["decode"] = time_decode(setup, jpegs)
    model = build_model(setup, setup.device.startswith("cuda"))
    streams: dict[str, object] = {}
    best: dict[str, int] = {}
    modes = ["gpu", "cpu"] if setup.device.startswith("cuda") else ["cpu"]
    for mode in modes:
        remaining = deadline - time.perf_counter()
        mode_deadline = time.perf_counter() + (remaining / 2 if mode == "gpu" and len(modes) == 2 else remaining)
        best[mode], trials = max_streams(setup, model, jpegs, mode, mode_deadline)
        streams[mode] = [{k: v for k, v in asdict(t).items() if k != "latencies"} for t in trials]
    report["streams"] = streams
    report["max_streams"] = best
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1))
    ours = best.get("gpu", best["cpu"])
    log(f"max 720p15 streams in real time (p99 <= {setup.p99_ms:g} ms): " +
        ", ".join(f"{k} decode {v}" for k, v in best.items()) + " (goal >= 200 on an H200)")
    log(f"RESULT gpu_streams_720p15={ours} anchor={best['cpu']} ratio={ours / max(best['cpu'], 1):.4g}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny configuration on the CPU (a test)")
    parser.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    parser.add_argument("--budget-s", type=float, default=420.0, help="wall-clock budget (seconds)")
    parser.add_argument("--iters", type=int, default=30)
    parser.add_argument("--trial-s", type=float, default=4.0)
    parser.add_argument("--max-batch", type=int, default=32)
    parser.add_argument("--cpu-workers", type=int, default=8)
    parser.add_argument("--out", type=Path, default=None, help="JSON report path")
    args = parser.parse_args(argv)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.smoke:
        setup = Setup(device="cpu", width=320, height=180, in_h=192, in_w=320, batches=(1, 2), iters=2, warmup=1,
                      trial_s=1.0, max_batch=4, p99_ms=1000.0, ladder=SMOKE_LADDER, cpu_workers=2)
        torch.set_num_threads(2)
    else:
        setup = Setup(device=device, iters=args.iters, trial_s=args.trial_s, max_batch=args.max_batch,
                      cpu_workers=args.cpu_workers)
    threading.current_thread().name = "bench-gpu"
    run(setup, 60.0 if args.smoke else args.budget_s, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
