"""`SplatPass`: draws every anchor's Gaussians with ModernGL, sorted back to front each frame.

Draw strategy. Splats live on the GPU in anchor-local space, packed 32 bytes each (layout in
``engine/render/splat_packing.py`` and ``shaders/splat.glsl``) in one RGBA32UI texture; each anchor
owns one contiguous range of splat slots (and of SH texels when its SH degree is > 0), uploaded once
by :meth:`SplatPass.set`. Anchor transforms (3×4 local→world, uniform scale included) sit in a small
texture indexed by an anchor slot stored in every splat, so :meth:`SplatPass.xform` uploads 64 bytes
and the vertex shader applies mean = M·p, Σ = AΣAᵀ and rotates the view direction into anchor space
for the SH colour. Each frame one instanced draw of a 4-vertex triangle strip per splat renders in
back-to-front order, read from a per-instance attribute holding the sorted slot index. With GL 4.3 a
compute pre-pass (``shaders/splat_prepass.glsl``) projects each splat once and the vertex shader only
places the corner; on GL 3.3 the vertex shader projects per corner (same ``project_splat``).
``raster="compute"`` swaps the quads for a tile-based compute rasteriser (``splat_tiles.py``), which
``raster="auto"`` picks on data-centre GPUs (H100, H200, A100…; :func:`prefers_compute_raster`).

Sort. With GL 4.3 a compute shader writes a 32-bit depth key per slot and a GPU radix sort orders
them (``engine/render/splat_sort.py``); the visible count goes straight into an indirect draw
command, nothing is read back. With GL 3.3 the CPU computes view depths from a shadow copy of the
means, sorts 16-bit keys with a numpy radix sort and uploads the order (4 bytes per visible splat).
The sort is skipped when neither the camera nor any anchor changed since the last one.

Slot management: ``RangeAllocator`` (first fit, coalescing free list, capacity doubling with a
GPU-side copy; holes are marked free and culled until reused). ``set``, ``remove`` and ``xform`` of one
anchor never touch another anchor's data; :meth:`stats` counts the bytes uploaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.render.camera import Camera
from engine.render.splat_alloc import RangeAllocator
from engine.render.splat_packing import (
    FREE_ANCHOR,
    MAX_ANCHORS,
    SH_TEXELS,
    SPLAT_BYTES,
    SPLAT_TEXELS,
    pack_sh,
    pack_splats,
)
from engine.render.splat_sort import GpuRadixSort, depth_keys16, radix_argsort16
from engine.render.splat_textures import TEX_WIDTH, DataTexture
from engine.splats.gaussians import GaussianSet

SHADER_DIR = Path(__file__).resolve().parents[2] / "shaders"
ANCHOR_TEXELS = 4
_IDENTITY = np.eye(4, dtype=np.float32)


@dataclass
class _Anchor:
    slot: int  # anchor slot (index into the anchor texture)
    start: int  # first splat slot
    count: int
    sh_start: int  # first SH texel
    sh_texels: int  # total SH texels of this anchor
    degree: int
    matrix: np.ndarray  # (4, 4) float32 local → world


def _shader_source(name: str, stage: str, version: str = "330 core") -> str:
    """GLSL source: version line, packing extension if present, the stage define, splat_common.glsl, then ``name``."""
    common = (SHADER_DIR / "splat_common.glsl").read_text()
    body = (SHADER_DIR / name).read_text()
    return (
        f"#version {version}\n#extension GL_ARB_shading_language_packing : enable\n"
        f"#define {stage}\n" + common + "\n" + body
    )


# Data-centre GPUs whose graphics pipeline runs on a few units only (compute on every SM): on an
# H200 the quads took 105 ms at 1M splats, 64× gsplat. Desktop GPUs and llvmpipe (2.1 vs 0.9 FPS at
# 100k, 640×360, on 2 cores) draw quads faster. A name rule rather than a timed self-calibration:
# it costs nothing at start-up and gives the same choice on every run of a machine.
_COMPUTE_GPUS = re.compile(r"\b(GH200|GB200|H100|H200|H800|H20|A100|A800|A30|B100|B200)\b", re.IGNORECASE)


def prefers_compute_raster(renderer: str) -> bool:
    """Whether ``raster="auto"`` picks the compute rasteriser for this GL_RENDERER string."""
    return bool(_COMPUTE_GPUS.search(renderer))


def check_matrix(matrix: Any, source: str = "xform") -> np.ndarray:
    """Validate a local→world affine matrix: (4, 4) finite, last row (0, 0, 0, 1), invertible."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (4, 4):
        raise ValueError(f"{source}: expected a (4, 4) matrix, got shape {m.shape}")
    if not np.isfinite(m).all():
        raise ValueError(f"{source}: matrix has non-finite values")
    if not np.allclose(m[3], (0, 0, 0, 1)):
        raise ValueError(f"{source}: last row must be (0, 0, 0, 1), got {m[3].tolist()}")
    if abs(np.linalg.det(m[:3, :3])) < 1e-30:
        raise ValueError(f"{source}: matrix is singular")
    return m.astype(np.float32)


