"""Per-service NATS users: the rendered config (plain data), then a real nats-server enforcing it:
no anonymous access, a consumer's credentials refused when publishing a frame, ingest refused
when publishing an annotation, each allowed what its service does."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from courtside.nats_server import EmbeddedNats
from courtside.nats_users import PERMISSIONS, authorization_conf, service_users, user_url


def test_users_render_as_a_nats_authorization_block_and_mask_their_password() -> None:
    users = service_users(password=lambda: "pw-1")
    assert set(users) == {"ingest", "inference", "fanout", "analytics"}
    conf = authorization_conf(users)
    assert conf.startswith("authorization {\n  users: [\n")
    assert ('{user: "ingest", password: "pw-1", permissions: {publish: {allow: ["frames.*", "clips.*", '
            '"status.ingest.*", "$O.segments.>", "$JS.API.STREAM.INFO.CLIPS", "$JS.API.STREAM.CREATE.CLIPS", ') in conf
    assert '"_INBOX.>"]}, allow_responses: true}}' in conf
    assert "$JS.API.>" not in conf and "DELETE.CLIPS\"" not in conf and "STREAM.DELETE" not in conf
    assert "pw-1" not in repr(users["ingest"])
    assert "frames.*" not in PERMISSIONS["inference"].publish
    assert not any(s.startswith("annotations") for s in PERMISSIONS["ingest"].publish)


def test_random_passwords_differ_per_service_and_per_start() -> None:
    first, second = service_users(), service_users()
    passwords = {u.password for u in first.values()} | {u.password for u in second.values()}
    assert len(passwords) == 8 and all(len(p) >= 32 for p in passwords)


def test_user_url_puts_the_user_in_and_replaces_any_other() -> None:
    user = service_users(password=lambda: "p/w@x")["fanout"]
    assert user_url("nats://127.0.0.1:4222", user) == "nats://fanout:p%2Fw%40x@127.0.0.1:4222"
    assert user_url("nats://old:secret@127.0.0.1:4222", user) == "nats://fanout:p%2Fw%40x@127.0.0.1:4222"


REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def secured() -> Iterator[tuple[EmbeddedNats, dict[str, str]]]:
    users = service_users()
    with EmbeddedNats(users=users) as server:
        yield server, {name: user_url(server.url, user) for name, user in users.items()}


class Watched:
    """A connection whose asynchronous errors (permission violations) are kept."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.nc = NATS()

    async def connect(self, url: str) -> Watched:
        async def on_error(exc: Exception) -> None:
            self.errors.append(str(exc))

        await self.nc.connect(url, error_cb=on_error, allow_reconnect=False)
        return self


@pytest.fixture
async def fanout_sees(secured: tuple[EmbeddedNats, dict[str, str]]) -> AsyncIterator[list[str]]:
    """Subjects of every frame and annotation fanout's user receives."""
    seen: list[str] = []

    async def on_msg(msg: Msg) -> None:
        seen.append(msg.subject)

    fanout = await Watched().connect(secured[1]["fanout"])
    await fanout.nc.subscribe("frames.*", cb=on_msg)
    await fanout.nc.subscribe("annotations.*.*", cb=on_msg)
    await fanout.nc.flush()
    yield seen
    assert fanout.errors == []
    await fanout.nc.close()


async def test_anonymous_and_wrong_password_connections_are_refused(
        secured: tuple[EmbeddedNats, dict[str, str]]) -> None:
    server, urls = secured
    for url in (server.url, urls["ingest"].replace("ingest:", "ingest:x")):
        with pytest.raises((nats.errors.Error, OSError)):
            await asyncio.wait_for(nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0,
                                                connect_timeout=2), 10)


