"""Helpers for the inference tests: generated frames, publishing, collecting annotations."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import cv2
import numpy as np
import simplejpeg
from courtside_contracts.annotations import Annotation
from courtside_contracts.headers import FrameMeta
from courtside_contracts.subjects import annotations_filter, frames_subject
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from courtside.natsio import now_ns


def court_image(seed: int, width: int = 320, height: int = 240) -> np.ndarray:
    """A deterministic BGR picture with a few filled shapes (something for a model to look at)."""
    rng = np.random.default_rng(seed)
    img = np.full((height, width, 3), 60, np.uint8)
    img[:] = (40 + seed % 50, 120, 60)
    for _ in range(6):
        x, y = int(rng.integers(0, width - 40)), int(rng.integers(0, height - 60))
        w, h = int(rng.integers(15, 40)), int(rng.integers(30, 60))
        color = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.rectangle(img, (x, y), (x + w, y + h), color, -1)
    cv2.circle(img, (int(rng.integers(10, width - 10)), int(rng.integers(10, height - 10))), 5,
               (0, 255, 255), -1)
    return img


def random_yolo_checkpoint(path: Path, arch: str = "yolo11n.yaml", seed: int = 0) -> Path:
    """Save an UNTRAINED YOLO whose weights are re-drawn from a seeded normal distribution.

    Ultralytics' own initialisation makes every box of an untrained model the whole
    image with score ~1.6e-4, which would make box comparisons vacuous; re-drawn
    weights give varied boxes, classes and scores (still meaningless, still untrained).
    """
    import torch

    from inference.backends.yolo.env import configure_offline

    configure_offline()
    from ultralytics import YOLO

    model = YOLO(arch)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for mod in model.model.modules():
            if isinstance(mod, torch.nn.Conv2d) and mod.weight.requires_grad:  # not the fixed DFL conv
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=gen) * (2.0 / mod.weight[0].numel()) ** 0.5)
                if mod.bias is not None:
                    mod.bias.copy_(torch.randn(mod.bias.shape, generator=gen) * 0.5)
            elif isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.zero_()
                mod.running_var.fill_(1.0)
                mod.weight.copy_(1 + 0.1 * torch.randn(mod.weight.shape, generator=gen))
                mod.bias.copy_(0.1 * torch.randn(mod.bias.shape, generator=gen))
    model.save(path)
    return path


def jpeg(image: np.ndarray) -> bytes:
    return bytes(simplejpeg.encode_jpeg(image, quality=85, colorspace="BGR", colorsubsampling="420"))


async def publish_frame(nc: NATS, camera: str, seq: int, data: bytes, width: int, height: int,
                        ts: int | None = None) -> FrameMeta:
    meta = FrameMeta(camera, seq, now_ns() if ts is None else ts, width, height)
    await nc.publish(frames_subject(camera), data, headers=meta.to_headers())
    return meta


class Collector:
    """Every annotation received on ``annotations.*.<model>``, in arrival order."""

    def __init__(self) -> None:
        self.items: list[Annotation] = []
        self.headers: list[dict[str, str]] = []
        self._changed = asyncio.Event()

    async def on_msg(self, msg: Msg) -> None:
        self.items.append(Annotation.from_json(msg.data))
        self.headers.append(dict(msg.headers or {}))
        self._changed.set()

    async def wait_for(self, count: int, timeout_s: float = 30.0) -> list[Annotation]:
        async with asyncio.timeout(timeout_s):
            while len(self.items) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.items


async def until(predicate: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Poll ``predicate`` every 10 ms until true (bounded)."""
    async with asyncio.timeout(timeout_s):
        while not predicate():  # noqa: ASYNC110 - polls plain state owned by the code under test
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def collecting(nc: NATS, model: str) -> AsyncIterator[Collector]:
    collector = Collector()
    sub = await nc.subscribe(annotations_filter(model=model), cb=collector.on_msg)
    try:
        yield collector
    finally:
        await sub.unsubscribe()


@contextlib.asynccontextmanager
async def running(consumer: object, timeout_s: float = 30.0) -> AsyncIterator[asyncio.Event]:
    """Run ``consumer.run(stop)`` in a task; wait until it serves; stop and drain at exit."""
    from courtside_contracts.status import ServiceState

    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))  # type: ignore[attr-defined]
    async with asyncio.timeout(timeout_s):
        while consumer.state != ServiceState.READY:  # type: ignore[attr-defined]
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    try:
        yield stop
    finally:
        stop.set()
        async with asyncio.timeout(timeout_s):
            await task
