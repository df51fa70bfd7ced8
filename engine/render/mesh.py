"""Low-poly unit meshes of the proxy shapes, as flat-shaded triangle soups.

Every mesh lives in the unit box [-1, 1]³ and is scaled by the proxy's half-extents, following
``engine.splats.vocab``: box; sphere = inscribed ellipsoid; cylinder along +Y; plane = the y=0
square; ramp = wedge rising from (x=-1, y=-1) to (x=+1, y=+1). A capsule is not a scaled unit
shape (its caps stay round), so ``capsule_mesh(k)`` takes k = half-height / radius and is scaled
uniformly by the radius.

Arrays are (N·3, 6) float32: position xyz, face normal xyz, three rows per triangle. Normals of
the convex shapes point away from the origin; the plane's point up.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from engine.splats.vocab import capsule_dims

SEGMENTS = 16  # around the Y axis
RINGS = 8  # pole to pole


def _soup(tris: np.ndarray, up_only: bool = False) -> np.ndarray:
    """(T, 3, 3) triangles → (T·3, 6) with outward face normals."""
    tris = np.asarray(tris, np.float64)
    n = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    ln = np.linalg.norm(n, axis=1, keepdims=True)
    keep = ln[:, 0] > 1e-12
    tris, n, ln = tris[keep], n[keep], ln[keep]
    n = n / ln
    if up_only:
        n = np.tile(np.array([0.0, 1.0, 0.0]), (len(n), 1))
    else:
        centre = tris.mean(axis=1)
        flip = np.sum(n * centre, axis=1) < 0
        n[flip] *= -1
    out = np.concatenate([tris, np.repeat(n[:, None, :], 3, axis=1)], axis=2)
    return out.reshape(-1, 6).astype(np.float32)


def _quads(grid: np.ndarray) -> list[np.ndarray]:
    """Triangles of a (R, S, 3) grid of points, wrapping around S."""
    tris = []
    r, s = grid.shape[:2]
    for i in range(r - 1):
        for j in range(s):
            a, b = grid[i, j], grid[i, (j + 1) % s]
            c, d = grid[i + 1, j], grid[i + 1, (j + 1) % s]
            tris += [np.stack([a, c, b]), np.stack([b, c, d])]
    return tris


def box_mesh() -> np.ndarray:
    """The cube [-1, 1]³."""
    tris = []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            u, v = [a for a in range(3) if a != axis]
            corners = []
            for cu, cv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                p = np.zeros(3)
                p[axis], p[u], p[v] = sign, cu, cv
                corners.append(p)
            tris += [np.stack([corners[0], corners[1], corners[2]]), np.stack([corners[0], corners[2], corners[3]])]
    return _soup(np.stack(tris))


def _ring(y: float, r: float) -> np.ndarray:
    a = np.arange(SEGMENTS) * (2 * math.pi / SEGMENTS)
    return np.stack([r * np.cos(a), np.full(SEGMENTS, y), r * np.sin(a)], axis=1)


def _lathe(profile: list[tuple[float, float]]) -> np.ndarray:
    """Revolve (y, radius) points from bottom to top around +Y; caps close flat ends."""
    grid = np.stack([_ring(y, r) for y, r in profile])
    tris = _quads(grid)
    for idx in (0, -1):
        y, r = profile[idx]
        if r > 1e-9:
            ring = grid[idx]
            c = np.array([0.0, y, 0.0])
            tris += [np.stack([c, ring[j], ring[(j + 1) % SEGMENTS]]) for j in range(SEGMENTS)]
    return _soup(np.stack(tris))


def sphere_mesh() -> np.ndarray:
    """The unit sphere (the ellipsoid inscribed in the box once scaled)."""
    prof = [(-math.cos(math.pi * i / RINGS), math.sin(math.pi * i / RINGS)) for i in range(RINGS + 1)]
    return _lathe(prof)


def cylinder_mesh() -> np.ndarray:
    """Unit cylinder along +Y from y=-1 to y=+1, radius 1."""
    return _lathe([(-1.0, 1.0), (1.0, 1.0)])


def capsule_mesh(k: float) -> np.ndarray:
    """Capsule of radius 1 and total half-height ``max(k, 1)`` along +Y."""
    half = max(k, 1.0) - 1.0
    n = RINGS // 2
    prof = [(-half - math.cos(math.pi / 2 * i / n), math.sin(math.pi / 2 * i / n)) for i in range(n + 1)]
    prof += [(half + math.sin(math.pi / 2 * i / n), math.cos(math.pi / 2 * i / n)) for i in range(n + 1)]
    return _lathe(prof)


def plane_mesh() -> np.ndarray:
    """The square y=0, x and z in [-1, 1], facing +Y."""
    a, b, c, d = (np.array(p, float) for p in ((-1, 0, -1), (1, 0, -1), (1, 0, 1), (-1, 0, 1)))
    return _soup(np.stack([np.stack([a, c, b]), np.stack([a, d, c])]), up_only=True)


def ramp_mesh() -> np.ndarray:
    """Wedge: bottom at y=-1, slope from (x=-1, y=-1) up to (x=+1, y=+1), back face at x=+1."""
    p = {(x, y, z): np.array([x, y, z], float) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)}
    b0, b1, b2, b3 = p[(-1, -1, -1)], p[(1, -1, -1)], p[(1, -1, 1)], p[(-1, -1, 1)]
    t1, t2 = p[(1, 1, -1)], p[(1, 1, 1)]
    tris = [
        np.stack([b0, b1, b2]), np.stack([b0, b2, b3]),  # bottom
        np.stack([b0, t1, t2]), np.stack([b0, t2, b3]),  # slope
        np.stack([b1, t1, t2]), np.stack([b1, t2, b2]),  # back (x = +1)
        np.stack([b0, b1, t1]), np.stack([b3, b2, t2]),  # sides z = -1, +1
    ]
    return _soup(np.stack(tris))


@lru_cache(maxsize=64)
def unit_mesh(shape: str, capsule_k: float = 1.0) -> np.ndarray:
    """The (N, 6) float32 mesh for a shape name (``capsule_k`` only for capsules)."""
    if shape == "capsule":
        return capsule_mesh(capsule_k)
    return {"box": box_mesh, "sphere": sphere_mesh, "cylinder": cylinder_mesh, "plane": plane_mesh,
            "ramp": ramp_mesh}[shape]()


def mesh_key(shape: str, half_extents: np.ndarray) -> tuple[tuple[str, float], np.ndarray]:
    """(mesh key, (3,) scale) for a proxy: capsules round k = hy/r to 0.25 and scale by r; a capsule
    shorter than it is wide (hy < r) is the ellipsoid (r, hy, r) (``engine.splats.vocab``)."""
    he = np.asarray(half_extents, np.float64)
    if shape == "capsule":
        r, c, _ = capsule_dims(float(he[0]), float(he[1]), float(he[2]))
        if c < r:
            return ("sphere", 1.0), np.array([r, c, r])
        k = round(float(he[1]) / r * 4.0) / 4.0
        return ("capsule", max(k, 1.0)), np.array([r, r, r])
    return (shape, 1.0), he
