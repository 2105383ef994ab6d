from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

import nats
import pytest

from courtside.nats_server import EmbeddedNats, NatsServerError, nats_server_binary
from tests.support.procs import alive


def test_binary_comes_from_this_environment() -> None:
    assert str(nats_server_binary()).startswith(os.path.dirname(sys.executable))


async def test_embedded_server_starts_with_jetstream_and_stops() -> None:
    server = EmbeddedNats()
    url = server.start()
    pid = server.pid
    assert pid is not None and url.startswith("nats://127.0.0.1:")
    try:
        nc = await nats.connect(url)
        js = nc.jetstream()
        await js.add_stream(name="T", subjects=["t.>"])
        ack = await js.publish("t.x", b"hello")
        assert ack.seq == 1
        await nc.close()
    finally:
        server.stop()
    assert not alive(pid)


async def test_two_servers_get_distinct_ports() -> None:
    with EmbeddedNats() as a, EmbeddedNats() as b:
        assert a.port != b.port
        await asyncio.sleep(0)


def test_server_dies_with_its_parent_even_on_sigkill() -> None:
    code = textwrap.dedent("""
        import sys, time
        from courtside.nats_server import EmbeddedNats
        s = EmbeddedNats(); s.start(); print(s.pid, flush=True); time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    assert alive(child_pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child_pid), "nats-server outlived its killed parent"


async def test_deliberate_close_is_not_logged_as_a_disconnect(nats_server: EmbeddedNats, caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    from courtside.natsio import connect

    with caplog.at_level(logging.WARNING, logger="courtside.natsio"):
        client = await connect(nats_server.url, "svc")
        await client.close()
        await asyncio.sleep(0.1)
    assert "disconnected" not in caplog.text


def test_slow_consumer_drops_are_counted_and_logged_rarely(caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    from courtside.natsio import SlowConsumerLog

    slow = SlowConsumerLog("svc", interval_s=60)
    with caplog.at_level(logging.WARNING, logger="courtside.natsio"):
        for _ in range(500):
            slow.dropped("frames.c1")
    assert slow.total == 500
    assert caplog.text.count("falling behind") == 1


def test_a_failed_start_raises_the_server_error_and_leaves_nothing_behind() -> None:
    """nats-server refuses a max_payload above its max_pending (64 MiB) and exits at once."""
    server = EmbeddedNats(max_payload=128 * 1024 * 1024)
    with pytest.raises(NatsServerError, match=r"exited at start \(\d+\).*max_payload"):
        server.start()
    assert server.pid is None
