"""Model inputs built on the device from one small row of numbers per entity (the GPU fast path).

``model.encode`` builds every anchor's inputs in float64 numpy on the host: about a hundred numpy
calls per chunk and a (B, N, ·) upload. Here the host only packs a row of ``PARAM_COLS`` float64
numbers per entity (``entity_params``: half-extents, style offset, the face CDF of the anchor
placement, conditioning vector, …) and ``encode_on_device`` expands them into the ``Encoded``
tensors with torch ops of fixed shapes: every shape's anchor points are computed for every entity
and the right one is selected, so the whole encoding can be captured in a CUDA graph.

Determinism: every op is elementwise per entity (no reduction across the batch), so an entity's
inputs do not depend on the rest of its chunk. The anchor geometry mirrors
``anchors.anchor_points_batch`` operation for operation in float64 (+, −, ×, ÷ and √ are correctly
rounded everywhere), the face CDFs and every transcendental that touches the geometry are computed
on the host with the reference's own code, so on the CPU the result is bit-identical to
``model.encode(..., device_features=True)`` (tests compare them). The Fourier features use the
device's sin/cos, as ``model._device_tokens`` does.

If the model's features change, ``encode_on_device`` no longer matches ``model.encode``: the
Generator checks the two against each other when it starts on a device and falls back to the
plain path when they disagree (see ``Generator.device_path``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from engine.splats.vocab import MATERIALS, SHAPES
from worldmodel.anchors import LODS, _face_areas, _template, anchor_count, gaussians_per_anchor, surface_area
from worldmodel.model import Encoded, ModelConfig, fourier_matrices
from worldmodel.spec import ProxySpec, style_offsets

# Column layout of one entity's parameter row (float64).
HE, OFF, CDF, KMAX, SHAPE, RADII, SLOPE_N, SPACING, BOUND, BASE_RGB, MATERIAL, CAP_Y, COND = (
    slice(0, 3), slice(3, 6), slice(6, 12), 12, 13, slice(14, 17), slice(17, 20), 20, slice(21, 24),
    slice(24, 27), 27, 28, 29)
_FACES = 6  # the most faces any shape places anchors on (box)
_BOX, _SPHERE, _CYLINDER, _CAPSULE, _PLANE, _RAMP = (SHAPES.index(s) for s in
                                                       ("box", "sphere", "cylinder", "capsule", "plane", "ramp"))


def param_cols(cfg: ModelConfig) -> int:
    """Width of an entity's parameter row: the fixed fields plus the conditioning vector."""
    from worldmodel.model import COND_IN

    return COND + COND_IN + 2 * cfg.global_style_freqs


