"""SplatDelta: the versioned msgpack wire format between the world-model stage and any renderer.

The same bytes feed the local renderer, a save and a network client. A message is one msgpack map::

    {"v": 1, "seq": int, "key": bool, "ops": [op, ...]}

``key`` marks a keyframe (the full state: a receiver drops everything it had first); other
messages are deltas and must arrive in order (``seq`` = previous + 1). Each op is a map with
``"o"`` (the op name) and ``"a"`` (the anchor uid):

- ``proxy``:  ``shape``, ``he`` (3 half-extents, m), ``mat`` (material tag), ``st`` (4 states)
- ``set``:    one anchor's Gaussians in the anchor's own frame (layout below), ``lod``
- ``remove``: forget the anchor (proxy, Gaussians and transform)
- ``xform``:  ``m``, the anchor's local→world matrix as 12 little-endian float32 (rows 0..2 of 4×4)

Quantised ``set`` layout (``"enc": "q"``), 16 bytes per Gaussian for SH degree 0, each array a
separate little-endian ``bin`` field, so numpy reads them without copies::

    mean  3 × u16   position in the set's own AABB [lo, hi] (per axis, lo/hi float32 in the op)
    scale 3 × u8    log scale, linear in [slo, shi] (two float32 in the op)
    rot   3 × u8    quaternion, smallest-three: 2-bit index of the largest |component|,
                    then the other three as 7-bit values in [-1/√2, 1/√2] (1 spare bit, 0)
    opa   1 × u8    opacity (q + 0.5) / 256, always inside (0, 1)
    dc    3 × u8    SH DC coefficient per channel, linear in [clo[c], chi[c]]
    rest  (K-1)·3 × u8  higher SH bands (degree ≥ 1), linear in [rlo, rhi]; absent for degree 0

Worst-case decoding errors (asserted by ``tests/splats/test_wire.py``):
means ≤ (hi − lo)/131070 per axis; log scales ≤ (shi − slo)/510; each quaternion component of the
smallest three ≤ 0.7072/127 before renormalisation (≤ 0.035 rad, 2°, of rotation); opacity ≤ 1/512;
SH coefficients ≤ (chi − clo)/510 per channel. ``"enc": "f32"`` is the plain float32 reference
twin (``engine.splats.wire_reference``): lossless, 4× larger.

Decoding validates everything — message size, version, field types and sizes, counts, finite
values, known ops and tags — and raises :class:`engine.errors.InputError` naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import msgpack
import numpy as np

from engine.errors import InputError
from engine.splats.gaussians import GaussianSet, sh_coeffs
from engine.splats.vocab import MATERIALS, SHAPES, STATES

VERSION = 1
MAX_MESSAGE_BYTES = 64 << 20  # a whole village keyframe is a few MB
MAX_GAUSSIANS = 1 << 21  # per anchor
MAX_OPS = 1 << 18
MAX_ANCHOR_LEN = 256
MAX_ABS_COORD = 1.0e6  # metres
LOG_SCALE_RANGE = (-30.0, 10.0)  # exp() of these is finite and > 0 in float32
BYTES_PER_GAUSSIAN_SH0 = 16
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
OPS = ("proxy", "set", "remove", "xform")


# --------------------------------------------------------------------------------------- ops


@dataclass(frozen=True)
class ProxyOp:
    """Show an anchor's flat proxy (until, and beside, its Gaussians).

    half_extents: (3,) metres; state: one value in [0, 1] per ``STATES`` entry.
    """

    anchor: str
    shape: str
    half_extents: tuple[float, float, float]
    material: str
    state: tuple[float, ...] = (0.0,) * len(STATES)


@dataclass(frozen=True, eq=False)
class SetOp:
    """Replace an anchor's Gaussians (anchor-local frame) at level of detail ``lod``."""

    anchor: str
    gaussians: GaussianSet
    lod: int = 0


@dataclass(frozen=True)
class RemoveOp:
    """Forget an anchor entirely."""

    anchor: str


