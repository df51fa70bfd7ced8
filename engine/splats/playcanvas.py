"""PlayCanvas compressed .ply (SuperSplat / splat-transform): 256-splat chunks, 16 bytes a splat.

Elements (binary little endian):

- ``chunk`` (ceil(N/256) records, float32): ``min_x min_y min_z max_x max_y max_z min_scale_x ..
  max_scale_z`` and, in newer files, ``min_r min_g min_b max_r max_g max_b`` (12 or 18 floats).
- ``vertex`` (N records, uint32): ``packed_position`` (11/10/11-bit unorm x/y/z, lerped between
  the chunk bounds), ``packed_rotation`` (2 bits: index of the largest of w,x,y,z; then the other
  three in w,x,y,z order, 10 bits each, value ``(u/1023 - 0.5)·√2``; the largest is rebuilt from
  unit norm), ``packed_scale`` (11/10/11 unorm between the chunk's log-scale bounds),
  ``packed_color`` (8/8/8/8 unorm R,G,B,opacity; RGB lerped between the colour bounds when
  present; colour = 0.5 + C0·f_dc, opacity activated).
- optional ``sh`` (N records of 9, 24 or 45 ``uchar f_rest_i``, channel-major), value ``q·8/255 − 4``.

Bit layouts follow playcanvas/engine ``src/scene/gsplat/gsplat-compressed-data.js``.
"""

from __future__ import annotations

import numpy as np

from engine.errors import InputError
from engine.splats.dotsplat import u8_opacity
from engine.splats.gaussians import SH_C0, GaussianSet
from engine.splats.ply import PlyHeader, normalise_quats, read_elements

CHUNK_PROPS = [
    "min_x", "min_y", "min_z", "max_x", "max_y", "max_z",
    "min_scale_x", "min_scale_y", "min_scale_z", "max_scale_x", "max_scale_y", "max_scale_z",
    "min_r", "min_g", "min_b", "max_r", "max_g", "max_b",
]
VERTEX_PROPS = ["packed_position", "packed_rotation", "packed_scale", "packed_color"]
CHUNK = 256


def is_compressed(header: PlyHeader) -> bool:
    """True when the header has the ``chunk`` + ``vertex.packed_*`` layout of a compressed .ply."""
    vertex = header.element("vertex")
    return header.element("chunk") is not None and vertex is not None and "packed_position" in vertex.names()


def _unorm(v: np.ndarray, shift: int, bits: int) -> np.ndarray:
    return ((v >> np.uint32(shift)) & np.uint32((1 << bits) - 1)).astype(np.float64) / ((1 << bits) - 1)


def _unpack_111011(v: np.ndarray) -> np.ndarray:
    return np.stack([_unorm(v, 21, 11), _unorm(v, 11, 10), _unorm(v, 0, 11)], axis=1)


def _lerp(lo: np.ndarray, hi: np.ndarray, t: np.ndarray) -> np.ndarray:
    return lo * (1.0 - t) + hi * t


def unpack_rotation(v: np.ndarray) -> np.ndarray:
    """packed_rotation (N,) uint32 → unit quaternions (N, 4) w-first, float32."""
    v = np.asarray(v, np.uint32)
    abc = np.stack([_unorm(v, 20, 10), _unorm(v, 10, 10), _unorm(v, 0, 10)], axis=1)
    abc = (abc - 0.5) * np.sqrt(2.0)
    m = np.sqrt(np.maximum(0.0, 1.0 - (abc * abc).sum(axis=1)))
    largest = (v >> np.uint32(30)).astype(np.int64)
    q = np.empty((len(v), 4), np.float64)
    rows = np.arange(len(v))
    q[rows, largest] = m
    # the other three components, in w,x,y,z order, skipping the largest
    others = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])[largest]
    for j in range(3):
        q[rows, others[:, j]] = abc[:, j]
    return normalise_quats(q)


def _fields(rec: np.ndarray, names: list[str], source: str, element: str) -> np.ndarray:
    got = list(rec.dtype.names or ())
    if got != names:
        raise InputError(source, element, f"properties {' '.join(names)} (got {' '.join(got)})")
    return rec


