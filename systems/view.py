"""`SplatView`: the splat layer of a game's picture, fed only by SplatDelta bytes.

Installed into every ``engine.presenter.Presenter`` through ``presenter_hooks`` (see
:func:`install`); the world-model stage installs it when a game attaches the stage. Per frame it
asks the stage for the next message (``stage.frame(eye)``; headless renders use
``stage.flush(eye)`` so screenshots are reproducible), decodes it with a
:class:`~engine.splats.wire.SplatScene` whose sink is this view, and draws:

- ``splats`` (default): Gaussians, and the flat proxy of every anchor whose Gaussians have not
  arrived yet (so nothing is ever missing from the picture);
- ``proxies``: the presenter's own interpolated proxy pass only;
- ``both``: Gaussians with every proxy over them in wireframe.

``V`` cycles the modes (an input action, ``toggle_view``); ``F3`` the statistics overlay (FPS,
splats, pending generations, last delta size) in a window. The game's own text
(``game.vars["hud"]``, a list of lines) is drawn in every mode. Headless frames show no
statistics, only the game's text, so they depend on nothing but the world and the camera.

In a window, things that move are drawn at the presenter's interpolated transforms (between the
last two ticks), and on software GL (llvmpipe) the splat layer is drawn at reduced size and
upscaled: half size to start with, then a :class:`ResolutionGovernor` picks the size that holds
``SOFTWARE_TARGET_FPS`` (llvmpipe's splat cost is mostly per pixel; a machine whose cores are busy
with other work gets a softer picture rather than a slide show). ``$ANCHORWORLD_SPLAT_SCALE`` fixes
the size instead. Headless frames use tick transforms and full size, always.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

MODES = ("splats", "proxies", "both")
SCALES = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.85, 1.0)  # splat-layer sizes the governor steps through
SOFTWARE_TARGET_FPS = 20.0  # what the governor holds on software GL (the loop's target there is 15)


def install() -> None:
    """Register :func:`attach_view` as a presenter hook (idempotent; again after the hooks were cleared)."""
    from engine import presenter

    if attach_view not in presenter.presenter_hooks:
        presenter.presenter_hooks.append(attach_view)


def attach_view(presenter: Any) -> None:
    """Presenter hook: add a SplatView when the presenter's game runs the world-model stage."""
    stage = presenter.game.system("worldmodel")
    if stage is None or getattr(presenter, "splat_view", None) is not None:
        return
    presenter.splat_view = SplatView(presenter, stage)


def _in_window() -> bool:
    import sys

    pg = sys.modules.get("pygame")
    return bool(pg is not None and pg.display.get_init() and pg.display.get_surface() is not None)


