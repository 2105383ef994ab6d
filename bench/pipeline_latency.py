"""Latency each pipeline stage adds, 1 and 8 cameras of 720p30, with a zero-cost model.

Pipeline (each service its own process, real nats-server):
  capture (ingest decodes the frame: ``ts``) -> frame on NATS -> consumer receives ->
  annotation on NATS -> fanout -> WebSocket client.
The model is :class:`NullRunner` (no objects, no time), so only the pipeline is measured.
Stage times come from an observer subscribed to ``frames.*`` and ``annotations.*.*``, from the
annotations' own ``latency`` fields (receipt -> model start) and from the WebSocket client, all
against the frame's capture ``ts`` (same machine clock); stage times are sampled on the first
camera, the total on all. Each run also prints the cores every process used, the whole
machine's busy cores (other work included) and what became of the frames (the consumer's
last heartbeat: published, superseded, stale, client buffer).

Anchor (like-for-like, same run, same offered load): a bare two-process pipeline doing the
per-frame work the services must do and nothing else. A producer thread decodes the same H.264
clip (one frame per camera frame, as ingest does), stamps ``ts`` after the decode (where ingest
stamps it), JPEG-encodes it with ingest's own encoder (from the YUV planes) and publishes it, 30 fps per camera, cameras evenly interleaved; a
bare consumer in another process keeps the newest frame per camera (a bare loop cannot decode
more frames than its core allows either), decodes it in one thread and replies; the producer
receives the reply. Latency = reply received - ``ts``. No fanout hop, no WebSocket: the
pipeline's extra hop counts against it.

The older anchor is still run and reported ("serial anchor"): encode, one NATS request to a
responder that decodes, reply, one frame at a time, latency from the encode's start. When the
machine cannot do a frame's encode + decode inside the frame interval (8 cameras of this clip
here: ~7 ms of JPEG work per frame against 4.2 ms between frames), that loop falls behind its
schedule, never queues, and measures fewer frames per second than offered: its rate is printed.

Prints ``RESULT pipeline_<n>cam_p50_ms=...`` per camera count, then last the largest count
(8 by default): ``RESULT pipeline_p50_ms=<its p50> anchor=<its like-for-like anchor p50>
ratio=<the worst p50 ratio of all counts>``.
Goal: ratio <= 2.0 at every count, and the pipeline's p99 within 3x the anchor's p99.

Run: ``.venv/bin/python -m bench.pipeline_latency [--seconds 8] [--runs 3] [--cameras 1,8]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import av
import nats
import numpy as np
import simplejpeg
import websockets
import yaml
from courtside_contracts import FrameMeta
from courtside_contracts.annotations import DetectedObject
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from bench.common import CpuSample, court_clip, median, percentile, result_line
from courtside import process
from courtside.app.supervisor import INGEST_NICE as SUPERVISOR_INGEST_NICE
from courtside.nats_server import EmbeddedNats
from inference.backends.base import Runner
from ingest.av_source import configure_decoder
from ingest.jpeg_encoder import JpegEncoder

REPO = Path(__file__).resolve().parents[1]
WARMUP_S = 3.0
#: The consumer's decode placement (``--decode``).
DECODE = "ahead"
#: ``nice`` increment of the ingest process (``--ingest-nice``); the default is what ``courtside
#: up`` gives it (supervisor.INGEST_NICE). The bare anchor runs at one priority: it has no such policy.
INGEST_NICE = SUPERVISOR_INGEST_NICE
#: The consumer's drop counters reported per run (its heartbeat's ``models.null`` entry).
COUNTERS = ("published", "superseded", "stale", "client_buffer")
#: Ingest's counters (its heartbeat's ``cameras``, summed): frames published, frames lost after decoding.
INGEST_COUNTERS = ("frames", "dropped")


class NullRunner(Runner):
    """A model that returns nothing instantly: the benchmark measures only the pipeline."""

    name = "null"
    model_name = "null"
    version = "null-0"
    weights = "untrained"

    def infer(self, images: list[np.ndarray], cameras: list[str] | None = None) -> list[list[DetectedObject]]:
        return [[] for _ in images]


@dataclass
class Run:
    """One run of one side: latencies (ms) by stage, and what the run cost and dropped."""

    stages: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    cpu: CpuSample = field(default_factory=CpuSample)
    seconds: float = 0.0
    offered: int = 0  # frames offered in the measured window (all cameras)
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> list[float]:
        return self.stages["total"]


async def _consumer_main(nats_url: str, cameras: list[str], decode_ahead: bool) -> None:
    """Child mode: the real consumer runtime hosting :class:`NullRunner`."""
    from courtside.config import ModelConfig
    from courtside.natsio import connect
    from inference.runtime.consumer import InferenceConsumer

    # batch 1: on CPU batching adds no throughput, and every frame of a batch waits for the whole
    # batch's JPEG decode (batch 8 measured 2-3x the consumer stage of batch 1 at 8 cameras here).
    model = ModelConfig(name="null", backend="null", batch=1, max_wait_ms=0, max_age_ms=2000)
    nc = await connect(nats_url, "bench-consumer")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await InferenceConsumer(model, NullRunner(), nc, cameras=cameras, instance="bench",
                            decode_ahead=decode_ahead).run(stop)
    await nc.close()


async def _responder_main(nats_url: str) -> None:
    """Child mode for the serial anchor: decode the JPEG, reply."""
    nc = await nats.connect(nats_url)

    async def on_request(msg: Msg) -> None:
        simplejpeg.decode_jpeg(msg.data, colorspace="BGR")
        await msg.respond(b"ok")

    await nc.subscribe("anchor.echo", cb=on_request)
    await asyncio.Event().wait()


async def _bare_consumer_main(nats_url: str) -> None:
    """Child mode for the like-for-like anchor: newest frame per camera, decoded in one thread, reply.

    What a hand-written consumer does with no runtime: a dict of the newest pending frame per
    camera (longest-waiting camera first), one decode at a time off the loop, the frame's ``ts``
    sent back. Counts received and replied frames in its replies.
    """
    nc = await nats.connect(nats_url)
    latest: dict[str, Msg] = {}
    wake = asyncio.Event()
    received = 0

    async def on_frame(msg: Msg) -> None:
        nonlocal received
        received += 1
        latest.pop(msg.subject, None)  # re-inserted last: dict order = longest-waiting first
        latest[msg.subject] = msg
        wake.set()

    await nc.subscribe("bare.frames.*", cb=on_frame)
    replied = 0
    while True:
        await wake.wait()
        wake.clear()
        while latest:
            msg = latest.pop(next(iter(latest)))
            await asyncio.to_thread(simplejpeg.decode_jpeg, msg.data, colorspace="BGR")
            replied += 1
            await nc.publish("bare.replies", f"{msg.headers['ts'] if msg.headers else 0} {received} {replied}".encode())


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return process.spawn(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _child(mode: str, nats_url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bench.pipeline_latency", "--child", mode, "--nats", nats_url, *extra]


async def _pipeline_run(clip: Path, cameras: int, seconds: float) -> Run:
    """One run of the services."""
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
            ("consumer", _spawn(_child("consumer", server.url, "--cameras", ",".join(names), "--decode", DECODE),
                                env)),
            ("ingest", _spawn([*(["nice", "-n", str(INGEST_NICE)] if INGEST_NICE else []), *base, "ingest"], env)),
        ]
        try:
            return await _observe(server.url, fanout_port, names, seconds)
        finally:
            process.stop_all(children, timeout_s=5)


class _Observer:
    """What the bench process sees of the services: frames of the first camera, annotations,
    the consumer's heartbeats (NATS callbacks)."""

    def __init__(self) -> None:
        self.frame_at: dict[tuple[str, int], int] = {}
        self.ann_at: dict[tuple[str, int], tuple[int, dict[str, float]]] = {}
        self.heartbeat: dict[str, int] = {}
        self.frames_seen = 0

    async def on_frame(self, msg: Msg) -> None:
        meta = FrameMeta.from_headers(msg.headers)
        self.frame_at[(meta.camera, meta.seq)] = time.time_ns()
        self.frames_seen += 1

    async def on_annotation(self, msg: Msg) -> None:
        now = time.time_ns()
        data = json.loads(msg.data)
        self.ann_at[(data["camera"], data["seq"])] = (now, data["latency_ms"])

    async def on_status(self, msg: Msg) -> None:
        data = json.loads(msg.data)
        entry = data.get("models", {}).get("null")
        if entry:
            self.heartbeat.update({k: int(entry.get(k, 0)) for k in COUNTERS})
        if msg.subject.startswith("status.ingest."):
            cams = data.get("cameras", {}).values()
            self.heartbeat.update({f"ingest_{k}": sum(int(c.get(k, 0)) for c in cams) for k in INGEST_COUNTERS})


