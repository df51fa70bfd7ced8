"""`TileRasterizer`: the splat pass's compute-shader path (GL 4.3), tile-based like gsplat.

Why: data-centre GPUs (H100, H200) run vertex and fragment work on very few units, so drawing
millions of instanced quads through the raster pipeline is slow there; compute shaders run on every
SM. The whole frame stays on the GPU, nothing is read back in steady state:

1. ``splat_project.glsl`` — one thread per slot: project (same ``project_splat`` as the quads,
   shaders/splat_common.glsl), a 32-byte record, the 16×16-tile rectangle and the count of its
   tiles the ellipse really reaches (``tile_hit``: exact minimum of q over the tile, 19% fewer
   pairs than the bounding box on the benchmark scene), per workgroup the pair count and the
   visible depth range;
2. ``splat_scan.glsl`` — one workgroup: exclusive scan of the workgroup counts, total pairs and the
   indirect dispatch sizes into a small status buffer, tile ranges zeroed;
3. ``splat_emit.glsl`` — one thread per slot: its (tile << depth_bits | depth, slot) pairs at its
   prefix offset (deterministic, slot order);
4. ``GpuRadixSort.sort_indirect`` — LSD radix sort of the pairs (5-bit digits, 6 passes, 30-bit keys
   on GPUs with ≥ 40 KiB of shared memory; 4-bit, 8 passes, 32-bit keys elsewhere), the count and
   workgroup counts read on the GPU (glDispatchComputeIndirect);
5. ``splat_ranges.glsl`` — each tile's [start, end) in the sorted list (indirect dispatch);
6. ``splat_raster.glsl`` — one workgroup per tile blends front to back with shared-memory batches of
   256 splats, leaving once every pixel has T ≤ 1e-4, and blends straight into the framebuffer's
   RGBA16F/RGBA32F colour texture (image load/store; ONE, ONE_MINUS_SRC_ALPHA arithmetic); other
   targets get a private image and ``splat_composite.glsl`` (one triangle) blends it.

Buffer sizes. The pair count is only known on the GPU. Pairs past the sort's capacity are dropped
and counted: after a change of splat content, slot count or image size (``sync``) the host reads the
total at once and redoes the frame with larger buffers if needed; otherwise it reads the *previous*
frame's total (finished by then) before starting a frame and grows ahead (1.5× headroom), so a
sudden camera move that more than outgrows the headroom can drop pairs for one frame.

Depth is quantised to ``depth_bits`` = key bits − tile bits (17 at 1080p with 5-bit digits) linearly
over the frame's visible depth range; splats closer in depth than that step composite in slot order
(later slot in front, as back-to-front blending in slot order gives).

Measured on an H200 at 1920×1080 (tools/bench/gsplat_compare.py, benchmark scene): 3.84 ms at 1M
splats (6.1M pairs), 8.45 ms at 3M (18.4M pairs), against gsplat 1.5.3 classic's 1.64 / 3.08 ms;
PSNR to gsplat's image 53 / 57 dB. The radix sort is 2.3 / 6.4 ms of that (raster 0.4, project
and emit 0.25 / 0.68): the sort is what to make faster next (fewer passes through wider digits with
subgroup ranking, or a one-sweep decoupled look-back scan).

The proxy depth test needs the framebuffer's depth attachment to be a depth *texture* (as
engine/render/frame.py makes it); with a depth renderbuffer, which a compute shader cannot read,
splats are not hidden by proxies.
"""

from __future__ import annotations

from typing import Any

import moderngl
import numpy as np

from engine.render.camera import Camera
from engine.render.splat_sort import GpuRadixSort, shader_text

TILE = 16
GROUP = 256  # slots per workgroup in splat_project / splat_emit
MAX_GROUPS = 65535  # glDispatchCompute limit on x
HEADROOM = 1.5
SORT_DIGIT_BITS = 5  # 4 forces the 8-pass sort (benchmarks compare the two)
_RESET = np.array([0, 0xFFFFFFFF, 0, 0], np.uint32).tobytes()  # pairs, zmin, zmax, total