@dataclass(frozen=True, eq=False)
class XformOp:
    """Move an anchor: matrix (4, 4) float32 local→world (last row 0, 0, 0, 1)."""

    anchor: str
    matrix: np.ndarray

    def __post_init__(self) -> None:
        m = np.asarray(self.matrix, np.float32).reshape(4, 4).copy()
        m[3] = (0.0, 0.0, 0.0, 1.0)
        object.__setattr__(self, "matrix", m)


Op = ProxyOp | SetOp | RemoveOp | XformOp


@dataclass
class SplatDelta:
    """One wire message: a sequence number, whether it is a keyframe, and its ops in order."""

    seq: int
    ops: list[Op] = field(default_factory=list)
    keyframe: bool = False


# ------------------------------------------------------------------------------ quantisation


_OTHER_SLOTS = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])  # the three slots that are not idx


def _quat_pack(q: np.ndarray) -> np.ndarray:
    """Unit quaternions (N, 4) w-first → smallest-three codes (N, 3) uint8 (little-endian 24 bits)."""
    q = np.asarray(q, np.float64)
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-30)
    idx = np.argmax(np.abs(q), axis=1)
    sign = np.where(q[np.arange(len(q)), idx] < 0, -1.0, 1.0)
    q = q * sign[:, None]
    others = q[np.arange(len(q))[:, None], _OTHER_SLOTS[idx]]
    code = np.clip(np.rint((others / _INV_SQRT2 + 1.0) * 63.5), 0, 127).astype(np.uint32)
    word = (idx.astype(np.uint32) << 21) | (code[:, 0] << 14) | (code[:, 1] << 7) | code[:, 2]
    return np.stack([word & 0xFF, (word >> 8) & 0xFF, (word >> 16) & 0xFF], axis=1).astype(np.uint8)


def _quat_unpack(b: np.ndarray) -> np.ndarray:
    """Smallest-three codes (N, 3) uint8 → unit quaternions (N, 4) float32, w-first."""
    b = b.astype(np.uint32)
    word = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
    idx = ((word >> 21) & 3).astype(np.intp)
    code = np.stack([(word >> 14) & 127, (word >> 7) & 127, word & 127], axis=1).astype(np.float64)
    others = (code / 63.5 - 1.0) * _INV_SQRT2
    largest = np.sqrt(np.maximum(0.0, 1.0 - (others * others).sum(axis=1)))
    q = np.zeros((len(b), 4))
    rows = np.arange(len(b))
    q[rows, idx] = largest
    q[rows[:, None], _OTHER_SLOTS[idx]] = others
    q /= np.linalg.norm(q, axis=1, keepdims=True)  # never zero: largest or some other is > 0
    return q.astype(np.float32)


def _lin_pack(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, levels: int, dtype: type) -> np.ndarray:
    span = np.where(hi > lo, hi - lo, 1.0)
    return np.clip(np.rint((x - lo) / span * levels), 0, levels).astype(dtype)


def _lin_unpack(q: np.ndarray, lo: np.ndarray, hi: np.ndarray, levels: int) -> np.ndarray:
    lo64 = np.asarray(lo, np.float64)
    return (lo64 + q.astype(np.float64) / levels * (np.asarray(hi, np.float64) - lo64)).astype(np.float32)


