"""`TileRasterizer`: the splat pass's compute-shader path (GL 4.3), tile-based like gsplat.

Why: data-centre GPUs (H100, H200) run vertex and fragment work on very few units, so drawing
millions of instanced quads through the raster pipeline is slow there; compute shaders run on every
SM. Steps per frame (shaders/splat_project, sort_*, splat_ranges, splat_raster, splat_composite):

1. project every slot once (same ``project_splat`` as the quad path, shaders/splat_common.glsl) and
   emit a (tile << depth_bits | log-depth, slot) pair per 16×16 tile its ellipse touches;
2. radix-sort the pairs (``GpuRadixSort``: by tile, then front to back);
3. find each tile's range; 4. composite each tile front to back in a workgroup, early-out at T ≤ 1e-4
   and at the framebuffer's depth (the proxy pass) when it is a depth texture;
5. blend the premultiplied image over the framebuffer with ONE, ONE_MINUS_SRC_ALPHA.

The proxy depth test needs the framebuffer's depth attachment to be a depth *texture* (as
engine/render/frame.py makes it); with a depth renderbuffer, which a compute shader cannot read,
splats are not hidden by proxies.

Depth is quantised to ``depth_bits`` (32 − tile bits, 19 at 1080p) on a log scale over [near, far]:
splats closer in depth than that resolution may composite in either order.
"""

from __future__ import annotations

import math
from typing import Any

import moderngl
import numpy as np

from engine.render.camera import Camera
from engine.render.splat_sort import GpuRadixSort

TILE = 16


class TileRasterizer:
    """Compute-shader rasteriser bound to a SplatPass's data textures (see the module doc)."""

    def __init__(self, ctx: Any, shader_source: Any, sources_dir: Any) -> None:
        self.ctx = ctx
        self.project = ctx.compute_shader(shader_source("splat_project.glsl", "COMPUTE_SHADER", "430"))
        self.ranges_prog = ctx.compute_shader((sources_dir / "splat_ranges.glsl").read_text())
        self.raster = ctx.compute_shader((sources_dir / "splat_raster.glsl").read_text())
        comp = (sources_dir / "splat_composite.glsl").read_text()
        self.composite = ctx.program(
            vertex_shader="#version 330 core\n#define VERTEX_SHADER\n" + comp,
            fragment_shader="#version 330 core\n#define FRAGMENT_SHADER\n" + comp,
        )
        self.composite_vao = ctx.vertex_array(self.composite, [])
        self.sorter = GpuRadixSort(ctx, 1 << 16)
        self.counter = ctx.buffer(reserve=16)
        self.proj = ctx.buffer(reserve=48 * 1024)
        self.ranges = ctx.buffer(reserve=8)
        self.image = None
        self.pairs = 0
        self.upload = 0  # bytes written from the CPU in the last prepare/draw

    def nbytes(self) -> int:
        img = self.image.width * self.image.height * 8 if self.image is not None else 0
        return self.sorter.capacity * 16 + self.sorter._hist.size + self.proj.size + self.ranges.size + img

    def prepare(self, camera: Camera, n: int, bind_common: Any) -> None:
        """Project ``n`` slots and sort their tile pairs for ``camera``."""
        ctx = self.ctx
        w, h = camera.width, camera.height
        tiles = ((w + TILE - 1) // TILE, (h + TILE - 1) // TILE)
        ntiles = tiles[0] * tiles[1]
        tile_bits = max(1, (ntiles - 1).bit_length())
        if tile_bits > 24:
            raise ValueError(f"splat pass: {w}x{h} has too many tiles for 32-bit keys")
        self.depth_bits = 32 - tile_bits
        self.tiles = tiles
        if self.proj.size < n * 48:
            size = max(n * 48, 2 * self.proj.size)
            self.proj.release()
            self.proj = ctx.buffer(reserve=size)
        if self.ranges.size < ntiles * 8:
            self.ranges.release()
            self.ranges = ctx.buffer(reserve=ntiles * 8)
        prog = self.project
        bind_common(prog, camera)
        prog["u_n"] = n
        prog["u_tiles"] = tiles
        prog["u_depth_bits"] = self.depth_bits
        ln, lf = math.log(camera.near), math.log(camera.far)
        prog["u_log_depth"] = (ln, 1.0 / (lf - ln))
        self.upload = 0
        for _ in range(3):
            prog["u_capacity"] = self.sorter.capacity
            self.counter.write(np.zeros(4, np.uint32).tobytes())
            self.upload += 16
            self.sorter.keys.bind_to_storage_buffer(0)
            self.sorter.values.bind_to_storage_buffer(1)
            self.counter.bind_to_storage_buffer(5)
            self.proj.bind_to_storage_buffer(6)
            prog.run((n + 255) // 256)
            ctx.memory_barrier()
            total = int(np.frombuffer(self.counter.read(4), np.uint32)[0])
            if total <= self.sorter.capacity:
                break
            self.sorter.reserve(int(total * 1.25))
        self.pairs = total
        self.sorter.sort(total)
        self.ranges.clear()
        self.upload += ntiles * 8
        if total:
            self.sorter.keys.bind_to_storage_buffer(0)
            self.ranges.bind_to_storage_buffer(7)
            self.ranges_prog["u_n"] = total
            self.ranges_prog["u_depth_bits"] = self.depth_bits
            self.ranges_prog.run((total + 255) // 256)
            ctx.memory_barrier()

    def draw(self, camera: Camera, framebuffer: Any) -> None:
        """Rasterise the sorted pairs and blend the result over ``framebuffer``."""
        ctx = self.ctx
        w, h = camera.width, camera.height
        if self.image is None or self.image.size != (w, h):
            if self.image is not None:
                self.image.release()
            self.image = ctx.texture((w, h), 4, dtype="f2")
            self.image.filter = (moderngl.NEAREST, moderngl.NEAREST)
        depth = framebuffer.depth_attachment
        has_depth = isinstance(depth, moderngl.Texture)
        prog = self.raster
        if has_depth:
            # read raw depth values: no shadow comparison while this pass samples it
            compare = depth.compare_func
            depth.compare_func = ""
            depth.use(1)
            prog["u_depth"] = 1
        prog["u_has_depth"] = int(has_depth)
        proj = camera.gl_projection.astype(np.float64)
        prog["u_depth_ab"] = (float(-proj[2, 2]), float(proj[2, 3]))
        prog["u_tiles"] = self.tiles
        prog["u_size"] = (w, h)
        self.image.bind_to_image(0, read=False, write=True)
        self.sorter.values.bind_to_storage_buffer(1)
        self.proj.bind_to_storage_buffer(6)
        self.ranges.bind_to_storage_buffer(7)
        prog.run(self.tiles[0], self.tiles[1])
        ctx.memory_barrier()
        if has_depth:
            depth.compare_func = compare
        framebuffer.use()
        ctx.viewport = (0, 0, w, h)
        ctx.disable(moderngl.DEPTH_TEST)
        ctx.enable(moderngl.BLEND)
        ctx.blend_func = moderngl.ONE, moderngl.ONE_MINUS_SRC_ALPHA
        self.image.use(0)
        self.composite["u_image"] = 0
        self.composite_vao.render(moderngl.TRIANGLES, vertices=3)
        ctx.disable(moderngl.BLEND)

    def release(self) -> None:
        for o in (self.project, self.ranges_prog, self.raster, self.composite_vao, self.composite,
                  self.counter, self.proj, self.ranges):
            o.release()
        self.sorter.release()
        if self.image is not None:
            self.image.release()
