"""End-to-end fps on a video file: Courtside vs Ultralytics' own streaming predict.

Courtside: a feeder thread decodes the clip (PyAV) and JPEG-encodes each frame as
ingest does; frames go through a real nats-server to :class:`InferenceConsumer`
(Ultralytics runner), annotations come back. The feeder keeps two frames in
flight on two camera ids (closed loop: every frame is annotated, none dropped),
so fps = frames / (first publish -> last annotation).

Anchor: ``model.predict(source=clip, stream=True)`` on the same YOLO model object,
iterating all results (Ultralytics decodes the video with OpenCV itself).

Same model (yolo11n architecture), same imgsz/conf/threads, 720p clip, alternating
runs, median of ``--runs``. ``--backend onnx`` serves the same architecture exported
with ``inference.export`` through ONNX Runtime instead (a Courtside deployment
choice; the anchor stays Ultralytics on PyTorch).

Prints ``RESULT e2e_fps=<courtside> anchor=<ultralytics stream fps> ratio=<courtside/anchor>``.
Goal: ratio >= 1.0.

Run: ``.venv/bin/python -m bench.vs_ultralytics_stream [--seconds 4] [--runs 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import queue
import tempfile
import threading
import time
from pathlib import Path

import av
import nats
import simplejpeg

from bench.common import court_clip, median, result_line
from contracts.headers import FrameMeta
from contracts.subjects import annotations_filter, frames_subject
from courtside.config import ModelConfig
from courtside.nats_server import EmbeddedNats
from courtside.natsio import now_ns
from inference.backends import create_runner
from inference.export import export_onnx
from inference.runtime.consumer import InferenceConsumer
from inference.runtime.worker import call_in_fresh_thread

INFLIGHT = 2


def ultralytics_stream_fps(runner: object, clip: Path) -> tuple[float, int]:
    model, args = runner.model, runner._predict_args  # type: ignore[attr-defined]
    start = time.perf_counter()
    n = sum(1 for _ in model.predict(source=str(clip), stream=True, **args))
    return n / (time.perf_counter() - start), n


def _feeder(clip: Path, out: queue.Queue[tuple[bytes, int, int] | None]) -> None:
    """Thread: decode + JPEG-encode every frame (what ingest does), bounded hand-off."""
    with av.open(str(clip)) as container:
        for frame in container.decode(video=0):
            img = frame.to_ndarray(format="bgr24")
            data = simplejpeg.encode_jpeg(img, quality=80, colorspace="BGR", colorsubsampling="420")
            out.put((bytes(data), img.shape[1], img.shape[0]))
    out.put(None)


async def courtside_fps(url: str, config: ModelConfig, runner: object, clip: Path) -> tuple[float, int]:
    nc = await nats.connect(url)
    cameras = [f"cam{i}" for i in range(INFLIGHT)]
    consumer = InferenceConsumer(config, runner, nc, cameras=cameras, instance="e2e")  # type: ignore[arg-type]
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    while consumer.state.value != "ready":  # noqa: ASYNC110 - polls plain state
        await asyncio.sleep(0.01)
    frames: queue.Queue[tuple[bytes, int, int] | None] = queue.Queue(maxsize=4)
    done = asyncio.Event()
    state = {"sent": 0, "received": 0, "eof": False}
    start = time.perf_counter()
    thread = threading.Thread(target=_feeder, args=(clip, frames), name="bench-feeder", daemon=True)
    thread.start()

    async def send(camera: str) -> None:
        item = await asyncio.to_thread(frames.get)
        if item is None:
            state["eof"] = True
            if state["received"] == state["sent"]:
                done.set()
            return
        data, w, h = item
        state["sent"] += 1
        meta = FrameMeta(camera, state["sent"], now_ns(), w, h)
        await nc.publish(frames_subject(camera), data, headers=meta.to_headers())

    async def on_annotation(msg: nats.aio.msg.Msg) -> None:
        state["received"] += 1
        if state["eof"]:
            if state["received"] == state["sent"]:
                done.set()
        else:
            await send(msg.headers["Cs-Camera"])  # type: ignore[index]

    await nc.subscribe(annotations_filter(model=config.name), cb=on_annotation)
    for camera in cameras:
        await send(camera)
    await asyncio.wait_for(done.wait(), 600)
    elapsed = time.perf_counter() - start
    stop.set()
    await task
    await nc.close()
    thread.join()
    return state["received"] / elapsed, state["received"]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=4, help="clip length (30 fps)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backend", choices=["ultralytics", "onnx"], default="ultralytics")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    clip = court_clip(seconds=args.seconds)
    config = ModelConfig(name="e2e", weights="yolo11n.yaml", imgsz=args.imgsz, threads=args.threads, batch=1,
                         max_wait_ms=0, max_age_ms=60_000)
    runner = call_in_fresh_thread("load", create_runner, config)  # torch never on the main thread
    call_in_fresh_thread("ultralytics", ultralytics_stream_fps, runner, clip)
    anchor_runner = runner
    if args.backend == "onnx":
        tmp = tempfile.TemporaryDirectory()
        onnx_path = call_in_fresh_thread("export", export_onnx, "yolo11n.yaml", Path(tmp.name) / "m.onnx",
                                         args.imgsz)
        config = config.model_copy(update={"backend": "onnx", "weights": str(onnx_path)})
        runner = create_runner(config)  # warm-up: predictor set-up, first video open
    ours: list[float] = []
    anchor: list[float] = []
    with EmbeddedNats() as server:
        for run in range(args.runs):
            fps_a, n_a = call_in_fresh_thread("ultralytics", ultralytics_stream_fps, anchor_runner, clip)
            fps_c, n_c = await courtside_fps(server.url, config, runner, clip)
            anchor.append(fps_a)
            ours.append(fps_c)
            print(f"run {run + 1}: courtside {fps_c:.2f} fps ({n_c} frames), ultralytics stream {fps_a:.2f} fps "
                  f"({n_a} frames)", flush=True)
    c, a = median(ours), median(anchor)
    print(f"clip {clip.name}, imgsz {args.imgsz}, threads {args.threads}, courtside backend {args.backend}")
    print(result_line("e2e_fps", c, a, c / a))


if __name__ == "__main__":
    asyncio.run(main())
