"""Mesh building blocks for the teacher: vertex layout, instanced prototypes and value noise.

A teacher mesh is a flat triangle list of ``VERTEX_FLOATS`` float32 per vertex:
``pos(3) normal(3) albedo(3) centre(3) u(1) thin(1)``: ``centre`` is the detail instance's anchor
point (damage and burn shrink a piece towards it), ``u`` in [0, 1) its random removal threshold
(< 0 for the base surface, which never shrinks), ``thin`` is 1 for two-sided cards (blades, leaves).
"""

from __future__ import annotations

import numpy as np

VERTEX_FLOATS = 14


def vertices(pos: np.ndarray, nrm: np.ndarray, alb: np.ndarray, ctr: np.ndarray, u: np.ndarray,
             thin: float) -> np.ndarray:
    """Pack per-vertex arrays (n,3)x4 and (n,) into the (n, 14) float32 layout."""
    n = pos.shape[0]
    out = np.empty((n, VERTEX_FLOATS), np.float32)
    out[:, 0:3] = pos
    out[:, 3:6] = nrm
    out[:, 6:9] = alb
    out[:, 9:12] = ctr
    out[:, 12] = u
    out[:, 13] = thin
    return out


def _cube() -> np.ndarray:
    c = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    tris = [t for a, b, cc, d in quads for t in ((a, b, cc), (a, cc, d))]
    return c[np.array(tris).reshape(-1)]


_OCTA_V = ((1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1))
_OCTA_F = ((0, 2, 4), (2, 1, 4), (1, 3, 4), (3, 0, 4), (2, 0, 5), (1, 2, 5), (3, 1, 5), (0, 3, 5))


def _octa_subdivided() -> tuple[np.ndarray, np.ndarray]:
    """Unit octahedron subdivided once: (18 unique vertices, (32, 3) triangle indices)."""
    v = [np.array(p, float) for p in _OCTA_V]
    faces = list(_OCTA_F)
    mids: dict[tuple[int, int], int] = {}

    def mid(a: int, b: int) -> int:
        k = (min(a, b), max(a, b))
        if k not in mids:
            m = v[a] + v[b]
            v.append(m / np.linalg.norm(m))
            mids[k] = len(v) - 1
        return mids[k]

    tris = []
    for a, b, c in faces:
        ab, bc, ca = mid(a, b), mid(b, c), mid(c, a)
        tris += [(a, ab, ca), (ab, b, bc), (ca, bc, c), (ab, bc, ca)]
    return np.array(v), np.array(tris)


CUBE = _cube()  # (36, 3) unit cube triangle list centred at 0
ROCK_VERTS, ROCK_TRIS = _octa_subdivided()
PEBBLE_VERTS, PEBBLE_TRIS = np.array(_OCTA_V, float), np.array(_OCTA_F)  # 8 faces, for small pieces
# A bent grass blade, base at the origin, rising along +z (the surface normal), width along x.
BLADE = np.array([
    [-0.5, 0, 0], [0.5, 0, 0], [0.32, 0.12, 0.5],
    [-0.5, 0, 0], [0.32, 0.12, 0.5], [-0.32, 0.12, 0.5],
    [-0.32, 0.12, 0.5], [0.32, 0.12, 0.5], [0.0, 0.4, 1.0],
])
BLADE_SHADE = np.array([0.55, 0.55, 0.85, 0.55, 0.85, 0.85, 0.85, 0.85, 1.15])
# A leaf card: a diamond in the local xy plane with a slight cup along z.
LEAF = np.array([[0, 0, 0], [0.35, 0.5, 0.06], [0, 1, 0.1], [0, 0, 0], [0, 1, 0.1], [-0.35, 0.5, 0.06]])


def frames(normal: np.ndarray, du: np.ndarray) -> np.ndarray:
    """Orthonormal frames (N, 3, 3) with rows (tangent_u, tangent_v, normal)."""
    n = normal / np.maximum(np.linalg.norm(normal, axis=-1, keepdims=True), 1e-12)
    tu = du - np.sum(du * n, -1, keepdims=True) * n
    bad = np.linalg.norm(tu, axis=-1) < 1e-9
    if bad.any():
        alt = np.where(np.abs(n[bad, :1]) < 0.9, [[1.0, 0, 0]], [[0, 0, 1.0]])
        tu[bad] = alt - np.sum(alt * n[bad], -1, keepdims=True) * n[bad]
    tu /= np.linalg.norm(tu, axis=-1, keepdims=True)
    tv = np.cross(n, tu)
    return np.stack([tu, tv, n], 1)


def rotate_frames(fr: np.ndarray, yaw: np.ndarray, tilt: np.ndarray) -> np.ndarray:
    """Rotate frames about their normal by ``yaw``, then tilt the normal towards tangent_v by ``tilt``."""
    cy, sy = np.cos(yaw)[:, None], np.sin(yaw)[:, None]
    tu = cy * fr[:, 0] + sy * fr[:, 1]
    tv = -sy * fr[:, 0] + cy * fr[:, 1]
    ct, st = np.cos(tilt)[:, None], np.sin(tilt)[:, None]
    n = ct * fr[:, 2] + st * tv
    tv2 = ct * tv - st * fr[:, 2]
    return np.stack([tu, tv2, n], 1)


