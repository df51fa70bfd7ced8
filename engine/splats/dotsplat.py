"""antimatter15 ``.splat``: 32-byte records, no header.

Record layout (little endian)::

    position f32 x3 | scale f32 x3 (linear) | colour u8 RGBA (A = opacity) | rotation u8 x4 (w, x, y, z)

Colour bytes are the clamped DC colour ``0.5 + C0 * f_dc`` times 255; a rotation byte q stands for
``(q - 128) / 128``. Alpha 0 is read as the PlayCanvas floor ``sigmoid(-40)`` so that opacities
stay in (0, 1]. The frame is the one of the .ply the file was made from.
"""

from __future__ import annotations

import numpy as np

from engine.errors import InputError
from engine.splats.gaussians import SH_C0, GaussianSet
from engine.splats.ply import normalise_quats, sigmoid_opacity

RECORD = np.dtype([("position", "<f4", 3), ("scale", "<f4", 3), ("rgba", "u1", 4), ("rotation", "u1", 4)])
ZERO_ALPHA_OPACITY = float(sigmoid_opacity(np.array([-40.0]))[0])


def u8_opacity(a: np.ndarray) -> np.ndarray:
    """Opacity bytes (N,) → opacities in (0, 1], float32 (0 becomes ``ZERO_ALPHA_OPACITY``)."""
    o = (np.asarray(a, np.float64) / 255.0).astype(np.float32)
    return np.where(o > 0, o, np.float32(ZERO_ALPHA_OPACITY)).astype(np.float32)


def decode(data: bytes, source: str) -> GaussianSet:
    """.splat bytes → activated Gaussians (SH degree 0). Raises :class:`InputError` on bad data."""
    if len(data) % RECORD.itemsize:
        raise InputError(source, "splat", f"a size that is a multiple of 32 bytes (got {len(data)}; truncated?)")
    rec = np.frombuffer(data, RECORD)
    means = rec["position"].astype(np.float32)
    scales = rec["scale"].astype(np.float32)
    for name, arr in (("position", means), ("scale", scales)):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise InputError(source, f"splat.{name}", f"finite values (splat {int(np.argwhere(bad)[0][0])} is not)")
    bad = scales <= 0
    if bad.any():
        raise InputError(source, "splat.scale", f"positive linear scales (splat {int(np.argwhere(bad)[0][0])} is not)")
    q = rec["rotation"].astype(np.float64) - 128.0
    zero = ~(q != 0).any(axis=1)
    if zero.any():
        raise InputError(source, "splat.rotation", f"a non-zero quaternion (splat {int(np.argmax(zero))} is 128,128,128,128)")
    rgb = rec["rgba"][:, :3].astype(np.float64) / 255.0
    sh = ((rgb - 0.5) / SH_C0).astype(np.float32)[:, None, :]
    return GaussianSet(means, scales, normalise_quats(q / 128.0), u8_opacity(rec["rgba"][:, 3]), sh)


def encode(gs: GaussianSet) -> bytes:
    """Gaussians → .splat bytes (lossy: u8 colour, opacity and rotation; SH above degree 0 dropped)."""
    rec = np.zeros(len(gs), RECORD)
    rec["position"] = gs.means
    rec["scale"] = gs.scales
    rgb = 0.5 + SH_C0 * gs.sh[:, 0, :].astype(np.float64)
    rec["rgba"][:, :3] = np.clip(np.round(rgb * 255.0), 0, 255)
    rec["rgba"][:, 3] = np.clip(np.round(gs.opacities.astype(np.float64) * 255.0), 0, 255)
    q = gs.quats.astype(np.float64)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    rec["rotation"] = np.clip(np.round(q * 128.0 + 128.0), 0, 255)
    return rec.tobytes()
