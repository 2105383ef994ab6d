"""``courtside up``: the whole pipeline as child processes, like the containers.

Order: embedded nats-server (when no URL is configured) -> ingest -> one
inference consumer per model -> court analytics (when ``analytics`` is configured) -> fanout. A child that dies is started again after a
capped, jittered backoff (:mod:`courtside.app.restart_policy`), while the others keep
serving; the embedded nats-server comes back on the same port with the same store, so
every service's own reconnect finds it. Each restart is logged and shown in the
supervisor's ``GET /api/services`` and metrics (:mod:`courtside.app.status_api`). A child
that crashes more than ``supervisor.give_up_crashes`` times within
``supervisor.give_up_window_s`` stops everything with a message saying so (a supervisor
that restarts forever would hide a broken service). Ctrl-C / SIGTERM stops the children
in reverse order within 5 s.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from courtside_contracts.status import ServiceState
from courtside_contracts.subjects import SERVICE_INFERENCE

from courtside import process
from courtside.app.children import Child, ChildState, NatsLauncher, ServiceLauncher, describe_exit
from courtside.app.restart_policy import GiveUp, RestartPolicy, RestartTracker
from courtside.app.status_api import SupervisorCollector, router, services_view
from courtside.config import ConfigError, CourtsideConfig, SupervisorConfig
from courtside.kit.http_server import HttpServer, HttpStartError
from courtside.kit.lifecycle import Lifecycle
from courtside.kit.ops_routes import ops_app
from courtside.nats_server import EmbeddedNats, NatsServerError
from courtside.nats_users import NatsUser, service_users, user_url

log = logging.getLogger(__name__)
#: Seconds between two looks at the children.
POLL_S = 0.1
#: Exit code of `courtside up` when it gave up on a child.
GAVE_UP = 1


def _child_env(nats_url: str, embedded_tls: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    env["COURTSIDE_NATS__URL"] = nats_url
    # The child gets its own user in the URL: per_service_users (for the embedded server) is done.
    env["COURTSIDE_NATS__PER_SERVICE_USERS"] = "false"
    if embedded_tls:  # the server's certificate and key stay with the server; the child keeps nats.tls.ca
        env["COURTSIDE_NATS__TLS__CERT"] = env["COURTSIDE_NATS__TLS__KEY"] = "null"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _role(child: str) -> str:
    """The NATS user of a child (``infer-<model>`` -> ``inference``)."""
    return SERVICE_INFERENCE if child.startswith("infer-") else child


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
    if config.analytics is not None:
        commands.append(("analytics", [*base, "analytics", *cfg]))
    commands.append(("fanout", [*base, "fanout", *cfg]))
    return commands


def restart_policy(config: SupervisorConfig) -> RestartPolicy:
    return RestartPolicy(initial_s=config.restart_backoff_s, max_s=config.restart_backoff_max_s,
                         window_s=config.give_up_window_s, max_crashes=config.give_up_crashes)


class Supervisor:
    """Starts the children in order, restarts crashed ones, stops them in reverse.

    ``clock`` gives monotonic seconds (the restart decisions are made from it).
    """

    def __init__(self, config: CourtsideConfig, children: list[Child], embedded: EmbeddedNats | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.children = children
        self.embedded = embedded
        self.clock = clock
        self.gave_up: str | None = None
        self.life = Lifecycle("supervisor", "up", health=self._health, detail=self._detail)
        self.life.registry.register(SupervisorCollector(lambda: self.children))

    def _health(self) -> ServiceState:
        return (ServiceState.READY if all(c.state == ChildState.RUNNING for c in self.children)
                else ServiceState.DEGRADED)

    def _detail(self) -> dict[str, Any]:
        return {"services": {c.name: c.state.value for c in self.children}}

    def view(self, now: float) -> dict[str, Any]:
        return services_view(self.children, self.gave_up, now)

    async def run(self, stop: asyncio.Event) -> int:
        """Serve the status endpoints, start every child, watch them until ``stop``; the exit code."""
        cfg = self.config.supervisor
        app = ops_app(self.life, title="Courtside supervisor", routers=[router], state={"services": self.view})
        try:
            http = HttpServer(app, cfg.host, cfg.port, name="supervisor",
                              setting="supervisor.port / COURTSIDE_SUPERVISOR__PORT", stop_timeout_s=1.0)
            await http.start()
        except HttpStartError as exc:
            log.error("%s", exc)
            return 2
        try:
            for child in self.children:
                if stop.is_set():
                    break
                # (the embedded nats-server is running already)
                if child.state == ChildState.STARTING and not await self._start(child, again=False):
                    return GAVE_UP
            self.life.ready()
            log.info("Courtside is up: open http://%s:%d/ (Ctrl-C to stop; services at %s/api/services)",
                     self.config.fanout.host, self.config.fanout.port, http.url)
            return await self._watch(stop)
        finally:  # the status endpoints close while the children stop: the 5 s budget is theirs
            self.life.stopping()
            await asyncio.gather(asyncio.to_thread(self._stop_children), http.stop(timeout_s=0.5))

    async def _watch(self, stop: asyncio.Event) -> int:
        while not stop.is_set():
            now = self.clock()
            for child in self.children:
                if child.state == ChildState.RUNNING:
                    code = child.launcher.poll()
                    if code is not None and not await self._crashed(child, code, now):
                        return GAVE_UP
                elif child.state == ChildState.RESTARTING and child.restart_at is not None \
                        and now >= child.restart_at and not await self._start(child, again=True):
                    return GAVE_UP
            try:
                await asyncio.wait_for(stop.wait(), POLL_S)
            except asyncio.TimeoutError:
                pass
        return 0

    async def _crashed(self, child: Child, code: int, now: float) -> bool:
        """Decide on a child's exit; False when the supervisor gives up."""
        decision = child.crashed(now, code)
        if isinstance(decision, GiveUp):
            self.gave_up = (f"{child.name} {decision.reason} (last: {describe_exit(code)}); giving up and "
                            "stopping Courtside: see its log lines above for the cause")
            log.error("%s", self.gave_up)
            return False
        log.error("%s exited (%s); restarting it in %.1f s (restart %d, %d crash(es) in a row)",
                  child.name, describe_exit(code), decision.delay_s, child.tracker.restarts, decision.attempt)
        return True

    async def _start(self, child: Child, *, again: bool) -> bool:
        """Start a child (``again``: after a crash); a failed start counts as one more crash.
        False: give up."""
        try:
            pid = await asyncio.to_thread(child.start, self.clock())
        except (OSError, NatsServerError) as exc:
            log.error("%s did not start%s: %s", child.name, " again" if again else "", exc)
            return await self._crashed(child, 1, self.clock())
        if again:
            log.info("restarted %s (pid %d, restart %d)", child.name, pid, child.tracker.restarts)
        else:
            log.info("started %s (pid %d)", child.name, pid)
        return True

    def _stop_children(self) -> None:
        procs = [(c.name, c.launcher.proc) for c in reversed(self.children)
                 if isinstance(c.launcher, ServiceLauncher) and c.launcher.proc is not None]
        process.stop_all(procs, timeout_s=3.5)
        for child in self.children:
            child.mark(ChildState.STOPPED)
        if self.embedded is not None:
            self.embedded.stop()


