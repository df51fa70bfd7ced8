"""`TileRasterizer`: the splat pass's compute-shader path (GL 4.3), tile-based like gsplat.

Why: data-centre GPUs (H100, H200) run vertex and fragment work on very few units, so drawing
millions of instanced quads through the raster pipeline is slow there; compute shaders run on every
SM. The whole frame stays on the GPU; in steady state only a 4-byte pair total comes back, two frames late:

1. ``splat_project.glsl`` — one thread per slot: project (same ``project_splat`` as the quads,
   shaders/splat_common.glsl), a 32-byte record, the 16×16-tile rectangle and the count of its
   tiles the ellipse really reaches (``tile_hit``: exact minimum of q over the tile, 19% fewer
   pairs than the bounding box on the benchmark scene), the visible depth range;
2. ``splat_depth.glsl`` — one key per slot: depth quantised over the visible range (``DEPTH_BITS``),
   slots without tiles last;
3. ``GpuRadixSort.sort`` of the N slot keys (``splat_sorter``; 3 passes of 8-bit digits): the depth
   order, front to back;
4. ``splat_emit_count.glsl`` — pair counts per workgroup of 256 entries of the depth order;
5. ``splat_scan.glsl`` — one workgroup: exclusive scan of those counts, total pairs and the
   indirect dispatch sizes into a small status buffer, tile ranges zeroed;
6. ``splat_emit.glsl`` — one thread per entry of the depth order: its (tile, slot) pairs at its
   prefix offset, so pairs come out front to back;
7. ``GpuRadixSort.sort_indirect`` of the pairs by tile id only (13 bits at 1080p: 2 passes of 8-bit
   digits), stable, so each tile's pairs stay front to back; the count and workgroup counts are read
   on the GPU (glDispatchComputeIndirect);
8. ``splat_ranges.glsl`` — each tile's [start, end) in the sorted list (indirect dispatch);
9. ``splat_raster.glsl`` — one workgroup per tile blends front to back with shared-memory batches of
   256 splats, leaving once every pixel has T ≤ 1e-4, and blends straight into the framebuffer's
   RGBA16F/RGBA32F colour texture (image load/store; ONE, ONE_MINUS_SRC_ALPHA arithmetic), or with
   a ``background`` overwrites every pixel of it (no clear needed); other targets get a private
   image and ``splat_composite.glsl`` (one triangle) blends it.

Why two sorts: sorting the pairs by a (tile, depth) key took 6 radix passes (5-bit digits) over all
pairs (18.4M at 3M splats); sorting the N splats by depth once and the pairs by tile only takes 3
passes over N and 2 over the pairs (8-bit digits; 5-bit: 5 and 3; 4-bit: 6 and 4).

Buffer sizes. The pair count is only known on the GPU. Pairs past the sort's capacity are dropped
and counted: after a change of splat content, slot count or image size (``sync``) the host reads the
total at once and redoes the frame with larger buffers if needed; otherwise it reads the total of
the frame *before the previous one* (finished by then: each frame has its own status buffer, a ring
of ``STATUS_RING``, so the read never waits for the GPU and frames launched back to back overlap
the CPU's work with the GPU's) and grows ahead (1.5× headroom), so a sudden camera move that more
than outgrows the headroom can drop pairs for two frames. With the camera still, the host reads the
last frame's total at once and redoes it if it dropped pairs.

Depth is quantised to ``DEPTH_BITS`` bits linearly over the frame's visible depth range; splats
closer in depth than that step composite in slot order (later slot in front, as back-to-front
blending in slot order gives).

Measured on an H200 at 1920×1080 (``python3 -m tools.bench.gsplat_compare --splats 1000000 3000000
--raster compute --frames 30``, benchmark scene, 8-bit digits, 23-bit depth, 2026-11-22), frames back
to back against gsplat 1.5.3 classic's forward pass: 2.47 ms at 1M splats (6.1M pairs; gsplat 1.83,
ratio 1.35) and 3.53 ms at 3M (18.4M pairs; gsplat 3.31, ratio 1.07, 283 FPS), PSNR to gsplat's
image 72 / 71 dB. The GL timer query of our frame reads only 1.22 / 2.50 ms; at 3M its stages are
project 0.34, depth sort 0.19, emit 0.50, pair sort 0.76, ranges 0.10, raster 0.42 ms. Before the
two-sort order (one sort of (tile, depth) keys, 6 passes of 5-bit digits, one-workgroup scans): 3.77
and 8.80 ms, the sort alone 6.5 ms at 3M. Open: back to back, frames took 1.0–1.25 ms more than
their timer query at both sizes, so that gap is per frame, not per splat. The likeliest cause is the
benchmark's glClear of the 1920×1080 colour and depth targets before each frame, which runs on the
H200's few graphics units; ``draw(..., background=)`` (FILL) makes the raster pass write every
pixel instead. Not yet measured on a GPU: ``gsplat_compare --clear gl fused`` reports both, with
the clear's own GPU ms.

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
STATUS_RING = 3  # status buffers in turn: a frame's total is read two frames later without a stall
SORT_DIGIT_BITS = 8  # widest first: 8 (subgroup ballots), else 5, else 4; benchmarks compare them
DEPTH_BITS = {4: 23, 5: 24, 8: 23}  # depth key bits by digit width: whole passes with room for the sentinel
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
        self.depth_prog = ctx.compute_shader("#version 430\n" + (sources_dir / "splat_depth.glsl").read_text())
        self.emit_count = ctx.compute_shader("#version 430\n" + (sources_dir / "splat_emit_count.glsl").read_text())
        self.ranges_prog = ctx.compute_shader((sources_dir / "splat_ranges.glsl").read_text())
        self._raster: dict[tuple[str, bool], Any] = {}
        comp = (sources_dir / "splat_composite.glsl").read_text()
        self.composite = ctx.program(
            vertex_shader="#version 330 core\n#define VERTEX_SHADER\n" + comp,
            fragment_shader="#version 330 core\n#define FRAGMENT_SHADER\n" + comp,
        )
        self.composite_vao = ctx.vertex_array(self.composite, [])
        self.sorter = GpuRadixSort(ctx, capacity, digit_bits=SORT_DIGIT_BITS, indirect=True)
        self.splat_sorter = GpuRadixSort(ctx, 1024, digit_bits=SORT_DIGIT_BITS)
        self.depth_bits = DEPTH_BITS[self.splat_sorter.digit_bits]
        self._ring = [ctx.buffer(reserve=64) for _ in range(STATUS_RING)]
        self._frame = 0
        self.status = self._ring[0]
        self.proj = ctx.buffer(reserve=32 * 1024)
        self.meta = ctx.buffer(reserve=16 * 1024)
        self.bsum = ctx.buffer(reserve=4 * 64)
        self.ranges = ctx.buffer(reserve=8)
        self.image = None
        self.pairs = 0  # total tile pairs of the last frame read back (lags one frame in steady state)
        self.syncs = 0  # frames that read their pair count back at once
        self.upload = 0  # bytes written from the CPU in the last prepare/draw
        self._unchecked: list[Any] = []  # status buffers of frames whose total is unread, oldest first
        self.profile: dict[str, float] | None = None  # set to {} to collect GPU ms per stage (stalls)
        self._query = None
        self._sync_key: tuple | None = None
        self._force_sync = False

    def nbytes(self) -> int:
        img = self.image.width * self.image.height * 8 if self.image is not None else 0
        sort = sum(srt.capacity * 16 + srt._hist.size for srt in (self.sorter, self.splat_sorter))
        status = sum(b.size for b in self._ring)
        return sort + self.proj.size + self.meta.size + self.bsum.size + self.ranges.size + status + img

    def _raster_prog(self, fmt: str, mode: str) -> Any:
        """The raster program for image format ``fmt`` and ``mode`` "blend", "fill" or "private"."""
        prog = self._raster.get((fmt, mode))
        if prog is None:
            head = f"#version 430\n#define OUT_FORMAT {fmt}\n" + {"blend": "#define BLEND\n", "fill": "#define FILL\n"}.get(mode, "")
            prog = self.ctx.compute_shader(head + (self._dir / "splat_raster.glsl").read_text())
            self._raster[(fmt, mode)] = prog
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

    def _read_total(self, status: Any = None) -> int:
        status = self.status if status is None else status
        return int(np.frombuffer(status.read(4, offset=12), np.uint32)[0])

    def overflowed(self, lag: int = 0) -> bool:
        """Whether an unchecked frame dropped pairs; grows the buffers for the next one.

        Reads the totals of the frames not yet checked but the newest ``lag`` (0: all, which waits for
        the last frame; :meth:`prepare` passes 1, whose reads find their frames finished). After True
        the next :meth:`prepare` counts synchronously.
        """
        over = False
        while len(self._unchecked) > lag:
            self.pairs = self._read_total(self._unchecked.pop(0))
            over = over or self.pairs > self.sorter.capacity
            if self.pairs * HEADROOM > self.sorter.capacity:
                self.sorter.reserve(int(self.pairs * HEADROOM) + 1)
        self._force_sync = self._force_sync or over
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
        if tile_bits > 32 or max(tiles) > 65535:
            raise ValueError(f"splat pass: {w}x{h} has too many tiles for the compute rasteriser")
        groups = (n + GROUP - 1) // GROUP
        if groups > MAX_GROUPS:
            raise ValueError(f"splat pass: the compute rasteriser takes at most {MAX_GROUPS * GROUP} slots, got {n}")
        self.tiles = tiles
        self.proj = self._ensure(self.proj, 32 * n, ctx)
        self.meta = self._ensure(self.meta, 16 * n, ctx)
        self.bsum = self._ensure(self.bsum, 4 * groups, ctx)
        self.ranges = self._ensure(self.ranges, 8 * ntiles, ctx)
        self.splat_sorter.reserve(n)
        key = (n, w, h)
        self.overflowed(lag=1)  # totals of frames before the last, if unread: grows ahead, may set _force_sync
        self.status = self._ring[self._frame % STATUS_RING]
        self._frame += 1
        sync = sync or key != self._sync_key or self._force_sync
        self._force_sync = False
        self.upload = 0
        project, depth, scan, emit = self.project, self.depth_prog, self.scan, self.emit
        bind_common(project, camera)
        project["u_n"] = n
        project["u_tiles"] = tiles
        depth["u_n"] = n
        depth["u_depth_bits"] = self.depth_bits
        depth["u_sentinel"] = (1 << (self.depth_bits + 1)) - 1
        self.emit_count["u_n"] = n
        scan["u_blocks"] = groups
        scan["u_ntiles"] = ntiles
        scan["u_sort_block"] = self.sorter.block
        emit["u_n"] = n
        emit["u_tiles_x"] = tiles[0]
        emit["u_sentinel"] = ntiles

        def project_and_depth_keys() -> None:
            self.status.write(_RESET)
            self.upload += len(_RESET)
            self.status.bind_to_storage_buffer(5)
            self.proj.bind_to_storage_buffer(6)
            self.meta.bind_to_storage_buffer(7)
            project.run(groups)
            ctx.memory_barrier()
            self.splat_sorter.keys.bind_to_storage_buffer(0)
            self.splat_sorter.values.bind_to_storage_buffer(1)
            depth.run(groups)
            ctx.memory_barrier()

        def depth_sort() -> None:
            self.splat_sorter.sort(n, self.depth_bits + 1, swap=True)

        def count_and_emit() -> None:
            scan["u_capacity"] = self.sorter.capacity
            emit["u_capacity"] = self.sorter.capacity
            self.splat_sorter.values.bind_to_storage_buffer(3)
            self.meta.bind_to_storage_buffer(7)
            self.bsum.bind_to_storage_buffer(8)
            self.emit_count.run(groups)
            ctx.memory_barrier()
            self.status.bind_to_storage_buffer(5)
            self.ranges.bind_to_storage_buffer(7)
            scan.run(1)
            ctx.memory_barrier()
            self.meta.bind_to_storage_buffer(7)
            self.proj.bind_to_storage_buffer(6)
            self.sorter.keys.bind_to_storage_buffer(0)
            self.sorter.values.bind_to_storage_buffer(1)
            emit.run(groups)
            ctx.memory_barrier()

        self._stage("project", project_and_depth_keys)
        self._stage("depth_sort", depth_sort)
        for _ in range(4):
            self._stage("emit", count_and_emit)
            if not sync:
                break
            self.syncs += 1
            self.pairs = self._read_total()
            if self.pairs <= self.sorter.capacity:
                break
            self.sorter.reserve(int(self.pairs * HEADROOM) + 1)
        if not sync:
            self._unchecked.append(self.status)
        self._sync_key = key
        # the status buffer holds n at 0 and the dispatch sizes at 16 (sort) and 32 (ranges)
        cap = self.sorter.capacity
        self._stage("sort", lambda: self.sorter.sort_indirect(self.status, cap, self.status, 16, tile_bits, swap=True))

        def ranges() -> None:
            self.sorter.keys.bind_to_storage_buffer(0)
            self.status.bind_to_storage_buffer(5)
            self.ranges.bind_to_storage_buffer(7)
            self.ranges_prog["u_depth_bits"] = 0
            self.ranges_prog["u_ntiles"] = ntiles
            self.ranges_prog.run_indirect(self.status, 32)
            ctx.memory_barrier()

        self._stage("ranges", ranges)

    def draw(self, camera: Camera, framebuffer: Any, background: tuple[float, float, float] | None = None) -> None:
        """Rasterise the sorted pairs and blend the result over ``framebuffer``.

        background: replace the colour target with the splats over this RGB (alpha 1 − T) instead
        of blending over its content; an RGBA16F/32F texture target is then written at every pixel
        by the raster pass itself (no clear), any other is cleared first (colour only).
        """
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
        if background is not None and not direct:
            mask = framebuffer.depth_mask
            framebuffer.depth_mask = False
            framebuffer.clear(*(float(c) for c in background), 0.0)
            framebuffer.depth_mask = mask
        fill = background is not None and direct
        prog = self._raster_prog(fmt, "fill" if fill else ("blend" if direct else "private"))
        if fill:
            prog["u_background"] = tuple(float(c) for c in background)
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
        target.bind_to_image(0, read=direct and not fill, write=True)
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
        for o in (self.project, self.depth_prog, self.emit_count, self.scan, self.emit, self.ranges_prog, self.composite_vao, self.composite,
                  *self._ring, self.proj, self.meta, self.bsum, self.ranges, *self._raster.values()):
            o.release()
        self._query = None  # moderngl 5.13 queries have no release(); dropped with the object
        self.sorter.release()
        self.splat_sorter.release()
        if self.image is not None:
            self.image.release()
