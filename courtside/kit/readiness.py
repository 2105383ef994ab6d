"""The one readiness verdict of every service, and the JSON shape of ``/readyz`` (pure).

Shape, for every service::

    {"ready": true, "state": "ready", "service": "ingest", "instance": "ingest-1",
     "dependencies": {"nats": {"state": "connected", "ok": true}},
     ...service-specific detail (ingest: "cameras"; inference: "model")}

``ready`` is what a load balancer or orchestrator acts on (HTTP 200, else 503);
``state`` is the :class:`~courtside_contracts.status.ServiceState` the heartbeat carries too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from courtside_contracts.status import ServiceState


@dataclass(frozen=True, slots=True)
class Dependency:
    """One thing the service needs to do its job: ``state`` in words (``connected``, ``loaded``...)
    and whether that state is good enough to serve (``ok``)."""

    name: str
    state: str
    ok: bool

    def body(self) -> dict[str, Any]:
        return {"state": self.state, "ok": self.ok}


@dataclass(frozen=True, slots=True)
class Readiness:
    """A service's verdict at one instant; :meth:`body` is the ``/readyz`` JSON."""

    service: str
    instance: str
    ready: bool
    state: ServiceState
    dependencies: tuple[Dependency, ...] = ()
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def status_code(self) -> int:
        return 200 if self.ready else 503

    def body(self) -> dict[str, Any]:
        return {"ready": self.ready, "state": self.state.value, "service": self.service,
                "instance": self.instance, "dependencies": {d.name: d.body() for d in self.dependencies},
                **self.detail}


def assess(service: str, instance: str, phase: ServiceState, dependencies: Iterable[Dependency] = (),
           health: ServiceState = ServiceState.READY, detail: Mapping[str, Any] | None = None) -> Readiness:
    """Combine the lifecycle ``phase`` with the dependencies and the service's own ``health``.

    Before the service has started (``phase`` starting) and once it stops, it is not ready and
    its state is the phase. In between it is ready when every dependency is ok and its own
    ``health`` is not ``stopping``; its state is ``degraded`` while a dependency is down, else
    ``health`` (ingest: ``starting`` while a camera connects, ``degraded`` while one is in
    trouble; both still ready, since one camera must not take the instance out of service).
    """
    deps = tuple(dependencies)
    if phase != ServiceState.READY:
        return Readiness(service, instance, False, phase, deps, dict(detail or {}))
    deps_ok = all(d.ok for d in deps)
    if health == ServiceState.STOPPING:
        state = ServiceState.STOPPING
    else:
        state = health if deps_ok else ServiceState.DEGRADED
    ready = deps_ok and state != ServiceState.STOPPING
    return Readiness(service, instance, ready, state, deps, dict(detail or {}))
