"""The game window: pygame + an OpenGL 3.3 core context, the fixed-step loop and live reload.

Keys the window keeps for itself: Esc quits, F5 reloads the game script (also done automatically
when the file changes), F6 pauses, F7 single-steps while paused, F8/F9 halve/double the time
scale, F12 saves a screenshot. Everything else goes to the game's input actions.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from engine.errors import AnchorworldError
from engine.input import EMPTY, RawInput, Recording, hide_pygame_banner


class WindowUnavailable(AnchorworldError):
    """No window could be opened (no display server, no OpenGL 3.3); callers may fall back to headless."""


def open_window(size: tuple[int, int], title: str = "Anchorworld") -> tuple[Any, Any]:
    """Open a pygame window with an OpenGL 3.3 core context; returns (pygame module, moderngl context)."""
    hide_pygame_banner()
    import moderngl
    import pygame

    pygame.display.init()  # not pygame.init(): no audio device needed
    driver = pygame.display.get_driver()
    if driver in ("offscreen", "dummy"):  # SDL found no display server and fell back to an invisible one
        pygame.quit()
        raise WindowUnavailable(f"no display server could be reached (SDL video driver {driver!r})")
    pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MAJOR_VERSION, 3)
    pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MINOR_VERSION, 3)
    pygame.display.gl_set_attribute(pygame.GL_CONTEXT_PROFILE_MASK, pygame.GL_CONTEXT_PROFILE_CORE)
    pygame.display.gl_set_attribute(pygame.GL_DEPTH_SIZE, 24)
    try:
        pygame.display.set_mode(size, pygame.OPENGL | pygame.DOUBLEBUF)
    except pygame.error as exc:
        pygame.quit()
        raise WindowUnavailable(f"could not open a {size[0]}x{size[1]} OpenGL 3.3 window ({exc})") from exc
    pygame.display.set_caption(title)
    try:
        ctx = moderngl.create_context(require=330)
    except Exception as exc:
        pygame.quit()
        raise WindowUnavailable(f"the window has no OpenGL 3.3 core context ({exc})") from exc
    return pygame, ctx


_BLIT_VS = """#version 330 core
out vec2 v_uv;
void main() {
    vec2 p = vec2(float((gl_VertexID & 1) << 2) - 1.0, float((gl_VertexID & 2) << 1) - 1.0);
    v_uv = p * 0.5 + 0.5;
    gl_Position = vec4(p, 0.0, 1.0);
}
"""
_BLIT_FS = """#version 330 core
uniform sampler2D u_tex;
in vec2 v_uv;
out vec4 f_col;
void main() { f_col = vec4(texture(u_tex, v_uv).rgb, 1.0); }
"""


class ScreenBlit:
    """Draws a colour texture over the whole window (one oversized triangle).

    Used instead of glBlitFramebuffer, which drivers refuse when the window's default framebuffer
    format differs from the offscreen target's.
    """

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.prog = ctx.program(vertex_shader=_BLIT_VS, fragment_shader=_BLIT_FS)
        self.vao = ctx.vertex_array(self.prog, [])

    def draw(self, texture: Any) -> None:
        import moderngl

        ctx = self.ctx
        ctx.screen.use()
        ctx.viewport = (0, 0, *ctx.screen.size)
        ctx.disable(moderngl.DEPTH_TEST | moderngl.BLEND)
        texture.use(0)
        self.prog["u_tex"].value = 0
        self.vao.render(moderngl.TRIANGLES, vertices=3)


def _key_name(pygame: Any, key: int) -> str:
    return "key:" + pygame.key.name(key)


class _Devices:
    """Turns pygame events into the held-source set the input mapping reads."""

    def __init__(self, pygame: Any) -> None:
        self.pg = pygame
        self.held: set[str] = set()
        self.dx = self.dy = 0.0
        self.pads: list[Any] = []
        pygame.joystick.init()
        for i in range(pygame.joystick.get_count()):
            j = pygame.joystick.Joystick(i)
            j.init()
            self.pads.append(j)

    def event(self, ev: Any) -> None:
        pg = self.pg
        if ev.type == pg.KEYDOWN:
            self.held.add(_key_name(pg, ev.key))
        elif ev.type == pg.KEYUP:
            self.held.discard(_key_name(pg, ev.key))
        elif ev.type == pg.MOUSEBUTTONDOWN:
            self.held.add(f"mouse:{ev.button}")
        elif ev.type == pg.MOUSEBUTTONUP:
            self.held.discard(f"mouse:{ev.button}")
        elif ev.type == pg.MOUSEMOTION and pg.event.get_grab():
            self.dx += ev.rel[0]
            self.dy += ev.rel[1]
        elif ev.type == pg.JOYBUTTONDOWN:
            self.held.add(f"pad:{ev.button}")
        elif ev.type == pg.JOYBUTTONUP:
            self.held.discard(f"pad:{ev.button}")

    def take(self) -> RawInput:
        axes: dict[int, float] = {}
        for j in self.pads:
            for a in range(j.get_numaxes()):
                axes[a] = axes.get(a, 0.0) + float(j.get_axis(a))
        raw = RawInput(set(self.held), self.dx, self.dy, axes)
        self.dx = self.dy = 0.0
        return raw


def run_window(game: Any, size: tuple[int, int] = (1280, 720), max_ticks: int | None = None,
               replay: Recording | None = None, recorder: Recording | None = None, max_frames: int | None = None,
               screenshot: str | Path | None = None) -> int:
    """Play ``game`` in a window until closed (or ``max_ticks`` ticks / ``max_frames`` frames); returns frames drawn.

    ``screenshot``: write the final frame (rendered with the window's own context) to this PNG.
    """
    from engine.presenter import Presenter

    pygame, ctx = open_window(size, f"Anchorworld — {game.name}")
    presenter = Presenter(game, ctx, size)
    blit = ScreenBlit(ctx)
    devices = _Devices(pygame)
    script = game.script_path
    mtime = script.stat().st_mtime if script and script.exists() else None
    last_check = time.perf_counter()
    grabbed = False
    frames = ticks = 0
    last = time.perf_counter()
    fps = 0.0
    status = ""
    try:
        while not game.quit_requested:
            for ev in pygame.event.get():
                if ev.type == pygame.QUIT:
                    game.quit()
                elif ev.type == pygame.KEYDOWN and ev.key == pygame.K_ESCAPE:
                    if grabbed:
                        grabbed = False
                        pygame.event.set_grab(False)
                        pygame.mouse.set_visible(True)
                    else:
                        game.quit()
                elif ev.type == pygame.KEYDOWN and ev.key == pygame.K_F5:
                    status = game.reload() or "reloaded"
                elif ev.type == pygame.KEYDOWN and ev.key == pygame.K_F6:
                    game.clock.pause()
                elif ev.type == pygame.KEYDOWN and ev.key == pygame.K_F7:
                    game.clock.step()
                elif ev.type == pygame.KEYDOWN and ev.key in (pygame.K_F8, pygame.K_F9):
                    game.clock.time_scale *= 0.5 if ev.key == pygame.K_F8 else 2.0
                elif ev.type == pygame.KEYDOWN and ev.key == pygame.K_F12:
                    out = Path(f"anchorworld-{game.name}-{game.tick_count}.png")
                    presenter.frame.screenshot(out)
                    status = f"wrote {out}"
                elif ev.type == pygame.MOUSEBUTTONDOWN and not grabbed:
                    grabbed = True
                    pygame.event.set_grab(True)
                    pygame.mouse.set_visible(False)
                else:
                    devices.event(ev)
            now = time.perf_counter()
            if script is not None and now - last_check > 0.5:
                last_check = now
                try:
                    m = script.stat().st_mtime
                except OSError:
                    m = mtime
                if m != mtime:
                    mtime = m
                    status = game.reload() or "reloaded (file changed)"
            n = game.clock.advance(now - last)
            fps = 0.9 * fps + 0.1 / max(now - last, 1e-6)
            last = now
            raw = devices.take()
            for _ in range(n):
                if max_ticks is not None and ticks >= max_ticks:
                    game.quit()
                    break
                if replay is not None:
                    state = replay.ticks[ticks] if ticks < len(replay.ticks) else EMPTY
                else:
                    state = game.input.sample(raw)
                    raw.mouse_dx = raw.mouse_dy = 0.0  # look deltas count once per frame
                if recorder is not None:
                    recorder.ticks.append(state)
                game.tick(state)
                ticks += 1
            presenter.render(game.clock.alpha)
            blit.draw(presenter.frame.colour)
            pygame.display.flip()
            frames += 1
            if frames % 30 == 0:
                paused = " (paused)" if game.clock.paused else ""
                pygame.display.set_caption(f"Anchorworld — {game.name} — tick {game.tick_count}{paused} — "
                                           f"{fps:.0f} fps {status}")
            if max_frames is not None and frames >= max_frames:
                break
        if screenshot is not None:
            presenter.render(1.0)
            presenter.frame.screenshot(screenshot)
    finally:
        presenter.close()
        pygame.quit()
    return frames
