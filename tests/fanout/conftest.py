"""Fixtures of the fanout tests: a real fanout (uvicorn on a free loopback port) on the real NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from courtside.nats_server import EmbeddedNats
from fanout.testing import QUICK_LIMITS, RunningFanout, config_with, running_fanout


@pytest.fixture
async def fanout(nats_server: EmbeddedNats) -> AsyncIterator[RunningFanout]:
    async with running_fanout(config_with(), nats_server.url, limits=QUICK_LIMITS) as running:
        yield running
