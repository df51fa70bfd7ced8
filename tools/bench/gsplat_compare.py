"""GPU script: the benchmark scene rendered by gsplat (classic) and by our splat pass, in one run.

Prints, for each N and rasteriser (compute tiles, instanced quads), both frame times, their ratio
(ours / gsplat), our FPS and the PSNR between the two images, one JSON object per line. Ours is
project + sort + draw of one frame into an RGBA16F target, ``--frames`` frames launched back to back
then one glFinish (as gsplat is timed); the per-frame glFinish time, a GL timer query per frame and
the compute path's per-stage GPU times are reported too. The camera orbits 0.1° per frame so the
sort runs every frame. gsplat's is ``rasterization(..., rasterize_mode="classic")``
(forward only, SH degree 0), timed with torch.cuda.synchronize.

Run on a machine with CUDA, torch, gsplat 1.5.3 and an EGL-capable driver::

    python -m tools.bench.gsplat_compare --splats 1000000 3000000 --size 1920x1080 --raster compute quads

Last measured (H200, 2026-11-22, ``--sort-bench --digit-bits 8 5 --ballot-shared low high
--depth-bits 0 15 --splats 1000000 3000000 --raster compute --frames 30``; defaults 8 / 23 / low):
1M splats 2.47 ms (gsplat 1.83, ratio 1.35, 404 FPS, PSNR 72.0 dB), 3M 3.53 ms (gsplat 3.31, ratio
1.07, 283 FPS, PSNR 70.7 dB); GL timer query of our frame 1.22 / 2.50 ms. 15-bit depth: 2.27 / 3.44
ms, PSNR 51.7 / 48.7 dB. 5-bit digits: 2.94 / 4.85 ms. The sort alone (``--sort-bench``, random
keys, order equal to a stable argsort): 18.4M 13-bit keys 0.64 ms (2 passes), 3M 24-bit keys
0.78 ms (3 passes). Before the two-sort order: 3.77 / 8.80 ms (ratio 2.32 / 2.72).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def time_gsplat(scene, cam, frames: int) -> tuple[float, np.ndarray]:
    import torch
    from gsplat import rasterization

    dev = "cuda"
    means = torch.from_numpy(scene.means).to(dev)
    quats = torch.from_numpy(scene.quats).to(dev)
    scales = torch.from_numpy(scene.scales).to(dev)
    opac = torch.from_numpy(scene.opacities).to(dev)
    sh = torch.from_numpy(scene.sh).to(dev)  # (N, 1, 3)
    ks = torch.from_numpy(cam.intrinsics).to(dev)[None]

    def views(frame):
        from tools.bench.render import benchmark_camera

        return torch.from_numpy(benchmark_camera(cam.width, cam.height, frame).view).to(dev)[None]

    def render(frame):
        colors, alphas, _ = rasterization(
            means, quats, scales, opac, sh, views(frame), ks, cam.width, cam.height,
            near_plane=0.01, far_plane=1000.0, eps2d=0.3, sh_degree=0, packed=False,
            rasterize_mode="classic", backgrounds=torch.zeros(1, 3, device=dev),
        )
        return colors, alphas

    with torch.no_grad():
        for f in range(3):
            render(f)
        torch.cuda.synchronize()
        vms = [views(f) for f in range(frames)]
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for f in range(frames):
            colors, alphas, _ = rasterization(
                means, quats, scales, opac, sh, vms[f], ks, cam.width, cam.height,
                near_plane=0.01, far_plane=1000.0, eps2d=0.3, sh_degree=0, packed=False,
                rasterize_mode="classic", backgrounds=torch.zeros(1, 3, device=dev),
            )
        torch.cuda.synchronize()
        dt = (time.perf_counter() - t0) / frames
        colors, alphas = render(0)
        img = torch.cat([colors[0], alphas[0]], -1).float().cpu().numpy()
    return dt, img


def time_ours(
    scene, width: int, height: int, frames: int, raster: str = "quads", profile: bool = True, clear: str = "gl"
) -> tuple[float, float, float, np.ndarray, dict]:
    """Ours: (ms per frame back to back, ms per frame with glFinish around each, sort ms, image, info).

    clear: how each frame starts from the black background — "gl": glClear of colour and depth then
    ``draw`` (a full-screen clear runs on the graphics units, few on data-centre GPUs; its GPU ms is
    reported as clear_gpu_ms); "fused": ``draw(..., background=(0, 0, 0))``, whose compute raster
    writes every pixel itself (the depth is cleared once, as nothing writes it).

    Back to back is how gsplat is timed (frames launched in a row, one sync at the end); the
    glFinish figure adds a CPU↔GPU round trip per frame. info carries the GL timer query per frame
    and, for the compute rasteriser, the GPU ms of each stage (timer queries; a separate run).
    """
    from engine.render.context import headless_context
    from engine.render.splat_pass import SplatPass, render_offscreen
    from tools.bench.render import benchmark_camera

    ctx = headless_context(430)
    sp = SplatPass(ctx, capacity=len(scene), raster=raster)
    sp.set("bench", scene)
    color = ctx.texture((width, height), 4, dtype="f2")
    depth = ctx.depth_renderbuffer((width, height))
    fbo = ctx.framebuffer([color], depth)
    query = ctx.query(time=True)
    black = (0.0, 0.0, 0.0)
    fbo.clear(0, 0, 0, 0, depth=1.0)

    def frame(cam) -> None:
        if clear == "gl":
            fbo.clear(0, 0, 0, 0, depth=1.0)
            sp.draw(cam, fbo)
        else:
            sp.draw(cam, fbo, background=black)

    for f in range(5):
        frame(benchmark_camera(width, height, 1000 + f))
    ctx.finish()
    cams = [benchmark_camera(width, height, f + 1) for f in range(frames)]
    # back to back, like gsplat's timing
    t0 = time.perf_counter()
    for cam in cams:
        frame(cam)
    ctx.finish()
    t_b2b = (time.perf_counter() - t0) / frames
    # one frame at a time, glFinish around each, GL timer query inside
    gpu_ns = 0
    clear_ns = 0
    t_sync = 0.0
    for f in range(frames):
        cam = benchmark_camera(width, height, 2000 + f)
        ctx.finish()
        with query:
            fbo.clear(0, 0, 0, 0, depth=1.0)
        clear_ns += query.elapsed
        ctx.finish()
        t0 = time.perf_counter()
        with query:
            if clear == "gl":
                sp.draw(cam, fbo)
            else:
                sp.draw(cam, fbo, background=black)
        ctx.finish()
        t_sync += time.perf_counter() - t0
        gpu_ns += query.elapsed
    sort_s = 0.0
    for f in range(5):  # prepare alone (project + sort), for the breakdown
        cam = benchmark_camera(width, height, 500 + f)
        ctx.finish()
        t0 = time.perf_counter()
        sp.prepare(cam)
        ctx.finish()
        sort_s += time.perf_counter() - t0
        fbo.clear(0, 0, 0, 0, depth=1.0)
        sp.draw(cam, fbo)
    stages = {}
    if profile and sp._tiles is not None:
        sp._tiles.profile = {}
        for f in range(5):
            fbo.clear(0, 0, 0, 0, depth=1.0)
            sp.draw(benchmark_camera(width, height, 700 + f), fbo)
        stages = {f"gpu_{k}_ms": round(v / 5, 3) for k, v in sp._tiles.profile.items()}
        sp._tiles.profile = None
    if clear == "gl":
        img = render_offscreen(sp, benchmark_camera(width, height, 0), (0.0, 0.0, 0.0))
    else:  # the image compared with gsplat's comes from the fused path, over a stale frame
        fbo.clear(1, 0, 1, 1, depth=1.0)
        sp.draw(benchmark_camera(width, height, 0), fbo, background=black)
        img = np.frombuffer(fbo.read(components=4, dtype="f2"), np.float16).reshape(height, width, 4)[::-1]
        img = np.ascontiguousarray(img.astype(np.float32))
    stats = sp.stats()
    info = dict(
        renderer=ctx.info.get("GL_RENDERER"), gpu_bytes_per_splat=round(stats["gpu_bytes_per_splat"], 1),
        ours_gpu_query_ms=round(gpu_ns / frames / 1e6, 3), clear_gpu_ms=round(clear_ns / frames / 1e6, 3), clear=clear,
        tile_pairs=stats["tile_pairs"], **stages,
    )
    if sp._tiles is not None:
        info["sort_digit_bits"] = sp._tiles.sorter.digit_bits
        info["depth_bits"] = sp._tiles.depth_bits
    sp.release()
    fbo.release()
    ctx.release()
    return t_b2b, t_sync / frames, sort_s / 5, img, info


def time_sort(digit_bits: int, n: int, key_bits: int, reps: int = 10, check: bool = True) -> dict:
    """The GPU radix sort alone: ms per sort (GL timer query, median of ``reps``), per-kernel ms, and
    whether its order equals np.argsort's stable order (``check``) on n random ``key_bits``-bit keys."""
    from engine.render import splat_sort
    from engine.render.context import headless_context
    from engine.render.splat_sort import GpuRadixSort, argsort_reference

    ctx = headless_context(430)
    sorter = GpuRadixSort(ctx, n, digit_bits=digit_bits)
    keys = np.random.default_rng(n + key_bits).integers(0, 2**key_bits, n, dtype=np.uint64).astype(np.uint32)
    values = np.arange(n, dtype=np.uint32)
    # the input is uploaded once and copied on the GPU before each sort: a buffer the CPU writes
    # often may be kept in host memory by the driver, which made the first version of this 4× slower
    src_keys, src_values = ctx.buffer(keys.tobytes()), ctx.buffer(values.tobytes())
    query = ctx.query(time=True)
    times = []
    for r in range(reps + 1):
        ctx.copy_buffer(sorter.keys, src_keys)
        ctx.copy_buffer(sorter.values, src_values)
        ctx.finish()
        sorter.profile = {} if r == reps else None
        with query:
            sorter.sort(n, key_bits, swap=True)
        ctx.finish()
        if r < reps:
            times.append(query.elapsed / 1e6)
    row = {
        "sort_keys": n, "key_bits": key_bits, "digit_bits": sorter.digit_bits, "block": sorter.block,
        "passes": sorter.passes(key_bits, even=False), "ballot_low_shared": splat_sort.BALLOT_LOW_SHARED, "sort_ms": round(float(np.median(times)), 3),
        **{f"{k}_ms_profiled": round(v, 3) for k, v in sorter.profile.items()},
    }
    if check:
        order = np.frombuffer(sorter.values.read(n * 4), np.uint32)
        sorted_keys = np.frombuffer(sorter.keys.read(n * 4), np.uint32)
        ref = argsort_reference(keys)
        row["matches_stable_argsort"] = bool(np.array_equal(order, ref) and np.array_equal(sorted_keys, keys[ref]))
    sorter.release()
    src_keys.release()
    src_values.release()
    ctx.release()
    return row


