"""``courtside calibrate`` against a real nats-server: store clicked points, show them, refuse bad ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from courtside.nats_server import EmbeddedNats
from tests.analytics import sim_annotations as sa


def _run(server: EmbeddedNats, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COURTSIDE_NATS__URL": server.url, "COURTSIDE_LOG_LEVEL": "warning"}
    return subprocess.run([sys.executable, "-m", "courtside", "calibrate", *args], env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_store_show_and_refuse(tmp_path: Path) -> None:
    record = sa.clicks(sa.camera(), "court-1")
    good = tmp_path / "points.json"
    good.write_text(json.dumps({"width": record.width, "height": record.height,
                                "points": {n: list(uv) for n, uv in record.points.items()}}))
    few = tmp_path / "few.json"
    few.write_text(json.dumps({"width": 640, "height": 360, "points": dict(list(json.loads(good.read_text())
                                                                               ["points"].items())[:3])}))
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with EmbeddedNats() as server:
        assert _run(server, "court-1").returncode == 1  # nothing stored yet
        stored = _run(server, "court-1", str(good))
        assert stored.returncode == 0, stored.stderr
        assert "court-1: calibration revision 1 stored (pose" in stored.stdout
        shown = _run(server, "court-1")
        assert shown.returncode == 0 and json.loads(shown.stdout)["revision"] == 1
        for path, message in ((few, "needs at least 4"), (bad, "not JSON")):
            refused = _run(server, "court-1", str(path))
            assert refused.returncode == 2 and message in refused.stderr, refused.stderr
        assert json.loads(_run(server, "court-1").stdout)["revision"] == 1  # nothing stored by the refusals
