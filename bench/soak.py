"""Soak (not a test): ``courtside up`` for ``--minutes`` (30 by default) under churn.

Four RTSP cameras from the GStreamer test server (``tests/support/rtsp_server.py``), every server
restarted every ``--rtsp-restart-s`` (120 s); ``--clients`` (100) WebSocket clients that connect,
subscribe, read a few seconds and leave, over and over; archive on (local). Every ``--sample-s``
the resident memory, open file descriptors and threads of each child (pids from the supervisor's
``/api/services``, figures from ``/proc``) and the asyncio tasks of each service (its
``courtside_*_asyncio_tasks`` gauge) are sampled.

Reported per service: RSS growth from the end of the warm-up (median of the first minute after it)
to the end (median of the last three samples), goal within 5 % (the RESULT takes the worst
Courtside service; the embedded nats-server is shown but left out: JetStream's caches grow with the
streams it stores, up to their limits); fd and thread growth; restarts;
warning/error lines other than the expected reconnect and source-restart lines; segments archived
per camera against the number the run time allows. Last line:
``RESULT soak_rss_growth_pct=<worst service> anchor=5 ratio=<worst/5>``.

Run under ``flock /tmp/bench.lock .venv/bin/python -m bench.soak --minutes 30``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import websockets
import yaml

from bench.common import result_line
from ingest.demo_clip import write_h264
from tests.conftest import free_port
from tests.support.rtsp_server import RtspServer

#: Log lines that churn is expected to produce (a camera server restarted, a client gone).
EXPECTED = re.compile(r"reconnect|disconnect|unreachable|source ended|ended|retry|retrying|reopen|backoff|"
                      r"connection (refused|reset|closed)|stream ended|lost|timed out|timeout", re.I)
PROBLEM = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b|Traceback")
SEGMENT_S = 10.0


def _frames(n: int, width: int, height: int) -> Any:
    base = np.zeros((height, width, 3), np.uint8)
    base[:] = np.linspace(30, 200, width, dtype=np.uint8)[None, :, None]
    for i in range(n):
        img = base.copy()
        x = (i * 7) % (width - 40)
        img[height // 3: height // 3 + 40, x: x + 40] = (40, 230, 230)
        yield img


def _proc_sample(pid: int) -> dict[str, float] | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {"rss_mb": int(fields["VmRSS"].split()[0]) / 1024, "fds": fds, "threads": int(fields["Threads"])}


class Clients:
    """``n`` WebSocket clients joining and leaving for ever; counts of what they saw."""

    def __init__(self, ws_url: str, n: int) -> None:
        self.ws_url, self.n = ws_url, n
        self.counts: Counter[str] = Counter()

    async def one(self, rng: random.Random) -> None:
        while True:
            try:
                async with websockets.connect(self.ws_url, open_timeout=10, close_timeout=2) as ws:
                    self.counts["connects"] += 1
                    await ws.send(json.dumps({"v": 1, "op": "subscribe"}))
                    stay = time.monotonic() + rng.uniform(3, 15)
                    while (left := stay - time.monotonic()) > 0:
                        try:
                            await asyncio.wait_for(ws.recv(), timeout=left)
                            self.counts["messages"] += 1
                        except asyncio.TimeoutError:
                            break
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as exc:
                self.counts[f"error {type(exc).__name__}"] += 1
            await asyncio.sleep(rng.uniform(0.1, 2.0))

    def tasks(self) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(self.one(random.Random(i)), name=f"soak-ws-{i}") for i in range(self.n)]  # noqa: S311


async def _services(supervisor: str) -> dict[str, dict[str, Any]]:
    async with httpx.AsyncClient(timeout=5) as http:
        body = (await http.get(f"{supervisor}/api/services")).json()
    return {s["name"]: s for s in body["services"]}


async def _asyncio_tasks(base: str) -> float:
    """The service's ``courtside_*_asyncio_tasks`` gauge (NaN when it does not answer)."""
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            text = (await http.get(f"{base}/metrics")).text
    except httpx.HTTPError:
        return float("nan")
    found = re.search(r"^courtside_[a-z]+_asyncio_tasks (\S+)$", text, re.M)
    return float(found.group(1)) if found else float("nan")


