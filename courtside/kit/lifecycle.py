"""One service instance's lifecycle: start in order, ready, drain, stop in reverse.

The phase (:class:`~courtside_contracts.status.ServiceState`: ``starting`` ->
``ready`` -> ``stopping``) together with the dependency checks and the service's
own health gives the :class:`~courtside.kit.readiness.Readiness` behind ``/readyz``
and the heartbeat's ``state``. Draining: on ``stop`` (the CLI sets it on SIGTERM or
SIGINT) the phase turns ``stopping`` first, so ``/readyz`` answers 503 while the
parts close, newest first.

Usage::

    async with Lifecycle("ingest", instance, registry) as life:
        nc = await life.enter(nats_connection(url, name))
        life.depend(nats_dependency(nc))
        await life.enter(part)           # any async context manager
        await life.serve_until(stop)     # ready; returns when stop is set
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from types import TracebackType
from typing import Any, TypeVar

from courtside_contracts.status import ServiceState
from prometheus_client import CollectorRegistry

from courtside.kit.cancel import cancel_and_wait
from courtside.kit.readiness import Dependency, Readiness, assess

log = logging.getLogger(__name__)

T = TypeVar("T")
DependencyCheck = Callable[[], Dependency]


def _always_ready() -> ServiceState:
    return ServiceState.READY


def _no_detail() -> Mapping[str, Any]:
    return {}


class Lifecycle:
    """Phase, dependencies, metrics registry and ordered parts of one service instance.

    ``health`` is the service's own view while it runs (ingest: from its cameras; an
    inference consumer: degraded after a failed batch); ``detail`` adds service-specific
    fields to the ``/readyz`` body. Both are called at every probe and heartbeat: keep them cheap.
    """

    def __init__(self, service: str, instance: str, registry: CollectorRegistry | None = None, *,
                 health: Callable[[], ServiceState] = _always_ready,
                 detail: Callable[[], Mapping[str, Any]] = _no_detail) -> None:
        self.service = service
        self.instance = instance
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=False)
        self.phase = ServiceState.STARTING
        self.health = health
        self.detail = detail
        self._checks: list[DependencyCheck] = []
        self._stack = AsyncExitStack()

    def depend(self, check: DependencyCheck) -> None:
        """Make readiness depend on ``check`` (called at every probe)."""
        self._checks.append(check)

    def readiness(self) -> Readiness:
        return assess(self.service, self.instance, self.phase, [c() for c in self._checks],
                      self.health(), self.detail())

    @property
    def state(self) -> ServiceState:
        """The state a heartbeat reports now."""
        return self.readiness().state

    async def enter(self, part: AbstractAsyncContextManager[T]) -> T:
        """Start ``part`` now; it stops when the lifecycle ends, after every part entered later."""
        return await self._stack.enter_async_context(part)

    def on_stop(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run ``callback`` at stop, in the same reverse order as the parts."""
        self._stack.push_async_callback(callback)

    def task(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run ``coro`` as a task now; it is cancelled (and awaited) at stop, in the same reverse order."""
        task = asyncio.create_task(coro, name=name)
        # A task that crashed re-raises its error here, once the others are stopped.
        self._stack.push_async_callback(cancel_and_wait, task)
        return task

    def ready(self) -> None:
        if self.phase == ServiceState.STARTING:
            self.phase = ServiceState.READY
            log.info("%s %s: ready", self.service, self.instance)

    def stopping(self) -> None:
        if self.phase != ServiceState.STOPPING:
            self.phase = ServiceState.STOPPING
            log.info("%s %s: stopping", self.service, self.instance)

    async def serve_until(self, stop: asyncio.Event) -> None:
        """Mark ready and wait for ``stop``; the drain starts when the ``async with`` block ends."""
        self.ready()
        await stop.wait()
        self.stopping()

    async def __aenter__(self) -> Lifecycle:
        return self

    async def close(self) -> None:
        """Drain: ``stopping`` first, then every part and task, newest first."""
        self.stopping()
        await self._stack.aclose()
        log.info("%s %s: stopped", self.service, self.instance)

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()
