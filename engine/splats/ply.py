"""PLY reading (any PLY with fixed-size elements) and the INRIA 3D Gaussian Splatting layout.

The INRIA layout is one ``vertex`` element of float32 properties::

    x y z nx ny nz f_dc_0..2 f_rest_0..(3(K-1)-1) opacity scale_0..2 rot_0..3

with log scales, logit opacities, ``f_rest`` channel-major (all red coefficients, then green, then
blue) and ``rot_0`` = w. :func:`decode_inria` reads it into activated values (exp, sigmoid, unit
quaternions); :func:`encode_inria` writes it back.

Exactness. float32 exp/log and sigmoid/logit are not bijections (pigeonhole: there are fewer
float32 log scales in [-7, -4] than float32 scales in [e^-7, e^-4]), so no float32 file can carry
every activated set exactly. What holds:

- file → load → save gives the same bytes for a canonical INRIA float32 file: loaded sets are
  :class:`PlyGaussianSet` and keep the file's raw values, used per element while the activated
  value still matches them (non-canonical files are re-written canonically, then stable);
- set → save → load gives back means, unit quaternions and SH bit for bit; scales and opacities
  bit for bit where some float32 log/logit reproduces them (the writer searches neighbouring
  floats), else the nearest (relative error about |log s|·2⁻²⁴, a few ulp); with ``double_activations=True`` every array comes back bit for bit.

The frame is the file's own (INRIA/COLMAP "RDF": x right, y down, z forward for captured scenes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from engine.errors import InputError
from engine.splats.gaussians import GaussianSet, sh_coeffs

PLY_TYPES: dict[str, str] = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}
FORMATS = {"ascii": "", "binary_little_endian": "<", "binary_big_endian": ">"}
MAX_HEADER = 1 << 20  # a header longer than 1 MiB is not a splat file
TINY = np.float32(2.0**-149)  # smallest positive float32: where sigmoid underflows, opacity stays > 0
LOGIT_RANGE = (-104.0, 40.0)  # the logits we write: sigmoid rounds to TINY below, to 1.0 above


@dataclass
class PlyElement:
    """One ``element`` of a PLY header: its name, record count and properties (name, numpy code)."""

    name: str
    count: int
    properties: list[tuple[str, str]] = field(default_factory=list)
    has_list: bool = False

    def dtype(self, endian: str) -> np.dtype:
        """Structured record dtype for a binary body (``endian`` is ``<`` or ``>``)."""
        return np.dtype([(n, endian + t) for n, t in self.properties])

    def names(self) -> list[str]:
        """Property names in file order."""
        return [n for n, _ in self.properties]


@dataclass
class PlyHeader:
    """A parsed PLY header; ``body`` is the byte offset of the first element record."""

    format: str
    elements: list[PlyElement]
    comments: list[str]
    body: int

    def element(self, name: str) -> PlyElement | None:
        """The element called ``name`` or None."""
        return next((e for e in self.elements if e.name == name), None)


_END = re.compile(rb"end_header[ \t]*\r?\n")
_MAGIC = re.compile(rb"ply[ \t]*\r?\n")


def has_magic(data: bytes) -> bool:
    """True when ``data`` starts with the PLY magic line."""
    return _MAGIC.match(data) is not None


def read_header(data: bytes, source: str) -> PlyHeader:
    """Parse the ASCII header of a PLY file.

    Accepts LF or CRLF line ends, ``comment`` and ``obj_info`` lines, extra whitespace, and the
    type aliases of the PLY spec. Raises :class:`InputError` naming ``source`` and ``header``.
    """
    if not has_magic(data):
        raise InputError(source, "header", "a PLY file starting with the line 'ply'")
    m = _END.search(data, 0, MAX_HEADER)
    if m is None:
        raise InputError(source, "header", "an 'end_header' line within the first 1 MiB")
    try:
        text = data[: m.start()].decode("ascii")
    except UnicodeDecodeError:
        raise InputError(source, "header", "an ASCII header") from None
    fmt: str | None = None
    elements: list[PlyElement] = []
    comments: list[str] = []
    for lineno, raw in enumerate(text.splitlines()[1:], start=2):
        words = raw.split()
        if not words:
            continue
        key = words[0]
        where = f"header line {lineno}"
        if key in ("comment", "obj_info"):
            comments.append(raw.strip()[len(key):].strip())
        elif key == "format":
            if len(words) != 3 or words[1] not in FORMATS or words[2] != "1.0":
                raise InputError(source, where, "'format ascii|binary_little_endian|binary_big_endian 1.0'")
            if fmt is not None:
                raise InputError(source, where, "a single 'format' line")
            fmt = words[1]
        elif key == "element":
            if len(words) != 3 or not words[2].isdigit():
                raise InputError(source, where, "'element NAME COUNT' with a non-negative integer count")
            elements.append(PlyElement(words[1], int(words[2])))
        elif key == "property":
            if not elements:
                raise InputError(source, where, "'property' lines after an 'element' line")
            el = elements[-1]
            if len(words) == 5 and words[1] == "list":
                if words[2] not in PLY_TYPES or words[3] not in PLY_TYPES:
                    raise InputError(source, where, f"a list property of known types {sorted(PLY_TYPES)}")
                el.has_list = True
            elif len(words) == 3 and words[1] in PLY_TYPES:
                if words[2] in el.names():
                    raise InputError(source, where, f"one property named {words[2]!r} in {el.name}")
                el.properties.append((words[2], PLY_TYPES[words[1]]))
            else:
                raise InputError(source, where, f"'property TYPE NAME' with TYPE one of {sorted(PLY_TYPES)}")
        else:
            raise InputError(source, where, f"a header keyword (format, element, property, comment), not {key!r}")
    if fmt is None:
        raise InputError(source, "header", "a 'format' line")
    return PlyHeader(fmt, elements, comments, m.end())


def read_elements(data: bytes, header: PlyHeader, source: str) -> dict[str, np.ndarray]:
    """Read every fixed-size element up to the first one with list properties.

    Returns structured arrays keyed by element name (binary bodies are zero-copy views of
    ``data``). Raises :class:`InputError` naming the element when the body is too short.
    """
    out: dict[str, np.ndarray] = {}
    if header.format == "ascii":
        tokens = data[header.body:].split()
        pos = 0
        for el in header.elements:
            if el.has_list:
                break
            n = el.count * len(el.properties)
            if pos + n > len(tokens):
                raise InputError(source, el.name, f"{el.count} records of {len(el.properties)} ASCII values (file ends early)")
            try:
                vals = np.array(tokens[pos:pos + n], dtype=np.float64).reshape(el.count, len(el.properties))
            except ValueError:
                raise InputError(source, el.name, "numeric ASCII values") from None
            pos += n
            rec = np.empty(el.count, el.dtype("="))
            for j, name in enumerate(el.names()):
                rec[name] = vals[:, j]
            out[el.name] = rec
        return out
    endian = FORMATS[header.format]
    off = header.body
    for el in header.elements:
        if el.has_list:
            break
        dt = el.dtype(endian)
        size = dt.itemsize * el.count
        if off + size > len(data):
            raise InputError(source, el.name, f"{el.count} records of {dt.itemsize} bytes (file ends early at byte {len(data)})")
        out[el.name] = np.frombuffer(data, dt, el.count, off)
        off += size
    return out


@dataclass
class PlyRaw:
    """Raw INRIA values kept beside the activated ones so that writing back is exact.

    log_scales (N, 3) and logit_opacities (N,) as float64 (the file's values exactly),
    quats (N, 4) as in the file (maybe not unit), normals (N, 3) or None, and the file type of
    the scale/opacity properties (``f4`` or ``f8``).
    """

    log_scales: np.ndarray
    logit_opacities: np.ndarray
    quats: np.ndarray
    normals: np.ndarray | None
    activation_type: str = "f4"


@dataclass(eq=False)
class PlyGaussianSet(GaussianSet):
    """A :class:`GaussianSet` read from an INRIA .ply, carrying the file's raw values (``raw``)."""

    raw: PlyRaw | None = field(default=None, repr=False)


# --- activations: float64 math, rounded once to float32 (deterministic across platforms) ---

def exp_scale(log_s: np.ndarray) -> np.ndarray:
    """Log scale → linear scale, float32 (``float32(exp(float64(L)))``)."""
    with np.errstate(over="ignore"):
        return np.exp(np.asarray(log_s, np.float64)).astype(np.float32)


def sigmoid_opacity(logit: np.ndarray) -> np.ndarray:
    """Logit → opacity in (0, 1], float32; where float32 underflows the opacity is 2⁻¹⁴⁹ (invisible)."""
    with np.errstate(over="ignore"):
        o = (1.0 / (1.0 + np.exp(-np.asarray(logit, np.float64)))).astype(np.float32)
    return np.maximum(o, TINY)


def normalise_quats(q: np.ndarray) -> np.ndarray:
    """(N, 4) → unit quaternions, float32 (norm taken in float64); zero rows stay zero.

    Rows already unit to float32 precision (|‖q‖² − 1| ≤ 4·2⁻²³) are kept bit for bit, so
    normalising is idempotent and unit quaternions survive a save/load unchanged.
    """
    q64 = np.asarray(q, np.float64)
    n2 = (q64 * q64).sum(axis=1, keepdims=True)
    unit = np.abs(n2 - 1.0) <= 4 * 2.0**-23
    n = np.sqrt(np.where(n2 == 0, 1.0, n2))
    return np.where(unit, q64, q64 / n).astype(np.float32)


def _invert(values: np.ndarray, forward, guess: np.ndarray) -> np.ndarray:
    """Among ``guess`` and its float32 neighbours (±2 ulp), pick one whose ``forward`` is ``values``."""
    best = guess.copy()
    done = forward(guess) == values
    for k in (1, -1, 2, -2):
        cand = guess
        step = np.float32(np.inf if k > 0 else -np.inf)
        for _ in range(abs(k)):
            cand = np.nextafter(cand, step)
        hit = ~done & (forward(cand) == values)
        best[hit] = cand[hit]
        done |= hit
    return best


def log_scale(s: np.ndarray) -> np.ndarray:
    """Linear scale → float32 log scale L with ``exp_scale(L) == s`` whenever such an L exists."""
    s = np.asarray(s, np.float32)
    guess = np.log(s.astype(np.float64)).astype(np.float32)
    return _invert(s, exp_scale, guess)


def logit_opacity(o: np.ndarray) -> np.ndarray:
    """Opacity → float32 logit with ``sigmoid_opacity(logit) == o`` whenever such a logit exists."""
    o = np.asarray(o, np.float32)
    o64 = o.astype(np.float64)
    with np.errstate(divide="ignore"):
        guess = np.log(o64 / (1.0 - o64))
    guess = np.clip(guess, *LOGIT_RANGE).astype(np.float32)
    return _invert(o, sigmoid_opacity, guess)


def _rest_count(names: list[str], source: str) -> int:
    rest = [n for n in names if n.startswith("f_rest_")]
    if sorted(rest) != sorted(f"f_rest_{i}" for i in range(len(rest))):
        raise InputError(source, "vertex.f_rest_0", "f_rest_0..f_rest_{M-1} numbered without gaps")
    if len(rest) not in (0, 9, 24, 45):
        raise InputError(source, f"vertex.f_rest_{len(rest) - 1}", "0, 9, 24 or 45 f_rest properties (SH degree 0..3)")
    return len(rest)


def _column(vertex: np.ndarray, name: str, source: str, dtype: type = np.float32) -> np.ndarray:
    if name not in (vertex.dtype.names or ()):
        raise InputError(source, f"vertex.{name}", f"a property named {name} (INRIA 3DGS layout)")
    col = vertex[name].astype(dtype)
    bad = ~np.isfinite(col)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(source, f"vertex.{name}", f"finite values (vertex {i} is {col[i]})")
    return col


def decode_inria(vertex: np.ndarray, source: str) -> PlyGaussianSet:
    """INRIA ``vertex`` records (structured array, any numeric types) → activated Gaussians.

    Raises :class:`InputError` naming ``vertex.<property>`` for a missing property, a non-finite
    value, a zero quaternion or a log scale outside float32's range.
    """
    names = list(vertex.dtype.names or ())
    n_rest = _rest_count(names, source)
    col = lambda name: _column(vertex, name, source)  # noqa: E731
    means = np.stack([col("x"), col("y"), col("z")], axis=1)
    k = n_rest // 3 + 1
    sh = np.empty((len(vertex), k, 3), np.float32)
    for c in range(3):
        sh[:, 0, c] = col(f"f_dc_{c}")
        for j in range(k - 1):
            sh[:, 1 + j, c] = col(f"f_rest_{c * (k - 1) + j}")
    col64 = lambda name: _column(vertex, name, source, np.float64)  # noqa: E731
    log_s = np.stack([col64(f"scale_{i}") for i in range(3)], axis=1)
    scales = exp_scale(log_s)
    bad = ~np.isfinite(scales) | (scales <= 0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InputError(source, f"vertex.scale_{j}", f"a log scale in [-103, 88] (vertex {i} is {log_s[i, j]})")
    logit = col64("opacity")
    raw_q = np.stack([col(f"rot_{i}") for i in range(4)], axis=1)
    zero = ~(np.abs(raw_q) > 0).any(axis=1)
    if zero.any():
        raise InputError(source, "vertex.rot_0", f"a non-zero quaternion (vertex {int(np.argmax(zero))} is 0,0,0,0)")
    quats = normalise_quats(raw_q)
    normals = None
    if all(f"n{a}" in names for a in "xyz"):
        normals = np.stack([vertex[f"n{a}"].astype(np.float32) for a in "xyz"], axis=1)
    kinds = {vertex.dtype[p].str[1:] for p in ("scale_0", "scale_1", "scale_2", "opacity")}
    raw = PlyRaw(log_s, logit, raw_q, normals, kinds.pop() if len(kinds) == 1 else "mixed")
    return PlyGaussianSet(means, scales, quats, sigmoid_opacity(logit), sh, raw=raw)


def inria_properties(degree: int) -> list[str]:
    """Property names of the canonical INRIA layout for SH ``degree``."""
    rest = [f"f_rest_{i}" for i in range(3 * (sh_coeffs(degree) - 1))]
    return ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2", *rest, "opacity",
            "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]


def encode_inria(gs: GaussianSet, double_activations: bool = False) -> bytes:
    """Gaussians → canonical INRIA binary little-endian .ply bytes (header + body).

    All properties are float32, except that ``double_activations=True`` writes ``opacity`` and
    ``scale_*`` as double: float64 log/logit invert float32 exp/sigmoid exactly, so loading gives
    back every array bit for bit (standard readers that accept any numeric type read it too).
    Uses the raw values of a :class:`PlyGaussianSet` wherever they still match its activated ones.
    ``gs`` must be valid (finite, scales > 0, opacities in (0, 1], non-zero quaternions).
    """
    n, k = len(gs), gs.sh.shape[1]
    props = inria_properties(gs.sh_degree)
    act = "f8" if double_activations else "f4"
    types = {p: ("double" if act == "f8" and (p == "opacity" or p.startswith("scale_")) else "float") for p in props}
    header = "ply\nformat binary_little_endian 1.0\n" + f"element vertex {n}\n"
    header += "".join(f"property {types[p]} {p}\n" for p in props) + "end_header\n"
    s64 = gs.scales.astype(np.float64)
    o64 = gs.opacities.astype(np.float64)
    if double_activations:
        log_s = np.log(s64)
        with np.errstate(divide="ignore"):
            logit = np.clip(np.log(o64 / (1.0 - o64)), *LOGIT_RANGE)
    else:
        log_s = log_scale(gs.scales).astype(np.float64)
        logit = logit_opacity(gs.opacities).astype(np.float64)
    quats = gs.quats.copy()
    normals = np.zeros((n, 3), np.float32)
    raw = getattr(gs, "raw", None)
    if isinstance(raw, PlyRaw) and raw.quats.shape == (n, 4):
        if raw.activation_type == act:
            keep = exp_scale(raw.log_scales) == gs.scales
            log_s[keep] = raw.log_scales[keep]
            keep = sigmoid_opacity(raw.logit_opacities) == gs.opacities
            logit[keep] = raw.logit_opacities[keep]
        keep = (normalise_quats(raw.quats) == gs.quats).all(axis=1)
        quats[keep] = raw.quats[keep]
        if raw.normals is not None:
            normals = raw.normals
    fields = [(p, "<" + ("f8" if types[p] == "double" else "f4")) for p in props]
    body = np.empty(n, np.dtype(fields))
    cols: dict[str, np.ndarray] = {"opacity": logit}
    for i, a in enumerate("xyz"):
        cols[a] = gs.means[:, i]
        cols[f"n{a}"] = normals[:, i]
    for c in range(3):
        cols[f"f_dc_{c}"] = gs.sh[:, 0, c]
        for j in range(k - 1):
            cols[f"f_rest_{c * (k - 1) + j}"] = gs.sh[:, 1 + j, c]  # channel-major
        cols[f"scale_{c}"] = log_s[:, c]
    for i in range(4):
        cols[f"rot_{i}"] = quats[:, i]
    for p in props:
        body[p] = cols[p]
    return header.encode("ascii") + body.tobytes()
