"""Recording and archiving cost: CPU per 720p30 H.264 RTSP camera, export time, upload throughput.

Courtside: the real ingest service (``IngestService``) with ``--cameras`` RTSP cameras (the
GStreamer test server, no re-encode, 720p30) recording into segments, shipped over a real
embedded nats-server, and the real archiver (same process) putting them into a local archive.
Anchor: the same service and cameras in the same run with recording off (``archive.kind
none``), alternating runs. ``ratio`` = added CPU per camera as a fraction of one core
(this process; nats-server's extra CPU is printed apart). Goal: ratio <= 0.05.

Also: export of a 60 s range across segments as one MP4 (goal: under 1 s; the reply is sent
whole, so first byte = whole): the byte-level join against PyAV's remux (its anchor), and
the whole replay path over a local archive (listing, sidecar headers, reads, join); upload
throughput of segments to the GCS emulator (fake-gcs-server, when installed), and the
object store read path (nats-py ``get`` vs the pull-consumer reader).

WHIP recording (``--whip-only`` measures only this): the recording thread's CPU per 720p30
camera, fed the clip's own access units in real time order but unpaced, for the H.264 relay
(parse, segment, remux) and for encode-once (libx264 per preset + relay; the decoded frames
it starts from are aiortc's work either way, not counted). The WebRTC stack's own cost is the
same with or without recording, so this thread is what recording adds.

Run: ``.venv/bin/python -m bench.archive_cost [--cameras 2] [--seconds 24] [--runs 3]``;
``--export-only`` measures only the export, ``--whip-only`` only WHIP recording.
Without the system GStreamer RTSP server it falls back to file cameras (and says so).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import nats
from courtside_contracts.clips import SegmentMessage

from bench.common import court_clip, proc_cpu_s
from courtside.config import parse_config
from courtside.nats_server import EmbeddedNats
from fanout.archive import layout, sidecar
from fanout.archive.archiver import Archiver
from fanout.archive.export import concatenate, remux
from fanout.archive.replay import Replay
from fanout.archive.segment_source import read_segment
from fanout.archive.store import LocalStore
from ingest.av_source import AvSource, OpenOptions
from ingest.recording.recorder import CameraRecorder, RecordingOptions
from ingest.recording.shipper import build_message
from ingest.recording.spool import Spool, SpoolLimits
from ingest.recording.whip_recorder import H264Relay, OnceEncoder, WhipRecordingStats
from ingest.service import IngestService


async def service_run(server: EmbeddedNats, urls: list[str], seconds: float, work: Path,
                      record: bool) -> tuple[float, float, int]:
    """(process CPU seconds, nats-server CPU seconds, segments archived) over ``seconds``."""
    archive = ({"kind": "local", "path": str(work / "archive"), "spool_dir": str(work / "spool"),
                "annotation_grace_s": 0.2} if record else {"kind": "none"})
    config = parse_config({
        "cameras": [{"id": f"cam-{i}", "url": url, "fps": 15, "max_side": 960} for i, url in enumerate(urls)],
        "ingest": {"host": "127.0.0.1", "port": 0, "instance": "bench"}, "archive": archive,
    }, "<bench>", environ={})
    nc = await nats.connect(server.url)
    service = IngestService(config, nc)
    archiver = Archiver(nc, LocalStore(work / "archive"), config.archive) if record else None
    task = asyncio.create_task(archiver.run()) if archiver else None
    await service.start()
    try:
        await asyncio.sleep(2.0)  # warm-up: connect, first segment opened
        cpu0, srv0 = time.process_time(), proc_cpu_s(server.pid)
        await asyncio.sleep(seconds)
        cpu, srv = time.process_time() - cpu0, proc_cpu_s(server.pid) - srv0
    finally:
        await service.stop()
        if task is not None:
            task.cancel()
        await nc.close()
    return cpu, srv, archiver.stats.archived if archiver else 0


def sixty_seconds_of_segments(clip: Path, work: Path) -> list[tuple[SegmentMessage, bytes]]:
    """Six passes over the 10 s clip, recorded unpaced into 10 s segments laid end to end."""
    spool = Spool("bench", work / "export-spool", SpoolLimits(1 << 34, 1e12))
    recorder = CameraRecorder("bench", spool, RecordingOptions(10.0, 1.0))
    with AvSource(str(clip), OpenOptions(live=False), packets=recorder) as source:
        for _ in range(6):
            for _frame in source.frames():
                pass
            source.rewind()
    out, start = [], 1_000_000_000_000_000_000
    for seg in spool.pending():  # recorded unpaced: lay them end to end in wall time
        data = spool.media_path(seg.segment_id).read_bytes()
        span = seg.end_ns - seg.start_ns
        moved = replace(seg, segment_id=f"bench-{start}", start_ns=start, end_ns=start + span)
        out.append((build_message(moved, ()), data))
        start += span
    return out


async def object_store_read(server: EmbeddedNats, size: int) -> tuple[float, float]:
    """Seconds to read ``size`` bytes back: nats-py ``get`` vs the pull-consumer reader."""
    nc = await nats.connect(server.url)
    js = nc.jetstream()
    store = await js.create_object_store("bench-read")
    await store.put("blob", os.urandom(size))
    t0 = time.perf_counter()
    await store.get("blob")
    t1 = time.perf_counter()
    await read_segment(nc, "blob", bucket="bench-read")
    t2 = time.perf_counter()
    await nc.close()
    return t1 - t0, t2 - t1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=24.0,
                        help="measured seconds per run (segments are 10 s: keep it well above)")
    parser.add_argument("--runs", type=int, default=3, help="alternating runs without/with recording")
    parser.add_argument("--export-only", action="store_true", help="measure only the export of 60 s")
    parser.add_argument("--whip-only", action="store_true", help="measure only WHIP recording")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    clip = court_clip(1280, 720, 30, 10)
    work = Path(tempfile.mkdtemp(prefix="archive-cost-"))
    if args.whip_only:
        try:
            whip_recording_cost(clip, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    if args.export_only:
        try:
            export_times(sixty_seconds_of_segments(clip, work), work, args.runs)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    from tests.support.rtsp_server import RtspServer, system_rtsp_available

    servers: list[RtspServer] = []
    try:
        if system_rtsp_available():
            annexb = work / "clip.h264"
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-c", "copy", "-bsf:v",
                            "h264_mp4toannexb", "-f", "h264", str(annexb)], check=True)
            from tests.conftest import free_port

            for _ in range(args.cameras):
                servers.append(RtspServer(annexb, free_port()))
                servers[-1].start()
            urls, kind = [s.url() for s in servers], "RTSP"
        else:
            urls, kind = [f"file://{clip}"] * args.cameras, "file (no GStreamer RTSP server here)"
        print(f"{args.cameras} x 720p30 H.264 {kind} cameras, {args.seconds:.0f} s per run, {os.cpu_count()} CPUs")
        plain: list[float] = []
        rec: list[tuple[float, float, int]] = []
        plain_srv: list[float] = []
        with EmbeddedNats() as server:
            for run in range(args.runs):
                cpu, srv, _ = asyncio.run(service_run(server, urls, args.seconds, work / f"p{run}", False))
                plain.append(cpu)
                plain_srv.append(srv)
                rec.append(asyncio.run(service_run(server, urls, args.seconds, work / f"r{run}", True)))
                print(f"  run {run + 1}: without {plain[-1] / args.seconds:.3f} cores, with recording "
                      f"{rec[-1][0] / args.seconds:.3f} cores ({rec[-1][2]} segments archived)")
            read_get, read_pull = asyncio.run(object_store_read(server, 20 * 1024 * 1024))
        added = (statistics.median(r[0] for r in rec) - statistics.median(plain)) / args.seconds / args.cameras
        added_srv = (statistics.median(r[1] for r in rec) - statistics.median(plain_srv)) / args.seconds / args.cameras
        segments = sixty_seconds_of_segments(clip, work)
        export_times(segments, work, args.runs)
        print(f"object store read of 20 MiB: nats-py get {read_get * 1000:.0f} ms, pull consumer "
              f"{read_pull * 1000:.0f} ms")
        emulator_upload(segments, work)
        whip_recording_cost(clip, work)
        print(f"nats-server extra CPU per camera: {added_srv:.4f} cores (another process, not in ratio)")
        print(f"RESULT archive_added_cores_per_camera={added:.4f} anchor=1 ratio={added:.4f}")
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(work, ignore_errors=True)


def export_times(segments: list[tuple[SegmentMessage, bytes]], work: Path, runs: int) -> float:
    """Print the export of 60 s (median of alternating runs): the byte-level join (first byte,
    whole file as the reply streams it) vs PyAV's remux, and the whole replay path over a
    local archive (listing, sidecar headers, reads, join, every byte produced). Returns the
    replay path's seconds."""
    start, end = segments[0][0].start_ns + 500_000_000, segments[0][0].start_ns + 60_500_000_000
    firsts, joined, remuxed = [], [], []
    for _ in range(max(runs, 1)):
        t0 = time.perf_counter()
        out = concatenate(segments, start, end)
        pieces = out.chunks()
        size = len(next(pieces))
        firsts.append(time.perf_counter() - t0)
        size += sum(len(piece) for piece in pieces)
        joined.append(time.perf_counter() - t0)
        t1 = time.perf_counter()
        anchor = remux(segments, start, end)
        remuxed.append(time.perf_counter() - t1)
    assert out.frames == anchor.frames and size == out.size, (out.frames, anchor.frames, size, out.size)
    store = LocalStore(work / "export-archive")
    config = parse_config({"archive": {"kind": "local", "path": str(store.root)}}, "<bench>", environ={}).archive
    for message, data in segments:
        key = layout.segment_key(config.prefix, message.camera, message.start_ns, message.end_ns)
        store.put_new(layout.sidecar_key(key), sidecar.build(message, []), "application/x-ndjson", {})
        store.put_new(key, data, "video/mp4", {})
    replay = Replay(store, config, None)
    served, served_first = [], []
    for _ in range(max(runs, 1)):
        t0 = time.perf_counter()
        clip = replay._export(segments[0][0].camera, start, end)  # what GET /api/export runs, in its thread
        pieces = clip.chunks()
        next(pieces)
        served_first.append(time.perf_counter() - t0)
        for _piece in pieces:
            pass
        served.append(time.perf_counter() - t0)
    med = statistics.median
    print(f"export 60 s ({out.frames} frames, {out.size / 1e6:.1f} MB): byte join first byte "
          f"{med(firsts) * 1000:.0f} ms, whole {med(joined) * 1000:.0f} ms; PyAV remux (anchor) "
          f"{med(remuxed) * 1000:.0f} ms; replay path over a local archive first byte "
          f"{med(served_first) * 1000:.0f} ms, whole {med(served) * 1000:.0f} ms")
    return med(served)