def pack_set(g: GaussianSet) -> dict[str, Any]:
    """Quantise one anchor's Gaussians into the ``"enc": "q"`` fields of a ``set`` op."""
    n = len(g)
    k = g.sh.shape[1]
    if n == 0:
        lo = hi = np.zeros(3, np.float32)
        slo = shi = 0.0
        clo = chi = np.zeros(3, np.float32)
        rlo = rhi = 0.0
    else:
        lo, hi = g.means.min(axis=0), g.means.max(axis=0)
        logs = np.log(g.scales.astype(np.float64))
        slo, shi = float(np.float32(logs.min())), float(np.float32(logs.max()))
        clo, chi = g.sh[:, 0].min(axis=0), g.sh[:, 0].max(axis=0)
        rest = g.sh[:, 1:]
        rlo = float(rest.min()) if rest.size else 0.0
        rhi = float(rest.max()) if rest.size else 0.0
    out: dict[str, Any] = {
        "enc": "q",
        "n": n,
        "k": k,
        "lo": [float(v) for v in np.asarray(lo, np.float32)],
        "hi": [float(v) for v in np.asarray(hi, np.float32)],
        "slo": slo,
        "shi": shi,
        "clo": [float(v) for v in np.asarray(clo, np.float32)],
        "chi": [float(v) for v in np.asarray(chi, np.float32)],
        "rlo": float(np.float32(rlo)),
        "rhi": float(np.float32(rhi)),
    }
    f64 = np.float64
    out["mean"] = _lin_pack(g.means.astype(f64), np.array(out["lo"]), np.array(out["hi"]), 65535, np.dtype("<u2")).tobytes()
    logs = np.log(g.scales.astype(f64)) if n else np.zeros((0, 3))
    out["scale"] = _lin_pack(logs, np.array(slo), np.array(shi), 255, np.uint8).tobytes()
    out["rot"] = _quat_pack(g.quats).tobytes()
    out["opa"] = np.clip(np.floor(g.opacities.astype(f64) * 256.0), 0, 255).astype(np.uint8).tobytes()
    out["dc"] = _lin_pack(g.sh[:, 0].astype(f64), np.array(out["clo"]), np.array(out["chi"]), 255, np.uint8).tobytes()
    out["rest"] = _lin_pack(g.sh[:, 1:].astype(f64), np.array(out["rlo"]), np.array(out["rhi"]), 255, np.uint8).tobytes()
    return out


def unpack_set(d: dict[str, Any], source: str, where: str) -> GaussianSet:
    """Decode and validate the ``"enc": "q"`` fields of a ``set`` op (see :func:`pack_set`)."""
    n, k = _count(d, source, where)
    lo = _floats(d, "lo", 3, source, where, MAX_ABS_COORD)
    hi = _floats(d, "hi", 3, source, where, MAX_ABS_COORD)
    if (hi < lo).any():
        raise InputError(source, f"{where}.hi", "each value >= lo")
    slo = _floats(d, "slo", None, source, where, None, LOG_SCALE_RANGE)
    shi = _floats(d, "shi", None, source, where, None, LOG_SCALE_RANGE)
    if shi < slo:
        raise InputError(source, f"{where}.shi", "a value >= slo")
    clo = _floats(d, "clo", 3, source, where, 1.0e3)
    chi = _floats(d, "chi", 3, source, where, 1.0e3)
    rlo = _floats(d, "rlo", None, source, where, 1.0e3)
    rhi = _floats(d, "rhi", None, source, where, 1.0e3)
    if (chi < clo).any() or rhi < rlo:
        raise InputError(source, f"{where}.chi", "colour ranges with hi >= lo")
    mean = _bin(d, "mean", n * 6, source, where, np.dtype("<u2")).reshape(n, 3)
    scale = _bin(d, "scale", n * 3, source, where, np.uint8).reshape(n, 3)
    rot = _bin(d, "rot", n * 3, source, where, np.uint8).reshape(n, 3)
    opa = _bin(d, "opa", n, source, where, np.uint8)
    dc = _bin(d, "dc", n * 3, source, where, np.uint8).reshape(n, 3)
    rest = _bin(d, "rest", n * (k - 1) * 3, source, where, np.uint8).reshape(n, k - 1, 3)
    sh = np.empty((n, k, 3), np.float32)
    sh[:, 0] = _lin_unpack(dc, clo, chi, 255)
    sh[:, 1:] = _lin_unpack(rest, np.float64(rlo), np.float64(rhi), 255)
    return GaussianSet(
        means=_lin_unpack(mean, lo, hi, 65535),
        scales=np.exp(_lin_unpack(scale, np.float64(slo), np.float64(shi), 255).astype(np.float64)).astype(np.float32),
        quats=_quat_unpack(rot),
        opacities=((opa.astype(np.float64) + 0.5) / 256.0).astype(np.float32),
        sh=sh,
    )