async def test_a_consumer_may_not_publish_frames_nor_ingest_annotations(
        secured: tuple[EmbeddedNats, dict[str, str]], fanout_sees: list[str]) -> None:
    urls = secured[1]
    consumer = await Watched().connect(urls["inference"])
    ingest = await Watched().connect(urls["ingest"])
    try:
        await consumer.nc.publish("frames.court-1", b"forged frame")
        await ingest.nc.publish("annotations.court-1.yolo", b"forged annotation")
        await ingest.nc.publish("frames.court-1", b"a real frame")
        await consumer.nc.publish("annotations.court-1.yolo", b"a real annotation")
        for client in (consumer, ingest):
            await client.nc.flush()
        async with asyncio.timeout(5):
            while len(fanout_sees) < 2 or not (consumer.errors and ingest.errors):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # a forged message, were it let through, would arrive by now
        assert sorted(fanout_sees) == ["annotations.court-1.yolo", "frames.court-1"]
        assert any('permissions violation for publish to "frames.court-1"' in e.lower() for e in consumer.errors)
        assert any('permissions violation for publish to "annotations.court-1.yolo"' in e.lower()
                   for e in ingest.errors)
    finally:
        await consumer.nc.close()
        await ingest.nc.close()


async def test_analytics_reads_a_frame_for_its_drift_check_but_may_not_publish_one(
        secured: tuple[EmbeddedNats, dict[str, str]], fanout_sees: list[str]) -> None:
    urls = secured[1]
    analytics = await Watched().connect(urls["analytics"])
    ingest = await Watched().connect(urls["ingest"])
    got: list[bytes] = []

    async def on_frame(msg: Msg) -> None:
        got.append(msg.data)

    try:
        await analytics.nc.subscribe("frames.court-1", cb=on_frame)
        await analytics.nc.flush()
        await analytics.nc.publish("frames.court-1", b"forged frame")
        await ingest.nc.publish("frames.court-1", b"a real frame")
        for client in (analytics, ingest):
            await client.nc.flush()
        async with asyncio.timeout(5):
            while not (got and fanout_sees and analytics.errors):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # a forged frame, were it let through, would arrive by now
        assert got == [b"a real frame"] and fanout_sees == ["frames.court-1"]
        assert all("subscription" not in e.lower() for e in analytics.errors), analytics.errors
        assert any('permissions violation for publish to "frames.court-1"' in e.lower() for e in analytics.errors)
    finally:
        await analytics.nc.close()
        await ingest.nc.close()


async def test_fanout_asks_ingest_to_flush_a_recording_and_ingest_may_answer(
        secured: tuple[EmbeddedNats, dict[str, str]]) -> None:
    urls = secured[1]
    ingest = await Watched().connect(urls["ingest"])
    fanout = await Watched().connect(urls["fanout"])
    try:
        async def answer(msg: Msg) -> None:
            await msg.respond(b'{"end_ns": 1}')

        await ingest.nc.subscribe("recording.flush.*", cb=answer)
        await ingest.nc.flush()
        reply = await fanout.nc.request("recording.flush.court-1", b"", timeout=5)
        assert reply.data == b'{"end_ns": 1}'
        assert ingest.errors == fanout.errors == []
    finally:
        await ingest.nc.close()
        await fanout.nc.close()


def test_per_service_users_are_refused_with_an_external_server() -> None:
    from courtside.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match="nats: per_service_users configures the embedded server"):
        parse_config({"nats": {"url": "nats://127.0.0.1:4222", "per_service_users": True}}, "<t>", environ={})
    assert parse_config({"nats": {"per_service_users": True}}, "<t>", environ={}).nats.per_service_users


async def test_courtside_nats_prints_one_url_per_service_user(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    path = tmp_path / "nats.yaml"
    path.write_text("nats: {per_service_users: true}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURTSIDE_")}
    proc = subprocess.Popen([sys.executable, "-m", "courtside", "nats", "-c", str(path)], env=env,  # noqa: ASYNC220
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [await asyncio.to_thread(proc.stdout.readline) for _ in range(4)]
        urls = dict(line.split() for line in lines)
        assert set(urls) == {"ingest", "inference", "fanout", "analytics"}
        consumer = await Watched().connect(urls["inference"])
        await consumer.nc.publish("frames.court-1", b"forged")
        await consumer.nc.flush()
        async with asyncio.timeout(5):
            while not consumer.errors:  # noqa: ASYNC110 - the server's error arrives asynchronously
                await asyncio.sleep(0.02)
        assert "permissions violation" in consumer.errors[0].lower()
        await consumer.nc.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 10) == 0


