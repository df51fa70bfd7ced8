"""Anchor points: a fixed, deterministic set of points on a proxy's surface (Hammersley).

The world model decodes a few Gaussians around each anchor point. Points are placed on the
proxy surface of ``engine/splats/vocab.py`` (all shapes inside the half-extent box) with a 2D
Hammersley sequence mapped area-proportionally onto the shape's faces, so the same
(shape, half-extents, count) always gives the same points, bit for bit (numpy float64, no threads).

The Gaussian budget scales with surface area: ``anchor_count`` picks a power-of-two bucket from the
area, and each level of detail divides it (see ``LODS``).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from engine.splats.vocab import capsule_dims

# Levels of detail: (divisor of the anchor count, Gaussians per anchor point). lod 0 is the closest.
LODS: tuple[tuple[int, int], ...] = ((1, 4), (4, 4), (16, 2))
ANCHOR_DENSITY = 16.0  # anchor points per m² of surface at lod 0
MIN_ANCHORS = 16
MAX_ANCHORS = 256


def surface_area(shape: str, he: tuple[float, float, float]) -> float:
    """Approximate surface area (m²) of the proxy ``shape`` with half-extents ``he``."""
    hx, hy, hz = he
    if shape == "box":
        return 8.0 * (hx * hy + hy * hz + hx * hz)
    if shape == "sphere":  # Knud Thomsen's approximation for an ellipsoid
        p = 1.6075
        return 4.0 * math.pi * (((hx * hy) ** p + (hx * hz) ** p + (hy * hz) ** p) / 3.0) ** (1.0 / p)
    if shape == "cylinder":
        return _cylinder_areas(hx, hy, hz).sum()
    if shape == "capsule":
        return _capsule_areas(hx, hy, hz).sum()
    if shape == "plane":
        return 4.0 * hx * hz
    if shape == "ramp":
        return _ramp_areas(hx, hy, hz).sum()
    raise ValueError(f"unknown shape {shape!r}")


def anchor_count(shape: str, he: tuple[float, float, float], lod: int = 0) -> int:
    """Number of anchor points for a proxy at ``lod``: a power of two in [MIN_ANCHORS, MAX_ANCHORS]."""
    if not 0 <= lod < len(LODS):
        raise ValueError(f"lod must be in 0..{len(LODS) - 1}, got {lod}")
    want = surface_area(shape, he) * ANCHOR_DENSITY / LODS[lod][0]
    n = 2 ** round(math.log2(max(want, 1.0)))
    return int(min(max(n, MIN_ANCHORS), MAX_ANCHORS))


def gaussians_per_anchor(lod: int) -> int:
    """Gaussians decoded per anchor point at ``lod``."""
    return LODS[lod][1]


def hammersley(n: int) -> np.ndarray:
    """(n, 2) float64 Hammersley points in [0, 1)²: (i/n, radical inverse of i in base 2)."""
    i = np.arange(n, dtype=np.uint64)
    bits = np.zeros(n, dtype=np.float64)
    f = 0.5
    k = i.copy()
    while k.any():
        bits += f * (k & np.uint64(1)).astype(np.float64)
        k >>= np.uint64(1)
        f *= 0.5
    return np.stack([(np.arange(n) + 0.5) / n, bits], axis=1)


def _cylinder_areas(hx: float, hy: float, hz: float) -> np.ndarray:
    # Ramanujan's ellipse perimeter for the side; two elliptical caps
    h = ((hx - hz) / (hx + hz)) ** 2
    perim = math.pi * (hx + hz) * (1 + 3 * h / (10 + math.sqrt(4 - 3 * h)))
    return np.array([perim * 2 * hy, math.pi * hx * hz, math.pi * hx * hz])


def _capsule_areas(hx: float, hy: float, hz: float) -> np.ndarray:
    r, c, y0 = capsule_dims(hx, hy, hz)
    if c == r:  # hemispherical caps
        cap = 2 * math.pi * r * r
    else:  # half an oblate spheroid (r, c, r): half of Knud Thomsen's ellipsoid area
        p = 1.6075
        cap = 2.0 * math.pi * (((r * r) ** p + 2.0 * (r * c) ** p) / 3.0) ** (1.0 / p)
    return np.array([2 * math.pi * r * 2 * y0, cap, cap])


def _ramp_areas(hx: float, hy: float, hz: float) -> np.ndarray:
    slope = 2 * hz * math.hypot(2 * hx, 2 * hy)
    return np.array([4 * hx * hz, slope, 4 * hy * hz, 2 * hx * hy, 2 * hx * hy])


def _pick(u: np.ndarray, areas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Choose a face per sample, area-proportionally; return (face index, u rescaled to [0,1))."""
    cdf = np.cumsum(areas) / areas.sum()
    face = np.minimum(np.searchsorted(cdf, u, side="right"), len(areas) - 1)
    lo = np.concatenate([[0.0], cdf[:-1]])[face]
    width = np.maximum(cdf[face] - lo, 1e-12)
    return face, np.clip((u - lo) / width, 0.0, 1.0 - 1e-12)