def entity_params(specs: list[ProxySpec], lod: int, cfg: ModelConfig) -> np.ndarray:
    """(B, param_cols(cfg)) float64 rows for ``specs`` (all with the same anchor count at ``lod``).

    Vectorised over the entities; each row depends only on its own spec. The conditioning vector
    is built by the same numpy operations as ``model.encode``, the face CDFs by the same as
    ``anchors._pick_batch``.
    """
    b = len(specs)
    n = anchor_count(specs[0].shape, specs[0].half_extents, lod)
    _, gmat = fourier_matrices(cfg)
    he = np.array([s.half_extents for s in specs], dtype=np.float64)  # (B, 3)
    mats = [MATERIALS[s.material] for s in specs]
    shape_ids = np.array([SHAPES.index(s.shape) for s in specs])
    p = np.zeros((b, param_cols(cfg)))
    p[:, HE] = he
    p[:, CDF] = 2.0  # past every u in [0, 1): padding faces are never picked
    p[:, RADII] = 1.0  # shapes without radii still divide by them (the result is discarded)
    p[:, CAP_Y] = 1.0
    p[:, SLOPE_N] = 1.0
    p[:, SHAPE] = shape_ids
    hx, hy, hz = (he[:, k:k + 1] for k in range(3))
    for shape in np.unique(shape_ids):
        rows = np.flatnonzero(shape_ids == shape)
        name = SHAPES[shape]
        if name in ("sphere", "plane"):
            continue
        if name == "box":
            areas = np.concatenate([hy * hz, hy * hz, hx * hz, hx * hz, hx * hy, hx * hy], axis=1)[rows]
        else:
            areas = _face_areas(name, he[rows])
        cdf = np.cumsum(areas, axis=1) / areas.sum(axis=1, keepdims=True)  # as anchors._pick_batch, row by row
        p[rows, CDF.start:CDF.start + cdf.shape[1]] = cdf
        p[rows, KMAX] = cdf.shape[1] - 1
        if name == "cylinder":
            p[rows, RADII] = np.concatenate([hx, hz, hy], axis=1)[rows]
        elif name == "capsule":
            r = np.minimum(hx, hz)[rows]  # vectorised engine.splats.vocab.capsule_dims
            cy = np.minimum(r, hy[rows])
            p[rows, RADII] = np.concatenate([r, r, hy[rows] - cy], axis=1)
            p[rows, CAP_Y] = cy[:, 0]
        elif name == "ramp":
            hyp = np.array([math.hypot(float(a), float(c)) for a, c in zip(hx[rows, 0], hy[rows, 0], strict=True)])
            p[rows, SLOPE_N] = np.stack([-hy[rows, 0], hx[rows, 0], np.zeros(len(rows))], axis=1) / hyp[:, None]
    off = style_offsets([s.style_seed for s in specs])  # (B, 3)
    p[:, OFF] = off
    p[:, SPACING] = [math.sqrt(surface_area(s.shape, s.half_extents) / n) for s in specs]
    p[:, BOUND] = he + np.array([m.margin for m in mats])[:, None]
    p[:, BASE_RGB] = np.stack([np.asarray(m.colour, dtype=np.float64) for m in mats])
    p[:, MATERIAL] = [m.id for m in mats]
    # the conditioning vector, exactly as model.encode builds it
    gphase = 2 * math.pi * np.stack([off[i] @ gmat for i in range(b)])
    st = np.array([s.quantised_state() for s in specs], dtype=np.float64) / 1024.0
    shape_oh = np.eye(len(SHAPES))[shape_ids]
    lod_oh = np.broadcast_to(np.eye(len(LODS))[lod], (b, len(LODS)))
    loghe = np.clip(np.log(he), -4.0, 4.0) / 2.0
    p[:, COND:] = np.concatenate([st, np.sqrt(st), shape_oh, loghe, lod_oh, np.sin(gphase), np.cos(gphase)], axis=1)
    return p


@dataclass(frozen=True)
class Template:
    """Per-anchor-count constants on one device (float64): Hammersley ``u``, ``v`` (N,), the sphere's
    unit points (N, 3), cos/sin of the azimuth 2πv (N,), the Fourier matrix (3, F)."""

    n: int
    u: torch.Tensor
    v: torch.Tensor
    sphere: torch.Tensor
    cos_phi: torch.Tensor
    sin_phi: torch.Tensor
    fourier: torch.Tensor
    flip_quat: torch.Tensor  # (4,) the rotation by π about X (normal = −Z)


def template(n: int, cfg: ModelConfig, device: torch.device) -> Template:
    """The constants of anchor count ``n``, computed on the host by the reference's numpy code
    (build once per (n, device) and keep: this copies to the device)."""
    u0, v0 = _template(n)
    cos_t = 1 - 2 * u0  # the sphere branch of anchors.anchor_points_batch
    sin_t = np.sqrt(np.maximum(0.0, 1 - cos_t**2))
    phi = 2 * math.pi * v0
    unit = np.stack([sin_t * np.cos(phi), cos_t, sin_t * np.sin(phi)], axis=1)
    fmat, _ = fourier_matrices(cfg)

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.array(a, dtype=np.float64)).to(device)

    return Template(n, t(u0), t(v0), t(unit), t(np.cos(phi)), t(np.sin(phi)), t(fmat), t(np.array([0.0, 1.0, 0.0, 0.0])))