def decode(data: bytes, header: PlyHeader, source: str) -> GaussianSet:
    """Compressed .ply bytes (header already parsed) → activated Gaussians (SH degree 0..3)."""
    if header.format != "binary_little_endian":
        raise InputError(source, "header.format", "binary_little_endian for a compressed .ply")
    chunk_el, vertex_el = header.element("chunk"), header.element("vertex")
    assert chunk_el is not None and vertex_el is not None
    n_chunk_props = len(chunk_el.properties)
    if n_chunk_props not in (12, 18) or any(t != "f4" for _, t in chunk_el.properties):
        raise InputError(source, "chunk", "12 or 18 float properties min_x .. max_scale_z [min_r .. max_b]")
    if any(t != "u4" for _, t in vertex_el.properties):
        raise InputError(source, "vertex", "uint properties " + " ".join(VERTEX_PROPS))
    for el in header.elements:
        if el.name in ("chunk", "vertex", "sh") and el.has_list:
            raise InputError(source, el.name, "fixed-size properties (no list properties) in a compressed .ply")
    elements = read_elements(data, header, source)
    for name in ("chunk", "vertex"):
        if name not in elements:
            raise InputError(source, name, f"an element '{name}' before any list-property element")
    if header.element("sh") is not None and "sh" not in elements:
        raise InputError(source, "sh", "an element 'sh' before any list-property element")
    chunks = _fields(elements["chunk"], CHUNK_PROPS[:n_chunk_props], source, "chunk")
    vertex = _fields(elements["vertex"], VERTEX_PROPS, source, "vertex")
    n = len(vertex)
    if len(chunks) != -(-n // CHUNK):
        raise InputError(source, "chunk", f"ceil({n}/256) = {-(-n // CHUNK)} chunks (got {len(chunks)})")
    for name in CHUNK_PROPS[:n_chunk_props]:
        bad = ~np.isfinite(chunks[name])
        if bad.any():
            raise InputError(source, f"chunk.{name}", f"finite values (chunk {int(np.argmax(bad))} is not)")
    ci = np.arange(n) // CHUNK

    def bounds(lo: list[str], hi: list[str]) -> tuple[np.ndarray, np.ndarray]:
        a = np.stack([chunks[k].astype(np.float64) for k in lo], axis=1)[ci]
        b = np.stack([chunks[k].astype(np.float64) for k in hi], axis=1)[ci]
        return a, b

    lo, hi = bounds(["min_x", "min_y", "min_z"], ["max_x", "max_y", "max_z"])
    with np.errstate(over="ignore", invalid="ignore"):
        means = _lerp(lo, hi, _unpack_111011(vertex["packed_position"])).astype(np.float32)
    lo, hi = bounds(["min_scale_x", "min_scale_y", "min_scale_z"], ["max_scale_x", "max_scale_y", "max_scale_z"])
    log_s = _lerp(lo, hi, _unpack_111011(vertex["packed_scale"]))
    with np.errstate(over="ignore"):
        scales = np.exp(log_s).astype(np.float32)
    bad = ~np.isfinite(scales) | (scales <= 0)
    if bad.any():
        i = int(np.argwhere(bad)[0][0])
        raise InputError(source, "chunk.max_scale_x", f"log scales in [-103, 88] (splat {i} is {log_s[i].max():g})")
    col = vertex["packed_color"]
    rgb = np.stack([_unorm(col, 24, 8), _unorm(col, 16, 8), _unorm(col, 8, 8)], axis=1)
    if n_chunk_props == 18:
        lo, hi = bounds(["min_r", "min_g", "min_b"], ["max_r", "max_g", "max_b"])
        rgb = _lerp(lo, hi, rgb)
    alpha = (col & np.uint32(0xFF)).astype(np.uint8)
    with np.errstate(over="ignore", invalid="ignore"):
        sh0 = ((rgb - 0.5) / SH_C0).astype(np.float32)
    sh = sh0[:, None, :]
    if "sh" in elements:
        sh = np.concatenate([sh, _decode_sh(elements["sh"], n, source)], axis=1)
    for field, arr in (("chunk.min_x", means), ("chunk.min_r", sh0)):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise InputError(source, field, f"bounds within float32 range (splat {int(np.argwhere(bad)[0][0])} overflows)")
    quats = unpack_rotation(vertex["packed_rotation"])
    return GaussianSet(means, scales, quats, u8_opacity(alpha), sh)


def _decode_sh(rec: np.ndarray, n: int, source: str) -> np.ndarray:
    names = list(rec.dtype.names or ())
    m = len(names)
    if m not in (9, 24, 45) or names != [f"f_rest_{i}" for i in range(m)]:
        raise InputError(source, "sh", "9, 24 or 45 uchar properties f_rest_0 .. f_rest_{M-1}")
    if any(rec.dtype[i] != np.uint8 for i in range(m)):
        raise InputError(source, "sh", "uchar properties")
    if len(rec) != n:
        raise InputError(source, "sh", f"{n} records, one per vertex (got {len(rec)})")
    q = rec.view(np.uint8).reshape(n, m) if n else np.zeros((0, m), np.uint8)
    k = m // 3
    rest = q.astype(np.float64) * (8.0 / 255.0) - 4.0
    return rest.reshape(n, 3, k).transpose(0, 2, 1).astype(np.float32)  # channel-major → (N, K-1, 3)
