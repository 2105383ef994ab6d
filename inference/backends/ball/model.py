"""BallNet: a causal TrackNet-style network (the current frame and a few past ones in, a heatmap out).

Input: ``(B, 3F + F - 1, H, W)`` float32, the ``F`` frames as RGB in 0..1 stacked
newest first (so channel 0-2 is the current frame and nothing later exists), then
``F - 1`` constant planes holding each past frame's age, ``(ts_now - ts_k)`` seconds
times :data:`AGE_SCALE` (clipped to 0..:data:`AGE_CLIP`); that is how the network
sees irregular timing and a history padded with the current frame (age 0).

Output: ``(B, 3, H/s, W/s)`` for stride ``s``: heat logits (sigmoid = the ball's
score at that cell) and the ball's sub-cell offsets (sigmoid = 0..1 of a cell) in x
and y. A cell (i, j) with offsets (ox, oy) is the input pixel ``((j + ox) s,
(i + oy) s)``. A small encoder-decoder (a patchify stem, stride-2 stages, a
feature-pyramid decoder back to the stem's resolution) as in CenterNet; the
TrackNet family's U-Nets are heavier than a CPU core allows at 288 x 512.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

#: Seconds -> age-plane value (a frame one 30-fps period old reads 1.0).
AGE_SCALE = 30.0
AGE_CLIP = 4.0


@dataclass(frozen=True, slots=True)
class BallNetConfig:
    """Architecture: ``frames`` in, ``stride`` of the stem and output, stage ``widths``, input size (pixels)."""

    name: str
    frames: int
    stride: int
    widths: tuple[int, ...]
    height: int
    width: int

    @property
    def in_channels(self) -> int:
        return 3 * self.frames + self.frames - 1

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["widths"] = list(self.widths)
        return d

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> BallNetConfig:
        return cls(str(raw["name"]), int(raw["frames"]), int(raw["stride"]), tuple(int(w) for w in raw["widths"]),
                   int(raw["height"]), int(raw["width"]))


#: Real time on one CPU core at 288 x 512 (0.22 GMAC per frame, ~20 ms in ONNX Runtime on one core).
SMALL = BallNetConfig("small", frames=3, stride=4, widths=(16, 32, 64, 96), height=288, width=512)
#: For GPUs: twice the resolution at the output, wider and one stage deeper.
FULL = BallNetConfig("full", frames=3, stride=2, widths=(32, 64, 128, 256), height=288, width=512)
SIZES = {"small": SMALL, "full": FULL}


def _conv(cin: int, cout: int, k: int = 3, s: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, (k - 1) // 2 if k % 2 else 0, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class BallNet(nn.Module):
    def __init__(self, config: BallNetConfig) -> None:
        super().__init__()
        self.config = config
        w = config.widths
        self.stem = nn.Sequential(
            nn.Conv2d(config.in_channels, w[0], config.stride, config.stride, bias=False),
            nn.BatchNorm2d(w[0]), nn.ReLU(inplace=True), _conv(w[0], w[0]))
        self.down = nn.ModuleList(nn.Sequential(_conv(w[i - 1], w[i], 3, 2), _conv(w[i], w[i]))
                                  for i in range(1, len(w)))
        self.reduce = nn.ModuleList(nn.Conv2d(w[i], w[i - 1], 1) for i in range(len(w) - 1, 0, -1))
        self.merge = nn.ModuleList(_conv(w[i - 1], w[i - 1]) for i in range(len(w) - 1, 0, -1))
        penultimate = _conv(w[0], w[0])
        last = nn.Conv2d(w[0], 3, 1)
        bias = last.bias
        assert bias is not None
        with torch.no_grad():
            bias.zero_()
            bias[0] = -4.6  # CenterNet's prior: every cell starts at score ~0.01
        self.head = nn.Sequential(penultimate, last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [self.stem(x)]
        for stage in self.down:
            feats.append(stage(feats[-1]))
        y = feats[-1]
        for k, (reduce, merge) in enumerate(zip(self.reduce, self.merge, strict=True)):
            lateral = feats[-2 - k]
            y = merge(nn.functional.interpolate(reduce(y), size=lateral.shape[-2:], mode="nearest") + lateral)
        out: torch.Tensor = self.head(y)
        return out


def build(config: BallNetConfig) -> BallNet:
    return BallNet(config)


def parameter_count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
