"""Play in editor: run the edited level (its game script, from the player start) in a separate game
world; Stop drops that world, so the edited level is exactly as it was (the document is never
touched by play).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.errors import AnchorworldError, InputError
from tools.editor.document import Json

if TYPE_CHECKING:
    from tools.editor.app import EditorApp


def build_game(data: dict[str, Json], level_path: Path | None) -> Any:
    """A ``Game`` built from level data the way ``anchorworld run LEVEL`` builds it from the file."""
    from engine.game import Game
    from engine.levels import Level
    from engine.scripting import exec_script

    level = Level.from_data(data, str(level_path or "<editor>"))
    g = Game(seed=level.seed, name=level.name or "level")
    if level_path is not None:
        g.level_path = level_path.resolve()
    level.spawn_into(g.world)
    if level.player_start is not None:
        g.player(pos=level.player_start["pos"], yaw=level.player_start.get("yaw", 0.0))
    if level.script:
        base = level_path.parent if level_path is not None else Path.cwd()
        script = (base / level.script).resolve()
        if not script.exists():
            raise InputError(str(level_path or "<editor>"), "script", f"an existing game script ({script} is missing)")
        exec_script(script, game=g)
        g.script_path = script
    return g


def layout_of(game: Any) -> list[dict[str, Json]]:
    """Entity dicts (uid + Transform + Proxy) of every anchored entity with a proxy in ``game``."""
    from engine.components import Proxy, Transform

    out = []
    for e, (t, p) in game.world.query(Transform, Proxy):
        uid = game.world.uid(e)
        if uid is None:
            continue
        out.append(
            {
                "uid": uid,
                "components": {
                    "Transform": {"pos": t.pos.tolist(), "rot": t.rot.tolist(), "scale": t.scale.tolist()},
                    "Proxy": {
                        "shape": p.shape,
                        "half_extents": np.asarray(p.half_extents).tolist(),
                        "material": p.material,
                        "style_seed": int(p.style_seed),
                        "state": dict(p.state),
                    },
                },
            }
        )
    return out


class PlaySession:
    """A running game started from the editor's level."""

    def __init__(self, app: EditorApp, game: Any, before: bytes) -> None:
        self.app = app
        self.game = game
        self.before = before
        self.acc = 0.0
        self.held: set[str] = set()
        self.started = time.perf_counter()

    @classmethod
    def start(cls, app: EditorApp) -> PlaySession:
        """Validate the level and start a game from it."""
        try:
            game = build_game(app.doc.data, app.doc.path)
        except InputError:
            raise
        except Exception as exc:  # a game script's own error must not take the editor down
            raise AnchorworldError(f"the game script failed to start: {type(exc).__name__}: {exc}") from exc
        return cls(app, game, app.doc.to_bytes())

    def _raw(self) -> Any:
        import pygame

        from engine.input import RawInput

        held = set()
        if not self.app.io.want_capture_keyboard:
            pressed = pygame.key.get_pressed()
            for name in ("w", "a", "s", "d", "space", "left shift", "e", "q"):
                if pressed[pygame.key.key_code(name)]:
                    held.add(f"key:{name}")
        return RawInput(held, 0.0, 0.0, {})

    def tick(self, dt: float) -> None:
        """Advance the game by wall time ``dt`` in fixed ticks (at most 5 per frame)."""
        g = self.game
        step = 1.0 / g.clock.tick_rate
        self.acc = min(self.acc + dt, 5 * step)
        while self.acc >= step:
            self.acc -= step
            try:
                g.tick(g.input.sample(self._raw()))
            except Exception as exc:  # noqa: BLE001 - show script errors, keep editing
                self.app.notify(f"game error: {type(exc).__name__}: {exc}", error=True)
                self.app.toggle_play()
                return

    def entities(self) -> list[dict[str, Json]]:
        """What the viewport shows while playing."""
        return layout_of(self.game)

    def camera(self, width: int, height: int) -> Any:
        """The game's camera (the player's eyes), or the editor camera when the game has none."""
        from engine.render.camera import Camera

        view = getattr(self.game, "view", None)
        if view is None:
            return self.app.camera.camera(width, height)
        return Camera(view.eye, view.target, width, height, fov_y=view.fov_y, near=max(view.near, 0.01), far=view.far)

    def stop(self) -> None:
        """End play. The document was never edited by play; check it, to be sure."""
        if self.app.doc.to_bytes() != self.before:
            self.app.notify("note: the level was edited during play; edits are kept", error=False)
        self.game = None
