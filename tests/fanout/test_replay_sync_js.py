"""web/js/replay_sync.js's minimap feed, pure, in Node: each frame's analytics once, in frame order, up to the
frame on screen; a seek back resets and feeds again from the first frame."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODULE = (REPO / "web" / "js" / "replay_sync.js").as_uri()

SCRIPT = f"""
import {{ analyticsFeed, frameIndexAt }} from "{MODULE}";
const frames = [{{ t: 0, seq: 1, ts: "100" }}, {{ t: 0.5, seq: 2, ts: "200" }}, {{ t: 1, seq: 3, ts: "300" }}];
const analytics = [{{ seq: 1, ts: 100 }}, {{ seq: 2, ts: 200 }}, {{ seq: 3, ts: 300 }}, {{ seq: 9, ts: 999 }}];
const feed = analyticsFeed(frames, analytics);
const steps = [1, 1, 2, 0, 7, -1].map((i) => {{ const r = feed(i); return [r.reset, r.messages.map((m) => m.seq)]; }});
console.log(JSON.stringify({{ steps, at: [frameIndexAt(frames, -0.1), frameIndexAt(frames, 0.45), frameIndexAt(frames, 5)] }}));
"""


def test_the_minimap_feed_gives_each_frames_analytics_once_and_starts_over_after_a_seek_back() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    out = subprocess.run([node, "--input-type=module", "-e", SCRIPT], capture_output=True, text=True, check=True,
                         timeout=60).stdout
    got = json.loads(out)
    assert got["steps"] == [
        [False, [1, 2]],  # up to frame 1: frames 0 and 1
        [False, []],  # the same frame again: nothing new
        [False, [3]],
        [True, [1]],  # a seek back: clear, then frame 0
        [False, [2, 3]],  # past the last frame: up to it (seq 9 has no frame of the range)
        [True, []],  # a seek before the first frame: cleared, nothing to show
    ]
    assert got["at"] == [-1, 0, 2]
