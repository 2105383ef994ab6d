"""``courtside up`` restarts a child killed with SIGKILL while the others keep serving.

Each kind of child in turn (ingest, the inference consumer, fanout, the embedded
nats-server) is SIGKILLed in a real ``courtside up``; the others must answer their
``/healthz`` throughout and keep their pids, the victim must come back (a new pid,
``restarts`` 1 in ``GET /api/services`` and in the metrics, a log line), and annotations
must reach a fresh WebSocket client again. A child killed too often in the window makes
``courtside up`` give up with a message saying so, and leave nothing behind.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.app.up_harness import Up, running_up
from tests.support.procs import alive

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


async def _restarts_metric(up: Up) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=5) as http:
        text = (await http.get(f"{up.supervisor}/metrics")).text
    return {s.labels["service"]: s.value for f in text_string_to_metric_families(text)
            if f.name == "courtside_supervisor_restarts" for s in f.samples if s.name.endswith("_total")}


async def _kill_and_watch(up: Up, victim: str) -> None:
    before = await up.wait_running()
    old_pid = before[victim]["pid"]
    os.kill(old_pid, signal.SIGKILL)
    others = {"fanout": up.fanout, "ingest": up.ingest, "supervisor": up.supervisor}
    others.pop(victim, None)
    deadline = time.monotonic() + 60
    while True:
        for name, url in others.items():  # the others keep serving while the victim is down
            assert await up.healthy(url), f"{name} stopped answering while {victim} was down"
        now = await up.services()
        if now[victim]["state"] == "running" and now[victim]["pid"] != old_pid:
            break
        assert time.monotonic() < deadline, f"{victim} did not come back:\n{up.log_text()[-3000:]}"
        await asyncio.sleep(0.2)
    assert now[victim]["restarts"] == 1
    assert now[victim]["last_exit"] == "killed by SIGKILL"
    for name, entry in now.items():
        if name != victim:
            assert entry["pid"] == before[name]["pid"], f"{name} was restarted when {victim} died"
    await up.annotation(timeout_s=60)  # the pipeline flows again end to end
    assert f"{victim} exited (killed by SIGKILL); restarting it in" in up.log_text()


async def test_every_kind_of_child_comes_back_after_sigkill_while_the_others_serve(tmp_path: Path) -> None:
    async with running_up(tmp_path) as up:
        services = await up.wait_running()
        assert list(services) == ["nats", "ingest", "infer-bright", "fanout"]
        assert all(s["restarts"] == 0 for s in services.values())
        await up.annotation()
        for victim in ("ingest", "infer-bright", "fanout", "nats"):
            await _kill_and_watch(up, victim)
        assert await _restarts_metric(up) == {"nats": 1, "ingest": 1, "infer-bright": 1, "fanout": 1}
        async with httpx.AsyncClient(timeout=5) as http:
            ready = (await http.get(f"{up.supervisor}/readyz")).json()
        assert ready["state"] == "ready" and set(ready["services"].values()) == {"running"}
    assert up.proc.returncode == 0
    assert "Traceback" not in up.log_text(), up.log_text()[-3000:]


async def test_a_child_that_keeps_crashing_makes_up_give_up_with_a_clear_message(tmp_path: Path) -> None:
    async with running_up(tmp_path, supervisor={"give_up_crashes": 2, "give_up_window_s": 120}) as up:
        for _ in range(2):
            pid = (await up.wait_running({"ingest"}))["ingest"]["pid"]
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while (await up.services())["ingest"]["pid"] in (pid, None):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)
        family = [s["pid"] for s in (await up.wait_running()).values()]
        os.kill((await up.services())["ingest"]["pid"], signal.SIGKILL)  # the third crash within the window
        code = await asyncio.to_thread(up.proc.wait, 30)
    assert code == 1
    text = up.log_text()
    assert "ingest crashed 3 times within 120 s (last: killed by SIGKILL); giving up and stopping Courtside" in text
    deadline = time.monotonic() + 5
    while any(alive(p) for p in family) and time.monotonic() < deadline:  # noqa: ASYNC110 - polls /proc
        await asyncio.sleep(0.05)
    assert not [p for p in family if alive(p)], "children outlived `courtside up` after it gave up"

