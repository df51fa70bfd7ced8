"""`Teacher`: renders procedural reference assets with ModernGL to RGB + alpha + depth.

Draw strategy: one asset mesh per spec (cached, state-independent) is uploaded once; every view is
one draw into the same supersampled float framebuffer, read back straight into a (V, ...) array,
then box-filtered down by the supersampling factor: ``rgb`` is the picture
over a black background (so it is premultiplied by ``alpha``), ``alpha`` the covered fraction,
``depth`` the coverage-weighted mean view-space z of the covered samples (0 where empty).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from engine.render.camera import Camera
from engine.splats.vocab import MATERIALS
from worldmodel.spec import ProxySpec
from worldmodel.style import glsl_uniforms
from worldmodel.teacher.assets import build_mesh

SHADER = Path(__file__).with_name("teacher.glsl")

# Per-material shader settings: mottle (frequency, amount), water, plaster reveal, baseline cracks,
# flammable detail, detail buried by snow, wood grain.
_LOOK: dict[str, dict[str, Any]] = {
    "grass": dict(mottle=(3.0, 0.15), flammable=1.0, bury=1.0),
    "dirt": dict(mottle=(6.0, 0.3)),
    "sand": dict(mottle=(2.0, 0.12)),
    "stone": dict(mottle=(6.0, 0.2), cracks=0.3),
    "brick": dict(mottle=(8.0, 0.18)),
    "plaster": dict(mottle=(2.5, 0.08), reveal=1.0, cracks=0.4),
    "wood_planks": dict(mottle=(3.0, 0.1), grain=0.25),
    "bark": dict(mottle=(5.0, 0.2), flammable=0.5),
    "foliage": dict(mottle=(4.0, 0.2), flammable=1.0),
    "roof_tiles": dict(mottle=(6.0, 0.15)),
    "water": dict(mottle=(1.5, 0.1), water=1.0),
    "metal": dict(mottle=(3.0, 0.06)),
}
# How the style field's tone and patch channels show (worldmodel/style.py): albedo multipliers at
# tone 0 and 1, and the colour + amount of the secondary patches.
_STYLE_LOOK: dict[str, tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float, float]]] = {
    "grass": ((0.55, 1.05, 0.55), (2.3, 1.45, 0.45), (0.34, 0.24, 0.10, 0.85)),  # lush / dry, dead patches
    "dirt": ((0.55, 0.6, 0.7), (1.6, 1.45, 1.2), (0.50, 0.20, 0.09, 0.85)),  # dark / dusty, red clay
    "sand": ((1.15, 1.1, 1.05), (0.75, 0.55, 0.4), (0.22, 0.18, 0.12, 0.8)),  # pale / ochre, damp
    "stone": ((1.45, 1.35, 1.15), (0.55, 0.62, 0.78), (0.12, 0.24, 0.05, 0.9)),  # warm / cool, moss
    "brick": ((1.6, 1.1, 0.8), (0.6, 0.55, 0.65), (0.05, 0.04, 0.04, 0.85)),  # orange / brown, soot
    "plaster": ((1.08, 1.05, 1.02), (0.95, 0.68, 0.4), (0.22, 0.20, 0.16, 0.8)),  # white / ochre, grime
    "wood_planks": ((1.6, 1.4, 1.1), (0.55, 0.55, 0.62), (0.40, 0.39, 0.37, 0.8)),  # light / dark, weathered
    "bark": ((1.6, 1.35, 1.1), (0.55, 0.55, 0.6), (0.40, 0.46, 0.28, 0.85)),  # light / dark, lichen
    "foliage": ((0.6, 1.05, 0.65), (2.4, 1.45, 0.45), (0.60, 0.20, 0.04, 0.9)),  # deep / yellow, autumn
    "roof_tiles": ((1.5, 1.2, 1.0), (0.55, 0.5, 0.6), (0.22, 0.28, 0.10, 0.85)),  # bright / dark, moss
    "water": ((0.6, 1.6, 1.0), (1.2, 1.1, 2.2), (0.12, 0.26, 0.06, 0.85)),  # green / blue, algae
    "metal": ((1.3, 1.3, 1.3), (0.55, 0.62, 0.8), (0.40, 0.14, 0.05, 0.9)),  # bright / blued, rust
}
assert set(_LOOK) == set(MATERIALS) == set(_STYLE_LOOK)

MeshKey = tuple[str, tuple[float, float, float], str, int]


def mesh_key(spec: ProxySpec) -> MeshKey:
    """What the asset mesh depends on: everything in the spec except the appearance state."""
    return (spec.shape, spec.half_extents, spec.material, spec.style_seed)


class Teacher:
    """Procedural reference renderer.

    ctx: a ModernGL context (default: a headless EGL one); size: (W, H) of the output images;
    supersample: samples per pixel along each axis; cache: how many asset meshes to keep.

    >>> t = Teacher(size=(64, 64))                                     # doctest: +SKIP
    >>> spec = ProxySpec("box", (0.5, 0.5, 0.5), "brick", 7)           # doctest: +SKIP
    >>> out = t.render(spec, sample_cameras(spec, 4, np.random.default_rng(0), size=(64, 64)))  # +SKIP
    >>> out["rgb"].shape, out["alpha"].shape, out["depth"].shape       # doctest: +SKIP
    ((4, 64, 64, 3), (4, 64, 64), (4, 64, 64))
    """

    def __init__(self, ctx: Any = None, size: tuple[int, int] = (128, 128), supersample: int = 2,
                 cache: int = 32) -> None:
        import moderngl

        if ctx is None:
            from engine.render.context import headless_context

            ctx = headless_context(330)
        w, h = (int(v) for v in size)
        if w <= 0 or h <= 0 or supersample < 1:
            raise ValueError(f"Teacher: size must be positive and supersample >= 1, got {size}, {supersample}")
        self.ctx = ctx
        self.size = (w, h)
        self.supersample = int(supersample)
        src = SHADER.read_text()
        head, body = src.split("\n", 1)
        self.prog = ctx.program(
            vertex_shader=f"{head}\n#define VERTEX_SHADER\n{body}",
            fragment_shader=f"{head}\n#define FRAGMENT_SHADER\n{body}",
        )
        self._moderngl = moderngl
        self._meshes: OrderedDict[MeshKey, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._cache_size = int(cache)
        self._fbo: Any = None

    # -- meshes ---------------------------------------------------------------------------------
    def mesh(self, spec: ProxySpec) -> tuple[np.ndarray, np.ndarray]:
        """The spec's asset: (n, 14) float32 triangle list and (3,) noise offset (cached)."""
        key = mesh_key(spec)
        hit = self._meshes.get(key)
        if hit is not None:
            self._meshes.move_to_end(key)
            return hit
        out = build_mesh(*key)
        self._meshes[key] = out
        while len(self._meshes) > self._cache_size:
            self._meshes.popitem(last=False)
        return out

    # -- framebuffer ----------------------------------------------------------------------------
    def _framebuffer(self) -> Any:
        if self._fbo is None:
            ss = self.supersample
            size = (self.size[0] * ss, self.size[1] * ss)
            colour = self.ctx.texture(size, 4, dtype="f4")
            depth = self.ctx.texture(size, 1, dtype="f4")
            self._fbo = self.ctx.framebuffer([colour, depth], self.ctx.depth_renderbuffer(size))
        return self._fbo

    # -- rendering ------------------------------------------------------------------------------
    def render(self, spec: ProxySpec, cameras: list[Camera]) -> dict[str, np.ndarray]:
        """Render one spec from V cameras (each ``size`` pixels).

        Returns ``rgb`` (V,H,W,3) f32 linear over black, ``alpha`` (V,H,W) f32 in [0,1],
        ``depth`` (V,H,W) f32 view-space z in metres (0 where empty).
        """
        if not cameras:
            raise ValueError("Teacher.render: expected at least one camera")
        w, h = self.size
        for cam in cameras:
            if (cam.width, cam.height) != (w, h):
                raise ValueError(f"Teacher.render: camera is {cam.width}x{cam.height}, teacher renders {w}x{h}")
        verts, offset = self.mesh(spec)
        look = _LOOK[spec.material]
        ss = self.supersample
        fbo = self._framebuffer()
        ctx, prog = self.ctx, self.prog
        views = len(cameras)
        rgba = np.empty((views, h * ss, w * ss, 4), np.float32)
        z = np.empty((views, h * ss, w * ss), np.float32)
        vbo = ctx.buffer(verts.tobytes())
        vao = ctx.vertex_array(prog, [(vbo, "3f 3f 3f 3f 2f", "in_pos", "in_nrm", "in_alb", "in_ctr", "in_inst")])
        try:
            fbo.use()
            fbo.viewport = (0, 0, w * ss, h * ss)
            ctx.enable(self._moderngl.DEPTH_TEST)
            ctx.disable(self._moderngl.CULL_FACE | self._moderngl.BLEND)
            self._set(prog, "u_state", tuple(spec.state))
            self._set(prog, "u_offset", tuple(float(v) for v in offset))
            self._set(prog, "u_mottle", look.get("mottle", (2.0, 0.1)))
            self._set(prog, "u_water", float(look.get("water", 0.0)))
            self._set(prog, "u_reveal", float(look.get("reveal", 0.0)))
            self._set(prog, "u_cracks", float(look.get("cracks", 0.0)))
            self._set(prog, "u_flammable", float(look.get("flammable", 0.0)))
            self._set(prog, "u_bury", float(look.get("bury", 0.0)))
            self._set(prog, "u_grain", float(look.get("grain", 0.0)))
            tint_a, tint_b, patch = _STYLE_LOOK[spec.material]
            self._set(prog, "u_tint_a", tint_a)
            self._set(prog, "u_tint_b", tint_b)
            self._set(prog, "u_patch", patch)
            for name, data in glsl_uniforms().items():
                self._set(prog, name, data)
            # Every view is drawn at the same place in the same framebuffer, so a view's pixels do not
            # depend on which other views share the call (an atlas would shift rasterisation by the tile
            # offset and change the last bits of interpolated values).
            for i, cam in enumerate(cameras):
                fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
                self._set(prog, "u_view", cam.gl_view.T.tobytes())
                self._set(prog, "u_proj", cam.gl_projection.T.tobytes())
                self._set(prog, "u_eye", tuple(float(v) for v in cam.eye))
                vao.render(self._moderngl.TRIANGLES)
                fbo.color_attachments[0].read_into(rgba[i], alignment=1)
                fbo.color_attachments[1].read_into(z[i], alignment=1)
        finally:
            vao.release()
            vbo.release()
        return _resolve(rgba[:, ::-1], z[:, ::-1], ss)

    @staticmethod
    def _set(prog: Any, name: str, value: Any) -> None:
        if name not in prog:
            return  # optimised away by the driver
        if isinstance(value, bytes):
            prog[name].write(value)
        else:
            prog[name].value = value

    def release(self) -> None:
        """Free the GL objects (the context stays the caller's)."""
        if self._fbo is not None:
            for a in (*self._fbo.color_attachments, self._fbo.depth_attachment):
                a.release()
            self._fbo.release()
            self._fbo = None
        self.prog.release()


def _resolve(rgba: np.ndarray, z: np.ndarray, ss: int) -> dict[str, np.ndarray]:
    """Box-filter supersampled views: rgba (V, H*ss, W*ss, 4), z (V, H*ss, W*ss), rows top-down."""
    v, hs, ws, _ = rgba.shape
    h, w = hs // ss, ws // ss
    blocks = rgba.reshape(v, h, ss, w, ss, 4)
    cover = blocks[..., 3]
    n = cover.sum((2, 4))
    zs = (z.reshape(v, h, ss, w, ss) * cover).sum((2, 4))
    return {
        "rgb": np.ascontiguousarray(blocks[..., :3].mean((2, 4)), np.float32),
        "alpha": (n / (ss * ss)).astype(np.float32),
        "depth": np.where(n > 0, zs / np.maximum(n, 1e-12), 0.0).astype(np.float32),
    }
