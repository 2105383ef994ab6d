"""Ingest density: how many 720p30 H.264 cameras one CPU core carries.

Courtside: the real ingest service (``IngestService``) in this process with
``--cameras`` file cameras playing the 720p30 demo clip in real time, each
frame decoded, resized (long side ``--max-side``), JPEG-encoded and published
to a real embedded nats-server. Measured: frames published per CPU-second of
this process (all threads: workers, event loop, NATS client).

Anchor: the same decode + resize + JPEG encode (same ``JpegEncoder``) of the
same number of streams in a plain single-threaded loop, round-robin over one
decoder per stream, unpaced, frames per CPU-second. (A single stream in a tight
loop is faster still, because its decoder state stays in the CPU caches; it is
printed as a reference, as are the decode-only speeds of ffmpeg ``-threads 1``
and PyAV.) CPU time is the whole process's: helper threads count.

Median of ``--runs`` alternating runs each. Prints a per-frame cost breakdown and, last,
``RESULT ingest_fps_per_cpu_s=<v> anchor=<v> ratio=<v>`` (goal: ratio >= 0.85).
Cameras per core = ingest_fps_per_cpu_s / 30.

Run: ``.venv/bin/python -m bench.ingest_density [--cameras 8] [--seconds 6] [--runs 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import nats
import simplejpeg

from bench.common import proc_cpu_s
from courtside.config import parse_config
from courtside.nats_server import EmbeddedNats
from ingest.av_source import configure_decoder
from ingest.demo_clip import ensure_clip
from ingest.geometry import target_size
from ingest.jpeg_encoder import JpegEncoder, yuv420_planes
from ingest.service import IngestService

QUALITY = 80


@dataclass(frozen=True, slots=True)
class Stages:
    """Per-frame CPU cost (ms, all threads of the process) of each stage, one stream."""

    decode_ms: float
    resize_ms: float
    jpeg_ms: float
    jpeg_kb: float


def stage_costs(path: Path, max_side: int, frames: int = 150) -> Stages:
    """Decode, resize and JPEG timed separately on one stream, tight loop."""
    decode = resize = jpeg = 0.0
    size = count = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        configure_decoder(stream)
        t0 = time.process_time()
        for frame in container.decode(stream):
            t1 = time.process_time()
            y, u, v = yuv420_planes(frame)
            w, h = target_size(frame.width, frame.height, max_side)
            y = cv2.resize(y, (w, h), interpolation=cv2.INTER_LINEAR)
            u = cv2.resize(u, (w // 2, h // 2), interpolation=cv2.INTER_LINEAR)
            v = cv2.resize(v, (w // 2, h // 2), interpolation=cv2.INTER_LINEAR)
            t2 = time.process_time()
            size += len(simplejpeg.encode_jpeg_yuv_planes(y, u, v, quality=QUALITY, fastdct=True))
            t3 = time.process_time()
            decode, resize, jpeg = decode + t1 - t0, resize + t2 - t1, jpeg + t3 - t2
            count += 1
            if count == frames:
                break
            t0 = time.process_time()
    return Stages(1000 * decode / count, 1000 * resize / count, 1000 * jpeg / count, size / count / 1024)


def bare_loop(path: Path, streams: int, max_side: int, frames_per_stream: int = 150) -> float:
    """The anchor: one thread, no pacing, round-robin over ``streams`` decoders of the clip,
    each frame resized and JPEG-encoded by the same :class:`JpegEncoder`. Frames per CPU-second."""
    encoder = JpegEncoder(max_side, QUALITY)
    containers = [av.open(str(path)) for _ in range(streams)]
    try:
        decoders = []
        for container in containers:
            configure_decoder(container.streams.video[0])
            decoders.append(container.decode(container.streams.video[0]))
        start = time.process_time()
        for _ in range(frames_per_stream):
            for decoder in decoders:
                encoder.encode(next(decoder), 0, None)
        return streams * frames_per_stream / (time.process_time() - start)
    finally:
        for container in containers:
            container.close()


def pyav_decode(path: Path) -> float:
    """PyAV decode-only frames per CPU-second (one thread)."""
    start = time.thread_time()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        frames = sum(1 for _ in container.decode(stream))
    return frames / (time.thread_time() - start)


def ffmpeg_decode(path: Path, frames: int) -> float | None:
    """ffmpeg CLI decode-only frames per CPU-second (``-threads 1``), None without ffmpeg."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        return None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([exe, "-v", "error", "-threads", "1", "-i", str(path), "-f", "null", "-"], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return frames / cpu


