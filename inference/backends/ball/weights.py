"""Ball-model weight files: one torch file holding the architecture, the state dict and how it was made.

``{"format": "courtside-ball/1", "config": BallNetConfig.to_dict(), "state_dict": ...,
"meta": {"trained_on": ..., "command": ..., "seed": ..., "data": ..., "steps": ...}}``.
Loading rebuilds the network from ``config`` and refuses a file of another format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from inference.backends.ball.model import BallNet, BallNetConfig

FORMAT = "courtside-ball/1"


class WeightsError(ValueError):
    """A weights file that is missing or not a ball-model file."""


def save(path: Path, net: BallNet, meta: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"format": FORMAT, "config": net.config.to_dict(), "state_dict": net.state_dict(), "meta": meta}, tmp)
    tmp.replace(path)


def load(path: Path, device: str = "cpu") -> tuple[BallNet, dict[str, Any]]:
    """The network (in eval mode, on ``device``) and its ``meta``."""
    if not path.is_file():
        raise WeightsError(f"ball weights {path} not found")
    try:
        raw = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # torch's unpickling errors, translated here
        raise WeightsError(f"{path} is not a readable torch file: {type(exc).__name__}: {exc}") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise WeightsError(f"{path} is not a Courtside ball-model file (format {FORMAT})")
    net = BallNet(BallNetConfig.from_dict(raw["config"]))
    net.load_state_dict(raw["state_dict"])
    return net.to(device).eval(), dict(raw.get("meta", {}))


def torch_forward(net: BallNet, device: str = "cpu") -> Any:
    """A :data:`~inference.backends.ball.pipeline.Forward` running ``net`` without gradients."""
    net.eval()

    def forward(batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        with torch.inference_mode():
            out = net(torch.from_numpy(batch).to(device))
        return np.asarray(out.float().cpu().numpy(), np.float32)

    return forward
