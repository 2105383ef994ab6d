"""Replay REST against a real fanout (uvicorn), nats-server and a local archive filled by the
real recording path and the archiver fanout runs: listing with gaps, Range downloads, export
checked with ffprobe, annotations lined up with the index, saved clips, and every bad request
a 4xx with its reason."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from courtside_contracts.headers import FrameMeta
from courtside_contracts.streams import ANNOTATIONS
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from courtside.config import parse_config
from courtside.nats_server import EmbeddedNats
from courtside.natsio import ensure_stream
from fanout.testing import QUICK_LIMITS, make_annotation, publish_annotation, running_fanout
from tests.archive.recording_harness import recording_ingest
from tests.support.media import make_h264_clip

READER, WRITER, OTHER = "reader-token-0123456789", "writer-token-0123456789", "other-token-0123456789"


@asynccontextmanager
async def replay_setup(tmp_path: Path, nats_url: str, nc: NATS) -> AsyncIterator[httpx.AsyncClient]:
    clip = make_h264_clip(tmp_path / "clip.mp4", frames=300, fps=30)  # 10 s, keyframe every second
    config = parse_config({
        "fanout": {"port": 0},
        "cameras": [{"id": cam, "url": f"file://{clip}", "fps": 30, "max_side": 320} for cam in ("cam-0", "cam-1")],
        "archive": {"kind": "local", "path": str(tmp_path / "archive"), "segment_s": 2.0, "fragment_s": 0.5,
                    "spool_dir": str(tmp_path / "spool"), "annotation_grace_s": 0.3, "max_export_s": 60,
                    "max_range_s": 3600},
        "auth": {"enabled": True, "tokens": [
            {"token": READER, "scopes": ["read"], "cameras": ["cam-0"]},
            {"token": WRITER, "scopes": ["write"], "cameras": ["cam-0"]},
            {"token": OTHER, "scopes": ["read", "write"], "cameras": ["cam-1"]}]},
    }, "<test>", environ={})
    await ensure_stream(nc, ANNOTATIONS)

    async def annotate(msg: Msg) -> None:  # a model answering every frame, as inference would
        meta = FrameMeta.from_headers(msg.headers)
        await publish_annotation(nc, make_annotation(meta.camera, "boxes", meta.seq, ts=meta.ts, frame=(320, 180)))

    await nc.subscribe("frames.cam-0", cb=annotate)
    async with running_fanout(config, nats_url, limits=QUICK_LIMITS) as fanout, recording_ingest(config, nc):
        async with httpx.AsyncClient(base_url=fanout.http_url, timeout=30,
                                     headers={"Authorization": f"Bearer {READER}"}) as http:
            yield http


async def recordings(http: httpx.AsyncClient, start: int, end: int, camera: str = "cam-0") -> list[dict[str, Any]]:
    reply = await http.get("/api/recordings", params={"camera": camera, "start": start, "end": end})
    assert reply.status_code == 200, reply.text
    items: list[dict[str, Any]] = reply.json()["items"]
    return items


async def wait_recordings(http: httpx.AsyncClient, start: int, n: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        items = [i for i in await recordings(http, start, time.time_ns()) if i["kind"] == "recording"]
        if len(items) >= n:
            return items
        await asyncio.sleep(0.3)
    raise AssertionError(f"fewer than {n} recordings archived")


def ffprobe(path: Path) -> dict[str, Any]:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                          "stream=codec_name,nb_read_frames,duration,r_frame_rate", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    stream: dict[str, Any] = json.loads(out)["streams"][0]
    return stream


async def test_list_download_export_annotations_and_clips(
        tmp_path: Path, nats_server: EmbeddedNats, nc: NATS) -> None:
    before = time.time_ns() - 10 * 10**9
    async with replay_setup(tmp_path, nats_server.url, nc) as http:
        segs = await wait_recordings(http, before, 3)
        items = await recordings(http, before, segs[-1]["end_ns"])
        assert items[0]["kind"] == "gap" and items[0]["start_ns"] == before  # nothing before ingest started
        first = segs[0]
        # Download, whole and by Range (a browser seeking).
        whole = await http.get(first["url"], params={"direct": "1"})
        assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
        part = await http.get(first["url"], headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == whole.content[100:200]
        assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
        tail = await http.get(first["url"], headers={"Range": "bytes=-10"})
        assert tail.content == whole.content[-10:]
        # Export from the middle of the first segment into the third: starts on the keyframe before.
        start = first["start_ns"] + 1_500_000_000
        end = segs[2]["start_ns"] + 1_000_000_000
        t0 = time.perf_counter()
        export = await http.get("/api/export", params={"camera": "cam-0", "start": start, "end": end})
        took = time.perf_counter() - t0
        assert export.status_code == 200, export.text
        real_start = int(export.headers["courtside-start-ns"])
        assert export.headers["courtside-keyframe-aligned"] == "true"
        assert export.headers["courtside-export-method"] == "concat"  # one camera, one track: a byte join
        assert int(export.headers["content-length"]) == len(export.content)  # streamed, length known
        assert start - 1_000_000_000 <= real_start <= start  # keyframes every second
        (tmp_path / "export.mp4").write_bytes(export.content)
        probe = ffprobe(tmp_path / "export.mp4")
        frames = int(probe["nb_read_frames"])
        expected = (int(export.headers["courtside-end-ns"]) - real_start) / 1e9 * 30
        assert probe["codec_name"] == "h264"
        assert abs(frames - expected) <= 1 and frames == int(export.headers["courtside-frames"])
        assert abs(float(probe["duration"]) - frames / 30) <= 1 / 30 + 1e-3
        assert abs((end - real_start) / 1e9 * 30 - frames) <= 1  # within one frame of the aligned range
        assert took < 2.0  # goal 1 s for a minute of video; this is 3 s of it on a loaded machine
        # Annotations of a range, each on a frame of a segment's index.
        ann = (await http.get("/api/annotations", params={"camera": "cam-0", "start": first["start_ns"],
                                                          "end": first["end_ns"]})).json()
        by_seq = {e[0]: e for s in ann["segments"] for e in s["segment"]["index"]}
        assert ann["annotations"] and all(a["seq"] in by_seq and by_seq[a["seq"]][2] == a["ts"]
                                          for a in ann["annotations"])
        assert ann["segments"][0]["models"] == [{"name": "boxes", "version": "test-1", "weights": "trained"}]
        # Sidecar of a steady-state segment: its index entries are frames of the MP4 (a frame dropped
        # before publishing, at start-up or under load, has no seq and is not indexed).
        side = await http.get(segs[1]["sidecar_url"], params={"direct": "1"})
        head = json.loads(side.content.split(b"\n", 1)[0])
        (tmp_path / "seg.mp4").write_bytes((await http.get(segs[1]["url"], params={"direct": "1"})).content)
        index = head["segment"]["index"]
        nb = int(ffprobe(tmp_path / "seg.mp4")["nb_read_frames"])
        frames_of = [(e[1] - head["segment"]["pts_origin"]) * 30 for e in index]
        assert all(abs(k - round(k)) < 0.01 and 0 <= round(k) < nb for k in frames_of)  # exact MP4 frames
        assert [round(k) for k in frames_of] == sorted({round(k) for k in frames_of})
        seqs = [e[0] for e in index]  # every published frame indexed once (dropped ones have no seq)
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) and len(seqs) >= nb // 2
        # Save a clip of a range (write scope), list it, download it; the reader may not save.
        denied = await http.post("/api/clips", json={"camera": "cam-0", "start_ns": start, "end_ns": end})
        assert denied.status_code == 403 and "write" in denied.json()["detail"]
        writer = {"Authorization": f"Bearer {WRITER}"}
        saved = await http.post("/api/clips", json={"camera": "cam-0", "start_ns": start, "end_ns": end},
                                headers=writer)
        assert saved.status_code == 201, saved.text
        clip = saved.json()
        assert clip["keyframe_aligned"] and clip["start_ns"] == real_start
        listed = (await http.get("/api/clips", params={"camera": "cam-0"})).json()["clips"]
        assert [c["id"] for c in listed] == [clip["id"]]
        body = await http.get(listed[0]["url"], params={"direct": "1"})
        assert body.status_code == 200 and body.content[4:8] == b"ftyp"
        # The last 10 s: ingest flushes the open segment first, so the clip reaches the request.
        asked = time.time_ns()
        last = await http.post("/api/clips", json={"camera": "cam-0", "last_s": 10}, headers=writer)
        assert last.status_code == 201, last.text
        assert last.json()["end_ns"] >= asked - 200_000_000


async def test_bad_requests_get_4xx_with_a_reason(tmp_path: Path, nats_server: EmbeddedNats, nc: NATS) -> None:
    now = time.time_ns()
    async with replay_setup(tmp_path, nats_server.url, nc) as http:
        segs = await wait_recordings(http, now - 10**9, 1)
        name = segs[0]["name"]
        other = {"Authorization": f"Bearer {OTHER}"}
        cases: list[tuple[str, str, dict[str, Any], dict[str, str], int, str]] = [
            ("GET", "/api/recordings", {"camera": "cam-0", "start": now, "end": now - 1}, {}, 400, "before"),
            ("GET", "/api/recordings", {"camera": "cam-0", "start": 0, "end": now}, {}, 400, "maximum"),
            ("GET", "/api/recordings", {"camera": "nope", "start": now - 1, "end": now}, {}, 404, "unknown"),
            ("GET", "/api/recordings", {"camera": "../etc", "start": now - 1, "end": now}, {}, 422, ""),
            ("GET", "/api/recordings", {"camera": "cam-0", "start": now - 1, "end": now}, other, 403, "cam-0"),
            ("GET", "/api/recordings", {"camera": "cam-0", "start": -5, "end": now}, {}, 422, ""),
            ("GET", f"/api/recordings/cam-0/{name}", {}, other, 403, "cam-0"),
            ("GET", "/api/recordings/cam-0/..%2F..%2Fetc%2Fpasswd", {}, {}, 404, "not found"),
            ("GET", "/api/recordings/cam-0/1_2.txt", {}, {}, 422, ""),
            ("GET", "/api/recordings/cam-0/2_1.mp4", {}, {}, 400, "named"),
            ("GET", "/api/recordings/cam-0/1_2.mp4", {"direct": "1"}, {}, 404, "no such"),
            ("GET", "/api/recordings/cam-9/1_2.mp4", {}, {}, 404, "unknown"),
            ("GET", "/api/export", {"camera": "cam-0", "start": now, "end": now + 61 * 10**9}, {}, 400, "maximum"),
            ("GET", "/api/export", {"camera": "cam-0", "start": 10, "end": 20}, {}, 404, "no recording"),
            ("GET", "/api/export", {"camera": "cam-0", "start": now, "end": now + 1}, other, 403, "cam-0"),
            ("GET", "/api/annotations", {"camera": "cam-0", "start": now, "end": now}, {}, 400, "before"),
            ("GET", "/api/clips", {"camera": "cam-0"}, other, 403, "cam-0"),
            ("GET", "/api/clips/cam-0/cam-1-1-2.mp4", {}, {}, 400, "not a clip id"),
            ("GET", "/api/clips/cam-0/..%2Fx.mp4", {}, {}, 404, "not found"),
            ("GET", "/api/recordings/cam-0/%2E%2E", {}, {}, 422, ""),
            ("POST", "/api/clips", {"camera": "cam-0", "start_ns": 5, "end_ns": 1}, other, 403, "cam-0"),
            ("POST", "/api/clips", {"camera": "cam-0", "start_ns": 5, "end_ns": 1},
             {"Authorization": f"Bearer {WRITER}"}, 400, "before"),
            ("POST", "/api/clips", {"camera": "cam-0", "start_ns": 5}, {"Authorization": f"Bearer {WRITER}"},
             400, "together"),
            ("POST", "/api/clips", {"camera": "cam-0", "bogus": 1}, {"Authorization": f"Bearer {WRITER}"}, 422, ""),
            ("GET", "/api/recordings", {"camera": "cam-0", "start": now - 1, "end": now},
             {"Authorization": "Bearer wrong"}, 401, "not valid"),
        ]
        for method, path, params, headers, status, reason in cases:
            if method == "GET":
                reply = await http.get(path, params=params, headers=headers)
            else:
                reply = await http.post(path, json=params, headers=headers)
            assert reply.status_code == status, (method, path, params, reply.status_code, reply.text)
            assert reason.lower() in reply.text.lower(), (path, reply.text)
