"""The NATS connection in every service's metrics: connected now, and reconnects since start.

Read from the nats-py client at scrape time (``is_connected`` and its own ``stats``), so an
outage of the server shows as ``<prefix>nats_connected 0`` on every service, and its end as
one more ``<prefix>nats_reconnects_total``. Names are listed in docs/operations.md.
"""

from __future__ import annotations

from collections.abc import Iterator

from nats.aio.client import Client as NATS
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class NatsCollector(Collector):
    """``<prefix>nats_connected`` (gauge) and ``<prefix>nats_reconnects_total`` (counter);
    ``prefix`` is the service's, e.g. ``courtside_ingest_``."""

    def __init__(self, prefix: str, nc: NATS) -> None:
        self._prefix = prefix
        self._nc = nc

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(self._prefix + "nats_connected", "1 when connected to NATS",
                                value=1 if self._nc.is_connected else 0)
        yield CounterMetricFamily(self._prefix + "nats_reconnects", "Reconnections to NATS after a lost "
                                  "connection (a server restart, a network cut)",
                                  value=int(self._nc.stats.get("reconnects", 0)))
