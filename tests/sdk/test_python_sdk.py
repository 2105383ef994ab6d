"""The Python SDK against a live fanout fed from real NATS, including a fanout restart mid-stream."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as NATS

# The SDK lives in sdk/python (its own distribution); tests import it from the checkout.
SDK = Path(__file__).resolve().parents[2] / "sdk" / "python"
sys.path.insert(0, str(SDK))

from courtside_client import (  # noqa: E402
    AnnotationMessage,
    AuthError,
    CourtsideClient,
    Dropped,
    Error,
    Status,
    Subscribed,
    VideoFrame,
    backoff_delay,
    parse_message,
)
from courtside_client.__main__ import format_message  # noqa: E402
from courtside_contracts.errors import ContractError  # noqa: E402
from courtside_contracts.ws import VideoHeader, pack_video, server_message  # noqa: E402

from courtside.config import CourtsideConfig  # noqa: E402
from fanout.limits import Limits  # noqa: E402
from fanout.testing import (  # noqa: E402
    RunningFanout,
    free_port,
    make_annotation,
    make_jpeg,
    publish_annotation,
    publish_frame,
    running_fanout,
    wait_until,
)

LIMITS = Limits(status_interval_s=0.5, shutdown_timeout_s=2)
TOKEN = "sdk-test-token-0123456789abcdef"  # noqa: S105 - a test token


def config(port: int = 0, auth: bool = False) -> CourtsideConfig:
    data: dict[str, Any] = {"fanout": {"port": port}}
    if auth:
        data["auth"] = {"enabled": True, "tokens": [{"token": TOKEN, "cameras": ["c1"]}]}
    return CourtsideConfig.model_validate(data)


@pytest.fixture
async def fanout(nats_server: Any) -> AsyncIterator[RunningFanout]:
    async with running_fanout(config(), nats_server.url, limits=LIMITS) as running:
        yield running


async def feed(nc: NATS, camera: str = "c1", hz: float = 30, video: bool = False) -> None:
    """Publish annotations (and frames) of ``camera`` at ``hz`` until cancelled."""
    jpeg = make_jpeg(160, 90)
    seq = 0
    while True:
        seq += 1
        meta = await publish_frame(nc, camera, seq, jpeg, width=160, height=90) if video else None
        await publish_annotation(nc, make_annotation(camera, "yolo", seq, ts=meta.ts if meta else None))
        await asyncio.sleep(1 / hz)


def test_parse_messages_and_backoff() -> None:
    ann = make_annotation("c1", "yolo", 3)
    msg = parse_message(server_message("annotation", annotation=ann.to_dict()))
    assert isinstance(msg, AnnotationMessage) and msg.annotation == ann and msg.seq == 3
    video = parse_message(pack_video(VideoHeader("c1", 3, 5, 4, 2), b"jpeg"))
    assert video == VideoFrame("c1", 3, 5, 4, 2, b"jpeg")
    assert parse_message(server_message("dropped", count=2, total=9)) == Dropped(2, 9)
    assert parse_message(server_message("error", code="forbidden", message="no")) == Error("forbidden", "no")
    assert parse_message(server_message("subscribed", cameras=None, models=["a"], video="none")) == \
        Subscribed(None, ("a",), "none")
    assert isinstance(parse_message(server_message("status", cameras={}, models={})), Status)
    assert parse_message(server_message("from_the_future")) is None
    for bad in ("{", '{"v": 1, "type": "dropped"}', '{"v": 1, "type": "annotation", "annotation": {}}', b"\x02"):
        with pytest.raises(ContractError):
            parse_message(bad)
    delays = [backoff_delay(i, 0.2, 5.0) for i in range(12)]
    assert all(0.1 <= d <= 5.0 for d in delays) and delays[-1] >= 2.5
    assert "c1 #3 yolo: 1 objects: person 0.90" in format_message(msg)


async def test_typed_stream_with_video(fanout: RunningFanout, nc: NATS) -> None:
    seen: dict[type, Any] = {}
    feeder = asyncio.create_task(feed(nc, video=True))
    try:
        async with CourtsideClient(fanout.ws_url) as client:
            async with asyncio.timeout(10):
                async for msg in client.subscribe(cameras=["c1"], models=["yolo"], video="jpeg"):
                    seen.setdefault(type(msg), msg)
                    if {Subscribed, Status, AnnotationMessage, VideoFrame} <= set(seen):
                        break
    finally:
        feeder.cancel()
    assert seen[Subscribed] == Subscribed(("c1",), ("yolo",), "jpeg")
    assert seen[AnnotationMessage].annotation.camera == "c1"
    frame = seen[VideoFrame]
    assert (frame.camera, frame.width, frame.height) == ("c1", 160, 90) and frame.jpeg[:2] == b"\xff\xd8"


async def test_reconnects_and_resumes_after_a_fanout_restart(nats_server: Any, nc: NATS) -> None:
    port = free_port()
    feeder = asyncio.create_task(feed(nc))
    client = CourtsideClient(f"ws://127.0.0.1:{port}/ws", min_backoff_s=0.05, max_backoff_s=0.5)
    stream = client.subscribe(cameras=["c1"])
    before: list[int] = []
    try:
        async with running_fanout(config(port), nats_server.url, limits=LIMITS):
            async with asyncio.timeout(10):
                async for msg in stream:
                    if isinstance(msg, AnnotationMessage):
                        before.append(msg.seq)
                        if len(before) >= 5:
                            break
        await stream.aclose()
        # fanout is down now; a new subscription keeps trying until it is back
        stream = client.subscribe(cameras=["c1"])
        waiting = asyncio.create_task(anext(aiter(stream)))
        await asyncio.sleep(0.5)
        assert not waiting.done()
        async with running_fanout(config(port), nats_server.url, limits=LIMITS):
            async with asyncio.timeout(10):
                assert isinstance(await waiting, Subscribed)
                async for msg in stream:
                    if isinstance(msg, AnnotationMessage):
                        assert msg.seq > before[-1]
                        break
        assert client.connects == 2
    finally:
        feeder.cancel()
        await stream.aclose()
        await client.close()


async def test_a_live_stream_survives_the_restart_in_one_iterator(nats_server: Any, nc: NATS) -> None:
    """The same ``async for`` keeps going across the restart: a new Subscribed, then newer seqs."""
    port = free_port()
    feeder = asyncio.create_task(feed(nc))
    client = CourtsideClient(f"ws://127.0.0.1:{port}/ws", min_backoff_s=0.05, max_backoff_s=0.3)
    restarted = asyncio.Event()
    seqs: list[int] = []
    subscribed = 0

    async def consume() -> None:
        nonlocal subscribed
        async for msg in client.subscribe(cameras=["c1"]):
            if isinstance(msg, Subscribed):
                subscribed += 1
            elif isinstance(msg, AnnotationMessage):
                seqs.append(msg.seq)
                if restarted.is_set() and subscribed == 2:
                    return

    try:
        async with running_fanout(config(port), nats_server.url, limits=LIMITS):
            consumer = asyncio.create_task(consume())
            async def streaming() -> bool:
                return len(seqs) >= 3

            await wait_until(streaming, 10)
        last_before = seqs[-1]
        async with running_fanout(config(port), nats_server.url, limits=LIMITS):
            restarted.set()
            await asyncio.wait_for(consumer, 10)
        assert subscribed == 2 and seqs[-1] > last_before
    finally:
        feeder.cancel()
        await client.close()


async def test_token_auth_header_and_subprotocol(nats_server: Any, nc: NATS) -> None:
    async with running_fanout(config(auth=True), nats_server.url, limits=LIMITS) as running:
        for via in ("header", "subprotocol"):
            async with CourtsideClient(running.ws_url, token=TOKEN, token_via=via) as client:  # type: ignore[arg-type]
                async with asyncio.timeout(5):
                    first = await anext(aiter(client.subscribe()))
                assert first == Subscribed(("c1",), None, "none")
        with pytest.raises(AuthError, match="401"):
            async with CourtsideClient(running.ws_url, token="wrong") as client:  # noqa: S106
                await asyncio.wait_for(anext(aiter(client.subscribe())), 5)
        async with CourtsideClient(running.ws_url, token=TOKEN) as client:
            async with asyncio.timeout(5):
                msgs = client.subscribe(cameras=["c2"])
                assert isinstance(await anext(msgs), Error)  # forbidden camera: an error, not a drop
        assert "sdk-test" not in repr(client)


async def test_cli_prints_live_annotations(fanout: RunningFanout, nc: NATS) -> None:
    feeder = asyncio.create_task(feed(nc))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SDK), str(SDK.parents[1])])}
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "courtside_client", "--url", fanout.ws_url, "--camera", "c1", "--count", "3",
            "--quiet", stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        feeder.cancel()
    assert proc.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert len(lines) == 3 and all(line.startswith("c1 #") and " yolo: 1 objects: person" in line for line in lines)
