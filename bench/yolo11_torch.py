"""YOLO11 detect (n scale by default) in plain PyTorch, for machines without Ultralytics.

The GPU machines this project can borrow have torch and torchvision but no
Ultralytics and no network (``../shared/FACTS.md``), so :mod:`bench.gpu` builds the
network from this definition. Module and parameter names follow Ultralytics'
``DetectionModel`` (``model.<layer>.<...>``), so ``load_state_dict`` takes an
Ultralytics YOLO11 checkpoint's weights as they are, and
tests/bench/test_gpu.py checks that the outputs equal Ultralytics' on the same
weights. Output: (B, 4 + nc, anchors), boxes as centre x, y, width, height in
input pixels, class scores after the sigmoid: what the ONNX export gives and what
:func:`inference.backends.onnxrt.nms.decode_predictions` reads.

Only torch is imported (no torchvision, no numpy).
"""

from __future__ import annotations

import math

import torch
from torch import nn

#: depth, width, max channels per scale (Ultralytics' yolo11.yaml)
SCALES = {"n": (0.50, 0.25, 1024), "s": (0.50, 0.50, 1024)}


def _channels(c: int, width: float, max_channels: int) -> int:
    """Ultralytics' make_divisible(min(c, max) * width, 8)."""
    return int(math.ceil(min(c, max_channels) * width / 8) * 8)


class Conv(nn.Module):
    """Conv2d (no bias) + BatchNorm + SiLU; :meth:`fuse` folds the BatchNorm into the conv."""

    def __init__(self, c1: int, c2: int, k: int = 1, s: int = 1, g: int = 1, act: bool = True) -> None:
        super().__init__()
        self.k, self.s, self.g = k, s, g
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, groups=g, bias=False)
        self.bn: nn.BatchNorm2d | None = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)  # as Ultralytics initialises it
        self.act: nn.Module = nn.SiLU() if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x) if self.bn is None else self.bn(self.conv(x)))  # type: ignore[no-any-return]

    def fuse(self) -> None:
        if self.bn is None:
            return
        bn, conv = self.bn, self.conv
        assert bn.running_mean is not None and bn.running_var is not None
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        fused = nn.Conv2d(conv.in_channels, conv.out_channels, self.k, self.s, self.k // 2, groups=self.g,
                          bias=True).to(conv.weight.device)
        with torch.no_grad():
            fused.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1))
            fused.bias.copy_(bn.bias - bn.running_mean * scale)  # type: ignore[union-attr]
        self.conv, self.bn = fused, None


class Bottleneck(nn.Module):
    def __init__(self, c1: int, c2: int, shortcut: bool = True, e: float = 0.5) -> None:
        super().__init__()
        c_ = int(c2 * e)
        self.cv1 = Conv(c1, c_, 3)
        self.cv2 = Conv(c_, c2, 3)
        self.add = shortcut and c1 == c2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y  # type: ignore[no-any-return]


class C3k(nn.Module):
    def __init__(self, c1: int, c2: int, n: int = 2, shortcut: bool = True, e: float = 0.5) -> None:
        super().__init__()
        c_ = int(c2 * e)
        self.cv1 = Conv(c1, c_)
        self.cv2 = Conv(c1, c_)
        self.cv3 = Conv(2 * c_, c2)
        self.m = nn.Sequential(*(Bottleneck(c_, c_, shortcut, e=1.0) for _ in range(n)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))  # type: ignore[no-any-return]


