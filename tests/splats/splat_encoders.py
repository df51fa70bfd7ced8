"""Test-side writers of the lossy formats (SPZ v2/v3/v4, PlayCanvas compressed .ply), written from the
format descriptions independently of the readers, plus a plain spherical-harmonics evaluator.

They let the tests feed known Gaussians through each reader and bound the error by the format's
quantisation step.
"""

from __future__ import annotations

import gzip
import struct

import numpy as np
import zstandard

from engine.splats.gaussians import SH_C0, GaussianSet


def random_set(n: int, degree: int = 0, seed: int = 0, extent: float = 2.0) -> GaussianSet:
    """N random valid Gaussians in a box of half-size ``extent``."""
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return GaussianSet(
        means=rng.uniform(-extent, extent, (n, 3)),
        scales=np.exp(rng.uniform(np.log(0.002), np.log(0.3), (n, 3))),
        quats=q,
        opacities=rng.uniform(0.02, 0.98, n),
        sh=rng.normal(0, 0.3, (n, (degree + 1) ** 2, 3)).clip(-0.9, 0.9),
    )


# --- SPZ -------------------------------------------------------------------------------------

def _rub(gs: GaussianSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Our PLY-frame (RDF) values → SPZ's RUB: rotate by pi about x (y, z negated)."""
    pos = gs.means.astype(np.float64) * [1, -1, -1]
    q = gs.quats.astype(np.float64) * [1, 1, -1, -1]  # w, x, y, z
    # sign of each real SH basis function (degrees 1..3, gsplat order) under (x, y, z) -> (x, -y, -z)
    x, y, z = 1, -1, -1
    flip = np.array([y, z, x, x * y, y * z, 1, x * z, 1, y, x * y * z, y, z, x, z, x], np.float64)
    rest = gs.sh[:, 1:].astype(np.float64) * flip[: gs.sh.shape[1] - 1, None]
    return pos, q, rest


def spz_arrays(gs: GaussianSet, version: int, fractional_bits: int = 12) -> list[bytes]:
    """The six attribute arrays of an SPZ file (positions, alphas, colours, scales, rotations, sh)."""
    n = len(gs)
    pos, q, rest = _rub(gs)
    fixed = np.round(pos * (1 << fractional_bits)).astype(np.int64) & 0xFFFFFF
    positions = np.stack([fixed & 0xFF, (fixed >> 8) & 0xFF, fixed >> 16], axis=-1).astype(np.uint8)
    alphas = np.clip(np.round(gs.opacities.astype(np.float64) * 255), 0, 255).astype(np.uint8)
    colors = np.clip(np.round(gs.sh[:, 0].astype(np.float64) * 0.15 * 255 + 127.5), 0, 255).astype(np.uint8)
    scales = np.clip(np.round((np.log(gs.scales.astype(np.float64)) + 10) * 16), 0, 255).astype(np.uint8)
    xyzw = q[:, [1, 2, 3, 0]]
    if version < 3:
        xyzw = xyzw * np.where(xyzw[:, 3:] < 0, -1, 1)
        rot = np.clip(np.round(xyzw[:, :3] * 127.5 + 127.5), 0, 255).astype(np.uint8)
    else:
        rot = np.zeros((n, 4), np.uint8)
        for i in range(n):
            qi = xyzw[i]
            big = int(np.argmax(np.abs(qi)))
            neg = qi[big] < 0
            comp = big
            for j in range(4):
                if j != big:
                    negbit = int((qi[j] < 0) ^ neg)
                    mag = int(511 * abs(qi[j]) / np.sqrt(0.5) + 0.5)
                    comp = (comp << 10) | (negbit << 9) | mag
            rot[i] = [comp & 0xFF, (comp >> 8) & 0xFF, (comp >> 16) & 0xFF, (comp >> 24) & 0xFF]
    sh = np.clip(np.round(rest * 128 + 128), 0, 255).astype(np.uint8)  # (N, dim, 3) interleaved
    return [a.tobytes() for a in (positions, alphas, colors, scales, rot, sh)]


def encode_spz(gs: GaussianSet, version: int = 4, antialiased: bool = False, fractional_bits: int = 12) -> bytes:
    """An SPZ file of ``version`` 2, 3 (gzip) or 4 (zstd streams + table of contents)."""
    arrays = spz_arrays(gs, version, fractional_bits)
    flags = 1 if antialiased else 0
    if version < 4:
        head = struct.pack("<IIIBBBB", 0x5053474E, version, len(gs), gs.sh_degree, fractional_bits, flags, 0)
        return gzip.compress(head + b"".join(arrays))
    streams = [a for a in arrays if a]
    frames = [zstandard.ZstdCompressor(level=3).compress(a) for a in streams]
    head = struct.pack("<IIIBBBBI12x", 0x5053474E, 4, len(gs), gs.sh_degree, fractional_bits, flags, len(frames), 32)
    toc = b"".join(struct.pack("<QQ", len(f), len(a)) for f, a in zip(frames, streams, strict=True))
    return head + toc + b"".join(frames)


# --- PlayCanvas compressed .ply --------------------------------------------------------------

def _unorm(t: np.ndarray, bits: int) -> np.ndarray:
    return np.clip(np.round(t * ((1 << bits) - 1)), 0, (1 << bits) - 1).astype(np.uint32)


def _pack_111011(t: np.ndarray) -> np.ndarray:
    return (_unorm(t[:, 0], 11) << 21) | (_unorm(t[:, 1], 10) << 11) | _unorm(t[:, 2], 11)


def encode_playcanvas(gs: GaussianSet, color_bounds: bool = True) -> bytes:
    """A PlayCanvas compressed .ply (18- or 12-float chunks, optional ``sh`` element)."""
    n = len(gs)
    nchunks = -(-n // 256)
    chunk_rows, packed = [], np.zeros((n, 4), np.uint32)
    rgb = gs.sh[:, 0].astype(np.float64) * SH_C0 + 0.5
    log_s = np.log(gs.scales.astype(np.float64))
    for c in range(nchunks):
        s = slice(c * 256, min(n, (c + 1) * 256))
        lo, hi = gs.means[s].min(0), gs.means[s].max(0)
        slo, shi = log_s[s].min(0), log_s[s].max(0)
        clo, chi = rgb[s].min(0), rgb[s].max(0)
        row = [*lo, *hi, *slo, *shi] + ([*clo, *chi] if color_bounds else [])
        chunk_rows.append(row)
        span = lambda a, b: np.where(b > a, b - a, 1.0)  # noqa: E731
        packed[s, 0] = _pack_111011((gs.means[s] - lo) / span(lo, hi))
        packed[s, 2] = _pack_111011((log_s[s] - slo) / span(slo, shi))
        col = (rgb[s] - clo) / span(clo, chi) if color_bounds else np.clip(rgb[s], 0, 1)
        a = _unorm(gs.opacities[s].astype(np.float64), 8)
        packed[s, 3] = (_unorm(col[:, 0], 8) << 24) | (_unorm(col[:, 1], 8) << 16) | (_unorm(col[:, 2], 8) << 8) | a
    q = gs.quats.astype(np.float64)
    big = np.argmax(np.abs(q), axis=1)
    q = q * np.where(q[np.arange(n), big] < 0, -1, 1)[:, None]
    rot = big.astype(np.uint32) << 30
    for r in range(n):
        others = [j for j in range(4) if j != big[r]]
        for k, j in enumerate(others):
            rot[r] |= _unorm(np.array(q[r, j] / np.sqrt(2) + 0.5), 10) << (20 - 10 * k)
    packed[:, 1] = rot
    props = ["min_x", "min_y", "min_z", "max_x", "max_y", "max_z", "min_scale_x", "min_scale_y",
             "min_scale_z", "max_scale_x", "max_scale_y", "max_scale_z"]
    if color_bounds:
        props += ["min_r", "min_g", "min_b", "max_r", "max_g", "max_b"]
    lines = ["ply", "format binary_little_endian 1.0", f"element chunk {nchunks}"]
    lines += [f"property float {p}" for p in props]
    lines += [f"element vertex {n}"] + [f"property uint packed_{p}" for p in ("position", "rotation", "scale", "color")]
    body = np.asarray(chunk_rows, "<f4").tobytes() + packed.astype("<u4").tobytes()
    k = gs.sh.shape[1] - 1
    if k:
        lines += [f"element sh {n}"] + [f"property uchar f_rest_{i}" for i in range(3 * k)]
        rest = gs.sh[:, 1:].astype(np.float64).transpose(0, 2, 1).reshape(n, 3 * k)  # channel-major
        body += np.clip(np.round((rest + 4) * 255 / 8), 0, 255).astype(np.uint8).tobytes()
    return ("\n".join(lines) + "\nend_header\n").encode() + body


# --- spherical harmonics (3DGS real basis, degrees 0..3) --------------------------------------

def sh_colour(sh: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Colour 0.5 + SH(d) (before clamping) for coefficients (N, K, 3) and unit directions (N, 3)."""
    x, y, z = d[:, 0:1], d[:, 1:2], d[:, 2:3]
    k = sh.shape[1]
    basis = [np.full_like(x, 0.28209479177387814)]
    if k > 1:
        c1 = 0.4886025119029199
        basis += [-c1 * y, c1 * z, -c1 * x]
    if k > 4:
        xx, yy, zz = x * x, y * y, z * z
        basis += [1.0925484305920792 * x * y, -1.0925484305920792 * y * z,
                  0.31539156525252005 * (2 * zz - xx - yy), -1.0925484305920792 * x * z,
                  0.5462742152960396 * (xx - yy)]
    if k > 9:
        basis += [-0.5900435899266435 * y * (3 * xx - yy), 2.890611442640554 * x * y * z,
                  -0.4570457994644658 * y * (4 * zz - xx - yy),
                  0.3731763325901154 * z * (2 * zz - 3 * xx - 3 * yy),
                  -0.4570457994644658 * x * (4 * zz - xx - yy), 1.445305721320277 * z * (xx - yy),
                  -0.5900435899266435 * x * (xx - 3 * yy)]
    b = np.concatenate(basis[:k], axis=1)  # (N, K)
    return 0.5 + np.einsum("nk,nkc->nc", b, sh.astype(np.float64))


def quat_matrix(q: np.ndarray) -> np.ndarray:
    """(N, 4) w-first unit quaternions → (N, 3, 3) rotation matrices."""
    w, x, y, z = (q[:, i].astype(np.float64) for i in range(4))
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], 1)
