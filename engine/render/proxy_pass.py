"""`ProxyPass`: flat-shaded low-poly proxies, instanced per mesh (the placeholder and editor view).

The pass speaks the renderer's words, not the ECS's: anchors by uid, a shape, half-extents, a
material tag and a 4×4 matrix. It never imports esper.

    proxies = ProxyPass(ctx)
    proxies.set_proxy("crate-1", "box", (0.5, 0.5, 0.5), "wood_planks")
    proxies.xform("crate-1", transform_matrix)   # (4, 4) local→world
    proxies.draw(camera)                         # into the bound framebuffer, depth-tested

Layout: one batch per unit mesh (``engine.render.mesh``); a batch holds an (n, 19) float32 instance
array — the model matrix column-major (16) then the linear material colour (3) — uploaded only when
something in it changed. The model matrix is the anchor matrix times the half-extent scale.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import moderngl
import numpy as np

from engine.render.camera import Camera
from engine.render.mesh import mesh_key, unit_mesh
from engine.splats.vocab import check_shape, material

SHADER = Path(__file__).resolve().parents[2] / "shaders" / "proxy.glsl"
_FLOATS = 19


def load_program(ctx: moderngl.Context, path: Path) -> moderngl.Program:
    """A program from one GLSL file split by ``#if defined VERTEX_SHADER`` / ``FRAGMENT_SHADER``."""
    src = path.read_text()
    head, _, body = src.partition("#version 330")
    ver = "#version 330 core\n"
    return ctx.program(vertex_shader=ver + "#define VERTEX_SHADER\n" + body,
                       fragment_shader=ver + "#define FRAGMENT_SHADER\n" + body)


def proxy_colour(material_tag: str, state: dict[str, float] | None = None) -> np.ndarray:
    """(3,) linear colour of a material with simple state tints (wet darker, snow whiter, burn black)."""
    c = np.asarray(material(material_tag).colour, np.float64)
    s = state or {}
    c = c * (1.0 - 0.35 * s.get("wetness", 0.0))
    c = c * (1.0 - 0.4 * s.get("damage", 0.0))
    c = c + (np.array([0.9, 0.92, 0.95]) - c) * s.get("snow", 0.0)
    c = c + (np.array([0.03, 0.025, 0.02]) - c) * s.get("burn", 0.0)
    return c.astype(np.float32)


class _Batch:
    def __init__(self, ctx: moderngl.Context, prog: moderngl.Program, mesh: np.ndarray) -> None:
        self.vbo = ctx.buffer(mesh.tobytes())
        self.data = np.zeros((16, _FLOATS), np.float32)
        self.uids: list[str] = []
        self.ibo = ctx.buffer(reserve=self.data.nbytes)
        self.prog, self.ctx = prog, ctx
        self.vao = self._vao()
        self.dirty = True

    def _vao(self) -> moderngl.VertexArray:
        return self.ctx.vertex_array(
            self.prog, [(self.vbo, "3f 3f", "in_pos", "in_nrm"), (self.ibo, "16f 3f/i", "i_model", "i_col")]
        )

    def add(self, uid: str) -> int:
        if len(self.uids) == len(self.data):
            data = np.zeros((len(self.data) * 2, _FLOATS), np.float32)
            data[: len(self.data)] = self.data
            self.data = data
        self.uids.append(uid)
        self.dirty = True
        return len(self.uids) - 1

    def remove(self, index: int) -> str | None:
        """Swap-remove; returns the uid that moved into ``index`` (or None)."""
        last = len(self.uids) - 1
        moved = None
        if index != last:
            self.data[index] = self.data[last]
            self.uids[index] = self.uids[last]
            moved = self.uids[index]
        self.uids.pop()
        self.dirty = True
        return moved

    def draw(self) -> None:
        n = len(self.uids)
        if not n:
            return
        if self.dirty:
            if self.ibo.size < self.data.nbytes:
                self.vao.release()
                self.ibo.release()
                self.ibo = self.ctx.buffer(reserve=self.data.nbytes)
                self.vao = self._vao()
            self.ibo.write(self.data[:n].tobytes())
            self.dirty = False
        self.vao.render(moderngl.TRIANGLES, instances=n)

    def release(self) -> None:
        self.vao.release()
        self.ibo.release()
        self.vbo.release()


