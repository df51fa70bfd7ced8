"""Held-out evaluation: `anchorworld worldmodel eval [--quick] --json`.

For each material, on held-out specs (seeds, sizes and states the training never draws) and
held-out views, every figure is masked PSNR / SSIM against the teacher, over the pixels that the
teacher or the rendering covers (alpha > 0.5), on premultiplied linear colour:

- ``psnr_model``: the shipped Generator's Gaussians, rendered by the torch compositor;
- ``psnr_floor``: the flat proxy in the material's mean colour, as Gaussians of the same budget
  (the model's parametrisation with zero network output, opaque);
- ``psnr_ceiling``: a per-instance optimised 3DGS with the same budget and constraints (its raw
  parameters fitted directly to 8 other teacher views). It is expensive, so it is computed once
  (``--compute-ceiling``, on a GPU) and stored in ``worldmodel/checkpoints/ceiling.json`` keyed by
  the spec and view set; a run without a stored value fits a short one on the spot and says so in
  ``ceiling_source``;
- ``smoothness_psnr``: model render at state s vs s + 0.05 (one state moved);
- ``diversity_psnr``: model renders of two seeds of the same material and size (teacher's own in
  ``teacher_diversity_psnr``);
- ``violations``: Gaussians breaking a constraint (centre bound, scale range, unit quaternion,
  opacity, colour range), counted over every output at every lod;
- ``deterministic``: batch of all specs vs one at a time, bit-identical; ``ms_per_entity``: batch 32.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.render.camera import Camera
from engine.splats.gaussians import SH_C0, GaussianSet
from engine.splats.vocab import MATERIAL_NAMES, MATERIALS, SHAPES
from worldmodel.anchors import LODS, anchor_count, surface_area
from worldmodel.checkpoint import SHIPPED, atomic_write_bytes
from worldmodel.compositor import render
from worldmodel.losses import psnr, ssim
from worldmodel.model import G_MAX, RAW, SCALE_MAX, SCALE_MIN, decode, encode
from worldmodel.spec import ProxySpec

CEILING_PATH = SHIPPED.parent / "ceiling.json"
EVAL_SHAPES = ("box", "sphere", "cylinder", "ramp", "plane", "capsule")


def heldout_specs(material: str, n: int) -> list[ProxySpec]:
    """``n`` held-out specs of ``material`` from the teacher's held-out split (seeds, sizes, states)."""
    from worldmodel.teacher import sample_spec

    rng = np.random.default_rng(MATERIALS[material].id + 7919)
    shapes = EVAL_SHAPES[MATERIALS[material].id % 3:] + EVAL_SHAPES[:MATERIALS[material].id % 3]
    return [sample_spec(rng, materials=[material], split="heldout", shapes=(shapes[i % len(shapes)],), state_p=0.5)
            for i in range(n)]


def heldout_cameras(spec: ProxySpec, n: int, size: int, salt: int = 0) -> list[Camera]:
    """``n`` teacher-style orbit cameras from a generator fixed by the spec and ``salt``."""
    from worldmodel.teacher import sample_cameras

    rng = np.random.default_rng([spec.style_seed, salt, 4242])
    return sample_cameras(spec, n, rng, size=(size, size))


def violations(gs: GaussianSet, spec: ProxySpec, lod: int) -> int:
    """Number of Gaussians of ``gs`` breaking a constraint of ``spec`` at ``lod`` (0 expected)."""
    bound = np.array(spec.half_extents) + MATERIALS[spec.material].margin
    spacing = math.sqrt(surface_area(spec.shape, spec.half_extents) / anchor_count(spec.shape, spec.half_extents, lod))
    rgb = gs.sh[:, 0, :] * SH_C0 + 0.5
    bad = (
        (np.abs(gs.means) > bound * (1 + 1e-6) + 1e-7).any(1)
        | (gs.scales < SCALE_MIN * spacing * (1 - 1e-5)).any(1)
        | (gs.scales > SCALE_MAX * spacing * (1 + 1e-5)).any(1)
        | (np.abs(np.linalg.norm(gs.quats, axis=1) - 1) > 1e-5)
        | ~((gs.opacities > 0) & (gs.opacities < 1))
        | ~np.isfinite(gs.sh).all((1, 2))
        | (rgb < -1e-5).any(1) | (rgb > 1 + 1e-5).any(1)
    )
    return int(bad.sum())


