"""WebSocket fuzzing of fanout's ``/ws``: random text and binary messages, fragmented and huge
messages, invalid UTF-8 and raw protocol garbage, floods of subscribe. Each bad message gets an
``error`` reply (or a protocol close for what the protocol forbids); the server never goes down and
a second client keeps receiving annotations throughout.

Bounded: seeded random input, about 10 s of fuzzing; ``bench/fuzz.py`` runs it for longer."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import random
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from fuzzkit import SCALE
from nats.aio.client import Client as NATS
from websockets.exceptions import ConnectionClosed

from courtside.nats_server import EmbeddedNats
from fanout.limits import Limits
from fanout.testing import RunningFanout, config_with, make_annotation, publish_annotation, running_fanout

LIMITS = Limits(status_interval_s=0.5, subscribe_timeout_s=30, ping_interval_s=5, ping_timeout_s=5,
                shutdown_timeout_s=2)
#: Annotations per second published for the watching client.
RATE_HZ = 20
#: The longest the watching client may go without an annotation while the fuzzing runs (seconds).
MAX_GAP_S = 1.5


@pytest.fixture
async def fanout(nats_server: EmbeddedNats) -> AsyncIterator[RunningFanout]:
    async with running_fanout(config_with(), nats_server.url, limits=LIMITS) as running:
        yield running


# -- raw frames, for what a well-behaved client library refuses to send ---------------------------

def frame(opcode: int, payload: bytes, fin: bool = True, rsv: int = 0) -> bytes:
    """One masked client frame (RFC 6455 5.2)."""
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    n = len(payload)
    size = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n) if n < 65536 \
        else bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    return head + size + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def raw_session(host: str, port: int, frames: list[bytes]) -> bytes:
    """Handshake by hand, write ``frames``, return what the server sent until it closed (<= 2 s)."""
    reader, writer = await asyncio.open_connection(host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    await writer.drain()
    got = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)  # the 101, then the frames
    for data in frames:
        writer.write(data)
    await writer.drain()
    try:
        async with asyncio.timeout(2):
            while chunk := await reader.read(65536):
                got += chunk
    except TimeoutError:
        pass
    writer.close()
    return got


def close_code(received: bytes) -> int | None:
    """The status code of the server's close frame in a raw byte stream, if any."""
    at = received.find(b"\r\n\r\n")
    data = received[at + 4:]
    while len(data) >= 2:
        opcode, n = data[0] & 0x0F, data[1] & 0x7F
        start = 2 + (2 if n == 126 else 8 if n == 127 else 0)
        if n >= 126:
            n = int.from_bytes(data[2:start], "big")
        if opcode == 0x8:
            return int.from_bytes(data[start:start + 2], "big") if n >= 2 else 1005
        data = data[start + n:]
    return None


# -- fuzz cases --------------------------------------------------------------------------------

def random_text(rng: random.Random) -> str:
    """JSON-ish garbage: broken JSON, wrong types, unknown ops, deep nesting, odd unicode."""
    choices = [
        lambda: "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(rng.randrange(0, 200))),
        lambda: json.dumps({"op": rng.choice(["subscribe", "ping", "nope", None, 1]),
                            "cameras": rng.choice([None, [], ["court-1"], ["../x"], [1, 2], "court-1", ["a" * 300]]),
                            "models": rng.choice([None, ["yolo"], [{}], 7]),
                            "video": rng.choice(["jpeg", "none", "mp4", None, True]),
                            "v": rng.choice([1, 2, "1", None])}),
        lambda: "[" * rng.randrange(1, 5000) + "]" * rng.randrange(0, 5000),
        lambda: json.dumps([rng.random() for _ in range(rng.randrange(0, 50))]),
        lambda: '{"op": "subscribe", "cameras": [' + ",".join(['"c"'] * rng.randrange(0, 2000)) + "]}",
        lambda: "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace") * 10,
        lambda: "",
    ]
    return rng.choice(choices)()


async def drain_replies(ws: Any, expect: int, timeout_s: float = 3.0) -> list[dict[str, Any]]:
    replies: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout_s):
        while len(replies) < expect:
            msg = await ws.recv()
            if isinstance(msg, str):
                parsed = json.loads(msg)
                if parsed["type"] in ("error", "subscribed", "pong"):
                    replies.append(parsed)
    return replies


async def fuzz_messages(url: str, rng: random.Random) -> int:
    """Random text, binary and fragmented messages on one connection; every one is answered."""
    sent = 0
    async with websockets.connect(url, max_size=None) as ws:
        for _ in range(60 * SCALE):
            kind = rng.random()
            if kind < 0.6:
                await ws.send(random_text(rng))
            elif kind < 0.8:
                await ws.send(rng.randbytes(rng.randrange(0, 4096)))
            else:  # one message in several frames
                text = random_text(rng)
                cut = sorted(rng.randrange(0, len(text) + 1) for _ in range(3))
                await ws.send([text[:cut[0]], text[cut[0]:cut[1]], text[cut[1]:]] if text else [""])
            sent += 1
            replies = await drain_replies(ws, 1)
            assert replies[0]["type"] in ("error", "subscribed", "pong"), replies
    return sent