# ----------------------------------------------------------------------------- encode/decode


def pack_op(op: Op, quantised: bool = True) -> dict[str, Any]:
    """One op as the msgpack-ready map that goes on the wire."""
    if isinstance(op, ProxyOp):
        return {"o": "proxy", "a": op.anchor, "shape": op.shape, "he": [float(v) for v in op.half_extents],
                "mat": op.material, "st": [float(v) for v in op.state]}
    if isinstance(op, SetOp):
        if quantised:
            body = pack_set(op.gaussians)
        else:
            from engine.splats.wire_reference import pack_set_f32

            body = pack_set_f32(op.gaussians)
        return {"o": "set", "a": op.anchor, "lod": int(op.lod), **body}
    if isinstance(op, RemoveOp):
        return {"o": "remove", "a": op.anchor}
    if isinstance(op, XformOp):
        return {"o": "xform", "a": op.anchor, "m": np.ascontiguousarray(op.matrix[:3], "<f4").tobytes()}
    raise TypeError(f"not a SplatDelta op: {op!r}")


def encode_packed(seq: int, packed_ops: list[dict[str, Any]], keyframe: bool = False) -> bytes:
    """Encode already-packed op maps (see :func:`pack_op`) as one message."""
    return msgpack.packb({"v": VERSION, "seq": int(seq), "key": bool(keyframe), "ops": packed_ops}, use_bin_type=True)


def encode(delta: SplatDelta, quantised: bool = True) -> bytes:
    """Encode a SplatDelta; ``quantised=False`` uses the lossless float32 reference layout."""
    return encode_packed(delta.seq, [pack_op(op, quantised) for op in delta.ops], delta.keyframe)


def decode(data: bytes, source: str = "SplatDelta") -> SplatDelta:
    """Decode and validate one message; any bad input raises ``InputError(source, field, ...)``."""
    msg = decode_raw(data, source)
    return SplatDelta(seq=msg["seq"], keyframe=msg["key"], ops=[_unpack_op(o, source, f"ops[{i}]") for i, o in enumerate(msg["ops"])])


