"""Latency each pipeline stage adds, 1 and 8 cameras of 720p30, with a zero-cost model.

Pipeline (each service its own process, real nats-server):
  capture (ingest decodes the frame: ``ts``) -> frame on NATS -> consumer receives ->
  annotation on NATS -> fanout -> WebSocket client.
The model is :class:`NullRunner` (no objects, no time), so only the pipeline is measured.
Stage times come from an observer subscribed to ``frames.*`` and ``annotations.*.*`` and
from the WebSocket client, all against the frame's capture ``ts`` (same machine clock);
stage times are sampled on the first camera, the total on all.

Anchor, same run, same frame rate: JPEG-encode the same decoded frame, one NATS request to a
responder in another process that decodes the JPEG and replies (one round trip).

Prints ``RESULT pipeline_p50_ms=<1 camera p50> anchor=<anchor p50> ratio=<p50 ratio>``.
Goal: ratio <= 2.0 and the pipeline's p99 within 3x the anchor's p99.

Run: ``.venv/bin/python -m bench.pipeline_latency [--seconds 8] [--runs 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import av
import nats
import numpy as np
import simplejpeg
import websockets
import yaml

from bench.common import court_clip, median, percentile, result_line
from contracts import FrameMeta
from courtside import process
from courtside.nats_server import EmbeddedNats

REPO = Path(__file__).resolve().parents[1]
WARMUP_S = 3.0


class NullRunner:
    """A model that returns nothing instantly: the benchmark measures only the pipeline."""

    name = "null"
    version = "null-0"
    weights = "untrained"
    device = "cpu"

    def infer(self, images: list[np.ndarray]) -> list[list[object]]:
        return [[] for _ in images]


async def _consumer_main(nats_url: str, cameras: list[str]) -> None:
    """Child mode: the real consumer runtime hosting :class:`NullRunner`."""
    from courtside.config import ModelConfig
    from courtside.natsio import connect
    from inference.runtime.consumer import InferenceConsumer

    model = ModelConfig(name="null", backend="null", batch=8, max_wait_ms=0, max_age_ms=2000)
    nc = await connect(nats_url, "bench-consumer")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    import signal

    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await InferenceConsumer(model, NullRunner(), nc, cameras=cameras, instance="bench").run(stop)  # type: ignore[arg-type]
    await nc.close()


async def _responder_main(nats_url: str) -> None:
    """Child mode for the anchor: decode the JPEG, reply."""
    nc = await nats.connect(nats_url)

    async def on_request(msg: nats.aio.msg.Msg) -> None:
        simplejpeg.decode_jpeg(msg.data, colorspace="BGR")
        await msg.respond(b"ok")

    await nc.subscribe("anchor.echo", cb=on_request)
    await asyncio.Event().wait()


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return process.spawn(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _pipeline_run(clip: Path, cameras: int, seconds: float) -> dict[str, list[float]]:
    """One run; returns per-stage latencies in ms, keyed by stage name."""
    names = [f"cam{i}" for i in range(cameras)]
    with tempfile.TemporaryDirectory() as tmp, EmbeddedNats() as server:
        fanout_port = _free_port()
        config = {
            "cameras": [{"id": n, "url": f"file://{clip}", "fps": 30, "max_side": 1280} for n in names],
            "ingest": {"host": "127.0.0.1", "port": _free_port()},
            "fanout": {"host": "127.0.0.1", "port": fanout_port, "client_queue": 4096},
        }
        cfg = Path(tmp) / "bench.yaml"
        cfg.write_text(yaml.safe_dump(config))
        env = {**os.environ, "COURTSIDE_NATS__URL": server.url, "COURTSIDE_LOG_LEVEL": "warning"}
        base = [sys.executable, "-m", "courtside", "--config", str(cfg)]
        children = [
            ("fanout", _spawn([*base, "fanout"], env)),
            ("consumer", _spawn([sys.executable, "-m", "bench.pipeline_latency", "--child", "consumer",
                                 "--nats", server.url, "--cameras", ",".join(names)], env)),
            ("ingest", _spawn([*base, "ingest"], env)),
        ]
        try:
            return await _observe(server.url, fanout_port, names, seconds)
        finally:
            process.stop_all(children, timeout_s=5)


async def _observe(nats_url: str, fanout_port: int, names: list[str], seconds: float) -> dict[str, list[float]]:
    frame_at: dict[tuple[str, int], tuple[int, int]] = {}
    ann_at: dict[tuple[str, int], int] = {}
    stages: dict[str, list[float]] = defaultdict(list)
    start = time.monotonic()
    measuring = False

    nc = await nats.connect(nats_url)

    async def on_frame(msg: nats.aio.msg.Msg) -> None:
        meta = FrameMeta.from_headers(msg.headers)
        frame_at[(meta.camera, meta.seq)] = (meta.ts, time.time_ns())

    async def on_annotation(msg: nats.aio.msg.Msg) -> None:
        now = time.time_ns()
        data = json.loads(msg.data)
        ann_at[(data["camera"], data["seq"])] = now

    # Observing every camera's frames costs the observer as much CPU as a consumer: the
    # stage breakdown samples the first camera only; ``total`` covers every camera.
    await nc.subscribe(f"frames.{names[0]}", cb=on_frame)
    await nc.subscribe("annotations.*.*", cb=on_annotation)
    uri = f"ws://127.0.0.1:{fanout_port}/ws"
    deadline = time.monotonic() + 60
    while True:
        try:
            ws = await websockets.connect(uri, max_size=None, compression=None)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
    async with ws:
        await ws.send(json.dumps({"v": 1, "op": "subscribe", "cameras": names, "video": "none"}))
        while time.monotonic() - start < WARMUP_S + seconds + 40:
            try:
                message = await asyncio.wait_for(ws.recv(), timeout=1)
            except TimeoutError:
                continue
            now = time.time_ns()
            if isinstance(message, bytes):
                continue
            data = json.loads(message)
            if data.get("type") != "annotation":
                continue
            if not measuring:
                measuring = True
                start = time.monotonic()
                continue
            if time.monotonic() - start < WARMUP_S:
                continue
            if time.monotonic() - start > WARMUP_S + seconds:
                break
            ann = data["annotation"]
            key = (ann["camera"], ann["seq"])
            ts = ann["ts"]
            stages["total"].append((now - ts) / 1e6)
            if key in frame_at and key in ann_at:
                _, frame_seen = frame_at.pop(key)
                ann_seen = ann_at.pop(key)
                stages["ingest (capture -> frame on NATS)"].append((frame_seen - ts) / 1e6)
                stages["consumer (frame -> annotation on NATS)"].append((ann_seen - frame_seen) / 1e6)
                stages["fanout (annotation -> WebSocket client)"].append((now - ann_seen) / 1e6)
    await nc.close()
    return stages


async def _anchor_run(clip: Path, cameras: int, seconds: float) -> list[float]:
    """encode -> NATS request -> responder decodes -> reply, at 30 fps x cameras."""
    with av.open(str(clip)) as container:
        image = next(container.decode(video=0)).to_ndarray(format="bgr24")
    latencies: list[float] = []
    with EmbeddedNats() as server:
        responder = _spawn([sys.executable, "-m", "bench.pipeline_latency", "--child", "responder",
                            "--nats", server.url], dict(os.environ))
        try:
            nc = await nats.connect(server.url)
            await asyncio.sleep(1.0)
            period = 1 / (30 * cameras)
            begin = time.monotonic()
            n = 0
            while time.monotonic() - begin < WARMUP_S + seconds:
                t0 = time.perf_counter()
                jpeg = simplejpeg.encode_jpeg(image, quality=80, colorspace="BGR", colorsubsampling="420")
                await nc.request("anchor.echo", jpeg, timeout=5)
                if time.monotonic() - begin > WARMUP_S:
                    latencies.append((time.perf_counter() - t0) * 1e3)
                n += 1
                await asyncio.sleep(max(0.0, begin + n * period - time.monotonic()))
            await nc.close()
        finally:
            process.stop(responder, "responder")
    return latencies


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _main(seconds: float, runs: int, camera_counts: list[int]) -> None:
    clip = court_clip()
    summary: dict[int, dict[str, float]] = {}
    for cameras in camera_counts:
        pipe_p50: dict[str, list[float]] = defaultdict(list)
        pipe_p99: dict[str, list[float]] = defaultdict(list)
        anchor_p50, anchor_p99, counts = [], [], []
        for run in range(runs):
            stages = await _pipeline_run(clip, cameras, seconds)
            anchor = await _anchor_run(clip, cameras, seconds)
            for stage, values in stages.items():
                pipe_p50[stage].append(percentile(values, 50))
                pipe_p99[stage].append(percentile(values, 99))
            counts.append(len(stages.get("total", [])))
            anchor_p50.append(percentile(anchor, 50))
            anchor_p99.append(percentile(anchor, 99))
            print(f"  {cameras} camera(s) run {run + 1}: pipeline p50 {percentile(stages['total'], 50):.2f} ms "
                  f"({len(stages['total'])} annotations), anchor p50 {percentile(anchor, 50):.2f} ms", flush=True)
        print(f"\n{cameras} camera(s) of 720p30, median of {runs} runs (ms)   p50     p99")
        for stage in pipe_p50:
            print(f"  {stage:<42} {median(pipe_p50[stage]):7.2f} {median(pipe_p99[stage]):7.2f}")
        print(f"  {'anchor (JPEG enc+dec + 1 NATS round trip)':<42} {median(anchor_p50):7.2f} {median(anchor_p99):7.2f}")
        print(f"  annotations measured per run: {counts}", flush=True)
        summary[cameras] = {"p50": median(pipe_p50["total"]), "p99": median(pipe_p99["total"]),
                            "a50": median(anchor_p50), "a99": median(anchor_p99)}
    print()
    for cameras, s in summary.items():
        print(f"{cameras} camera(s): p50 ratio {s['p50'] / s['a50']:.2f} (goal <= 2.0), "
              f"p99 ratio {s['p99'] / s['a99']:.2f} (goal <= 3.0)")
    head = summary[camera_counts[0]]
    print(result_line("pipeline_p50_ms", head["p50"], head["a50"], head["p50"] / head["a50"]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cameras", default="1,8")
    parser.add_argument("--child", choices=["consumer", "responder"])
    parser.add_argument("--nats")
    args, _ = parser.parse_known_args()
    if args.child == "consumer":
        asyncio.run(_consumer_main(args.nats, args.cameras.split(",")))
    elif args.child == "responder":
        asyncio.run(_responder_main(args.nats))
    else:
        asyncio.run(_main(args.seconds, args.runs, [int(c) for c in args.cameras.split(",")]))


if __name__ == "__main__":
    main()
