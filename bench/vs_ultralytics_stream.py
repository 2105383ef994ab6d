"""End-to-end fps on a video file: Courtside vs Ultralytics' own streaming predict.

Courtside: a feeder thread decodes the clip (PyAV) and JPEG-encodes each frame with
ingest's encoder; frames go through a real nats-server to :class:`InferenceConsumer`
(Ultralytics runner), annotations come back. The feeder keeps two frames in
flight on two camera ids (closed loop: every frame is annotated, none dropped),
so fps = frames / (first publish -> last annotation).

Anchor: ``model.predict(source=clip, stream=True)`` on the same YOLO model object,
iterating all results (Ultralytics decodes the video with OpenCV itself).

Same model (yolo11n architecture), same imgsz/conf/threads, 720p clip, alternating
runs, median of ``--runs``.

``--streams N`` (e.g. 4): N cameras each playing the clip. Courtside: N feeders, one
consumer batching across the cameras (``batch`` = N). Anchor: N separate Ultralytics
loops, as one would write them by hand: one thread and one model instance per stream
(Ultralytics models are not thread-safe), all running at once. fps = all frames of all
streams / wall time. The Courtside side uses the default configuration of the
``ultralytics`` backend (``options.runtime: auto``: ONNX Runtime on its own export
on the CPU); ``--runtime torch`` serves it on PyTorch instead, and ``--backend onnx``
through the ``onnx`` backend on a file exported with ``inference.export``. The
anchor is always Ultralytics on PyTorch.

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
from courtside_contracts.headers import FrameMeta
from courtside_contracts.subjects import annotations_filter, frames_subject
from nats.aio.msg import Msg

from bench.common import court_clip, median, result_line
from courtside.config import CameraConfig, ModelConfig
from courtside.nats_server import EmbeddedNats
from courtside.natsio import now_ns
from inference.backends import create_runner
from inference.backends.base import Runner
from inference.export import export_onnx
from inference.runtime.consumer import InferenceConsumer
from inference.runtime.worker import call_in_fresh_thread
from ingest.jpeg_encoder import JpegEncoder

INFLIGHT = 2


def ultralytics_stream_fps(runner: object, clip: Path) -> tuple[float, int]:
    model, args = runner.model, runner._predict_args  # type: ignore[attr-defined]
    start = time.perf_counter()
    n = sum(1 for _ in model.predict(source=str(clip), stream=True, **args))
    return n / (time.perf_counter() - start), n


def ultralytics_streams_fps(runners: list[object], clip: Path) -> tuple[float, int]:
    """N hand-written Ultralytics loops at once, one thread and one model each."""
    counts = [0] * len(runners)

    def loop(i: int) -> None:
        counts[i] = ultralytics_stream_fps(runners[i], clip)[1]

    threads = [threading.Thread(target=loop, args=(i,), name=f"ultralytics-{i}") for i in range(len(runners))]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - start), sum(counts)


def _feeder(clip: Path, out: queue.Queue[tuple[bytes, int, int] | None]) -> None:
    """Thread: decode + JPEG-encode every frame with ingest's own encoder (from the YUV planes, a camera's
    default ``max_side`` and ``jpeg_quality``), bounded hand-off."""
    fields = CameraConfig.model_fields
    encoder = JpegEncoder(fields["max_side"].default, fields["jpeg_quality"].default)
    with av.open(str(clip)) as container:
        for frame in container.decode(video=0):
            encoded = encoder.encode(frame, 0, None)
            out.put((encoded.jpeg, encoded.width, encoded.height))
    out.put(None)


async def courtside_fps(url: str, config: ModelConfig, runner: Runner, clip: Path,
                        streams: int = 1) -> tuple[float, int]:
    """One feeder per stream; each stream keeps ``INFLIGHT`` frames in flight on its own cameras
    when alone, one when several streams share the consumer (the batch is then the streams)."""
    nc = await nats.connect(url)
    per_stream = INFLIGHT if streams == 1 else 1
    cameras = {f"s{s}-cam{i}": s for s in range(streams) for i in range(per_stream)}
    consumer = InferenceConsumer(config, runner, nc, cameras=list(cameras), instance="e2e")
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    while consumer.state.value != "ready":  # noqa: ASYNC110 - polls plain state
        await asyncio.sleep(0.01)
    feeds: list[queue.Queue[tuple[bytes, int, int] | None]] = [queue.Queue(maxsize=4) for _ in range(streams)]
    done = asyncio.Event()
    sent = received = seq = 0
    ended: set[int] = set()
    start = time.perf_counter()
    threads = [threading.Thread(target=_feeder, args=(clip, feed), name=f"bench-feeder-{i}", daemon=True)
               for i, feed in enumerate(feeds)]
    for thread in threads:
        thread.start()

    def check_done() -> None:
        if len(ended) == streams and received == sent:
            done.set()

    async def send(camera: str) -> None:
        nonlocal sent, seq
        stream = cameras[camera]
        item = await asyncio.to_thread(feeds[stream].get)
        if item is None:
            ended.add(stream)
            check_done()
            return
        data, w, h = item
        sent += 1
        seq += 1
        meta = FrameMeta(camera, seq, now_ns(), w, h)
        await nc.publish(frames_subject(camera), data, headers=meta.to_headers())

    async def on_annotation(msg: Msg) -> None:
        nonlocal received
        received += 1
        camera = msg.headers["Cs-Camera"] if msg.headers else ""
        if cameras[camera] in ended:
            check_done()
        else:
            await send(camera)

    await nc.subscribe(annotations_filter(model=config.name), cb=on_annotation)
    await asyncio.gather(*(send(camera) for camera in cameras))
    await asyncio.wait_for(done.wait(), 600)
    elapsed = time.perf_counter() - start
    stop.set()
    await task
    await nc.close()
    for thread in threads:
        thread.join()
    return received / elapsed, received


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=4, help="clip length (30 fps)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backend", choices=["ultralytics", "onnx"], default="ultralytics")
    parser.add_argument("--runtime", choices=["auto", "onnx", "torch"], default="auto",
                        help="backend ultralytics: options.runtime (auto = the default configuration)")
    parser.add_argument("--streams", type=int, default=1, help="cameras playing the clip at once")
    parser.add_argument("--batch", type=int, help="consumer micro-batch (default: --streams)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    clip = court_clip(seconds=args.seconds)
    config = ModelConfig(name="e2e", weights="yolo11n.yaml", imgsz=args.imgsz, threads=args.threads,
                         batch=args.batch or args.streams, max_wait_ms=0 if args.streams == 1 else 20,
                         max_age_ms=60_000, options={"runtime": args.runtime})
    torch_config = config.model_copy(update={"options": {"runtime": "torch"}})
    anchor_runners = [call_in_fresh_thread("load", create_runner, torch_config)  # torch never on the main thread
                      for _ in range(args.streams)]
    runner = call_in_fresh_thread("load", create_runner, config)
    call_in_fresh_thread("ultralytics", ultralytics_streams_fps, anchor_runners, clip)
    if args.backend == "onnx":
        tmp = tempfile.TemporaryDirectory()
        onnx_path = call_in_fresh_thread("export", export_onnx, "yolo11n.yaml", Path(tmp.name) / "m.onnx",
                                         args.imgsz)
        config = config.model_copy(update={"backend": "onnx", "weights": str(onnx_path), "options": {}})
        runner = create_runner(config)  # warm-up: predictor set-up, first video open
    ours: list[float] = []
    anchor: list[float] = []
    with EmbeddedNats() as server:
        for run in range(args.runs):
            fps_a, n_a = call_in_fresh_thread("ultralytics", ultralytics_streams_fps, anchor_runners, clip)
            fps_c, n_c = await courtside_fps(server.url, config, runner, clip, args.streams)
            anchor.append(fps_a)
            ours.append(fps_c)
            print(f"run {run + 1}: courtside {fps_c:.2f} fps ({n_c} frames), ultralytics stream {fps_a:.2f} fps "
                  f"({n_a} frames)", flush=True)
    c, a = median(ours), median(anchor)
    print(f"clip {clip.name}, {args.streams} stream(s), imgsz {args.imgsz}, threads {args.threads}, "
          f"courtside backend {args.backend} runtime {getattr(runner, 'runtime', 'onnxruntime')} "
          f"(batch {config.batch}, decode {config.decode})")
    print(result_line("e2e_fps", c, a, c / a))


if __name__ == "__main__":
    asyncio.run(main())