async def ingest_run(server: EmbeddedNats, path: Path, cameras: int, seconds: float,
                     max_side: int) -> tuple[float, float, float, float]:
    """Run the service; returns (frames per CPU-second, published fps, nats-server CPU per frame ms,
    event-loop thread CPU per frame ms)."""
    config = parse_config({
        "cameras": [{"id": f"bench-{i}", "url": f"file://{path}", "fps": 30, "max_side": max_side,
                     "jpeg_quality": QUALITY} for i in range(cameras)],
        "ingest": {"host": "127.0.0.1", "port": 0, "instance": "bench"},
    }, "<bench>", environ={})
    nc = await nats.connect(server.url)
    service = IngestService(config, nc)
    await service.start()
    try:
        await asyncio.sleep(1.5)  # warm-up: open files, first frames, steady pacing
        frames0 = sum(s.frames for s in service.snapshots())
        cpu0, wall0, srv0 = time.process_time(), time.monotonic(), proc_cpu_s(server.pid)
        loop0 = time.thread_time()  # this thread runs the event loop: publishing, heartbeat, HTTP
        await asyncio.sleep(seconds)
        frames = sum(s.frames for s in service.snapshots()) - frames0
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        loop_cpu = time.thread_time() - loop0
        srv = proc_cpu_s(server.pid) - srv0
    finally:
        await service.stop()
        await nc.close()
    return frames / cpu, frames / wall, 1000 * srv / max(frames, 1), 1000 * loop_cpu / max(frames, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=8, help="cameras run at once (service and anchor)")
    parser.add_argument("--seconds", type=float, default=6.0, help="measured seconds per service run")
    parser.add_argument("--runs", type=int, default=5,
                        help="alternating anchor/service runs (medians; the shared machine is noisy)")
    parser.add_argument("--max-side", type=int, default=960, help="resize target (long side, pixels)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    path = ensure_clip()  # the 1280x720 30 fps demo clip (H.264), rendered once and cached
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        n_frames, width, height = stream.frames, stream.width, stream.height
    print(f"clip: {path.name} {width}x{height} {n_frames} frames; output long side {args.max_side}; "
          f"{args.cameras} cameras; {os.cpu_count()} CPUs")

    cv2.setNumThreads(1)  # as the service does: parallelism comes from cameras
    bare_runs: list[float] = []
    ingest_runs: list[tuple[float, float, float, float]] = []
    with EmbeddedNats() as server:
        for run in range(args.runs):  # alternate, so drift in machine load hits both alike
            bare_runs.append(bare_loop(path, args.cameras, args.max_side))
            ingest_runs.append(asyncio.run(ingest_run(server, path, args.cameras, args.seconds, args.max_side)))
            print(f"  run {run + 1}: bare loop {bare_runs[-1]:7.1f} fps/cpu-s   "
                  f"ingest {ingest_runs[-1][0]:7.1f} fps/cpu-s at {ingest_runs[-1][1]:5.1f} fps published")
    stages = [stage_costs(path, args.max_side) for _ in range(3)]
    single = statistics.median(bare_loop(path, 1, args.max_side) for _ in range(3))
    pyav = statistics.median(pyav_decode(path) for _ in range(3))
    ffmpeg_runs = [ffmpeg_decode(path, n_frames) for _ in range(3)]
    ffmpeg = None if None in ffmpeg_runs else statistics.median(f for f in ffmpeg_runs if f is not None)

    anchor = statistics.median(bare_runs)
    ingest = statistics.median(r[0] for r in ingest_runs)
    nats_ms = statistics.median(r[2] for r in ingest_runs)
    loop_ms = statistics.median(r[3] for r in ingest_runs)

    def med(attr: str) -> float:
        return float(statistics.median(getattr(s, attr) for s in stages))

    print("\nper-frame CPU cost (ms, median):")
    print(f"  decode (PyAV, 1 thread)        {med('decode_ms'):6.2f}")
    print(f"  resize to {args.max_side} (3 planes)     {med('resize_ms'):6.2f}")
    print(f"  JPEG encode (q{QUALITY}, 4:2:0)      {med('jpeg_ms'):6.2f}   ({med('jpeg_kb'):.0f} KiB/frame)")
    print(f"  = one stream, tight loop       {1000 / single:6.2f}")
    print(f"  = {args.cameras} streams round-robin (anchor) {1000 / anchor:6.2f}   (decoder state no longer in cache)")
    print(f"  + service                      {1000 / ingest - 1000 / anchor:6.2f}   "
          "(real-time pacing, threads, hand-off, NATS publish, status)")
    print(f"    of which the event-loop thread {loop_ms:4.2f}   (publishing passes, heartbeat, HTTP)")
    print(f"  = ingest                       {1000 / ingest:6.2f}")
    print(f"  nats-server, another process, not counted: {nats_ms:.2f}")
    print("\ndecode-only reference (fps per CPU-second): "
          f"PyAV {pyav:.0f}, ffmpeg {'n/a' if ffmpeg is None else f'{ffmpeg:.0f}'}")
    print(f"cameras per CPU core at 30 fps: ingest {ingest / 30:.1f}, anchor {anchor / 30:.1f}, "
          f"one-stream loop {single / 30:.1f}, decode-only {pyav / 30:.1f}")
    print(f"RESULT ingest_fps_per_cpu_s={ingest:.1f} anchor={anchor:.1f} ratio={ingest / anchor:.3f}")


if __name__ == "__main__":
    main()
