"""What ``courtside up`` tells about its children: ``GET /api/services`` and its metrics.

Served by the supervisor itself (``supervisor.host``/``supervisor.port``) beside the kit's
``/healthz``, ``/readyz`` and ``/metrics``, so that it answers while NATS or fanout is
down. Values are read from the :class:`~courtside.app.children.Child` objects at request
or scrape time. Every metric name is listed in docs/operations.md.
(No ``from __future__ import annotations``: FastAPI must see the route annotations as objects.)
"""

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fastapi import APIRouter, Request
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from courtside.app.children import Child, ChildState

PREFIX = "courtside_supervisor_"
Children = Callable[[], Sequence[Child]]


class SupervisorCollector(Collector):
    """Restarts and state of every child (label ``service``: ``nats``, ``ingest``, ``infer-<model>``,
    ``fanout``)."""

    def __init__(self, children: Children) -> None:
        self._children = children

    def collect(self) -> Iterator[Metric]:
        children = self._children()
        restarts = CounterMetricFamily(PREFIX + "restarts", "Restarts of a crashed child", labels=["service"])
        running = GaugeMetricFamily(PREFIX + "service_running", "1 while the child runs, 0 while it waits "
                                    "to be restarted (or after the supervisor gave up)", labels=["service"])
        for child in children:
            restarts.add_metric([child.name], child.tracker.restarts)
            running.add_metric([child.name], 1.0 if child.state == ChildState.RUNNING else 0.0)
        yield restarts
        yield running


def services_view(children: Sequence[Child], gave_up: str | None, now: float) -> dict[str, Any]:
    """The ``GET /api/services`` body: every child in start order, and why the supervisor gave up."""
    return {"services": [child.view(now) for child in children], "gave_up": gave_up}


router = APIRouter(tags=["supervisor"])


@router.get("/api/services", summary="The children of `courtside up`: state, pid, restarts, last exit")
async def list_services(request: Request) -> dict[str, Any]:
    source: Callable[[float], dict[str, Any]] = request.app.state.services
    return source(time.monotonic())