async def _observe(nats_url: str, fanout_port: int, names: list[str], seconds: float) -> Run:
    run = Run()
    seen = _Observer()
    nc = await nats.connect(nats_url)
    # Observing every camera's frames costs the observer as much CPU as a consumer: the
    # stage breakdown samples the first camera only; ``total`` covers every camera.
    await nc.subscribe(f"frames.{names[0]}", cb=seen.on_frame)
    await nc.subscribe("annotations.*.*", cb=seen.on_annotation)
    await nc.subscribe("status.inference.*", cb=seen.on_status)
    await nc.subscribe("status.ingest.*", cb=seen.on_status)
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
    start = time.monotonic()
    phase = "waiting"  # -> warm-up (from the first annotation) -> measuring -> done
    before: dict[str, int] = {}
    frames_before = 0
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
            if phase == "waiting":
                phase, start = "warm-up", time.monotonic()
                continue
            elapsed = time.monotonic() - start
            if phase == "warm-up":
                if elapsed < WARMUP_S:
                    continue
                phase, before, frames_before = "measuring", dict(seen.heartbeat), seen.frames_seen
                run.cpu.start()
            if elapsed > WARMUP_S + seconds:
                break
            _add_stages(run.stages, data["annotation"], now, seen)
    run.cpu.stop()
    run.seconds = seconds
    run.offered = (seen.frames_seen - frames_before) * len(names)
    await asyncio.sleep(2.5)  # one more heartbeat (every 2 s) with the window's counts
    run.counters = {k: seen.heartbeat.get(k, 0) - before.get(k, 0) for k in seen.heartbeat}
    if "ingest_frames" in run.counters:  # heartbeats come every 2 s: rates over the counters' own window
        run.offered = run.counters["ingest_frames"]
    await nc.close()
    return run


