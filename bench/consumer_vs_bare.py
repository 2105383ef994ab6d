"""Consumer throughput vs a bare ``model.predict`` loop on the same frames.

Courtside: frames (720p JPEG, as ingest publishes them) go through a real
nats-server into :class:`InferenceConsumer` hosting the Ultralytics runner; a
closed-loop feeder keeps ``--inflight`` frames outstanding (one per camera, so the
newest-frame-wins slots never drop one) and publishes the next frame when an
annotation comes back. Throughput = annotations per second.

Anchor: the same loaded YOLO model, ``model.predict(image)`` in a plain Python loop
over the same frames already decoded (no JPEG, no NATS, no JSON).

Same model object, same predict arguments, same threads, alternating runs (each
side's torch calls in a thread of its own, never the main thread); the
median of ``--runs`` runs each. The consumer runs twice per round: with the
default ``decode: auto`` (JPEGs decoded at the smallest libjpeg scale covering
``imgsz``: 640x360 for these frames; the RESULT line) and with ``decode: full``
(every pixel, as the anchor has them: isolates the runtime's own overhead). Weights: the yolo11n architecture (no weights can
be downloaded here; an untrained model costs the same time per frame).

Prints ``RESULT consumer_fps=<median> anchor=<bare fps> ratio=<consumer/bare>``.
Goal: ratio >= 0.95 on CPU.

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

from bench.common import court_clip, median, result_line
from contracts.headers import FrameMeta
from contracts.subjects import annotations_filter, frames_subject
from courtside.config import ModelConfig
from courtside.nats_server import EmbeddedNats
from courtside.natsio import now_ns
from inference.backends import create_runner
from inference.runtime.consumer import InferenceConsumer
from inference.runtime.decode import decode_jpeg
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
    model, args = runner.model, runner._predict_args  # type: ignore[attr-defined]
    start = time.perf_counter()
    for image in images:
        model.predict(image, **args)
    return len(images) / (time.perf_counter() - start)


async def consumer_fps(url: str, config: ModelConfig, runner: object, jpegs: list[bytes], inflight: int,
                       warmup: int = 5) -> float:
    nc = await nats.connect(url)
    cameras = [f"cam{i}" for i in range(inflight)]
    consumer = InferenceConsumer(config, runner, nc, cameras=cameras, instance="bench")  # type: ignore[arg-type]
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

    async def on_annotation(msg: nats.aio.msg.Msg) -> None:
        nonlocal received, started
        received += 1
        if received == warmup:
            started = time.perf_counter()
        if received == total:
            done.set()
        elif sent < total:
            await send(msg.headers["Cs-Camera"])  # type: ignore[index]

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
    config = ModelConfig(name="bench", weights="yolo11n.yaml", imgsz=args.imgsz, threads=args.threads,
                         batch=args.batch, max_wait_ms=0, max_age_ms=60_000, decode="auto")
    full_config = config.model_copy(update={"decode": "full"})
    # torch only ever runs in threads that exit (or the consumer's model thread): see
    # inference.runtime.worker - a second live OpenMP pool slows the model ~50 %.
    runner = call_in_fresh_thread("load", create_runner, config)
    jpegs = load_frames(args.frames)
    images = [decode_jpeg(j) for j in jpegs]
    call_in_fresh_thread("bare", bare_fps, runner, images[:5])
    ours: list[float] = []
    full: list[float] = []
    anchor: list[float] = []
    with EmbeddedNats() as server:
        for run in range(args.runs):
            anchor.append(call_in_fresh_thread("bare", bare_fps, runner, images))
            ours.append(await consumer_fps(server.url, config, runner, jpegs, args.inflight))
            full.append(await consumer_fps(server.url, full_config, runner, jpegs, args.inflight))
            print(f"run {run + 1}: consumer {ours[-1]:.2f} fps (decode full: {full[-1]:.2f}), "
                  f"bare predict {anchor[-1]:.2f} fps", flush=True)
    c, f, a = median(ours), median(full), median(anchor)
    print(f"frames {images[0].shape[1]}x{images[0].shape[0]}, imgsz {args.imgsz}, threads {args.threads}, "
          f"batch {args.batch}, {args.frames} frames x {args.runs} runs")
    print(f"consumer with decode: full {f:.2f} fps, ratio {f / a:.3f}")
    print(result_line("consumer_fps", c, a, c / a))


if __name__ == "__main__":
    asyncio.run(main())