async def soak(args: argparse.Namespace, work: Path) -> int:
    clip = work / "cam.h264"
    write_h264(clip, _frames(60, 640, 360), fps=30, container_format="h264")
    servers = [RtspServer(clip, free_port(), path=f"/cam{i}") for i in range(args.cameras)]
    for s in servers:
        s.start()
    ports = {"fanout": free_port(), "ingest": free_port(), "supervisor": free_port(), "infer-bright": free_port()}
    archive = work / "archive"
    config = {
        "cameras": [{"id": f"cam-{i + 1}", "url": s.url(), "fps": args.fps, "max_side": 320}
                    for i, s in enumerate(servers)],
        "models": [{"name": "bright", "backend": "brightest", "weights": "none", "port": ports["infer-bright"]}],
        "ingest": {"port": ports["ingest"]}, "fanout": {"port": ports["fanout"]},
        "supervisor": {"port": ports["supervisor"]},
        "archive": {"kind": "local", "path": str(archive), "segment_s": SEGMENT_S, "spool_dir": str(work / "spool")},
    }
    (work / "up.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    log = work / "up.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURTSIDE_")}
    with log.open("wb") as out:
        up = subprocess.Popen([sys.executable, "-m", "courtside", "up", "--config", str(work / "up.yaml")],  # noqa: ASYNC220 - returns at once
                              env=env, stdout=out, stderr=subprocess.STDOUT)
    supervisor = f"http://127.0.0.1:{ports['supervisor']}"
    samples: dict[str, list[tuple[float, dict[str, float]]]] = defaultdict(list)
    clients = Clients(f"ws://127.0.0.1:{ports['fanout']}/ws", args.clients)
    tasks: list[asyncio.Task[None]] = []
    restarts_of_cameras = 0
    started = time.monotonic()
    end = started + args.minutes * 60
    warm_until = started + args.warmup_s
    try:
        deadline = time.monotonic() + 90
        while True:
            if up.poll() is not None:
                print(log.read_text(errors="replace")[-3000:])
                raise SystemExit("courtside up exited at start")
            try:  # every child running and fanout serving (its port open), before the clients come
                if all(s["state"] == "running" for s in (await _services(supervisor)).values()):
                    async with httpx.AsyncClient(timeout=2) as http:
                        if (await http.get(f"http://127.0.0.1:{ports['fanout']}/healthz")).status_code == 200:
                            break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("courtside up not running within 90 s")
            await asyncio.sleep(0.5)
        tasks = clients.tasks()
        next_restart = time.monotonic() + args.rtsp_restart_s
        next_sample = time.monotonic()
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_restart:
                for s in servers:
                    await asyncio.to_thread(s.stop)
                    await asyncio.to_thread(s.start)
                restarts_of_cameras += 1
                next_restart += args.rtsp_restart_s
            if now >= next_sample:
                for name, entry in (await _services(supervisor)).items():
                    pid = entry.get("pid")
                    got = _proc_sample(int(pid)) if pid else None
                    if got is not None:
                        got["restarts"] = float(entry.get("restarts", 0))
                        if name in ports and name != "supervisor":
                            got["tasks"] = await _asyncio_tasks(f"http://127.0.0.1:{ports[name]}")
                        samples[name].append((now - started, got))
                next_sample += args.sample_s
            if up.poll() is not None:
                raise SystemExit(f"courtside up exited during the soak:\n{log.read_text(errors='replace')[-3000:]}")
            await asyncio.sleep(0.5)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if up.poll() is None:
            up.send_signal(2)
            try:
                await asyncio.to_thread(up.wait, 20)
            except subprocess.TimeoutExpired:
                up.kill()
                up.wait()
        for s in servers:
            s.stop()
    return report(args, samples, warm_until - started, log, archive, clients.counts, restarts_of_cameras)


def report(args: argparse.Namespace, samples: dict[str, list[tuple[float, dict[str, float]]]], warm_s: float,
           log: Path, archive: Path, counts: Counter[str], camera_restarts: int) -> int:
    run_s = args.minutes * 60
    print(f"soak: {args.minutes:g} min, {args.cameras} RTSP cameras at {args.fps} fps (servers restarted "
          f"{camera_restarts}x, every {args.rtsp_restart_s:g} s), {args.clients} WebSocket clients churning, "
          f"archive local; warm-up {warm_s:.0f} s, a sample every {args.sample_s:g} s")
    worst = 0.0
    for name in sorted(samples):
        rows = samples[name]
        after = [r for t, r in rows if t >= warm_s]
        if len(after) < 4:
            print(f"  {name:14s} too few samples after the warm-up ({len(after)})")
            continue
        first = [r for t, r in rows if warm_s <= t < warm_s + 60] or after[:3]
        last = after[-3:]
        base, final = (statistics.median(r["rss_mb"] for r in g) for g in (first, last))
        growth = 100 * (final - base) / base
        if name != "nats":  # the nats-server is not ours: JetStream's caches grow with the data stored
            worst = max(worst, growth)
        print(f"  {name:14s} RSS {base:7.1f} -> {final:7.1f} MB ({growth:+.1f} %, peak "
              f"{max(r['rss_mb'] for r in after):.1f}); fds {int(first[0]['fds'])} -> {int(last[-1]['fds'])}; "
              f"threads {int(first[0]['threads'])} -> {int(last[-1]['threads'])}; "
              + (f"asyncio tasks {first[0]['tasks']:.0f} -> {last[-1]['tasks']:.0f} (peak "
                 f"{max(r['tasks'] for r in after):.0f}); " if "tasks" in first[0] else "")
              + f"restarts {int(last[-1]['restarts'])}")
    text = log.read_text(errors="replace").splitlines()
    problems = [line for line in text if PROBLEM.search(line)]
    unexpected = [line for line in problems if not EXPECTED.search(line)]
    print(f"  log: {len(problems)} warning/error lines, {len(problems) - len(unexpected)} of them expected "
          f"(reconnects, camera restarts), {len(unexpected)} unexpected")
    for line in Counter(re.sub(r"\d+", "N", u)[:160] for u in unexpected).most_common(8):
        print(f"    {line[1]}x {line[0]}")
    per_camera = Counter(next((part for part in p.parts if part.startswith("cam-")), "?")
                         for p in archive.rglob("*.mp4"))
    allowed = int(run_s / SEGMENT_S)
    print(f"  archived segments per camera: {dict(sorted(per_camera.items()))} (at most ~{allowed} in "
          f"{run_s:.0f} s at {SEGMENT_S:g} s each; each camera restart cuts one short)")
    print(f"  WebSocket: {counts['connects']} connections, {counts['messages']} messages, "
          f"errors {sum(v for k, v in counts.items() if k.startswith('error'))} "
          f"({', '.join(f'{k[6:]} {v}' for k, v in counts.items() if k.startswith('error')) or 'none'})")
    print("  (RESULT: the worst Courtside service; the embedded nats-server's growth is shown above, not in it)")
    print(result_line("soak_rss_growth_pct", worst, 5.0, worst / 5.0))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--warmup-s", type=float, default=None, help="default: a fifth of the run, at most 300 s")
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--fps", type=int, default=5)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rtsp-restart-s", type=float, default=120.0)
    parser.add_argument("--sample-s", type=float, default=10.0)
    args = parser.parse_args()
    if args.warmup_s is None:
        args.warmup_s = min(300.0, args.minutes * 60 / 5)
    with tempfile.TemporaryDirectory(prefix="courtside-soak-") as work:
        return asyncio.run(soak(args, Path(work)))


if __name__ == "__main__":
    raise SystemExit(main())
