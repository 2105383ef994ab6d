"""The /replay page in Chromium (Playwright, Debian's /usr/bin/chromium): a recorded segment
plays from the archive and the archived annotation of the frame on screen is drawn on it
(requestVideoFrameCallback mediaTime -> index -> seq), checked by canvas pixels at a known frame;
the court minimap shows the player of that frame's archived analytics message (fed up to the frame
on screen, again from the start after a seek back)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from courtside_contracts.analytics import AnalyticsMessage, CalibrationInfo, PlayerState
from courtside_contracts.headers import FrameMeta
from courtside_contracts.streams import ANNOTATIONS
from courtside_contracts.subjects import analytics_subject
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from playwright.async_api import Browser

from courtside.config import parse_config
from courtside.nats_server import EmbeddedNats
from courtside.natsio import ensure_stream
from fanout.testing import QUICK_LIMITS, make_annotation, publish_annotation, running_fanout
from tests.archive.recording_harness import recording_ingest
from tests.support.media import make_h264_clip

#: The published frame is 320x180; the recorded video 640x360 (the overlay scales by 2).
FRAME = (320, 180)


def box_x(seq: int) -> int:
    """Left edge (published-frame pixels) of the one box the test model reports for ``seq``."""
    return 20 + (seq % 8) * 35


def player_x(seq: int) -> float:
    """Court x (metres, -4..3) of the one player the test analytics report for ``seq`` (y: 3 m)."""
    return -4.0 + seq % 8


def minimap_px(x: float, y: float = 3.0) -> tuple[int, int]:
    """A court point's pixel on the minimap's canvas (web/js/minimap.js: 12 px a metre, 8 px margin)."""
    return round(8 + (x + 5) * 12), round(8 + (20 - y) * 12)


async def minimap_rgb(page: Any, x: float) -> list[int]:
    u, v = minimap_px(x)
    rgb: list[int] = await page.evaluate(f"""() => Array.from(document.querySelector('.minimap canvas')
        .getContext('2d').getImageData({u}, {v}, 1, 1).data).slice(0, 3)""")
    return rgb


PLAYER_RGB = (0x3F, 0xA9, 0xFF)  # a near-side player (web/js/minimap.js)


def close_to(rgb: list[int], want: tuple[int, int, int], tol: int = 30) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(rgb, want, strict=True))


async def minimap_shows(page: Any, seq: int) -> None:
    """The minimap was fed up to ``seq``'s analytics and draws its player (and not the one of ``seq + 4``)."""
    await page.wait_for_function(f"window.replayState.minimapSeq === {seq}", timeout=5000)
    here, other = await minimap_rgb(page, player_x(seq)), await minimap_rgb(page, player_x(seq + 4))
    assert close_to(here, PLAYER_RGB), (seq, here)
    assert not close_to(other, PLAYER_RGB), (seq, other)