async def test_a_consumer_may_not_delete_a_stream_nor_read_one_it_has_no_business_with(
        secured: tuple[EmbeddedNats, dict[str, str]]) -> None:
    """Narrow JetStream API rights: inference creates ANNOTATIONS (its own stream) but may not delete
    it, nor open a consumer on CLIPS (the archiver's) or read segment objects; fanout may."""
    from courtside_contracts.streams import ANNOTATIONS, CLIPS
    from nats.errors import NoRespondersError
    from nats.errors import TimeoutError as NatsTimeout
    from nats.js.errors import APIError

    from courtside.natsio import ensure_stream

    urls = secured[1]
    consumer = await Watched().connect(urls["inference"])
    fanout = await Watched().connect(urls["fanout"])
    try:
        await ensure_stream(consumer.nc, ANNOTATIONS)  # its own stream: allowed
        await ensure_stream(fanout.nc, CLIPS)
        cjs = consumer.nc.jetstream(timeout=1.5)
        refused = (NatsTimeout, NoRespondersError, APIError, asyncio.TimeoutError)
        with pytest.raises(refused):
            await cjs.delete_stream(ANNOTATIONS.name)
        with pytest.raises(refused):
            await cjs.pull_subscribe("clips.*", durable="snoop", stream=CLIPS.name)
        with pytest.raises(refused):
            await cjs.stream_info(CLIPS.name)
        await asyncio.sleep(0.3)
        assert any('permissions violation for publish to "$js.api.stream.delete.annotations"' in e.lower()
                   for e in consumer.errors), consumer.errors
        assert any("$js.api.stream.info.clips" in e.lower() or "$js.api.consumer" in e.lower()
                   for e in consumer.errors), consumer.errors
        fjs = fanout.nc.jetstream(timeout=5)
        assert (await fjs.stream_info(ANNOTATIONS.name)).config.name == ANNOTATIONS.name  # still there
        sub = await fjs.pull_subscribe("clips.*", durable="archiver-test", stream=CLIPS.name)
        await sub.unsubscribe()
        assert fanout.errors == []
    finally:
        await consumer.nc.close()
        await fanout.nc.close()


async def test_the_streams_job_user_creates_every_stream_and_nothing_else(tmp_path: Path) -> None:
    """The Kubernetes Job nats-streams connects as ``streams`` (deploy/k8s/base/nats/nats.conf): with only
    its JetStream rights, replicate_streams.py creates every stream and bucket; it may not delete one."""
    import importlib.util

    from courtside.nats_users import STREAMS_ADMIN, STREAMS_ADMIN_PERMISSIONS, NatsUser, permissions_conf

    repo = REPO
    conf = (repo / "deploy" / "k8s" / "base" / "nats" / "nats.conf").read_text()
    assert (f"{{user: {STREAMS_ADMIN}, password: $NATS_STREAMS_PASSWORD, "
            f"permissions: {permissions_conf(STREAMS_ADMIN_PERMISSIONS)}}}") in conf
    spec = importlib.util.spec_from_file_location("replicate_streams",
                                                  repo / "deploy" / "k8s" / "base" / "nats" / "replicate_streams.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    admin = NatsUser(STREAMS_ADMIN, "pw-streams", STREAMS_ADMIN_PERMISSIONS)
    with EmbeddedNats(users={STREAMS_ADMIN: admin}) as server:
        url = user_url(server.url, admin)
        lines = await asyncio.wait_for(script.replicate(url, 1, 64 * 1024 * 1024, leader_wait_s=10), 60)
        assert len(lines) == 4 and all("1 replicas" in line for line in lines), lines
        watched = await Watched().connect(url)
        try:
            with pytest.raises((nats.errors.Error, asyncio.TimeoutError)):
                await watched.nc.jetstream(timeout=1.5).delete_stream("CLIPS")
        finally:
            await watched.nc.close()
