"""A consumer replica as its own process, for the ownership test (killed with SIGKILL).

``python replica_main.py <nats_url> <instance> <cam,cam,...>``: serves model ``trk`` with
a cheap stateful runner whose ``model_version`` names the instance, so the test can
tell which replica produced each annotation.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import nats
import numpy as np
from courtside_contracts.annotations import DetectedObject

from courtside.config import ModelConfig
from inference.backends.base import Runner
from inference.runtime.consumer import InferenceConsumer


class TaggingRunner(Runner):
    """Stateful (so cameras are owned), instant, no objects; version = instance."""

    name = "tagging"
    model_name = "tagging"
    weights = "untrained"
    stateful = True

    def __init__(self, instance: str) -> None:
        self.version = instance

    def infer(self, images: list[np.ndarray], cameras: list[str] | None = None) -> list[list[DetectedObject]]:
        return [[] for _ in images]


async def main(url: str, instance: str, cameras: list[str]) -> None:
    nc = await nats.connect(url)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    model = ModelConfig(name="trk", backend="tagging", max_wait_ms=0, max_age_ms=5000)
    await InferenceConsumer(model, TaggingRunner(instance), nc, cameras=cameras,
                            instance=instance).run(stop)
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3].split(",")))
