"""The live page's court minimap in a real Chromium: analytics messages from NATS through fanout are drawn
(a near player where its court metres say, the rally counter and the last rally's stats)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from courtside_contracts.analytics import (
    AnalyticsMessage,
    BallState,
    CalibrationInfo,
    PlayerState,
    RallyState,
    RallyStats,
)
from courtside_contracts.subjects import analytics_subject
from nats.aio.client import Client as NATS
from playwright.async_api import Browser

from fanout.testing import RunningFanout
from tests.web.test_overlay_page import close_to, fanout, live_feed, pixel  # noqa: F401 - fanout is a fixture

pytestmark = pytest.mark.browser
TS = 1_800_000_000_000_000_000
ZONES = {"net": 0.0, "transition": 0.0, "back": 2.0}


def _message(seq: int, finished: bool) -> AnalyticsMessage:
    return AnalyticsMessage(
        "court-1", seq, TS + seq, CalibrationInfo(1, "pose", 0.5),
        (PlayerState(1, "near", -2.5, 3.0, 2.0, 14.0, "back", ZONES),
         PlayerState(3, "far", 2.5, 17.0, 1.0, 9.0, "back", ZONES)),
        BallState(0.0, 8.0 + seq % 5, 1.0, 15.0, 0.4, "3d"), (),
        RallyState(not finished, None if finished else TS, 0 if finished else 2),
        RallyStats(TS, TS + 6_500_000_000, 5, 19.0, "double bounce") if finished else None)


async def test_minimap_draws_players_and_rally_stats(browser: Browser, fanout: RunningFanout,  # noqa: F811
                                                     nc: NATS, output_dir: Path) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 720})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{fanout.http_url}/?camera=court-1")
    async with live_feed(nc, ("court-1",)):
        await page.wait_for_function("window.__courtside && window.__courtside.minimap "
                                     "&& window.__courtside.view.framesDrawn > 2", timeout=15000)
        for seq in range(1, 20):
            await nc.publish(analytics_subject("court-1"), _message(seq, finished=seq == 10).to_json())
            await asyncio.sleep(0.02)
        await page.wait_for_function(
            "document.querySelector('.minimap-text').textContent.includes('last: 6.5 s, 5 shots')", timeout=10000)
        text = await page.locator(".minimap-text").inner_text()
        assert "rally 2 · 2 shots" in text and "#1 14 m · 2.0 m/s" in text and "ball 54 km/h" in text
        # The near player (x -2.5 m, y 3 m) is a blue dot: 12 px per metre, 8 px margin, near end at the bottom.
        u, v = 8 + int((-2.5 + 5) * 12), 8 + int((20 - 3.0) * 12)
        assert close_to(await pixel(page, u, v, ".minimap canvas"), (0x3F, 0xA9, 0xFF), 30)
        await page.screenshot(path=str(output_dir / "minimap.png"))
    assert errors == []