async def test_replay_page_draws_the_annotation_of_the_frame_on_screen(
        tmp_path: Path, nats_server: EmbeddedNats, nc: NATS, browser: Browser, output_dir: Path) -> None:
    clip = make_h264_clip(tmp_path / "clip.mp4", frames=300, fps=30)
    config = parse_config({
        "fanout": {"port": 0},
        "cameras": [{"id": "cam-0", "url": f"file://{clip}", "fps": 30, "max_side": 320}],
        "archive": {"kind": "local", "path": str(tmp_path / "archive"), "segment_s": 2.0, "fragment_s": 0.5,
                    "spool_dir": str(tmp_path / "spool"), "annotation_grace_s": 1.5},
    }, "<test>", environ={})
    await ensure_stream(nc, ANNOTATIONS)

    async def annotate(msg: Msg) -> None:
        meta = FrameMeta.from_headers(msg.headers)
        x = box_x(meta.seq)
        await publish_annotation(nc, make_annotation("cam-0", "boxes", meta.seq, ts=meta.ts, frame=FRAME,
                                                     boxes=((x, 40, x + 30, 120),), track=False))
        zones = {"net": 0.0, "transition": 0.0, "back": 0.0}
        await nc.publish(analytics_subject("cam-0"), AnalyticsMessage(  # the analytics service's core publish
            "cam-0", meta.seq, meta.ts, CalibrationInfo(1, "floor", 0.5),
            (PlayerState(1, "near", player_x(meta.seq), 3.0, 0.0, 0.0, "back", zones),)).to_json())

    await nc.subscribe("frames.cam-0", cb=annotate)
    before = time.time_ns()
    async with running_fanout(config, nats_server.url, limits=QUICK_LIMITS) as fanout, recording_ingest(config, nc):
        import httpx

        async with httpx.AsyncClient(base_url=fanout.http_url, timeout=30) as http:
            segs: list[dict[str, Any]] = []
            deadline = time.monotonic() + 40
            while len(segs) < 2 and time.monotonic() < deadline:
                reply = await http.get("/api/recordings", params={"camera": "cam-0", "start": before,
                                                                  "end": time.time_ns()})
                segs = [i for i in reply.json()["items"] if i["kind"] == "recording"]
                await asyncio.sleep(0.3)
            seg = segs[1]  # steady state: every frame published and indexed
            ann = (await http.get("/api/annotations", params={"camera": "cam-0", "start": seg["start_ns"],
                                                              "end": seg["end_ns"]})).json()
        header = next(s["segment"] for s in ann["segments"] if s["segment"]["start_ns"] == seg["start_ns"])
        page = await browser.new_page()
        page.on("console", lambda m: print("console:", m.text))
        await page.goto(f"{fanout.http_url}/replay?camera=cam-0&start={seg['start_ns']}&end={seg['end_ns']}")
        await page.wait_for_function("window.replayState && (window.replayState.ready || window.replayState.error)",
                                     timeout=20_000)
        assert await page.evaluate("window.replayState.error") is None
        # MP4 frame number -> its index entry (frames dropped before publishing under load have none).
        annotated = {a["seq"] for a in ann["annotations"]}
        by_frame = {round((e[1] - header["pts_origin"]) * 30): e for e in header["index"]}
        assert all(abs((e[1] - header["pts_origin"]) * 30 - k) < 0.01 for k, e in by_frame.items())  # frame-exact
        ks = [k for k in (15, 16, 40, 41, 50, 51, 55) if k in by_frame and by_frame[k][0] in annotated][:3]
        assert len(ks) == 3, "annotated frames in the segment"
        for k in ks:  # frames of the segment, by number in the MP4
            entry = by_frame[k]
            await page.evaluate(f"""() => new Promise((resolve) => {{
                const v = document.getElementById('video');
                v.requestVideoFrameCallback(() => requestAnimationFrame(() => resolve()));
                v.currentTime = {(k + 0.5) / 30};
            }})""")
            await page.wait_for_function(f"window.replayState.drawnSeq === {entry[0]}", timeout=5000)
            seq = entry[0]
            # The box of this frame's seq is drawn (stroke at its left edge, scaled x2), and the box
            # another seq would have had is not.
            here = await page.evaluate(f"""() => Array.from(document.getElementById('overlay').getContext('2d')
                .getImageData({2 * box_x(seq)}, 160, 1, 1).data)""")
            other = await page.evaluate(f"""() => Array.from(document.getElementById('overlay').getContext('2d')
                .getImageData({2 * box_x(seq + 4)}, 160, 1, 1).data)""")
            assert here[3] > 200 and max(here[:3]) > 150, (k, seq, here)
            assert other[3] == 0, (k, seq, other)
            await minimap_shows(page, seq)
        # A seek back: the minimap starts over and shows the earlier frame's player, not the last one's.
        first = by_frame[ks[0]][0]
        await page.evaluate(f"document.getElementById('video').currentTime = {(ks[0] + 0.5) / 30}")
        await page.wait_for_function(f"window.replayState.drawnSeq === {first}", timeout=5000)
        await minimap_shows(page, first)
        assert await page.evaluate("window.replayState.analytics") == len(ann["analytics"]) > 0
        await page.screenshot(path=str(output_dir / "replay.png"))
        # The JS SDK's replay calls, from the page.
        sdk = await page.evaluate(f"""async () => {{
            const {{ ReplayClient, ReplayError }} = await import('/static/sdk/replay.js');
            const client = new ReplayClient();
            const spans = await client.recordings('cam-0', '{seg["start_ns"]}', '{seg["end_ns"]}');
            const exp = await client.export('cam-0', '{seg["start_ns"]}', '{seg["end_ns"]}');
            const ann = await client.annotations('cam-0', '{seg["start_ns"]}', '{seg["end_ns"]}');
            let status = 0;
            try {{ await client.recordings('cam-0', '5', '1'); }} catch (e) {{ status = e instanceof ReplayError ? e.status : -1; }}
            return {{ kinds: spans.map((s) => s.kind), frames: exp.frames, size: exp.blob.size,
                      start: exp.startNs, annotations: ann.annotations.length, status }};
        }}""")
        assert sdk["kinds"] == ["recording"] and sdk["frames"] == 60 and sdk["size"] > 1000
        assert sdk["start"] == str(seg["start_ns"]) and sdk["annotations"] == len(ann["annotations"])
        assert sdk["status"] == 400
        await page.close()
        # The live page's replay button: saves the last 30 s (flushing the open segment) and plays it.
        live = await browser.new_page()
        await live.goto(f"{fanout.http_url}/?camera=cam-0")
        await live.wait_for_function("window.__courtside && window.__courtside.camera === 'cam-0'", timeout=10_000)
        clicked_ns, clicked = time.time_ns(), time.monotonic()
        await live.click("#replay")
        await live.wait_for_url("**/replay?*", timeout=20_000)
        saved = time.monotonic() - clicked
        await live.wait_for_function("window.replayState && (window.replayState.playing || window.replayState.error)",
                                     timeout=20_000)
        took = time.monotonic() - clicked  # click -> the clip's video playing
        assert await live.evaluate("window.replayState.error") is None
        end_ns = int(live.url.split("end=")[1].split("&")[0])
        assert end_ns >= clicked_ns - 200_000_000, "the clip reaches the click"
        assert await live.evaluate("document.getElementById('video').duration") > 5
        await live.wait_for_function("document.getElementById('video').currentTime > 0.2", timeout=5000)
        # The browser's own measure, from the click event's time to the video's first "playing"
        # (without the test driver's dispatch delay; the page and the server share this machine).
        since_click = await live.evaluate("window.replayState.sinceClickMs") / 1000
        print(f"replay button: clip saved {saved:.2f} s, playing {took:.2f} s after the driver's click, "
              f"{since_click:.2f} s after the click event")
        # The 2 s goal is measured by bench/replay_button (median of runs on a quiet machine); here
        # only that the page measured a real click-to-playing time.
        assert 0 < since_click <= took
        await live.close()
