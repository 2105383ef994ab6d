"""Garbage on every NATS subject a service subscribes to is counted as malformed and skipped, and
the service goes on serving: fanout (annotations, status, frames) and an inference consumer (frames)."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import websockets
from courtside_contracts.headers import FrameMeta
from fuzzkit import SCALE, config
from nats.aio.client import Client as NATS

from courtside.nats_server import EmbeddedNats
from fanout.testing import (
    QUICK_LIMITS,
    make_annotation,
    make_jpeg,
    publish_annotation,
    publish_frame,
    running_fanout,
    wait_until,
)

GARBAGE_PER_SUBJECT = 60 * SCALE


def garbage(rng: random.Random) -> tuple[bytes, dict[str, str] | None]:
    """A random payload and random (or no, or almost right) headers."""
    payload = rng.choice([b"", b"{", b"null", b"[]", b'{"camera": 1}', rng.randbytes(rng.randrange(1, 5000)),
                          json.dumps({"camera": "court-1", "seq": "x", "objects": [{}]}).encode(),
                          b"\xff\xd8\xff" + rng.randbytes(2000)])  # a JPEG's start, then noise
    meta = FrameMeta("court-1", rng.randrange(1, 10**6), rng.randrange(0, 2**62), 640, 360).to_headers()
    headers = rng.choice([None, {}, {"x": "y"}, {k: "bad value" for k in meta}, meta,
                          {**meta, "Courtside-Seq": "-1"} if "Courtside-Seq" in meta else {**meta, "x": "1"}])
    return payload, headers


def metric(text: str, name: str, **labels: str) -> float:
    """The value of metric ``<prefix>fanout_<name>`` with ``labels`` in a Prometheus exposition."""
    for line in text.splitlines():
        metric_name = line.split("{")[0].split(" ")[0].removesuffix("_total")
        if not line.startswith("#") and metric_name.endswith(f"fanout_{name}") \
                and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.split()[-1])
    raise AssertionError(f"fanout_{name} {labels} not in metrics")


async def spray(nc: NATS, subject: str, rng: random.Random, pause_s: float = 0.0) -> None:
    """Publish the garbage; ``pause_s`` between messages lets a newest-frame-wins consumer look at
    each one (without it, a message followed at once by another of its camera is dropped unread as
    superseded: counted, but never parsed)."""
    for _ in range(GARBAGE_PER_SUBJECT):
        payload, headers = garbage(rng)
        await nc.publish(subject, payload, headers=headers)
        if pause_s:
            await nc.flush()
            await asyncio.sleep(pause_s)
    await nc.flush()


@pytest.mark.timeout(60)
async def test_fanout_counts_and_skips_garbage_on_every_subject(nats_server: EmbeddedNats, nc: NATS) -> None:
    rng = random.Random(5)  # noqa: S311 - seeded fuzz input, not a secret
    async with running_fanout(config({"fanout": {"port": 0}}), nats_server.url, limits=QUICK_LIMITS) as f, \
            httpx.AsyncClient(base_url=f.http_url) as http, websockets.connect(f.ws_url) as ws:
        await ws.send(json.dumps({"op": "subscribe", "cameras": ["court-1"], "video": "jpeg"}))

        async def subscribed_to_frames() -> bool:
            return metric((await http.get("/metrics")).text, "frame_subscriptions") >= 1

        await wait_until(subscribed_to_frames)
        for subject in ("annotations.court-1.yolo", "status.ingest.ingest-1", "frames.court-1"):
            await spray(nc, subject, rng)

        async def all_counted() -> bool:
            text = (await http.get("/metrics")).text
            return all(metric(text, "nats_messages", kind=kind, result="malformed") > 0
                       for kind in ("annotation", "heartbeat", "frame"))

        await wait_until(all_counted, timeout_s=10)
        text = (await http.get("/metrics")).text
        bad = {kind: metric(text, "nats_messages", kind=kind, result="malformed")
               for kind in ("annotation", "heartbeat", "frame")}
        assert sum(bad.values()) >= GARBAGE_PER_SUBJECT * 2, bad
        # Still serving: a real annotation and a real frame reach the client.
        await publish_annotation(nc, make_annotation("court-1", "yolo", 1))
        await publish_frame(nc, "court-1", 1, make_jpeg())
        kinds: set[str] = set()
        async with asyncio.timeout(5):
            while kinds < {"annotation", "video"}:
                msg = await ws.recv()
                kinds.add("video" if isinstance(msg, bytes) else json.loads(msg)["type"])
        assert (await http.get("/healthz")).status_code == 200


@pytest.mark.timeout(60)
async def test_inference_counts_and_skips_garbage_frames(nats_server: EmbeddedNats, nc: NATS) -> None:
    from inference.service import run

    cfg = config({"cameras": [{"id": "court-1", "url": "demo://padel"}],
                  "models": [{"name": "bright", "backend": "brightest"}]})
    stop = asyncio.Event()
    task = asyncio.create_task(run(cfg, cfg.models[0], nats_server.url, stop))
    beats: list[dict[str, Any]] = []
    async def on_beat(msg: Any) -> None:
        beats.append(json.loads(msg.data))

    sub = await nc.subscribe("status.inference.>", cb=on_beat)
    try:
        async def beating() -> bool:
            return bool(beats) and not task.done()

        await wait_until(beating, timeout_s=30)
        await spray(nc, "frames.court-1", random.Random(9), pause_s=0.02)  # noqa: S311 - fuzz input
        await publish_frame(nc, "court-1", 10**7, make_jpeg())  # and a good one after the garbage

        def malformed() -> float:
            return max((_find(b, "malformed") for b in beats), default=0)

        async def counted() -> bool:
            return malformed() > 0 and _find(beats[-1], "published") >= 1

        await wait_until(counted, timeout_s=15)
        assert malformed() >= GARBAGE_PER_SUBJECT // 2, malformed()
        assert not task.done()
    finally:
        await sub.unsubscribe()
        stop.set()
        await asyncio.wait_for(task, 15)


def _find(tree: Any, key: str, pick: Callable[[list[float]], float] = max) -> float:
    """The largest number stored under ``key`` anywhere in a heartbeat's JSON."""
    found: list[float] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == key and isinstance(v, int | float):
                    found.append(float(v))
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(tree)
    return pick(found) if found else 0.0
