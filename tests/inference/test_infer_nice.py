"""``models[].nice``: ``courtside infer`` lowers its own priority before any thread starts.

Linux niceness belongs to each thread and a new thread inherits its creator's, so the
setting only holds if it is applied before the model, NATS and HTTP threads exist: every
thread of a real ``courtside infer`` process (a ``brightest`` model against a real
nats-server) is read from ``/proc`` once it reports ready.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from infer_support import spawn_ready_infer
from nats.aio.client import Client as NATS
from pydantic import ValidationError

from courtside import process
from courtside.config import ModelConfig
from courtside.nats_server import EmbeddedNats


def thread_nices(pid: int) -> dict[str, int]:
    """Thread name -> niceness, for every thread of ``pid`` (``/proc/<pid>/task/<tid>/stat``)."""
    nices: dict[str, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        stat = (task / "stat").read_text()
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        nices[f"{name}/{task.name}"] = int(fields[16])  # field 19 of stat; fields[0] is field 3
    return nices


def test_nice_is_bounded_like_the_kernel_s() -> None:
    assert ModelConfig(name="m", nice=19).nice == 19
    for bad in (-1, 20):
        with pytest.raises(ValidationError, match="nice"):
            ModelConfig(name="m", nice=bad)


async def test_every_thread_of_the_consumer_runs_at_the_configured_niceness(nats_server: EmbeddedNats, nc: NATS,
                                                                            tmp_path: Path) -> None:
    config = tmp_path / "nice.yaml"
    config.write_text(json.dumps({"models": [{"name": "bright", "backend": "brightest", "nice": 7}]}))
    child = await spawn_ready_infer(nc, nats_server.url, config, "bright", stderr=subprocess.DEVNULL)
    try:
        nices = thread_nices(child.pid)
    finally:
        process.stop(child, "nice consumer")
    want = min(19, os.nice(0) + 7)
    assert len(nices) >= 3, nices  # main, the model's worker and more: all started after the setting
    assert set(nices.values()) == {want}, nices
