"""/ws against a real fanout fed from a real nats-server: delivery, filters, video, errors, slow clients."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import numpy as np
import simplejpeg
import websockets
from courtside_contracts.ws import MAX_CLIENT_MESSAGE_BYTES, unpack_video
from nats.aio.client import Client as NATS
from websockets.asyncio.client import ClientConnection

from fanout.testing import (
    QUICK_LIMITS,
    RunningFanout,
    config_with,
    make_annotation,
    make_jpeg,
    publish_annotation,
    publish_frame,
    running_fanout,
    wait_until,
)


async def subscribe(ws: ClientConnection, **fields: Any) -> dict[str, Any]:
    await ws.send(json.dumps({"op": "subscribe", **fields}))
    return await next_json(ws, "subscribed")


async def next_json(ws: ClientConnection, type_: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next text message of ``type_`` (others of type status are skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            raw = await ws.recv()
            if isinstance(raw, str):
                msg = json.loads(raw)
                if msg["type"] == type_:
                    return msg
                assert msg["type"] == "status", msg


async def annotations(ws: ClientConnection, n: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    return [(await next_json(ws, "annotation", timeout))["annotation"] for _ in range(n)]


async def metric(fanout: RunningFanout, name: str) -> float:
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{fanout.http_url}/metrics")).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


async def test_delivery_filters_and_models_within_a_frame_period(fanout: RunningFanout, nc: NATS) -> None:
    async with websockets.connect(fanout.ws_url, compression=None) as narrow, \
            websockets.connect(fanout.ws_url, compression=None) as wide:
        sub = await subscribe(narrow, cameras=["c1"], models=["yolo", "pose"])
        assert sub == {"v": 1, "type": "subscribed", "cameras": ["c1"], "models": ["pose", "yolo"], "video": "none"}
        assert (await subscribe(wide))["cameras"] is None
        sent = [make_annotation("c1", "yolo", 7), make_annotation("c1", "pose", 7, keypoints=True),
                make_annotation("c1", "ball", 7, ball=(10, 20)), make_annotation("c2", "yolo", 7)]
        for ann in sent:
            await publish_annotation(nc, ann)
        got = await annotations(narrow, 2)
        arrival = [time.monotonic()]
        assert got == [sent[0].to_dict(), sent[1].to_dict()]
        assert await annotations(wide, 4) == [a.to_dict() for a in sent]
        arrival.append(time.monotonic())
        assert arrival[1] - arrival[0] < 1 / 15  # every model of one frame within one frame period
        with_ball = make_annotation("c1", "yolo", 8)
        await publish_annotation(nc, with_ball)
        assert (await annotations(narrow, 1))[0]["seq"] == 8  # nothing else slipped in between


async def test_video_on_demand_and_binary_header_round_trip(fanout: RunningFanout, nc: NATS) -> None:
    jpeg = make_jpeg(320, 180)
    async with websockets.connect(fanout.ws_url, compression=None) as ws:
        await subscribe(ws, cameras=["c1"], video="jpeg")
        header = None
        sent = {}
        async with asyncio.timeout(5):
            seq = 0
            while header is None:  # the frames.c1 subscription is made on demand: publish until it is
                seq += 1
                await publish_frame(nc, "c2", seq, jpeg, width=320, height=180)
                sent[seq] = await publish_frame(nc, "c1", seq, jpeg, width=320, height=180)
                try:
                    raw = await asyncio.wait_for(ws.recv(), 0.2)
                except TimeoutError:
                    continue
                if isinstance(raw, bytes):
                    header, body = unpack_video(raw)
        meta = sent[header.seq]
        assert (header.camera, header.ts, header.width, header.height) == (meta.camera, meta.ts, 320, 180)
        assert body == jpeg
        assert await metric(fanout, "courtside_fanout_frame_subscriptions") == 1
    async def unsubscribed() -> bool:  # nobody watches: frames.c1 is dropped
        return await metric(fanout, "courtside_fanout_frame_subscriptions") == 0

    await wait_until(unsubscribed)


async def test_bad_messages_get_errors_and_the_connection_survives(fanout: RunningFanout, nc: NATS) -> None:
    cases = [("not json", "bad_json"), ('{"op": "dance"}', "unknown_op"), ("[1, 2]", "bad_request"),
             ("x" * (MAX_CLIENT_MESSAGE_BYTES + 1), "too_large"), ('{"v": 2, "op": "ping"}', "bad_version"),
             ('{"op": "subscribe", "cameras": ["no.dots"]}', "bad_request"), (b"\x00\x01", "bad_request")]
    async with websockets.connect(fanout.ws_url, compression=None) as ws:
        for message, code in cases:
            await ws.send(message)
            assert (await next_json(ws, "error"))["code"] == code
        await ws.send('{"op": "ping", "nonce": "n1"}')
        assert (await next_json(ws, "pong"))["nonce"] == "n1"
        await subscribe(ws, cameras=["c1"])
        await nc.publish("annotations.c1.yolo", b'{"camera": "c1"}')  # malformed on NATS: skipped
        await publish_annotation(nc, make_annotation("c1", "yolo", 1))
        assert (await annotations(ws, 1))[0]["seq"] == 1
    assert await metric(fanout, 'courtside_fanout_nats_messages_total{kind="annotation",result="malformed"}') == 1
    assert await metric(fanout, "courtside_fanout_protocol_errors_total") == len(cases)


async def test_unsubscribed_connection_is_closed_when_idle(fanout: RunningFanout) -> None:
    async with websockets.connect(fanout.ws_url, compression=None) as ws:
        assert (await next_json(ws, "error", timeout=5))["code"] == "idle"
        async with asyncio.timeout(5):
            await ws.wait_closed()
        assert ws.close_code == 4408


async def test_slow_client_drops_its_own_oldest_while_a_fast_one_keeps_up(nats_server: Any, nc: NATS) -> None:
    config = config_with(fanout={"client_queue": 8})
    rng = np.random.default_rng(1)
    noise = simplejpeg.encode_jpeg(rng.integers(0, 255, (360, 640, 3), dtype=np.uint8), quality=90)
    frames = 120
    async with running_fanout(config, nats_server.url, limits=QUICK_LIMITS) as fanout:
        # max_queue=1: the slow client's library stops reading the socket after one message
        # (and cannot read the close frame behind unread data: hence the short close_timeout).
        async with websockets.connect(fanout.ws_url, compression=None, max_queue=1, max_size=None,
                                      close_timeout=0.2) as slow, \
                websockets.connect(fanout.ws_url, compression=None, max_size=None) as fast:
            await subscribe(slow, cameras=["c1"], video="jpeg")
            await subscribe(fast, cameras=["c1"], video="jpeg")
            async def watching() -> bool:
                return await metric(fanout, "courtside_fanout_frame_subscriptions") == 1

            await wait_until(watching)

            async def read_fast() -> list[float]:
                delays = []
                while len(delays) < frames:
                    raw = await fast.recv()
                    assert isinstance(raw, bytes) or json.loads(raw)["type"] == "status", raw
                    if isinstance(raw, bytes):
                        delays.append(time.time() - unpack_video(raw)[0].ts / 1e9)
                return delays

            reader = asyncio.create_task(read_fast())
            for seq in range(frames):  # 100 frames/s of ~250 KB: 25 MB/s, far beyond what `slow` reads
                await publish_frame(nc, "c1", seq, noise)
                await asyncio.sleep(0.01)
            delays = await asyncio.wait_for(reader, 20)
            assert max(delays) < 1.0, f"fast client delayed: max {max(delays):.3f} s"

            async with asyncio.timeout(10):  # now the slow client reads: old frames, then the notice
                while True:
                    raw = await slow.recv()
                    if isinstance(raw, str) and json.loads(raw)["type"] == "dropped":
                        notice = json.loads(raw)
                        break
            assert notice["count"] > 0 and notice["total"] >= notice["count"]
        assert await metric(fanout, "courtside_fanout_client_messages_dropped_total") >= notice["count"]

