"""Camera stage: the active ``Camera`` entity (the player's eye, or any camera) → ``game.view``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.components import Camera, Player, Transform


def _rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    w, x, y, z = q
    u = np.array([x, y, z])
    return v + 2.0 * np.cross(u, np.cross(u, v) + w * v)


def view_of(game: Any) -> Any:
    """The view of the first active camera (by entity id), or a default overview."""
    from engine.game import View

    for e, (cam, t) in game.world.query(Camera, Transform):
        if not cam.active:
            continue
        p = game.world.try_get(e, Player)
        if p is not None:
            eye = t.pos + np.array([0.0, p.eye_height, 0.0])
            yaw, pitch = math.radians(p.yaw), math.radians(p.pitch)
            fwd = np.array([math.sin(yaw) * math.cos(pitch), math.sin(pitch), math.cos(yaw) * math.cos(pitch)])
        else:
            eye = t.pos.copy()
            fwd = _rotate(t.rot, np.array([0.0, 0.0, 1.0]))
        return View(eye, eye + fwd, cam.fov_y, cam.near, cam.far)
    return View(np.array([0.0, 6.0, -10.0]), np.array([0.0, 0.0, 2.0]))


class CameraSystem:
    """Sets ``game.view`` at the end of every tick."""

    name = "camera"

    def attach(self, game: Any) -> None:
        game.view = view_of(game)

    def tick(self, game: Any, dt: float) -> None:
        game.view = view_of(game)
