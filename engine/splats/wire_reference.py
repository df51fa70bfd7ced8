"""The plain float32 twin of the quantised ``set`` layout in :mod:`engine.splats.wire` (``"enc": "f32"``).

Lossless: every array goes on the wire as little-endian float32, 56 bytes per Gaussian for SH
degree 0 (means 12, scales 12, quats 16, opacity 4, SH 12). Tests compare the quantised codec with
it; it is also the format to use when bit-exact Gaussians must cross the wire.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.errors import InputError
from engine.splats.gaussians import GaussianSet

_F32 = np.dtype("<f4")


def pack_set_f32(g: GaussianSet) -> dict[str, Any]:
    """One anchor's Gaussians as the ``"enc": "f32"`` fields of a ``set`` op."""
    return {
        "enc": "f32",
        "n": len(g),
        "k": int(g.sh.shape[1]),
        "mean": g.means.astype(_F32).tobytes(),
        "scale": g.scales.astype(_F32).tobytes(),
        "rot": g.quats.astype(_F32).tobytes(),
        "opa": g.opacities.astype(_F32).tobytes(),
        "sh": g.sh.astype(_F32).tobytes(),
    }


def unpack_set_f32(d: dict[str, Any], source: str, where: str) -> GaussianSet:
    """Decode and validate ``"enc": "f32"`` fields: sizes, finite values, scales > 0,
    opacities in (0, 1], unit quaternions; values pass through bit for bit."""
    from engine.splats.wire import MAX_ABS_COORD, _bin, _count

    n, k = _count(d, source, where)
    means = _bin(d, "mean", n * 12, source, where, _F32).reshape(n, 3)
    scales = _bin(d, "scale", n * 12, source, where, _F32).reshape(n, 3)
    quats = _bin(d, "rot", n * 16, source, where, _F32).reshape(n, 4)
    opa = _bin(d, "opa", n * 4, source, where, _F32)
    sh = _bin(d, "sh", n * k * 12, source, where, _F32).reshape(n, k, 3)
    checks = (
        ("mean", np.isfinite(means).all() and (np.abs(means) <= MAX_ABS_COORD).all(), f"finite values within ±{MAX_ABS_COORD:g}"),
        ("scale", np.isfinite(scales).all() and (scales > 0).all() and (scales <= MAX_ABS_COORD).all(), "finite scales > 0"),
        ("rot", np.isfinite(quats).all() and (np.abs(np.linalg.norm(quats.astype(np.float64), axis=1) - 1) <= 1e-3).all(),
         "finite unit quaternions (norm within 1e-3 of 1)"),
        ("opa", np.isfinite(opa).all() and ((opa > 0) & (opa <= 1)).all(), "opacities in (0, 1]"),
        ("sh", np.isfinite(sh).all() and (np.abs(sh) <= 1e3).all(), "finite SH coefficients within ±1000"),
    )
    for name, ok, expected in checks:
        if not ok:
            raise InputError(source, f"{where}.{name}", expected)
    return GaussianSet(means.copy(), scales.copy(), quats.copy(), opa.copy(), sh.copy())
