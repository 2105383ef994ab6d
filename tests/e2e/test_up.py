"""`courtside up` on the embedded default: everything starts, data flows, Ctrl-C stops it all.

Runs the real default (courtside/embedded.yaml): embedded nats-server, the demo court
source, the Ultralytics consumer whose default weights cannot be downloaded here (so
it must fall back to the untrained architecture and say so), real footage (a cyclist)
served by the pretrained OpenCV and MediaPipe consumers from their own environments,
and fanout. Only the ports are moved to free ones.
"""

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

import httpx
import pytest
import websockets

from tests.conftest import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


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


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


async def test_up_runs_the_embedded_default_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "COURTSIDE_FANOUT__PORT": str(port), "COURTSIDE_INGEST__PORT": str(free_port()),
           "YOLO_CONFIG_DIR": str(tmp_path / "yolo")}
    env.pop("COURTSIDE_NATS__URL", None)
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        up = subprocess.Popen([sys.executable, "-m", "courtside", "up"], env=env, stdout=log,  # noqa: ASYNC220 - returns at once; the test signals it
                              stderr=subprocess.STDOUT)
    try:
        seen = await _annotations_until_every_model(port, up, {"yolo", "people", "pose"})
        yolo, people, pose = seen["yolo"], seen["people"], seen["pose"]
        assert yolo["camera"] == "court-1"
        assert yolo["weights"] == "untrained", "no weights can be downloaded here: must say untrained"
        assert people["camera"] == pose["camera"] == "street-1"
        assert people["weights"] == pose["weights"] == "trained", "models shipped in their packages are pretrained"
        (person,) = pose["objects"]  # the cyclist's pose, from real footage, with no download
        assert len(person["keypoints"]) == 17
        async with httpx.AsyncClient() as client:
            cameras = (await client.get(f"http://127.0.0.1:{port}/api/cameras")).json()
        assert "court-1" in json.dumps(cameras)
        family = _descendants(up.pid)
        assert len(family) >= 6, f"expected nats-server, ingest, 3 consumers, fanout; got {family}"

        started = time.monotonic()
        up.send_signal(signal.SIGINT)
        code = up.wait(timeout=10)
        elapsed = time.monotonic() - started
        assert code == 0
        assert elapsed < 5.0, f"shutdown took {elapsed:.1f} s"
        deadline = time.monotonic() + 1
        while any(_alive(p) for p in family) and time.monotonic() < deadline:  # noqa: ASYNC110 - polls /proc
            await asyncio.sleep(0.05)
        assert not [p for p in family if _alive(p)], "processes outlived `courtside up`"
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    text = log_path.read_text(errors="replace")
    assert "untrained" in text.lower(), "the weights fallback must be logged"
    assert "Traceback" not in text, text[-3000:]


async def _annotations_until_every_model(port: int, up: subprocess.Popen[bytes],
                                         models: set[str]) -> dict[str, dict[str, Any]]:
    """The first annotation of each model in ``models`` (for pose: the first with a person)."""
    deadline = time.monotonic() + 240
    seen: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        assert up.poll() is None, "courtside up exited early"
        try:
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
                await ws.send(json.dumps({"v": 1, "op": "subscribe"}))
                while time.monotonic() < deadline:
                    data = json.loads(await asyncio.wait_for(ws.recv(), timeout=120))
                    if data.get("type") != "annotation":
                        continue
                    ann = data["annotation"]
                    if ann["model"] in models - set(seen) and (ann["model"] != "pose" or ann["objects"]):
                        seen[ann["model"]] = ann
                    if set(seen) == models:
                        return seen
        except (OSError, websockets.InvalidStatus, websockets.InvalidHandshake):
            await asyncio.sleep(0.5)
    raise TimeoutError(f"`courtside up`: no annotation from {sorted(models - set(seen))}")
