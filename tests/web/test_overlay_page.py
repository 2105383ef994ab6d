"""The live overlay and grid pages in a real Chromium, fed from real NATS through a real fanout."""

from __future__ import annotations

import asyncio
import contextlib
import re
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
        assert "untrained model yolo — detections are not meaningful" in await page.locator("#banner").inner_text()
        await page.wait_for_function("document.getElementById('hud-stats').textContent.includes('age')")
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
        # its drawings are gone, so is the banner (the trained ball model is still drawn)
        await page.wait_for_function("document.getElementById('banner').hidden", timeout=5000)

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


@contextlib.asynccontextmanager
async def lagging_feed(nc: NATS, lag_s: float, fps: float = 15) -> AsyncIterator[asyncio.Event]:
    """court-1 frames now, and a trained model's annotation of each frame ``lag_s`` later (its capture
    ``ts``, as a model that far behind publishes it). Setting the yielded event stops the annotations
    and keeps the video running."""
    jpeg = make_jpeg(640, 360, BACKGROUND)
    stop_annotations = asyncio.Event()

    async def feed() -> None:
        seq = 0
        behind: list[tuple[float, int, int]] = []  # (due monotonic s, seq, ts)
        loop = asyncio.get_running_loop()
        while True:
            seq += 1
            meta = await publish_frame(nc, "court-1", seq, jpeg)
            behind.append((loop.time() + lag_s, seq, meta.ts))
            while behind and behind[0][0] <= loop.time():
                _, s, ts = behind.pop(0)
                if not stop_annotations.is_set():
                    await publish_annotation(nc, make_annotation("court-1", "det", s, ts=ts, boxes=(BOX,)))
            await asyncio.sleep(1 / fps)

    task = asyncio.create_task(feed())
    try:
        yield stop_annotations
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


AGE_JS = """(() => { const m = document.getElementById('hud-stats').textContent.match(/age (\\d+) ms/);
                     return m ? Number(m[1]) : null; })()"""


async def test_latency_figure_is_the_age_of_the_annotation_drawn(browser: Browser, fanout: RunningFanout,
                                                                 nc: NATS) -> None:
    """The HUD's age is capture ts -> drawn of what is on screen: an annotation that arrives 0.8 s old
    reads >= 0.8 s, keeps ageing while it is still drawn on newer frames, and once nothing is drawn
    (older than FrameSync's 1.5 s), no age is shown at all."""
    lag = 0.8
    page = await browser.new_page(viewport={"width": 1280, "height": 720})
    await page.goto(f"{fanout.http_url}/?camera=court-1")
    async with lagging_feed(nc, lag) as stop_annotations:
        await page.wait_for_function(f"{AGE_JS} !== null", timeout=15000)
        ages = []
        for _ in range(8):
            ages.append(await page.evaluate(AGE_JS))
            await asyncio.sleep(0.25)
        # never younger than the lag; the slack is the frame interval plus a loaded machine's delays
        assert all(a is not None and lag * 1000 <= a <= lag * 1000 + 700 for a in ages), ages
        drawn = await page.evaluate("window.__courtside.view.drawn.map((d) => [d.model, d.weights])")
        assert drawn == [["det", "trained"]]
        assert await page.locator("#banner").is_hidden()  # a trained model's drawings: no banner

        stop_annotations.set()  # the model stops; its last annotation stays on screen, ageing
        later = []
        for _ in range(40):
            later.append(await page.evaluate(AGE_JS))
            if later[-1] is None:
                break
            await asyncio.sleep(0.1)
        shown = [a for a in later if a is not None]
        assert max(shown, default=0) > lag * 1000 + 400, later  # grew: the figure is read when drawn
        assert later[-1] is None, later  # nothing drawn any more -> no age figure
        assert "det:" in await page.locator("#hud-models").inner_text()


async def test_untrained_banner_only_over_an_untrained_models_drawings(
        browser: Browser, fanout: RunningFanout, nc: NATS) -> None:
    """court-1: untrained yolo boxes (banner, naming yolo) beside a trained ball; street-1: trained
    boxes only (no banner, on the overlay or over its grid tile); an untrained model that draws
    nothing raises no banner either."""
    jpeg = make_jpeg(640, 360, BACKGROUND)

    async def feed() -> None:
        seq = 0
        while True:
            seq += 1
            for cam in ("court-1", "street-1"):
                meta = await publish_frame(nc, cam, seq, jpeg)
                if cam == "court-1":
                    await publish_annotation(nc, make_annotation(cam, "yolo", seq, ts=meta.ts, boxes=(BOX,),
                                                                 weights="untrained"))
                    await publish_annotation(nc, make_annotation(cam, "ball", seq, ts=meta.ts, boxes=(),
                                                                 ball=(400, 200), trained_on="synthetic court"))
                else:
                    await publish_annotation(nc, make_annotation(cam, "people", seq, ts=meta.ts, boxes=(BOX,)))
                    await publish_annotation(nc, make_annotation(cam, "blank", seq, ts=meta.ts, boxes=(),
                                                                 weights="untrained"))
            await asyncio.sleep(1 / 15)

    task = asyncio.create_task(feed())
    try:
        street = await browser.new_page(viewport={"width": 1280, "height": 720})
        await street.goto(f"{fanout.http_url}/?camera=street-1")
        court = await browser.new_page(viewport={"width": 1280, "height": 720})
        await court.goto(f"{fanout.http_url}/?camera=court-1")
        grid = await browser.new_page(viewport={"width": 1280, "height": 720})
        await grid.goto(f"{fanout.http_url}/grid")

        await court.wait_for_function("!document.getElementById('banner').hidden", timeout=15000)
        assert "untrained model yolo —" in await court.locator("#banner").inner_text()
        await court.wait_for_function(
            "document.getElementById('hud-models').textContent.includes('(trained on synthetic court)')",
            timeout=10000)  # a trained model says what it was trained on
        await street.wait_for_function(
            "window.__courtside.view.drawn.length === 2 && window.__courtside.view.framesDrawn > 10", timeout=15000)
        for _ in range(8):  # stays hidden: people is trained, the untrained "blank" draws nothing
            assert await street.locator("#banner").is_hidden()
            await asyncio.sleep(0.15)
        hud = await street.locator("#hud-models").inner_text()
        assert re.search(r"blank: \w+ \d+ ms \(untrained\)", hud), hud  # said in the HUD, not over the video

        await grid.wait_for_function(
            "window.__courtside.tiles.size === 2 && [...window.__courtside.tiles.values()]"
            ".every(t => t.view.framesDrawn > 5)", timeout=15000)
        await grid.wait_for_function("!window.__courtside.tiles.get('court-1').banner.hidden", timeout=5000)
        assert await grid.locator(".tile[data-camera=court-1] .tile-banner").is_visible()
        assert await grid.locator(".tile[data-camera=street-1] .tile-banner").is_hidden()
        court_tile = await grid.locator(".tile[data-camera=court-1]").bounding_box()
        banner = await grid.locator(".tile[data-camera=court-1] .tile-banner").bounding_box()
        assert court_tile and banner  # over the court-1 tile, nowhere else
        assert court_tile["x"] <= banner["x"] and banner["x"] + banner["width"] <= court_tile["x"] + court_tile["width"]
        assert court_tile["y"] <= banner["y"] and banner["y"] + banner["height"] <= court_tile["y"] + court_tile["height"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
