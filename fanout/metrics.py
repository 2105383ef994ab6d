"""Prometheus metrics of one fanout app, in its own :class:`CollectorRegistry`.

Hot-path counts are plain integers on the hub, channels and bridge; a custom
collector reads them at scrape time, so delivering a message costs no lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from fanout.bridge import BridgeStats
from fanout.hub import Hub

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _LiveCollector(Collector):
    def __init__(self, hub: Hub, stats: BridgeStats, frame_subjects: Callable[[], int],
                 nats_connected: Callable[[], bool], protocol_errors: Callable[[], int]) -> None:
        self._hub = hub
        self._stats = stats
        self._frame_subjects = frame_subjects
        self._nats_connected = nats_connected
        self._protocol_errors = protocol_errors

    def collect(self) -> Iterator[Metric]:
        hub, stats = self._hub, self._stats
        yield GaugeMetricFamily("fanout_clients", "Connected WebSocket clients", value=len(hub.clients))
        yield GaugeMetricFamily("fanout_queued_messages", "Messages waiting in client queues",
                                value=hub.queued())
        yield CounterMetricFamily("fanout_client_messages_enqueued",
                                  "Client-messages handed to client channels (written at once or queued)",
                                  value=hub.delivered)
        yield CounterMetricFamily("fanout_client_messages_queued",
                                  "Client-messages that waited in a client queue (a congested client, or "
                                  "behind a reply) instead of being written to the socket at once",
                                  value=hub.total_queued())
        yield CounterMetricFamily("fanout_client_messages_sent", "Client-messages written to sockets",
                                  value=hub.total_sent())
        yield CounterMetricFamily("fanout_client_messages_dropped",
                                  "Client-messages dropped (oldest first) for slow clients",
                                  value=hub.total_dropped())
        received = CounterMetricFamily("fanout_nats_messages", "NATS messages received",
                                       labels=["kind", "result"])
        for kind, ok, bad in (("annotation", stats.annotations, stats.annotations_malformed),
                              ("frame", stats.frames, stats.frames_malformed),
                              ("heartbeat", stats.heartbeats, stats.heartbeats_malformed)):
            received.add_metric([kind, "ok"], ok)
            received.add_metric([kind, "malformed"], bad)
        yield received
        yield CounterMetricFamily("fanout_protocol_errors", "Client messages answered with an error",
                                  value=self._protocol_errors())
        yield GaugeMetricFamily("fanout_frame_subscriptions", "frames.* subscriptions held now",
                                value=self._frame_subjects())
        yield GaugeMetricFamily("fanout_nats_connected", "1 when connected to NATS",
                                value=1 if self._nats_connected() else 0)


class FanoutMetrics:
    """The registry plus the one histogram fed directly (once per annotation, not per client)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.annotation_age = Histogram(
            "fanout_annotation_age_seconds", "Capture to fanout receipt of annotations (seconds)",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0), registry=self.registry)

    def attach(self, hub: Hub, stats: BridgeStats, frame_subjects: Callable[[], int],
               nats_connected: Callable[[], bool], protocol_errors: Callable[[], int]) -> None:
        self.registry.register(_LiveCollector(hub, stats, frame_subjects, nats_connected, protocol_errors))

    def render(self) -> bytes:
        return generate_latest(self.registry)