def _add_stages(stages: dict[str, list[float]], ann: dict[str, object], now: int, seen: _Observer) -> None:
    """One annotation received by the WebSocket client at ``now`` (wall ns): its stages."""
    key = (str(ann["camera"]), int(ann["seq"]))  # type: ignore[call-overload]
    ts = int(ann["ts"])  # type: ignore[call-overload]
    stages["total"].append((now - ts) / 1e6)
    if key not in seen.frame_at or key not in seen.ann_at:
        return
    frame_seen = seen.frame_at.pop(key)
    ann_seen, lat = seen.ann_at.pop(key)
    # The consumer's callback time, from its own fields: published = ts + total; the callback
    # came queue + infer (+ the publish's few us) before that.
    received = ts + (lat["total"] - lat["queue"] - lat["infer"]) * 1e6
    stages["ingest (capture -> frame on NATS)"].append((frame_seen - ts) / 1e6)
    stages["consumer (frame -> annotation on NATS)"].append((ann_seen - frame_seen) / 1e6)
    stages["  socket + client (-> consumer callback)"].append((received - frame_seen) / 1e6)
    stages["  slot + JPEG decode (-> model start)"].append(lat["queue"])
    stages["  model + publish (-> annotation on NATS)"].append((ann_seen - received) / 1e6 - lat["queue"])
    stages["fanout (annotation -> WebSocket client)"].append((now - ann_seen) / 1e6)


class _BareProducer:
    """The like-for-like anchor's producer: one thread per camera (as ingest has), each decoding
    its own copy of the H.264 clip, stamping ``ts``, JPEG-encoding and handing the frame to the
    event loop to publish, at 30 fps; the cameras' schedules evenly interleaved."""

    def __init__(self, clip: Path, cameras: int, loop: asyncio.AbstractEventLoop, nc: NATS) -> None:
        self._clip, self._cameras, self._loop, self._nc = clip, cameras, loop, nc
        self._stop = threading.Event()
        self._encoder = JpegEncoder(max_side=1280, quality=80)  # ingest's encoder, as the cameras configure it
        self._counts = [0] * cameras
        self._threads = [threading.Thread(target=self._main, args=(i,), name=f"bare-producer-{i}", daemon=True)
                         for i in range(cameras)]

    @property
    def produced(self) -> int:
        return sum(self._counts)

    def __enter__(self) -> _BareProducer:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)

    def _publish(self, camera: int, ts: int, jpeg: bytes) -> None:
        if not self._nc.is_closed:
            self._loop.create_task(self._send(camera, ts, jpeg))

    async def _send(self, camera: int, ts: int, jpeg: bytes) -> None:
        with contextlib.suppress(nats.errors.ConnectionClosedError):
            await self._nc.publish(f"bare.frames.cam{camera}", jpeg, headers={"ts": str(ts)})

    def _main(self, camera: int) -> None:
        period = 1 / 30
        begin = time.monotonic() + camera * period / self._cameras
        n = 0
        while not self._stop.is_set():
            with av.open(str(self._clip)) as container:
                configure_decoder(container.streams.video[0])  # one decoding thread, as ingest's cameras
                for frame in container.decode(video=0):
                    wait = begin + n * period - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    elif wait < -period:  # fell behind (as ingest's pacer, re-anchor rather than burst)
                        begin, n = time.monotonic(), 0
                    ts = time.time_ns()
                    jpeg = self._encoder.encode(frame, ts, None).jpeg
                    self._loop.call_soon_threadsafe(self._publish, camera, ts, jpeg)
                    n += 1
                    self._counts[camera] += 1
                    if self._stop.is_set():
                        return


