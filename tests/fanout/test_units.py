"""Pure logic of fanout: queue policy, subscriptions and grants, tokens, hub dispatch. No servers."""

from __future__ import annotations

import asyncio
import json

import pytest
from courtside_contracts.ws import Subscribe

from courtside.config import AuthConfig
from fanout.auth import (
    ANONYMOUS,
    Authenticator,
    Principal,
    Scope,
    bearer_from_header,
    bearer_from_subprotocols,
    origin_allowed,
)
from fanout.client_queue import DropOldestQueue
from fanout.errors import Forbidden, Unauthorized
from fanout.hub import Hub
from fanout.limits import Limits
from fanout.subscriptions import resolve

COURT1 = Principal("t1", frozenset({Scope.READ}), frozenset({"court-1"}))


def test_queue_drops_oldest_and_reports_once() -> None:
    q: DropOldestQueue[int] = DropOldestQueue(3)
    for i in range(5):
        q.put(i)
    assert len(q) == 3 and [q.pop() for _ in range(3)] == [2, 3, 4]
    assert q.take_dropped() == 2 and q.take_dropped() == 0 and q.total_dropped == 2


def test_queue_byte_bound_keeps_newest() -> None:
    q: DropOldestQueue[str] = DropOldestQueue(100, max_bytes=10)
    q.put("a", 6)
    q.put("b", 6)
    assert len(q) == 1 and q.bytes == 6 and q.pop() == "b"
    q.put("huge", 50)  # alone over the bound: still kept
    assert len(q) == 1


def test_resolve_applies_the_grant() -> None:
    assert resolve(Subscribe(None, None, "jpeg"), COURT1).cameras == frozenset({"court-1"})
    assert resolve(Subscribe(None, ("yolo",), "none"), ANONYMOUS).cameras is None
    with pytest.raises(Forbidden, match="court-2"):
        resolve(Subscribe(("court-1", "court-2"), None, "none"), COURT1)
    sub = resolve(Subscribe(("court-1",), ("pose",), "none"), COURT1)
    assert sub.wants_annotation("court-1", "pose") and not sub.wants_annotation("court-1", "yolo")
    assert not sub.wants_video("court-1")


def test_authenticator_scopes_and_cameras() -> None:
    auth = Authenticator(AuthConfig.model_validate({"enabled": True, "tokens": [
        {"token": "aaa", "scope": "viewer", "cameras": ["court-1"]},
        {"token": "bbb", "scope": "admin"}]}))
    assert auth.authenticate("aaa").cameras == frozenset({"court-1"})
    assert auth.authenticate("bbb").scopes == frozenset(Scope)
    for bad in (None, "", "aa", "aaaa", "bbb "):
        with pytest.raises(Unauthorized):
            auth.authenticate(bad)
    assert "aaa" not in repr(auth)
    with pytest.raises(Forbidden):
        auth.authenticate("aaa").require(Scope.OPERATOR)
    assert Authenticator(AuthConfig()).authenticate(None) is ANONYMOUS


def test_token_extraction_and_origin() -> None:
    assert bearer_from_header("Bearer abc") == "abc" and bearer_from_header("Basic abc") is None
    assert bearer_from_subprotocols(["courtside.v1", "bearer.xyz"]) == "xyz"
    assert bearer_from_subprotocols(["courtside.v1", "bearer."]) is None
    assert origin_allowed(None, "h:1", []) and origin_allowed("http://h:1", "h:1", [])
    assert not origin_allowed("http://evil", "h:1", [])
    assert origin_allowed("http://ok", "h:1", ["http://ok"]) and origin_allowed("http://x", "h", ["*"])


async def test_hub_routes_by_camera_model_and_video() -> None:
    demand: list[int] = []
    hub = Hub(8, Limits(), lambda: demand.append(1))
    all_cams = hub.register(ANONYMOUS)
    court1_pose = hub.register(ANONYMOUS)
    hub.subscribe(all_cams, resolve(Subscribe(None, None, "jpeg"), ANONYMOUS))
    hub.subscribe(court1_pose, resolve(Subscribe(("court-1",), ("pose",), "none"), ANONYMOUS))
    assert hub.video_subjects() == frozenset({"frames.*"}) and demand
    assert hub.publish_annotation("court-1", "pose", "a") == 2
    assert hub.publish_annotation("court-1", "yolo", "b") == 1
    assert hub.publish_annotation("court-2", "pose", "c") == 1
    assert hub.publish_video("court-1", b"v") == 1
    assert [court1_pose.next_message()] == ["a"] and court1_pose.next_message() is None
    hub.unregister(all_cams)
    assert hub.video_subjects() == frozenset()
    assert hub.publish_annotation("court-2", "pose", "d") == 0


async def test_channel_pump_order_dropped_notice_and_close() -> None:
    hub = Hub(8, Limits(), lambda: None)
    ch = hub.register(ANONYMOUS)
    for i in range(10):
        ch.offer(f"m{i}", 2)
    ch.control("reply")
    sent: list[dict[str, object]] = []

    async def send(event: dict[str, object]) -> None:
        sent.append(event)

    pump = asyncio.create_task(ch.pump(send))
    for _ in range(5):
        await asyncio.sleep(0)
    texts = [e["text"] for e in sent]
    assert texts[0] == "reply"  # control first, never dropped
    assert json.loads(str(texts[1])) == {"v": 1, "type": "dropped", "count": 2, "total": 2}
    assert texts[2:] == [f"m{i}" for i in range(2, 10)]
    ch.offer(b"video", 5)  # wakes the parked sender
    await asyncio.sleep(0)
    assert sent[-1] == {"type": "websocket.send", "bytes": b"video"}
    ch.offer("never sent", 10)
    ch.control("bye")
    ch.close(4408)  # queued data is discarded, replies flushed, then the close
    await asyncio.wait_for(pump, 1)
    assert sent[-2:] == [{"type": "websocket.send", "text": "bye"}, {"type": "websocket.close", "code": 4408}]
    assert ch.sent == 12
