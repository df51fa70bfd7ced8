"""Proxy surfaces as parametric patches: base meshes and placement frames for detail.

Every proxy shape (see ``engine.splats.vocab``) is a list of ``Patch`` objects. A patch maps
``(s, t) in [0, 1]^2`` to surface points; ``length_u``/``length_v`` are its approximate extents in
metres, so detail can be laid out in metres (bricks 0.22 m long, rows 0.075 m high) on any shape.
``u`` runs horizontally on walls and ``v`` runs up them, so bricks, planks and roof-tile rows come
out level. Caps and ramp sides use a square layout parametrisation with a validity mask.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# A surface function: (s, t) arrays of equal shape → (pos (...,3), normal (...,3), du (...,3), valid (...)).
SurfaceFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Patch:
    """One parametric piece of a proxy surface.

    grid: the function meshed into triangles (``valid`` is all true); layout: the function detail is
    placed with (may reject points through ``valid``); length_u/length_v: extents in metres.
    """

    grid: SurfaceFn
    layout: SurfaceFn
    length_u: float
    length_v: float
    radius: float = math.inf  # smallest radius of curvature (metres); flat patches: inf
    masked: bool = False  # layout rejects some (s, t) (caps, ramp sides)
    crease_u: bool = True  # the s = 0 / s = 1 borders meet a face at an angle (displacement fades there)
    crease_v: bool = True  # the same for the t = 0 / t = 1 borders


def _norm(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _ones(s: np.ndarray) -> np.ndarray:
    return np.ones(s.shape, bool)


def _box_faces(h: np.ndarray, skip: tuple[int, ...] = ()) -> list[Patch]:
    # (normal axis, u axis, v axis): on walls u is horizontal and v is +y.
    axes = {0: (2, 1), 1: (0, 2), 2: (0, 1)}
    patches = []
    for a in (0, 1, 2):
        b, c = axes[a]
        for sign in (1.0, -1.0):
            if (a, sign) in skip:
                continue

            def fn(s, t, a=a, b=b, c=c, sign=sign):
                p = np.zeros(s.shape + (3,))
                p[..., a] = sign * h[a]
                p[..., b] = (2 * s - 1) * h[b]
                p[..., c] = (2 * t - 1) * h[c]
                n = np.zeros_like(p)
                n[..., a] = sign
                du = np.zeros_like(p)
                du[..., b] = 1.0
                return p, n, du, _ones(s)

            patches.append(Patch(fn, fn, 2 * h[b], 2 * h[c]))
    return patches


def _ellipsoid_band(rx: float, ry: float, rz: float, y0: float, lat0: float, lat1: float) -> SurfaceFn:
    """Latitude band of an ellipsoid centred at (0, y0, 0), latitudes in radians."""

    def fn(s, t):
        phi = 2 * math.pi * s
        th = lat0 + (lat1 - lat0) * t
        c, sn = np.cos(th), np.sin(th)
        p = np.stack([rx * c * np.cos(phi), y0 + ry * sn, rz * c * np.sin(phi)], -1)
        n = _norm(np.stack([c * np.cos(phi) / rx, sn / ry, c * np.sin(phi) / rz], -1))
        du = np.stack([-np.sin(phi), np.zeros_like(s), np.cos(phi)], -1)
        return p, n, du, _ones(s)

    return fn


def _tube(rx: float, rz: float, y0: float, y1: float) -> SurfaceFn:
    def fn(s, t):
        phi = 2 * math.pi * s
        p = np.stack([rx * np.cos(phi), y0 + (y1 - y0) * t, rz * np.sin(phi)], -1)
        n = _norm(np.stack([np.cos(phi) / rx, np.zeros_like(s), np.sin(phi) / rz], -1))
        du = np.stack([-np.sin(phi), np.zeros_like(s), np.cos(phi)], -1)
        return p, n, du, _ones(s)

    return fn


def _disc(rx: float, rz: float, y: float, sign: float) -> tuple[SurfaceFn, SurfaceFn]:
    def grid(s, t):
        r, phi = s, 2 * math.pi * t
        p = np.stack([rx * r * np.cos(phi), np.full_like(s, y), rz * r * np.sin(phi)], -1)
        n = np.zeros_like(p)
        n[..., 1] = sign
        du = np.zeros_like(p)
        du[..., 0] = 1.0
        return p, n, du, _ones(s)

    def layout(s, t):
        x, z = (2 * s - 1), (2 * t - 1)
        p = np.stack([rx * x, np.full_like(s, y), rz * z], -1)
        n = np.zeros_like(p)
        n[..., 1] = sign
        du = np.zeros_like(p)
        du[..., 0] = 1.0
        return p, n, du, x * x + z * z <= 1.0

    return grid, layout


def _ramp(h: np.ndarray) -> list[Patch]:
    hx, hy, hz = h
    patches = _box_faces(h, skip=((1, 1.0), (0, -1.0), (2, 1.0), (2, -1.0)))  # keep bottom and x=+hx wall
    slope_n = _norm(np.array([-hy, hx, 0.0]))
    slope_u = _norm(np.array([hx, hy, 0.0]))  # up the slope

    def slope(s, t):
        # u across the slope (z), v up the slope, so tile rows run level.
        x = (2 * t - 1) * hx
        p = np.stack([x, x * hy / hx, (2 * s - 1) * hz], -1)
        n = np.broadcast_to(slope_n, p.shape).copy()
        du = np.zeros_like(p)
        du[..., 2] = -1.0
        return p, n, du, _ones(s)

    patches.append(Patch(slope, slope, 2 * hz, 2 * math.hypot(hx, hy)))
    del slope_u
    for sign in (1.0, -1.0):

        def side_grid(s, t, sign=sign):
            x = (2 * s - 1) * hx
            top = x * hy / hx
            y = -hy + t * (top + hy)
            p = np.stack([x, y, np.full_like(s, sign * hz)], -1)
            n = np.zeros_like(p)
            n[..., 2] = sign
            du = np.zeros_like(p)
            du[..., 0] = 1.0
            return p, n, du, _ones(s)

        def side_layout(s, t, sign=sign):
            x, y = (2 * s - 1) * hx, (2 * t - 1) * hy
            p = np.stack([x, y, np.full_like(s, sign * hz)], -1)
            n = np.zeros_like(p)
            n[..., 2] = sign
            du = np.zeros_like(p)
            du[..., 0] = 1.0
            return p, n, du, y <= x * hy / hx

        patches.append(Patch(side_grid, side_layout, 2 * hx, 2 * hy, masked=True))
    return patches


def patches(shape: str, half_extents: tuple[float, float, float]) -> list[Patch]:
    """The surface of a proxy shape as patches, in the anchor's local frame (metres)."""
    h = np.asarray(half_extents, np.float64)
    hx, hy, hz = (float(v) for v in h)
    if shape == "box":
        return _box_faces(h)
    if shape == "sphere":
        fn = _ellipsoid_band(hx, hy, hz, 0.0, -math.pi / 2, math.pi / 2)
        return [Patch(fn, fn, math.pi * (hx + hz), math.pi * hy, min(hx, hy, hz), crease_u=False, crease_v=False)]
    if shape == "cylinder":
        side = _tube(hx, hz, -hy, hy)
        out = [Patch(side, side, math.pi * (hx + hz), 2 * hy, min(hx, hz), crease_u=False)]
        for y, sign in ((hy, 1.0), (-hy, -1.0)):
            g, lay = _disc(hx, hz, y, sign)
            out.append(Patch(g, lay, 2 * hx, 2 * hz, masked=True, crease_v=False))
        return out
    if shape == "capsule":
        r = min(hx, hz)
        cap = min(r, hy)
        y1 = hy - cap
        out = []
        if y1 > 1e-6:
            side = _tube(r, r, -y1, y1)
            out.append(Patch(side, side, 2 * math.pi * r, 2 * y1, r, crease_u=False, crease_v=False))
        top = _ellipsoid_band(r, cap, r, y1, 0.0, math.pi / 2)
        bot = _ellipsoid_band(r, cap, r, -y1, -math.pi / 2, 0.0)
        out += [Patch(top, top, 2 * math.pi * r, math.pi * cap / 2, min(r, cap), crease_u=False, crease_v=False),
                Patch(bot, bot, 2 * math.pi * r, math.pi * cap / 2, min(r, cap), crease_u=False, crease_v=False)]
        return out
    if shape == "plane":

        def fn(s, t):
            p = np.stack([(2 * s - 1) * hx, np.zeros_like(s), (2 * t - 1) * hz], -1)
            n = np.zeros_like(p)
            n[..., 1] = 1.0
            du = np.zeros_like(p)
            du[..., 0] = 1.0
            return p, n, du, _ones(s)

        return [Patch(fn, fn, 2 * hx, 2 * hz, crease_u=False, crease_v=False)]
    if shape == "ramp":
        return _ramp(h)
    raise ValueError(f"unknown shape {shape!r}")