def encode_on_device(p: torch.Tensor, lod: int, tpl: Template) -> Encoded:
    """``Encoded`` inputs from parameter rows ``p`` (B, param_cols) float64 on the model's device.

    Matches ``model.encode(specs, lod, cfg, device, device_features=True)`` for the specs the rows
    were packed from (bit for bit on the CPU). Fixed shapes, no host synchronisation: capturable in
    a CUDA graph.
    """
    pts, nrm = _anchor_geometry(p, tpl)
    he = p[:, HE].unsqueeze(1)  # (B, 1, 3)
    q = _quat_z_to(nrm, tpl.flip_quat)
    shifted = pts + p[:, OFF].unsqueeze(1)
    f = tpl.fourier
    phase = 2 * math.pi * (shifted[..., 0:1] * f[0] + shifted[..., 1:2] * f[1] + shifted[..., 2:3] * f[2])
    tokens = torch.cat([(pts / he).float(), nrm.float(), torch.sin(phase).float(), torch.cos(phase).float()], dim=-1)
    return Encoded(tokens=tokens, cond=p[:, COND:].float(), material=p[:, MATERIAL].long(), anchors=pts.float(),
                   normals=nrm.float(), bound=p[:, BOUND].float(), spacing=p[:, SPACING].float(),
                   n_gauss=gaussians_per_anchor(lod), base_rgb=p[:, BASE_RGB].float(), base_quat=q.float())


