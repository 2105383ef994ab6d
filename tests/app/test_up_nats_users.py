"""``courtside up`` with ``nats.per_service_users``: every child connects as its own user and the
whole pipeline works within its permissions (frames, annotations, heartbeats, recording,
archiving), with no permission violation logged; anonymous connections are refused."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import nats
import pytest

from tests.app.up_harness import running_up
from tests.support.media import make_h264_clip

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


async def test_up_runs_every_service_as_its_own_nats_user(tmp_path: Path) -> None:
    archive = {"kind": "local", "path": str(tmp_path / "archive"), "segment_s": 2.0, "fragment_s": 0.5,
               "spool_dir": str(tmp_path / "spool"), "annotation_grace_s": 0.2}
    clip = make_h264_clip(tmp_path / "clip.mp4", frames=90)
    async with running_up(tmp_path, clip=clip, extra={"nats": {"per_service_users": True},
                                                      "archive": archive}) as up:
        await up.wait_running()
        annotation = await up.annotation()
        assert annotation["camera"] == "cam-1"
        deadline = time.monotonic() + 60
        while len(list((tmp_path / "archive").rglob("*.mp4"))) < 2:  # recorded, shipped, archived
            assert time.monotonic() < deadline, f"nothing archived:\n{up.log_text()[-3000:]}"
            await asyncio.sleep(0.2)
        services = await up.services()
        assert all(s["state"] == "running" and s["restarts"] == 0 for s in services.values()), services
        text = up.log_text()
        assert "one user per service (ingest, inference, fanout, analytics), no anonymous access" in text
        port = re.search(r"embedded nats-server ready at nats://127\.0\.0\.1:(\d+)", text)
        assert port is not None
        with pytest.raises((nats.errors.Error, OSError)):
            await asyncio.wait_for(nats.connect(f"nats://127.0.0.1:{port.group(1)}", allow_reconnect=False,
                                                max_reconnect_attempts=0, connect_timeout=2), 10)
    text = up.log_text()
    assert "permissions violation" not in text.lower(), text[-3000:]
    assert "authorization violation" not in text.lower(), text[-3000:]
    assert "Traceback" not in text, text[-3000:]
