"""Differentiable splat compositor in plain torch (CPU training, CI) with gsplat as the fast twin.

Same math as gsplat's "classic" rasterisation (DESIGN.md): EWA projection with the 1.3×FOV clamp
on the Jacobian, +0.3 on the 2D covariance diagonal, alpha = min(0.99, o·e^(−q)), skip alpha <
1/255, pixel centres at +0.5, near plane 0.01, sorted by view-space z, front-to-back compositing
that stops before transmittance would fall to 1e-4. Pixels are evaluated densely (every pixel
against every Gaussian, in chunks), which is exact and differentiable, and fast enough for the
small images of CPU training and evaluation. ``rasterize_gsplat`` is the CUDA path for training;
``_rasterize_reference`` is a per-pixel loop in float64 numpy used only by the tests.

Outputs are premultiplied over a black background: rgb (C, H, W, 3), alpha (C, H, W) and the
expected depth (C, H, W) = Σ wᵢ zᵢ / Σ wᵢ (0 where nothing was drawn).
"""

from __future__ import annotations

import numpy as np
import torch

NEAR = 0.01
FAR = 1e10
EPS2D = 0.3
ALPHA_MAX = 0.99
ALPHA_MIN = 1.0 / 255.0
T_MIN = 1e-4


def quat_to_rotmat(q: torch.Tensor) -> torch.Tensor:
    """w-first unit quaternions (..., 4) → rotation matrices (..., 3, 3)."""
    q = q / q.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    return torch.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ], dim=-1).view(*q.shape[:-1], 3, 3)


