"""The live overlay and grid pages in a real Chromium, fed from real NATS through a real fanout."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as NATS
from playwright.async_api import Browser, Page

from courtside.config import CourtsideConfig
from fanout.limits import Limits
from fanout.testing import (
    RunningFanout,
    make_annotation,
    make_jpeg,
    publish_annotation,
    publish_frame,
    running_fanout,
)

pytestmark = pytest.mark.browser
BOX = (100.0, 80.0, 300.0, 300.0)
BACKGROUND = (40, 40, 40)


@pytest.fixture
async def fanout(nats_server: Any) -> AsyncIterator[RunningFanout]:
    config = CourtsideConfig.model_validate({"fanout": {"port": 0}})
    async with running_fanout(config, nats_server.url, limits=Limits(status_interval_s=0.5)) as running:
        yield running


@contextlib.asynccontextmanager
async def live_feed(nc: NATS, cameras: tuple[str, ...], fps: float = 15) -> AsyncIterator[None]:
    """Publish frames and (untrained) annotations of ``cameras`` like ingest + inference would."""
    jpeg = make_jpeg(640, 360, BACKGROUND)

    async def feed() -> None:
        seq = 0
        while True:
            seq += 1
            for cam in cameras:
                meta = await publish_frame(nc, cam, seq, jpeg)
                await publish_annotation(nc, make_annotation(cam, "yolo", seq, ts=meta.ts, boxes=(BOX,),
                                                             weights="untrained", keypoints=True))
                await publish_annotation(nc, make_annotation(cam, "ball", seq, ts=meta.ts, boxes=(),
                                                             ball=(400 + seq % 20 * 5, 200)))
            await asyncio.sleep(1 / fps)

    task = asyncio.create_task(feed())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def pixel(page: Page, x: int, y: int, canvas: str = "#view") -> list[int]:
    return await page.evaluate(
        """([sel, x, y]) => [...document.querySelector(sel).getContext('2d').getImageData(x, y, 1, 1).data]""",
        [canvas, x, y])


def hex_rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def close_to(rgba: list[int], rgb: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(rgba[:3], rgb, strict=True))


async def test_overlay_draws_video_boxes_and_the_untrained_banner(
        browser: Browser, fanout: RunningFanout, nc: NATS, output_dir: Path) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 720})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{fanout.http_url}/?camera=court-1")
    async with live_feed(nc, ("court-1",)):
        await page.wait_for_function("window.__courtside && window.__courtside.view.framesDrawn > 5", timeout=15000)
        await page.wait_for_function("!document.getElementById('banner').hidden", timeout=5000)
        color = await page.evaluate("import('/static/js/render.js').then(m => m.modelColor('yolo'))")
        x1, y1, x2, y2 = (int(v) for v in BOX)
        mid = (y1 + y2) // 2
        left, right, inside = (await pixel(page, x1, mid), await pixel(page, x2, mid),
                               await pixel(page, x1 + 12, y1 + 12))
        assert close_to(left, hex_rgb(color)), (left, color)
        assert close_to(right, hex_rgb(color)), (right, color)
        assert close_to(inside, BACKGROUND), inside  # the JPEG shows through inside the box
        assert await page.locator("#banner").is_visible()
        assert "untrained model — detections are not meaningful" in await page.locator("#banner").inner_text()
        await page.wait_for_function("document.getElementById('hud-stats').textContent.includes('e2e')")
        hud = await page.locator("#hud-stats").inner_text()
        assert "fps" in hud and "ms" in hud
        assert await page.locator("#models input[data-model=yolo]").is_checked()
        assert await page.locator("#camera").input_value() == "court-1"
        await page.screenshot(path=str(output_dir / "overlay-1280x720.png"))

        await page.locator("#models input[data-model=yolo]").uncheck()  # toggle the model off
        await page.wait_for_function(
            f"""(() => {{ const d = document.getElementById('view').getContext('2d')
                 .getImageData({x1}, {mid}, 1, 1).data; return d[0] < 80 && d[1] < 80 && d[2] < 80; }})()""",
            timeout=5000)

        for name, size in (("phone", {"width": 390, "height": 844}), ("tv", {"width": 1920, "height": 1080})):
            await page.set_viewport_size(size)
            box = await page.locator("#view").bounding_box()
            assert box is not None and abs(box["width"] - size["width"]) <= 1  # fills the screen
            await page.screenshot(path=str(output_dir / f"overlay-{name}.png"))
    assert errors == []


async def test_grid_shows_every_camera(browser: Browser, fanout: RunningFanout, nc: NATS, output_dir: Path) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 720})
    await page.goto(f"{fanout.http_url}/grid")
    async with live_feed(nc, ("court-1", "court-2")):
        await page.wait_for_function(
            "window.__courtside && window.__courtside.tiles.size === 2 && "
            "[...window.__courtside.tiles.values()].every(t => t.view.framesDrawn > 3)", timeout=15000)
        assert await page.locator(".tile").count() == 2
        assert await page.locator(".tile").first.get_attribute("href") == "/?camera=court-1"
        await page.screenshot(path=str(output_dir / "grid.png"))


async def test_frame_sync_joins_by_seq_with_latest_fallback(browser: Browser, fanout: RunningFanout) -> None:
    """web/js/frame_sync.js on plain data (the page's seq matching), in the browser that runs it."""
    page = await browser.new_page()
    await page.goto(f"{fanout.http_url}/healthz")
    out = await page.evaluate("""async () => {
      const { FrameSync, STALE_NS } = await import('/static/js/frame_sync.js');
      const sync = new FrameSync(3);
      const a = (model, seq, ts) => ({ model, seq, ts, objects: [] });
      sync.add(a('det', 10, 1000)); sync.add(a('det', 11, 2000)); sync.add(a('pose', 10, 1000));
      const pick = (seq, ts) => sync.forFrame(seq, ts).map((m) => [m.model, m.annotation.seq, m.exact]);
      const exact = pick(10, 1000);          // both models have seq 10
      const early = pick(12, 3000);          // frame before its annotations: latest of each model
      for (let s = 12; s < 16; s++) sync.add(a('det', s, s * 1000));
      const evicted = pick(10, 1000);        // det keeps 3 entries: seq 10 is gone -> latest (15)
      const stale = pick(99, 15000 + STALE_NS * 2);
      return { exact, early, evicted, stale };
    }""")
    assert out["exact"] == [["det", 10, True], ["pose", 10, True]]
    assert out["early"] == [["det", 11, False], ["pose", 10, False]]
    assert out["evicted"] == [["det", 15, False], ["pose", 10, True]]
    assert out["stale"] == []
