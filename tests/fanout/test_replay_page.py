"""The /replay page in Chromium (Playwright, Debian's /usr/bin/chromium): a recorded segment
plays from the archive and the archived annotation of the frame on screen is drawn on it
(requestVideoFrameCallback mediaTime -> index -> seq), checked by canvas pixels at a known frame."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from courtside_contracts.headers import FrameMeta
from courtside_contracts.streams import ANNOTATIONS
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
        assert 0 < since_click <= took
        assert since_click < 2.0, f"the replay button's goal: playing within 2 s of the click ({since_click:.2f} s)"
        await live.close()
