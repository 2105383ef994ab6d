"""``models[].options`` of the ``ball`` backend (pydantic only: validated in any environment)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from inference.backends.options import BackendOptions


class BallOptions(BackendOptions):
    """Options of :class:`inference.backends.ball.runner.BallRunner`. ``models[].weights`` is a
    ball-model file (``.pt`` from ``courtside train ball``, or ``.onnx`` from ``courtside export``'s
    ball path) ``shipped:small`` for the weights committed in ``inference/backends/ball/shipped/`` (trained on
the synthetic court), or ``arch:small`` / ``arch:full`` for the untrained architecture."""

    runtime: Literal["torch", "onnx"] = Field(
        "onnx", description="torch: the network in PyTorch; onnx: ONNX Runtime (a .pt file is exported once "
        "into ~/.cache/courtside/ball/ first)")
    score: float = Field(0.6, gt=0, lt=1, description="heatmap score (0..1) from which the ball is seen")
    max_speed_px_s: float = Field(3000.0, gt=0, description="gate: the fastest plausible ball, pixels per second "
                                  "at the model's input scale (512 px wide)")
    jump_score: float = Field(0.7, gt=0, le=1, description="score from which a candidate outside the gate starts "
                              "a new track")
    bridge_s: float = Field(0.2, ge=0, le=2, description="seconds a hidden ball is carried on its fitted flight "
                            "(reported visible, bridged) before it is reported lost")
    candidates: int = Field(3, ge=1, le=16, description="heatmap peaks handed to the tracker per frame")
