"""The live page's calibrate mode in a real Chromium, over a real fanout, analytics service and nats-server:
the demo court's frames on screen, the simulator camera's true pixels of the court points clicked (one
placed wrong and dragged into place, one placed and removed), solved, the court redrawn, the error shown,
saved; the stored calibration matches the true camera. Four points on one line get a clear refusal."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import simplejpeg
from nats.aio.client import Client as NATS
from playwright.async_api import Browser, Page

from analytics.calibrated import solve
from analytics.calibration_store import CalibrationStore
from courtside.court.calibration import COURT_POINTS, floor_error_cm
from courtside.court.camera import Camera
from courtside.nats_server import EmbeddedNats
from fanout.testing import publish_frame
from ingest.demo_scene import demo_camera, render
from tests.fanout.test_calibration_proxy import CAM, READER, WRITER, calibration_setup

pytestmark = pytest.mark.browser
W, H = 1280, 720
COLLINEAR = ["near service line left end", "net left foot", "far service line left end", "far left corner"]


@contextlib.asynccontextmanager
async def demo_video(nc: NATS) -> AsyncIterator[None]:
    """The demo court's first frame, published on frames.<camera> 5 times a second like ingest would."""
    jpeg = bytes(simplejpeg.encode_jpeg(render(0.0, W, H).image, quality=85, colorspace="RGB"))

    async def feed() -> None:
        seq = 0
        while True:
            seq += 1
            await publish_frame(nc, CAM, seq, jpeg, width=W, height=H)
            await asyncio.sleep(0.2)

    task = asyncio.create_task(feed())
    try:
        yield
    finally:
        task.cancel()


def true_pixels(cam: Camera) -> dict[str, tuple[float, float]]:
    """The court points the true camera sees (3 px inside the image), its pixel of each."""
    names = list(COURT_POINTS)
    uv, _ = cam.project([COURT_POINTS[n] for n in names])
    seen = cam.in_view(uv, margin=3.0)
    return {n: (float(p[0]), float(p[1])) for n, p, s in zip(names, uv, seen, strict=True) if s}


async def to_client(page: Page, u: float, v: float) -> tuple[float, float]:
    """Image pixel -> client position on the overlay (object-fit: contain; (0, 0) = the centre of the
    top-left pixel), computed here from the overlay's box, independently of the page's code."""
    box = await page.locator(".calib-overlay").bounding_box()
    assert box is not None
    scale = min(box["width"] / W, box["height"] / H)
    left = box["x"] + (box["width"] - W * scale) / 2
    top = box["y"] + (box["height"] - H * scale) / 2
    return left + (u + 0.5) * scale, top + (v + 0.5) * scale


async def place(page: Page, name: str, u: float, v: float) -> None:
    """Pick ``name`` in the list and click its pixel, at whole CSS pixels as a mouse does (the display
    scale is about 0.73: up to 0.7 frame pixels off)."""
    await page.locator(f'.calib-point[data-name="{name}"] .calib-pick').click()
    x, y = (round(c) for c in await to_client(page, u, v))
    on_top = await page.evaluate("([x, y]) => document.elementFromPoint(x, y)?.className", [x, y])
    assert on_top == "calib-overlay", (name, on_top)  # nothing (bar, panel) hides the point
    await page.mouse.click(x, y)
    await page.wait_for_function(f"""document.querySelector('.calib-point[data-name="{name}"]')
                                     .classList.contains('placed')""", timeout=5000)


async def placed(page: Page) -> dict[str, list[float]]:
    result: dict[str, list[float]] = await page.evaluate(
        "Object.fromEntries(window.__courtside.calibration.state.placed)")
    return result


