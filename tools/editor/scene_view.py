"""What the viewport draws: the grid, the proxies (engine ProxyPass), splats (engine SplatPass) and
selection outlines; kept in sync with the document by diffing each entity's proxy and transform.

Only entities whose proxy or transform changed since the last frame are sent to the passes, so a
40-entity level costs a few dictionary comparisons per frame.
"""

from __future__ import annotations

import importlib
from typing import Any

import moderngl
import numpy as np

from engine.render.camera import Camera
from engine.splats.vocab import MATERIALS
from tools.editor.document import Json
from tools.editor.picking import entity_matrix, half_extents
from tools.editor.shaders import program

VIEW_MODES = ("proxies", "splats", "both")


def _grid_vertices(extent: int = 50, step: float = 1.0) -> np.ndarray:
    """(N, 7) float32 rows (x, y, z, r, g, b, a) of grid and axis line endpoints on y = 0."""
    rows = []
    for i in range(-extent, extent + 1):
        v = i * step
        major = i % 10 == 0
        c = (0.55, 0.55, 0.58, 0.9) if major else (0.42, 0.42, 0.45, 0.5)
        cx = (0.85, 0.25, 0.25, 1.0) if i == 0 else c  # line z = 0 → the X axis, red
        cz = (0.25, 0.45, 0.9, 1.0) if i == 0 else c  # line x = 0 → the Z axis, blue
        rows += [(-extent * step, 0, v, *cx), (extent * step, 0, v, *cx)]
        rows += [(v, 0, -extent * step, *cz), (v, 0, extent * step, *cz)]
    return np.array(rows, np.float32)


class _FallbackProxies:
    """Flat-shaded boxes (one instanced draw) used only while ``engine.render.proxy_pass`` is absent."""

    VS = """#version 330
    uniform mat4 u_view_proj;
    in vec3 in_pos; in vec3 in_nrm;
    in mat4 i_model; in vec3 i_col;
    out vec3 v_col;
    void main() {
        vec3 n = normalize(mat3(i_model) * in_nrm);
        float lit = 0.35 + 0.65 * max(dot(n, normalize(vec3(0.4, 1.0, 0.3))), 0.0);
        v_col = i_col * lit;
        gl_Position = u_view_proj * i_model * vec4(in_pos, 1.0);
    }"""
    FS = """#version 330
    in vec3 v_col; out vec4 f_col;
    void main() { f_col = vec4(pow(v_col, vec3(1.0 / 2.2)), 1.0); }"""

    def __init__(self, ctx: moderngl.Context) -> None:
        self.ctx = ctx
        self.prog = ctx.program(vertex_shader=self.VS, fragment_shader=self.FS)
        faces = []
        for axis in range(3):
            for sign in (-1.0, 1.0):
                n = np.zeros(3)
                n[axis] = sign
                u, v = np.roll(np.eye(3), axis + 1, 0)[0], np.roll(np.eye(3), axis + 2, 0)[0]
                quad = [n + a * u + b * v for a, b in ((-1, -1), (1, -1), (1, 1), (-1, -1), (1, 1), (-1, 1))]
                faces += [(*q, *n) for q in quad]
        self.vbo = ctx.buffer(np.array(faces, np.float32).tobytes())
        self.items: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.ibo = ctx.buffer(reserve=64 * 4 * 19)
        self.vao = None
        self._dirty = True

    def set_proxy(self, uid: str, shape: str, half: Any, material: str) -> None:
        m = self.items.get(uid, (np.eye(4), np.zeros(3)))[0]
        self.items[uid] = (m, np.asarray(half, np.float32), np.asarray(MATERIALS[material].colour, np.float32))
        self._dirty = True

    def xform(self, uid: str, mat: np.ndarray) -> None:
        if uid in self.items:
            _, h, c = self.items[uid]
            self.items[uid] = (np.asarray(mat, np.float32), h, c)
            self._dirty = True

    def remove(self, uid: str) -> None:
        self.items.pop(uid, None)
        self._dirty = True

    def draw(self, camera: Camera) -> None:
        if not self.items:
            return
        if self._dirty:
            rows = []
            for m, h, c in self.items.values():
                model = m @ np.diag([*h, 1.0]).astype(np.float32)
                rows.append(np.concatenate([model.T.reshape(-1), c]))
            data = np.array(rows, np.float32).tobytes()
            if len(data) > self.ibo.size:
                self.ibo.orphan(len(data) * 2)
            self.ibo.write(data)
            self.vao = self.ctx.vertex_array(
                self.prog,
                [(self.vbo, "3f 3f", "in_pos", "in_nrm"), (self.ibo, "16f 3f/i", "i_model", "i_col")],
            )
            self._dirty = False
        vp = camera.gl_projection @ camera.gl_view
        self.prog["u_view_proj"].write(vp.T.astype(np.float32).tobytes())
        self.vao.render(moderngl.TRIANGLES, instances=len(self.items))


