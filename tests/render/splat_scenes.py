"""Scenes and helpers shared by the splat-pass tests (not a test module)."""

from __future__ import annotations

import numpy as np

from engine.render.camera import Camera
from engine.splats.gaussians import GaussianSet, rgb_to_sh0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two images with values in about 0..1."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)


def splats(means, scales, quats=None, opacities=None, rgb=None, sh=None) -> GaussianSet:
    """A GaussianSet from short lists; defaults: identity rotation, opacity 0.8, orange."""
    means = np.atleast_2d(np.asarray(means, np.float32))
    n = len(means)
    scales = np.broadcast_to(np.asarray(scales, np.float32), (n, 3))
    quats = np.broadcast_to(np.asarray([1, 0, 0, 0] if quats is None else quats, np.float32), (n, 4))
    quats = quats / np.linalg.norm(quats, axis=1, keepdims=True)
    opacities = np.broadcast_to(np.asarray(0.8 if opacities is None else opacities, np.float32), (n,))
    if sh is None:
        rgb = np.broadcast_to(np.asarray((0.9, 0.5, 0.2) if rgb is None else rgb, np.float32), (n, 3))
        sh = rgb_to_sh0(rgb)[:, None, :]
    return GaussianSet(means, scales, quats, opacities, sh)


def random_scene(n: int, seed: int = 0, degree: int = 0, extent: float = 1.0) -> GaussianSet:
    """The benchmark distribution: centres in [−extent, extent]³, log-uniform scales, random rotations."""
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    k = (degree + 1) ** 2
    sh = np.zeros((n, k, 3), np.float32)
    sh[:, 0] = rgb_to_sh0(rng.uniform(0, 1, (n, 3)))
    if k > 1:
        sh[:, 1:] = rng.normal(0, 0.3, (n, k - 1, 3))
    return GaussianSet(
        rng.uniform(-extent, extent, (n, 3)),
        np.exp(rng.uniform(np.log(0.002), np.log(0.03), (n, 3))),
        q,
        rng.uniform(0.05, 0.99, n),
        sh,
    )


def camera(w: int = 128, h: int = 96, eye=(0.3, 0.4, 2.6), target=(0.0, 0.0, 0.0), fov_y: float = 60.0) -> Camera:
    """The benchmark camera at a small size."""
    return Camera(np.array(eye), np.array(target), w, h, fov_y=fov_y)


def transform(angle_deg: float, axis, scale: float, translation) -> np.ndarray:
    """(4, 4) float32 local→world: rotation about ``axis``, uniform ``scale``, then ``translation``."""
    axis = np.asarray(axis, np.float64)
    axis = axis / np.linalg.norm(axis)
    a = np.radians(angle_deg)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    r = np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * k @ k
    m = np.eye(4)
    m[:3, :3] = r * scale
    m[:3, 3] = translation
    return m.astype(np.float32)