def grid_mesh(patch: Patch, spacing: float, max_cells: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample a patch on a regular grid: (pos (nv,nu,3), normal (nv,nu,3), uv (nv,nu,2) in metres)."""
    nu = int(np.clip(math.ceil(patch.length_u / spacing), 2, max_cells)) + 1
    nv = int(np.clip(math.ceil(patch.length_v / spacing), 2, max_cells)) + 1
    s, t = np.meshgrid(np.linspace(0, 1, nu), np.linspace(0, 1, nv))
    p, n, _, _ = patch.grid(s, t)
    uv = np.stack([s * patch.length_u, t * patch.length_v], -1)
    return p, n, uv


def grid_triangles(a: np.ndarray) -> np.ndarray:
    """(nv, nu, C) grid values → (6 * (nv-1) * (nu-1), C) triangle-list vertices."""
    q00, q01, q10, q11 = a[:-1, :-1], a[:-1, 1:], a[1:, :-1], a[1:, 1:]
    tri = np.stack([q00, q01, q11, q00, q11, q10], 2)  # (nv-1, nu-1, 6, C)
    return tri.reshape(-1, a.shape[-1])


def recompute_normals(p: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Normals of a displaced grid (nv, nu, 3) by central differences, oriented like ``fallback``."""
    dv = np.gradient(p, axis=0)
    du = np.gradient(p, axis=1)
    n = np.cross(du, dv)
    bad = np.linalg.norm(n, axis=-1) < 1e-12
    n = _norm(n)
    flip = np.sum(n * fallback, -1) < 0
    n[flip] *= -1
    n[bad] = fallback[bad]
    return n


def valid_spans(patch: Patch, t: np.ndarray, samples: int = 129) -> tuple[np.ndarray, np.ndarray]:
    """For rows at ``t`` (R,) of a masked patch: the (s0, s1) range of each row on the surface,
    (R,) each, ``inf``/``-inf`` where a row is empty."""
    s = np.linspace(0.0, 1.0, samples)
    ss, tt = np.broadcast_arrays(s[None, :], np.asarray(t, float)[:, None])
    ok = patch.layout(np.ascontiguousarray(ss), np.ascontiguousarray(tt))[3]
    return np.where(ok, ss, np.inf).min(1), np.where(ok, ss, -np.inf).max(1)