@lru_cache(maxsize=512)
def _anchor_points_cached(shape: str, he: tuple[float, float, float], n: int) -> tuple[np.ndarray, np.ndarray]:
    hx, hy, hz = he
    uv = hammersley(n)
    u, v = uv[:, 0], uv[:, 1]
    pts = np.zeros((n, 3))
    nrm = np.zeros((n, 3))
    if shape == "box":
        areas = np.array([hy * hz, hy * hz, hx * hz, hx * hz, hx * hy, hx * hy])
        face, u = _pick(u, areas)
        a, b = 2 * u - 1, 2 * v - 1
        axis = face // 2
        sign = np.where(face % 2 == 0, 1.0, -1.0)
        other = np.array([[1, 2], [0, 2], [0, 1]])[axis]
        rows = np.arange(n)
        h = np.array(he)
        pts[rows, axis] = sign * h[axis]
        pts[rows, other[:, 0]] = a * h[other[:, 0]]
        pts[rows, other[:, 1]] = b * h[other[:, 1]]
        nrm[rows, axis] = sign
    elif shape == "sphere":
        cos_t = 1 - 2 * u
        sin_t = np.sqrt(np.maximum(0.0, 1 - cos_t**2))
        phi = 2 * math.pi * v
        unit = np.stack([sin_t * np.cos(phi), cos_t, sin_t * np.sin(phi)], axis=1)
        pts = unit * np.array(he)
        nrm = unit / np.array(he)
    elif shape in ("cylinder", "capsule"):
        if shape == "cylinder":
            rx, rz, y0 = hx, hz, hy
            areas = _cylinder_areas(hx, hy, hz)
        else:
            r, cy, y0 = capsule_dims(hx, hy, hz)
            rx, rz = r, r
            areas = _capsule_areas(hx, hy, hz)
        face, u = _pick(u, areas)
        phi = 2 * math.pi * v
        c, s = np.cos(phi), np.sin(phi)
        side = face == 0
        pts[side] = np.stack([rx * c[side], (2 * u[side] - 1) * y0, rz * s[side]], axis=1)
        nrm[side] = np.stack([c[side] / rx, np.zeros(side.sum()), s[side] / rz], axis=1)
        for f, sgn in ((1, 1.0), (2, -1.0)):
            m = face == f
            if shape == "cylinder":  # flat elliptical cap, area-uniform radius sqrt(u)
                rr = np.sqrt(u[m])
                pts[m] = np.stack([rx * rr * c[m], np.full(m.sum(), sgn * y0), rz * rr * s[m]], axis=1)
                nrm[m] = np.array([0.0, sgn, 0.0])
            else:  # half-ellipsoid cap (r, cy, r), uniform in cos; a hemisphere when cy == r
                ct = u[m]
                st = np.sqrt(np.maximum(0.0, 1 - ct**2))
                unit = np.stack([st * c[m], sgn * ct, st * s[m]], axis=1)
                if cy == rx:
                    pts[m] = unit * rx + np.array([0.0, sgn * y0, 0.0])
                    nrm[m] = unit
                else:
                    axes = np.array([rx, cy, rz])
                    pts[m] = unit * axes + np.array([0.0, sgn * y0, 0.0])
                    nrm[m] = unit / axes
    elif shape == "plane":
        pts = np.stack([(2 * u - 1) * hx, np.zeros(n), (2 * v - 1) * hz], axis=1)
        nrm[:, 1] = 1.0
    elif shape == "ramp":
        face, u = _pick(u, _ramp_areas(hx, hy, hz))
        x = (2 * u - 1) * hx
        z = (2 * v - 1) * hz
        m = face == 0  # bottom
        pts[m] = np.stack([x[m], np.full(m.sum(), -hy), z[m]], axis=1)
        nrm[m] = [0.0, -1.0, 0.0]
        m = face == 1  # slope: y rises from -hy at x=-hx to +hy at x=+hx
        pts[m] = np.stack([x[m], -hy + (x[m] + hx) * hy / hx, z[m]], axis=1)
        nrm[m] = np.array([-hy, hx, 0.0]) / math.hypot(hx, hy)
        m = face == 2  # back wall at x = +hx
        pts[m] = np.stack([np.full(m.sum(), hx), (2 * u[m] - 1) * hy, z[m]], axis=1)
        nrm[m] = [1.0, 0.0, 0.0]
        for f, sgn in ((3, 1.0), (4, -1.0)):  # triangular sides: uniform in the triangle
            m = face == f
            su = np.sqrt(u[m])
            tx = su  # 0 at x=-hx corner .. 1 at back wall
            ty = su * v[m]  # fraction of the local height
            xx = -hx + 2 * hx * tx
            yy = -hy + 2 * hy * ty
            pts[m] = np.stack([xx, yy, np.full(m.sum(), sgn * hz)], axis=1)
            nrm[m] = [0.0, 0.0, sgn]
    else:
        raise ValueError(f"unknown shape {shape!r}")
    nrm = nrm / np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-12)
    pts = np.clip(pts, -np.array(he), np.array(he))  # rounding only: the maps above stay inside
    pts.setflags(write=False)
    nrm.setflags(write=False)
    return pts, nrm


