"""Packing a `GaussianSet` into the splat pass's GPU layout (and unpacking it back, for tests).

Per-splat layout: 32 bytes = two RGBA32UI texels of the splat texture (``SPLAT_TEXELS`` = 2).
The shader ``shaders/splat.glsl`` unpacks exactly this; keep the two in step.

    texel 0  .x  mean.x            float32 bits   (anchor-local metres)
             .y  mean.y            float32 bits
             .z  mean.z            float32 bits
             .w  anchor slot       bits  0..15   (0xFFFF marks a free slot: culled)
                 opacity           bits 16..31   unorm16
    texel 1  .x  scale.x | scale.y << 16         float16 each (linear std-devs)
             .y  scale.z | base.r << 16          float16 each
             .z  base.g  | base.b << 16          float16 each
             .w  rotation, "smallest three": bits 30..31 index of the largest |component|
                 of (w, x, y, z) (its sign made positive), bits 0..29 the other three in order,
                 10 bits each, mapping [-1/√2, 1/√2] to 0..1023

``base`` = 0.5 + C0·sh[:, 0] is the degree-0 colour before the max(·, 0) clamp (SH of higher degree
add to it in the shader). Higher SH coefficients live in a separate RGBA32UI texture, float16 each,
coefficient-major then channel (k=1..K-1, rgb): degree 1 → 9 halves (2 texels), degree 2 → 24 (3),
degree 3 → 45 (6 texels); rows of ``SH_TEXELS[degree]`` texels per splat, contiguous per anchor.
"""

from __future__ import annotations

import numpy as np

from engine.splats.gaussians import SH_C0, GaussianSet

SPLAT_TEXELS = 2  # RGBA32UI texels per splat (32 bytes)
SPLAT_BYTES = SPLAT_TEXELS * 16
SH_TEXELS = {0: 0, 1: 2, 2: 3, 3: 6}  # RGBA32UI texels per splat of higher SH, by degree
FREE_ANCHOR = 0xFFFF
MAX_ANCHORS = 0xFFFF  # slots 0..0xFFFE
QUAT_RANGE = 1.0 / np.sqrt(2.0)


def _half_bits(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, np.float32).astype(np.float16).view(np.uint16).astype(np.uint32)


def pack_quats(quats: np.ndarray) -> np.ndarray:
    """Unit quaternions (N, 4) w-first → (N,) uint32 "smallest three" codes (see module doc)."""
    q = np.asarray(quats, np.float64)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    big = np.argmax(np.abs(q), axis=1)
    sign = np.where(q[np.arange(len(q)), big] < 0, -1.0, 1.0)
    q = q * sign[:, None]
    code = big.astype(np.uint32) << 30
    shift = 20
    # the three components other than `big`, in index order
    others = np.array([[c for c in range(4) if c != b] for b in range(4)])[big]  # (N, 3)
    vals = np.take_along_axis(q, others, axis=1)
    u = np.clip(np.rint((vals / QUAT_RANGE * 0.5 + 0.5) * 1023.0), 0, 1023).astype(np.uint32)
    for j in range(3):
        code |= u[:, j] << np.uint32(shift - 10 * j)
    return code


def unpack_quats(code: np.ndarray) -> np.ndarray:
    """Inverse of :func:`pack_quats`: (N,) uint32 → (N, 4) float32 unit quaternions, w-first."""
    code = np.asarray(code, np.uint32)
    big = (code >> 30).astype(np.int64)
    vals = np.stack([((code >> np.uint32(20 - 10 * j)) & 1023).astype(np.float64) for j in range(3)], 1)
    vals = (vals / 1023.0 * 2.0 - 1.0) * QUAT_RANGE
    q = np.zeros((len(code), 4))
    others = np.array([[c for c in range(4) if c != b] for b in range(4)])[big]
    np.put_along_axis(q, others, vals, axis=1)
    q[np.arange(len(code)), big] = np.sqrt(np.maximum(0.0, 1.0 - (vals**2).sum(1)))
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def pack_splats(g: GaussianSet, anchor_slot: int) -> np.ndarray:
    """Pack Gaussians into (N, 8) uint32 rows (two RGBA32UI texels each) for anchor slot ``anchor_slot``."""
    n = len(g)
    out = np.zeros((n, 8), np.uint32)
    out[:, 0:3] = g.means.view(np.uint32)
    op = np.clip(np.rint(g.opacities.astype(np.float64) * 65535.0), 0, 65535).astype(np.uint32)
    out[:, 3] = np.uint32(anchor_slot & 0xFFFF) | (op << 16)
    base = (0.5 + SH_C0 * g.sh[:, 0, :]).astype(np.float32)
    s = _half_bits(np.maximum(g.scales, 1e-7))
    b = _half_bits(base)
    out[:, 4] = s[:, 0] | (s[:, 1] << 16)
    out[:, 5] = s[:, 2] | (b[:, 0] << 16)
    out[:, 6] = b[:, 1] | (b[:, 2] << 16)
    out[:, 7] = pack_quats(g.quats)
    return out


def pack_sh(g: GaussianSet) -> np.ndarray:
    """Higher SH coefficients (k ≥ 1) → (N, 4·SH_TEXELS[degree]) uint32 of float16 pairs."""
    deg = g.sh_degree
    n = len(g)
    texels = SH_TEXELS[deg]
    if texels == 0:
        return np.zeros((n, 0), np.uint32)
    rest = g.sh[:, 1:, :].reshape(n, -1).astype(np.float16)  # (N, 3(K-1)) coefficient-major, rgb
    halves = np.zeros((n, texels * 8), np.float16)
    halves[:, : rest.shape[1]] = rest
    return np.ascontiguousarray(halves).view(np.uint32).reshape(n, texels * 4)


def unpack_splats(rows: np.ndarray) -> tuple[GaussianSet, np.ndarray]:
    """Inverse of :func:`pack_splats` (SH degree 0 only): (N, 8) uint32 → (GaussianSet, anchor slots (N,))."""
    rows = np.asarray(rows, np.uint32)
    means = rows[:, 0:3].copy().view(np.float32)
    slot = rows[:, 3] & 0xFFFF
    op = (rows[:, 3] >> 16).astype(np.float32) / 65535.0

    def halves(col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo = (col & 0xFFFF).astype(np.uint16).view(np.float16).astype(np.float32)
        hi = (col >> 16).astype(np.uint16).view(np.float16).astype(np.float32)
        return lo, hi

    sx, sy = halves(rows[:, 4])
    sz, br = halves(rows[:, 5])
    bg, bb = halves(rows[:, 6])
    base = np.stack([br, bg, bb], 1)
    sh = ((base - 0.5) / SH_C0)[:, None, :]
    g = GaussianSet(means, np.stack([sx, sy, sz], 1), unpack_quats(rows[:, 7]), op, sh)
    return g, slot
