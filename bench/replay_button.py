"""The live page's replay button: from the click to the saved clip playing on /replay.

One recording camera (a 30 fps H.264 file with a keyframe a second, 2 s segments of 0.5 s
fragments), a stand-in model annotating every frame (the archiver reads a segment's
annotations until every model answered past it), fanout with its local archive, and the
real live page in Chromium (Playwright, Debian's ``/usr/bin/chromium``). Each run clicks
``#replay`` on a freshly loaded live page; the page's own measure, from the click event's
time to the clip's first "playing" (``window.replayState.sinceClickMs``), is the figure
(the test driver's dispatch delay is left out; server and browser share this machine).

Server side the click flushes the open segment (at most one GOP to the next keyframe),
archives it, exports the last 30 s and saves the clip. The anchor is the goal itself: 2 s.
Runs are sequential on one recording, a few seconds apart. Last line:
``RESULT replay_button_s=<median seconds> anchor=2 ratio=<median/2>``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import nats
from courtside_contracts.headers import FrameMeta
from courtside_contracts.streams import ANNOTATIONS
from nats.aio.msg import Msg
from playwright.async_api import Browser, async_playwright

from bench.common import median, result_line
from courtside.config import parse_config
from courtside.nats_server import EmbeddedNats
from courtside.natsio import ensure_stream
from fanout.testing import QUICK_LIMITS, make_annotation, publish_annotation, running_fanout
from tests.archive.recording_harness import recording_ingest
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.support.media import make_h264_clip

GOAL_S = 2.0
#: Seconds recorded before the first click, and between clicks (each click saves the last 30 s).
SETTLE_S = 6.0


async def click_once(browser: Browser, url: str) -> tuple[float, float]:
    """(seconds from the click event to playing, by the page; seconds by the driver) for one click."""
    live = await browser.new_page()
    try:
        await live.goto(f"{url}/?camera=cam-0")
        await live.wait_for_function("window.__courtside && window.__courtside.camera === 'cam-0'", timeout=10_000)
        clicked = time.monotonic()
        await live.click("#replay")
        await live.wait_for_url("**/replay?*", timeout=20_000)
        await live.wait_for_function("window.replayState && (window.replayState.playing || window.replayState.error)",
                                     timeout=20_000)
        driver_s = time.monotonic() - clicked
        error = await live.evaluate("window.replayState.error")
        if error is not None:
            raise RuntimeError(f"the replay page failed: {error}")
        return await live.evaluate("window.replayState.sinceClickMs") / 1000, driver_s
    finally:
        await live.close()


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="courtside-replay-button-") as tmp, EmbeddedNats() as server:
        folder = Path(tmp)
        clip = make_h264_clip(folder / "clip.mp4", frames=300, fps=30)
        config = parse_config({
            "fanout": {"port": 0},
            "cameras": [{"id": "cam-0", "url": f"file://{clip}", "fps": 30, "max_side": 320}],
            "archive": {"kind": "local", "path": str(folder / "archive"), "segment_s": 2.0, "fragment_s": 0.5,
                        "spool_dir": str(folder / "spool"), "annotation_grace_s": 1.5},
        }, "<bench>", environ={})
        nc = await nats.connect(server.url)
        await ensure_stream(nc, ANNOTATIONS)

        async def annotate(msg: Msg) -> None:  # a model answering every frame
            meta = FrameMeta.from_headers(msg.headers)
            await publish_annotation(nc, make_annotation("cam-0", "boxes", meta.seq, ts=meta.ts, frame=(320, 180),
                                                         boxes=((20, 40, 50, 120),), track=False))

        await nc.subscribe("frames.cam-0", cb=annotate)
        page_s: list[float] = []
        async with (running_fanout(config, server.url, limits=QUICK_LIMITS) as fanout, recording_ingest(config, nc),
                    async_playwright() as pw):
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for run in range(runs):
                    await asyncio.sleep(SETTLE_S)
                    seconds, driver_s = await click_once(browser, fanout.http_url)
                    page_s.append(seconds)
                    print(f"run {run + 1}: playing {seconds:.2f} s after the click event "
                          f"({driver_s:.2f} s after the driver's click)", flush=True)
            finally:
                await browser.close()
        await nc.close()
    value = median(page_s)
    print(f"click -> playing: median {value:.2f} s, range {min(page_s):.2f}-{max(page_s):.2f} s over {runs} runs "
          f"(goal {GOAL_S:.0f} s)")
    print(result_line("replay_button_s", value, GOAL_S, value / GOAL_S))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
