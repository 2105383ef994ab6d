"""The NATS configs of compose and Kubernetes give each service user the subject permissions of
courtside/nats_users.py (the ones ``courtside up`` enforces), and a real nats-server run from
deploy/nats/nats.conf enforces them: the inference user cannot publish a frame."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from courtside.nats_server import nats_server_binary
from courtside.nats_users import PERMISSIONS, permissions_conf
from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
CONFS = [REPO / "deploy" / "nats" / "nats.conf", REPO / "deploy" / "k8s" / "base" / "nats" / "nats.conf"]
USERS = ("ingest", "inference", "fanout", "analytics")


@pytest.mark.parametrize("conf", CONFS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_service_user_has_the_permissions_of_courtside_up(conf: Path) -> None:
    lines = [line.strip() for line in conf.read_text(encoding="utf-8").splitlines()]
    users = [line for line in lines if line.startswith("{user: ") and not line.startswith("{user: streams,")]
    assert len(users) == len(USERS), users  # besides the Job nats-streams' user (k8s; tests/courtside/test_nats_users.py)
    for name in USERS:
        expected = (f"{{user: {name}, password: $NATS_{name.upper()}_PASSWORD, "
                    f"permissions: {permissions_conf(PERMISSIONS[name])}}}")
        assert expected in lines, f"{conf.name}: {name} lacks its permissions (courtside/nats_users.py)"


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            return sock.recv(4).startswith(b"INFO")
    except OSError:
        return False


@pytest.fixture
def compose_nats(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    env = {"NATS_SERVER_NAME": "test", "NATS_STORE_DIR": str(tmp_path / "js"), "PATH": "",
           **{f"NATS_{u.upper()}_PASSWORD": f"pw-{u}" for u in USERS}}
    proc = subprocess.Popen([str(nats_server_binary()), "-c", str(CONFS[0]), "-a", "127.0.0.1", "-p", str(port),
                             "-m", str(free_port())], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not _accepts(port):
            assert proc.poll() is None and time.monotonic() < deadline, "nats-server did not start"
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def _client(port: int, user: str, errors: list[str]) -> NATS:
    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    nc = NATS()
    await nc.connect(f"nats://{user}:pw-{user}@127.0.0.1:{port}", error_cb=on_error, allow_reconnect=False)
    return nc


@pytest.mark.timeout(30)
async def test_the_compose_server_refuses_a_frame_from_the_inference_user(compose_nats: int) -> None:
    seen: list[bytes] = []
    consumer_errors: list[str] = []
    other_errors: list[str] = []

    async def on_frame(msg: Msg) -> None:
        seen.append(msg.data)

    fanout = await _client(compose_nats, "fanout", other_errors)
    consumer = await _client(compose_nats, "inference", consumer_errors)
    ingest = await _client(compose_nats, "ingest", other_errors)
    try:
        await fanout.subscribe("frames.*", cb=on_frame)
        await fanout.flush()
        await consumer.publish("frames.court-1", b"forged")
        await ingest.publish("frames.court-1", b"real")
        await consumer.flush()
        await ingest.flush()
        try:
            async with asyncio.timeout(5):
                while not (seen and consumer_errors):  # noqa: ASYNC110 - messages and errors arrive async
                    await asyncio.sleep(0.02)
        except TimeoutError:  # once in a fresh-clone run (2026-12-04): say which of the two never came
            pytest.fail(f"after 5 s: frames seen {seen}, the inference user's errors {consumer_errors}, "
                        f"others' errors {other_errors}, consumer connected {consumer.is_connected}")
        await asyncio.sleep(0.3)
        assert seen == [b"real"]
        assert 'permissions violation for publish to "frames.court-1"' in consumer_errors[0].lower()
        assert other_errors == []
    finally:
        for nc in (fanout, consumer, ingest):
            await nc.close()