def project(
    means: torch.Tensor,  # (N, 3)
    quats: torch.Tensor,  # (N, 4) w-first
    scales: torch.Tensor,  # (N, 3)
    viewmat: torch.Tensor,  # (4, 4) world→camera, OpenCV axes
    K: torch.Tensor,  # (3, 3)
    width: int,
    height: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """EWA projection: (mean2d (N, 2), conic (N, 3) = (a, b, c) of the inverse 2D covariance,
    depth z (N,), valid (N,) bool)."""
    R, T = viewmat[:3, :3], viewmat[:3, 3]
    t = means @ R.T + T
    x, y, z = t.unbind(-1)
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    valid = (z > NEAR) & (z < FAR)
    zs = torch.where(valid, z, torch.ones_like(z))
    tan_fovx, tan_fovy = 0.5 * width / fx, 0.5 * height / fy
    lim_xp, lim_xn = (width - cx) / fx + 0.3 * tan_fovx, cx / fx + 0.3 * tan_fovx
    lim_yp, lim_yn = (height - cy) / fy + 0.3 * tan_fovy, cy / fy + 0.3 * tan_fovy
    tx = zs * torch.clamp(x / zs, -lim_xn, lim_xp)
    ty = zs * torch.clamp(y / zs, -lim_yn, lim_yp)
    zero = torch.zeros_like(zs)
    J = torch.stack([fx / zs, zero, -fx * tx / zs**2, zero, fy / zs, -fy * ty / zs**2], -1).view(-1, 2, 3)
    M = quat_to_rotmat(quats) * scales.unsqueeze(-2)
    cov3 = M @ M.transpose(-1, -2)
    JW = J @ R
    cov2 = JW @ cov3 @ JW.transpose(-1, -2)
    a = cov2[:, 0, 0] + EPS2D
    b = cov2[:, 0, 1]
    c = cov2[:, 1, 1] + EPS2D
    det = a * c - b * b
    valid = valid & (det > 0)
    det = torch.where(valid, det, torch.ones_like(det))
    conic = torch.stack([c / det, -b / det, a / det], -1)
    mean2d = torch.stack([fx * x / zs + cx, fy * y / zs + cy], -1)
    return mean2d, conic, z, valid


def rasterize(
    means: torch.Tensor,  # (N, 3)
    quats: torch.Tensor,  # (N, 4) w-first
    scales: torch.Tensor,  # (N, 3)
    opacities: torch.Tensor,  # (N,)
    colors: torch.Tensor,  # (N, 3) linear rgb
    viewmats: torch.Tensor,  # (C, 4, 4)
    Ks: torch.Tensor,  # (C, 3, 3)
    width: int,
    height: int,
    chunk: int = 4096,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Render N Gaussians into C cameras: (rgb (C,H,W,3), alpha (C,H,W), depth (C,H,W)).

    Example::

        rgb, alpha, depth = rasterize(means, quats, scales, opac, rgb, view[None], K[None], 64, 64)
    """
    dev, dt = means.device, means.dtype
    ys, xs = torch.meshgrid(torch.arange(height, device=dev, dtype=dt), torch.arange(width, device=dev, dtype=dt),
                            indexing="ij")
    pix = torch.stack([xs.reshape(-1) + 0.5, ys.reshape(-1) + 0.5], -1)  # (P, 2)
    out_rgb, out_a, out_d = [], [], []
    for cam in range(viewmats.shape[0]):
        m2, con, z, valid = project(means, quats, scales, viewmats[cam], Ks[cam], width, height)
        order = torch.argsort(torch.where(valid, z, torch.full_like(z, float("inf"))), stable=True)
        m2, con, z, valid = m2[order], con[order], z[order], valid[order]
        op, col = opacities[order], colors[order]
        rgbs, alphas, depths = [], [], []
        for p0 in range(0, pix.shape[0], chunk):
            d = m2.unsqueeze(0) - pix[p0:p0 + chunk].unsqueeze(1)  # (P, N, 2)
            sigma = 0.5 * (con[:, 0] * d[..., 0] ** 2 + con[:, 2] * d[..., 1] ** 2) + con[:, 1] * d[..., 0] * d[..., 1]
            alpha = torch.clamp(op * torch.exp(-sigma), max=ALPHA_MAX)
            alpha = torch.where((sigma >= 0) & (alpha >= ALPHA_MIN) & valid, alpha, torch.zeros_like(alpha))
            t_incl = torch.cumprod(1.0 - alpha, dim=1)
            t_excl = torch.cat([torch.ones_like(t_incl[:, :1]), t_incl[:, :-1]], dim=1)
            w = alpha * t_excl * (t_incl > T_MIN)
            acc = w.sum(1)
            rgbs.append(w @ col)
            alphas.append(acc)
            depths.append((w @ z.unsqueeze(-1)).squeeze(-1) / acc.clamp_min(1e-10))
        out_rgb.append(torch.cat(rgbs).view(height, width, 3))
        out_a.append(torch.cat(alphas).view(height, width))
        out_d.append(torch.cat(depths).view(height, width))
    return torch.stack(out_rgb), torch.stack(out_a), torch.stack(out_d)


def rasterize_gsplat(
    means: torch.Tensor, quats: torch.Tensor, scales: torch.Tensor, opacities: torch.Tensor, colors: torch.Tensor,
    viewmats: torch.Tensor, Ks: torch.Tensor, width: int, height: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The same as :func:`rasterize` through gsplat's CUDA kernels (shapes as there)."""
    from gsplat import rasterization

    img, alpha, _ = rasterization(
        means, quats, scales, opacities, colors, viewmats, Ks, width, height,
        near_plane=NEAR, eps2d=EPS2D, render_mode="RGB+ED", rasterize_mode="classic", packed=False,
    )
    return img[..., :3], alpha[..., 0], img[..., 3]


def render(
    means: torch.Tensor, quats: torch.Tensor, scales: torch.Tensor, opacities: torch.Tensor, colors: torch.Tensor,
    viewmats: torch.Tensor, Ks: torch.Tensor, width: int, height: int, backend: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Dispatch: ``backend`` is "torch", "gsplat" or "auto" (gsplat on CUDA when importable)."""
    if backend == "auto":
        backend = "gsplat" if means.is_cuda and gsplat_available() else "torch"
    fn = rasterize_gsplat if backend == "gsplat" else rasterize
    return fn(means, quats, scales, opacities, colors, viewmats, Ks, width, height)


_GSPLAT: bool | None = None


def gsplat_available() -> bool:
    """Whether gsplat imports (its CUDA kernels compile on first use)."""
    global _GSPLAT
    if _GSPLAT is None:
        try:
            import gsplat  # noqa: F401
            _GSPLAT = True
        except Exception:  # noqa: BLE001 - any import failure means: use the torch compositor
            _GSPLAT = False
    return _GSPLAT


def _rasterize_reference(
    means: np.ndarray, quats: np.ndarray, scales: np.ndarray, opacities: np.ndarray, colors: np.ndarray,
    viewmat: np.ndarray, K: np.ndarray, width: int, height: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-pixel loop in float64 numpy, one camera: (rgb (H,W,3), alpha (H,W), depth (H,W))."""
    t = torch.float64
    m2, con, z, valid = (a.numpy() for a in project(
        torch.tensor(means, dtype=t), torch.tensor(quats, dtype=t), torch.tensor(scales, dtype=t),
        torch.tensor(viewmat, dtype=t), torch.tensor(K, dtype=t), width, height))
    order = [i for i in sorted(range(len(z)), key=lambda i: z[i]) if valid[i]]
    rgb = np.zeros((height, width, 3))
    acc = np.zeros((height, width))
    dep = np.zeros((height, width))
    for py in range(height):
        for px in range(width):
            T = 1.0
            for i in order:
                dx, dy = m2[i, 0] - (px + 0.5), m2[i, 1] - (py + 0.5)
                s = 0.5 * (con[i, 0] * dx * dx + con[i, 2] * dy * dy) + con[i, 1] * dx * dy
                if s < 0:
                    continue
                a = min(ALPHA_MAX, opacities[i] * np.exp(-s))
                if a < ALPHA_MIN:
                    continue
                nt = T * (1 - a)
                if nt <= T_MIN:
                    break
                rgb[py, px] += a * T * colors[i]
                acc[py, px] += a * T
                dep[py, px] += a * T * z[i]
                T = nt
    return rgb, acc, dep / np.maximum(acc, 1e-10)
