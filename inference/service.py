"""``courtside infer <model>``: load one model and serve it until stopped.

Start order: connect NATS -> ensure the ANNOTATIONS stream -> load the model (in a
thread; seconds) -> consume. Stop in reverse: drain the consumer, close NATS.
"""

from __future__ import annotations

import asyncio
import logging

from contracts.streams import ANNOTATIONS
from courtside.config import CourtsideConfig, ModelConfig
from courtside.natsio import connect, ensure_stream
from inference.backends import create_runner
from inference.runtime.consumer import InferenceConsumer, default_instance
from inference.runtime.worker import run_in_fresh_thread

log = logging.getLogger(__name__)


async def run(config: CourtsideConfig, model: ModelConfig, nats_url: str, stop: asyncio.Event) -> None:
    """Serve ``model`` on the frames of its cameras until ``stop`` is set (graceful drain)."""
    instance = default_instance(model.name)
    nc = await connect(nats_url, f"inference-{instance}")
    try:
        await ensure_stream(nc, ANNOTATIONS)
        # The runner logs what it actually loaded (some backends ignore ``weights``).
        log.info("%s: loading the %s backend (task %s)", model.name, model.backend, model.task)
        # A thread that exits: torch's OpenMP pool must live only in the consumer's model thread.
        runner = await run_in_fresh_thread(f"load-{model.name}", create_runner, model)
        if stop.is_set():
            return
        await InferenceConsumer(model, runner, nc, instance=instance).run(stop)
        close = getattr(runner, "close", None)
        if callable(close):
            close()
    finally:
        await nc.drain() if nc.is_connected else await nc.close()