def anchor_points(shape: str, he: tuple[float, float, float], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(points (n, 3), unit normals (n, 3)) float64 on the surface of the proxy, read-only arrays."""
    return _anchor_points_cached(shape, tuple(float(v) for v in he), int(n))


# ---------------------------------------------------------------------------------------------
# Vectorised twin: many proxies of one shape at once. Every element is computed by the same
# float64 operations, in the same order, as ``_anchor_points_cached`` above (the reference), so the
# results are bit-identical to it (``tests/worldmodel/test_wm_generator.py`` compares them).


@lru_cache(maxsize=64)
def _template(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Cached per-count template: Hammersley (u, v), each (n,) float64, read-only."""
    uv = hammersley(n)
    u, v = np.ascontiguousarray(uv[:, 0]), np.ascontiguousarray(uv[:, 1])
    u.setflags(write=False)
    v.setflags(write=False)
    return u, v


def _face_areas(shape: str, he: np.ndarray) -> np.ndarray:
    """(B, F) face areas exactly as the reference computes them, one proxy at a time (scalar math)."""
    f = {"cylinder": _cylinder_areas, "capsule": _capsule_areas, "ramp": _ramp_areas}[shape]
    return np.stack([f(float(a), float(b), float(c)) for a, b, c in he.tolist()])


def _pick_batch(u: np.ndarray, areas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise ``_pick``: u (n,), areas (B, F) → face (B, n) int, rescaled u (B, n)."""
    cdf = np.stack([np.cumsum(a) / a.sum() for a in areas])  # (B, F), as the reference does
    k = cdf.shape[1]
    face = np.minimum((cdf[:, None, :] <= u[None, :, None]).sum(axis=2), k - 1)  # = searchsorted right
    lo_tab = np.concatenate([np.zeros((len(cdf), 1)), cdf[:, :-1]], axis=1)
    lo = np.take_along_axis(lo_tab, face, axis=1)
    hi = np.take_along_axis(cdf, face, axis=1)
    width = np.maximum(hi - lo, 1e-12)
    return face, np.clip((u[None, :] - lo) / width, 0.0, 1.0 - 1e-12)


def anchor_points_batch(shape: str, he: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Anchor points of B proxies of one ``shape`` with half-extents ``he`` (B, 3) float64.

    Returns (points (B, n, 3), unit normals (B, n, 3)) float64, bit-identical row by row to
    ``anchor_points(shape, he[b], n)``.
    """
    he = np.ascontiguousarray(he, dtype=np.float64).reshape(-1, 3)
    b = len(he)
    u0, v0 = _template(int(n))
    hx, hy, hz = (he[:, k:k + 1] for k in range(3))  # (B, 1) each
    pts = np.zeros((b, n, 3))
    nrm = np.zeros((b, n, 3))
    if shape == "box":
        areas = np.concatenate([hy * hz, hy * hz, hx * hz, hx * hz, hx * hy, hx * hy], axis=1)
        face, u = _pick_batch(u0, areas)
        a, bb = 2 * u - 1, 2 * v0 - 1
        axis = face // 2
        sign = np.where(face % 2 == 0, 1.0, -1.0)
        other = np.array([[1, 2], [0, 2], [0, 1]])[axis]  # (B, n, 2)
        h_axis = np.take_along_axis(he, axis, axis=1)
        h_o0 = np.take_along_axis(he, other[..., 0], axis=1)
        h_o1 = np.take_along_axis(he, other[..., 1], axis=1)
        ax_oh = axis[..., None] == np.arange(3)
        o0_oh = other[..., 0:1] == np.arange(3)
        o1_oh = other[..., 1:2] == np.arange(3)
        pts = np.where(ax_oh, (sign * h_axis)[..., None], pts)
        pts = np.where(o0_oh, (a * h_o0)[..., None], pts)
        pts = np.where(o1_oh, (bb * h_o1)[..., None], pts)
        nrm = np.where(ax_oh, sign[..., None], nrm)
    elif shape == "sphere":
        cos_t = 1 - 2 * u0
        sin_t = np.sqrt(np.maximum(0.0, 1 - cos_t**2))
        phi = 2 * math.pi * v0
        unit = np.stack([sin_t * np.cos(phi), cos_t, sin_t * np.sin(phi)], axis=1)[None]  # (1, n, 3)
        pts = unit * he[:, None, :]
        nrm = unit / he[:, None, :]
    elif shape in ("cylinder", "capsule"):
        if shape == "cylinder":
            rx, rz, y0 = hx, hz, hy
        else:
            r = np.minimum(hx, hz)
            cy = np.minimum(r, hy)
            rx, rz, y0 = r, r, hy - cy
        face, u = _pick_batch(u0, _face_areas(shape, he))
        phi = 2 * math.pi * v0
        c, s = np.cos(phi)[None], np.sin(phi)[None]  # (1, n)
        side = np.stack([rx * c, (2 * u - 1) * y0, rz * s], axis=2)
        side_n = np.stack([c / rx, np.zeros_like(u), s / rz], axis=2)
        pts = np.where((face == 0)[..., None], side, pts)
        nrm = np.where((face == 0)[..., None], side_n, nrm)
        for f, sgn in ((1, 1.0), (2, -1.0)):
            m = (face == f)[..., None]
            if shape == "cylinder":
                rr = np.sqrt(u)
                cap = np.stack([rx * rr * c, np.broadcast_to(sgn * y0, u.shape), rz * rr * s], axis=2)
                pts = np.where(m, cap, pts)
                nrm = np.where(m, np.array([0.0, sgn, 0.0]), nrm)
            else:
                ct = u
                st = np.sqrt(np.maximum(0.0, 1 - ct**2))
                unit = np.stack([st * c, sgn * ct, st * s], axis=2)
                shift = np.stack([np.zeros_like(y0), sgn * y0, np.zeros_like(y0)], axis=2)  # (B, 1, 3)
                axes = np.stack([rx, cy, rz], axis=2)  # (B, 1, 3)
                hemi = (cy == rx)[..., None]  # (B, 1, 1): hemispherical caps, as the reference
                pts = np.where(m, np.where(hemi, unit * rx[..., None], unit * axes) + shift, pts)
                nrm = np.where(m, np.where(hemi, unit, unit / axes), nrm)
    elif shape == "plane":
        pts = np.stack([(2 * u0 - 1) * hx, np.zeros((b, n)), (2 * v0 - 1) * hz], axis=2)
        nrm[:, :, 1] = 1.0
    elif shape == "ramp":
        face, u = _pick_batch(u0, _face_areas(shape, he))
        v = np.broadcast_to(v0, u.shape)
        x = (2 * u - 1) * hx
        z = (2 * v0 - 1) * hz
        neg_hy = np.broadcast_to(-hy, u.shape)
        hyp = np.array([math.hypot(float(a), float(c)) for a, c in zip(hx[:, 0], hy[:, 0], strict=True)])
        slope_n = np.stack([-hy[:, 0], hx[:, 0], np.zeros(b)], axis=1) / hyp[:, None]  # (B, 3)
        cands = [
            (np.stack([x, neg_hy, z], axis=2), np.array([0.0, -1.0, 0.0])),
            (np.stack([x, -hy + (x + hx) * hy / hx, z], axis=2), slope_n[:, None, :]),
            (np.stack([np.broadcast_to(hx, u.shape), (2 * u - 1) * hy, z], axis=2), np.array([1.0, 0.0, 0.0])),
        ]
        su = np.sqrt(u)
        xx = -hx + 2 * hx * su
        yy = -hy + 2 * hy * (su * v)
        for sgn in (1.0, -1.0):
            cands.append((np.stack([xx, yy, np.broadcast_to(sgn * hz, u.shape)], axis=2), np.array([0.0, 0.0, sgn])))
        for f, (cp, cn) in enumerate(cands):
            m = (face == f)[..., None]
            pts = np.where(m, cp, pts)
            nrm = np.where(m, cn, nrm)
    else:
        raise ValueError(f"unknown shape {shape!r}")
    nrm = nrm / np.maximum(np.linalg.norm(nrm, axis=2, keepdims=True), 1e-12)
    pts = np.clip(pts, -he[:, None, :], he[:, None, :])
    return np.ascontiguousarray(pts), np.ascontiguousarray(nrm)


def surface_area_batch(shape: str, he: np.ndarray) -> np.ndarray:
    """(B,) ``surface_area`` of each row of ``he`` (B, 3), computed with the reference's scalar math."""
    return np.array([surface_area(shape, (float(a), float(b), float(c))) for a, b, c in np.asarray(he).tolist()])
