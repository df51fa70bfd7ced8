"""`Presenter`: shows a game — applies its LayoutDeltas to a FrameRenderer and draws its view.

The bridge between the engine (LayoutDeltas, ``game.view``) and the renderer (uids, shapes,
matrices); the renderer itself never sees the ECS. Transforms that moved in the last tick are
interpolated with the clock's alpha (position and scale lerp, rotation nlerp), so motion is smooth
at any display rate. Moves are handled as arrays: the delta's ``moved.rows`` go into a (N, 10) table
of current rows (one slot per uid), and the interpolation and the quaternion → matrix conversion of
the K moving anchors are one numpy pass each (``engine.layout.transform_matrices``); only the
renderer's per-uid ``xform`` call is left per anchor. ``presenter_hooks`` let other features add passes (the splat pass) to every
presenter: ``hook(presenter)`` is called once after it is built.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import compress, repeat
from pathlib import Path
from typing import Any

import numpy as np

from engine.layout import LayoutDelta, full_layout, transform_matrices

presenter_hooks: list[Callable[[Presenter], None]] = []


def _row(t: Any) -> np.ndarray:
    return np.concatenate([t.pos, t.rot, t.scale])


def interpolate_rows(prev: np.ndarray, cur: np.ndarray, alpha: float) -> np.ndarray:
    """(K, 10) rows ``alpha`` of the way from ``prev`` (K, 10) to ``cur`` (K, 10): position and scale
    lerp, rotation nlerp the short way round. :func:`interpolate_rows_reference` is the plain twin."""
    row = prev + (cur - prev) * alpha
    p, c = prev[:, 3:7], cur[:, 3:7]
    flip = np.einsum("ij,ij->i", p, c) < 0  # shortest way round
    if flip.any():
        row[flip, 3:7] = p[flip] + (-c[flip] - p[flip]) * alpha
    q = row[:, 3:7]
    q /= np.maximum(np.sqrt(np.einsum("ij,ij->i", q, q)), 1e-12)[:, None]
    return row


def interpolate_rows_reference(prev: np.ndarray, cur: np.ndarray, alpha: float) -> np.ndarray:
    """Plain twin of :func:`interpolate_rows`: one row at a time."""
    out = []
    for p, c in zip(prev, cur, strict=True):
        row = p + (c - p) * alpha
        q = row[3:7]
        if np.dot(p[3:7], c[3:7]) < 0:
            q = p[3:7] + (-c[3:7] - p[3:7]) * alpha
        row[3:7] = q / max(np.linalg.norm(q), 1e-12)
        out.append(row)
    return np.array(out, np.float64).reshape(-1, 10)


class Presenter:
    """Keeps a FrameRenderer in sync with a game and renders its view."""

    def __init__(self, game: Any, ctx: Any, size: tuple[int, int]) -> None:
        from engine.render.frame import FrameRenderer  # moderngl only when something is drawn

        self.game = game
        self.ctx = ctx
        self.frame = FrameRenderer(ctx, size)
        self._slot: dict[str, int] = {}  # uid -> its row in ``_cur``
        self._cur = np.zeros((64, 10), np.float64)  # each shown uid's row at the last tick
        self._free: list[int] = []  # rows of removed uids, reused first
        self._n = 0  # rows handed out so far
        self.moving: set[str] = set()  # uids that moved in the last tick (interpolated by render)
        self._mv_uids: list[str] = []  # the same, in the order of the two arrays below
        self._mv_prev = self._mv_cur = np.zeros((0, 10), np.float64)  # (K, 10) rows a tick apart
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

    def _slot_for(self, uid: str) -> int:
        s = self._slot.get(uid)
        if s is None:
            if self._free:
                s = self._free.pop()
            else:
                s, self._n = self._n, self._n + 1
                if s == len(self._cur):
                    grown = np.zeros((2 * len(self._cur), 10), np.float64)
                    grown[:s] = self._cur
                    self._cur = grown
            self._slot[uid] = s
        return s

    def _xforms(self, uids: list[str], rows: np.ndarray) -> None:
        """Hand the renderer the matrices of ``rows`` (K, 10), one private (4, 4) per uid."""
        xform = self.frame.proxies.xform
        for uid, m in zip(uids, map(np.ndarray.copy, transform_matrices(rows)), strict=True):
            xform(uid, m)

    def apply(self, delta: LayoutDelta) -> None:
        """Apply one tick's layout delta to the proxy pass."""
        px = self.frame.proxies
        if self._mv_uids:  # last tick's movers settle at their tick transform
            self._xforms(self._mv_uids, self._mv_cur)
        self.moving, self._mv_uids = set(), []
        for uid in delta.removed:
            px.remove(uid)
            s = self._slot.pop(uid, None)
            if s is not None:
                self._free.append(s)
        for e in (*delta.spawned, *delta.restyled):
            p = e.proxy
            px.set_proxy(e.uid, p.shape, p.half_extents, p.material, p.state)
            s = self._slot_for(e.uid)  # may grow ``_cur``: take the slot first
            self._cur[s] = _row(e.transform)
            px.xform(e.uid, e.transform.matrix())
        moved = delta.moved  # always MovedRows: LayoutDelta converts lists on assignment
        if moved:
            uids, rows = moved.uids, moved.rows
            idx = np.fromiter(map(self._slot.get, uids, repeat(-1)), np.intp, len(uids))
            shown = idx >= 0  # moves of uids the presenter does not show are ignored
            if not shown.all():
                uids, rows, idx = list(compress(uids, shown.tolist())), rows[shown], idx[shown]
            self._mv_prev = self._cur[idx]
            self._cur[idx] = rows
            self._mv_cur = self._cur[idx]
            self._mv_uids = uids
            self.moving = set(uids)
        self.prev_view, self.view = self.view, self.game.view

    def render(self, alpha: float = 1.0) -> None:
        """Draw the game's view, interpolated ``alpha`` of the way from the previous tick."""
        a = float(min(max(alpha, 0.0), 1.0))
        if self._mv_uids:
            self._xforms(self._mv_uids, interpolate_rows(self._mv_prev, self._mv_cur, a))
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
