"""A WebSocket client of fanout that records every annotation it receives, for tests that break
something underneath (NATS restarts, a cluster node dies) and need to see the stream come back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection


@dataclass
class AnnotationFeed:
    """What one subscribed client has received so far, filled by a background task."""

    #: ``(time.monotonic() at receipt in s, annotation)``, in arrival order.
    received: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    def cameras(self) -> set[str]:
        return {a["camera"] for _, a in self.received}

    def connected(self) -> bool:
        """False once the server closed the connection (or it broke)."""
        return self.task is not None and not self.task.done()

    async def first_since(self, since: float, since_wall_ns: int, cameras: int,
                          within_s: float) -> dict[str, float]:
        """``camera -> seconds after since`` of its first annotation stamped at or after
        ``since_wall_ns`` (``ts``, wall-clock ns); waits until ``cameras`` cameras have one or
        ``since`` (monotonic s) + ``within_s`` has passed, and returns what it has then."""
        first: dict[str, float] = {}
        while len(first) < cameras and time.monotonic() < since + within_s:
            for at, ann in self.received:
                if ann["ts"] >= since_wall_ns and ann["camera"] not in first:
                    first[ann["camera"]] = at - since
            await asyncio.sleep(0.02)
        return first


async def _collect(ws: ClientConnection, feed: AnnotationFeed) -> None:
    async for raw in ws:
        data = json.loads(raw)
        if data.get("type") == "annotation":
            feed.received.append((time.monotonic(), data["annotation"]))


@contextlib.asynccontextmanager
async def annotation_feed(fanout_url: str) -> AsyncIterator[AnnotationFeed]:
    """Subscribe to every camera on fanout's ``/ws`` (``fanout_url`` is its http:// base) and record."""
    async with websockets.connect(fanout_url.replace("http://", "ws://") + "/ws") as ws:
        await ws.send(json.dumps({"v": 1, "op": "subscribe"}))
        feed = AnnotationFeed()
        feed.task = asyncio.create_task(_collect(ws, feed))
        try:
            yield feed
        finally:
            feed.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await feed.task