class ProxyPass:
    """Instanced flat-shaded proxies keyed by anchor uid."""

    def __init__(self, ctx: moderngl.Context) -> None:
        self.ctx = ctx
        self.prog = load_program(ctx, SHADER)
        self.batches: dict[tuple[str, float], _Batch] = {}
        self.where: dict[str, tuple[tuple[str, float], int]] = {}
        self.scale: dict[str, np.ndarray] = {}
        self.matrix: dict[str, np.ndarray] = {}
        self.sun_dir = np.array([0.35, 0.85, 0.4]) / np.linalg.norm([0.35, 0.85, 0.4])
        self.fog_colour = (0.62, 0.74, 0.88)
        self.fog_distance = 250.0

    def __len__(self) -> int:
        return len(self.where)

    def __contains__(self, uid: str) -> bool:
        return uid in self.where

    def set_proxy(self, uid: str, shape: str, half_extents: Any, material_tag: str,
                  state: dict[str, float] | None = None) -> None:
        """Create or restyle ``uid``'s proxy. half_extents: (3,) metres."""
        check_shape(shape)
        key, scale = mesh_key(shape, np.asarray(half_extents, np.float64).reshape(3))
        colour = proxy_colour(material_tag, state)
        old = self.where.get(uid)
        if old is not None and old[0] != key:
            self.remove(uid)
            old = None
        if old is None:
            batch = self.batches.get(key)
            if batch is None:
                batch = self.batches[key] = _Batch(self.ctx, self.prog, unit_mesh(key[0], key[1]))
            self.where[uid] = (key, batch.add(uid))
            self.matrix.setdefault(uid, np.eye(4))
        key, i = self.where[uid]
        batch = self.batches[key]
        self.scale[uid] = scale
        batch.data[i, 16:19] = colour
        self._write(uid)

    def xform(self, uid: str, matrix: Any) -> None:
        """Set ``uid``'s (4, 4) local→world matrix (ignored for unknown uids until ``set_proxy``)."""
        self.matrix[uid] = np.asarray(matrix, np.float64).reshape(4, 4)
        if uid in self.where:
            self._write(uid)

    def _write(self, uid: str) -> None:
        key, i = self.where[uid]
        m = self.matrix[uid].copy()
        m[:3, :3] = m[:3, :3] * self.scale[uid][None, :]
        b = self.batches[key]
        b.data[i, :16] = m.T.reshape(16)
        b.dirty = True

    def remove(self, uid: str) -> None:
        """Forget ``uid`` (no error if unknown)."""
        w = self.where.pop(uid, None)
        self.matrix.pop(uid, None)
        self.scale.pop(uid, None)
        if w is None:
            return
        key, i = w
        moved = self.batches[key].remove(i)
        if moved is not None:
            self.where[moved] = (key, i)

    def clear(self) -> None:
        """Remove every proxy."""
        for uid in list(self.where):
            self.remove(uid)

    def draw(self, camera: Camera) -> None:
        """Draw every proxy for ``camera`` into the bound framebuffer (enables depth test)."""
        self.ctx.enable(moderngl.DEPTH_TEST)
        self.ctx.disable(moderngl.CULL_FACE)
        vp = camera.gl_projection.astype(np.float64) @ camera.gl_view.astype(np.float64)
        self.prog["u_view_proj"].write(vp.T.astype(np.float32).tobytes())
        self.prog["u_sun_dir"].value = tuple(float(v) for v in self.sun_dir)
        self.prog["u_eye"].value = tuple(float(v) for v in camera.eye)
        self.prog["u_fog_col"].value = self.fog_colour
        self.prog["u_fog_dist"].value = float(self.fog_distance)
        for b in self.batches.values():
            b.draw()

    def release(self) -> None:
        """Free GPU resources."""
        for b in self.batches.values():
            b.release()
        self.batches.clear()
        self.prog.release()