async def _bare_run(clip: Path, cameras: int, seconds: float) -> Run:
    """The like-for-like anchor (module doc): bare producer here, bare consumer in a child."""
    run = Run(seconds=seconds)
    with EmbeddedNats() as server:
        child = _spawn(_child("bare", server.url), dict(os.environ))
        try:
            nc = await nats.connect(server.url)
            replies: asyncio.Queue[tuple[int, int, int, int]] = asyncio.Queue()

            async def on_reply(msg: Msg) -> None:
                ts, received, replied = (int(v) for v in msg.data.split())
                replies.put_nowait((time.time_ns(), ts, received, replied))

            await nc.subscribe("bare.replies", cb=on_reply)
            await nc.flush()
            await _wait_for_child(child)
            with _BareProducer(clip, cameras, asyncio.get_running_loop(), nc) as producer:
                begin = time.monotonic()
                first: tuple[int, int] | None = None
                last = (0, 0)
                produced = 0
                while time.monotonic() - begin < WARMUP_S + seconds:
                    try:
                        now, ts, received, replied = await asyncio.wait_for(replies.get(), timeout=1)
                    except TimeoutError:
                        continue
                    if time.monotonic() - begin < WARMUP_S:
                        continue
                    if first is None:
                        first, produced = (received, replied), producer.produced
                        run.cpu.start()
                    last = (received, replied)
                    run.total.append((now - ts) / 1e6)
                run.cpu.stop()
                run.offered = producer.produced - produced
            if first is not None:
                run.counters = {"received": last[0] - first[0], "published": last[1] - first[1]}
            await nc.close()
        finally:
            process.stop(child, "bare consumer")
    return run


async def _wait_for_child(child: subprocess.Popen[bytes], settle_s: float = 1.5) -> None:
    """The bare consumer subscribes within a second or so of starting; give it that."""
    await asyncio.sleep(settle_s)
    if child.poll() is not None:
        raise SystemExit(f"bare consumer exited with code {child.returncode}")


async def _serial_run(clip: Path, cameras: int, seconds: float) -> Run:
    """The serial anchor: encode -> NATS request -> responder decodes -> reply, up to 30 fps x cameras."""
    with av.open(str(clip)) as container:
        image = next(container.decode(video=0)).to_ndarray(format="bgr24")
    run = Run(seconds=seconds)
    with EmbeddedNats() as server:
        responder = _spawn(_child("responder", server.url), dict(os.environ))
        try:
            nc = await nats.connect(server.url)
            await _wait_for_responder(nc)
            period = 1 / (30 * cameras)
            begin = time.monotonic()
            n = 0
            while time.monotonic() - begin < WARMUP_S + seconds:
                t0 = time.perf_counter()
                jpeg = simplejpeg.encode_jpeg(image, quality=80, colorspace="BGR", colorsubsampling="420")
                await nc.request("anchor.echo", jpeg, timeout=5)
                if time.monotonic() - begin > WARMUP_S:
                    if not run.total:
                        run.cpu.start()
                    run.total.append((time.perf_counter() - t0) * 1e3)
                n += 1
                await asyncio.sleep(max(0.0, begin + n * period - time.monotonic()))
            run.cpu.stop()
            run.offered = int(seconds * 30 * cameras)
            run.counters = {"published": len(run.total)}
            await nc.close()
        finally:
            process.stop(responder, "responder")
    return run


