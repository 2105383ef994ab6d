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
from courtside.config import ConfigError, CourtsideConfig
from courtside.nats_server import EmbeddedNats

log = logging.getLogger(__name__)


def _child_env(nats_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["COURTSIDE_NATS__URL"] = nats_url
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def service_commands(config: CourtsideConfig, config_path: Path | None) -> list[tuple[str, list[str]]]:
    """(name, argv) of every child in start order.

    A model whose backend has its own environment (conflicting dependencies) runs with
    that environment's interpreter; a missing environment fails here, before anything starts.
    """
    from inference.backends import backend_python
    from inference.errors import BackendUnavailable

    base = [sys.executable, "-m", "courtside"]
    cfg = ["--config", str(config_path)] if config_path else []
    commands = [("ingest", [*base, "ingest", *cfg])]
    for m in config.models:
        try:
            python = backend_python(m.backend)
        except BackendUnavailable as exc:
            raise ConfigError(f"model {m.name}: {exc}") from None
        infer_base = base if python is None else [str(python), "-m", "courtside"]
        commands.append((f"infer-{m.name}", [*infer_base, "infer", m.name, *cfg]))
    commands.append(("fanout", [*base, "fanout", *cfg]))
    return commands


def run_all(config: CourtsideConfig, config_path: Path | None) -> int:
    """Run every service until Ctrl-C or a child's death. Returns the exit code."""
    commands = service_commands(config, config_path)  # refuses a missing environment up front
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
        for name, argv in commands:
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
