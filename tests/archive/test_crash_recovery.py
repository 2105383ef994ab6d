"""SIGKILL in the middle of work, real processes and servers: the archiver mid-upload (nothing
lost, nothing duplicated) and ingest while recording (at most the last fragment lost, the rest
archived after the restart)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from courtside_contracts import clips
from nats.aio.client import Client as NATS

from courtside.config import parse_config
from courtside.nats_server import EmbeddedNats
from fanout.archive.store import LocalStore, crc32c_of
from tests.archive.recording_harness import recording_ingest
from tests.archive.test_archive_pipeline import archive_config, archived, running_archiver, wait_for
from tests.support.media import make_h264_clip

REPO = Path(__file__).resolve().parents[2]


def spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "contracts")])}
    return subprocess.Popen([sys.executable, *args], cwd=REPO, env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


def write_config(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "courtside.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


async def test_archiver_killed_mid_upload_then_restarted(
        tmp_path: Path, nats_server: EmbeddedNats, nc: NATS) -> None:
    clip = make_h264_clip(tmp_path / "clip.mp4", frames=120, fps=30)
    config = archive_config(tmp_path, clip, kind="local", cameras=2)
    store = LocalStore(tmp_path / "archive")
    raw = json.loads(config.model_dump_json())
    for cam, src in zip(raw["cameras"], config.cameras, strict=True):
        cam["url"] = src.url.get_secret_value()
    path = write_config(tmp_path, raw)

    kills = 0
    async with recording_ingest(config, nc) as recording:
        proc = spawn(["-m", "fanout.archive", "--config", str(path), "--nats", nats_server.url], tmp_path / "a.log")
        try:
            await wait_for(lambda: len(archived(store, ".mp4")) >= 2, 30, "the archiver at work")
            for _ in range(3):  # kill it while it works, three times
                await asyncio.sleep(1.7)
                proc.send_signal(signal.SIGKILL)
                proc.wait(5)
                kills += 1
                proc = spawn(["-m", "fanout.archive", "--config", str(path), "--nats", nats_server.url],
                             tmp_path / f"a{kills}.log")
            await asyncio.sleep(2.0)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(5)
    shipped = sorted(seg for _cam, seg, _c, _e in recording.shipper.shipped)
    # A final archiver (in-process) drains what the killed ones left: redeliveries after ack_wait.
    async with running_archiver(nc, store, config) as archiver:
        await wait_for(lambda: len(archived(store, ".mp4")) >= len(shipped), 60, "every segment archived")
        await asyncio.sleep(1.0)
    ids = sorted(store.stat(k).metadata["segment_id"] for k in archived(store, ".mp4"))  # type: ignore[union-attr]
    assert ids == shipped, "nothing lost, nothing duplicated"
    assert len(archived(store, ".jsonl")) == len(ids)
    # No half-written object under a final name: every archived segment is whole and as sent.
    for key in archived(store, ".mp4"):
        body = store.read(key)
        head = json.loads(store.read(key.removesuffix(".mp4") + ".jsonl").split(b"\n", 1)[0])
        assert clips.segment_problems(body) == [] and crc32c_of(body) == head["segment"]["crc32c"]
    assert archiver.stats.corrupt == 0


async def test_ingest_killed_while_recording_loses_at_most_the_last_fragment(
        tmp_path: Path, nats_server: EmbeddedNats, nc: NATS) -> None:
    clip = make_h264_clip(tmp_path / "clip.mp4", frames=600, fps=30)  # 20 s: no loop in this test
    data = {"cameras": [{"id": "cam-0", "url": f"file://{clip}", "fps": 30, "max_side": 320}],
            "archive": {"kind": "local", "path": str(tmp_path / "archive"), "segment_s": 6.0,
                        "fragment_s": 0.5, "spool_dir": str(tmp_path / "spool"), "annotation_grace_s": 0.3}}
    cfg_path = tmp_path / "harness.json"
    cfg_path.write_text(json.dumps(data))
    config = parse_config(data, "<test>", environ={})
    store = LocalStore(tmp_path / "archive")
    proc = spawn(["-m", "tests.archive.recording_harness", str(cfg_path), nats_server.url], tmp_path / "i.log")
    part_dir = tmp_path / "spool" / "cam-0"
    try:
        await wait_for(lambda: any(part_dir.glob("*.mp4.part")), 20, "recording started")
        await asyncio.sleep(4.2)  # into the first 6 s segment, several 0.5 s fragments written
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        killed_at = time.time_ns()
    finally:
        if proc.poll() is None:
            proc.kill()
    [part] = list(part_dir.glob("*.mp4.part"))
    start_ns = int(part.name.removesuffix(".mp4.part").rsplit("-", 1)[1])
    recorded_s = (killed_at - start_ns) / 1e9
    # Restart: the crashed segment is salvaged (cut after its last complete fragment) and shipped.
    proc = spawn(["-m", "tests.archive.recording_harness", str(cfg_path), nats_server.url], tmp_path / "i2.log")
    try:
        async with running_archiver(nc, store, config):
            await wait_for(lambda: any(k.rsplit("/", 1)[-1].startswith(f"{start_ns}_")
                                       for k in archived(store, ".mp4")), 30, "the salvaged segment archived")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    key = next(k for k in archived(store, ".mp4") if k.rsplit("/", 1)[-1].startswith(f"{start_ns}_"))
    start, end = (int(v) for v in key.rsplit("/", 1)[-1].removesuffix(".mp4").split("_"))
    kept_s = (end - start) / 1e9
    # Lost at most the fragment being written (0.5 s) plus what was still being demuxed.
    assert recorded_s - 0.5 - 0.25 <= kept_s <= recorded_s + 0.1, (recorded_s, kept_s)
    head = json.loads(store.read(key.removesuffix(".mp4") + ".jsonl").split(b"\n", 1)[0])
    assert head["segment"]["segment_id"] == f"cam-0-{start_ns}"
