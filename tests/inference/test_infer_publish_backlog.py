"""A stalled publish holds the model back instead of piling results up (bounded, ~5 s).

Annotations are sent by the consumer's publish loop; when sending stalls (a slow or blocked
NATS connection: here the publisher is held at a gate), at most
:data:`~inference.runtime.consumer.PUBLISH_BACKLOG_BATCHES` finished batches wait for it, so
the model stops taking frames and newest-frame-wins drops them at the slots. Once the gate
opens, what waited is published and the consumer serves again. A real nats-server.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
from courtside_contracts.annotations import DetectedObject
from infer_support import collecting, court_image, jpeg, publish_frame, running, until
from nats.aio.client import Client as NATS

from courtside.config import ModelConfig
from inference.backends.base import Runner
from inference.runtime.consumer import PUBLISH_BACKLOG_BATCHES, InferenceConsumer


class CountingRunner(Runner):
    """10 ms a frame; counts the batches it ran."""

    name = "counting"
    model_name = "counting"
    version = "counting-0"
    weights = "untrained"
    batches = 0

    def infer(self, images: list[np.ndarray], cameras: list[str] | None = None) -> list[list[DetectedObject]]:
        time.sleep(0.01)
        self.batches += 1
        return [[] for _ in images]


class GatedPublisher:
    """The consumer's annotation publisher, held at ``gate`` (a stalled connection) while it is clear."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.waiting = 0

    async def publish(self, *args: Any) -> Any:
        self.waiting += 1
        await self.gate.wait()
        return await self.inner.publish(*args)


async def test_a_stalled_publish_stops_the_model_and_nothing_piles_up(nc: NATS) -> None:
    config = ModelConfig(name="counting", backend="counting", max_wait_ms=0, max_age_ms=5000)
    runner = CountingRunner()
    consumer = InferenceConsumer(config, runner, nc, instance="gated-1")
    gated = GatedPublisher(consumer._publisher)
    consumer._publisher = gated  # type: ignore[assignment]
    data = jpeg(court_image(1, 320, 180))
    async with collecting(nc, "counting") as got, running(consumer):
        seq = 0

        async def camera(seconds: float) -> None:  # 50 fps, faster than the stalled consumer takes
            nonlocal seq
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                seq += 1
                await publish_frame(nc, "court-1", seq, data, 320, 180)
                await asyncio.sleep(0.02)

        await camera(2.0)
        stalled_at = runner.batches
        # One batch at the gate, the backlog behind it, and the one the model finished when the
        # backlog was full: then the model waits. Unbounded, it would have run ~100 batches here.
        assert gated.waiting == 1 and stalled_at <= PUBLISH_BACKLOG_BATCHES + 2, stalled_at
        await camera(1.0)
        assert runner.batches == stalled_at, "the model ran while its results could not be sent"
        gated.gate.set()
        await until(lambda: len(got.items) >= stalled_at, 5.0)
        await camera(1.0)
        await until(lambda: runner.batches > stalled_at + 10, 5.0)  # serving again
    assert [a.seq for a in got.items] == sorted(a.seq for a in got.items), "published in the order run"
