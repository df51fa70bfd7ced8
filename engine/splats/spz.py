"""Niantic SPZ: v1-v3 (one gzip stream) and v4 (zstd streams behind a table of contents).

Layout (nianticlabs/spz ``src/cc/load-spz.cc``), all little endian:

- v1-v3: gzip of a 16-byte header ``magic "NGSP" u32, version u32, numPoints u32, shDegree u8,
  fractionalBits u8, flags u8, reserved u8`` followed by the attribute arrays.
- v4: a 32-byte header ``magic, version, numPoints, shDegree u8, fractionalBits u8, flags u8,
  numStreams u8, tocByteOffset u32, 12 reserved``, optional extension bytes, the table of contents
  (numStreams × ``compressedSize u64, uncompressedSize u64``) and the zstd frames back to back.

Attribute arrays, in this order (v4: one stream each, empty ones omitted):
positions (24-bit signed fixed point with ``fractionalBits``; v1: float16) ×3, alphas u8
(sigmoid·255), colours u8 ×3 (``f_dc·0.15·255 + 127.5``), scales u8 ×3 (``(log s + 10)·16``),
rotations (v1-v2: x,y,z u8 as ``(q+1)·127.5`` with w ≥ 0 rebuilt; v3+: "smallest three" u32 with
2 bits of largest index and 3 × (sign bit + 9-bit magnitude / √½), x,y,z,w order), SH u8 per
(coefficient, channel) interleaved, value ``(q − 128)/128``. Flag bit 0: antialiased.

SPZ stores RUB axes (x right, y up, z back); we convert to the INRIA/PLY frame RDF (y and z
negated, a rotation by π about x): positions ×(1,−1,−1), quaternion x,y,z ×(1,−1,−1), and each SH
coefficient × the sign of its basis function under that flip (odd in y xor z).
SH of degree 4 (SPZ allows it) is truncated to degree 3, the most a :class:`GaussianSet` holds.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import zstandard

from engine.errors import InputError
from engine.splats.dotsplat import u8_opacity
from engine.splats.gaussians import GaussianSet
from engine.splats.ply import normalise_quats

NGSP_MAGIC = 0x5053474E
NGSP_MAGIC_BYTES = b"NGSP"
COLOR_SCALE = 0.15
FLAG_ANTIALIASED = 0x1
MAX_RATIO = 1100  # deflate and zstd cannot expand beyond ~1032:1; bounds headers that lie
# RUB → RDF signs for the 15 SH coefficients of degrees 1..3 (x = +1, y = z = −1 in spz's table)
FLIP_SH = np.array([-1, -1, 1, -1, 1, 1, -1, 1, -1, 1, -1, -1, 1, -1, 1], np.float32)
FLIP_P = np.array([1, -1, -1], np.float32)
FLIP_Q = np.array([1, 1, -1, -1], np.float32)  # w, x, y, z
STREAMS = ("positions", "alphas", "colors", "scales", "rotations", "sh")


def sh_dim(degree: int) -> int:
    """Non-DC SH coefficients per channel for ``degree`` (0 → 0, 3 → 15, 4 → 24)."""
    return (degree + 1) ** 2 - 1


def stream_sizes(n: int, degree: int, version: int) -> dict[str, int]:
    """Uncompressed byte size of each attribute array."""
    return {
        "positions": n * (6 if version == 1 else 9),
        "alphas": n,
        "colors": 3 * n,
        "scales": 3 * n,
        "rotations": n * (4 if version >= 3 else 3),
        "sh": n * sh_dim(degree) * 3,
    }


def decode(data: bytes, source: str) -> tuple[GaussianSet, int, bool]:
    """SPZ bytes → (activated Gaussians in the PLY frame, version, antialiased flag)."""
    if data[:4] == NGSP_MAGIC_BYTES:
        return _decode_v4(data, source)
    if data[:2] == b"\x1f\x8b":
        return _decode_gzip(data, source)
    raise InputError(source, "header", "an SPZ file: gzip (v1-v3) or 'NGSP' magic (v4)")


def _check_header(source: str, version: int, n: int, degree: int, bits: int, versions: range) -> None:
    if version not in versions:
        raise InputError(source, "header.version", f"SPZ version {versions.start}..{versions.stop - 1} (got {version})")
    if n == 0 or n > 2**31 - 1:
        raise InputError(source, "header.numPoints", f"1 .. 2^31-1 points (got {n})")
    if degree > 4:
        raise InputError(source, "header.shDegree", f"SH degree 0..4 (got {degree})")
    if bits > 24:
        raise InputError(source, "header.fractionalBits", f"0..24 fractional bits (got {bits})")


def _decode_gzip(data: bytes, source: str) -> tuple[GaussianSet, int, bool]:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        head = d.decompress(data, 16)
        if len(head) < 16:
            raise InputError(source, "header", "a 16-byte SPZ header inside the gzip stream")
        magic, version, n, degree, bits, flags, _ = struct.unpack("<IIIBBBB", head)
        if magic != NGSP_MAGIC:
            raise InputError(source, "header.magic", "'NGSP' at the start of the gzip stream")
        _check_header(source, version, n, degree, bits, range(1, 4))
        sizes = stream_sizes(n, degree, version)
        total = sum(sizes.values())
        if total > len(data) * MAX_RATIO:
            raise InputError(source, "header.numPoints", f"a point count that fits the file size (got {n})")
        body = d.decompress(d.unconsumed_tail, total)
    except zlib.error as e:
        raise InputError(source, "gzip", f"a valid gzip stream ({e})") from None
    if len(body) < total:
        raise InputError(source, "body", f"{total} bytes of attributes for {n} points (gzip stream ends after {len(body)})")
    arrays: dict[str, bytes] = {}
    off = 0
    for name in STREAMS:
        arrays[name] = body[off:off + sizes[name]]
        off += sizes[name]
    return _unpack(arrays, n, degree, bits, version, source), version, bool(flags & FLAG_ANTIALIASED)


def _decode_v4(data: bytes, source: str) -> tuple[GaussianSet, int, bool]:
    if len(data) < 32:
        raise InputError(source, "header", "a 32-byte SPZ v4 header (file is shorter)")
    _, version, n, degree, bits, flags, n_streams, toc = struct.unpack_from("<IIIBBBBI", data)
    _check_header(source, version, n, degree, bits, range(4, 5))
    if n > len(data) * MAX_RATIO // 9:
        raise InputError(source, "header.numPoints", f"a point count that fits the file size (got {n})")
    sizes = stream_sizes(n, degree, version)
    names = [k for k in STREAMS if sizes[k] > 0]
    if n_streams != len(names):
        raise InputError(source, "header.numStreams", f"{len(names)} streams for SH degree {degree} (got {n_streams})")
    toc_end = toc + 16 * n_streams
    if toc < 32 or toc_end > len(data):
        raise InputError(source, "header.tocByteOffset", f"a table of contents inside the file (offset {toc})")
    off = toc_end
    arrays: dict[str, bytes] = {"sh": b""}
    dctx = zstandard.ZstdDecompressor()
    for i, name in enumerate(names):
        csize, usize = struct.unpack_from("<QQ", data, toc + 16 * i)
        if usize != sizes[name]:
            raise InputError(source, f"toc.{name}", f"{sizes[name]} uncompressed bytes (got {usize})")
        if csize > len(data) - off:
            raise InputError(source, f"toc.{name}", "a compressed stream inside the file (file truncated?)")
        try:
            raw = dctx.decompress(data[off:off + csize], max_output_size=usize)
        except zstandard.ZstdError as e:
            raise InputError(source, f"stream.{name}", f"a valid zstd stream ({e})") from None
        if len(raw) != usize:
            raise InputError(source, f"stream.{name}", f"{usize} bytes after decompression (got {len(raw)})")
        arrays[name] = raw
        off += csize
    if off != len(data):
        raise InputError(source, "toc", f"streams that end at the end of the file ({len(data) - off} bytes left over)")
    return _unpack(arrays, n, degree, bits, version, source), version, bool(flags & FLAG_ANTIALIASED)


def unpack_smallest_three(r: np.ndarray) -> np.ndarray:
    """(N, 4) u8 "smallest three" rotations → (N, 4) x,y,z,w float64 (not yet normalised)."""
    comp = r.astype(np.uint32)
    comp = comp[:, 0] | (comp[:, 1] << 8) | (comp[:, 2] << 16) | (comp[:, 3] << 24)
    largest = (comp >> 30).astype(np.int64)
    q = np.zeros((len(r), 4), np.float64)
    rows = np.arange(len(r))
    # components are stored from high to low bits in index order, skipping the largest
    for i in range(3, -1, -1):
        use = largest != i
        mag = (comp & 0x1FF).astype(np.float64)
        neg = ((comp >> 9) & 1).astype(bool)
        val = np.sqrt(0.5) * mag / 511.0
        q[use, i] = np.where(neg, -val, val)[use]
        comp = np.where(use, comp >> 10, comp)
    q[rows, largest] = np.sqrt(np.maximum(0.0, 1.0 - (q * q).sum(axis=1)))
    return q


def _unpack(a: dict[str, bytes], n: int, degree: int, bits: int, version: int, source: str) -> GaussianSet:
    if version == 1:
        pos = np.frombuffer(a["positions"], "<f2").reshape(n, 3).astype(np.float32)
        bad = ~np.isfinite(pos)
        if bad.any():
            raise InputError(source, "positions", f"finite float16 positions (point {int(np.argwhere(bad)[0][0])} is not)")
    else:
        b = np.frombuffer(a["positions"], np.uint8).reshape(n, 3, 3).astype(np.int32)
        fixed = b[..., 0] | (b[..., 1] << 8) | (b[..., 2] << 16)
        fixed = np.where(fixed & 0x800000, fixed - (1 << 24), fixed)
        pos = (fixed.astype(np.float64) / (1 << bits)).astype(np.float32)
    opac = u8_opacity(np.frombuffer(a["alphas"], np.uint8))
    col = np.frombuffer(a["colors"], np.uint8).reshape(n, 3).astype(np.float64)
    dc = ((col / 255.0 - 0.5) / COLOR_SCALE).astype(np.float32)
    log_s = np.frombuffer(a["scales"], np.uint8).reshape(n, 3).astype(np.float64) / 16.0 - 10.0
    scales = np.exp(log_s).astype(np.float32)
    if version >= 3:
        xyzw = unpack_smallest_three(np.frombuffer(a["rotations"], np.uint8).reshape(n, 4))
    else:
        xyz = np.frombuffer(a["rotations"], np.uint8).reshape(n, 3).astype(np.float64) / 127.5 - 1.0
        w = np.sqrt(np.maximum(0.0, 1.0 - (xyz * xyz).sum(axis=1)))
        xyzw = np.concatenate([xyz, w[:, None]], axis=1)
    quats = normalise_quats(xyzw[:, [3, 0, 1, 2]])
    dim = sh_dim(degree)
    keep = min(dim, 15)  # we carry SH up to degree 3; degree 4 is truncated
    rest = np.frombuffer(a["sh"], np.uint8).reshape(n, dim, 3)[:, :keep].astype(np.float32)
    rest = (rest - 128.0) / 128.0
    # RUB → RDF
    pos = pos * FLIP_P
    quats = quats * FLIP_Q
    rest = rest * FLIP_SH[:keep, None]
    sh = np.concatenate([dc[:, None, :], rest], axis=1)
    return GaussianSet(pos, scales, quats, opac, sh)