class C3k2(nn.Module):
    def __init__(self, c1: int, c2: int, n: int = 1, c3k: bool = False, e: float = 0.5,
                 shortcut: bool = True) -> None:
        super().__init__()
        self.c = int(c2 * e)
        self.cv1 = Conv(c1, 2 * self.c)
        self.cv2 = Conv((2 + n) * self.c, c2)
        self.m = nn.ModuleList(C3k(self.c, self.c, 2, shortcut) if c3k else Bottleneck(self.c, self.c, shortcut)
                               for _ in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = list(self.cv1(x).chunk(2, 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))  # type: ignore[no-any-return]


class SPPF(nn.Module):
    def __init__(self, c1: int, c2: int, k: int = 5) -> None:
        super().__init__()
        c_ = c1 // 2
        self.cv1 = Conv(c1, c_)
        self.cv2 = Conv(c_ * 4, c2)
        self.m = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = [self.cv1(x)]
        y.extend(self.m(y[-1]) for _ in range(3))
        return self.cv2(torch.cat(y, 1))  # type: ignore[no-any-return]


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int, attn_ratio: float = 0.5) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.key_dim = int(self.head_dim * attn_ratio)
        self.scale = self.key_dim ** -0.5
        self.qkv = Conv(dim, dim + self.key_dim * num_heads * 2, act=False)
        self.proj = Conv(dim, dim, act=False)
        self.pe = Conv(dim, dim, 3, g=dim, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(x).view(b, self.num_heads, self.key_dim * 2 + self.head_dim, h * w).split(
            [self.key_dim, self.key_dim, self.head_dim], dim=2)
        attn = ((q * self.scale).transpose(-2, -1) @ k).softmax(dim=-1)
        y = (v @ attn.transpose(-2, -1)).view(b, c, h, w) + self.pe(v.reshape(b, c, h, w))
        return self.proj(y)  # type: ignore[no-any-return]


class PSABlock(nn.Module):
    def __init__(self, c: int, num_heads: int) -> None:
        super().__init__()
        self.attn = Attention(c, num_heads)
        self.ffn = nn.Sequential(Conv(c, c * 2), Conv(c * 2, c, act=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(x)
        return x + self.ffn(x)  # type: ignore[no-any-return]


class C2PSA(nn.Module):
    def __init__(self, c: int, n: int = 1) -> None:
        super().__init__()
        self.c = c // 2
        self.cv1 = Conv(c, 2 * self.c)
        self.cv2 = Conv(2 * self.c, c)
        self.m = nn.Sequential(*(PSABlock(self.c, max(self.c // 64, 1)) for _ in range(n)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.cv1(x).split((self.c, self.c), dim=1)
        return self.cv2(torch.cat((a, self.m(b)), 1))  # type: ignore[no-any-return]


class DFL(nn.Module):
    """Expected value of each side's 16-bin distance distribution (a fixed 1x1 conv)."""

    def __init__(self, c1: int = 16) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c1, 1, 1, bias=False).requires_grad_(False)
        with torch.no_grad():
            self.conv.weight.copy_(torch.arange(c1, dtype=torch.float).view(1, c1, 1, 1))
        self.c1 = c1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, a = x.shape
        return self.conv(x.view(b, 4, self.c1, a).transpose(2, 1).softmax(1)).view(b, 4, a)  # type: ignore[no-any-return]


class Detect(nn.Module):
    """YOLO11's head: per level a box branch (DFL) and a class branch with depthwise convs."""

    def __init__(self, nc: int, ch: tuple[int, ...], strides: tuple[int, ...] = (8, 16, 32)) -> None:
        super().__init__()
        self.nc, self.reg_max = nc, 16
        c2, c3 = max(16, ch[0] // 4, self.reg_max * 4), max(ch[0], min(nc, 100))
        self.cv2 = nn.ModuleList(nn.Sequential(Conv(x, c2, 3), Conv(c2, c2, 3), nn.Conv2d(c2, 4 * self.reg_max, 1))
                                 for x in ch)
        self.cv3 = nn.ModuleList(nn.Sequential(nn.Sequential(Conv(x, x, 3, g=x), Conv(x, c3)),
                                               nn.Sequential(Conv(c3, c3, 3, g=c3), Conv(c3, c3)),
                                               nn.Conv2d(c3, nc, 1)) for x in ch)
        self.dfl = DFL(self.reg_max)
        self.strides = strides

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        bs = feats[0].shape[0]
        box = torch.cat([self.cv2[i](f).view(bs, 4 * self.reg_max, -1) for i, f in enumerate(feats)], -1)
        cls = torch.cat([self.cv3[i](f).view(bs, self.nc, -1) for i, f in enumerate(feats)], -1)
        anchors, stride = _anchors(feats, self.strides)
        lt, rb = self.dfl(box).chunk(2, 1)
        x1y1, x2y2 = anchors - lt, anchors + rb
        xywh = torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), 1) * stride
        return torch.cat((xywh, cls.sigmoid()), 1)


def _anchors(feats: list[torch.Tensor], strides: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """Anchor centres (1, 2, A) in grid units (offset 0.5) and each anchor's stride (1, 1, A)."""
    points, steps = [], []
    for f, s in zip(feats, strides, strict=True):
        h, w = f.shape[2:]
        sy, sx = torch.meshgrid(torch.arange(h, device=f.device, dtype=f.dtype) + 0.5,
                                torch.arange(w, device=f.device, dtype=f.dtype) + 0.5, indexing="ij")
        points.append(torch.stack((sx, sy), -1).view(-1, 2))
        steps.append(torch.full((h * w, 1), float(s), device=f.device, dtype=f.dtype))
    return torch.cat(points).T.unsqueeze(0), torch.cat(steps).T.unsqueeze(0)


class _Take(nn.Module):
    """A parameter-free layer (upsample or concat) kept so layer indices match Ultralytics'."""


class YOLO11(nn.Module):
    """YOLO11 detect; input (B, 3, H, W) RGB in [0, 1], H and W multiples of 32."""

    def __init__(self, nc: int = 80, scale: str = "n") -> None:
        super().__init__()
        depth, width, max_ch = SCALES[scale]

        def ch(c: int) -> int:
            return _channels(c, width, max_ch)

        def rep(n: int) -> int:
            return max(round(n * depth), 1)

        c = [ch(v) for v in (64, 128, 256, 256, 512, 512, 512, 1024, 1024)]
        layers: list[nn.Module] = [
            Conv(3, c[0], 3, 2), Conv(c[0], c[1], 3, 2), C3k2(c[1], c[2], rep(2), False, 0.25),
            Conv(c[2], c[3], 3, 2), C3k2(c[3], ch(512), rep(2), False, 0.25),
            Conv(ch(512), c[5], 3, 2), C3k2(c[5], c[6], rep(2), True),
            Conv(c[6], c[7], 3, 2), C3k2(c[7], c[8], rep(2), True),
            SPPF(c[8], ch(1024)), C2PSA(ch(1024), rep(2)),
            _Take(), _Take(), C3k2(ch(1024) + c[6], ch(512), rep(2), False),  # 11-13
            _Take(), _Take(), C3k2(ch(512) + ch(512), ch(256), rep(2), False),  # 14-16 (P3)
            Conv(ch(256), ch(256), 3, 2), _Take(), C3k2(ch(256) + ch(512), ch(512), rep(2), False),  # 17-19 (P4)
            Conv(ch(512), ch(512), 3, 2), _Take(), C3k2(ch(512) + ch(1024), ch(1024), rep(2), True),  # 20-22 (P5)
            Detect(nc, (ch(256), ch(512), ch(1024))),
        ]
        self.model = nn.ModuleList(layers)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.model
        x = m[1](m[0](x))
        x = m[2](x)
        p3 = m[4](m[3](x))
        p4 = m[6](m[5](p3))
        p5 = m[10](m[9](m[8](m[7](p4))))
        h13 = m[13](torch.cat((self.up(p5), p4), 1))
        h16 = m[16](torch.cat((self.up(h13), p3), 1))
        h19 = m[19](torch.cat((m[17](h16), h13), 1))
        h22 = m[22](torch.cat((m[20](h19), p5), 1))
        return m[23]([h16, h19, h22])  # type: ignore[no-any-return]

    def fuse(self) -> YOLO11:
        """Fold every BatchNorm into its conv (inference only); returns self."""
        for mod in self.modules():
            if isinstance(mod, Conv):
                mod.fuse()
        return self
