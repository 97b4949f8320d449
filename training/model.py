"""ParcelNet: a small anchor-free detector (two heads, strides 8 and 16), in plain torch.

Backbone: five stride-2 3x3 convolutions (16-32-48-64-96 channels) with residual
blocks; a light top-down neck brings stride-32 context to the stride-16 level and
stride-16 context to the stride-8 level. Each level has a decoupled head: a box branch
predicting distances to the four sides (softplus, in strides) and a class branch
predicting one logit per class, one prediction per grid cell (anchor point at the
cell centre, as in YOLOv8).

``Exported`` wraps the network for ONNX in the Ultralytics YOLOv8 detection layout:
input ``images`` [B, 3, H, W] (RGB, 0..1), output [B, 4 + C, N] with rows cx, cy, w, h
in input pixels then C sigmoid class scores; no NMS.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

STRIDES = (8, 16)


class ConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, k: int = 3, s: int = 1) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, k, s, k // 2, bias=False),
            nn.BatchNorm2d(c_out),
            nn.SiLU(inplace=True),
        )


class Residual(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.a = ConvBN(c, c // 2, 1)
        self.b = ConvBN(c // 2, c, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.b(self.a(x))


class Head(nn.Module):
    def __init__(self, c: int, classes: int) -> None:
        super().__init__()
        self.box = nn.Sequential(ConvBN(c, c, 3), nn.Conv2d(c, 4, 1))
        self.cls = nn.Sequential(ConvBN(c, c, 3), nn.Conv2d(c, classes, 1))
        nn.init.constant_(self.box[1].bias, 1.0)  # softplus(1) ~ 1.3 strides to each side
        nn.init.constant_(self.cls[1].bias, -4.6)  # sigmoid ~ 0.01: few positives at first

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.box(x), self.cls(x)


class ParcelNet(nn.Module):
    def __init__(self, classes: int = 2, width: tuple[int, ...] = (16, 32, 48, 64, 96)) -> None:
        super().__init__()
        c1, c2, c3, c4, c5 = width
        self.classes = classes
        self.stem = ConvBN(3, c1, 3, 2)  # /2
        self.s2 = nn.Sequential(ConvBN(c1, c2, 3, 2), Residual(c2))  # /4
        self.s3 = nn.Sequential(ConvBN(c2, c3, 3, 2), Residual(c3), Residual(c3))  # /8
        self.s4 = nn.Sequential(ConvBN(c3, c4, 3, 2), Residual(c4), Residual(c4))  # /16
        self.s5 = nn.Sequential(ConvBN(c4, c5, 3, 2), Residual(c5))  # /32
        self.lat5 = ConvBN(c5, c4, 1)
        self.fuse4 = ConvBN(c4, c4, 3)
        self.lat4 = ConvBN(c4, c3, 1)
        self.fuse3 = ConvBN(c3, c3, 3)
        self.head3 = Head(c3, classes)
        self.head4 = Head(c4, classes)

    def forward(self, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per level (stride 8, then 16): raw box distances [B,4,h,w] and logits [B,C,h,w]."""
        c3 = self.s3(self.s2(self.stem(x)))
        c4 = self.s4(c3)
        c5 = self.s5(c4)
        p4 = self.fuse4(c4 + F.interpolate(self.lat5(c5), size=c4.shape[-2:], mode="nearest"))
        p3 = self.fuse3(c3 + F.interpolate(self.lat4(p4), size=c3.shape[-2:], mode="nearest"))
        return [self.head3(p3), self.head4(p4)]


def anchor_points(height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Cell centres (x, y) in input pixels of both levels, [N, 2], and their strides [N]."""
    points, strides = [], []
    for s in STRIDES:
        h, w = -(-height // s), -(-width // s)
        ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        pts = torch.stack([xs, ys], -1).reshape(-1, 2).float().add(0.5).mul(s)
        points.append(pts)
        strides.append(torch.full((h * w,), float(s)))
    return torch.cat(points), torch.cat(strides)


def flatten(levels: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Raw distances [B, N, 4] and logits [B, N, C], levels concatenated in STRIDES order."""
    boxes = torch.cat([b.flatten(2) for b, _ in levels], 2).transpose(1, 2)
    logits = torch.cat([c.flatten(2) for _, c in levels], 2).transpose(1, 2)
    return boxes, logits


def decode(raw: torch.Tensor, points: torch.Tensor, strides: torch.Tensor) -> torch.Tensor:
    """Raw distances [B, N, 4] → boxes x1, y1, x2, y2 in input pixels [B, N, 4]."""
    d = F.softplus(raw) * strides[None, :, None]
    return torch.cat([points - d[..., :2], points + d[..., 2:]], -1)


class Exported(nn.Module):
    """The network with YOLOv8-layout output for a fixed input size (H, W)."""

    def __init__(self, net: ParcelNet, height: int, width: int) -> None:
        super().__init__()
        self.net = net
        points, strides = anchor_points(height, width)
        self.register_buffer("points", points)
        self.register_buffer("strides", strides)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        raw, logits = flatten(self.net(images))
        xyxy = decode(raw, self.points, self.strides)
        cxcy = (xyxy[..., :2] + xyxy[..., 2:]) / 2
        wh = xyxy[..., 2:] - xyxy[..., :2]
        return torch.cat([cxcy, wh, logits.sigmoid()], -1).transpose(1, 2)
