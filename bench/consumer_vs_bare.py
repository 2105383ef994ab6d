"""Consumer throughput vs a bare loop doing the same per-frame work, same backend, same run.

Courtside: frames (720p JPEG, as ingest publishes them) go through a real
nats-server into :class:`InferenceConsumer`; a closed-loop feeder keeps
``--inflight`` frames outstanding (one per camera, so the newest-frame-wins slots
never drop one) and publishes the next frame when an annotation comes back.
Throughput = annotations per second.

Like-for-like anchor (the RESULT lines): the same loaded runner in a plain Python
loop doing what the consumer must do per frame: the JPEG bytes in, decode (at the
reduced scale ``decode: auto`` asks for, as the consumer does), ``runner.infer``.
The ratio is then the runtime's own overhead (NATS in and out, slots, batching,
threads, JSON). Measured for two backends: ``torch`` (the ``ultralytics`` backend
with ``options.runtime: torch``) and the default configuration (``runtime: auto``:
ONNX Runtime on the CPU); the LAST RESULT line is the default's.

Old anchor (reported as an extra line): Ultralytics' ``model.predict(image)`` on
frames already decoded at full size (no JPEG, no NATS, no JSON), against the
consumer on the default configuration: what a user's hand-written loop would give.

Alternating runs, each side's model calls in a thread of its own (never the main
thread), median of ``--runs``. Weights: the yolo11n architecture (no weights can be
downloaded here; an untrained model costs the same time per frame).

Prints ``RESULT consumer_fps_torch=... ratio=...`` then ``RESULT consumer_fps=<default
backend> anchor=<bare loop, same backend> ratio=<consumer/bare>``. Goal: ratio >= 0.95.

Run: ``.venv/bin/python -m bench.consumer_vs_bare [--frames 60] [--runs 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time

import av
import nats
import numpy as np
import simplejpeg
from courtside_contracts.headers import FrameMeta
from courtside_contracts.subjects import annotations_filter, frames_subject
from nats.aio.msg import Msg

from bench.common import court_clip, median, result_line
from courtside.config import ModelConfig
from courtside.nats_server import EmbeddedNats
from courtside.natsio import now_ns
from inference.backends import create_runner
from inference.backends.base import Runner
from inference.runtime.consumer import InferenceConsumer
from inference.runtime.decode import decode_frame, decode_jpeg
from inference.runtime.worker import call_in_fresh_thread


def load_frames(count: int) -> list[bytes]:
    """``count`` 720p frames of the benchmark clip as quality-80 4:2:0 JPEGs."""
    out: list[bytes] = []
    with av.open(str(court_clip(seconds=2))) as container:
        for frame in container.decode(video=0):
            img = frame.to_ndarray(format="bgr24")
            out.append(bytes(simplejpeg.encode_jpeg(img, quality=80, colorspace="BGR", colorsubsampling="420")))
            if len(out) == count:
                break
    return out


def bare_fps(runner: object, images: list[np.ndarray]) -> float:
    """Ultralytics' ``model.predict`` on decoded frames (the old anchor)."""
    model, args = runner.model, runner._predict_args  # type: ignore[attr-defined]
    start = time.perf_counter()
    for image in images:
        model.predict(image, **args)
    return len(images) / (time.perf_counter() - start)


def bare_same_work_fps(runner: Runner, jpegs: list[bytes], min_long_side: int | None) -> float:
    """What the consumer does per frame, in a plain loop: decode the JPEG bytes, ``infer``."""
    start = time.perf_counter()
    for data in jpegs:
        runner.infer([decode_frame(data, min_long_side).image])
    return len(jpegs) / (time.perf_counter() - start)


async def consumer_fps(url: str, config: ModelConfig, runner: Runner, jpegs: list[bytes], inflight: int,
                       warmup: int = 5) -> float:
    nc = await nats.connect(url)
    cameras = [f"cam{i}" for i in range(inflight)]
    consumer = InferenceConsumer(config, runner, nc, cameras=cameras, instance="bench")
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    while consumer.state.value != "ready":  # noqa: ASYNC110 - polls plain state
        await asyncio.sleep(0.01)
    total = len(jpegs) + warmup
    sent = 0
    received = 0
    started = 0.0
    done = asyncio.Event()

    async def send(camera: str) -> None:
        nonlocal sent
        data = jpegs[sent % len(jpegs)]
        sent += 1
        meta = FrameMeta(camera, sent, now_ns(), 1280, 720)
        await nc.publish(frames_subject(camera), data, headers=meta.to_headers())

    async def on_annotation(msg: Msg) -> None:
        nonlocal received, started
        received += 1
        if received == warmup:
            started = time.perf_counter()
        if received == total:
            done.set()
        elif sent < total:
            await send(msg.headers["Cs-Camera"] if msg.headers else "")

    await nc.subscribe(annotations_filter(model=config.name), cb=on_annotation)
    for camera in cameras:
        await send(camera)
    await asyncio.wait_for(done.wait(), 300)
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    await nc.close()
    return (total - warmup) / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--inflight", type=int, default=2, help="frames outstanding (= cameras)")
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    default = ModelConfig(name="bench", weights="yolo11n.yaml", imgsz=args.imgsz, threads=args.threads,
                          batch=args.batch, max_wait_ms=0, max_age_ms=60_000, decode="auto")
    configs = {"torch": default.model_copy(update={"options": {"runtime": "torch"}}), "default": default}
    # torch only ever runs in threads that exit (or the consumer's model thread): see
    # inference.runtime.worker - a second live OpenMP pool slows the model ~50 %.
    runners = {k: call_in_fresh_thread("load", create_runner, c) for k, c in configs.items()}
    jpegs = load_frames(args.frames)
    images = [decode_jpeg(j) for j in jpegs]
    sides = {k: r.input_size if configs[k].decode == "auto" else None for k, r in runners.items()}
    call_in_fresh_thread("bare", bare_fps, runners["torch"], images[:3])
    ours: dict[str, list[float]] = {k: [] for k in configs}
    same: dict[str, list[float]] = {k: [] for k in configs}
    old_anchor: list[float] = []
    with EmbeddedNats() as server:
        for run in range(args.runs):
            for key, config in configs.items():
                same[key].append(call_in_fresh_thread("bare", bare_same_work_fps, runners[key], jpegs, sides[key]))
                ours[key].append(await consumer_fps(server.url, config, runners[key], jpegs, args.inflight))
            old_anchor.append(call_in_fresh_thread("bare", bare_fps, runners["torch"], images))
            print(f"run {run + 1}: " + ", ".join(
                f"{k}: consumer {ours[k][-1]:.2f} fps, bare same work {same[k][-1]:.2f} fps" for k in configs)
                + f"; Ultralytics predict on decoded frames {old_anchor[-1]:.2f} fps", flush=True)
    c = {k: median(v) for k, v in ours.items()}
    a = {k: median(v) for k, v in same.items()}
    old = median(old_anchor)
    served = getattr(runners["default"], "runtime", "?")
    print(f"frames {images[0].shape[1]}x{images[0].shape[0]}, imgsz {args.imgsz}, threads {args.threads}, "
          f"batch {args.batch}, {args.frames} frames x {args.runs} runs; default runtime: {served}")
    print(f"old anchor (Ultralytics predict on decoded frames): {old:.2f} fps, consumer (default) "
          f"ratio {c['default'] / old:.3f}")
    print(result_line("consumer_fps_torch", c["torch"], a["torch"], c["torch"] / a["torch"]))
    print(result_line("consumer_fps", c["default"], a["default"], c["default"] / a["default"]))


if __name__ == "__main__":
    asyncio.run(main())
