"""Splat pass speed: FPS, sort and draw milliseconds, upload bytes per frame, GPU bytes per splat.

Scene (the issue's benchmark): N splats with centres uniform in [−1, 1]³, scales log-uniform in
[0.002, 0.03], random unit quaternions, opacities uniform in [0.05, 0.99], SH degree 0; camera at
(0.3, 0.4, 2.6) looking at the origin, vertical FOV 60°. The camera orbits by a small angle every
frame so the sort runs each frame. Times are wall clock around glFinish, RGBA16F target.

    anchorworld bench render --splats 100000 --size 640x360 --json
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from typing import Any

import numpy as np


def benchmark_scene(n: int, seed: int = 0):  # -> GaussianSet
    """The benchmark's N random Gaussians (see the module doc)."""
    from engine.splats.gaussians import GaussianSet, rgb_to_sh0

    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, 4)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return GaussianSet(
        rng.uniform(-1, 1, (n, 3)).astype(np.float32),
        np.exp(rng.uniform(np.log(0.002), np.log(0.03), (n, 3))).astype(np.float32),
        q,
        rng.uniform(0.05, 0.99, n).astype(np.float32),
        rgb_to_sh0(rng.uniform(0, 1, (n, 3)))[:, None, :],
    )


def benchmark_camera(width: int, height: int, frame: int = 0):  # -> Camera
    """The benchmark camera, orbited by 0.1° per ``frame`` about +Y."""
    from engine.render.camera import Camera

    a = np.radians(0.1 * frame)
    x, z = 0.3, 2.6
    eye = np.array([x * np.cos(a) + z * np.sin(a), 0.4, -x * np.sin(a) + z * np.cos(a)])
    return Camera(eye, np.zeros(3), width, height, fov_y=60.0)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """--splats, --size, --frames, --sort, --seed."""
    from tools.render_command import parse_size

    p.add_argument("--splats", type=int, default=100_000, help="number of splats (default 100000)")
    p.add_argument("--size", type=parse_size, default=(640, 360), metavar="WxH", help="default 640x360")
    p.add_argument("--frames", type=int, default=20, help="timed frames (default 20)")
    p.add_argument("--sort", choices=("auto", "gpu", "cpu"), default="auto", help="depth sort (default auto)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--raster", choices=("auto", "quads", "compute"), default="auto", help="rasteriser (default auto)")
    p.add_argument("--target-dtype", choices=("f2", "f4"), default="f2", help="colour target: RGBA16F (f2) or RGBA32F")


def run(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """Render ``--frames`` frames after one warm-up; yields one summary row."""
    from engine.render.context import headless_context
    from engine.render.splat_pass import SplatPass

    if args.splats <= 0 or args.frames <= 0:
        raise SystemExit("anchorworld bench render: --splats and --frames must be positive")
    w, h = args.size
    ctx = headless_context(330 if args.sort == "cpu" else 430)
    splat_pass = SplatPass(ctx, sort=args.sort, capacity=args.splats, raster=args.raster)
    scene = benchmark_scene(args.splats, args.seed)
    t0 = time.perf_counter()
    splat_pass.set("bench", scene)
    ctx.finish()
    upload_s = time.perf_counter() - t0
    color = ctx.texture((w, h), 4, dtype=args.target_dtype)
    depth = ctx.depth_renderbuffer((w, h))
    fbo = ctx.framebuffer([color], depth)
    sort_s = draw_s = 0.0
    uploads = 0
    for frame in range(args.frames + 1):
        cam = benchmark_camera(w, h, frame)
        fbo.use()
        fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
        ctx.finish()
        t0 = time.perf_counter()
        splat_pass.prepare(cam)
        ctx.finish()
        t1 = time.perf_counter()
        splat_pass.draw(cam, fbo)
        ctx.finish()
        t2 = time.perf_counter()
        if frame:  # frame 0 warms up (shader compilation, first upload)
            sort_s += t1 - t0
            draw_s += t2 - t1
            uploads += splat_pass.stats()["upload_bytes_last_frame"]
    stats = splat_pass.stats()
    frames = args.frames
    yield {
        "area": "render",
        "splats": args.splats,
        "size": f"{w}x{h}",
        "frames": frames,
        "fps": round(frames / (sort_s + draw_s), 2),
        "sort_ms": round(1000 * sort_s / frames, 3),
        "draw_ms": round(1000 * draw_s / frames, 3),
        "upload_bytes_per_frame": uploads // frames,
        "gpu_bytes_per_splat": round(stats["gpu_bytes_per_splat"], 2),
        "layout_bytes_per_splat": stats["layout_bytes_per_splat"],
        "initial_upload_ms": round(1000 * upload_s, 2),
        "sort": stats["sort"],
        "raster": stats["raster"],
        "tile_pairs": stats["tile_pairs"],  # compute rasteriser: (tile, splat) pairs sorted per frame
        "renderer": ctx.info.get("GL_RENDERER", "?"),
    }
    splat_pass.release()