class SplatView:
    """Splat pass + proxies-until-splats + overlay for one presenter.

    wait: flush the stage before every frame (default: when there is no window), so the frame
    shows every anchor at its exact level of detail.
    """

    def __init__(self, presenter: Any, stage: Any, wait: bool | None = None, mode: str = "splats") -> None:
        from engine.layout import full_layout
        from engine.render.proxy_pass import ProxyPass
        from engine.render.splat_pass import SplatPass
        from engine.splats.wire import SplatScene

        self.presenter = presenter
        self.game = presenter.game
        self.stage = stage
        self.ctx = presenter.ctx
        self.wait = (not _in_window()) if wait is None else wait
        self.mode = mode
        self.show_stats = not self.wait
        self.splats = SplatPass(self.ctx)  # sorts on the CPU on software GL (llvmpipe), on the GPU otherwise
        self.pending_proxies = ProxyPass(self.ctx)  # anchors whose Gaussians have not arrived
        self.all_proxies = ProxyPass(self.ctx)
        self.has_splats: set[str] = set()
        self.receiver = SplatScene("splat-view", sink=self)
        self.overlay = Overlay(self.ctx)
        self.fps = 0.0
        self._last = time.perf_counter()
        self._seen_tick = -1
        self._overridden: set[str] = set()
        self._slots_changed = False
        self._low: tuple[Any, Any, Any] | None = None  # reduced-size target (colour, depth, fbo)
        software = any(k in str(self.ctx.info.get("GL_RENDERER", "")).lower() for k in ("llvmpipe", "softpipe"))
        fixed = _env_scale("ANCHORWORLD_SPLAT_SCALE")
        self.render_scale = fixed or (0.5 if software else 1.0)
        # dynamic resolution on software GL only, unless the size is fixed
        self.governor = ResolutionGovernor(self.render_scale) if software and not fixed else None
        self.game.input.bind("toggle_view", "key:v")
        self.game.input.bind("toggle_stats", "key:f3")
        # Catch up: what the stage has already sent, then the world as it is now (a loaded game
        # that has not ticked yet has published nothing).
        if stage.mirror.seq >= 0:
            self.receiver.apply_bytes(stage.keyframe())
        layout = full_layout(self.game.world, self.game.tick_count)
        gone = set(stage.anchors) - {e.uid for e in layout.spawned}
        layout.removed = sorted(gone)
        stage.consume(layout)
        presenter.frame.extra_passes.append(self.draw)
        self._apply_mode()

    # ------------------------------------------------------------------ SplatScene sink

    def on_proxy(self, op: Any) -> None:
        state = dict(zip(_states(), op.state, strict=True))
        self.all_proxies.set_proxy(op.anchor, op.shape, op.half_extents, op.material, state)
        if op.anchor not in self.has_splats:
            self.pending_proxies.set_proxy(op.anchor, op.shape, op.half_extents, op.material, state)
            m = self.all_proxies.matrix.get(op.anchor)
            if m is not None:
                self.pending_proxies.xform(op.anchor, m)

    def on_set(self, op: Any, matrix: np.ndarray | None) -> None:
        self._slots_changed = True
        self.splats.set(op.anchor, op.gaussians)
        if matrix is not None:
            self.splats.xform(op.anchor, matrix)
        self.has_splats.add(op.anchor)
        self.pending_proxies.remove(op.anchor)

    def on_remove(self, anchor: str) -> None:
        self._slots_changed = True
        self.splats.remove(anchor)
        self.pending_proxies.remove(anchor)
        self.all_proxies.remove(anchor)
        self.has_splats.discard(anchor)

    def on_xform(self, op: Any) -> None:
        self.all_proxies.xform(op.anchor, op.matrix)
        self.pending_proxies.xform(op.anchor, op.matrix)
        if op.anchor in self.has_splats:
            self.splats.xform(op.anchor, op.matrix)

    # ------------------------------------------------------------------ drawing

    def _apply_mode(self) -> None:
        self.presenter.frame.show_proxies = self.mode == "proxies"

    def cycle_mode(self) -> str:
        """Switch to the next view mode; returns it."""
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        self._apply_mode()
        return self.mode

    def update(self, eye: Any, forward: Any = None) -> int:
        """Pull the stage's next message for camera position ``eye`` (and direction ``forward``) and
        apply it; returns its size."""
        msg = self.stage.flush(eye) if self.wait else self.stage.frame(eye, forward)
        if msg is None:
            return 0
        self.receiver.apply_bytes(msg)
        if self.wait and self._slots_changed:
            self._repack()
        return len(msg)

    def _repack(self) -> None:
        """Re-upload every anchor in uid order, so GPU slot positions — which break depth-sort ties —
        depend only on the scene, not on the order things were generated in (deterministic frames)."""
        self.splats.clear()
        for uid in sorted(self.has_splats):
            a = self.receiver.anchors[uid]
            self.splats.set(uid, a.gaussians)
            if a.matrix is not None:
                self.splats.xform(uid, a.matrix)
        self._slots_changed = False

    def draw(self, camera: Any, frame: Any) -> None:
        """The presenter's extra pass: update from the stage, then draw per the view mode."""
        if self.game.tick_count != self._seen_tick:
            self._seen_tick = self.game.tick_count
            if self.game.input.pressed("toggle_view"):
                self.cycle_mode()
            if self.game.input.pressed("toggle_stats"):
                self.show_stats = not self.show_stats
        self.update(camera.eye, camera.target - camera.eye)
        if not self.wait:
            self._interpolate()
        ctx = self.ctx
        if self.mode in ("splats", "both"):
            self._draw_layer(camera, frame)
        if self.mode == "both":
            frame.fbo.use()
            ctx.wireframe = True
            try:
                self.all_proxies.draw(camera)
            finally:
                ctx.wireframe = False
        now = time.perf_counter()
        if self.governor is not None and not self.wait:
            self.governor.scale = self.render_scale  # whoever set it last (a test, a menu) is the start
            self.render_scale = self.governor.update(now - self._last)
        self.fps = 0.9 * self.fps + 0.1 / max(now - self._last, 1e-6) if self.fps else 1.0 / max(now - self._last, 1e-6)
        self._last = now
        lines = [str(s) for s in self.game.vars.get("hud", [])] if isinstance(self.game.vars.get("hud"), list) else []
        if self.show_stats:
            lines = [self.stats_line()] + lines
        self.overlay.draw(frame, lines)

    def _draw_layer(self, camera: Any, frame: Any) -> None:
        """Splats (and, in ``splats`` mode, the proxies still waiting for theirs) — at full size, or
        in a window on software GL at ``render_scale`` of it, upscaled: llvmpipe's cost is mostly per
        pixel, and interactive frames matter more than their sharpness there."""
        scale = 1.0 if self.wait else self.render_scale
        if scale >= 1.0:
            if self.mode == "splats":
                frame.fbo.use()
                self.pending_proxies.draw(camera)
            self.splats.draw(camera, frame.fbo)
            return
        from engine.render.camera import Camera

        ctx = self.ctx
        size = (max(1, round(frame.size[0] * scale)), max(1, round(frame.size[1] * scale)))
        if self._low is None or self._low[0].size != size:
            self._release_low()
            colour = ctx.texture(size, 4)
            colour.filter = (ctx.LINEAR, ctx.LINEAR)
            depth = ctx.depth_texture(size)
            self._low = (colour, depth, ctx.framebuffer(color_attachments=[colour], depth_attachment=depth))
        colour, _, fbo = self._low
        cam = Camera(camera.eye, camera.target, size[0], size[1], fov_y=camera.fov_y, up=camera.up,
                     near=camera.near, far=camera.far)
        fbo.use()
        ctx.viewport = (0, 0, *size)
        fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
        if self.mode == "splats":
            self.pending_proxies.draw(cam)
        self.splats.draw(cam, fbo)
        frame.fbo.use()
        ctx.viewport = (0, 0, *frame.size)
        self.overlay.composite(colour, frame)

    def _release_low(self) -> None:
        if self._low is not None:
            for o in self._low[::-1]:
                o.release()
            self._low = None

    def _interpolate(self) -> None:
        """Give things that moved in the last tick the presenter's interpolated matrices (smooth motion
        at any frame rate); things that stopped go back to their tick matrix. Headless frames (``wait``)
        skip this, so they depend on tick transforms only."""
        moving = {u for u in self.presenter.moving if u in self.receiver.anchors}
        interp = self.presenter.frame.proxies.matrix
        for uid in self._overridden - moving:
            m = self.receiver.anchors[uid].matrix if uid in self.receiver.anchors else None
            if m is not None:
                self._xform(uid, m)
        for uid in moving:
            if uid in interp:
                self._xform(uid, interp[uid])
        self._overridden = moving

    def _xform(self, uid: str, m: np.ndarray) -> None:
        self.all_proxies.xform(uid, m)
        self.pending_proxies.xform(uid, m)
        if uid in self.has_splats:
            self.splats.xform(uid, np.asarray(m, np.float32))

    def stats_line(self) -> str:
        """FPS, view mode, splat count, pending generations and the last delta's size."""
        return (f"{self.fps:5.1f} fps | view {self.mode} (V) | {self.stage.splat_count()} splats "
                f"at {self.render_scale:.0%} | "
                f"{self.stage.pending} pending | last delta {self.stage.last_delta_bytes} B")

    def release(self) -> None:
        """Free GPU resources."""
        self._release_low()
        for p in (self.splats, self.pending_proxies, self.all_proxies, self.overlay):
            p.release()


