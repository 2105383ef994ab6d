"""The direct-write fast path: frames, the channel's switch between direct and queued, a stalled client."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import replace
from typing import Any

import httpx
import websockets
from nats.aio.client import Client as NATS
from websockets.asyncio.client import ClientConnection
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

from fanout.auth import ANONYMOUS
from fanout.direct_write import encode_frame
from fanout.hub import Hub
from fanout.limits import Limits
from fanout.testing import (
    QUICK_LIMITS,
    RunningFanout,
    config_with,
    make_annotation,
    publish_annotation,
    publish_frame,
    running_fanout,
    wait_until,
)


async def subscribe(ws: ClientConnection, **fields: Any) -> None:
    await ws.send(json.dumps({"op": "subscribe", **fields}))
    async with asyncio.timeout(5):
        while json.loads(await ws.recv())["type"] != "subscribed":
            pass


async def annotations(ws: ClientConnection, n: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The next ``n`` annotations (other message types skipped)."""
    got = []
    async with asyncio.timeout(timeout):
        while len(got) < n:
            msg = json.loads(await ws.recv())
            if msg["type"] == "annotation":
                got.append(msg["annotation"])
    return got


async def metric(fanout: RunningFanout, name: str) -> float:
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{fanout.http_url}/metrics")).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def _server_bytes(send: str, message: str | bytes) -> bytes:
    """What websockets' own server protocol writes for ``message`` on an open connection."""
    proto = ServerProtocol()
    proto.receive_data(b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    [request] = proto.events_received()
    proto.send_response(proto.accept(request))
    proto.data_to_send()
    getattr(proto, send)(message)
    return b"".join(proto.data_to_send())


def test_encode_frame_is_what_the_library_would_write() -> None:
    for text in ("", "x" * 125, "é" * 100, "y" * 70_000):
        assert encode_frame(text) == _server_bytes("send_text", text.encode())
    for data in (b"", b"\x00" * 126, bytes(300_000)):
        assert encode_frame(data) == _server_bytes("send_binary", data)


async def test_channel_writes_directly_until_congested_then_queues_in_order() -> None:
    hub = Hub(4, Limits(), lambda: None)
    ch = hub.register(ANONYMOUS)
    wire: list[bytes] = []
    congested = False

    def write_now(frame: bytes) -> bool:
        if congested:
            return False
        wire.append(frame)
        return True

    asgi: list[dict[str, object]] = []

    async def send(event: dict[str, object]) -> None:
        asgi.append(event)

    ch.attach(write_now)
    pump = asyncio.create_task(ch.pump(send))
    await asyncio.sleep(0)
    ch.offer("a", 1, b"A")
    assert wire == [b"A"] and ch.queued == 0 and ch.sent == 1  # no task step, no ASGI send
    congested = True
    for i in range(7):  # the socket is congested: the queue (4) keeps the newest, counts the rest
        ch.offer(f"m{i}", 2, f"M{i}".encode())
    assert ch.queued == 7 and len(ch.queue) == 4 and not ch.direct
    congested = False
    ch.offer("late", 4, b"LATE")  # something is queued: it must wait its turn, not overtake
    for _ in range(10):
        await asyncio.sleep(0)
    texts = [e["text"] for e in asgi]
    assert json.loads(str(texts[0])) == {"v": 1, "type": "dropped", "count": 4, "total": 4}
    assert texts[1:] == ["m4", "m5", "m6", "late"] and wire == [b"A"]
    assert ch.direct  # drained: writes go straight to the socket again
    ch.offer("b", 1, b"B")
    ch.control("reply")  # replies always take the queue, in order with the data
    ch.offer("c", 1, b"C")
    await asyncio.sleep(0)
    assert wire == [b"A", b"B"] and [e["text"] for e in asgi[-2:]] == ["reply", "c"]
    ch.close(1000)
    await asyncio.wait_for(pump, 1)
    assert asgi[-1] == {"type": "websocket.close", "code": 1000} and ch.sent == 9


async def test_ready_clients_are_written_directly(fanout: RunningFanout, nc: NATS) -> None:
    async with websockets.connect(fanout.ws_url, compression=None) as ws:
        await subscribe(ws, cameras=["c1"])
        for seq in range(50):
            await publish_annotation(nc, make_annotation("c1", "yolo", seq))
        assert [a["seq"] for a in await annotations(ws, 50)] == list(range(50))
    assert await metric(fanout, "courtside_fanout_client_messages_sent_total") >= 50
    # only the first status (sent right after `subscribed`, behind it) may have waited in the queue
    assert await metric(fanout, "courtside_fanout_client_messages_queued_total") <= 1


class _StalledClient:
    """A WebSocket client on a raw socket that reads nothing until :meth:`read_all` (small receive
    buffer), so that fanout's writes to it pile up in the kernel, then in the transport, then in
    its queue. Framing by websockets' sans-I/O client protocol."""

    def __init__(self, url: str) -> None:
        self.proto = ClientProtocol(parse_uri(url))
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.setblocking(False)

    async def open(self, host: str, port: int, subscribe: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        await loop.sock_connect(self.sock, (host, port))
        self.proto.send_request(self.proto.connect())
        await loop.sock_sendall(self.sock, b"".join(self.proto.data_to_send()))
        while not any(isinstance(e, Response) for e in await self.events()):
            pass
        self.proto.send_text(json.dumps({"op": "subscribe", **subscribe}).encode())
        await loop.sock_sendall(self.sock, b"".join(self.proto.data_to_send()))

    async def events(self) -> list[object]:
        """The events (websockets frames, the handshake response) of the next chunk read."""
        data = await asyncio.get_running_loop().sock_recv(self.sock, 1 << 16)
        assert data, "fanout closed the connection"
        self.proto.receive_data(data)
        return list(self.proto.events_received())

    async def texts(self) -> list[dict[str, Any]]:
        """The text messages in the next chunk read from the socket."""
        return [json.loads(e.data) for e in await self.events()
                if isinstance(e, Frame) and e.opcode is Opcode.TEXT]

    def close(self) -> None:
        self.sock.close()


async def test_a_stalled_client_loses_its_oldest_and_is_told_while_a_fast_one_keeps_up(
        nats_server: Any, nc: NATS) -> None:
    config = config_with(fanout={"client_queue": 8})
    limits = replace(QUICK_LIMITS, status_interval_s=60)  # no periodic status: exact accounting below
    frame = bytes(256 * 1024)  # fanout forwards JPEG bytes without decoding them
    rounds, per_round = 40, 5  # 10 MB of video for the stalled client: more than kernel and transport hold
    async with running_fanout(config, nats_server.url, limits=limits) as fanout:
        stalled = _StalledClient(fanout.ws_url)
        async with websockets.connect(fanout.ws_url, compression=None) as fast:
            await stalled.open(fanout.host, fanout.port, {"cameras": ["c1"], "video": "jpeg"})
            await subscribe(fast, cameras=["c1"])
            async with asyncio.timeout(5):
                while not any(m["type"] == "subscribed" for m in await stalled.texts()):
                    pass

            async def watching() -> bool:
                return await metric(fanout, "courtside_fanout_frame_subscriptions") == 1

            await wait_until(watching)
            total = rounds * per_round

            async def read_fast() -> list[tuple[int, float]]:  # (seq, delay at arrival in seconds)
                got = []
                while len(got) < total:
                    [a] = await annotations(fast, 1, 30)
                    got.append((a["seq"], time.time() - a["ts"] / 1e9))
                return got

            reader = asyncio.create_task(read_fast())
            for i in range(rounds):
                await publish_frame(nc, "c1", i, frame)
                for k in range(per_round):
                    await publish_annotation(nc, make_annotation("c1", "yolo", i * per_round + k))
                    await asyncio.sleep(0.01)
            got = await asyncio.wait_for(reader, 30)
            assert [seq for seq, _ in got] == list(range(total)), "the fast client lost or reordered messages"
            worst = max(delay for _, delay in got)
            assert worst < 1.0, f"fast client delayed: max {worst:.3f} s"

            # now the stalled client reads: each message was delivered in order or counted as dropped
            seqs, frames, dropped, notices = [], 0, 0, 0
            async with asyncio.timeout(20):
                while not seqs or seqs[-1] != total - 1:
                    for event in await stalled.events():
                        if isinstance(event, Frame) and event.opcode is Opcode.BINARY:
                            frames += 1
                        elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                            msg = json.loads(event.data)
                            if msg["type"] == "annotation":
                                seqs.append(msg["annotation"]["seq"])
                            else:
                                assert msg["type"] == "dropped", msg
                                dropped += msg["count"]
                                notices += 1
                                assert msg["total"] == dropped
            stalled.close()
        assert dropped > 0 and notices >= 1 and frames < rounds
        assert seqs == sorted(seqs) and len(seqs) + frames + dropped == total + rounds
        assert await metric(fanout, "courtside_fanout_client_messages_dropped_total") == dropped
