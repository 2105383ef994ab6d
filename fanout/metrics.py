"""Prometheus metrics of one fanout app, in its own :class:`CollectorRegistry`.

Hot-path counts are plain integers on the hub, channels and bridge; a custom
collector reads them at scrape time, so delivering a message costs no lock.
Every name is listed in docs/operations.md (tests/courtside/test_operations_doc.py checks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from fanout.bridge import BridgeStats
from fanout.hub import Hub
from fanout.limits import ConnectionLimiter
from fanout.request_limits import RequestRefusals

PREFIX = "courtside_fanout_"


class _LiveCollector(Collector):
    def __init__(self, hub: Hub, stats: BridgeStats, frame_subjects: Callable[[], int],
                 protocol_errors: Callable[[], int]) -> None:
        self._hub = hub
        self._stats = stats
        self._frame_subjects = frame_subjects
        self._protocol_errors = protocol_errors

    def collect(self) -> Iterator[Metric]:
        hub, stats = self._hub, self._stats
        yield GaugeMetricFamily(PREFIX + "clients", "Connected WebSocket clients", value=len(hub.clients))
        yield GaugeMetricFamily(PREFIX + "queued_messages", "Messages waiting in client queues",
                                value=hub.queued())
        yield CounterMetricFamily(PREFIX + "client_messages_enqueued",
                                  "Client-messages handed to client channels (written at once or queued)",
                                  value=hub.delivered)
        yield CounterMetricFamily(PREFIX + "client_messages_queued",
                                  "Client-messages that waited in a client queue (a congested client, or "
                                  "behind a reply) instead of being written to the socket at once",
                                  value=hub.total_queued())
        yield CounterMetricFamily(PREFIX + "client_messages_sent", "Client-messages written to sockets",
                                  value=hub.total_sent())
        yield CounterMetricFamily(PREFIX + "client_messages_dropped",
                                  "Client-messages dropped (oldest first) for slow clients",
                                  value=hub.total_dropped())
        received = CounterMetricFamily(PREFIX + "nats_messages", "NATS messages received",
                                       labels=["kind", "result"])
        for kind, ok, bad in (("annotation", stats.annotations, stats.annotations_malformed),
                              ("frame", stats.frames, stats.frames_malformed),
                              ("heartbeat", stats.heartbeats, stats.heartbeats_malformed),
                              ("analytics", stats.analytics, stats.analytics_malformed)):
            received.add_metric([kind, "ok"], ok)
            received.add_metric([kind, "malformed"], bad)
        yield received
        yield CounterMetricFamily(PREFIX + "protocol_errors", "Client messages answered with an error",
                                  value=self._protocol_errors())
        yield GaugeMetricFamily(PREFIX + "frame_subscriptions", "frames.* subscriptions held now",
                                value=self._frame_subjects())


class _RefusalsCollector(Collector):
    """Connections and requests refused by the limits (429 / 413 / 414), by reason."""

    def __init__(self, ws: ConnectionLimiter, http: RequestRefusals) -> None:
        self._ws = ws
        self._http = http

    def collect(self) -> Iterator[Metric]:
        ws = CounterMetricFamily(PREFIX + "ws_refused", "WebSocket handshakes refused with 429 by the "
                                 "connection limits", labels=["reason"])
        ws.add_metric(["total_limit"], self._ws.refused_total)
        ws.add_metric(["per_token_limit"], self._ws.refused_per_token)
        yield ws
        http = CounterMetricFamily(PREFIX + "http_refused", "HTTP requests refused by the size limits",
                                   labels=["reason"])
        http.add_metric(["body_too_large"], self._http.body_too_large)
        http.add_metric(["url_too_long"], self._http.url_too_long)
        yield http


class FanoutMetrics:
    """The registry plus the one histogram fed directly (once per annotation, not per client)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.annotation_age = Histogram(
            PREFIX + "annotation_age_seconds", "Capture to fanout receipt of annotations (seconds)",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0), registry=self.registry)

    def attach(self, hub: Hub, stats: BridgeStats, frame_subjects: Callable[[], int],
               protocol_errors: Callable[[], int]) -> None:
        self.registry.register(_LiveCollector(hub, stats, frame_subjects, protocol_errors))

    def attach_limits(self, ws: ConnectionLimiter, http: RequestRefusals) -> None:
        """Count the refusals of the app's limiters (they live on ``app.state``, made with the app)."""
        self.registry.register(_RefusalsCollector(ws, http))