class ResolutionGovernor:
    """Dynamic resolution for the splat layer: one step down ``SCALES`` while frames are slower than
    ``target_fps``, one step up when the next size would still be well within it.

    Each change is followed by ``settle`` frames of fresh measurement (a smoothed frame period), so
    a steady load gives a steady size, not an oscillation. The step-up test assumes the frame
    period grows with the pixel count (scale²), which overestimates it (ticks, the sort and
    uploads do not grow), so it errs toward staying put.
    """

    def __init__(self, scale: float, target_fps: float = SOFTWARE_TARGET_FPS, lowest: float = SCALES[0],
                 highest: float = SCALES[-1], settle: int = 8) -> None:
        self.scale = float(scale)
        self.period = 1.0 / float(target_fps)
        self.ladder = [s for s in SCALES if lowest <= s <= highest]
        self.settle = int(settle)
        self.frames = 0
        self.smoothed: float | None = None

    def update(self, frame_seconds: float) -> float:
        """Record one frame's period (seconds since the last); returns the scale for the next frame."""
        dt = float(frame_seconds)
        if not dt > 0.0 or dt > 5.0:  # a stall (a breakpoint, a resize, loading): not a load level
            return self.scale
        self.smoothed = dt if self.smoothed is None else self.smoothed + 0.25 * (dt - self.smoothed)
        self.frames += 1
        if self.frames < self.settle:
            return self.scale
        i = min(range(len(self.ladder)), key=lambda k: abs(self.ladder[k] - self.scale))
        new = self.scale
        if self.smoothed > self.period and i > 0:
            new = self.ladder[i - 1] if self.ladder[i] >= self.scale else self.ladder[i]
        elif i + 1 < len(self.ladder) and self.smoothed * (self.ladder[i + 1] / self.scale) ** 2 < 0.9 * self.period:
            new = self.ladder[i + 1]
        if new != self.scale:
            self.scale, self.frames, self.smoothed = new, 0, None
        return self.scale