def decode_raw(data: bytes, source: str = "SplatDelta") -> dict[str, Any]:
    """Parse the envelope (size, msgpack, version, seq, key, ops list) without decoding the ops."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InputError(source, "", f"bytes, got {type(data).__name__}")
    if len(data) > MAX_MESSAGE_BYTES:
        raise InputError(source, "", f"a message of at most {MAX_MESSAGE_BYTES} bytes, got {len(data)}")
    try:
        msg = msgpack.unpackb(
            bytes(data), raw=False, strict_map_key=True, max_bin_len=MAX_MESSAGE_BYTES,
            max_str_len=1 << 16, max_array_len=MAX_OPS, max_map_len=64, max_ext_len=0,
        )
    except Exception as exc:  # msgpack raises ValueError, ExtraData, FormatError, StackError, ...
        raise InputError(source, "", f"a msgpack map ({type(exc).__name__}: {exc})") from None
    if not isinstance(msg, dict):
        raise InputError(source, "", f"a msgpack map, got {type(msg).__name__}")
    if msg.get("v") != VERSION:
        raise InputError(source, "v", f"wire version {VERSION}, got {msg.get('v')!r}")
    seq = msg.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 1 << 63:
        raise InputError(source, "seq", "an integer in [0, 2^63)")
    if not isinstance(msg.get("key"), bool):
        raise InputError(source, "key", "true or false")
    ops = msg.get("ops")
    if not isinstance(ops, list):
        raise InputError(source, "ops", "a list of op maps")
    for i, o in enumerate(ops):
        if not isinstance(o, dict):
            raise InputError(source, f"ops[{i}]", "an op map")
        if o.get("o") not in OPS:
            raise InputError(source, f"ops[{i}].o", f"one of {', '.join(OPS)}, got {o.get('o')!r}")
        a = o.get("a")
        if not isinstance(a, str) or not 0 < len(a) <= MAX_ANCHOR_LEN:
            raise InputError(source, f"ops[{i}].a", f"an anchor uid string of 1..{MAX_ANCHOR_LEN} characters")
    return msg


def _unpack_op(o: dict[str, Any], source: str, where: str) -> Op:
    kind, anchor = o["o"], o["a"]
    if kind == "remove":
        return RemoveOp(anchor)
    if kind == "xform":
        m = _bin(o, "m", 48, source, where, np.dtype("<f4")).reshape(3, 4)
        if not np.isfinite(m).all() or np.abs(m).max() > MAX_ABS_COORD:
            raise InputError(source, f"{where}.m", f"12 finite float32 of magnitude <= {MAX_ABS_COORD:g}")
        full = np.eye(4, dtype=np.float32)
        full[:3] = m
        return XformOp(anchor, full)
    if kind == "proxy":
        shape, mat = o.get("shape"), o.get("mat")
        if not isinstance(shape, str) or shape not in SHAPES:
            raise InputError(source, f"{where}.shape", f"one of {', '.join(SHAPES)}")
        if not isinstance(mat, str) or mat not in MATERIALS:
            raise InputError(source, f"{where}.mat", "a material tag from engine.splats.vocab")
        he = _floats(o, "he", 3, source, where, 1000.0)
        if (he <= 0).any():
            raise InputError(source, f"{where}.he", "3 half-extents in (0, 1000] m")
        st = _floats(o, "st", len(STATES), source, where, 1.0)
        if (st < 0).any():
            raise InputError(source, f"{where}.st", f"{len(STATES)} states in [0, 1]")
        return ProxyOp(anchor, shape, tuple(float(v) for v in he), mat, tuple(float(v) for v in st))
    # set
    lod = o.get("lod")
    if not isinstance(lod, int) or isinstance(lod, bool) or not 0 <= lod < 16:
        raise InputError(source, f"{where}.lod", "an integer level of detail in [0, 16)")
    enc = o.get("enc")
    if enc == "q":
        g = unpack_set(o, source, where)
    elif enc == "f32":
        from engine.splats.wire_reference import unpack_set_f32

        g = unpack_set_f32(o, source, where)
    else:
        raise InputError(source, f"{where}.enc", "'q' (quantised) or 'f32' (reference)")
    return SetOp(anchor, g, lod)


# ----------------------------------------------------------------------------- field checks


def _count(d: dict[str, Any], source: str, where: str) -> tuple[int, int]:
    n, k = d.get("n"), d.get("k")
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_GAUSSIANS:
        raise InputError(source, f"{where}.n", f"a Gaussian count in [0, {MAX_GAUSSIANS}]")
    if k not in tuple(sh_coeffs(deg) for deg in range(4)):
        raise InputError(source, f"{where}.k", "SH coefficients per channel: 1, 4, 9 or 16")
    return n, k


def _floats(d: dict[str, Any], name: str, count: int | None, source: str, where: str,
            bound: float | None, interval: tuple[float, float] | None = None) -> Any:
    """A float field (count None) or a list of ``count`` floats, finite and within ``bound``."""
    v = d.get(name)
    vals = [v] if count is None else v
    ok = isinstance(vals, list) and len(vals) == (1 if count is None else count) and all(
        isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in vals)
    if ok and bound is not None:
        ok = all(abs(x) <= bound for x in vals)
    if ok and interval is not None:
        ok = all(interval[0] <= x <= interval[1] for x in vals)
    if not ok:
        what = "a finite number" if count is None else f"a list of {count} finite numbers"
        limit = f" within ±{bound:g}" if bound is not None else f" in [{interval[0]:g}, {interval[1]:g}]" if interval else ""
        raise InputError(source, f"{where}.{name}", what + limit)
    return float(v) if count is None else np.asarray(vals, np.float64)


def _bin(d: dict[str, Any], name: str, nbytes: int, source: str, where: str, dtype: Any) -> np.ndarray:
    v = d.get(name)
    if not isinstance(v, bytes) or len(v) != nbytes:
        got = f"{len(v)} bytes" if isinstance(v, bytes) else type(v).__name__
        raise InputError(source, f"{where}.{name}", f"{nbytes} bytes of binary data, got {got}")
    return np.frombuffer(v, dtype=dtype)


# ------------------------------------------------------------------------------- the mirror


@dataclass
class AnchorSplats:
    """What a receiver knows of one anchor: its proxy, Gaussians and matrix (each maybe absent)."""

    proxy: ProxyOp | None = None
    gaussians: GaussianSet | None = None
    lod: int = -1
    matrix: np.ndarray | None = None


class SplatScene:
    """The receiving end: applies messages in order and can re-emit the full state as a keyframe.

    A renderer, a save or a network client each hold one. Keyframes carry the packed bytes that
    were received, so a keyframe re-encodes nothing (no second quantisation).
    """

    def __init__(self, source: str = "SplatDelta", sink: Any = None) -> None:
        self.source = source
        self.sink = sink  # optional: on_proxy(op), on_set(op, matrix or None), on_remove(anchor), on_xform(op)
        self.anchors: dict[str, AnchorSplats] = {}
        self.seq = -1
        self._packed: dict[str, dict[str, dict[str, Any]]] = {}

    def apply_bytes(self, data: bytes) -> SplatDelta:
        """Decode ``data``, check its sequence number and apply it; returns the decoded delta."""
        msg = decode_raw(data, self.source)
        if not msg["key"] and self.seq >= 0 and msg["seq"] != self.seq + 1:
            raise InputError(self.source, "seq", f"{self.seq + 1} (next in order) or a keyframe, got {msg['seq']}")
        ops = [_unpack_op(o, self.source, f"ops[{i}]") for i, o in enumerate(msg["ops"])]
        if msg["key"]:
            if self.sink is not None:
                for uid in list(self.anchors):
                    self.sink.on_remove(uid)
            self.anchors.clear()
            self._packed.clear()
        for op, raw in zip(ops, msg["ops"], strict=True):
            self._apply(op, raw)
        self.seq = msg["seq"]
        return SplatDelta(msg["seq"], ops, msg["key"])

    def _apply(self, op: Op, raw: dict[str, Any]) -> None:
        sink = self.sink
        if isinstance(op, RemoveOp):
            self.anchors.pop(op.anchor, None)
            self._packed.pop(op.anchor, None)
            if sink is not None:
                sink.on_remove(op.anchor)
            return
        a = self.anchors.setdefault(op.anchor, AnchorSplats())
        self._packed.setdefault(op.anchor, {})[raw["o"]] = raw
        if isinstance(op, ProxyOp):
            a.proxy = op
            if sink is not None:
                sink.on_proxy(op)
        elif isinstance(op, SetOp):
            a.gaussians, a.lod = op.gaussians, op.lod
            if sink is not None:
                sink.on_set(op, a.matrix)
        elif isinstance(op, XformOp):
            a.matrix = op.matrix
            if sink is not None:
                sink.on_xform(op)

    def keyframe(self, seq: int | None = None) -> bytes:
        """The full state as one keyframe message (anchors in sorted order, so bytes are stable)."""
        ops = [p[k] for uid in sorted(self._packed) for p in (self._packed[uid],) for k in ("proxy", "xform", "set") if k in p]
        return encode_packed(max(self.seq, 0) if seq is None else seq, ops, keyframe=True)

    def splat_count(self) -> int:
        """Total Gaussians held."""
        return sum(len(a.gaussians) for a in self.anchors.values() if a.gaussians is not None)