class SplatPass:
    """Draws anchored Gaussians into a framebuffer that may already hold the proxy pass's depth.

    ctx: a ModernGL context (GL 3.3 or later; GL 4.3 enables the GPU sort and the compute rasteriser).
    sort: "auto" (GPU with compute shaders on hardware, numpy on llvmpipe), "gpu" or "cpu" — for the
    quad rasteriser.
    raster: "auto" (compute where :func:`prefers_compute_raster` says so, else quads), "compute"
    (engine/render/splat_tiles.py: tile-based compute shaders, sorted on the GPU) or "quads"
    (instanced quads through the raster pipeline, blended back to front, sorted by ``sort``).
    gl33: use only GL 3.3 features even on a newer context (CPU sort, no compute pre-pass).
    """

    def __init__(
        self, ctx: Any, sort: str = "auto", capacity: int = 1 << 16, raster: str = "auto", gl33: bool = False
    ) -> None:
        if sort not in ("auto", "gpu", "cpu"):
            raise ValueError(f"sort must be auto, gpu or cpu, got {sort!r}")
        if raster not in ("auto", "compute", "quads"):
            raise ValueError(f"raster must be auto, compute or quads, got {raster!r}")
        self.ctx = ctx
        compute = ctx.version_code >= 430 and not gl33  # gl33: use only what GL 3.3 has (tests, old drivers)
        if sort == "gpu" and not compute:
            raise ValueError("GPU sort needs GL 4.3 compute shaders")
        if raster == "compute" and not compute:
            raise ValueError("the compute rasteriser needs GL 4.3 compute shaders")
        renderer = str(ctx.info.get("GL_RENDERER", ""))
        if raster == "auto":
            raster = "compute" if compute and prefers_compute_raster(renderer) else "quads"
        self.raster = raster
        # auto: GPU sort on hardware GL 4.3; on software rasterisers (llvmpipe) numpy sorts faster
        software = any(name in renderer.lower() for name in ("llvmpipe", "softpipe"))
        self.gpu_sort = compute and (sort == "gpu" or (sort == "auto" and not software))
        # GL 4.3 quads: a compute pre-pass projects each splat once, the vertex shader only reads it
        # (GL 4.3 allows zero storage blocks in vertex shaders; such drivers keep the per-corner path)
        vs_blocks = int(ctx.info.get("GL_MAX_VERTEX_SHADER_STORAGE_BLOCKS", 0) or 0)
        self._prepass = compute and self.raster == "quads" and vs_blocks > 0
        version = "430" if self._prepass else "330 core"
        self.program = ctx.program(
            vertex_shader=_shader_source("splat.glsl", "VERTEX_SHADER\n#define PREPASS" if self._prepass else "VERTEX_SHADER", version),
            fragment_shader=_shader_source("splat.glsl", "FRAGMENT_SHADER", version),
        )
        if self._prepass:
            self._prepass_prog = ctx.compute_shader(_shader_source("splat_prepass.glsl", "COMPUTE_SHADER", "430"))
            self._quads = ctx.buffer(reserve=64 * max(capacity, 1))
        self._splat_alloc = RangeAllocator(capacity)
        self._sh_alloc = RangeAllocator(1024)
        self._anchor_alloc = RangeAllocator(1024)
        self._splats = DataTexture(ctx, (capacity * SPLAT_TEXELS + TEX_WIDTH - 1) // TEX_WIDTH)
        self._sh = DataTexture(ctx, 1)
        self._anchor_tex = DataTexture(ctx, 1)  # grows with the anchor slots in use
        self._anchor_table = np.zeros((MAX_ANCHORS, ANCHOR_TEXELS, 4), np.uint32)
        self._anchors: dict[str, _Anchor] = {}
        self._dirty_anchor_slots: set[int] = set()
        # CPU shadow of means and anchor slots per splat slot (the GL 3.3 sort reads it)
        self._means = np.zeros((0, 3), np.float32)
        self._slot_anchor = np.zeros(0, np.uint16)
        self._pending_upload = 0
        self._last_upload = 0
        self.total_upload = 0  # bytes uploaded since creation
        self._epoch = 0  # bumped by every change to what is drawn
        self._content_epoch = 0  # bumped by set/remove (not xform): the compute path re-counts its pairs
        self._counted_epoch = -1
        self._sorted_for: tuple | None = None
        self._visible = 0
        self.last_sorted = False  # sorted since the last draw finished
        self._sorted_this_frame = False
        if self.gpu_sort and self.raster == "quads":
            self._sorter = GpuRadixSort(ctx, capacity)
            self._keys_prog = ctx.compute_shader((SHADER_DIR / "splat_keys.glsl").read_text())
            self._indirect = ctx.buffer(reserve=16)
            self._order = self._sorter.values
        else:
            self._sorter = None
            self._order = ctx.buffer(reserve=max(4, capacity * 4))
        self._vao = self._make_vao()
        self._tiles = None
        if self.raster == "compute":
            from engine.render.splat_tiles import TileRasterizer

            self._tiles = TileRasterizer(ctx, _shader_source, SHADER_DIR, capacity=max(capacity, 1024))

    # ------------------------------------------------------------------ updates

    def _make_vao(self) -> Any:
        return self.ctx.vertex_array(self.program, [(self._order, "1u /i", "a_index")])

    def _upload(self, nbytes: int) -> None:
        self._pending_upload += nbytes
        self.total_upload += nbytes

    def _grow_shadow(self) -> None:
        cap = self._splat_alloc.capacity
        if len(self._means) < cap:
            means = np.zeros((cap, 3), np.float32)
            means[: len(self._means)] = self._means
            slots = np.full(cap, FREE_ANCHOR, np.uint16)
            slots[: len(self._slot_anchor)] = self._slot_anchor
            self._means, self._slot_anchor = means, slots

    def set(self, anchor_id: str, gaussians: GaussianSet) -> None:
        """Upload ``gaussians`` (anchor-local) as anchor ``anchor_id``'s splats, replacing earlier ones.

        Only this anchor's bytes are uploaded; its transform is kept (identity for a new anchor).
        """
        if not isinstance(gaussians, GaussianSet):
            raise TypeError(f"set({anchor_id!r}): expected a GaussianSet, got {type(gaussians).__name__}")
        old = self._anchors.get(anchor_id)
        matrix = old.matrix if old is not None else _IDENTITY.copy()
        n, degree = len(gaussians), gaussians.sh_degree
        stride = SH_TEXELS[degree]
        if old is not None and (old.count != n or old.degree != degree):
            self.remove(anchor_id)
            old = None
        if old is not None:
            a = old
        else:
            if len(self._anchors) >= MAX_ANCHORS:
                raise ValueError(f"splat pass: more than {MAX_ANCHORS} anchors")
            slot = self._anchor_alloc.alloc(1)
            self._anchor_tex.ensure((slot + 1) * ANCHOR_TEXELS)
            start = self._splat_alloc.alloc(n) if n else 0
            sh_start = self._sh_alloc.alloc(n * stride) if n and stride else 0
            a = _Anchor(slot, start, n, sh_start, n * stride, degree, matrix)
            self._anchors[anchor_id] = a
        if n:
            self._splats.ensure((self._splat_alloc.capacity) * SPLAT_TEXELS)
            self._grow_shadow()
            rows = pack_splats(gaussians, a.slot)
            self._upload(self._splats.write(a.start * SPLAT_TEXELS, rows.reshape(-1, 4)))
            self._means[a.start : a.start + n] = gaussians.means
            self._slot_anchor[a.start : a.start + n] = a.slot
            if stride:
                self._sh.ensure(self._sh_alloc.capacity)
                self._upload(self._sh.write(a.sh_start, pack_sh(gaussians).reshape(-1, 4)))
        self._write_anchor(a)
        self._epoch += 1
        self._content_epoch += 1

    def remove(self, anchor_id: str) -> None:
        """Stop drawing anchor ``anchor_id`` and free its slots (unknown ids are ignored)."""
        a = self._anchors.pop(anchor_id, None)
        if a is None:
            return
        if a.count:
            self._splat_alloc.free(a.start, a.count)
            self._slot_anchor[a.start : a.start + a.count] = FREE_ANCHOR
            if a.start < self._splat_alloc.high_water:
                # a hole below the high-water mark: mark its splats free so they are culled
                dead = np.zeros((a.count * SPLAT_TEXELS, 4), np.uint32)
                dead[0::SPLAT_TEXELS, 3] = FREE_ANCHOR
                self._upload(self._splats.write(a.start * SPLAT_TEXELS, dead))
        if a.sh_texels:
            self._sh_alloc.free(a.sh_start, a.sh_texels)
        self._anchor_alloc.free(a.slot, 1)
        self._dirty_anchor_slots.discard(a.slot)
        self._epoch += 1
        self._content_epoch += 1

    def xform(self, anchor_id: str, matrix: np.ndarray) -> None:
        """Set anchor ``anchor_id``'s local→world transform, matrix (4, 4) (rotation, uniform scale, translation)."""
        a = self._anchors.get(anchor_id)
        if a is None:
            raise KeyError(f"xform: unknown anchor {anchor_id!r}")
        m = check_matrix(matrix, f"xform({anchor_id!r})")
        if np.array_equal(m, a.matrix):
            return
        a.matrix = m
        self._write_anchor(a)
        self._epoch += 1

    def clear(self) -> None:
        """Remove every anchor."""
        for anchor_id in list(self._anchors):
            self.remove(anchor_id)

    def _write_anchor(self, a: _Anchor) -> None:
        row = self._anchor_table[a.slot]
        row[0:3] = a.matrix[:3].view(np.uint32)
        row[3] = (a.start, a.sh_start, a.degree, 0)
        self._dirty_anchor_slots.add(a.slot)

    def _flush_anchors(self) -> None:
        dirty = self._dirty_anchor_slots
        if not dirty:
            return
        lo, hi = min(dirty), max(dirty)
        if len(dirty) <= 32:
            for slot in sorted(dirty):
                self._upload(self._anchor_tex.write(slot * ANCHOR_TEXELS, self._anchor_table[slot]))
        else:  # many moved: one upload of the span is cheaper than many calls
            self._upload(self._anchor_tex.write(lo * ANCHOR_TEXELS, self._anchor_table[lo : hi + 1]))
        dirty.clear()

    # ------------------------------------------------------------------ drawing

    def _set_uniforms(self, camera: Camera, p: Any = None) -> None:
        p = self.program if p is None else p
        fx = camera.focal
        proj = camera.gl_projection.astype(np.float64)
        self._uniform(p, "u_view", camera.view.T.astype(np.float32).tobytes())
        self._uniform(p, "u_intr", (fx, fx, camera.width / 2.0, camera.height / 2.0))
        self._uniform(p, "u_size", (float(camera.width), float(camera.height)))
        self._uniform(p, "u_cam_pos", tuple(float(v) for v in camera.eye))
        self._uniform(p, "u_near_far", (float(camera.near), float(camera.far)))
        self._uniform(p, "u_depth_ab", (float(-proj[2, 2]), float(proj[2, 3])))

    @staticmethod
    def _uniform(prog: Any, name: str, value: Any) -> None:
        if name in prog:
            if isinstance(value, bytes):
                prog[name].write(value)
            else:
                prog[name].value = value

    def _bind_textures(self, prog: Any) -> None:
        for unit, (name, tex) in enumerate(
            (("u_splats", self._splats.tex), ("u_anchors", self._anchor_tex.tex), ("u_sh", self._sh.tex))
        ):
            tex.use(unit)
            if name in prog:
                prog[name].value = unit

    def _bind_common(self, prog: Any, camera: Camera) -> None:
        self._bind_textures(prog)
        self._set_uniforms(camera, prog)

    def _sort_gpu(self, camera: Camera, n: int) -> None:
        sorter = self._sorter
        if n > sorter.capacity:
            sorter.reserve(n)
            self._order = sorter.values
            self._vao.release()
            self._vao = self._make_vao()
        self._indirect.write(np.array([4, 0, 0, 0], np.uint32).tobytes())
        self._upload(16)
        sorter.keys.bind_to_storage_buffer(0)
        sorter.values.bind_to_storage_buffer(1)
        self._indirect.bind_to_storage_buffer(5)
        if self._prepass:
            self._run_prepass(camera, n, write_keys=True)
        else:
            prog = self._keys_prog
            self._bind_textures(prog)
            prog["u_n"] = n
            self._uniform(prog, "u_view_z", tuple(float(v) for v in camera.view[2]))
            self._uniform(prog, "u_near_far", (float(camera.near), float(camera.far)))
            prog.run((n + 255) // 256)
        self.ctx.memory_barrier()
        sorter.sort(n)

    def _run_prepass(self, camera: Camera, n: int, write_keys: bool) -> None:
        if self._quads.size < 64 * n:
            size = max(64 * n, 2 * self._quads.size)
            self._quads.release()
            self._quads = self.ctx.buffer(reserve=size)
        prog = self._prepass_prog
        self._bind_common(prog, camera)
        prog["u_n"] = n
        prog["u_write_keys"] = int(write_keys)
        if not write_keys:  # nothing is written there, but every block needs a buffer bound
            for binding in (0, 1, 5):
                self._quads.bind_to_storage_buffer(binding)
        self._quads.bind_to_storage_buffer(6)
        prog.run((n + 255) // 256)
        self.ctx.memory_barrier()

    def _sort_cpu(self, camera: Camera, n: int) -> None:
        if self._prepass:
            self._run_prepass(camera, n, write_keys=False)
        slots = self._slot_anchor[:n]
        live = slots != FREE_ANCHOR
        view = camera.view.astype(np.float64)
        # z row of view · M for every anchor slot: z = zrow[:3]·p + zrow[3]
        used = max(self._anchor_alloc.high_water, 1)
        mats = self._anchor_table[:used, :3].view(np.float32).astype(np.float64)  # (A, 3, 4) rows of M
        zrows = np.einsum("j,ajk->ak", view[2, :3], mats)
        zrows[:, 3] += view[2, 3]
        zr = zrows[np.where(live, slots, 0)]
        z = np.einsum("ij,ij->i", zr[:, :3], self._means[:n].astype(np.float64)) + zr[:, 3]
        visible = live & (z >= camera.near) & (z <= camera.far)
        keys = depth_keys16(z.astype(np.float32), visible)
        order = radix_argsort16(keys)[: int(visible.sum())]
        self._visible = len(order)
        if len(order) * 4 > self._order.size:
            size = max(len(order) * 4, 2 * self._order.size)
            self._order.release()
            self._order = self.ctx.buffer(reserve=size)
            self._vao.release()
            self._vao = self._make_vao()
        if len(order):
            self._order.write(order.astype(np.uint32).tobytes())
            self._upload(len(order) * 4)

    def prepare(self, camera: Camera) -> bool:
        """Upload changed transforms and sort for ``camera`` unless nothing moved; returns whether it sorted.

        :meth:`draw` calls this itself; call it first only to time the sort apart from the draw.
        """
        self._flush_anchors()
        n = self._splat_alloc.high_water
        state = (camera.view.tobytes(), camera.width, camera.height, camera.fov_y, camera.near, camera.far, self._epoch)
        if n and state == self._sorted_for and self._tiles is not None and self._tiles.overflowed():
            self._sorted_for = None  # the last compute frame dropped tile pairs: count and sort again
        if n and state != self._sorted_for:
            if self._tiles is not None:
                self._tiles.prepare(camera, n, self._bind_common, sync=self._content_epoch != self._counted_epoch)
                self._counted_epoch = self._content_epoch
                self._upload(self._tiles.upload)
            elif self.gpu_sort:
                self._sort_gpu(camera, n)
            else:
                self._sort_cpu(camera, n)
            self._sorted_for = state
            self.last_sorted = True
        return self.last_sorted

    def draw(
        self, camera: Camera, framebuffer: Any, background: tuple[float, float, float] | None = None
    ) -> None:
        """Blend every splat into ``framebuffer`` (sized camera.width × camera.height), back to front.

        The framebuffer's depth (the proxy pass's) is tested but not written. Colours are premultiplied:
        with the target cleared to (background, 0) the result is RGB over the background and alpha = 1 − T.
        background: instead of blending over the colour target, replace it with the splats over this
        RGB (alpha 1 − T), as if it had been cleared to (background, 0) first; the compute rasteriser
        then writes every pixel of an RGBA16F/32F texture target in its raster pass, with no clear.
        """
        ctx = self.ctx
        if tuple(framebuffer.size) != (camera.width, camera.height):
            raise ValueError(
                f"draw: framebuffer is {framebuffer.size[0]}x{framebuffer.size[1]}, camera is {camera.width}x{camera.height}"
            )
        self.prepare(camera)
        n = self._splat_alloc.high_water
        if background is not None and not (n and self._tiles is not None):
            mask = framebuffer.depth_mask
            framebuffer.depth_mask = False  # the colour only: the proxies' depth stays
            framebuffer.clear(*(float(c) for c in background), 0.0)
            framebuffer.depth_mask = mask
        if n and self._tiles is not None:
            self._tiles.draw(camera, framebuffer, background)
        elif n:
            framebuffer.use()
            ctx.viewport = (0, 0, camera.width, camera.height)
            ctx.enable(ctx.BLEND | ctx.DEPTH_TEST)
            ctx.blend_func = ctx.ONE, ctx.ONE_MINUS_SRC_ALPHA
            ctx.depth_func = "<="
            framebuffer.depth_mask = False
            self._set_uniforms(camera)
            self._bind_textures(self.program)
            if self._prepass:
                self._quads.bind_to_storage_buffer(6)
            if self.gpu_sort:
                ctx.memory_barrier()
                self._vao.render_indirect(self._indirect, mode=ctx.TRIANGLE_STRIP, count=1)
            elif self._visible:
                self._vao.render(mode=ctx.TRIANGLE_STRIP, vertices=4, instances=self._visible)
            framebuffer.depth_mask = True
            ctx.disable(ctx.BLEND | ctx.DEPTH_TEST)
        self._last_upload = self._pending_upload
        self._pending_upload = 0
        self._sorted_this_frame, self.last_sorted = self.last_sorted, False

    # ------------------------------------------------------------------ introspection

    def anchors(self) -> list[str]:
        """Ids of the anchors held."""
        return list(self._anchors)

    def stats(self) -> dict[str, Any]:
        """Splat count, bytes uploaded for the last frame, GPU bytes per splat and bookkeeping."""
        splats = sum(a.count for a in self._anchors.values())
        gpu = self._splats.nbytes() + self._sh.nbytes() + self._anchor_tex.nbytes()
        if self._tiles is not None:
            gpu += self._tiles.nbytes()
        if self._prepass:
            gpu += self._quads.size
        if self._sorter is not None:
            gpu += self._sorter.capacity * 16 + self._sorter._hist.size
        else:
            gpu += self._order.size
        return {
            "splats": splats,
            "anchors": len(self._anchors),
            "upload_bytes_last_frame": self._last_upload,
            "upload_bytes_pending": self._pending_upload,
            "layout_bytes_per_splat": SPLAT_BYTES,
            "gpu_bytes_per_splat": gpu / splats if splats else 0.0,
            "sort": "gpu" if self.gpu_sort or self._tiles is not None else "cpu",
            "raster": self.raster,
            "tile_pairs": self._tiles.pairs if self._tiles is not None else 0,
            "sorted_last_frame": self._sorted_this_frame,
            "slots_drawn": self._splat_alloc.high_water,
            "fragmentation": self._splat_alloc.fragmentation(),
        }

    def release(self) -> None:
        """Free every GPU object."""
        self._vao.release()
        self.program.release()
        for t in (self._splats, self._sh, self._anchor_tex):
            t.release()
        if self._tiles is not None:
            self._tiles.release()
        if self._prepass:
            self._prepass_prog.release()
            self._quads.release()
        if self._sorter is not None:
            self._sorter.release()
            self._keys_prog.release()
            self._indirect.release()
        else:
            self._order.release()


def render_offscreen(
    splat_pass: SplatPass, camera: Camera, background: tuple[float, float, float] = (0.0, 0.0, 0.0)
) -> np.ndarray:
    """Render into a fresh RGBA16F target cleared to (background, 0); returns (H, W, 4) float32, row 0 on top.

    RGB is composited over ``background``; alpha is 1 − final transmittance.
    """
    ctx = splat_pass.ctx
    size = (camera.width, camera.height)
    color = ctx.texture(size, 4, dtype="f2")
    depth = ctx.depth_renderbuffer(size)
    fbo = ctx.framebuffer(color_attachments=[color], depth_attachment=depth)
    try:
        fbo.use()
        ctx.viewport = (0, 0, *size)
        fbo.clear(float(background[0]), float(background[1]), float(background[2]), 0.0, depth=1.0)
        splat_pass.draw(camera, fbo)
        data = np.frombuffer(fbo.read(components=4, dtype="f2"), np.float16)
        img = data.reshape(camera.height, camera.width, 4)[::-1].astype(np.float32)
    finally:
        fbo.release()
        color.release()
        depth.release()
    return np.ascontiguousarray(img)
