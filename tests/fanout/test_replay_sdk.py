"""The Python SDK's replay client and CLI against a real fanout with a recorded archive:
list with gaps, export with progress, downloads, a saved clip; errors carry the status."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from courtside_client.replay import ReplayClient, ReplayError
from courtside_client.replay_cli import main as replay_cli
from nats.aio.client import Client as NATS

from courtside.nats_server import EmbeddedNats
from tests.fanout.test_replay_api import OTHER, READER, WRITER, ffprobe, replay_setup, wait_recordings


async def test_sdk_lists_exports_downloads_and_saves(tmp_path: Path, nats_server: EmbeddedNats, nc: NATS,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    before = time.time_ns()
    async with replay_setup(tmp_path, nats_server.url, nc) as http:
        segs = await wait_recordings(http, before, 3)
        base = str(http.base_url).rstrip("/")
        client = ReplayClient(base, token=READER)
        items = await asyncio.to_thread(client.recordings, "cam-0", before - 10**9, segs[-1]["end_ns"])
        assert items[0]["kind"] == "gap" and [i["name"] for i in items if i["kind"] == "recording"][:3] == \
            [s["name"] for s in segs[:3]]
        seen: list[tuple[int, int | None]] = []
        dest = tmp_path / "out.mp4"
        headers = await asyncio.to_thread(client.export, "cam-0", segs[0]["start_ns"], segs[1]["end_ns"], dest,
                                          progress=lambda d, t: seen.append((d, t)))
        assert dest.stat().st_size == seen[-1][0] and headers["courtside-keyframe-aligned"] == "true"
        assert int(ffprobe(dest)["nb_read_frames"]) == int(headers["courtside-frames"])
        with pytest.raises(ReplayError) as denied:
            await asyncio.to_thread(ReplayClient(base, token=OTHER).recordings, "cam-0", before, time.time_ns())
        assert denied.value.status == 403
        clip = await asyncio.to_thread(ReplayClient(base, token=WRITER).save_clip, "cam-0",
                                       start_ns=segs[0]["start_ns"], end_ns=segs[1]["end_ns"])
        assert [c["id"] for c in await asyncio.to_thread(client.clips, "cam-0")] == [clip["id"]]
        # The CLI: list and download with a progress bar.
        monkeypatch.setenv("COURTSIDE_TOKEN", READER)
        args = ["--url", base, "--start", str(segs[0]["start_ns"]), "--end", str(segs[1]["end_ns"])]
        assert await asyncio.to_thread(replay_cli, ["list", "cam-0", *args]) == 0
        assert await asyncio.to_thread(replay_cli, ["download", "cam-0", *args, "--out", str(tmp_path / "dl")]) == 0
        out = capsys.readouterr()
        assert out.out.count("recording") >= 2 and "MB" in out.err
        assert (tmp_path / "dl" / segs[0]["name"]).read_bytes()[4:8] == b"ftyp"
        assert (tmp_path / "dl" / (segs[0]["name"].removesuffix(".mp4") + ".jsonl")).is_file()
