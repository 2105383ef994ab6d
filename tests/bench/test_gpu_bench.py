"""bench/gpu.py, prepared on the CPU: its pure-torch YOLO11n equals Ultralytics' on the same
weights, its pre/post-processing geometry is right, and ``--smoke`` runs end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from bench.gpu import Setup, postprocess, preprocess
from bench.yolo11_torch import YOLO11
from inference.backends.yolo.env import configure_offline

REPO = Path(__file__).resolve().parents[2]


def _ultralytics_yolo11n() -> torch.nn.Module:
    """Ultralytics' YOLO11n with re-drawn weights (its own init scores every anchor alike)."""
    configure_offline()
    from ultralytics import YOLO

    model = YOLO("yolo11n.yaml").model.eval()
    gen = torch.Generator().manual_seed(11)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, torch.nn.Conv2d) and mod.weight.requires_grad:
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=gen) * (2.0 / mod.weight[0].numel()) ** 0.5)
                if mod.bias is not None:
                    mod.bias.copy_(torch.randn(mod.bias.shape, generator=gen) * 0.5)
            elif isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.copy_(0.1 * torch.randn(mod.running_mean.shape, generator=gen))
                mod.running_var.fill_(1.2)
                mod.weight.copy_(1 + 0.1 * torch.randn(mod.weight.shape, generator=gen))
                mod.bias.copy_(0.1 * torch.randn(mod.bias.shape, generator=gen))
    return model  # type: ignore[no-any-return]


def test_pure_torch_yolo11n_equals_ultralytics_on_the_same_weights() -> None:
    theirs = _ultralytics_yolo11n()
    ours = YOLO11().eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)  # same names, same shapes, nothing left over
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())
    x = torch.rand(2, 3, 192, 320, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        ref = theirs(x)[0]
        got = ours(x)
        assert got.shape == ref.shape == (2, 84, 24 * 40 + 12 * 20 + 6 * 10)
        assert float(ref[:, 4:].std()) > 0.01, "scores must vary for the comparison to mean something"
        assert torch.allclose(got, ref, atol=1e-3, rtol=1e-4)
        fused = ours.fuse()(x)
    assert torch.allclose(fused, ref, atol=1e-2, rtol=1e-3)


def test_preprocess_letterboxes_720p_into_the_network_input() -> None:
    setup = Setup(device="cpu")
    frame = torch.full((3, 720, 1280), 255, dtype=torch.uint8)
    x = preprocess([frame, frame], setup, torch.float32)
    assert x.shape == (2, 3, 384, 640)
    assert torch.allclose(x[:, :, :12], torch.tensor(114 / 255)) and torch.allclose(x[:, :, -12:], torch.tensor(114 / 255))
    assert torch.allclose(x[:, :, 12:372], torch.tensor(1.0))


def test_postprocess_keeps_the_best_box_of_overlapping_ones() -> None:
    pred = torch.zeros(1, 4 + 3, 5)
    pred[0, :4] = torch.tensor([[50, 52, 200, 300, 400], [50, 50, 100, 100, 100], [20, 20, 40, 40, 40],
                                [20, 20, 40, 40, 40]], dtype=torch.float32)  # cx, cy, w, h per anchor
    pred[0, 4, :] = torch.tensor([0.9, 0.8, 0.7, 0.6, 0.5])  # class 0 scores
    (rows,) = postprocess(pred, iou=0.5, candidates=5)
    assert rows.shape[1] == 6
    # anchors 0 and 1 overlap (IoU > 0.5): 1 goes; 2, 3, 4 are far from 0 and from each other
    np.testing.assert_allclose(rows[:, 4], [0.9, 0.7, 0.6, 0.5], rtol=1e-6)
    np.testing.assert_allclose(rows[0, :4], [40, 40, 60, 60])


@pytest.mark.timeout(420)  # a subprocess importing torch on a loaded 2-core machine
def test_smoke_run_writes_its_report(tmp_path: Path) -> None:
    out = tmp_path / "gpu.json"
    proc = subprocess.run([sys.executable, "-m", "bench.gpu", "--smoke", "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=400,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].startswith("RESULT gpu_streams_720p15=") and "anchor=" in lines[-1]
    assert "decode gpu: skipped (no CUDA device)" in proc.stdout
    report = json.loads(out.read_text())
    assert report["device"] == "cpu" and [r["batch"] for r in report["model"]] == [1, 2]
    assert all(r["fps"] > 0 for r in report["model"]) and report["decode"]["cpu"] > 0
    trials = report["streams"]["cpu"]
    assert trials and trials[0]["streams"] == 1 and trials[0]["served"] > 0
    assert set(report["max_streams"]) == {"cpu"} and all(t["decode"] == "cpu" for t in trials)
    assert all(t["ok"] == (t["p99_ms"] <= 1000.0 and t["superseded"] <= 0.01 * t["offered"]) for t in trials)
