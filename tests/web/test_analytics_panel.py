"""The live page's analytics panel (and the JS SDK's highlights) in a real Chromium, on a real fanout with recording and a local archive:
the heatmap toggle shades where the players stood, and "replay last rally" waits for the rally's clip (saved
by fanout from the finished_rally of a simulated match's analytics) and opens /replay on it."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pytest
from courtside_contracts.analytics import AnalyticsMessage, CalibrationInfo, PlayerState, RallyState
from courtside_contracts.subjects import analytics_subject
from nats.aio.client import Client as NATS
from playwright.async_api import Browser

from courtside.nats_server import EmbeddedNats
from tests.fanout.test_highlights_api import simulated_rallies
from tests.fanout.test_replay_api import READER, replay_setup
from tests.web.test_overlay_page import close_to, pixel

pytestmark = pytest.mark.browser
ZONES = {"net": 0.0, "transition": 0.0, "back": 2.0}


async def test_heatmap_and_replay_last_rally(browser: Browser, tmp_path: Path, nats_server: EmbeddedNats,
                                             nc: NATS, output_dir: Path) -> None:
    rally = simulated_rallies()[0]
    page = await browser.new_page(viewport={"width": 1280, "height": 720})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    async with replay_setup(tmp_path, nats_server.url, nc) as http:
        base = time.time_ns() + 500_000_000
        moved = dataclasses.replace(rally, start_ts=rally.start_ts + base, end_ts=rally.end_ts + base)
        await page.goto(f"{str(http.base_url).rstrip('/')}/?camera=cam-0#token={READER}")
        await page.wait_for_function("window.__courtside && window.__courtside.minimap", timeout=15000)
        info = CalibrationInfo(1, "pose", 0.4)
        for seq in range(1, 30):  # one player standing at x -2.5 m, y 3.5 m
            player = PlayerState(1, "near", -2.5, 3.5, 0.5, 1.0 + seq / 10, "back", ZONES)
            await nc.publish(analytics_subject("cam-0"), AnalyticsMessage(
                "cam-0", seq, moved.start_ts + seq, info, (player,), None, (), RallyState(True, moved.start_ts, 1)
            ).to_json())
        await page.wait_for_function(
            "document.querySelector('.minimap-text').textContent.includes('#1 4 m · 0.5 m/s')", timeout=10000)
        # The cell (x -3..-2, y 3..4): 12 px per metre, 8 px margin, near end at the bottom; its corner,
        # 7 px from the player's dot (radius 5).
        u, v = 8 + int((-3.0 + 5) * 12) + 1, 8 + int((20 - 4.0) * 12) + 1
        court = await pixel(page, u, v, ".minimap canvas")
        assert close_to(court, (0x2D, 0x5F, 0x8A), 10), court
        assert await page.locator(".minimap-replay").is_disabled()
        await page.locator(".minimap-heatmap").click()
        shaded = await pixel(page, u, v, ".minimap canvas")
        assert shaded[0] > 200 and shaded[2] < 80, shaded  # red over the court's blue
        await page.screenshot(path=str(output_dir / "heatmap.png"))
        # The rally ends: published once it has been played (the archive then holds it).
        await asyncio.sleep(max(0.0, (moved.end_ts + 200_000_000 - time.time_ns()) / 1e9))
        await nc.publish(analytics_subject("cam-0"), AnalyticsMessage(
            "cam-0", 100, moved.end_ts, info, (), None, (), RallyState(False, None, 0), moved).to_json())
        await page.wait_for_function("!document.querySelector('.minimap-replay').disabled", timeout=10000)
        await page.locator(".minimap-replay").click()
        try:
            await page.wait_for_url("**/replay?**", timeout=40000)
        except Exception:
            raise AssertionError(await page.locator(".minimap-replay").get_attribute("title")) from None
        query = dict(p.split("=", 1) for p in page.url.split("?", 1)[1].split("#")[0].split("&"))
        clips = (await http.get("/api/highlights", params={"camera": "cam-0"})).json()["highlights"]
        assert len(clips) == 1 and clips[0]["rally"] == moved.to_dict()
        assert query["camera"] == "cam-0" and query["play"] == "1"
        # The JS SDK's highlights() gives the same list (ids and stats).
        from_js = await page.evaluate(f"""async () => {{
            const {{ ReplayClient }} = await import('/static/sdk/replay.js');
            return (await new ReplayClient({{ token: '{READER}' }}).highlights('cam-0', {{ rank: 'shots' }}))
              .map((h) => [h.id, h.rally.shots, h.rally.reason]);
        }}""")
        assert from_js == [[c["id"], c["rally"]["shots"], c["rally"]["reason"]] for c in clips]
        # JSON numbers past 2^53 reach the page rounded (to 256 ns): the clip's range, to a microsecond.
        assert abs(int(query["start"]) - clips[0]["start_ns"]) < 1000
        assert abs(int(query["end"]) - clips[0]["end_ns"]) < 1000
    assert errors == []