def main(argv: list[str] | None = None) -> int:
    from tools.bench.render import benchmark_camera, benchmark_scene
    from tools.render_command import parse_size

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--splats", type=int, nargs="+", default=[1_000_000, 3_000_000])
    ap.add_argument("--size", type=parse_size, default=(1920, 1080))
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--save", default="", help="folder for the two images (.npy) of each N")
    ap.add_argument("--skip-gsplat", action="store_true")
    ap.add_argument("--raster", nargs="+", choices=("quads", "compute"), default=["compute", "quads"])
    ap.add_argument(
        "--digit-bits", type=int, nargs="+", choices=(4, 5, 8), default=[8],
        help="compute path's radix digit widths to run (8 falls back to 5 then 4 where unsupported)",
    )
    ap.add_argument(
        "--sort-bench", action="store_true",
        help="first time the radix sort alone (18.4M 13-bit tile keys, 3M 24-bit depth keys) per digit width, "
        "checked against a stable argsort",
    )
    ap.add_argument(
        "--clear", nargs="+", choices=("gl", "fused"), default=["fused"],
        help="how our frames start from the background: written by the raster pass (default, as `anchorworld "
        "view` draws), or a glClear first (see time_ours)",
    )
    ap.add_argument(
        "--depth-bits", type=int, nargs="+", default=[0],
        help="depth key bits of the compute path's splat sort to run (0: its default for the digit width)",
    )
    ap.add_argument(
        "--ballot-shared", nargs="+", choices=("low", "high"), default=["low"],
        help="8-bit scatter variants to run: one shared array (low) or three (high)",
    )
    args = ap.parse_args(argv)
    from engine.render import splat_sort, splat_tiles

    defaults = dict(splat_tiles.DEPTH_BITS)
    variants = [
        (bits, depth, shared)
        for bits in args.digit_bits
        for depth in args.depth_bits
        for shared in (args.ballot_shared if bits == 8 else ["low"])
    ]

    def configure(bits: int, depth: int, shared: str) -> None:
        splat_tiles.SORT_DIGIT_BITS = bits
        splat_tiles.DEPTH_BITS.update(defaults)
        if depth:
            splat_tiles.DEPTH_BITS[bits] = depth
        splat_sort.BALLOT_LOW_SHARED = shared == "low"

    w, h = args.size
    if args.sort_bench:
        for bits in args.digit_bits:
            for shared in args.ballot_shared if bits == 8 else ["low"]:
                configure(bits, 0, shared)
                for n, key_bits in ((18_400_000, 13), (3_000_000, splat_tiles.DEPTH_BITS[bits] + 1)):
                    print(json.dumps(time_sort(bits, n, key_bits)), flush=True)
    for n in args.splats:
        scene = benchmark_scene(n)
        g_s = g_img = None
        if not args.skip_gsplat:
            g_s, g_img = time_gsplat(scene, benchmark_camera(w, h, 0), args.frames)
            if args.save:
                np.save(f"{args.save}/gsplat_{n}.npy", g_img[..., :3].astype(np.float16))
        runs = [
            (r, v, c) for r in args.raster for v in (variants if r == "compute" else [(0, 0, "")]) for c in args.clear
        ]
        for raster, (bits, depth, shared), clear in runs:
            if bits:
                configure(bits, depth, shared)
            try:
                ours_s, ours_sync_s, sort_s, ours_img, info = time_ours(
                    scene, w, h, args.frames, raster, clear=clear
                )
            except Exception as exc:  # noqa: BLE001 - report and go on with the other rasteriser
                print(json.dumps({"splats": n, "raster": raster, "error": repr(exc)[:500]}), flush=True)
                continue
            row = {
                "splats": n, "size": f"{w}x{h}", "raster": raster, "ours_ms": round(ours_s * 1e3, 3),
                "ours_ms_finish_each": round(ours_sync_s * 1e3, 3), "ours_prepare_ms": round(sort_s * 1e3, 3),
                "ours_fps": round(1.0 / ours_s, 1), **info,
                **({"ballot_low_shared": splat_sort.BALLOT_LOW_SHARED} if bits == 8 else {}),
            }
            if g_s is not None:
                row.update(
                    gsplat_ms=round(g_s * 1e3, 3), ratio=round(ours_s / g_s, 3),
                    psnr_rgb_db=round(psnr(ours_img[..., :3], g_img[..., :3]), 2),
                    psnr_alpha_db=round(psnr(ours_img[..., 3], g_img[..., 3]), 2),
                )
            if args.save:
                np.save(f"{args.save}/ours_{raster}{bits or ''}{shared}{depth or ''}{clear}_{n}.npy", ours_img[..., :3].astype(np.float16))
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
