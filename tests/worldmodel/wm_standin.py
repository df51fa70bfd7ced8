"""A trivial stand-in teacher for tests: the proxy surface as flat Gaussians with a striped colour.

Rendered with the same compositor the model trains through, so it is learnable in a few steps.
"""

from __future__ import annotations

import numpy as np
import torch

from engine.render.camera import Camera
from engine.splats.vocab import MATERIALS
from worldmodel.anchors import anchor_points
from worldmodel.compositor import rasterize
from worldmodel.spec import ProxySpec, style_offset
from worldmodel.train import Item

SHAPES = ("box", "sphere", "cylinder", "plane")


def standin_spec(rng: np.random.Generator) -> ProxySpec:
    """A random small spec."""
    mats = list(MATERIALS)
    return ProxySpec(SHAPES[int(rng.integers(len(SHAPES)))], tuple(rng.uniform(0.3, 0.7, 3)),
                     mats[int(rng.integers(len(mats)))], int(rng.integers(1000)), tuple(rng.uniform(0, 1, 4)))


def standin_cameras(spec: ProxySpec, n: int, rng: np.random.Generator, size: int) -> list[Camera]:
    """n cameras on a sphere around the proxy, looking at its centre."""
    r = 2.5 * max(spec.half_extents)
    cams = []
    for _ in range(n):
        az, el = rng.uniform(0, 2 * np.pi), rng.uniform(0.2, 0.9)
        eye = r * np.array([np.cos(az) * np.cos(el), np.sin(el), np.sin(az) * np.cos(el)])
        cams.append(Camera(eye, (0, 0, 0), size, size))
    return cams


def standin_render(spec: ProxySpec, cams: list[Camera]) -> dict[str, np.ndarray]:
    """Teacher-like dict: rgb (V,H,W,3) over black, alpha (V,H,W), depth (V,H,W)."""
    p, n = anchor_points(spec.shape, spec.half_extents, 400)
    base = np.array(MATERIALS[spec.material].colour)
    stripe = 0.5 + 0.5 * np.sin(8.0 * (p + style_offset(spec.style_seed))[:, 0])
    col = np.clip(base * (0.6 + 0.8 * stripe[:, None]) * (1 - 0.5 * spec.state[1]), 0, 1)
    t = torch.float32
    vm = torch.tensor(np.stack([c.view for c in cams]))
    ks = torch.tensor(np.stack([c.intrinsics for c in cams]))
    quats = torch.tensor([[1.0, 0, 0, 0]] * len(p), dtype=t)
    scales = torch.full((len(p), 3), 0.06, dtype=t)
    rgb, a, d = rasterize(torch.tensor(p, dtype=t), quats, scales, torch.full((len(p),), 0.9), torch.tensor(col, dtype=t),
                          vm, ks, cams[0].width, cams[0].height)
    return {"rgb": rgb.numpy(), "alpha": a.numpy(), "depth": d.numpy()}


class StandinSource:
    """A training ``Source`` backed by the stand-in teacher."""

    def __init__(self, size: int = 24, views: int = 2) -> None:
        self.size, self.views = size, views

    def sample(self, rng: np.random.Generator) -> Item:
        from worldmodel.train import item_from_render

        spec = standin_spec(rng)
        cams = standin_cameras(spec, self.views, rng, self.size)
        return item_from_render(spec, cams, standin_render(spec, cams))
