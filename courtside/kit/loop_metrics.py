"""The service's event loop in its metrics: tasks alive now, so a task leak shows as growth.

Read at scrape time with :func:`asyncio.all_tasks` of the running loop: the ``/metrics`` route
runs on the service's loop (a scrape from elsewhere, with no loop running, leaves it out). Named ``<prefix>asyncio_tasks``; listed in
docs/operations.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class LoopCollector(Collector):
    """``<prefix>asyncio_tasks`` (gauge); ``prefix`` is the service's, e.g. ``courtside_ingest_``."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix

    def collect(self) -> Iterator[Metric]:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        yield GaugeMetricFamily(self._prefix + "asyncio_tasks", "Tasks alive on the service's event loop "
                                "(steady under churn; growth is a leak)", value=len(asyncio.all_tasks(loop)))
