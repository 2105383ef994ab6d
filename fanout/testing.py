"""Run a real fanout (uvicorn on a loopback port) inside the current event loop.

For tests, benchmarks and demos: ``async with running_fanout(config, url) as f:``
gives the base URL once ``/readyz`` answers 200, and stops the server on exit.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from courtside_contracts.annotations import Annotation, Ball, DetectedObject, Latency
from courtside_contracts.headers import FrameMeta, annotation_headers
from courtside_contracts.subjects import annotations_subject, frames_subject
from nats.aio.client import Client as NATS

from courtside.config import CourtsideConfig
from fanout.errors import StartupError
from fanout.limits import Limits
from fanout.service import run

#: Short timers so that tests of idle/status behaviour take well under a second.
QUICK_LIMITS = Limits(status_interval_s=0.2, subscribe_timeout_s=1.0, ping_interval_s=5, ping_timeout_s=5,
                      shutdown_timeout_s=2)


def config_with(**sections: Any) -> CourtsideConfig:
    """A config on a free port (``fanout.port`` 0) with ``sections`` merged in, e.g. ``auth={...}``."""
    data: dict[str, Any] = {"fanout": {"port": 0}}
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return CourtsideConfig.model_validate(data)


@dataclass(frozen=True, slots=True)
class RunningFanout:
    host: str
    port: int

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def wait_until(check: Callable[[], Awaitable[bool]], timeout_s: float = 5.0,
                     interval_s: float = 0.02) -> None:
    """Poll ``check`` (e.g. an HTTP or metrics query) until it is true; TimeoutError after ``timeout_s``."""
    async with asyncio.timeout(timeout_s):
        while not await check():  # noqa: ASYNC110 - the state lives in another server: polling is the way
            await asyncio.sleep(interval_s)


@asynccontextmanager
async def running_fanout(config: CourtsideConfig, nats_url: str, *, limits: Limits | None = None,
                         ready_timeout_s: float = 10.0) -> AsyncIterator[RunningFanout]:
    """Serve ``config`` (its ``fanout.host``/``port``; port 0 picks a free one) until the block ends."""
    if config.fanout.port == 0:
        config = config.model_copy(update={"fanout": config.fanout.model_copy(update={"port": free_port()})})
    stop = asyncio.Event()
    task = asyncio.create_task(run(config, nats_url, stop, limits=limits), name="fanout-under-test")
    running = RunningFanout(config.fanout.host, config.fanout.port)
    try:
        async with httpx.AsyncClient(timeout=1.0) as http:
            deadline = asyncio.get_running_loop().time() + ready_timeout_s
            while True:
                if task.done():
                    task.result()
                    raise StartupError("fanout stopped before it was ready")
                try:
                    if (await http.get(f"{running.http_url}/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise StartupError(f"fanout not ready within {ready_timeout_s} s")
                await asyncio.sleep(0.05)
        yield running
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


# -- feeding fanout the way ingest and inference do -------------------------------------------

def make_annotation(camera: str, model: str, seq: int, *, ts: int | None = None,
                    boxes: tuple[tuple[float, float, float, float], ...] = ((100, 100, 300, 400),),
                    weights: str = "trained", frame: tuple[int, int] = (640, 360),
                    track: bool = True, keypoints: bool = False, ball: tuple[float, float] | None = None,
                    trained_on: str | None = None) -> Annotation:
    """A valid annotation with one ``person`` per box (pixels of a ``frame`` w x h image)."""
    objects = []
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        kps = None
        if keypoints:  # a plausible standing pose inside the box, COCO-17 order
            cx, w, h = (x1 + x2) / 2, x2 - x1, y2 - y1
            rel = [(0, .08), (-.05, .06), (.05, .06), (-.1, .07), (.1, .07), (-.2, .22), (.2, .22),
                   (-.3, .4), (.3, .4), (-.32, .55), (.32, .55), (-.12, .58), (.12, .58),
                   (-.14, .78), (.14, .78), (-.15, .97), (.15, .97)]
            kps = tuple((cx + dx * w, y1 + dy * h, 0.9) for dx, dy in rel)
        objects.append(DetectedObject("person", 0, 0.9, (x1, y1, x2, y2),
                                      track_id=i + 1 if track else None, keypoints=kps))
    return Annotation(
        camera=camera, seq=seq, ts=time.time_ns() if ts is None else ts, model=model,
        model_version="test-1", weights=weights, frame_w=frame[0], frame_h=frame[1],  # type: ignore[arg-type]
        latency=Latency(1.0, 5.0, 8.0), objects=tuple(objects),
        ball=None if ball is None else Ball(ball[0], ball[1], 0.8, True), trained_on=trained_on)


async def publish_annotation(nc: NATS, ann: Annotation) -> None:
    """Publish like inference does (core publish on the annotation subject, contract headers)."""
    await nc.publish(annotations_subject(ann.camera, ann.model), ann.to_json(),
                     headers=annotation_headers(ann.camera, ann.model, ann.seq, ann.ts))


def make_jpeg(width: int = 640, height: int = 360, rgb: tuple[int, int, int] = (40, 40, 40),
              quality: int = 85) -> bytes:
    """A plain-colour JPEG (simplejpeg, 4:2:0)."""
    import numpy as np
    import simplejpeg

    image = np.empty((height, width, 3), dtype=np.uint8)
    image[:] = rgb
    return bytes(simplejpeg.encode_jpeg(image, quality=quality, colorspace="RGB", colorsubsampling="420"))


async def publish_frame(nc: NATS, camera: str, seq: int, jpeg: bytes, *, width: int = 640,
                        height: int = 360, ts: int | None = None) -> FrameMeta:
    """Publish like ingest does on ``frames.<camera>``; returns the metadata sent."""
    meta = FrameMeta(camera, seq, time.time_ns() if ts is None else ts, width, height, pts=seq / 15)
    await nc.publish(frames_subject(camera), jpeg, headers=meta.to_headers())
    return meta
