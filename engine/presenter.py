"""`Presenter`: shows a game — applies its LayoutDeltas to a FrameRenderer and draws its view.

The bridge between the engine (LayoutDeltas, ``game.view``) and the renderer (uids, shapes,
matrices); the renderer itself never sees the ECS. Transforms that moved in the last tick are
interpolated with the clock's alpha (position and scale lerp, rotation nlerp), so motion is smooth
at any display rate. ``presenter_hooks`` let other features add passes (the splat pass) to every
presenter: ``hook(presenter)`` is called once after it is built.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from engine.components import transform_matrix
from engine.layout import LayoutDelta, full_layout

presenter_hooks: list[Callable[[Presenter], None]] = []


def _row(t: Any) -> np.ndarray:
    return np.concatenate([t.pos, t.rot, t.scale])


def _matrix(row: np.ndarray) -> np.ndarray:
    return transform_matrix(row[0:3], row[3:7], row[7:10])


class Presenter:
    """Keeps a FrameRenderer in sync with a game and renders its view."""

    def __init__(self, game: Any, ctx: Any, size: tuple[int, int]) -> None:
        from engine.render.frame import FrameRenderer  # moderngl only when something is drawn

        self.game = game
        self.ctx = ctx
        self.frame = FrameRenderer(ctx, size)
        self.prev: dict[str, np.ndarray] = {}
        self.cur: dict[str, np.ndarray] = {}
        self.moving: set[str] = set()
        self.prev_view = game.view
        self.view = game.view
        self.apply(full_layout(game.world, game.tick_count))
        game.layout_listeners.append(self.apply)
        for hook in presenter_hooks:
            hook(self)

    def close(self) -> None:
        """Stop listening to the game and free GPU resources."""
        if self.apply in self.game.layout_listeners:
            self.game.layout_listeners.remove(self.apply)
        self.frame.release()

    def apply(self, delta: LayoutDelta) -> None:
        """Apply one tick's layout delta to the proxy pass."""
        px = self.frame.proxies
        for uid in self.moving:
            self.prev[uid] = self.cur[uid]
            px.xform(uid, _matrix(self.cur[uid]))
        self.moving = set()
        for uid in delta.removed:
            px.remove(uid)
            self.prev.pop(uid, None)
            self.cur.pop(uid, None)
        for e in (*delta.spawned, *delta.restyled):
            p = e.proxy
            px.set_proxy(e.uid, p.shape, p.half_extents, p.material, p.state)
            self.prev[e.uid] = self.cur[e.uid] = _row(e.transform)
            px.xform(e.uid, e.transform.matrix())
        for uid, t in delta.moved:
            if uid in self.cur:
                self.prev[uid] = self.cur[uid]
                self.cur[uid] = _row(t)
                self.moving.add(uid)
        self.prev_view, self.view = self.view, self.game.view

    def render(self, alpha: float = 1.0) -> None:
        """Draw the game's view, interpolated ``alpha`` of the way from the previous tick."""
        px = self.frame.proxies
        a = float(min(max(alpha, 0.0), 1.0))
        for uid in self.moving:
            p, c = self.prev[uid], self.cur[uid]
            row = p + (c - p) * a
            q = row[3:7]
            if np.dot(p[3:7], c[3:7]) < 0:  # shortest way round
                q = p[3:7] + (-c[3:7] - p[3:7]) * a
            row[3:7] = q / max(np.linalg.norm(q), 1e-12)
            px.xform(uid, _matrix(row))
        v, pv = self.game.view, self.prev_view
        if v is None:
            from systems.camera import view_of

            v = pv = view_of(self.game)
        if pv is None or pv is v:
            eye, target = v.eye, v.target
        else:
            eye = pv.eye + (v.eye - pv.eye) * a
            target = pv.target + (v.target - pv.target) * a
        cam = self.frame.camera(eye, target, v.fov_y, v.near, v.far)
        self.camera = cam
        self.frame.render(cam)


def render_screenshot(game: Any, path: str | Path, size: tuple[int, int]) -> Path:
    """Render the game's current view headless (EGL) to a PNG."""
    from engine.render.context import best_headless_context

    ctx = best_headless_context()
    try:
        p = Presenter(game, ctx, size)
        p.render(1.0)
        out = p.frame.screenshot(path)
        p.close()
    finally:
        ctx.release()
    return out
