"""Rally clips and highlights against a real fanout, nats-server and a local archive filled by the real
recording path: the rallies the analytics find in a simulated match (pure CameraAnalytics on the
simulator's annotations, their times moved onto the recording) are published on ``analytics.cam-0``;
fanout saves each as a clip (checked with ffprobe) and ``/api/highlights`` ranks them."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import httpx
from courtside_client.replay import ReplayClient
from courtside_contracts.analytics import AnalyticsMessage, CalibrationInfo, RallyStats
from courtside_contracts.subjects import analytics_subject
from nats.aio.client import Client as NATS

from analytics.calibrated import solve
from analytics.camera_analytics import CameraAnalytics
from courtside.nats_server import EmbeddedNats
from fanout.highlights import rank
from tests.analytics import sim_annotations as sa
from tests.fanout.test_replay_api import OTHER, READER, ffprobe, replay_setup


def simulated_rallies() -> list[RallyStats]:
    """The first rallies the analytics find in simulated play, times relative to the first frame (ns)."""
    state = CameraAnalytics("cam-0", solve(sa.clicks(sa.camera(), "cam-0"), 1), "people", "ball")
    out = []
    for f in sa.frames(1, 420, "cam-0", "people", "ball"):
        for ann in (f.players, f.ball):
            for m in state.feed(ann):
                if m.finished_rally is not None:
                    r = m.finished_rally
                    out.append(dataclasses.replace(r, start_ts=r.start_ts - sa.BASE_TS, end_ts=r.end_ts - sa.BASE_TS))
    return out


async def wait_highlights(http: httpx.AsyncClient, n: int, rank_by: str = "longest") -> list[dict[str, object]]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        reply = await http.get("/api/highlights", params={"camera": "cam-0", "rank": rank_by})
        assert reply.status_code == 200, reply.text
        found: list[dict[str, object]] = reply.json()["highlights"]
        if len(found) >= n:
            return found
        await asyncio.sleep(0.3)
    raise AssertionError(f"fewer than {n} rally clips saved")


async def test_rallies_saved_as_clips_and_ranked(tmp_path: Path, nats_server: EmbeddedNats, nc: NATS) -> None:
    rallies = simulated_rallies()
    assert len(rallies) >= 2, rallies
    rallies = rallies[:2]
    async with replay_setup(tmp_path, nats_server.url, nc) as http:
        base = time.time_ns() + 1_000_000_000  # the recording runs from before now
        moved = [dataclasses.replace(r, start_ts=r.start_ts + base, end_ts=r.end_ts + base) for r in rallies]
        info = CalibrationInfo(1, "pose", 0.3)
        for k, r in enumerate(moved):
            # published once the rally has been played
            await asyncio.sleep(max(0.0, (r.end_ts + 200_000_000 - time.time_ns()) / 1e9))
            await nc.publish(analytics_subject("cam-0"),
                             AnalyticsMessage("cam-0", 1000 + k, r.end_ts, info, finished_rally=r).to_json())
        found = await wait_highlights(http, 2)
        by_len = sorted(moved, key=lambda r: -r.duration_s)
        assert [h["rally"]["start_ts"] for h in found] == [r.start_ts for r in by_len]  # type: ignore[index]
        by_shots = await wait_highlights(http, 2, "shots")
        sdk = ReplayClient(str(http.base_url).rstrip("/"), token=READER)
        assert await asyncio.to_thread(sdk.highlights, "cam-0", rank="shots") == by_shots  # the Python SDK
        assert await asyncio.to_thread(sdk.highlights, "cam-0", rank="fastest", limit=1, start_ns=0) == \
            sorted(found, key=lambda h: -h["rally"]["fastest_mps"])[:1]  # type: ignore[index]
        assert [h["rally"]["shots"] for h in by_shots] == sorted((r.shots for r in moved), reverse=True)  # type: ignore[index]
        for h, r in zip(found, by_len, strict=True):
            assert h["rally"] == r.to_dict()
            assert int(h["start_ns"]) <= r.start_ts and int(h["end_ns"]) >= r.end_ts - 40_000_000  # type: ignore[call-overload]
            video = await http.get(str(h["url"]), params={"direct": "1"})
            assert video.status_code == 200
            (tmp_path / "rally.mp4").write_bytes(video.content)
            probe = ffprobe(tmp_path / "rally.mp4")
            assert probe["codec_name"] == "h264"
            assert float(probe["duration"]) >= r.duration_s - 0.1  # the whole rally plays
        # Bad parameters and grants.
        bad = [({"camera": "cam-0", "rank": "loudest"}, {}, 422),
               ({"camera": "cam-0", "start": 5, "end": 5}, {}, 400),
               ({"camera": "nope"}, {}, 404),
               ({"camera": "../x"}, {}, 422),
               ({"camera": "cam-0"}, {"Authorization": f"Bearer {OTHER}"}, 403),
               ({"camera": "cam-0"}, {"Authorization": "Bearer wrong-token-0123456789"}, 401)]
        for params, headers, status in bad:
            reply = await http.get("/api/highlights", params=params, headers=headers)
            assert reply.status_code == status, (params, reply.text)


def test_rank_is_by_stat_then_time_and_in_period() -> None:
    def clip(start: int, duration: float, fastest: float, shots: int) -> dict[str, object]:
        return {"id": f"c{start}", "rally": {"start_ts": start, "duration_s": duration, "fastest_mps": fastest,
                                             "shots": shots}}

    clips = [clip(10, 5.0, 20.0, 3), clip(20, 9.0, 15.0, 7), clip(30, 5.0, 31.0, 7), {"id": "plain"}]
    assert [c["id"] for c in rank(clips, "longest", 0, 100, 10)] == ["c20", "c10", "c30"]
    assert [c["id"] for c in rank(clips, "fastest", 0, 100, 10)] == ["c30", "c10", "c20"]
    assert [c["id"] for c in rank(clips, "shots", 0, 100, 1)] == ["c20"]
    assert [c["id"] for c in rank(clips, "shots", 15, 30, 10)] == ["c20"]
    try:
        rank(clips, "loudest", 0, 100, 10)
    except ValueError as exc:
        assert "longest" in str(exc)
    else:
        raise AssertionError("an unknown ranking was accepted")