def whip_recording_cost(clip: Path, work: Path, fps: int = 30) -> None:
    """Print the WHIP recording thread's CPU per 720p30 camera: relay, and encode-once per preset."""
    annexb = work / "whip.h264"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-c", "copy", "-bsf:v", "h264_mp4toannexb",
                    "-f", "h264", str(annexb)], check=True)
    import av

    with av.open(str(annexb), format="h264") as container:
        units = [bytes(p) for p in container.demux(video=0) if p.size]
    ticks = 90_000 // fps

    def recorder(name: str) -> CameraRecorder:
        return CameraRecorder(name, Spool(name, work / f"whip-{name}", SpoolLimits(1 << 34, 1e12)),
                              RecordingOptions(10.0, 1.0))

    relay_cpu: list[float] = []
    for run in range(3):
        relay = H264Relay(recorder(f"relay{run}"), WhipRecordingStats())
        t0 = time.thread_time()
        for i, data in enumerate(units):
            relay.unit(data, i * ticks)
        relay.finish()
        relay_cpu.append((time.thread_time() - t0) / (len(units) / fps))
    line = f"WHIP recording per 720p30 camera (recording thread, unpaced): relay {statistics.median(relay_cpu):.4f} cores"
    for preset in ("ultrafast", "veryfast"):
        enc, relay = OnceEncoder(1.0, preset), H264Relay(recorder(preset), WhipRecordingStats())
        spent, frames = 0.0, 0
        with av.open(str(clip)) as container:
            for frame in container.decode(video=0):
                t0 = time.thread_time()
                for data, pts in enc.encode(frame, frames * ticks):
                    relay.unit(data, pts)
                spent += time.thread_time() - t0
                frames += 1
        relay.finish()
        line += f"; encode-once {preset} {spent / (frames / fps):.3f} cores"
    print(line)


def emulator_upload(segments: list[tuple[SegmentMessage, bytes]], work: Path) -> None:
    from tests.archive.gcs_emulator import BINARY, FakeGcs

    if not BINARY.is_file():
        print("upload to the GCS emulator: fake-gcs-server not installed, skipped")
        return
    gcs = FakeGcs(work / "gcs")
    gcs.root.mkdir()
    gcs.start()
    os.environ["STORAGE_EMULATOR_HOST"] = gcs.url
    try:
        from fanout.archive.gcs_store import GcsStore

        store = GcsStore("bench", create=True)
        total = sum(len(d) for _m, d in segments)
        t0 = time.perf_counter()
        for i, (_msg, data) in enumerate(segments):
            store.put_new(f"bench/{i}.mp4", data, "video/mp4", {})
        took = time.perf_counter() - t0
        print(f"upload to the GCS emulator: {total / took / 1e6:.1f} MB/s ({len(segments)} segments, "
              f"{total / 1e6:.1f} MB, verified CRC-32C each)")
    finally:
        gcs.stop()


if __name__ == "__main__":
    main()