class TileRasterizer:
    """Compute-shader rasteriser bound to a SplatPass's data textures (see the module doc).

    capacity: initial tile pairs the sort holds (grown as frames need).
    """

    def __init__(self, ctx: Any, shader_source: Any, sources_dir: Any, capacity: int = 1 << 16) -> None:
        self.ctx = ctx
        self._dir = sources_dir
        self.project = ctx.compute_shader(shader_source("splat_project.glsl", "COMPUTE_SHADER", "430"))
        self.scan = ctx.compute_shader(shader_text("splat_scan.glsl", sources_dir))
        self.emit = ctx.compute_shader(shader_source("splat_emit.glsl", "COMPUTE_SHADER", "430"))
        self.ranges_prog = ctx.compute_shader((sources_dir / "splat_ranges.glsl").read_text())
        self._raster: dict[tuple[str, bool], Any] = {}
        comp = (sources_dir / "splat_composite.glsl").read_text()
        self.composite = ctx.program(
            vertex_shader="#version 330 core\n#define VERTEX_SHADER\n" + comp,
            fragment_shader="#version 330 core\n#define FRAGMENT_SHADER\n" + comp,
        )
        self.composite_vao = ctx.vertex_array(self.composite, [])
        self.sorter = GpuRadixSort(ctx, capacity, digit_bits=SORT_DIGIT_BITS, indirect=True)
        self.key_bits = 30 if self.sorter.digit_bits == 5 else 32
        self.status = ctx.buffer(reserve=64)
        self.proj = ctx.buffer(reserve=32 * 1024)
        self.meta = ctx.buffer(reserve=16 * 1024)
        self.bsum = ctx.buffer(reserve=4 * 64)
        self.ranges = ctx.buffer(reserve=8)
        self.image = None
        self.pairs = 0  # total tile pairs of the last frame read back (lags one frame in steady state)
        self.syncs = 0  # frames that read their pair count back at once
        self.upload = 0  # bytes written from the CPU in the last prepare/draw
        self._pending_check = False  # a frame was emitted whose total has not been read yet
        self.profile: dict[str, float] | None = None  # set to {} to collect GPU ms per stage (stalls)
        self._query = None
        self._sync_key: tuple | None = None
        self._force_sync = False

    def nbytes(self) -> int:
        img = self.image.width * self.image.height * 8 if self.image is not None else 0
        sort = self.sorter.capacity * 16 + self.sorter._hist.size
        return sort + self.proj.size + self.meta.size + self.bsum.size + self.ranges.size + self.status.size + img

    def _raster_prog(self, fmt: str, blend: bool) -> Any:
        prog = self._raster.get((fmt, blend))
        if prog is None:
            head = f"#version 430\n#define OUT_FORMAT {fmt}\n" + ("#define BLEND\n" if blend else "")
            prog = self.ctx.compute_shader(head + (self._dir / "splat_raster.glsl").read_text())
            self._raster[(fmt, blend)] = prog
        return prog

    @staticmethod
    def _ensure(buf: Any, nbytes: int, ctx: Any) -> Any:
        if buf.size >= nbytes:
            return buf
        size = max(nbytes, 2 * buf.size)
        buf.release()
        return ctx.buffer(reserve=size)

    def _stage(self, name: str, fn: Any) -> None:
        """Run ``fn``; with profiling on, add its GPU time (ms, timer query) to ``profile[name]``."""
        if self.profile is None:
            fn()
            return
        if self._query is None:
            self._query = self.ctx.query(time=True)
        with self._query:
            fn()
        self.profile[name] = self.profile.get(name, 0.0) + self._query.elapsed / 1e6

    def _read_total(self) -> int:
        return int(np.frombuffer(self.status.read(4, offset=12), np.uint32)[0])

    def overflowed(self) -> bool:
        """Whether the last unchecked frame dropped pairs; grows the buffers for the next one.

        Reads that frame's total (finished on the GPU by the time the next frame starts, so this does
        not stall); after True the next :meth:`prepare` counts synchronously.
        """
        if not self._pending_check:
            return False
        self._pending_check = False
        self.pairs = self._read_total()
        over = self.pairs > self.sorter.capacity
        if self.pairs * HEADROOM > self.sorter.capacity:
            self.sorter.reserve(int(self.pairs * HEADROOM) + 1)
        self._force_sync = over
        return over

    def prepare(self, camera: Camera, n: int, bind_common: Any, sync: bool = False) -> None:
        """Project ``n`` slots and sort their tile pairs for ``camera``.

        sync: read the pair count back at once (after the splats changed) rather than a frame later.
        """
        ctx = self.ctx
        w, h = camera.width, camera.height
        tiles = ((w + TILE - 1) // TILE, (h + TILE - 1) // TILE)
        ntiles = tiles[0] * tiles[1]
        tile_bits = ntiles.bit_length()  # room for tile id ntiles and up: the sentinel keys
        depth_bits = self.key_bits - tile_bits
        if depth_bits < 10 or max(tiles) > 65535:
            raise ValueError(f"splat pass: {w}x{h} has too many tiles for the compute rasteriser")
        groups = (n + GROUP - 1) // GROUP
        if groups > MAX_GROUPS:
            raise ValueError(f"splat pass: the compute rasteriser takes at most {MAX_GROUPS * GROUP} slots, got {n}")
        self.depth_bits, self.tiles = depth_bits, tiles
        self.proj = self._ensure(self.proj, 32 * n, ctx)
        self.meta = self._ensure(self.meta, 16 * n, ctx)
        self.bsum = self._ensure(self.bsum, 4 * groups, ctx)
        self.ranges = self._ensure(self.ranges, 8 * ntiles, ctx)
        key = (n, w, h)
        self.overflowed()  # the last frame's total, if unread: grows ahead, may set _force_sync
        sync = sync or key != self._sync_key or self._force_sync
        self._force_sync = False
        self.upload = 0
        project, scan, emit = self.project, self.scan, self.emit
        bind_common(project, camera)
        project["u_n"] = n
        project["u_tiles"] = tiles
        scan["u_blocks"] = groups
        scan["u_ntiles"] = ntiles
        emit["u_n"] = n
        emit["u_tiles_x"] = tiles[0]
        emit["u_depth_bits"] = depth_bits
        emit["u_sentinel"] = (1 << self.key_bits) - 1

        def count_and_emit() -> None:
            scan["u_capacity"] = self.sorter.capacity
            emit["u_capacity"] = self.sorter.capacity
            self.status.write(_RESET)
            self.upload += len(_RESET)
            self.status.bind_to_storage_buffer(5)
            self.proj.bind_to_storage_buffer(6)
            self.meta.bind_to_storage_buffer(7)
            self.bsum.bind_to_storage_buffer(8)
            project.run(groups)
            ctx.memory_barrier()
            self.ranges.bind_to_storage_buffer(7)
            scan.run(1)
            ctx.memory_barrier()
            self.meta.bind_to_storage_buffer(7)
            self.proj.bind_to_storage_buffer(6)
            self.sorter.keys.bind_to_storage_buffer(0)
            self.sorter.values.bind_to_storage_buffer(1)
            emit.run(groups)
            ctx.memory_barrier()

        for _ in range(4):
            self._stage("project_emit", count_and_emit)
            if not sync:
                break
            self.syncs += 1
            self.pairs = self._read_total()
            if self.pairs <= self.sorter.capacity:
                break
            self.sorter.reserve(int(self.pairs * HEADROOM) + 1)
        self._pending_check = not sync
        self._sync_key = key
        # the status buffer holds n at 0 and the dispatch sizes at 16 (sort) and 32 (ranges)
        cap = self.sorter.capacity
        self._stage("sort", lambda: self.sorter.sort_indirect(self.status, cap, self.status, 16, self.key_bits))

        def ranges() -> None:
            self.sorter.keys.bind_to_storage_buffer(0)
            self.status.bind_to_storage_buffer(5)
            self.ranges.bind_to_storage_buffer(7)
            self.ranges_prog["u_depth_bits"] = depth_bits
            self.ranges_prog["u_ntiles"] = ntiles
            self.ranges_prog.run_indirect(self.status, 32)
            ctx.memory_barrier()

        self._stage("ranges", ranges)

    def draw(self, camera: Camera, framebuffer: Any) -> None:
        """Rasterise the sorted pairs and blend the result over ``framebuffer``."""
        ctx = self.ctx
        w, h = camera.width, camera.height
        colors = getattr(framebuffer, "color_attachments", ())
        color = colors[0] if colors else None
        direct = (
            isinstance(color, moderngl.Texture) and color.components == 4 and color.dtype in ("f2", "f4")
            and not color.samples
        )
        if direct:
            target, fmt = color, ("rgba16f" if color.dtype == "f2" else "rgba32f")
        else:
            if self.image is None or self.image.size != (w, h):
                if self.image is not None:
                    self.image.release()
                self.image = ctx.texture((w, h), 4, dtype="f2")
                self.image.filter = (moderngl.NEAREST, moderngl.NEAREST)
            target, fmt = self.image, "rgba16f"
        prog = self._raster_prog(fmt, direct)
        depth = framebuffer.depth_attachment
        has_depth = isinstance(depth, moderngl.Texture)
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
        target.bind_to_image(0, read=direct, write=True)
        self.sorter.values.bind_to_storage_buffer(1)
        self.proj.bind_to_storage_buffer(6)
        self.ranges.bind_to_storage_buffer(7)

        def raster() -> None:
            prog.run(self.tiles[0], self.tiles[1])
            ctx.memory_barrier()

        self._stage("raster", raster)
        if has_depth:
            depth.compare_func = compare
        if direct:
            return
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
        for o in (self.project, self.scan, self.emit, self.ranges_prog, self.composite_vao, self.composite,
                  self.status, self.proj, self.meta, self.bsum, self.ranges, *self._raster.values()):
            o.release()
        self._query = None  # moderngl 5.13 queries have no release(); dropped with the object
        self.sorter.release()
        if self.image is not None:
            self.image.release()
