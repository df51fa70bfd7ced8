"""`python -m worldmodel.teacher [--size S] [--views V] [--specs N] [--sheet PNG]`: teacher speed.

Renders N random training specs from V cameras each and prints one JSON line with views/s and
specs/s (mesh building included, then with meshes cached), e.g.::

    python -m worldmodel.teacher --size 128 --views 8 --specs 24
    python -m worldmodel.teacher --specs 1 --sheet teacher.png   # also a contact sheet: one row per
                                                                 # material, six shapes then states
    python -m worldmodel.teacher --specs 1 --smoothness 4        # also the teacher's own state
                                                                 # smoothness, one JSON line per state
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from worldmodel.teacher import Teacher, sample_cameras, sample_spec


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m worldmodel.teacher", description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--views", type=int, default=8)
    p.add_argument("--specs", type=int, default=24)
    p.add_argument("--supersample", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sheet", help="also write a contact sheet PNG (sRGB) of every material, shape and state")
    p.add_argument("--smoothness", type=int, default=0, metavar="N",
                   help="also measure masked PSNR between s and s+0.05 over N held-out specs per material and state")
    args = p.parse_args(argv)
    t = Teacher(size=(args.size, args.size), supersample=args.supersample, cache=args.specs)
    rng = np.random.default_rng(args.seed)
    jobs = []
    for _ in range(args.specs):
        spec = sample_spec(rng)
        jobs.append((spec, sample_cameras(spec, args.views, rng, size=(args.size, args.size))))
    t.render(*jobs[0])  # compile and warm up
    t._meshes.clear()
    t0 = time.perf_counter()
    for spec, _ in jobs:
        t.mesh(spec)
    t1 = time.perf_counter()
    for spec, cams in jobs:
        t.render(spec, cams)
    t2 = time.perf_counter()
    n_views = args.specs * args.views
    print(json.dumps({
        "area": "teacher", "renderer": t.ctx.info["GL_RENDERER"], "size": args.size, "views": args.views,
        "supersample": args.supersample, "specs": args.specs,
        "mesh_ms_per_spec": round(1000 * (t1 - t0) / args.specs, 2),
        "views_per_s_cached": round(n_views / (t2 - t1), 1),
        "views_per_s": round(n_views / (t2 - t0), 1),
        "specs_per_s": round(args.specs / (t2 - t0), 2),
    }))
    if args.sheet:
        write_sheet(t, args.sheet)
    if args.smoothness:
        for row in smoothness(t, args.smoothness, args.views, rng):
            print(json.dumps(row))
    return 0


def smoothness(teacher: Teacher, n: int, views: int, rng: np.random.Generator) -> list[dict]:
    """Per state: mean and worst masked PSNR (dB) between renders at s and s + 0.05 (s uniform in
    [0, 0.95]), over ``n`` held-out specs of every material, ``views`` orbit cameras each."""
    from engine.splats.vocab import MATERIAL_NAMES, STATES
    from worldmodel.spec import ProxySpec

    out = []
    for i, name in enumerate(STATES):
        psnr = []
        for m in MATERIAL_NAMES:
            for _ in range(n):
                base = sample_spec(rng, materials=[m], split="heldout")
                cams = sample_cameras(base, views, rng, size=teacher.size)
                s0 = float(rng.uniform(0.0, 0.95))
                imgs = []
                for v in (s0, s0 + 0.05):
                    st = list(base.state)
                    st[i] = v
                    spec = ProxySpec(base.shape, base.half_extents, m, base.style_seed, tuple(st))
                    imgs.append(teacher.render(spec, cams))
                mask = (imgs[0]["alpha"] > 0.5) | (imgs[1]["alpha"] > 0.5)
                mse = float(((imgs[0]["rgb"] - imgs[1]["rgb"]) ** 2)[mask].mean()) if mask.any() else 0.0
                psnr.append(-10.0 * np.log10(max(mse, 1e-10)))
        out.append({"area": "teacher_smoothness", "state": name, "psnr_mean": round(float(np.mean(psnr)), 1),
                    "psnr_min": round(float(np.min(psnr)), 1), "samples": len(psnr)})
    return out


def write_sheet(teacher: Teacher, path: str) -> None:
    """One row per material: the six shapes pristine, then a box at damage, wetness, snow, burn = 1
    and snow, burn = 0.5. Linear colour is encoded to sRGB-ish (gamma 2.2) for viewing."""
    from PIL import Image

    from engine.render.camera import Camera
    from engine.splats.vocab import MATERIAL_NAMES, SHAPES
    from worldmodel.spec import ProxySpec

    w, h = teacher.size
    states = [(1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1), (0, 0, 0.5, 0), (0, 0, 0, 0.5)]
    rows = []
    for m in MATERIAL_NAMES:
        specs = [ProxySpec(s, (0.6, 0.1, 0.5) if s == "plane" else (0.6, 0.5, 0.4), m, 3) for s in SHAPES]
        specs += [ProxySpec("box", (0.6, 0.5, 0.4), m, 3, st) for st in states]
        cam = [Camera((1.4, 1.1, 1.6), (0, 0, 0), w, h, fov_y=50)]
        rows.append(np.concatenate([teacher.render(s, cam)["rgb"][0] for s in specs], 1))
    img = np.clip(np.concatenate(rows, 0), 0, 1) ** (1 / 2.2)
    Image.fromarray((img * 255).astype(np.uint8)).save(path)


if __name__ == "__main__":
    raise SystemExit(main())
