"""Training losses: photometric (0.8 L1 + 0.2 D-SSIM), alpha, depth, and state smoothness.

All images are premultiplied over black: rgb (V, H, W, 3), alpha (V, H, W), depth (V, H, W).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class LossWeights:
    """Weights of the loss terms (the photometric mix is fixed at 0.8 L1 + 0.2 D-SSIM)."""

    photo: float = 1.0
    alpha: float = 0.5  # L1 on the coverage mask
    depth: float = 0.2  # L1 on expected depth where the teacher has coverage, relative to object size
    smooth: float = 0.1  # state smoothness: parameter change between s and s + 0.05


def _gauss_window(size: int = 11, sigma: float = 1.5, device: torch.device | None = None) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(3, 1, size, size).contiguous()


def ssim(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean SSIM of images ``a``, ``b`` (V, H, W, 3) in [0, 1] (11×11 Gaussian window, σ 1.5).

    With ``mask`` (V, H, W), the SSIM map is averaged over the masked pixels only.
    """
    x, y = a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2)
    w = _gauss_window(device=a.device).to(a.dtype)
    pad = w.shape[-1] // 2

    def f(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(t, (pad,) * 4, mode="replicate"), w, groups=3)

    mx, my = f(x), f(y)
    sxx, syy, sxy = f(x * x) - mx**2, f(y * y) - my**2, f(x * y) - mx * my
    c1, c2 = 0.01**2, 0.03**2
    smap = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    smap = smap.mean(1)  # (V, H, W)
    if mask is None:
        return smap.mean()
    m = mask.to(smap.dtype)
    return (smap * m).sum() / m.sum().clamp_min(1.0)


def photometric(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """0.8 · L1 + 0.2 · (1 − SSIM) between premultiplied images (V, H, W, 3)."""
    return 0.8 * (pred - target).abs().mean() + 0.2 * (1.0 - ssim(pred, target))


def depth_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, scale: float) -> torch.Tensor:
    """L1 of depths (V, H, W) over ``mask`` pixels, divided by the object ``scale`` (metres)."""
    m = mask.to(pred.dtype)
    return ((pred - target).abs() * m).sum() / m.sum().clamp_min(1.0) / max(scale, 1e-6)


def smoothness(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], scale: torch.Tensor) -> torch.Tensor:
    """Mean change of the decoded Gaussians between two nearby states (colour, opacity, centres/scale)."""
    s = scale.view(-1, 1, 1)
    return ((a["rgb"] - b["rgb"]).abs().mean() + (a["opacities"] - b["opacities"]).abs().mean()
            + ((a["means"] - b["means"]).abs() / s).mean())


def psnr(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """PSNR (dB, peak 1) of images (..., 3); with ``mask`` (...) only masked pixels count."""
    se = ((pred - target) ** 2).mean(-1)
    if mask is not None:
        m = mask.to(se.dtype)
        mse = float((se * m).sum() / m.sum().clamp_min(1.0))
    else:
        mse = float(se.mean())
    return float(10.0 * torch.log10(torch.tensor(1.0 / max(mse, 1e-10))))
