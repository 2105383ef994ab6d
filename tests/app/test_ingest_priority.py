"""Under `courtside up` ingest runs at a lower priority than the consumers (supervisor.INGEST_NICE)."""

from __future__ import annotations

import os
from pathlib import Path

from courtside import process
from courtside.app.children import ServiceLauncher
from courtside.app.supervisor import INGEST_NICE, build_children
from courtside.config import parse_config


def _niceness(pid: int) -> int:
    # /proc/<pid>/stat: field 19 is the nice value; the command name (field 2) may hold spaces.
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_spawn_adds_the_niceness_to_the_child_only() -> None:
    ours = os.nice(0)
    child = process.spawn(["sleep", "5"], nice=5)
    try:
        assert _niceness(child.pid) == min(ours + 5, 19)
        assert os.nice(0) == ours
    finally:
        child.kill()
        child.wait()


def test_ingest_is_started_nicer_than_every_other_service() -> None:
    config = parse_config({
        "cameras": [{"id": "court-1", "url": "demo://padel"}],
        "models": [{"name": "yolo", "backend": "ultralytics", "weights": "yolo11n.yaml", "cameras": ["court-1"]}],
    }, "<test>", environ={})
    children = build_children(config, None, None, "nats://127.0.0.1:1")
    nices = {c.name: c.launcher.nice for c in children if isinstance(c.launcher, ServiceLauncher)}
    assert nices.pop("ingest") == INGEST_NICE > 0
    assert nices and set(nices.values()) == {0}, nices
