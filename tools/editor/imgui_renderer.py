"""Dear ImGui (imgui-bundle ≥ 1.92) drawn with ModernGL.

Draw strategy: every frame the draw lists of ``ImDrawData`` are concatenated into one vertex and
one index buffer (indices rebased with numpy), uploaded once, then each ``ImDrawCmd`` is one
indexed draw with its texture bound and its clip rectangle as the scissor box.

Textures follow the 1.92 protocol (``BackendFlags_.renderer_has_textures``): ImGui owns the pixels
of each ``ImTextureData`` (the font atlas among them, grown on demand) and asks the renderer to
create, update (sub-rectangles) or destroy the GPU copy through ``tex.status``; the renderer stores
the GL name as the texture id.
"""

from __future__ import annotations

import ctypes

import moderngl
import numpy as np
from imgui_bundle import imgui

from tools.editor.shaders import program


class ImGuiRenderer:
    """Renders ImGui draw data into the currently bound (or a given) framebuffer.

    ctx: the ModernGL context; an ImGui context must already exist (``imgui.create_context()``).
    """

    def __init__(self, ctx: moderngl.Context) -> None:
        if not imgui.get_current_context():
            raise RuntimeError("create an ImGui context (imgui.create_context()) before the renderer")
        self.ctx = ctx
        self.prog = program(ctx, "imgui.glsl")
        self.prog["u_tex"].value = 0
        self.vbo = ctx.buffer(reserve=1 << 16, dynamic=True)
        self.ibo = ctx.buffer(reserve=1 << 16, dynamic=True)
        self.vao = ctx.vertex_array(
            self.prog,
            [(self.vbo, "2f 2f 4f1", "in_pos", "in_uv", "in_col")],
            index_buffer=self.ibo,
            index_element_size=4,
        )
        self.textures: dict[int, moderngl.Texture] = {}
        io = imgui.get_io()
        io.backend_flags |= imgui.BackendFlags_.renderer_has_textures
        io.backend_flags |= imgui.BackendFlags_.renderer_has_vtx_offset
        size = int(ctx.info.get("GL_MAX_TEXTURE_SIZE", 4096))
        pio = imgui.get_platform_io()
        pio.renderer_texture_max_width = size
        pio.renderer_texture_max_height = size

    # -- textures --------------------------------------------------------------------------------
    def _sync_texture(self, tex: imgui.ImTextureData) -> None:
        status = tex.status
        if status == imgui.ImTextureStatus.want_create:
            if tex.format != imgui.ImTextureFormat.rgba32:
                raise RuntimeError("ImGui texture format must be RGBA32")
            pixels = np.asarray(tex.get_pixels_array(), np.uint8)
            gl_tex = self.ctx.texture((tex.width, tex.height), 4, pixels.tobytes())
            gl_tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
            gl_tex.repeat_x = gl_tex.repeat_y = False
            self.textures[gl_tex.glo] = gl_tex
            tex.set_tex_id(gl_tex.glo)
            tex.status = imgui.ImTextureStatus.ok
        elif status == imgui.ImTextureStatus.want_updates:
            gl_tex = self.textures[int(tex.tex_id)]
            pixels = np.asarray(tex.get_pixels_array(), np.uint8).reshape(tex.height, tex.width, 4)
            for r in tex.updates:
                block = np.ascontiguousarray(pixels[r.y : r.y + r.h, r.x : r.x + r.w])
                gl_tex.write(block.tobytes(), viewport=(r.x, r.y, r.w, r.h))
            tex.status = imgui.ImTextureStatus.ok
        elif status == imgui.ImTextureStatus.want_destroy:
            gl_tex = self.textures.pop(int(tex.tex_id), None)
            if gl_tex is not None:
                gl_tex.release()
            tex.set_tex_id(0)
            tex.status = imgui.ImTextureStatus.destroyed

    def update_textures(self) -> None:
        """Apply every pending create/update/destroy request of ImGui's textures."""
        for tex in imgui.get_platform_io().textures:
            if tex.status != imgui.ImTextureStatus.ok:
                self._sync_texture(tex)

    # -- drawing ---------------------------------------------------------------------------------
    def render(self, draw_data: imgui.ImDrawData, fbo: moderngl.Framebuffer | None = None) -> None:
        """Draw ``draw_data`` (from ``imgui.get_draw_data()``) into ``fbo`` (default: the screen)."""
        self.update_textures()
        dw, dh = draw_data.display_size
        sx, sy = draw_data.framebuffer_scale
        fb_w, fb_h = int(dw * sx), int(dh * sy)
        if fb_w <= 0 or fb_h <= 0 or draw_data.total_vtx_count == 0:
            return
        vtx_parts: list[bytes] = []
        idx_parts: list[np.ndarray] = []
        batches: list[tuple[int, int, tuple[float, float, float, float], int]] = []
        vtx_base = idx_base = 0
        for cmd_list in draw_data.cmd_lists:
            nv, ni = cmd_list.vtx_buffer.size(), cmd_list.idx_buffer.size()
            vtx_parts.append(ctypes.string_at(cmd_list.vtx_buffer.data_address(), nv * imgui.VERTEX_SIZE))
            idx = np.frombuffer(
                ctypes.string_at(cmd_list.idx_buffer.data_address(), ni * imgui.INDEX_SIZE),
                np.uint32 if imgui.INDEX_SIZE == 4 else np.uint16,
            )
            idx_parts.append(idx.astype(np.uint32))
            for cmd in cmd_list.cmd_buffer:
                if cmd.user_callback_data is not None and cmd.elem_count == 0:
                    continue
                clip = tuple(cmd.clip_rect)
                first = idx_base + cmd.idx_offset
                # vtx_offset is per command (RendererHasVtxOffset); fold it into the rebased indices.
                batches.append((first, cmd.elem_count, clip, int(cmd.get_tex_id())))
                if cmd.vtx_offset:
                    idx_parts[-1] = idx_parts[-1].copy()
                    sl = slice(cmd.idx_offset, cmd.idx_offset + cmd.elem_count)
                    idx_parts[-1][sl] += cmd.vtx_offset
            idx_parts[-1] = idx_parts[-1] + np.uint32(vtx_base)
            vtx_base += nv
            idx_base += ni
        vdata = b"".join(vtx_parts)
        idata = np.concatenate(idx_parts).astype(np.uint32).tobytes()
        if len(vdata) > self.vbo.size:
            self.vbo.orphan(max(len(vdata), 2 * self.vbo.size))
        if len(idata) > self.ibo.size:
            self.ibo.orphan(max(len(idata), 2 * self.ibo.size))
        self.vbo.write(vdata)
        self.ibo.write(idata)

        ctx = self.ctx
        target = fbo or ctx.screen
        target.use()
        ctx.viewport = (0, 0, fb_w, fb_h)
        ox, oy = draw_data.display_pos
        left, right, top, bottom = ox, ox + dw, oy, oy + dh
        proj = np.array(
            [
                [2 / (right - left), 0, 0, 0],
                [0, 2 / (top - bottom), 0, 0],
                [0, 0, -1, 0],
                [(right + left) / (left - right), (top + bottom) / (bottom - top), 0, 1],
            ],
            np.float32,
        )
        self.prog["u_proj"].write(proj.tobytes())
        ctx.enable_only(moderngl.BLEND)
        ctx.blend_func = (
            moderngl.SRC_ALPHA,
            moderngl.ONE_MINUS_SRC_ALPHA,
            moderngl.ONE,
            moderngl.ONE_MINUS_SRC_ALPHA,
        )
        ctx.blend_equation = moderngl.FUNC_ADD
        try:
            for first, count, clip, tex_id in batches:
                x0 = max((clip[0] - ox) * sx, 0.0)
                y0 = max((clip[1] - oy) * sy, 0.0)
                x1 = min((clip[2] - ox) * sx, fb_w)
                y1 = min((clip[3] - oy) * sy, fb_h)
                if x1 <= x0 or y1 <= y0 or count == 0:
                    continue
                ctx.scissor = (int(x0), int(fb_h - y1), int(x1 - x0), int(y1 - y0))
                tex = self.textures.get(tex_id)
                if tex is not None:
                    tex.use(0)
                self.vao.render(moderngl.TRIANGLES, vertices=count, first=first)
        finally:
            ctx.scissor = None
            ctx.disable(moderngl.BLEND)

    def release(self) -> None:
        """Free GL objects and tell ImGui its textures are gone."""
        for tex in imgui.get_platform_io().textures:
            if int(tex.tex_id) in self.textures:
                tex.status = imgui.ImTextureStatus.want_destroy
                self._sync_texture(tex)
        for obj in (self.vao, self.vbo, self.ibo, self.prog):
            obj.release()