async def test_click_solve_save_matches_true_camera(browser: Browser, nats_server: EmbeddedNats, nc: NATS,
                                                    output_dir: Path) -> None:
    cam = demo_camera(W, H)
    truth = true_pixels(cam)
    assert len(truth) >= 12 and sum(COURT_POINTS[n][2] != 0 for n in truth) >= 2
    page = await browser.new_page(viewport={"width": 1600, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    async with calibration_setup(nats_server.url, nc, web=True) as http, demo_video(nc):
        await page.goto(f"{str(http.base_url).rstrip('/')}/?camera={CAM}#token={WRITER}")
        await page.wait_for_function("window.__courtside?.calibration && window.__courtside.view.framesDrawn > 0",
                                     timeout=15000)
        await page.locator("#calibrate").click()
        await page.wait_for_function("document.querySelectorAll('.calib-point').length === "
                                     f"{len(COURT_POINTS)}", timeout=10000)
        await page.wait_for_function("document.querySelector('.calib-message').textContent.includes('no stored')",
                                     timeout=10000)
        names = list(truth)
        # The first point placed 25 px off, then dragged onto its true pixel.
        first = names[0]
        u, v = truth[first]
        await place(page, first, u + 25, v + 15)
        await page.locator(f'.calib-point[data-name="{first}"] .calib-pick').click()  # picked again: dragged
        x0, y0 = await to_client(page, u + 25, v + 15)
        x1, y1 = await to_client(page, u, v)
        await page.mouse.move(round(x0), round(y0))
        await page.mouse.down()
        await page.mouse.move(round(x1), round(y1), steps=6)
        await page.mouse.up()
        dragged = (await placed(page))[first]
        assert abs(dragged[0] - u) < 1.0 and abs(dragged[1] - v) < 1.0, (dragged, (u, v))
        # A point outside the view placed by mistake, then removed.
        await place(page, "near left corner", 640.0, 500.0)
        await page.locator('.calib-point[data-name="near left corner"] .calib-remove').click()
        assert "near left corner" not in await placed(page)
        for name in names[1:]:
            await place(page, name, *truth[name])
        got = await placed(page)
        assert set(got) == set(truth)
        worst = max(abs(got[n][0] - truth[n][0]) + abs(got[n][1] - truth[n][1]) for n in truth)
        assert worst < 1.6, worst  # the page's mapping of clicks to frame pixels (whole CSS pixels)
        await page.locator(".calib-solve").click()
        await page.wait_for_function("document.querySelector('.calib-result').dataset.floorCm", timeout=15000)
        shown = await page.locator(".calib-result").text_content()
        floor_cm = float(await page.locator(".calib-result").get_attribute("data-floor-cm") or "nan")
        max_cm = float(await page.locator(".calib-result").get_attribute("data-floor-max-cm") or "nan")
        px = float(await page.locator(".calib-result").get_attribute("data-px") or "nan")
        assert shown is not None and "cm mean" in shown and "px mean" in shown and "not saved" in shown, shown
        assert floor_cm < 5.0 and px < 2.0, shown
        lines = await page.evaluate("window.__courtside.calibration.state.solved.lines.length")
        assert lines >= 7
        # The court lines are drawn over the video: the overlay has cyan pixels on the near service line.
        nu, nv = cam.project_point(0.0, 10.0 - 6.95 + 0.0, 0.0)[:2]
        lit = await page.evaluate(f"""(() => {{
            const c = document.querySelector('.calib-overlay'), d = c.getContext('2d');
            const a = d.getImageData({round(nu) - 40}, {round(nv) - 3}, 80, 7).data;
            let n = 0; for (let i = 0; i < a.length; i += 4) if (a[i + 2] > 200 && a[i] < 80 && a[i + 3] > 100) n++;
            return n; }})()""")
        assert lit > 20, lit
        await page.screenshot(path=str(output_dir / "calibrated.png"))
        await page.locator(".calib-save").click()
        await page.wait_for_function("document.querySelector('.calib-message').textContent.includes('revision 1')",
                                     timeout=15000)
        assert "revision 1" in (await page.locator(".calib-result").text_content() or "")
        found = await (await CalibrationStore.open(nc)).get(CAM)
        assert found is not None and found[1] == 1
        stored = solve(*found)
        assert stored.kind == "pose"
        grid_cm = floor_error_cm(stored.floor, cam, step_m=0.5)
        print(f"page: floor {floor_cm} cm mean (max {max_cm}), {px} px mean, clicks {worst:.2f} px off at worst; "
              f"stored vs true camera: {grid_cm:.2f} cm mean over the court grid (0.5 m steps)")
        assert grid_cm <= 5.0, grid_cm

        # A bad click set: four floor points on one line (the left wall).
        await page.locator(".calib-clear").click()
        assert await placed(page) == {}
        for name in COLLINEAR:
            await place(page, name, *truth[name])
        await page.locator(".calib-solve").click()
        await page.wait_for_function("document.querySelector('.calib-message').textContent.includes('cannot solve')",
                                     timeout=15000)
        text = await page.locator(".calib-message").text_content() or ""
        assert "one line" in text and await page.locator(".calib-message").get_attribute("data-kind") == "error", text
        assert await page.locator(".calib-save").is_disabled()
        assert (await page.locator(".calib-result").text_content() or "") == ""
        await page.screenshot(path=str(output_dir / "collinear.png"))
        # Three of them: too few for the floor.
        await page.locator(f'.calib-point[data-name="{COLLINEAR[0]}"] .calib-remove').click()
        await page.locator(".calib-solve").click()
        await page.wait_for_function("document.querySelector('.calib-message').textContent.includes('at least 4')",
                                     timeout=15000)
        assert await page.locator(".calib-save").is_disabled()
        # Reopened, the stored calibration comes back (revision 1, its points on the image).
        await page.locator(".calib-close").click()
        await page.locator("#calibrate").click()
        await page.wait_for_function("document.querySelector('.calib-message').textContent.includes('revision 1')",
                                     timeout=10000)
        assert set(await placed(page)) == set(truth)
        # A reader may look but not solve: the refusal's reason is shown.
        reader = await browser.new_page(viewport={"width": 1600, "height": 1000})
        reader.on("pageerror", lambda exc: errors.append(str(exc)))
        await reader.goto(f"{str(http.base_url).rstrip('/')}/?camera={CAM}#token={READER}")
        await reader.wait_for_function("window.__courtside?.calibration && window.__courtside.view.framesDrawn > 0",
                                       timeout=15000)
        await reader.locator("#calibrate").click()
        await reader.wait_for_function("document.querySelector('.calib-message').textContent.includes('revision 1')",
                                       timeout=10000)
        await reader.locator(".calib-solve").click()
        await reader.wait_for_function("document.querySelector('.calib-message').textContent.includes('write')",
                                       timeout=10000)
        assert "cannot solve" in (await reader.locator(".calib-message").text_content() or "")
    assert errors == []
