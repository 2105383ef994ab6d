"""The browser SDK (web/sdk/courtside.js) in real Chromium against a live fanout, and its .d.ts."""

from __future__ import annotations

import asyncio
import base64
import re
from pathlib import Path
from typing import Any

import pytest
from courtside_contracts.ws import VideoHeader, pack_video
from nats.aio.client import Client as NATS
from playwright.async_api import Browser, Page

from courtside.config import CourtsideConfig
from fanout.limits import Limits
from fanout.testing import (
    free_port,
    make_annotation,
    make_jpeg,
    publish_annotation,
    publish_frame,
    running_fanout,
)

WEB = Path(__file__).resolve().parents[2] / "web"
LIMITS = Limits(status_interval_s=0.5, shutdown_timeout_s=2)
TOKEN = "js-sdk-token-0123456789abcdef"  # noqa: S105 - a test token

SETUP = """async ([url, token]) => {
  const sdk = await import('/static/sdk/courtside.js');
  const ev = window.ev = {subscribed: 0, annotations: [], video: [], errors: [], opens: [], closes: 0, status: 0};
  const c = window.client = new sdk.CourtsideClient(
    {url, token, minBackoffMs: 50, maxBackoffMs: 300, cameras: ['c1'], video: 'jpeg'});
  c.on('open', (d) => ev.opens.push(d.protocol));
  c.on('subscribed', () => ev.subscribed++);
  c.on('annotation', (a) => ev.annotations.push(a.seq));
  c.on('video', (f) => ev.video.push({camera: f.camera, seq: f.seq, w: f.width, h: f.height,
                                        soi: [f.jpeg[0], f.jpeg[1]], type: f.blob().type}));
  c.on('status', () => ev.status++);
  c.on('error', (e) => ev.errors.push(e.code));
  c.on('close', () => ev.closes++);
  c.connect();
}"""


def config(port: int) -> CourtsideConfig:
    return CourtsideConfig.model_validate({
        "fanout": {"port": port},
        "auth": {"enabled": True, "tokens": [{"token": TOKEN, "scope": "viewer", "cameras": ["c1"]}]}})


async def feed(nc: NATS) -> None:
    jpeg = make_jpeg(160, 90)
    seq = 0
    while True:
        seq += 1
        meta = await publish_frame(nc, "c1", seq, jpeg, width=160, height=90)
        await publish_annotation(nc, make_annotation("c1", "yolo", seq, ts=meta.ts))
        await publish_annotation(nc, make_annotation("c2", "yolo", seq, ts=meta.ts))
        await asyncio.sleep(1 / 30)


async def until(page: Page, expression: str, timeout_s: float = 10) -> None:
    await page.wait_for_function(expression, timeout=timeout_s * 1000)


@pytest.mark.browser
async def test_js_sdk_streams_reconnects_and_resubscribes(browser: Browser, nats_server: Any, nc: NATS) -> None:
    port = free_port()
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    feeder = asyncio.create_task(feed(nc))
    try:
        async with running_fanout(config(port), nats_server.url, limits=LIMITS) as running:
            await page.goto(f"{running.http_url}/healthz")
            await page.evaluate(SETUP, [running.ws_url, TOKEN])
            await until(page, "ev.annotations.length >= 5 && ev.video.length >= 2 && ev.status >= 1")
            before = await page.evaluate("Math.max(...ev.annotations)")
        await until(page, "ev.closes >= 1")  # fanout is gone; the SDK is retrying
        async with running_fanout(config(port), nats_server.url, limits=LIMITS):
            await until(page, f"ev.subscribed === 2 && ev.annotations.some((s) => s > {before} + 1)")
            await page.evaluate("client.subscribe({cameras: ['c2']})")  # outside the token's grant
            await until(page, "ev.errors.includes('forbidden')")
        ev = await page.evaluate("ev")
    finally:
        feeder.cancel()
    assert ev["opens"] == ["courtside.v1", "courtside.v1"]  # the bearer subprotocol is never echoed
    assert await page.evaluate("client.connects") == 2
    frame = ev["video"][0]
    assert (frame["camera"], frame["w"], frame["h"], frame["soi"], frame["type"]) == ("c1", 160, 90, [255, 216],
                                                                                     "image/jpeg")
    assert errors == []


@pytest.mark.browser
async def test_js_unpack_video_matches_the_python_packer(browser: Browser, nats_server: Any) -> None:
    packed = pack_video(VideoHeader("court-7", 2**40 + 3, 1_795_000_000_123_456_789, 1280, 720), b"\xff\xd8JPEG")
    async with running_fanout(config(0), nats_server.url, limits=LIMITS) as running:
        page = await browser.new_page()
        await page.goto(f"{running.http_url}/healthz")
        out = await page.evaluate("""async (b64) => {
          const sdk = await import('/static/sdk/courtside.js');
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const f = sdk.unpackVideo(bytes.buffer);
          let truncated = null;
          try { sdk.unpackVideo(bytes.slice(0, 10).buffer); } catch (e) { truncated = String(e); }
          const delays = [...Array(12).keys()].map((i) => sdk.backoffDelay(i, 200, 5000));
          return {camera: f.camera, seq: f.seq, ts: f.ts, w: f.width, h: f.height, jpeg: [...f.jpeg], truncated,
                  delays};
        }""", base64.b64encode(packed).decode())
    assert (out["camera"], out["seq"], out["w"], out["h"]) == ("court-7", 2**40 + 3, 1280, 720)
    assert abs(out["ts"] - 1_795_000_000_123_456_789) < 1000  # a JS Number: ~256 ns precision
    assert bytes(out["jpeg"]) == b"\xff\xd8JPEG" and "truncated" in out["truncated"]
    assert all(100 <= d <= 5000 for d in out["delays"]) and out["delays"][-1] >= 2500


def _interface(dts: str, name: str) -> set[str]:
    body = re.search(rf"export interface {name} (?:extends \w+ )?\{{(.*?)\n\}}", dts, re.S)
    assert body, name
    return set(re.findall(r"^\s{2}(\w+)\??:", body.group(1), re.M))


def test_dts_mirrors_the_contract() -> None:
    dts = (WEB / "sdk" / "courtside.d.ts").read_text()
    ann = make_annotation("c", "m", 1, keypoints=True, ball=(1, 2), trained_on="x").to_dict()
    assert _interface(dts, "Annotation") == set(ann)
    assert _interface(dts, "DetectedObject") == set(ann["objects"][0])
    assert _interface(dts, "Ball") == set(ann["ball"])
    assert _interface(dts, "VideoFrame") >= set(VideoHeader.__dataclass_fields__)
    assert _interface(dts, "Subscription") == {"cameras", "models", "video"}