def instance(proto: np.ndarray, centres: np.ndarray, fr: np.ndarray, scale: np.ndarray, albedo: np.ndarray,
             u: np.ndarray, thin: float, shade: np.ndarray | None = None,
             origin: np.ndarray | None = None) -> np.ndarray:
    """Place a prototype triangle list at N frames.

    proto: (M, 3) or per-instance (N, M, 3) local vertices; centres (N, 3); fr (N, 3, 3) rows
    (tu, tv, n); scale (N, 3) along the local axes; albedo (N, 3); u (N,) removal thresholds;
    shade: (M,) per-vertex albedo factor; origin: (N, 3) shrink centres (default ``centres``).
    Returns (N*M, 14) vertices with flat normals (closed pieces face away from their centre).
    """
    n_inst = centres.shape[0]
    if n_inst == 0:
        return np.zeros((0, VERTEX_FLOATS), np.float32)
    local = proto if proto.ndim == 3 else np.broadcast_to(proto, (n_inst,) + proto.shape)
    local = local * scale[:, None, :]
    pos = centres[:, None, :] + np.matmul(local, fr)
    tri = pos.reshape(n_inst, -1, 3, 3)
    nrm = np.cross(tri[:, :, 1] - tri[:, :, 0], tri[:, :, 2] - tri[:, :, 0])
    nrm /= np.maximum(np.linalg.norm(nrm, axis=-1, keepdims=True), 1e-20)
    if not thin:
        out_dir = tri.mean(2) - centres[:, None, :]
        nrm *= np.where(np.sum(nrm * out_dir, -1, keepdims=True) < 0, -1.0, 1.0)
    nrm = np.repeat(nrm, 3, axis=1)
    m = local.shape[1]
    alb = np.broadcast_to(albedo[:, None, :], (n_inst, m, 3))
    if shade is not None:
        alb = alb * shade[None, :, None]
    org = centres if origin is None else origin
    ctr = np.broadcast_to(org[:, None, :], (n_inst, m, 3))
    uu = np.broadcast_to(u[:, None], (n_inst, m))
    return vertices(pos.reshape(-1, 3), nrm.reshape(-1, 3), alb.reshape(-1, 3), ctr.reshape(-1, 3),
                    uu.reshape(-1), thin)


def rocks(rng: np.random.Generator, n: int, jitter: float, small: bool = False) -> np.ndarray:
    """Faceted rock triangle lists with radial jitter: (n, 96, 3) (subdivided octahedron) or,
    ``small``, (n, 24, 3) (plain octahedron)."""
    verts, tris = (PEBBLE_VERTS, PEBBLE_TRIS) if small else (ROCK_VERTS, ROCK_TRIS)
    r = 1.0 + jitter * (rng.random((n, verts.shape[0])) * 2 - 1)
    v = verts[None] * r[..., None]
    return v[:, tris.reshape(-1)]


def _hash3(ix: np.ndarray, iy: np.ndarray, iz: np.ndarray) -> np.ndarray:
    h = (ix.astype(np.uint32) * np.uint32(73856093)) ^ (iy.astype(np.uint32) * np.uint32(19349663)) \
        ^ (iz.astype(np.uint32) * np.uint32(83492791))
    h ^= h >> np.uint32(13)
    h *= np.uint32(0x5BD1E995)
    h ^= h >> np.uint32(15)
    return (h & np.uint32(0xFFFFFF)).astype(np.float64) / float(0x1000000)


def hash3(ix: np.ndarray, iy: np.ndarray, iz: np.ndarray) -> np.ndarray:
    """A hash of integer lattice coordinates (arrays of one shape, any sign) → floats in [0, 1)."""
    return _hash3(np.asarray(ix, np.int64), np.asarray(iy, np.int64), np.asarray(iz, np.int64))


def value_noise(p: np.ndarray) -> np.ndarray:
    """Smooth 3D value noise in [0, 1] at points p (..., 3) (lattice spacing 1)."""
    with np.errstate(over="ignore"):
        f = np.floor(p)
        i = f.astype(np.int64)
        w = p - f
        w = w * w * (3 - 2 * w)
        out = 0.0
        for dx in (0, 1):
            for dy in (0, 1):
                for dz in (0, 1):
                    wt = (w[..., 0] if dx else 1 - w[..., 0]) * (w[..., 1] if dy else 1 - w[..., 1]) \
                        * (w[..., 2] if dz else 1 - w[..., 2])
                    out = out + wt * _hash3(i[..., 0] + dx, i[..., 1] + dy, i[..., 2] + dz)
        return out


def fbm(p: np.ndarray, octaves: int = 3) -> np.ndarray:
    """Fractal value noise in [0, 1]."""
    total, amp, norm = 0.0, 1.0, 0.0
    for k in range(octaves):
        total = total + amp * value_noise(p * (2.0**k) + 17.0 * k)
        norm += amp
        amp *= 0.5
    return total / norm
