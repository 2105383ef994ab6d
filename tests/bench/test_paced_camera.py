"""bench/paced_camera.py: both feeds against a real consumer on a real nats-server, and its imports.

The model is a stand-in taking ``MODEL_S`` per frame (``time.sleep`` in the consumer's worker
thread, like a model releasing the GIL) and finding one object. Closed loop: nothing dropped,
each frame's latency at least the model time. Live, a camera three times faster than the
model: frames dropped (newest-frame-wins), annotations near the model's rate, not the camera's.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import pytest
import simplejpeg
from courtside_contracts.annotations import DetectedObject
from nats.aio.client import Client as NATS

from bench.paced_camera import Feed, feed, feed_from_process
from courtside.config import ModelConfig
from courtside.nats_server import EmbeddedNats
from inference.backends.base import Runner
from inference.runtime.consumer import InferenceConsumer

REPO = Path(__file__).resolve().parents[2]
MODEL_S = 0.05
SIZE = (320, 240)


class SleepRunner(Runner):
    name = "sleep"
    model_name = "sleep"
    version = "sleep-0"
    weights = "untrained"

    def infer(self, images: list[np.ndarray], cameras: list[str] | None = None) -> list[list[DetectedObject]]:
        time.sleep(MODEL_S)
        return [[DetectedObject("person", 0, 0.9, (1.0, 2.0, 30.0, 60.0))] for _ in images]


def frames(count: int) -> list[bytes]:
    rng = np.random.default_rng(3)
    return [bytes(simplejpeg.encode_jpeg(rng.integers(0, 255, (SIZE[1], SIZE[0], 3), dtype=np.uint8),
                                         quality=80, colorspace="BGR")) for _ in range(count)]


@asynccontextmanager
async def serving(nc: NATS, camera: str) -> AsyncIterator[None]:
    config = ModelConfig(name="sleep", backend="sleep", batch=1, max_wait_ms=0, max_age_ms=60_000)
    consumer = InferenceConsumer(config, SleepRunner(), nc, cameras=[camera], instance="sleep-1")
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    while consumer.state.value != "ready":  # noqa: ASYNC110 - polls plain state
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        stop.set()
        await task


@pytest.mark.timeout(60)
async def test_closed_loop_drops_nothing_and_pays_the_model_per_frame(nc: NATS) -> None:
    before: list[int] = []

    async def detector(seq: int) -> None:
        before.append(seq)

    async with serving(nc, "closed"):
        got = await feed(nc, "closed", "sleep", frames(4), SIZE, measure=10, offered_fps=None, warmup=2,
                         before_publish=detector, timeout_s=30)
    assert isinstance(got, Feed)
    assert got.published == 12 and got.skipped == 0 and got.offered_fps is None
    assert before == list(range(12))  # awaited before each frame, in order
    assert len(got.latencies_s) == 10 and min(got.latencies_s) >= MODEL_S
    assert got.fps <= 1 / MODEL_S and got.objects == 1.0


@pytest.mark.timeout(60)
async def test_live_camera_faster_than_the_model_drops_frames_and_serves_the_model_rate(nc: NATS) -> None:
    offered = 3 / MODEL_S
    async with serving(nc, "live"):
        got = await feed(nc, "live", "sleep", frames(4), SIZE, measure=30, offered_fps=offered, warmup=3,
                         timeout_s=30)
    assert got.offered_fps == offered and len(got.latencies_s) == 30 and got.objects == 1.0
    assert got.skipped > got.published / 3, got  # two of three frames have no model time left
    assert 0.5 / MODEL_S < got.fps <= 1.1 / MODEL_S, got  # the model's rate, never the camera's
    assert min(got.latencies_s) >= MODEL_S


@pytest.mark.timeout(120)
async def test_a_camera_process_of_its_own_feeds_the_same_way(nats_server: EmbeddedNats, nc: NATS,
                                                              tmp_path: Path) -> None:
    """feed_from_process: the camera in its own interpreter and connection, the Feed back as JSON."""
    for n, data in enumerate(frames(4)):
        (tmp_path / f"{n:04d}.jpg").write_bytes(data)
    async with serving(nc, "own"):
        closed = await feed_from_process(nats_server.url, "own", "sleep", tmp_path, SIZE, measure=6,
                                         offered_fps=None, warmup=2, timeout_s=60)
        live = await feed_from_process(nats_server.url, "own", "sleep", tmp_path, SIZE, measure=20,
                                       offered_fps=3 / MODEL_S, warmup=3, timeout_s=60)
    assert closed.published == 8 and closed.skipped == 0 and len(closed.latencies_s) == 6
    assert min(closed.latencies_s) >= MODEL_S and closed.objects == 1.0
    assert live.offered_fps == 3 / MODEL_S and live.skipped > 0 and len(live.latencies_s) == 20
    assert 0.5 / MODEL_S < live.fps <= 1.1 / MODEL_S, live


async def test_a_camera_process_reports_its_failure(nats_server: EmbeddedNats, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="camera process failed"):
        await feed_from_process(nats_server.url, "c", "m", tmp_path, SIZE, measure=1, offered_fps=None,
                                timeout_s=30)


async def test_refuses_a_feed_that_measures_nothing(nc: NATS) -> None:
    for kwargs in ({"measure": 0, "offered_fps": None}, {"measure": 5, "offered_fps": 0.0},
                   {"measure": 5, "offered_fps": None, "warmup": 0}):
        with pytest.raises(ValueError):
            await feed(nc, "c", "m", frames(1), SIZE, **kwargs)


def test_imports_only_the_standard_library_nats_and_the_contracts() -> None:
    """bench/backends runs it in every backend's environment, which lack PyAV (bench/common's)."""
    code = ("import sys, json; before = set(sys.modules); import bench.paced_camera; "
            "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60,
                          check=True)
    third_party = set(json.loads(proc.stdout)) - set(sys.stdlib_module_names) - {"bench"}
    assert third_party <= {"nats", "courtside_contracts"}, third_party
