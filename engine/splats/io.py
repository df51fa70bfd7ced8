"""Load Gaussian splat files of any supported format; save the INRIA .ply.

Formats (chosen by extension, confirmed by the file's magic bytes; unknown extensions are sniffed):

- ``.ply``  INRIA 3DGS binary/ASCII PLY (:mod:`engine.splats.ply`) or PlayCanvas compressed PLY
  (:mod:`engine.splats.playcanvas`, recognised by its ``chunk`` element and ``packed_*`` properties)
- ``.splat`` antimatter15 32-byte records (:mod:`engine.splats.dotsplat`)
- ``.spz``  Niantic SPZ v1-v3 (gzip) and v4 (zstd streams) (:mod:`engine.splats.spz`)

Every loader returns activated values in the INRIA/PLY frame (SPZ's RUB axes are converted), so
the same scene gives the same splats whatever format it came in; :func:`rotate_x180` turns that
frame (y down for captured scenes) into our Y-up one. Any problem with the file raises
:class:`engine.errors.InputError` naming the file, the property and what was expected.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import InputError
from engine.files import atomic_write, read_input
from engine.splats import dotsplat, playcanvas, ply, spz
from engine.splats.gaussians import GaussianSet

EXTENSIONS = (".ply", ".splat", ".spz")


@dataclass
class SplatFileInfo:
    """What a file said about itself besides the Gaussians.

    format: "inria-ply", "playcanvas-ply", "splat" or "spz"; version: SPZ version (else 0);
    antialiased: SPZ's antialiased flag (splats trained with mip/antialiasing filters);
    comments: PLY header comments.
    """

    format: str
    version: int = 0
    antialiased: bool = False
    comments: list[str] = field(default_factory=list)


def _read(path: str | os.PathLike[str]) -> bytes:
    return read_input(path, "file")


def _sniff(data: bytes, suffix: str, source: str) -> str:
    is_ply = ply.has_magic(data)
    is_spz = data[:4] == spz.NGSP_MAGIC_BYTES or data[:2] == b"\x1f\x8b"
    if suffix == ".ply" or (suffix not in EXTENSIONS and is_ply):
        return "ply"
    if suffix == ".spz" or (suffix not in EXTENSIONS and is_spz):
        return "spz"
    if suffix == ".splat":
        return "splat"
    raise InputError(source, "header", "a splat file: .ply (INRIA or PlayCanvas compressed), .splat or .spz")


def decode(data: bytes, source: str, suffix: str = "") -> tuple[GaussianSet, SplatFileInfo]:
    """Decode the bytes of a splat file (``suffix`` like ".ply" picks the format, "" sniffs)."""
    kind = _sniff(data, suffix.lower(), source)
    if kind == "ply":
        header = ply.read_header(data, source)
        if playcanvas.is_compressed(header):
            return playcanvas.decode(data, header, source), SplatFileInfo("playcanvas-ply", comments=header.comments)
        elements = ply.read_elements(data, header, source)
        if "vertex" not in elements:
            raise InputError(source, "vertex", "an 'element vertex' of fixed-size properties")
        return ply.decode_inria(elements["vertex"], source), SplatFileInfo("inria-ply", comments=header.comments)
    if kind == "spz":
        gs, version, antialiased = spz.decode(data, source)
        return gs, SplatFileInfo("spz", version=version, antialiased=antialiased)
    return dotsplat.decode(data, source), SplatFileInfo("splat")


def load_with_info(path: str | os.PathLike[str]) -> tuple[GaussianSet, SplatFileInfo]:
    """Load a splat file and report its format, SPZ version and flags."""
    return decode(_read(path), str(path), Path(path).suffix)


def load(path: str | os.PathLike[str]) -> GaussianSet:
    """Load a .ply (INRIA or PlayCanvas compressed), .splat or .spz file as activated Gaussians.

    Returns a :class:`GaussianSet` (a :class:`~engine.splats.ply.PlyGaussianSet` for INRIA .ply,
    which carries the raw file values so that :func:`save_ply` writes the same bytes back).
    Raises :class:`InputError` (file, property, expectation) for any unreadable or invalid file.

    Example::

        gs = load("scene.spz"); save_ply("scene.ply", gs)
    """
    return load_with_info(path)[0]


def rotate_x180(gs: GaussianSet) -> GaussianSet:
    """Rotate a set by π about x: y and z negated for means, quaternions and SH (its own inverse).

    This maps the INRIA/PLY capture frame (RDF: x right, y down, z forward), in which every loader
    returns scenes, to RUB (x right, y up, z back: Y-up, as OpenGL/three.js and our world expect)
    and back. SPZ files are stored in RUB; :func:`load` applies this map to them.
    """
    k = gs.sh.shape[1]
    sh = gs.sh.copy()
    sh[:, 1:] *= spz.FLIP_SH[: k - 1, None]
    return GaussianSet(gs.means * spz.FLIP_P, gs.scales.copy(), gs.quats * spz.FLIP_Q, gs.opacities.copy(), sh)


def _check(gs: GaussianSet, source: str) -> None:
    for name, arr in zip(("means", "scales", "quats", "opacities", "sh"), gs.arrays(), strict=True):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise InputError(source, name, f"finite values (Gaussian {int(np.argwhere(bad)[0][0])} is not)")
    checks = (
        ("scales", gs.scales <= 0, "scales > 0"),
        ("opacities", (gs.opacities <= 0) | (gs.opacities > 1), "opacities in (0, 1]"),
        ("quats", ~(np.abs(gs.quats) > 0).any(axis=1), "non-zero quaternions"),
    )
    for name, bad, expected in checks:
        if bad.any():
            raise InputError(source, name, f"{expected} (Gaussian {int(np.argwhere(bad)[0][0])} is not)")


def save_ply(path: str | os.PathLike[str], gaussians: GaussianSet, *, double_activations: bool = False) -> None:
    """Write ``gaussians`` as a canonical INRIA binary .ply, atomically (temp file, fsync, rename).

    Exactness (see :mod:`engine.splats.ply`): a set loaded from a canonical INRIA float32 file is
    written back byte for byte. ``load(save_ply(gs))`` gives back means, unit quaternions and SH
    bit for bit, and scales/opacities bit for bit wherever a float32 log/logit reproduces them
    (else the nearest, a few ulp off); with ``double_activations=True`` (``opacity``/``scale_*`` stored as
    double) every array comes back bit for bit. Raises :class:`InputError` for invalid values or
    an unwritable path.
    """
    target = Path(path)
    _check(gaussians, str(target))
    data = ply.encode_inria(gaussians, double_activations)
    try:
        atomic_write(target, data)
    except OSError as e:
        raise InputError(str(target), "", f"a writable path ({e.strerror or e})") from None
