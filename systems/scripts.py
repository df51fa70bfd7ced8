"""Scripts stage: per-tick callbacks, entity scripts, and the player's input → desired motion."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.components import Player, Transform, quat_from_yaw_pitch
from engine.registry import component_type


class ScriptSystem:
    """Runs game code first in the tick, so physics sees this tick's intentions."""

    name = "scripts"

    def attach(self, game: Any) -> None:
        self.game = game

    def tick(self, game: Any, dt: float) -> None:
        self.drive_players(game, dt)
        game.run_tick_callbacks(dt)

    @staticmethod
    def drive_players(game: Any, dt: float) -> None:
        """Turn move/look axes into ``Player.move`` (m/s) and yaw/pitch; integrate when no physics controller."""
        inp = game.input
        cc = component_type("CharacterController")  # physics moves players that have one
        for e, (p, t) in game.world.query(Player, Transform):
            p.yaw = (p.yaw - inp.axis("look_x") * p.look_speed) % 360.0
            p.pitch = max(-89.0, min(89.0, p.pitch + inp.axis("look_y") * p.look_speed))
            yaw = math.radians(p.yaw)
            fwd = np.array([math.sin(yaw), 0.0, math.cos(yaw)])
            right = np.array([-math.cos(yaw), 0.0, math.sin(yaw)])
            speed = p.speed * (1.8 if inp.held("sprint") else 1.0)
            mx, mz = inp.axis("move_x"), inp.axis("move_z")
            n = math.hypot(mx, mz)
            if n > 1.0:
                mx, mz = mx / n, mz / n
            p.move = (fwd * mz + right * mx) * speed
            t.rot = quat_from_yaw_pitch(p.yaw)
            if cc is None or not game.world.has(e, cc):
                if mx or mz:
                    t.pos += p.move * dt
