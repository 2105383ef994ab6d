"""``courtside infer <model>``: load one model and serve it until stopped, on the service kit.

Start order: ops HTTP (``/healthz``, ``/readyz``, ``/metrics`` on ``models[].port``; up
first, so that a probe sees ``model: loading`` rather than nothing) -> NATS -> the
ANNOTATIONS stream -> the model (in a thread; seconds) -> consume, ready. Stop in
reverse: drain the consumer (the batch in flight is published), close the runner,
drain NATS, close HTTP. Ready = NATS connected, model loaded and not stopping.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from courtside_contracts.status import Heartbeat, ServiceState
from courtside_contracts.streams import ANNOTATIONS
from nats.aio.client import Client as NATS

from courtside.config import CourtsideConfig, ModelConfig
from courtside.kit.http_server import HttpServer
from courtside.kit.lifecycle import Lifecycle
from courtside.kit.loop_metrics import LoopCollector
from courtside.kit.nats_metrics import NatsCollector
from courtside.kit.ops_routes import ops_app
from courtside.kit.readiness import Dependency
from courtside.natsio import connect, ensure_stream, nats_dependency
from inference.backends import create_runner
from inference.backends.base import Runner
from inference.runtime.consumer import SERVICE, InferenceConsumer, default_instance
from inference.runtime.metrics import PREFIX, ConsumerCollector
from inference.runtime.worker import run_in_fresh_thread

log = logging.getLogger(__name__)


class ServedConsumer(InferenceConsumer):
    """The consumer as ``courtside infer`` runs it: every heartbeat announces the ops port."""

    def __init__(self, model: ModelConfig, runner: Runner, nc: NATS, *, instance: str, http_port: int) -> None:
        super().__init__(model, runner, nc, instance=instance)
        self.http_port = http_port

    def heartbeat(self) -> Heartbeat:
        return dataclasses.replace(super().heartbeat(), http_port=self.http_port)


class _Served:
    """What ``/readyz`` reads of the model while it loads and serves."""

    def __init__(self, model: ModelConfig) -> None:
        self.model = model
        self.runner: Runner | None = None
        self.consumer: InferenceConsumer | None = None

    def dependency(self) -> Dependency:
        return Dependency("model", "loading" if self.runner is None else "loaded", self.runner is not None)

    def health(self) -> ServiceState:
        return ServiceState.STARTING if self.consumer is None else self.consumer.state

    def detail(self) -> Mapping[str, Any]:
        runner = self.runner
        return {"model": {"name": self.model.name, "backend": self.model.backend,
                          "weights": None if runner is None else runner.weights,
                          "device": None if runner is None else runner.device}}


async def run(config: CourtsideConfig, model: ModelConfig, nats_url: str, stop: asyncio.Event) -> None:
    """Serve ``model`` on the frames of its cameras until ``stop`` is set (graceful drain)."""
    instance = default_instance(model.name)
    served = _Served(model)
    async with Lifecycle(SERVICE, instance, health=served.health, detail=served.detail) as life:
        app = ops_app(life, title=f"Courtside inference {model.name}")
        http = await life.enter(HttpServer(app, model.host, model.port, name=f"inference {model.name}",
                                           setting=f"models[{model.name}].port"))
        nc = await connect(nats_url, f"inference-{instance}", tls=config.nats.tls)
        life.on_stop(lambda: nc.drain() if nc.is_connected else nc.close())
        life.depend(lambda: nats_dependency(nc))
        life.registry.register(NatsCollector(PREFIX, nc))
        life.registry.register(LoopCollector(PREFIX))
        life.depend(served.dependency)
        await ensure_stream(nc, ANNOTATIONS)
        # The runner logs what it actually loaded (some backends ignore ``weights``).
        log.info("%s: loading the %s backend (task %s)", model.name, model.backend, model.task)
        # A thread that exits: torch's OpenMP pool must live only in the consumer's model thread.
        runner = served.runner = await run_in_fresh_thread(f"load-{model.name}", create_runner, model)

        async def close_runner() -> None:
            runner.close()

        life.on_stop(close_runner)
        if stop.is_set():
            return
        consumer = served.consumer = ServedConsumer(model, runner, nc, instance=instance, http_port=http.port)
        life.registry.register(ConsumerCollector(model.name, consumer.metrics, consumer.slots))
        life.ready()
        await consumer.run(stop)
