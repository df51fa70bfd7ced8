"""`anchorworld render FILE`: render a splat file headless (EGL) to PATH.png and PATH.npy.

PATH.png is 8-bit RGB (linear values × 255, clipped; no gamma curve), PATH.npy float32 H×W×4:
RGB composited over the background, alpha = 1 − final transmittance. Camera: the eye looks at the
target, pinhole with fx = fy = (H/2)/tan(fov_y/2), principal point at the image centre (see
engine/render/camera.py).

Example::

    anchorworld render scene.ply --size 640x360 --eye 0.3,0.4,2.6 --target 0,0,0 --out shot
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from engine.files import atomic_write as atomic_write_bytes


def parse_size(text: str) -> tuple[int, int]:
    """'WxH' → (W, H), both in 1..16384."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH with whole numbers, e.g. 640x360, got {text!r}") from None
    if not (0 < w <= 16384 and 0 < h <= 16384):
        raise argparse.ArgumentTypeError(f"width and height must be in 1..16384, got {text!r}")
    return w, h


def parse_vec3(text: str) -> tuple[float, float, float]:
    """'X,Y,Z' → three finite floats."""
    try:
        v = tuple(float(p) for p in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected three numbers X,Y,Z, got {text!r}") from None
    if len(v) != 3 or not np.isfinite(v).all():
        raise argparse.ArgumentTypeError(f"expected three finite numbers X,Y,Z, got {text!r}")
    return v  # type: ignore[return-value]


def parse_fov(text: str) -> float:
    """Vertical field of view in degrees, in (0, 180)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected degrees, got {text!r}") from None
    if not 0.0 < v < 180.0:
        raise argparse.ArgumentTypeError(f"field of view must be in (0, 180) degrees, got {text!r}")
    return v


def parse_colour(text: str) -> tuple[float, float, float]:
    """'R,G,B' linear 0..1."""
    v = parse_vec3(text)
    if min(v) < 0 or max(v) > 1:
        raise argparse.ArgumentTypeError(f"background components must be in 0..1, got {text!r}")
    return v


def framing(means: np.ndarray, fov_y: float = 60.0) -> tuple[np.ndarray, np.ndarray]:
    """A default (eye, target) that frames most of the points ``means`` (N, 3) from the +z side."""
    if len(means) == 0:
        return np.array([0.0, 0.0, 3.0]), np.zeros(3)
    target = np.median(means, axis=0).astype(np.float64)
    radius = float(np.percentile(np.linalg.norm(means - target, axis=1), 90)) or 1.0
    dist = radius / np.tan(np.radians(fov_y) / 2.0) * 1.2
    direction = np.array([0.0, 0.3, 1.0]) / np.linalg.norm([0.0, 0.3, 1.0])
    return target + dist * direction, target


def save_outputs(out: str, image: np.ndarray) -> tuple[Path, Path]:
    """Write ``image`` (H, W, 4) float32 as OUT.png (8-bit RGB) and OUT.npy; returns both paths."""
    import io

    from PIL import Image

    base = Path(out)
    if base.suffix in (".png", ".npy"):
        base = base.with_suffix("")
    png, npy = base.with_name(base.name + ".png"), base.with_name(base.name + ".npy")
    rgb8 = np.clip(np.rint(image[..., :3] * 255.0), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb8, "RGB").save(buf, format="PNG")
    atomic_write_bytes(png, buf.getvalue(), make_parents=True)
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(image, np.float32))
    atomic_write_bytes(npy, buf.getvalue(), make_parents=True)
    return png, npy


def register(sub: Any) -> None:
    """Add the `render` subcommand."""
    p = sub.add_parser(
        "render",
        help="render a splat file headless to PATH.png and PATH.npy",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    p.add_argument("file", help="a splat file: .ply (INRIA or PlayCanvas compressed), .splat or .spz")
    p.add_argument("--size", type=parse_size, required=True, metavar="WxH", help="image size in pixels")
    p.add_argument("--eye", type=parse_vec3, required=True, metavar="X,Y,Z", help="camera position")
    p.add_argument("--target", type=parse_vec3, required=True, metavar="X,Y,Z", help="point looked at")
    p.add_argument("--up", type=parse_vec3, default=(0.0, 1.0, 0.0), metavar="X,Y,Z", help="up vector (default 0,1,0)")
    p.add_argument("--fov-y", type=parse_fov, default=60.0, metavar="DEG", help="vertical field of view (default 60)")
    p.add_argument("--background", type=parse_colour, default=(0.0, 0.0, 0.0), metavar="R,G,B", help="linear 0..1 (default 0,0,0)")
    p.add_argument("--sort", choices=("auto", "gpu", "cpu"), default="auto", help="depth sort (default auto)")
    p.add_argument("--raster", choices=("auto", "quads", "compute"), default="auto", help="rasteriser (default auto)")
    p.add_argument("--out", required=True, metavar="PATH", help="writes PATH.png and PATH.npy")
    p.set_defaults(func=run, _parser=p)


def run(args: argparse.Namespace) -> int:
    """Load, render, write; user mistakes raise InputError (exit 1) or argparse errors (exit 2)."""
    from engine.render.camera import Camera
    from engine.render.context import headless_context
    from engine.render.splat_pass import SplatPass, render_offscreen
    from engine.splats.io import load

    w, h = args.size
    try:
        cam = Camera(np.array(args.eye), np.array(args.target), w, h, fov_y=args.fov_y, up=np.array(args.up))
    except ValueError as exc:
        args._parser.error(str(exc))
    gaussians = load(args.file)
    ctx = headless_context(430 if args.sort != "cpu" or args.raster == "compute" else 330)
    splat_pass = SplatPass(ctx, sort=args.sort, raster=args.raster)
    splat_pass.set("file", gaussians)
    image = render_offscreen(splat_pass, cam, args.background)
    png, npy = save_outputs(args.out, image)
    print(f"{png}  {npy}  ({len(gaussians)} splats, {w}x{h})")
    splat_pass.release()
    return 0
