"""`courtside up` on the embedded default: everything starts, data flows, Ctrl-C stops it all.

Runs the real default (courtside/app/embedded.yaml): embedded nats-server, the demo court
source, the Ultralytics player detector and the ball tracker with the weights shipped in
the repository (both trained on the synthetic court, and saying so), real footage (a cyclist)
served by the pretrained OpenCV and MediaPipe consumers from their own environments,
court analytics of court-1 (players in court metres, on NATS and on the live page's WebSocket,
under the calibration seeded from the demo scene's known camera), and fanout, which archives
every camera's segments into the local archive (``courtside-data/archive`` under the working
directory, here the test's temp dir) and lists them for /replay. Only the ports are moved to free ones.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
import websockets
from courtside_contracts.analytics import AnalyticsMessage
from courtside_contracts.subjects import analytics_subject
from nats.aio.msg import Msg

from analytics.seed_calibration import DEMO_SCENE_SOURCE
from courtside.court import model as court
from tests.conftest import free_port
from tests.support.procs import alive

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
#: Metres a player's mapped feet point may lie outside the court (the detector's box bottom error).
FEET_ERROR_M = 0.5


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


async def test_up_runs_the_embedded_default_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    port, analytics_port = free_port(), free_port()
    env = {**os.environ, "COURTSIDE_FANOUT__PORT": str(port), "COURTSIDE_INGEST__PORT": str(free_port()),
           "COURTSIDE_SUPERVISOR__PORT": str(free_port()), "COURTSIDE_ANALYTICS__PORT": str(analytics_port),
           "COURTSIDE_FANOUT__ANALYTICS_URL": f"http://127.0.0.1:{analytics_port}",
           "YOLO_CONFIG_DIR": str(tmp_path / "yolo")}
    env.pop("COURTSIDE_NATS__URL", None)
    log_path = tmp_path / "up.log"
    started_ns = time.time_ns()
    with log_path.open("wb") as log:
        up = subprocess.Popen([sys.executable, "-m", "courtside", "up"], env=env, stdout=log,  # noqa: ASYNC220 - returns at once; the test signals it
                              stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        seen = await _annotations_until_every_model(port, up, {"yolo", "ball", "people", "pose", "analytics"})
        yolo, ball, people, pose = seen["yolo"], seen["ball"], seen["people"], seen["pose"]
        assert seen["analytics"]["camera"] == "court-1", "the live page's minimap gets court-1's analytics"
        assert yolo["camera"] == ball["camera"] == "court-1"
        assert yolo["weights"] == "trained" and yolo["trained_on"] == "synthetic court (courtside.sim v2)", \
            "the shipped player detector is trained, and says on what"
        assert any(o["label"] == "player" for o in yolo["objects"]), "the demo court's players, found"
        assert ball["weights"] == "trained", "the shipped ball weights are trained (on the synthetic court)"
        assert ball["ball"]["visible"], "the demo court's ball, found by the shipped tracker"
        assert people["camera"] == pose["camera"] == "street-1"
        assert people["weights"] == pose["weights"] == "trained", "models shipped in their packages are pretrained"
        (person,) = pose["objects"]  # the cyclist's pose, from real footage, with no download
        assert len(person["keypoints"]) == 17
        async with httpx.AsyncClient() as client:
            cameras = (await client.get(f"http://127.0.0.1:{port}/api/cameras")).json()
        assert "court-1" in json.dumps(cameras)
        await _analytics_on_nats(log_path, up)
        async with httpx.AsyncClient(timeout=10) as client:  # the live page's calibration, through fanout
            calibration = (await client.get(f"http://127.0.0.1:{port}/api/calibration/court-1")).json()
        assert calibration["kind"] == "pose" and calibration["source"] == DEMO_SCENE_SOURCE, calibration
        await _archived_and_listed(port, up, tmp_path / "courtside-data" / "archive", started_ns)
        family = _descendants(up.pid)
        assert len(family) >= 8, f"expected nats-server, ingest, 4 consumers, analytics, fanout; got {family}"

        started = time.monotonic()
        up.send_signal(signal.SIGINT)
        code = up.wait(timeout=10)
        elapsed = time.monotonic() - started
        assert code == 0
        assert elapsed < 5.0, f"shutdown took {elapsed:.1f} s"
        deadline = time.monotonic() + 1
        while any(alive(p) for p in family) and time.monotonic() < deadline:  # noqa: ASYNC110 - polls /proc
            await asyncio.sleep(0.05)
        assert not [p for p in family if alive(p)], "processes outlived `courtside up`"
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    text = log_path.read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]


async def _analytics_on_nats(log_path: Path, up: subprocess.Popen[bytes], frames: int = 30) -> None:
    """``analytics.court-1`` on the embedded nats-server: ``frames`` messages in a row under the seeded pose
    calibration, players found in most, every player inside the court (metres; the glass walls bound it)."""
    text = await asyncio.to_thread(log_path.read_text, errors="replace")
    found = re.search(r"embedded nats-server ready at (nats://127\.0\.0\.1:\d+)", text)
    assert found is not None
    got: list[AnalyticsMessage] = []

    async def on_message(msg: Msg) -> None:
        got.append(AnalyticsMessage.from_json(msg.data))

    nc = await nats.connect(found.group(1))
    try:
        await nc.subscribe(analytics_subject("court-1"), cb=on_message)
        deadline = time.monotonic() + 60
        while len(got) < frames:
            assert up.poll() is None, "courtside up exited early"
            assert time.monotonic() < deadline, f"{len(got)} analytics.court-1 messages within 60 s"
            await asyncio.sleep(0.1)
    finally:
        await nc.close()
    assert all(m.calibration.kind == "pose" for m in got), [m.calibration for m in got]
    players = [p for m in got for p in m.players]
    assert sum(1 for m in got if m.players) >= frames // 2, "the demo court's players, found in most frames"
    assert {p.side for p in players} == {"near", "far"}, "players on both sides of the net"
    # A player's feet point is inside the glass; a box bottom from the 160 px detector may be off by a few
    # decimetres (one of its pixels is ~8 px of the 1280 px frame).
    margin = FEET_ERROR_M
    outside = [(p.x, p.y) for p in players if not (-court.HALF_WIDTH_M - margin <= p.x <= court.HALF_WIDTH_M + margin
                                                   and -margin <= p.y <= court.LENGTH_M + margin)]
    assert not outside, f"players off the court (metres): {outside[:10]}"


async def _archived_and_listed(port: int, up: subprocess.Popen[bytes], archive: Path, since_ns: int) -> None:
    """The embedded default records: a segment of court-1 (video and sidecar) lands in the
    local archive under the working directory, and the replay API lists exactly those files."""
    deadline = time.monotonic() + 90  # one 10 s segment, the annotation grace, a loaded machine
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        page = await client.get("/replay")
        assert page.status_code == 200 and "<html" in page.text.lower()
        while time.monotonic() < deadline:
            assert up.poll() is None, "courtside up exited early"
            reply = await client.get("/api/recordings", params={
                "camera": "court-1", "start": since_ns - 10**9, "end": time.time_ns()})
            assert reply.status_code == 200, reply.text
            listed = [i for i in reply.json()["items"] if i["kind"] == "recording"]
            if listed:
                break
            await asyncio.sleep(1.0)
        else:
            raise AssertionError(f"no court-1 segment archived in {archive} within 90 s")
    on_disk = {p.name for p in (archive / "courtside" / "court-1").rglob("*.mp4")}
    assert {i["name"] for i in listed} <= on_disk, (listed, on_disk)
    for item in listed:
        (video,) = (archive / "courtside" / "court-1").rglob(item["name"])
        assert video.stat().st_size == item["size"] and video.read_bytes()[4:8] == b"ftyp"
        assert video.with_suffix(".jsonl").is_file(), "every archived video has its sidecar"


async def _annotations_until_every_model(port: int, up: subprocess.Popen[bytes],
                                         models: set[str]) -> dict[str, dict[str, Any]]:
    """The first annotation of each model in ``models`` (for pose: the first with a person; for
    ball: the first with the ball in view; for ``analytics``: the first analytics message with players)."""
    deadline = time.monotonic() + 240
    seen: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        assert up.poll() is None, "courtside up exited early"
        try:
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
                await ws.send(json.dumps({"v": 1, "op": "subscribe"}))
                while time.monotonic() < deadline:
                    data = json.loads(await asyncio.wait_for(ws.recv(), timeout=120))
                    if data.get("type") == "analytics" and data["analytics"]["players"]:
                        seen.setdefault("analytics", data["analytics"])
                    if data.get("type") != "annotation":
                        continue
                    ann = data["annotation"]
                    found = {"pose": bool(ann["objects"]), "yolo": bool(ann["objects"]),
                             "ball": bool(ann.get("ball", {}).get("visible"))}
                    if ann["model"] in models - set(seen) and found.get(ann["model"], True):
                        seen[ann["model"]] = ann
                    if set(seen) == models:
                        return seen
        except (OSError, websockets.InvalidStatus, websockets.InvalidHandshake):
            await asyncio.sleep(0.5)
    raise TimeoutError(f"`courtside up`: no annotation from {sorted(models - set(seen))}")
