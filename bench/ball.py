"""Ball tracker: F1 of the shipped weights on held-out simulator seeds, and frames per second.

Accuracy: the TrackNet protocol (4 px at the model's 512 x 288 input) on simulator
seeds never used in training, the served (tracked) output, against the anchor of
OpenCV's background-subtraction ball candidates on the same frames.

Speed: one camera of the demo court (1280x720 JPEGs, decoded at 640x360 as the
consumer does for a 512-px model), the small model (shipped weights) and the full
model (its architecture, untrained: speed only), natively (PyTorch) and with ONNX
Runtime, as a direct loop and as a consumer behind a real nats-server. Like for like:
the direct loop does the consumer's per-frame work without NATS, as ``bench/backends``
times it (the same JPEG bytes decoded at the consumer's scale, then ``runner.infer_frames``,
what the consumer calls: history, network, tracker); the consumer is fed by
:mod:`bench.paced_camera` from a camera process of its own (``--camera process``, the
default: as ingest is, never on the consumer's event loop or GIL; ``inline`` is the old
set-up, the camera on the consumer's own connection) publishing faster than the model
(``--offer`` times the direct loop's rate; the consumer serves the newest frame whenever it
is free, as live), and, reported beside it, with one frame in flight (a full round trip per
frame). Defaults: ``--threads 1``, the embedded default's setting for the ball model (it shares
the 2 cores with the other consumers and ingest), and ``--offer 1.1``, a camera just faster
than the model. Offering more measures what receiving and dropping the surplus costs, not the
runtime: at ``--offer 1.5`` (about 140 fps of 720p JPEGs into one consumer) the consumer
served 0.83 of the direct loop on the quiet machine, at 1.1 0.94-0.98 with 90-frame runs and 0.99-1.04
with 300-frame runs, the default (docs/benchmarks.md).

Last two lines: ``RESULT ball_f1=<ours> anchor=<OpenCV candidates> ratio=<quotient>`` and
``RESULT ball_fps=<small, ONNX Runtime, consumer> anchor=<its direct loop> ratio=<quotient>``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path

import nats
import simplejpeg

from bench.common import median, result_line
from bench.paced_camera import feed, feed_from_process
from courtside.config import ModelConfig
from courtside.nats_server import EmbeddedNats
from inference.backends import create_runner
from inference.backends.ball.evaluate import HELD_OUT_SEEDS, evaluate, evaluate_opencv, held_out_clips
from inference.backends.base import FrameRef, Runner
from inference.runtime.consumer import InferenceConsumer
from inference.runtime.decode import decode_frame
from inference.runtime.worker import call_in_fresh_thread
from ingest import demo_scene

SHIPPED = "shipped:small"


def direct_fps(runner: Runner, jpegs: list[bytes], camera: str, size: tuple[int, int], min_long_side: int | None
               ) -> float:
    """The consumer's per-frame work without NATS, as ``bench/backends`` times it: JPEG bytes in,
    decode (the consumer's scale), then ``runner.infer_frames`` (what the consumer calls), one frame at a time."""
    start = time.perf_counter()
    for seq, data in enumerate(jpegs):
        ref = FrameRef(camera, seq, time.time_ns(), size[0], size[1])
        runner.infer_frames([decode_frame(data, min_long_side).image], [ref])
    return len(jpegs) / (time.perf_counter() - start)


async def consumer_fps(url: str, config: ModelConfig, runner: Runner, frames_dir: Path, jpegs: list[bytes],
                       size: tuple[int, int], offered_fps: float | None, *, camera_process: bool = True,
                       decode_ahead: bool = True, warmup: int = 5) -> float:
    """Annotations per second for one camera behind a real nats-server, fed by
    :mod:`bench.paced_camera` (from a camera process of its own unless ``camera_process`` is
    False): ``offered_fps`` set, a camera faster than the model (live, newest frame whenever
    the consumer is free); ``None``, one frame in flight (closed loop). ``decode_ahead``: the
    consumer's (False: each JPEG decoded in the model thread just before it runs, no decode thread)."""
    nc = await nats.connect(url)
    consumer = InferenceConsumer(config, runner, nc, cameras=["court-1"], instance="bench", decode_ahead=decode_ahead)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    while consumer.state.value != "ready":  # noqa: ASYNC110 - polls plain state
        await asyncio.sleep(0.01)
    try:
        if camera_process:
            got = await feed_from_process(url, "court-1", config.name, frames_dir, size, measure=len(jpegs),
                                          offered_fps=offered_fps, warmup=warmup)
        else:
            got = await feed(nc, "court-1", config.name, jpegs, size, measure=len(jpegs), offered_fps=offered_fps,
                             warmup=warmup)
    finally:
        stop.set()
        await task
        await nc.close()
    return got.fps


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300,
                        help="demo frames per speed run (300: about 2-3 s a run, past the start-up transient)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="model threads (the embedded default's 1)")
    parser.add_argument("--eval-frames", type=int, default=150, help="frames per held-out clip")
    parser.add_argument("--eval-clips", type=int, default=len(HELD_OUT_SEEDS))
    parser.add_argument("--skip-full", action="store_true", help="only the small model's speed")
    parser.add_argument("--offer", type=float, default=1.1,
                        help="the camera publishes at this multiple of the direct loop's fps (faster than the model)")
    parser.add_argument("--camera", choices=("process", "inline"), default="process",
                        help="process: the camera in a process of its own (as ingest is); inline: on the "
                        "consumer's event loop and connection (what this bench did before)")
    parser.add_argument("--no-decode-ahead", action="store_true",
                        help="the consumer decodes each JPEG in the model thread (no decode thread competing with "
                        "the model's threads for the cores)")
    parser.add_argument("--runtimes", default="torch,onnx", help="comma-separated: torch, onnx (the RESULT line "
                        "needs onnx)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    base = ModelConfig(name="ball", backend="ball", weights=SHIPPED, task="track", batch=1, max_wait_ms=0,
                       max_age_ms=60_000, threads=args.threads, options={"runtime": "torch"})
    small_torch = call_in_fresh_thread("load", create_runner, base)
    cfg = small_torch.cfg  # type: ignore[attr-defined]
    clips = held_out_clips(cfg, list(HELD_OUT_SEEDS)[:args.eval_clips], args.eval_frames)
    forward = small_torch.pipeline.forward  # type: ignore[attr-defined]
    reports = call_in_fresh_thread("eval", evaluate, forward, cfg, clips)
    ours, model_only, anchor = reports["tracked"].total, reports["model"].total, evaluate_opencv(cfg, clips).total
    print(f"held-out simulator seeds {list(HELD_OUT_SEEDS)[:args.eval_clips]} x {args.eval_frames} frames, 4 px:")
    for label, c in (("tracked (served)", ours), ("model peak", model_only), ("OpenCV candidates", anchor)):
        print(f"  {label:18s} P {c.precision:.4f} R {c.recall:.4f} F1 {c.f1:.4f} acc {c.accuracy:.4f}")

    demo = [f.image for f in demo_scene.frames(args.frames)]
    jpegs = [bytes(simplejpeg.encode_jpeg(image, quality=80, colorspace="BGR", colorsubsampling="420"))
             for image in demo]
    size = (demo[0].shape[1], demo[0].shape[0])  # the published frame, pixels
    images = [decode_frame(j, 512).image for j in jpegs]
    variants = [("small", SHIPPED)] + ([] if args.skip_full else [("full", "arch:full")])
    speeds: dict[tuple[str, str], tuple[float, float]] = {}
    serial_speeds: dict[tuple[str, str], float] = {}
    camera_process = args.camera == "process"
    runtimes = [r for r in args.runtimes.split(",") if r]
    with tempfile.TemporaryDirectory() as tmp, EmbeddedNats() as server:
        frames_dir = Path(tmp)
        for n, data in enumerate(jpegs):
            (frames_dir / f"{n:04d}.jpg").write_bytes(data)
        for model_size, weights in variants:
            for runtime in runtimes:
                config = base.model_copy(update={"weights": weights, "options": {"runtime": runtime}})
                runner = call_in_fresh_thread("load", create_runner, config)
                min_long_side = runner.input_size if config.decode == "auto" else None
                direct, consumer, serial = [], [], []
                for run in range(args.runs):  # alternating: direct, live consumer, serial consumer
                    runner.reset("court-1")
                    direct.append(call_in_fresh_thread("direct", direct_fps, runner, jpegs, "court-1", size,
                                                      min_long_side))
                    runner.reset("court-1")
                    consumer.append(await consumer_fps(server.url, config, runner, frames_dir, jpegs, size,
                                                       args.offer * direct[-1], camera_process=camera_process,
                                                       decode_ahead=not args.no_decode_ahead))
                    runner.reset("court-1")
                    serial.append(await consumer_fps(server.url, config, runner, frames_dir, jpegs, size, None,
                                                     camera_process=camera_process,
                                                     decode_ahead=not args.no_decode_ahead))
                    print(f"{model_size} {runtime} run {run + 1}: consumer {consumer[-1]:.2f} fps (camera at "
                          f"{args.offer * direct[-1]:.1f} fps), serial {serial[-1]:.2f} fps, direct {direct[-1]:.2f} fps, "
                          f"this run's ratio {consumer[-1] / direct[-1]:.3f}",
                          flush=True)
                speeds[(model_size, runtime)] = (median(consumer), median(direct))
                serial_speeds[(model_size, runtime)] = median(serial)
                runner.close()
    for (model_size, runtime), (consumer_fps_, direct_fps_) in speeds.items():
        print(f"{model_size:5s} {runtime:5s} consumer {consumer_fps_:7.2f} fps  direct {direct_fps_:7.2f} fps  "
              f"ratio {consumer_fps_ / direct_fps_:.3f}  (serial, one frame in flight: "
              f"{serial_speeds[(model_size, runtime)]:.2f} fps, ratio {serial_speeds[(model_size, runtime)] / direct_fps_:.3f})")
    print(f"threads {args.threads}, one camera, 1280x720 JPEGs decoded at {images[0].shape[1]}x{images[0].shape[0]}, "
          f"camera {'in a process of its own' if camera_process else 'on the consumer event loop'} at "
          f"{args.offer} x direct fps, decode {'in the model thread' if args.no_decode_ahead else 'ahead'}")
    print(result_line("ball_f1", ours.f1, anchor.f1, ours.f1 / anchor.f1 if anchor.f1 else float("inf")))
    if ("small", "onnx") in speeds:
        small_consumer, small_direct = speeds[("small", "onnx")]
        print(result_line("ball_fps", small_consumer, small_direct, small_consumer / small_direct))


if __name__ == "__main__":
    asyncio.run(main())
