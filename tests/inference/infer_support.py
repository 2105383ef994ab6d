"""Helpers for the inference tests: generated frames, publishing, collecting annotations."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import simplejpeg
from courtside_contracts.annotations import Annotation
from courtside_contracts.headers import FrameMeta
from courtside_contracts.subjects import annotations_filter, frames_subject
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from courtside import process
from courtside.natsio import now_ns

REPO = Path(__file__).resolve().parents[2]


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


# --- a backend in its own environment (.venvs/<name>): built, probed, served ---------------------------------

def built_env(backend: str, python: Path, timeout_s: float) -> Path:
    """Run ``inference/backends/<backend>/setup_env.sh`` (idempotent) and return ``python``, the
    interpreter of the environment it builds (``.venvs/<name>/bin/python``). A build that fails
    FAILS the test, never skips it."""
    script = REPO / "inference" / "backends" / backend / "setup_env.sh"
    proc = subprocess.run([str(script)], capture_output=True, text=True, timeout=timeout_s)
    if proc.returncode != 0 or not python.exists():
        pytest.fail(f"cannot build .venvs/{python.parents[1].name} (scripts/bootstrap test builds it): "
                    f"{proc.stderr[-800:]}")
    return python


def run_probe(python: Path, source: str, args: Sequence[str], cwd: Path, timeout_s: float,
              env: Mapping[str, str] | None = None) -> tuple[dict[str, Any], str]:
    """Run the Python ``source`` with ``python -c`` in ``cwd``: the JSON object its last stdout line
    prints, and its stderr. A probe that exits non-zero fails the test with the end of its stderr."""
    proc = subprocess.run([str(python), "-c", source, *args], capture_output=True, text=True,
                          timeout=timeout_s, cwd=cwd, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out, proc.stderr


def inside_fraction(box: Sequence[float], region: Sequence[float]) -> float:
    """The share of ``box``'s area inside ``region`` (both x1, y1, x2, y2 in the same pixels); 0 for an empty box."""
    w = max(0.0, min(box[2], region[2]) - max(box[0], region[0]))
    h = max(0.0, min(box[3], region[3]) - max(box[1], region[1]))
    area = (box[2] - box[0]) * (box[3] - box[1])
    return w * h / area if area > 0 else 0.0


def photos() -> list[np.ndarray]:
    """Real people: Ultralytics' bus.jpg (810x1080) and zidane.jpg (1280x720), BGR."""
    import ultralytics

    images = []
    for name in ("bus.jpg", "zidane.jpg"):
        image = cv2.imread(str(Path(ultralytics.__file__).parent / "assets" / name))
        assert image is not None, f"ultralytics ships no assets/{name}"
        images.append(image)
    return images


@contextlib.asynccontextmanager
async def serving(nc: NATS, python: Path, args: Sequence[str], env: dict[str, str], label: str,
                  ready_s: float) -> AsyncIterator[None]:
    """``python -m courtside <args>`` (an inference consumer in its backend's environment), entered
    once it reports ``ready`` on ``status.inference.*`` (at most ``ready_s`` seconds); stopped at exit,
    the end of its stderr written to ours."""
    ready = asyncio.Event()

    async def on_status(msg: Msg) -> None:
        if json.loads(msg.data).get("state") == "ready":
            ready.set()

    sub = await nc.subscribe("status.inference.*", cb=on_status)
    child = process.spawn([str(python), "-m", "courtside", *args], env=env, stderr=subprocess.PIPE)
    try:
        await asyncio.wait_for(ready.wait(), ready_s)
        yield
    finally:
        await sub.unsubscribe()
        process.stop(child, label)
        if child.stderr:
            sys.stderr.write(child.stderr.read().decode(errors="replace")[-3000:])
            child.stderr.close()


async def spawn_ready_infer(nc: NATS, nats_url: str, config: Path, model: str,
                            stderr: int | None = None) -> subprocess.Popen[bytes]:
    """Start ``courtside infer <model>`` on ``config`` against ``nats_url``; returns once its heartbeat
    says ready (60 s at most; stopped and re-raised otherwise). The caller stops it (``process.stop``)."""
    ready = asyncio.Event()

    async def on_status(msg: Msg) -> None:
        beat = json.loads(msg.data)
        if model in beat.get("models", {}) and beat.get("state") == "ready":
            ready.set()

    sub = await nc.subscribe("status.inference.*", cb=on_status)
    env = {**os.environ, "COURTSIDE_NATS__URL": nats_url}
    child = process.spawn([sys.executable, "-m", "courtside", "--config", str(config), "infer", model],
                          env=env, stderr=stderr)
    try:
        await asyncio.wait_for(ready.wait(), 60)
    except BaseException:
        process.stop(child, f"consumer {model}")
        raise
    finally:
        await sub.unsubscribe()
    return child