def _make(module: str, cls: str, ctx: moderngl.Context) -> Any | None:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    return getattr(mod, cls)(ctx)


class SceneView:
    """Grid + proxies + splats for the editor viewport, synced from level entities."""

    def __init__(self, ctx: moderngl.Context) -> None:
        self.ctx = ctx
        self.grid_prog = program(ctx, "grid.glsl")
        self.grid_vbo = ctx.buffer(_grid_vertices().tobytes())
        self.grid_vao = ctx.vertex_array(self.grid_prog, [(self.grid_vbo, "3f 4f", "in_pos", "in_col")])
        self.proxies = _make("engine.render.proxy_pass", "ProxyPass", ctx) or _FallbackProxies(ctx)
        self.splats = _make("engine.render.splat_pass", "SplatPass", ctx)
        self.show_grid = True
        self.mode = "proxies"
        self._seen: dict[str, tuple[Any, Any]] = {}  # uid → (proxy key, transform key)
        self._matrix: dict[str, np.ndarray] = {}
        self.splat_uids: set[str] = set()
        self._standins: Any = None
        self._standin_uids: set[str] = set()
        self._standins_dirty = True
        self._offscreen: moderngl.Framebuffer | None = None

    def sync(self, entities: list[dict[str, Json]]) -> int:
        """Send changed proxies/transforms to the passes; returns how many entities changed."""
        changed = 0
        alive = set()
        for e in entities:
            uid = e["uid"]
            comps = e.get("components", {})
            proxy = comps.get("Proxy")
            if proxy is None:
                continue
            alive.add(uid)
            state = proxy.get("state") or {}
            pkey = (proxy["shape"], tuple(proxy["half_extents"]), proxy["material"], tuple(sorted(state.items())))
            t = comps.get("Transform")
            tkey = (tuple(t["pos"]), tuple(t["rot"]), tuple(t["scale"])) if t else None
            old = self._seen.get(uid)
            if old is None or old[0] != pkey:
                self._set_proxy(uid, pkey[0], np.asarray(pkey[1], np.float32), pkey[2], dict(state))
                old = None
            if old is None or old[1] != tkey:
                self._matrix[uid] = entity_matrix(e).astype(np.float32)
                self.proxies.xform(uid, self._matrix[uid])
                if uid in self.splat_uids:
                    self.splats.xform(uid, self._matrix[uid])
            if old is None or old != (pkey, tkey):
                changed += 1
                self._standins_dirty = True
            self._seen[uid] = (pkey, tkey)
        for uid in list(self._seen):
            if uid not in alive:
                self.proxies.remove(uid)
                del self._seen[uid]
                self._matrix.pop(uid, None)
                self.remove_splats(uid)
                changed += 1
                self._standins_dirty = True
        return changed

    def _set_proxy(self, uid: str, shape: str, half: np.ndarray, material: str, state: dict) -> None:
        try:
            self.proxies.set_proxy(uid, shape, half, material, state)
        except TypeError:  # the fallback pass has no state tint
            self.proxies.set_proxy(uid, shape, half, material)

    def set_splats(self, uid: str, gaussians: Any, matrix: np.ndarray) -> None:
        """Show generated or imported Gaussians for ``uid`` (anchor-local) at ``matrix``."""
        if self.splats is None:
            return
        self.splats.set(uid, gaussians)
        self.splats.xform(uid, self._matrix.get(uid, matrix).astype(np.float32))
        self.splat_uids.add(uid)
        self._standins_dirty = True

    def remove_splats(self, uid: str) -> None:
        """Drop ``uid``'s Gaussians (its proxy shows again)."""
        if self.splats is not None and uid in self.splat_uids:
            self.splats.remove(uid)
            self.splat_uids.discard(uid)
            self._standins_dirty = True

    def xform_splats(self, uid: str, matrix: np.ndarray) -> None:
        """Move ``uid``'s Gaussians."""
        if self.splats is not None and uid in self.splat_uids:
            self.splats.xform(uid, np.asarray(matrix, np.float32))

    def _draw_standins(self, camera: Camera) -> None:
        """Splats view: the flat proxy of every anchor whose Gaussians have not arrived yet."""
        if self._standins is None:
            self._standins = _make("engine.render.proxy_pass", "ProxyPass", self.ctx) or _FallbackProxies(self.ctx)
            self._standins_dirty = True
        if self._standins_dirty:
            for uid in list(self._standin_uids):
                self._standins.remove(uid)
            self._standin_uids = set()
            for uid, (pkey, _t) in self._seen.items():
                if uid in self.splat_uids:
                    continue
                st = dict(pkey[3])
                try:
                    self._standins.set_proxy(uid, pkey[0], np.asarray(pkey[1], np.float32), pkey[2], st)
                except TypeError:
                    self._standins.set_proxy(uid, pkey[0], np.asarray(pkey[1], np.float32), pkey[2])
                self._standins.xform(uid, self._matrix[uid])
                self._standin_uids.add(uid)
            self._standins_dirty = False
        self._standins.draw(camera)

    def draw_offscreen(self, camera: Camera, selected: list[dict[str, Json]], clear: tuple) -> moderngl.Texture:
        """Draw into an offscreen target of the camera's size (the splat pass needs one); returns its colour."""
        size = (camera.width, camera.height)
        if self._offscreen is None or self._offscreen.size != size:
            if self._offscreen is not None:
                self._offscreen.release()
                self._off_tex.release()
                self._off_depth.release()
            self._off_tex = self.ctx.texture(size, 4)
            self._off_depth = self.ctx.depth_renderbuffer(size)
            self._offscreen = self.ctx.framebuffer([self._off_tex], self._off_depth)
        fbo = self._offscreen
        fbo.use()
        fbo.clear(*clear, depth=1.0)
        self.draw(camera, selected, fbo)
        return self._off_tex

    def draw(self, camera: Camera, selected: list[dict[str, Json]], fbo: moderngl.Framebuffer) -> None:
        """Draw the scene for ``camera`` into ``fbo`` (its viewport already set)."""
        ctx = self.ctx
        ctx.enable(moderngl.DEPTH_TEST)
        if self.mode == "proxies" or self.splats is None:
            self.proxies.draw(camera)
        else:
            self._draw_standins(camera)
        if self.mode in ("splats", "both") and self.splats is not None and self.splat_uids:
            self.splats.draw(camera, fbo)
        vp = (camera.gl_projection @ camera.gl_view).T.astype(np.float32).tobytes()
        ctx.enable(moderngl.BLEND)
        ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        if self.show_grid:
            self.grid_prog["u_view_proj"].write(vp)
            self.grid_prog["u_eye"].value = tuple(float(x) for x in camera.eye)
            self.grid_prog["u_fade"].value = 120.0
            self.grid_vao.render(moderngl.LINES)
        if self.mode == "both" and self.splats is not None:
            self._wire(vp)
        if selected:
            self._outline(selected, vp)
        ctx.disable(moderngl.BLEND)
        ctx.disable(moderngl.DEPTH_TEST)

    def _wire(self, vp: bytes) -> None:
        """"both" view: every proxy as a grey wire box over the splats."""
        ents = [{"uid": u, "components": {}} for u in self._seen]
        if not ents:
            return
        corners = np.array([[(i >> 0) & 1, (i >> 1) & 1, (i >> 2) & 1] for i in range(8)], float) * 2 - 1
        edges = [(a, b) for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1]
        rows = []
        for uid, (pkey, _t) in self._seen.items():
            m = self._matrix.get(uid, np.eye(4))
            pts = (corners * np.asarray(pkey[1])) @ m[:3, :3].T + m[:3, 3]
            for a, b in edges:
                rows += [(*pts[a], 0.85, 0.85, 0.9, 0.6), (*pts[b], 0.85, 0.85, 0.9, 0.6)]
        buf = self.ctx.buffer(np.array(rows, np.float32).tobytes())
        vao = self.ctx.vertex_array(self.grid_prog, [(buf, "3f 4f", "in_pos", "in_col")])
        self.grid_prog["u_view_proj"].write(vp)
        self.grid_prog["u_fade"].value = 1e9
        vao.render(moderngl.LINES)
        vao.release()
        buf.release()

    def _outline(self, selected: list[dict[str, Json]], vp: bytes) -> None:
        """Orange wireframe boxes around the selection (drawn on top, through the grid program)."""
        edges = [(a, b) for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1]
        corners = np.array([[(i >> 0) & 1, (i >> 1) & 1, (i >> 2) & 1] for i in range(8)], float) * 2 - 1
        rows = []
        for k, e in enumerate(selected):
            m, h = entity_matrix(e), half_extents(e) * 1.02
            pts = (corners * h) @ m[:3, :3].T + m[:3, 3]
            col = (1.0, 0.6, 0.1, 1.0) if k == len(selected) - 1 else (1.0, 0.85, 0.3, 1.0)
            for a, b in edges:
                rows += [(*pts[a], *col), (*pts[b], *col)]
        buf = self.ctx.buffer(np.array(rows, np.float32).tobytes())
        vao = self.ctx.vertex_array(self.grid_prog, [(buf, "3f 4f", "in_pos", "in_col")])
        self.ctx.disable(moderngl.DEPTH_TEST)
        self.grid_prog["u_fade"].value = 1e9
        vao.render(moderngl.LINES)
        vao.release()
        buf.release()
