"""The supervisor's loop in-process, over real short-lived processes: a child that keeps exiting
is restarted with backoff until the supervisor gives up, a binary that cannot start counts as
a crash, and the steady child is stopped when the supervisor ends."""

from __future__ import annotations

import asyncio
import logging
import os
import sys

import pytest

from courtside.app.children import Child, ChildState, ServiceLauncher
from courtside.app.restart_policy import RestartTracker
from courtside.app.supervisor import GAVE_UP, Supervisor, restart_policy
from courtside.config import parse_config

pytestmark = pytest.mark.timeout(60)


CONFIG = parse_config({"supervisor": {"port": 0, "restart_backoff_s": 0.05, "restart_backoff_max_s": 0.1,
                                      "give_up_crashes": 3, "give_up_window_s": 60}}, "<t>", environ={})


def _child(name: str, argv: list[str]) -> Child:
    return Child(name, ServiceLauncher(argv, dict(os.environ)), RestartTracker(restart_policy(CONFIG.supervisor)))


async def test_a_child_that_keeps_exiting_is_restarted_then_given_up_on(caplog: pytest.LogCaptureFixture) -> None:
    steady = _child("steady", [sys.executable, "-c", "import time; time.sleep(60)"])
    flaky = _child("flaky", [sys.executable, "-c", "raise SystemExit(3)"])
    supervisor = Supervisor(CONFIG, [steady, flaky], None)
    with caplog.at_level(logging.INFO, logger="courtside.app.supervisor"):
        code = await supervisor.run(asyncio.Event())
    assert code == GAVE_UP
    assert flaky.tracker.restarts == 3
    assert supervisor.gave_up == ("flaky crashed 4 times within 60 s (last: exit code 3); giving up and "
                                  "stopping Courtside: see its log lines above for the cause")
    assert caplog.text.count("flaky exited (exit code 3); restarting it in") == 3
    assert caplog.text.count("restarted flaky (pid") == 3
    assert steady.tracker.restarts == 0 and steady.launcher.poll() is not None, "steady was not stopped"
    assert steady.state == flaky.state == ChildState.STOPPED


async def test_a_child_that_cannot_start_counts_as_crashes(caplog: pytest.LogCaptureFixture) -> None:
    missing = _child("missing", ["/nonexistent/courtside-binary"])
    supervisor = Supervisor(CONFIG, [missing], None)
    with caplog.at_level(logging.INFO, logger="courtside.app.supervisor"):
        code = await supervisor.run(asyncio.Event())
    assert code == GAVE_UP
    assert caplog.text.count("missing did not start: ") == 1
    assert caplog.text.count("missing did not start again: ") == 3
    assert supervisor.gave_up is not None and supervisor.gave_up.startswith("missing crashed 4 times")


async def test_stop_ends_the_loop_with_code_0_and_stops_the_children() -> None:
    steady = _child("steady", [sys.executable, "-c", "import time; time.sleep(60)"])
    supervisor = Supervisor(CONFIG, [steady], None)
    stop = asyncio.Event()
    task = asyncio.create_task(supervisor.run(stop))
    while steady.state != ChildState.RUNNING:  # noqa: ASYNC110 - the loop's own state
        await asyncio.sleep(0.01)
    stop.set()
    assert await task == 0
    assert steady.launcher.poll() is not None