def _xyz(x: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Stack three broadcastable (B, N) components into (B, N, 3)."""
    x, y, z = torch.broadcast_tensors(x, y, z)
    return torch.stack([x, y, z], dim=-1)


def _anchor_geometry(p: torch.Tensor, tpl: Template) -> tuple[torch.Tensor, torch.Tensor]:
    """Anchor points and unit normals (B, N, 3) float64: ``anchors.anchor_points_batch`` for every
    shape at once, the entity's own shape selected."""
    b, n = p.shape[0], tpl.n
    he = p[:, HE]
    hx, hy, hz = he[:, 0:1], he[:, 1:2], he[:, 2:3]  # (B, 1)
    u0, v0 = tpl.u.unsqueeze(0), tpl.v.unsqueeze(0)  # (1, N)
    zero = torch.zeros((b, n), dtype=p.dtype, device=p.device)
    one = torch.ones_like(zero)
    # face picking (anchors._pick_batch) with the host-computed CDF
    cdf = p[:, CDF]
    face = torch.minimum((cdf.unsqueeze(1) <= u0.unsqueeze(2)).sum(dim=2), p[:, KMAX:KMAX + 1].long())
    lo_tab = torch.cat([torch.zeros_like(cdf[:, :1]), cdf[:, :-1]], dim=1)
    lo = torch.gather(lo_tab, 1, face)
    hi = torch.gather(cdf, 1, face)
    width = torch.clamp(hi - lo, min=1e-12)
    u = torch.clamp((u0 - lo) / width, 0.0, 1.0 - 1e-12)  # (B, N)

    # box
    a, bb = 2 * u - 1, 2 * v0 - 1
    axis = torch.div(face, 2, rounding_mode="floor")
    sign = torch.where(face % 2 == 0, one, -one)
    o0 = (axis == 0).long()  # the face's other two axes: (1, 2), (0, 2) or (0, 1)
    o1 = 2 - (axis == 2).long()
    h_axis = torch.gather(he, 1, axis)
    h_o0 = torch.gather(he, 1, o0)
    h_o1 = torch.gather(he, 1, o1)
    k3 = torch.arange(3, device=p.device)
    ax_oh = axis.unsqueeze(-1) == k3
    box_p = torch.zeros((b, n, 3), dtype=p.dtype, device=p.device)
    box_p = torch.where(ax_oh, (sign * h_axis).unsqueeze(-1), box_p)
    box_p = torch.where(o0.unsqueeze(-1) == k3, (a * h_o0).unsqueeze(-1), box_p)
    box_p = torch.where(o1.unsqueeze(-1) == k3, (bb * h_o1).unsqueeze(-1), box_p)
    box_n = torch.where(ax_oh, sign.unsqueeze(-1), torch.zeros_like(box_p))

    # sphere
    unit = tpl.sphere.unsqueeze(0)  # (1, N, 3)
    sph_p, sph_n = unit * he.unsqueeze(1), unit / he.unsqueeze(1)

    # cylinder and capsule (their radii and half-height packed per entity)
    rx, rz, y0 = p[:, RADII.start:RADII.start + 1], p[:, RADII.start + 1:RADII.start + 2], p[:, RADII.start + 2:RADII.stop]
    c, s = tpl.cos_phi.unsqueeze(0), tpl.sin_phi.unsqueeze(0)
    side_p = _xyz(rx * c, (2 * u - 1) * y0, rz * s)
    side_n = _xyz(c / rx, zero, s / rz)
    rr = torch.sqrt(u)
    st = torch.sqrt(torch.clamp(1 - u * u, min=0.0))
    cyl_p, cyl_n, cap_p, cap_n = side_p, side_n, side_p, side_n
    cy = p[:, CAP_Y:CAP_Y + 1]  # the capsule caps' vertical semi-axis
    hemi = (cy == rx).unsqueeze(-1)  # (B, 1, 1) hemispherical caps, as the reference
    axes = _xyz(rx, cy, rz)  # (B, 1, 3)
    for f, sgn in ((1, 1.0), (2, -1.0)):
        m = (face == f).unsqueeze(-1)
        cyl_p = torch.where(m, _xyz(rx * rr * c, sgn * y0, rz * rr * s), cyl_p)
        cyl_n = torch.where(m, _xyz(zero, sgn * one, zero), cyl_n)
        cunit = _xyz(st * c, sgn * u, st * s)
        shift = _xyz(torch.zeros_like(y0), sgn * y0, torch.zeros_like(y0))  # (B, 1, 3)
        cap_p = torch.where(m, torch.where(hemi, cunit * rx.unsqueeze(-1), cunit * axes) + shift, cap_p)
        cap_n = torch.where(m, torch.where(hemi, cunit, cunit / axes), cap_n)

    # plane
    pla_p = _xyz((2 * u0 - 1) * hx, zero, (2 * v0 - 1) * hz)
    pla_n = _xyz(zero, one, zero)

    # ramp
    x = (2 * u - 1) * hx
    z = (2 * v0 - 1) * hz
    slope_n = p[:, SLOPE_N].unsqueeze(1).expand(b, n, 3)
    su = torch.sqrt(u)
    xx = -hx + 2 * hx * su
    yy = -hy + 2 * hy * (su * v0)
    ramp = [
        (_xyz(x, -hy, z), _xyz(zero, -one, zero)),
        (_xyz(x, -hy + (x + hx) * hy / hx, z), slope_n),
        (_xyz(hx, (2 * u - 1) * hy, z), _xyz(one, zero, zero)),
        (_xyz(xx, yy, hz), _xyz(zero, zero, one)),
        (_xyz(xx, yy, -hz), _xyz(zero, zero, -one)),
    ]
    ramp_p, ramp_n = torch.zeros_like(box_p), torch.zeros_like(box_p)
    for f, (cp, cn) in enumerate(ramp):
        m = (face == f).unsqueeze(-1)
        ramp_p = torch.where(m, cp, ramp_p)
        ramp_n = torch.where(m, cn, ramp_n)

    shape = p[:, SHAPE].long().view(b, 1, 1)
    pts, nrm = box_p, box_n
    for k, (cp, cn) in ((_SPHERE, (sph_p, sph_n)), (_CYLINDER, (cyl_p, cyl_n)), (_CAPSULE, (cap_p, cap_n)),
                        (_PLANE, (pla_p, pla_n)), (_RAMP, (ramp_p, ramp_n))):
        pts = torch.where(shape == k, cp, pts)
        nrm = torch.where(shape == k, cn, nrm)
    norm = torch.sqrt(nrm[..., 0] * nrm[..., 0] + nrm[..., 1] * nrm[..., 1] + nrm[..., 2] * nrm[..., 2])
    nrm = nrm / torch.clamp(norm, min=1e-12).unsqueeze(-1)
    hb = he.unsqueeze(1)
    pts = torch.minimum(torch.maximum(pts, -hb), hb)
    return pts, nrm


def _quat_z_to(n: torch.Tensor, flip_quat: torch.Tensor) -> torch.Tensor:
    """(B, N, 4) w-first unit quaternions rotating +Z onto unit normals ``n`` (B, N, 3) float64:
    ``model._quat_z_to`` with its cross product written out (z = (0, 0, 1))."""
    nx, ny, nz = n[..., 0], n[..., 1], n[..., 2]
    q = torch.stack([1.0 + nz, 0.0 * nz - 1.0 * ny, 1.0 * nx - 0.0 * nz, 0.0 * ny - 0.0 * nx], dim=-1)
    flip = (nz < -1 + 1e-9).unsqueeze(-1)
    q = torch.where(flip, flip_quat, q)
    norm = torch.sqrt(q[..., 0] * q[..., 0] + q[..., 1] * q[..., 1] + q[..., 2] * q[..., 2] + q[..., 3] * q[..., 3])
    return q / norm.unsqueeze(-1)