#: Niceness added to ingest under ``courtside up``. When the cores are saturated the consumers
#: run first and ingest's fps cap drops camera frames instead: a frame never published costs
#: nothing downstream, while one published and not served in time only ages every annotation.
#: Measured (bench/pipeline_latency --ingest-nice 10, 8 cameras of 720p30 on 2 cores): annotation
#: age p50 43-72 ms against 137-272 ms at nice 0, six runs of six (docs/benchmarks.md, issue 10).
INGEST_NICE = 10


def build_children(config: CourtsideConfig, config_path: Path | None, embedded: EmbeddedNats | None,
                   url: str, users: Mapping[str, NatsUser] | None = None) -> list[Child]:
    """Every child in start order; the embedded nats-server (already running) first. With
    ``users`` each service connects as its own user."""
    policy = restart_policy(config.supervisor)
    children = [] if embedded is None else [Child("nats", NatsLauncher(embedded), RestartTracker(policy))]
    if children:
        children[0].mark(ChildState.RUNNING)
        children[0].started_at = time.monotonic()
    for name, argv in service_commands(config, config_path):
        if users is not None and _role(name) not in users:
            raise ConfigError(f"nats.per_service_users: no NATS user for the {name} child "
                              f"(known: {', '.join(users)})")
        env = _child_env(url if users is None else user_url(url, users[_role(name)]),
                         embedded_tls=embedded is not None and config.nats.tls is not None)
        nice = INGEST_NICE if _role(name) == "ingest" else 0
        children.append(Child(name, ServiceLauncher(argv, env, nice), RestartTracker(policy)))
    return children


def run_all(config: CourtsideConfig, config_path: Path | None) -> int:
    """Run every service until Ctrl-C, SIGTERM or giving up on a child. Returns the exit code."""
    service_commands(config, config_path)  # refuses a missing environment before anything starts

    async def main() -> int:
        stop = asyncio.Event()
        reason: list[str] = []
        loop = asyncio.get_running_loop()

        def on_signal(sig: signal.Signals) -> None:
            reason.append(sig.name)
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal, sig)
        embedded: EmbeddedNats | None = None
        users = service_users() if config.nats.per_service_users else None
        if config.nats.url is None:
            embedded = EmbeddedNats(config.nats.store_dir, config.nats.max_payload, users=users,
                                    tls=config.nats.tls)
            url = await asyncio.to_thread(embedded.start)
            if users:
                log.info("embedded nats-server: one user per service (%s), no anonymous access",
                         ", ".join(users))
        else:
            url = config.nats.url.get_secret_value()
        supervisor = Supervisor(config, build_children(config, config_path, embedded, url, users), embedded)
        try:
            code = await supervisor.run(stop)
        finally:
            if embedded is not None:
                embedded.stop()
        log.info("stopped (%s)", reason[0] if reason else supervisor.gave_up or "error")
        return code

    try:
        return asyncio.run(main())
    except NatsServerError as exc:
        raise ConfigError(str(exc)) from None
