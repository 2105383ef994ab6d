"""Overload: one 30 fps camera into a model slower than the camera (real YOLO on the CPU).

Courtside: 720p JPEG frames published at 30 fps through a real nats-server into
:class:`InferenceConsumer` hosting the Ultralytics runner (default yolo11m
architecture at imgsz 640: ~4-6 fps on 2 cores). Measured per run after a warm-up:
annotation latency (capture ``ts`` -> annotation received), frames dropped, and
the process RSS at the start and end of the measured window.

Anchor: the model's own time per frame, a bare ``model.predict`` loop on the same
decoded frame. A consumer that queued frames would see latency grow without bound;
newest-frame-wins should stay under 2x the model time.

Prints ``RESULT overload_p99_ms=<median of runs> anchor=<model ms> ratio=<p99/model>``.
Goal: ratio < 2 and flat memory.

Run: ``.venv/bin/python -m bench.overload [--seconds 12] [--runs 3] [--weights yolo11m.yaml]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import time

import nats
import psutil
from courtside_contracts.headers import FrameMeta
from courtside_contracts.subjects import annotations_filter, frames_subject
from nats.aio.msg import Msg

from bench.common import median, percentile, result_line
from bench.consumer_vs_bare import load_frames
from courtside.config import ModelConfig
from courtside.nats_server import EmbeddedNats
from courtside.natsio import now_ns
from inference.backends import create_runner
from inference.backends.base import Runner
from inference.runtime.consumer import InferenceConsumer
from inference.runtime.decode import decode_jpeg
from inference.runtime.worker import call_in_fresh_thread

WARMUP_S = 3.0


def model_ms(runner: object, jpeg: bytes, n: int = 8) -> float:
    model, args = runner.model, runner._predict_args  # type: ignore[attr-defined]
    image = decode_jpeg(jpeg)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        model.predict(image, **args)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


async def one_run(url: str, config: ModelConfig, runner: Runner, jpegs: list[bytes],
                  seconds: float) -> tuple[list[float], int, int, float]:
    """Latencies (ms) in the measured window, frames published, dropped, RSS growth (MiB)."""
    nc = await nats.connect(url)
    consumer = InferenceConsumer(config, runner, nc, cameras=["cam"], instance="overload")
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    while consumer.state.value != "ready":  # noqa: ASYNC110 - polls plain state
        await asyncio.sleep(0.01)
    latencies: list[float] = []
    measuring = False

    async def on_annotation(msg: Msg) -> None:
        if measuring:
            latencies.append((now_ns() - json.loads(msg.data)["ts"]) / 1e6)

    await nc.subscribe(annotations_filter(model=config.name), cb=on_annotation)
    proc = psutil.Process()
    start = time.monotonic()
    seq = 0
    rss_start = 0
    dropped_start = 0
    while (elapsed := time.monotonic() - start) < WARMUP_S + seconds:
        if not measuring and elapsed >= WARMUP_S:
            measuring = True
            rss_start = proc.memory_info().rss
            dropped_start = consumer.slots.superseded + consumer.slots.stale
        seq += 1
        meta = FrameMeta("cam", seq, now_ns(), 1280, 720)
        await nc.publish(frames_subject("cam"), jpegs[seq % len(jpegs)], headers=meta.to_headers())
        await asyncio.sleep(max(0.0, start + seq / 30 - time.monotonic()))
    rss_growth = (proc.memory_info().rss - rss_start) / 2**20
    print(f"  consumer model time p50 {consumer.metrics.infer_ms.percentiles(50)[0]:.0f} ms")
    dropped = consumer.slots.superseded + consumer.slots.stale - dropped_start
    measuring = False
    stop.set()
    await task
    await nc.close()
    return latencies, int(seconds * 30), dropped, rss_growth


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--weights", default="yolo11m.yaml")
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = ModelConfig(name="overload", weights=args.weights, imgsz=args.imgsz, threads=args.threads,
                         batch=1, max_wait_ms=0, max_age_ms=2000)
    runner = call_in_fresh_thread("load", create_runner, config)  # torch never on the main thread
    jpegs = load_frames(30)
    call_in_fresh_thread("model", model_ms, runner, jpegs[0], 2)
    p99s: list[float] = []
    anchors: list[float] = []
    ratios: list[float] = []
    with EmbeddedNats() as server:
        for run in range(args.runs):
            anchors.append(call_in_fresh_thread("model", model_ms, runner, jpegs[0]))  # per run: the machine's load drifts
            lat, published, dropped, growth = await one_run(server.url, config, runner, jpegs, args.seconds)
            p99s.append(percentile(lat, 99))
            ratios.append(p99s[-1] / anchors[-1])
            print(f"run {run + 1}: model {anchors[-1]:.0f} ms; {len(lat)} annotations "
                  f"({len(lat) / args.seconds:.1f} fps) of ~{published} frames, {dropped} dropped, latency "
                  f"p50 {percentile(lat, 50):.0f} ms p99 {p99s[-1]:.0f} ms, RSS {growth:+.1f} MiB", flush=True)
    print(f"model {args.weights} imgsz {args.imgsz}, {args.threads} threads, 720p frames, camera 30 fps; "
          "ratio = median of per-run p99 / model time")
    print(result_line("overload_p99_ms", median(p99s), median(anchors), median(ratios)))


if __name__ == "__main__":
    asyncio.run(main())
