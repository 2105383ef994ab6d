"""``courtside up``: the whole pipeline as child processes, like the containers.

Order: embedded nats-server (when no URL is configured) -> ingest -> one
inference consumer per model -> fanout. Ctrl-C / SIGTERM stops them in reverse
order within 5 s; a child that dies takes the others down with a clear message
(a supervisor that silently runs half a pipeline is worse than one that stops).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from courtside import process
from courtside.config import CourtsideConfig
from courtside.nats_server import EmbeddedNats

log = logging.getLogger(__name__)


def _child_env(nats_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["COURTSIDE_NATS__URL"] = nats_url
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def service_commands(config: CourtsideConfig, config_path: Path | None) -> list[tuple[str, list[str]]]:
    """(name, argv) of every child in start order."""
    base = [sys.executable, "-m", "courtside"]
    cfg = ["--config", str(config_path)] if config_path else []
    commands = [("ingest", [*base, "ingest", *cfg])]
    commands += [(f"infer-{m.name}", [*base, "infer", m.name, *cfg]) for m in config.models]
    commands.append(("fanout", [*base, "fanout", *cfg]))
    return commands


def run_all(config: CourtsideConfig, config_path: Path | None) -> int:
    """Run every service until Ctrl-C or a child's death. Returns the exit code."""
    stop = threading.Event()
    reason: list[str] = []

    def on_signal(signum: int, _frame: object) -> None:
        reason.append(signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    embedded: EmbeddedNats | None = None
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    exit_code = 0
    try:
        if config.nats.url is None:
            embedded = EmbeddedNats(config.nats.store_dir, config.nats.max_payload)
            url = embedded.start()
        else:
            url = config.nats.url.get_secret_value()
        env = _child_env(url)
        for name, argv in service_commands(config, config_path):
            children.append((name, process.spawn(argv, env=env)))
            log.info("started %s (pid %d)", name, children[-1][1].pid)
        log.info("Courtside is up: open http://%s:%d/ (Ctrl-C to stop)",
                 config.fanout.host, config.fanout.port)
        while not stop.wait(0.2):
            for name, child in children:
                if child.poll() is not None:
                    log.error("%s exited with code %s; stopping everything", name, child.returncode)
                    exit_code = 1
                    stop.set()
                    break
    finally:
        process.stop_all(list(reversed(children)), timeout_s=3.5)
        if embedded is not None:
            embedded.stop()
        log.info("stopped (%s)", reason[0] if reason else "child exited")
    return exit_code