async def fuzz_sizes(url: str) -> None:
    """Over the protocol bound (16 KiB): an error; over the socket bound: close 1009."""
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"op": "ping", "pad": "x" * 40_000}))
        assert (await drain_replies(ws, 1))[0]["code"] == "too_large"
        await ws.send(["{", '"op": "ping",', '"pad": "' + "y" * 30_000 + '"}'])  # fragmented, still too large
        assert (await drain_replies(ws, 1))[0]["code"] == "too_large"
        await ws.send("z" * (LIMITS.ws_max_size + 1))
        with pytest.raises(ConnectionClosed) as info:
            await drain_replies(ws, 1)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1009


async def fuzz_flood(url: str) -> None:
    """Floods of subscribes: 500 pipelined ones are all answered; a client that floods for 2 s
    without ever reading gets nothing from anyone else's share (the watcher checks that)."""
    sub = json.dumps({"op": "subscribe", "cameras": ["court-1"]})
    async with websockets.connect(url) as ws:
        for _ in range(500):
            await ws.send(sub)
        replies = await drain_replies(ws, 500, timeout_s=10)
        assert {r["type"] for r in replies} == {"subscribed"}
    async with websockets.connect(url, max_queue=1) as deaf:
        deadline = time.monotonic() + 2
        with contextlib.suppress(ConnectionClosed):  # cut off (1008) when its replies pile up
            while time.monotonic() < deadline:
                await deaf.send(sub)
                await asyncio.sleep(0)


async def fuzz_raw(host: str, port: int, rng: random.Random) -> dict[str, int | None]:
    """What the protocol forbids: closed with the right code, never a crash."""
    cases = {
        "invalid utf-8": [frame(0x1, b"\xff\xfe\xfd")],
        "fragmented invalid utf-8": [frame(0x1, b'{"op":', fin=False), frame(0x0, b"\xc3\x28}", fin=True)],
        "reserved opcode": [frame(0x3, b"x")],
        "rsv bits": [frame(0x1, b"{}", rsv=0b111)],
        "continuation first": [frame(0x0, b"x")],
        "oversized control": [frame(0x9, b"p" * 200)],
        "fragmented control": [frame(0x9, b"p", fin=False)],
        "random bytes": [rng.randbytes(512)],
    }
    return {name: close_code(await raw_session(host, port, frames)) for name, frames in cases.items()}


async def watcher(url: str, stop: asyncio.Event, arrivals: list[float]) -> None:
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"op": "subscribe", "cameras": ["court-1"]}))
        while not stop.is_set():
            try:
                msg = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            if isinstance(msg, str) and json.loads(msg)["type"] == "annotation":
                arrivals.append(time.monotonic())


async def publisher(nc: NATS, stop: asyncio.Event) -> None:
    seq = 0
    while not stop.is_set():
        seq += 1
        await publish_annotation(nc, make_annotation("court-1", "yolo", seq))
        await asyncio.sleep(1 / RATE_HZ)


@pytest.mark.timeout(60 * SCALE)
async def test_ws_fuzz_never_takes_fanout_down_nor_disturbs_another_client(fanout: RunningFanout, nc: NATS) -> None:
    rng = random.Random(1412)  # noqa: S311 - seeded fuzz input, not a secret
    stop = asyncio.Event()
    arrivals: list[float] = []
    background = [asyncio.create_task(watcher(fanout.ws_url, stop, arrivals)),
                  asyncio.create_task(publisher(nc, stop))]
    try:
        async with asyncio.timeout(5):
            while not arrivals:  # noqa: ASYNC110 - the watcher is live before the fuzzing starts
                await asyncio.sleep(0.05)
        started = time.monotonic()
        results = await asyncio.gather(
            *(fuzz_messages(fanout.ws_url, random.Random(rng.random())) for _ in range(4)),  # noqa: S311
            fuzz_sizes(fanout.ws_url), fuzz_flood(fanout.ws_url), fuzz_raw(fanout.host, fanout.port, rng))
        raw = results[-1]
        ended = time.monotonic()
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
    # Protocol violations are closed with their RFC 6455 codes (1007 bad UTF-8, 1002 the rest).
    assert raw["invalid utf-8"] == raw["fragmented invalid utf-8"] == 1007, raw
    assert all(code == 1002 for name, code in raw.items() if "utf-8" not in name and name != "random bytes"), raw
    # The watcher kept receiving throughout.
    during = [t for t in arrivals if started <= t <= ended]
    gaps = [b - a for a, b in zip([started, *during], [*during, ended], strict=True)]
    assert max(gaps) < MAX_GAP_S, (max(gaps), len(during))
    assert len(during) >= (ended - started) * RATE_HZ * 0.5
    async with httpx.AsyncClient(base_url=fanout.http_url) as http:
        assert (await http.get("/healthz")).status_code == 200
        metrics = (await http.get("/metrics")).text
    errors = next(float(line.split()[-1]) for line in metrics.splitlines()
                  if line.split(" ")[0].removesuffix("_total").endswith("fanout_protocol_errors"))
    assert errors >= 4 * 30  # most fuzz messages are bad ones, each counted