def _cam_tensors(cams: list[Camera], device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    return (torch.from_numpy(np.stack([c.view for c in cams])).to(device),
            torch.from_numpy(np.stack([c.intrinsics for c in cams])).to(device))


def render_set(gs: GaussianSet, cams: list[Camera], device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Render a GaussianSet (SH degree 0): (rgb (V,H,W,3), alpha (V,H,W)) on the CPU.

    The torch compositor on the CPU; on CUDA gsplat (the same math, checked against it).
    """
    vm, ks = _cam_tensors(cams, device)
    rgb = torch.from_numpy(np.clip(gs.sh[:, 0, :] * SH_C0 + 0.5, 0, None))
    out = render(*(torch.from_numpy(a).to(device) for a in (gs.means, gs.quats, gs.scales, gs.opacities)),
                 rgb.to(device), vm, ks, cams[0].width, cams[0].height)
    return out[0].cpu(), out[1].cpu()


def teacher_views(teacher: Any, spec: ProxySpec, cams: list[Camera]) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher render as premultiplied (rgb (V,H,W,3), alpha (V,H,W)) tensors."""
    out = teacher.render(spec, cams)
    a = np.asarray(out["alpha"], np.float32)
    rgb = np.asarray(out["rgb"], np.float32)  # over black: premultiplied
    return torch.from_numpy(rgb), torch.from_numpy(a)


def _masked(pred: tuple[torch.Tensor, torch.Tensor], ref: tuple[torch.Tensor, torch.Tensor]) -> tuple[float, float]:
    mask = (pred[1] > 0.5) | (ref[1] > 0.5)
    return psnr(pred[0].clamp(0, 1), ref[0], mask), float(ssim(pred[0].clamp(0, 1), ref[0], mask))


def floor_set(spec: ProxySpec, lod: int = 0) -> GaussianSet:
    """The flat proxy in the material's mean colour, as opaque Gaussians of the model's budget."""
    enc = encode([spec], lod, _floor_cfg())
    raw = torch.zeros(1, enc.tokens.shape[1], G_MAX, RAW)
    raw[..., 3:5] = 1.5  # wide along the surface
    raw[..., 10] = 4.0  # opaque
    g = decode(raw, enc)
    return _to_set(g)


def _floor_cfg() -> Any:
    from worldmodel.model import ModelConfig

    return ModelConfig()


def _to_set(g: dict[str, torch.Tensor], b: int = 0) -> GaussianSet:
    sh = ((g["rgb"][b] - 0.5) / SH_C0).unsqueeze(1)
    return GaussianSet(*(t.detach().cpu().numpy() for t in (g["means"][b], g["scales"][b], g["quats"][b],
                                                             g["opacities"][b], sh)))


def fit_ceiling(teacher: Any, spec: ProxySpec, size: int, steps: int, device: str = "cpu") -> GaussianSet:
    """Per-instance 3DGS: the raw parameters of every Gaussian fitted directly to 8 teacher views."""
    from worldmodel.losses import photometric

    cams = heldout_cameras(spec, 8, size, salt=1)
    t_rgb, t_a = (t.to(device) for t in teacher_views(teacher, spec, cams))
    vm, ks = _cam_tensors(cams, device)
    enc = encode([spec], 0, _floor_cfg(), device)
    raw = torch.zeros(1, enc.tokens.shape[1], G_MAX, RAW, device=device)
    raw[..., 3:5] = 1.0
    raw = raw.requires_grad_(True)
    opt = torch.optim.Adam([raw], lr=0.05)
    for _ in range(steps):
        g = decode(raw, enc)
        rgb, a, _ = render(g["means"][0], g["quats"][0], g["scales"][0], g["opacities"][0], g["rgb"][0], vm, ks,
                           size, size)
        loss = photometric(rgb.clamp(0, 1), t_rgb) + 0.5 * (a - t_a).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return _to_set(decode(raw, enc))


def eval_setup(quick: bool) -> tuple[int, int, int]:
    """(specs per material, views per spec, image side) of the quick or the full evaluation."""
    return (2, 3, 64) if quick else (4, 6, 96)


def compute_ceilings(quick: bool, steps: int, device: str, path: Path, materials: list[str],
                     missing_only: bool = False) -> dict[str, float]:
    """Fit the per-instance ceiling for every held-out spec of the setup and store the PSNRs in ``path``.

    ``missing_only``: keep values already stored in ``path`` (resume a run that was cut off).
    """
    from worldmodel.teacher import Teacher

    n_specs, views, size = eval_setup(quick)
    teacher = Teacher(size=(size, size))
    stored = json.loads(path.read_text()) if path.is_file() else {}
    for mat in materials:
        for spec in heldout_specs(mat, n_specs):
            if missing_only and _ceiling_key(spec, size, views) in stored:
                continue
            cams = heldout_cameras(spec, views, size)
            ref = teacher_views(teacher, spec, cams)
            fit = fit_ceiling(teacher, spec, size, steps, device)
            stored[_ceiling_key(spec, size, views)] = round(_masked(render_set(fit, cams, device), ref)[0], 3)
        print(json.dumps({"material": mat, "ceiling_psnr": [stored[_ceiling_key(s, size, views)]
                                                          for s in heldout_specs(mat, n_specs)]}), flush=True)
        atomic_write_bytes(path, json.dumps(stored, indent=0).encode(), make_parents=True)  # after each material: runs may be cut
    return stored


def _ceiling_key(spec: ProxySpec, size: int, views: int) -> str:
    return json.dumps([spec.key(), size, views])


def run_eval(args: argparse.Namespace) -> int:
    """Entry point of `anchorworld worldmodel eval`; prints one JSON object per material + a summary."""
    from worldmodel.generator import Generator
    from worldmodel.teacher import Teacher

    quick = bool(args.quick)
    n_specs, views, size = eval_setup(quick)
    mats = args.materials.split(",") if args.materials else list(MATERIAL_NAMES)
    for m in mats:
        if m not in MATERIALS:
            from engine.errors import InputError

            raise InputError("command line", "--materials", f"material tags from {', '.join(MATERIAL_NAMES)}; got {m!r}")
    ceil_path = Path(args.ceiling) if args.ceiling else CEILING_PATH
    if args.compute_ceiling:
        compute_ceilings(quick, args.ceiling_steps, args.device, ceil_path, mats,
                         missing_only=bool(getattr(args, "missing_only", False)))
        return 0
    gen = Generator(args.checkpoint, device=args.device)
    teacher = Teacher(size=(size, size))
    stored = json.loads(ceil_path.read_text()) if ceil_path.is_file() else {}
    rows = []
    for mat in mats:
        specs = heldout_specs(mat, n_specs)
        acc: dict[str, list[float]] = {}
        n_viol = 0
        ceil_src = "stored"
        for spec in specs:
            cams = heldout_cameras(spec, views, size)
            ref = teacher_views(teacher, spec, cams)
            [gs] = gen.generate([spec])
            model_img = render_set(gs, cams, args.device)
            p, s = _masked(model_img, ref)
            acc.setdefault("psnr_model", []).append(p)
            acc.setdefault("ssim_model", []).append(s)
            acc.setdefault("psnr_floor", []).append(_masked(render_set(floor_set(spec), cams), ref)[0])
            key = _ceiling_key(spec, size, views)
            if key in stored:
                acc.setdefault("psnr_ceiling", []).append(stored[key])
            else:
                ceil_src = "computed-short (40 steps here, not stored)"
                fit = fit_ceiling(teacher, spec, size, 40, args.device)
                acc.setdefault("psnr_ceiling", []).append(_masked(render_set(fit, cams, args.device), ref)[0])
            # state smoothness: one state moved by 0.05
            i = int(np.argmax(spec.state)) if max(spec.state) > 0 else 0
            st = list(spec.state)
            st[i] = st[i] + 0.05 if st[i] <= 0.95 else st[i] - 0.05
            [gs2] = gen.generate([dataclasses.replace(spec, state=tuple(st))])
            acc.setdefault("smoothness_psnr", []).append(_masked(render_set(gs2, cams), model_img)[0])
            # diversity: another seed, same material and size
            other = dataclasses.replace(spec, style_seed=spec.style_seed + 500)
            [gs3] = gen.generate([other])
            acc.setdefault("diversity_psnr", []).append(_masked(render_set(gs3, cams), model_img)[0])
            acc.setdefault("teacher_diversity_psnr", []).append(_masked(teacher_views(teacher, other, cams), ref)[0])
            for lod in range(len(LODS)):
                [g] = gen.generate([spec], lod=lod)
                n_viol += violations(g, spec, lod)
        row = {"material": mat, **{k: round(float(np.mean(v)), 3) for k, v in acc.items()},
               "violations": n_viol, "n_specs": len(specs), "views": views, "size": size, "ceiling_source": ceil_src}
        rows.append(row)
        _emit(row, args.json)
    # determinism and latency on a mixed batch
    batch = [s for m in mats for s in heldout_specs(m, n_specs)]
    batch = (batch * (32 // max(1, len(batch)) + 1))[:32]
    batch = [dataclasses.replace(s, style_seed=s.style_seed + 10_000 + k) for k, s in enumerate(batch)]
    gen.clear_cache()
    t0 = time.perf_counter()
    together = gen.generate(batch)
    ms = (time.perf_counter() - t0) * 1e3 / len(batch)
    gen.clear_cache()
    alone = [gen.generate([s])[0] for s in batch]
    det = all(a.equals(b) for a, b in zip(together, alone, strict=True))
    keys = [k for k in rows[0] if isinstance(rows[0][k], (int, float)) and k not in ("n_specs", "views", "size")]
    summary: dict[str, Any] = {"summary": True, **{k: round(float(np.mean([r[k] for r in rows])), 3) for k in keys}}
    summary["violations"] = int(sum(r["violations"] for r in rows))
    summary["materials_floor_plus_4db"] = sum(r["psnr_model"] >= r["psnr_floor"] + 4 for r in rows)
    summary["materials_ceiling_minus_3db"] = sum(r["psnr_model"] >= r["psnr_ceiling"] - 3 for r in rows)
    summary.update({"deterministic": det, "ms_per_entity_batch32": round(ms, 3), "model_version": gen.version,
                    "device": args.device, "quick": quick})
    _emit(summary, args.json)
    return 0


def _emit(row: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(row), flush=True)
    else:
        print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)


__all__ = ["heldout_specs", "heldout_cameras", "violations", "floor_set", "fit_ceiling", "run_eval", "SHAPES"]
