"""Ingest fixtures: generated media (no binary fixtures in the repo)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_testkit import moving_frames

from ingest.demo_clip import write_h264


@pytest.fixture(scope="session")
def clip_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s, 30 fps, 640x360 H.264 MP4 made for this test session."""
    path = tmp_path_factory.mktemp("clips") / "moving-640x360.mp4"
    write_h264(path, moving_frames(90, 640, 360), fps=30)
    return path
