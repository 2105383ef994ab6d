"""A service's NATS connection through a server restart: reconnects by itself, and logs one
line per state change (not one per failed attempt). The embedded server's restart keeps its
port and its JetStream store."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import pytest

from courtside.nats_server import EmbeddedNats
from courtside.natsio import connect


@pytest.mark.timeout(60)
async def test_reconnects_after_a_restart_with_one_line_per_state_change(caplog: pytest.LogCaptureFixture) -> None:
    server = EmbeddedNats()
    url = server.start()
    try:
        client = await connect(url, "svc")
        js = client.jetstream()
        await js.add_stream(name="KEEP", subjects=["keep.>"])
        await js.publish("keep.a", b"1")
        with caplog.at_level(logging.DEBUG, logger="courtside.natsio"):
            assert server.pid is not None
            os.kill(server.pid, signal.SIGKILL)
            async with asyncio.timeout(10):
                while server.poll() is None:  # noqa: ASYNC110 - the process's exit
                    await asyncio.sleep(0.01)
            await asyncio.sleep(2.5)  # ~5 failed attempts, one every 0.5 s
            assert await asyncio.to_thread(server.restart) == url, "the restart moved the port"
            async with asyncio.timeout(10):
                while not client.is_connected:  # noqa: ASYNC110 - nats-py's own reconnect
                    await asyncio.sleep(0.02)
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert sum("unreachable" in w for w in warnings) == 1, warnings
        assert len(warnings) <= 3, warnings  # the drop (EOF), disconnected, unreachable
        attempts = [r.getMessage() for r in caplog.records if "reconnected to NATS after" in r.getMessage()]
        assert len(attempts) == 1 and "failed attempt(s)" in attempts[0]
        info = await js.stream_info("KEEP")  # the store came back with the server
        assert info.state.messages == 1
        await client.close()
    finally:
        server.stop()


def test_restart_needs_a_server_started_before_and_stopped() -> None:
    from courtside.nats_server import NatsServerError

    server = EmbeddedNats()
    with pytest.raises(NatsServerError, match="needs a server started before"):
        server.restart()
    with server:
        with pytest.raises(NatsServerError, match="still running"):
            server.restart()
