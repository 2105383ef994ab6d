"""The children of ``courtside up``: how each is started, watched and described.

A :class:`Child` pairs one :class:`Launcher` (a service's command line, or the embedded
nats-server, which must come back on the same port with the same store) with its
:class:`~courtside.app.restart_policy.RestartTracker` and the state the supervisor shows
in ``GET /api/services`` and its metrics. Starting may block (the nats-server is waited for
until it accepts connections): the supervisor calls :meth:`Child.start` in a thread.
"""

from __future__ import annotations

import signal
import subprocess
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import Enum
from typing import Any

from courtside import process
from courtside.app.restart_policy import GiveUp, Restart, RestartTracker
from courtside.nats_server import EmbeddedNats


class ChildState(str, Enum):
    """What the supervisor is doing with one child."""

    STARTING = "starting"      # not started yet (the children before it are starting)
    RUNNING = "running"
    RESTARTING = "restarting"  # crashed; waiting out its backoff
    FAILED = "failed"          # crashed too often: the supervisor gave up
    STOPPED = "stopped"


def describe_exit(code: int) -> str:
    """``exit code 1`` or ``killed by SIGKILL`` (Popen's negative codes are signals)."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class Launcher(ABC):
    """Starts one kind of child; :meth:`poll` is None while it runs, else its exit code."""

    @abstractmethod
    def start(self) -> int:
        """Start (again) and return the pid; blocking is allowed (the caller is a thread)."""

    @abstractmethod
    def poll(self) -> int | None: ...

    @property
    @abstractmethod
    def pid(self) -> int | None: ...


class ServiceLauncher(Launcher):
    """A service's own process: ``python -m courtside <service> ...`` with the given environment,
    ``nice`` added to its scheduling niceness."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], nice: int = 0) -> None:
        self.argv = list(argv)
        self.env = env
        self.nice = nice
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> int:
        self.proc = process.spawn(self.argv, env=self.env, nice=self.nice)
        return self.proc.pid

    def poll(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid


class NatsLauncher(Launcher):
    """The embedded nats-server, already started once by the supervisor; a restart keeps its
    port and store (:meth:`~courtside.nats_server.EmbeddedNats.restart`)."""

    def __init__(self, server: EmbeddedNats) -> None:
        self.server = server

    def start(self) -> int:
        self.server.restart()
        assert self.server.pid is not None
        return self.server.pid

    def poll(self) -> int | None:
        return self.server.poll()

    @property
    def pid(self) -> int | None:
        return self.server.pid


class Child:
    """One supervised child. Times are monotonic seconds, passed in by the supervisor."""

    def __init__(self, name: str, launcher: Launcher, tracker: RestartTracker) -> None:
        self.name = name
        self.launcher = launcher
        self.tracker = tracker
        self.state = ChildState.STARTING
        self.started_at: float | None = None
        self.restart_at: float | None = None
        self.last_exit: int | None = None
        self._lock = threading.Lock()  # the HTTP thread reads while the loop writes

    def start(self, now: float) -> int:
        """Start the child (blocking); it is ``running`` from ``now``."""
        pid = self.launcher.start()
        with self._lock:
            self.state = ChildState.RUNNING
            self.started_at = now
            self.restart_at = None
        return pid

    def crashed(self, now: float, code: int) -> Restart | GiveUp:
        """The child exited by itself with ``code`` at ``now``: ``restarting`` or ``failed``."""
        with self._lock:
            uptime = now - self.started_at if self.started_at is not None else 0.0
            decision = self.tracker.crashed(now, uptime)
            self.last_exit = code
            if isinstance(decision, Restart):
                self.state, self.restart_at = ChildState.RESTARTING, now + decision.delay_s
            else:
                self.state, self.restart_at = ChildState.FAILED, None
            return decision

    def mark(self, state: ChildState) -> None:
        with self._lock:
            self.state = state

    def view(self, now: float) -> dict[str, Any]:
        """The child's entry in ``GET /api/services`` (seconds rounded to ms)."""
        with self._lock:
            running = self.state == ChildState.RUNNING
            return {
                "name": self.name,
                "state": self.state.value,
                "pid": self.launcher.pid if running else None,
                "restarts": self.tracker.restarts,
                "crashes_in_window": self.tracker.crashes_in_window(now),
                "last_exit": None if self.last_exit is None else describe_exit(self.last_exit),
                "uptime_s": round(now - self.started_at, 3) if running and self.started_at is not None else None,
                "restart_in_s": (round(max(0.0, self.restart_at - now), 3)
                                 if self.state == ChildState.RESTARTING and self.restart_at is not None else None),
            }
