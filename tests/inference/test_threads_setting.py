"""The configured CPU thread count survives Ultralytics' own thread reset."""

from __future__ import annotations

import numpy as np
import torch

from courtside.config import ModelConfig
from inference.backends.yolo.runner import UltralyticsRunner


def test_configured_threads_hold_after_predictor_setup() -> None:
    runner = UltralyticsRunner(ModelConfig(name="m", weights="yolo11n.yaml", imgsz=64, threads=2,
                                           task="track"))
    runner.infer([np.zeros((64, 64, 3), np.uint8)], cameras=["c1"])
    assert torch.get_num_threads() == 2