def _env_scale(name: str) -> float | None:
    """``$name`` as a splat-layer scale in (0, 1] (None if unset); anything else is an InputError."""
    value = os.environ.get(name)
    if not value:
        return None
    try:
        scale = float(value)
    except ValueError:
        scale = float("nan")
    if not 0.0 < scale <= 1.0:
        from engine.errors import InputError

        raise InputError(f"${name}", "", f"a number in (0, 1], got {value!r}")
    return scale


def _states() -> tuple[str, ...]:
    from engine.splats.vocab import STATES

    return STATES


_OVERLAY_SHADER = """
#version 330
#if defined VERTEX_SHADER
in vec2 in_pos;
in vec2 in_uv;
out vec2 v_uv;
void main() { gl_Position = vec4(in_pos, 0.0, 1.0); v_uv = in_uv; }
#else
uniform sampler2D u_text;
in vec2 v_uv;
out vec4 f_colour;
void main() { f_colour = texture(u_text, v_uv); }
#endif
"""


class Overlay:
    """Lines of text in the top-left corner: rendered with pygame.font into a texture, drawn as one
    alpha-blended quad. The texture is rebuilt only when the text changes."""

    def __init__(self, ctx: Any, size: int = 18) -> None:
        self.ctx = ctx
        self.size = size
        self.prog = ctx.program(vertex_shader=_OVERLAY_SHADER.replace("#version 330", "#version 330\n#define VERTEX_SHADER", 1),
                                fragment_shader=_OVERLAY_SHADER)
        self.vbo = ctx.buffer(reserve=4 * 4 * 4)
        self.vao = ctx.vertex_array(self.prog, [(self.vbo, "2f 2f", "in_pos", "in_uv")])
        self.tex: Any = None
        self.text: list[str] = []
        self._font: Any = None

    def _render_text(self, lines: list[str]) -> None:
        from engine.input import hide_pygame_banner

        hide_pygame_banner()
        import pygame

        if self._font is None:
            if not pygame.font.get_init():
                pygame.font.init()
            self._font = pygame.font.Font(None, self.size)
        surfs = [self._font.render(s, True, (255, 255, 255)) for s in lines]
        w = max(s.get_width() for s in surfs) + 12
        h = sum(s.get_height() for s in surfs) + 8
        canvas = pygame.Surface((w, h), pygame.SRCALPHA)
        canvas.fill((0, 0, 0, 140))
        y = 4
        for s in surfs:
            canvas.blit(s, (6, y))
            y += s.get_height()
        data = pygame.image.tobytes(canvas, "RGBA", True)  # flipped: GL rows go bottom-up
        if self.tex is not None:
            self.tex.release()
        self.tex = self.ctx.texture((w, h), 4, data)
        self.tex.filter = (self.ctx.NEAREST, self.ctx.NEAREST)

    def draw(self, frame: Any, lines: list[str]) -> None:
        """Draw ``lines`` over ``frame``'s colour target (nothing when there are none)."""
        if not lines:
            return
        if lines != self.text or self.tex is None:
            self._render_text(lines)
            self.text = list(lines)
        fw, fh = frame.size
        w, h = self.tex.size
        x0, y1 = -1.0 + 16.0 / fw, 1.0 - 16.0 / fh
        x1, y0 = x0 + 2.0 * w / fw, y1 - 2.0 * h / fh
        quad = np.array([[x0, y0, 0, 0], [x1, y0, 1, 0], [x0, y1, 0, 1], [x1, y1, 1, 1]], np.float32)
        self.vbo.write(quad.tobytes())
        frame.fbo.use()
        ctx = self.ctx
        ctx.disable(ctx.DEPTH_TEST)
        ctx.enable(ctx.BLEND)
        ctx.blend_func = ctx.SRC_ALPHA, ctx.ONE_MINUS_SRC_ALPHA
        self.tex.use(0)
        self.prog["u_text"].value = 0
        self.vao.render(self.ctx.TRIANGLE_STRIP)
        ctx.disable(ctx.BLEND)

    def composite(self, texture: Any, frame: Any) -> None:
        """Draw a premultiplied RGBA ``texture`` over the whole of ``frame`` (upscaled, linear)."""
        quad = np.array([[-1, -1, 0, 0], [1, -1, 1, 0], [-1, 1, 0, 1], [1, 1, 1, 1]], np.float32)
        self.vbo.write(quad.tobytes())
        frame.fbo.use()
        ctx = self.ctx
        ctx.disable(ctx.DEPTH_TEST)
        ctx.enable(ctx.BLEND)
        ctx.blend_func = ctx.ONE, ctx.ONE_MINUS_SRC_ALPHA
        texture.use(0)
        self.prog["u_text"].value = 0
        self.vao.render(ctx.TRIANGLE_STRIP)
        ctx.disable(ctx.BLEND)

    def release(self) -> None:
        """Free GPU resources."""
        for o in (self.vao, self.vbo, self.prog, self.tex):
            if o is not None:
                o.release()
