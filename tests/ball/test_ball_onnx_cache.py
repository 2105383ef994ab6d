"""The ball model's ONNX cache: a cached export that does not load is made again, never served."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from inference.backends.ball import weights
from inference.backends.ball.export import cached_onnx, onnx_forward
from inference.backends.ball.model import BallNet, BallNetConfig

TINY = BallNetConfig("tiny", frames=3, stride=4, widths=(4,), height=36, width=64)


def test_a_corrupt_cached_export_is_exported_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    torch.manual_seed(0)
    source = tmp_path / "ball-tiny.pt"
    weights.save(source, BallNet(TINY).eval(), {"trained_on": "nothing (test)"})
    batch = np.random.default_rng(0).random((1, TINY.in_channels, TINY.height, TINY.width), np.float32)
    first = cached_onnx(source)
    assert first.is_relative_to(tmp_path / "home" / ".cache" / "courtside" / "ball")
    want = onnx_forward(first)(batch)
    first.write_bytes(first.read_bytes()[:200])  # a crash or a full disk mid-write of an older version
    with caplog.at_level(logging.WARNING, logger="inference.backends.ball.export"):
        again = cached_onnx(source)
    assert again == first and "does not load" in caplog.text
    np.testing.assert_array_equal(onnx_forward(again)(batch), want)
    assert [p.name for p in again.parent.iterdir()] == [again.name], "no partial file left behind"
