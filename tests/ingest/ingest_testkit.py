"""Ingest test helpers: generated clips, configs, a running service, NATS collectors."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
from courtside_contracts.status import Heartbeat
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from courtside.config import CourtsideConfig, parse_config
from ingest import service

INSTANCE = "ingest-test"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def moving_frames(n: int, width: int, height: int) -> Iterator[np.ndarray]:
    """A bright square sliding over a gradient: cheap, and every frame differs."""
    base = np.zeros((height, width, 3), np.uint8)
    base[:] = np.linspace(30, 200, width, dtype=np.uint8)[None, :, None]
    for i in range(n):
        img = base.copy()
        x = (i * 7) % max(1, width - 40)
        img[height // 3: height // 3 + 40, x: x + 40] = (40, 230, 230)
        yield img


def make_config(cameras: list[dict[str, Any]], port: int = 0, **ingest: Any) -> CourtsideConfig:
    return parse_config({"cameras": cameras, "ingest": {"host": "127.0.0.1", "port": port,
                                                        "instance": INSTANCE, **ingest}},
                        "<test>", environ={})


def local_archive(tmp_path: Path, segment_s: float) -> dict[str, Any]:
    """An ``archive`` section: segments of ``segment_s`` seconds (0.5 s fragments) spooled in
    ``tmp_path/spool`` and archived into the directory ``tmp_path/archive``."""
    return {"kind": "local", "path": str(tmp_path / "archive"), "segment_s": segment_s, "fragment_s": 0.5,
            "spool_dir": str(tmp_path / "spool"), "annotation_grace_s": 0.2}


@asynccontextmanager
async def running_ingest(config: CourtsideConfig, nats_url: str) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``ingest.service.run`` in a task; on exit stop it and check it stops within 2.5 s."""
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(config, nats_url, stop))
    try:
        yield task
    finally:
        stop.set()
        started = time.monotonic()
        await asyncio.wait_for(task, 5.0)
        assert time.monotonic() - started < 2.5, "ingest took too long to stop"


async def collect(nc: NATS, subject: str, seconds: float) -> list[Msg]:
    """Every message on ``subject`` during the next ``seconds``."""
    got: list[Msg] = []

    async def on_msg(msg: Msg) -> None:
        got.append(msg)

    sub = await nc.subscribe(subject, cb=on_msg)
    await asyncio.sleep(seconds)
    await sub.unsubscribe()
    return got


async def wait_heartbeat(nc: NATS, predicate: Callable[[Heartbeat], bool], timeout_s: float = 8.0,
                         instance: str = INSTANCE) -> Heartbeat:
    """The first heartbeat of ``instance`` for which ``predicate`` holds (AssertionError on timeout)."""
    sub = await nc.subscribe(f"status.ingest.{instance}")
    deadline = time.monotonic() + timeout_s
    last: Heartbeat | None = None
    try:
        while time.monotonic() < deadline:
            try:
                msg = await sub.next_msg(timeout=max(0.05, deadline - time.monotonic()))
            except TimeoutError:
                break
            last = Heartbeat.from_json(msg.data)
            if predicate(last):
                return last
    finally:
        await sub.unsubscribe()
    raise AssertionError(f"no matching heartbeat within {timeout_s} s; last: {last}")
