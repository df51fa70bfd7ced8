"""Loading games: execute a game script (or a level with its script) and find its ``Game``."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import InputError

if TYPE_CHECKING:
    from engine.game import Game


def exec_script(path: str | Path, reload: bool = False, game: Game | None = None, seed: int | None = None) -> Game | None:
    """Execute a game script; return the ``Game`` it made (module-level ``game`` or the last created).

    With ``game`` given (a level's script), the script's namespace is pre-bound with ``game`` and
    its ``setup(game)`` is called if defined.
    """
    from engine import game as game_mod

    p = Path(path).resolve()
    if not p.is_file():
        raise InputError(str(path), "", "an existing game script (.py) or level (.level.json)")
    state = game_mod._loading
    prev = state["active"], state["games"], state.get("seed"), state.get("path")
    state["active"], state["games"], state["seed"], state["path"] = True, [], seed, p
    if reload and game is None:
        game = state.get("reload")
    sys.path.insert(0, str(p.parent))
    init = {"game": game} if game is not None else {}
    try:
        ns = runpy.run_path(str(p), init_globals=init, run_name="__anchorworld_game__")
        made = state["games"]
    finally:
        sys.path.remove(str(p.parent))
        state["active"], state["games"], state["seed"], state["path"] = prev
    if game is not None:
        setup = ns.get("setup")
        if callable(setup):
            setup(game)
        return game
    g = ns.get("game")
    if not isinstance(g, game_mod.Game):
        g = made[-1] if made else None
    if g is None:
        raise InputError(str(path), "game", "a module-level `game = Game(...)` in the script")
    g.script_path = p
    return g


def load_game(path: str | Path, seed: int | None = None) -> Game:
    """A ready game from a ``.py`` script or a ``.level.json`` file (with its optional script)."""
    import engine.physics_components  # noqa: F401  (registers RigidBody, Collider, Joint, ... before a level is read)
    from engine.game import Game
    from engine.levels import Level

    p = Path(path)
    if p.name.endswith(".level.json"):
        level = Level.load(p)
        g = Game(seed=level.seed if seed is None else seed, name=level.name or p.stem)
        g.level_path = p.resolve()
        level.spawn_into(g.world)
        if level.player_start is not None and g.find("player") is None:
            g.player(pos=level.player_start["pos"], yaw=level.player_start.get("yaw", 0.0))
        if level.script:
            script = (p.parent / level.script).resolve()
            exec_script(script, game=g)
            g.script_path = script
        return g
    if p.suffix != ".py":
        raise InputError(str(path), "", "a game script (.py) or a level (.level.json)")
    g = exec_script(p, seed=seed)
    assert g is not None
    return g