async def _wait_for_responder(nc: NATS, timeout_s: float = 60.0) -> None:
    """Until the responder child answers (it starts slowly on a loaded machine)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            await nc.request("anchor.echo", simplejpeg.encode_jpeg(np.zeros((8, 8, 3), np.uint8)), timeout=2)
            return
        except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _print_run(label: str, run: Run) -> None:
    # counts come from heartbeats (every 2 s): their window differs from the measured one by up to 2 s
    done = run.counters.get("published", len(run.total))
    print(f"    {label}: p50 {percentile(run.total, 50):.2f} ms p99 {percentile(run.total, 99):.2f} ms, "
          f"{done / max(run.seconds, 1e-9):.0f} of {run.offered / max(run.seconds, 1e-9):.0f} frames/s offered "
          f"run; counts {run.counters}", flush=True)
    print(run.cpu.report("      "), flush=True)


SIDES = ("pipeline", "anchor (like-for-like bare pipeline)", "serial anchor (old: encode + request + decode)")


async def _main(seconds: float, runs: int, camera_counts: list[int], sides: list[str]) -> None:
    clip = court_clip()
    summary: dict[int, dict[str, float]] = {}
    for cameras in camera_counts:
        p50: dict[str, list[float]] = defaultdict(list)
        p99: dict[str, list[float]] = defaultdict(list)
        for run_index in range(runs):
            print(f"  {cameras} camera(s) run {run_index + 1}:", flush=True)
            # alternated in one run: pipeline, like-for-like anchor, serial anchor
            for side, key, runner in zip(SIDES, ("pipeline", "bare", "serial"),
                                         (_pipeline_run, _bare_run, _serial_run), strict=True):
                if key not in sides:
                    continue
                run = await runner(clip, cameras, seconds)
                _print_run(side, run)
                if key == "bare" and run.offered < 0.9 * seconds * 30 * cameras:
                    print(f"    ** the bare producer offered {run.offered / seconds:.0f} of {30 * cameras} frames/s: "
                          "the machine could not produce the load, so this anchor is not like-for-like here", flush=True)
                for stage, values in run.stages.items():
                    name = "total" if stage == "total" and side == SIDES[0] else (
                        side if stage == "total" else stage)
                    p50[name].append(percentile(values, 50))
                    p99[name].append(percentile(values, 99))
        print(f"\n{cameras} camera(s) of 720p30, median of {runs} runs (ms)   p50     p99")
        for stage in p50:
            print(f"  {stage:<46} {median(p50[stage]):7.2f} {median(p99[stage]):7.2f}")
        summary[cameras] = {"p50": median(p50["total"]), "p99": median(p99["total"]),
                            "a50": median(p50[SIDES[1]]), "a99": median(p99[SIDES[1]]),
                            "s50": median(p50[SIDES[2]])}
        print(flush=True)
    print()
    for cameras, s in summary.items():
        print(f"{cameras} camera(s): p50 ratio {s['p50'] / s['a50']:.2f} (goal <= 2.0), "
              f"p99 ratio {s['p99'] / s['a99']:.2f} (goal <= 3.0); against the serial anchor "
              f"p50 ratio {s['p50'] / s['s50']:.2f}")
    worst = max(s["p50"] / s["a50"] for s in summary.values())
    for cameras in camera_counts:  # the last line is the last (largest) count, with the worst ratio
        s = summary[cameras]
        last = cameras == camera_counts[-1]
        print(result_line("pipeline_p50_ms" if last else f"pipeline_{cameras}cam_p50_ms", s["p50"], s["a50"],
                          worst if last else s["p50"] / s["a50"]))


def main() -> None:
    global DECODE, INGEST_NICE
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cameras", default="1,8")
    parser.add_argument("--child", choices=["consumer", "responder", "bare"])
    parser.add_argument("--nats")
    parser.add_argument("--decode", choices=["ahead", "in-model-thread"], default=DECODE,
                        help="the consumer's decode placement (InferenceConsumer decode_ahead)")
    parser.add_argument("--ingest-nice", type=int, default=SUPERVISOR_INGEST_NICE,
                        help="ingest's nice increment (default: as courtside up runs it; 0: the consumers' priority)")
    parser.add_argument("--sides", default="pipeline,bare,serial", help="which sides to run, in this order")
    args, _ = parser.parse_known_args()
    if args.child == "consumer":
        asyncio.run(_consumer_main(args.nats, args.cameras.split(","), args.decode == "ahead"))
    elif args.child == "responder":
        asyncio.run(_responder_main(args.nats))
    elif args.child == "bare":
        asyncio.run(_bare_consumer_main(args.nats))
    else:
        DECODE, INGEST_NICE = args.decode, args.ingest_nice
        asyncio.run(_main(args.seconds, args.runs, [int(c) for c in args.cameras.split(",")], args.sides.split(",")))


if __name__ == "__main__":
    main()
