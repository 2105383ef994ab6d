"""Fixtures of the fanout tests: a real fanout (uvicorn on a free loopback port) on the real NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from courtside.config import CourtsideConfig
from courtside.nats_server import EmbeddedNats

from fanout.limits import Limits
from fanout.testing import RunningFanout, running_fanout

#: Short timers so that tests of idle/status behaviour take well under a second.
TEST_LIMITS = Limits(status_interval_s=0.2, subscribe_timeout_s=1.0, ping_interval_s=5, ping_timeout_s=5,
                     shutdown_timeout_s=2)


def fanout_config(**overrides: Any) -> CourtsideConfig:
    data: dict[str, Any] = {"fanout": {"port": 0}}
    for key, value in overrides.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return CourtsideConfig.model_validate(data)


@pytest.fixture
async def fanout(nats_server: EmbeddedNats) -> AsyncIterator[RunningFanout]:
    async with running_fanout(fanout_config(), nats_server.url, limits=TEST_LIMITS) as running:
        yield running
