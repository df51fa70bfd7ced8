"""`Game`: the authoring API. A game script is a few lines::

    from engine import Game

    game = Game(seed=1)
    game.ground()
    crate = game.box(pos=(0, 0.5, 3), material="wood_planks")
    game.player(pos=(0, 0, 0))

    @game.every_tick
    def spin(g, dt):
        g.rotate(crate, yaw=90 * dt)

    game.run()

``anchorworld run script.py`` executes the script, takes its module-level ``game`` and runs it with
the command-line options (``game.run()`` is then a no-op); ``python script.py`` runs it directly.

Hot reload (F5, or saving the file while it runs) executes the script again against the *same*
game: ``Game(...)`` returns the running game, spawns whose uid already exists return the existing
entity (auto uids such as ``box-3`` repeat in script order), and per-tick callbacks, event handlers,
timers' functions and scripts are replaced by the new code. The world state is kept.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from engine.clock import Clock
from engine.components import (
    Anchor,
    Camera,
    Name,
    Player,
    Proxy,
    Script,
    Tags,
    Transform,
    quat_from_yaw_pitch,
    quat_mul,
)
from engine.input import EMPTY, ActionState, Input
from engine.layout import LayoutDelta
from engine.timers import Timer, Timers
from engine.world import World

C = TypeVar("C")
F = TypeVar("F", bound=Callable[..., Any])

# Hooks other features add to prefabs: fn(game, entity, kind, physics) — e.g. the physics feature
# gives ``physics="static"`` grounds a collider. ``kind`` is "ground", "box", "sphere", "shape", "player".
prefab_hooks: list[Callable[[Game, int, str, str | None], None]] = []

# Set while `anchorworld run` (or a hot reload) executes a game script.
_loading: dict[str, Any] = {"active": False, "games": [], "reload": None}


@dataclass
class View:
    """What the camera stage decided to show: eye, target (world, metres) and vertical FOV (degrees)."""

    eye: np.ndarray
    target: np.ndarray
    fov_y: float = 60.0
    near: float = 0.05
    far: float = 500.0


class Game:
    """A game: its world, clock, input, systems, timers, events and per-tick callbacks."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Game:
        target = _loading.get("reload")
        if target is not None and isinstance(target, cls):
            return target  # hot reload: the script re-binds to the running game
        return super().__new__(cls)

    def __init__(self, seed: int = 0, tick_rate: float = 60.0, name: str = "game", systems: list[str] | None = None) -> None:
        if getattr(self, "_initialised", False):
            return
        self._initialised = True
        if _loading["active"] and _loading.get("seed") is not None:
            seed = _loading["seed"]  # `anchorworld run --seed S` overrides the script's seed
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise TypeError(f"Game seed must be an integer, got {seed!r}")
        self.name = name
        self.seed = int(seed)
        self.world = World(name)
        self.clock = Clock(tick_rate)
        self.dt = self.clock.dt
        self.input = Input()
        self.tick_count = 0
        self.rng = np.random.Generator(np.random.PCG64(self.seed))
        self.vars: dict[str, Any] = {}  # plain data a script keeps across saves (hashed and saved)
        self.script_path: Path | None = _loading.get("path") if _loading["active"] else None
        self.level_path: Path | None = None
        self.view: View | None = None
        self.layout_delta = LayoutDelta(0)
        self.layout_listeners: list[Callable[[LayoutDelta], None]] = []
        self.quit_requested = False
        self._tick_fns: list[Callable[[Game, float], Any]] = []
        self._handlers: dict[str, list[Callable[..., Any]]] = {}
        self.timers = Timers()
        self._auto_uid: dict[str, int] = {}
        self._reloading = False
        from systems import build_systems

        self.systems = build_systems(systems)
        for s in self.systems:
            s.attach(self)
        if _loading["active"]:
            _loading["games"].append(self)

    # ------------------------------------------------------------------ spawning

    def _uid(self, kind: str, uid: str | None) -> str:
        if uid is not None:
            if not isinstance(uid, str) or not uid:
                raise ValueError(f"uid must be a non-empty string, got {uid!r}")
            return uid
        while True:
            n = self._auto_uid.get(kind, 0) + 1
            self._auto_uid[kind] = n
            cand = f"{kind}-{n}"
            if self._reloading or self.world.entity(cand) is None:
                return cand

    def spawn(self, *components: Any, uid: str | None = None, name: str | None = None,
              tags: list[str] | tuple[str, ...] = (), kind: str = "entity", **named: Any) -> int:
        """Create an entity with an Anchor uid (given or ``KIND-N``) and the given components.

        Components may be positional or named (``transform=Transform(...), proxy=Proxy(...)``; the
        keyword is only for readability). During a hot reload an existing uid returns the existing
        entity unchanged.
        """
        components = (*components, *named.values())
        uid = self._uid(kind, uid)
        existing = self.world.entity(uid)
        if existing is not None:
            if self._reloading:
                for c in components:
                    if isinstance(c, Script):
                        self.world.set(existing, c)
                return existing
            raise ValueError(f"uid {uid!r} is already used")
        comps = [Anchor(uid), *components]
        if name is not None:
            comps.append(Name(name))
        if tags:
            comps.append(Tags(list(tags)))
        return self.world.spawn(*comps)

    def shape(self, shape: str, pos: Any = (0, 0, 0), half_extents: Any = (0.5, 0.5, 0.5), material: str = "stone",
              *, yaw: float = 0.0, rot: Any = None, uid: str | None = None, name: str | None = None,
              tags: list[str] | tuple[str, ...] = (), state: dict[str, float] | None = None,
              physics: str | None = None, style_seed: int | None = None, kind: str | None = None,
              components: tuple[Any, ...] = ()) -> int:
        """Spawn a proxy of any shape (box, sphere, cylinder, capsule, plane, ramp) at ``pos``."""
        kind = kind or shape
        uid = self._uid(kind, uid)
        if self._reloading and self.world.entity(uid) is not None:
            return self.world.entity(uid)  # type: ignore[return-value]
        q = np.asarray(rot, np.float64) if rot is not None else quat_from_yaw_pitch(yaw)
        from worldmodel.spec import stable_seed

        seed = stable_seed(self.seed, uid) if style_seed is None else style_seed
        e = self.spawn(Transform(pos, q), Proxy(shape, half_extents, material, seed, dict(state or {})), *components,
                       uid=uid, name=name, tags=tags, kind=kind)
        for hook in prefab_hooks:
            hook(self, e, kind, physics)
        return e

    def ground(self, size: float = 40.0, material: str = "grass", *, uid: str = "ground", physics: str | None = "static") -> int:
        """A flat square of ``size`` metres at y = 0."""
        return self.shape("plane", (0, 0, 0), (size / 2, 0.05, size / 2), material, uid=uid, physics=physics, kind="ground")

    def box(self, pos: Any = (0, 0.5, 0), half_extents: Any = (0.5, 0.5, 0.5), material: str = "wood_planks", **kw: Any) -> int:
        """A box proxy (a crate by default); keywords as in ``shape``."""
        return self.shape("box", pos, half_extents, material, **kw)

    def sphere(self, pos: Any = (0, 0.5, 0), radius: float = 0.5, material: str = "stone", **kw: Any) -> int:
        """A sphere proxy of ``radius`` metres."""
        return self.shape("sphere", pos, (radius, radius, radius), material, **kw)

    def player(self, pos: Any = (0, 0, 0), yaw: float = 0.0, *, uid: str = "player", speed: float = 4.0,
               physics: str | None = "character") -> int:
        """The first-person player with the camera (WASD/arrows/gamepad to move, mouse to look)."""
        if self._reloading and self.world.entity(uid) is not None:
            return self.world.entity(uid)  # type: ignore[return-value]
        e = self.spawn(Transform(pos, quat_from_yaw_pitch(yaw)), Player(speed=speed, yaw=yaw), Camera(), uid=uid, kind="player")
        for hook in prefab_hooks:
            hook(self, e, "player", physics)
        return e

    def despawn(self, entity: int) -> None:
        """Remove an entity from the game."""
        self.world.despawn(entity)

    # ------------------------------------------------------------------ queries and writes

    def find(self, uid: str) -> int | None:
        """The entity with this anchor uid, or None."""
        return self.world.entity(uid)

    def query(self, *ctypes: type) -> list[tuple[int, tuple[Any, ...]]]:
        """``[(entity, (c1, ...))]`` for entities having all ``ctypes``, in entity order."""
        return self.world.query(*ctypes)

    def tagged(self, tag: str) -> list[int]:
        """Entities carrying ``tag``."""
        return [e for e, (t,) in self.world.query(Tags) if tag in t.values]

    def get(self, entity: int, ctype: type[C]) -> C:
        """A component of an entity."""
        return self.world.get(entity, ctype)

    def set(self, entity: int, component: Any) -> None:
        """Add or replace a component (seen by the change tracking)."""
        self.world.set(entity, component)

    def touch(self, entity: int, ctype: type) -> None:
        """Mark a component changed after mutating it in place."""
        self.world.touch(entity, ctype)

    def move(self, entity: int, pos: Any = None, *, by: Any = None) -> None:
        """Set an entity's position, or move it ``by`` a vector."""
        t = self.world.get(entity, Transform)
        if pos is not None:
            t.pos = pos
        if by is not None:
            t.pos += np.asarray(by, np.float64)

    def rotate(self, entity: int, yaw: float = 0.0, pitch: float = 0.0) -> None:
        """Rotate an entity by ``yaw`` (about +Y) and ``pitch`` degrees."""
        t = self.world.get(entity, Transform)
        q = quat_mul(quat_from_yaw_pitch(yaw, pitch), t.rot)
        t.rot = q / np.linalg.norm(q)

    def restyle(self, entity: int, *, material: str | None = None, shape: str | None = None,
                half_extents: Any = None, **state: float) -> None:
        """Change an entity's proxy (material, shape, size, appearance states such as ``wetness=0.3``)."""
        p = self.world.get(entity, Proxy)
        new = Proxy(shape or p.shape, p.half_extents if half_extents is None else half_extents,
                    material or p.material, p.style_seed, {**p.state, **state})
        self.world.set(entity, new)

    # ------------------------------------------------------------------ callbacks, events, timers

    def every_tick(self, fn: F) -> F:
        """Decorator: call ``fn(game, dt)`` every tick (in the scripts stage, in registration order)."""
        self._tick_fns.append(fn)
        return fn

    def on(self, event: str) -> Callable[[F], F]:
        """Decorator: call ``fn(game, *args, **kw)`` when ``event`` is emitted (handlers are held strongly)."""

        def deco(fn: F) -> F:
            self._handlers.setdefault(event, []).append(fn)
            return fn

        return deco

    def emit(self, event: str, *args: Any, **kw: Any) -> None:
        """Call every handler of ``event`` now, in registration order."""
        for fn in list(self._handlers.get(event, ())):
            fn(self, *args, **kw)

    def _ticks(self, seconds: float) -> int:
        if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"timer seconds must be a finite number >= 0, got {seconds!r}")
        return max(1, round(seconds * self.clock.tick_rate))

    def _timer(self, seconds: float, fn: Callable[[Game], Any], repeat: bool) -> Timer:
        return self.timers.schedule(self.tick_count, self._ticks(seconds), fn, repeat, self._reloading)

    def after(self, seconds: float, fn: Callable[[Game], Any] | None = None) -> Any:
        """Call ``fn(game)`` once after ``seconds`` of game time (usable as a decorator)."""
        if fn is None:
            return lambda f: (self._timer(seconds, f, False), f)[1]
        return self._timer(seconds, fn, False)

    def every(self, seconds: float, fn: Callable[[Game], Any] | None = None) -> Any:
        """Call ``fn(game)`` every ``seconds`` of game time (usable as a decorator)."""
        if fn is None:
            return lambda f: (self._timer(seconds, f, True), f)[1]
        return self._timer(seconds, fn, True)

    def cancel(self, timer: Timer) -> None:
        """Stop a timer."""
        timer.alive = False

    def run_timers(self) -> None:
        """Fire due timers in (due tick, id) order (called by the rules stage)."""
        self.timers.run_due(self.tick_count, self)

    def run_tick_callbacks(self, dt: float) -> None:
        """Per-tick callbacks then entity scripts (called by the scripts stage)."""
        for fn in list(self._tick_fns):
            fn(self, dt)
        for e, (s,) in self.world.query(Script):
            if s.fn is not None and self.world.exists(e):
                s.fn(self, e, dt)

    # ------------------------------------------------------------------ the loop

    def tick(self, state: ActionState | None = None) -> LayoutDelta:
        """Advance the simulation by one fixed tick with this tick's input; returns the layout delta."""
        self.input.begin_tick(state if state is not None else EMPTY)
        self.tick_count += 1
        for s in self.systems:
            s.tick(self, self.dt)
        return self.layout_delta

    def publish_layout(self, delta: LayoutDelta) -> None:
        """Called by the layout stage: store the delta and hand it to systems and listeners."""
        self.layout_delta = delta
        for s in self.systems:
            hook = getattr(s, "on_layout", None)
            if hook is not None:
                hook(delta)
        for fn in list(self.layout_listeners):
            fn(delta)

    def system(self, name: str) -> Any:
        """The attached system called ``name`` (or None)."""
        for s in self.systems:
            if s.name == name:
                return s
        return None

    def quit(self) -> None:
        """Ask the window loop to stop after this tick."""
        self.quit_requested = True

    # ------------------------------------------------------------------ levels, saves, hash

    def load_level(self, path: str | Path) -> list[int]:
        """Spawn a level file's entities into this game (relative paths: next to the script)."""
        from engine.levels import Level

        p = Path(path)
        if not p.is_absolute() and self.script_path is not None and (self.script_path.parent / p).exists():
            p = self.script_path.parent / p  # relative to the game script first, then to the cwd
        level = Level.load(p)
        self.level_path = p
        return level.spawn_into(self.world, skip_existing=self._reloading)

    def save(self, path: str | Path) -> None:
        """Write the whole engine state to a save file (atomic)."""
        from engine.saves import save_game

        save_game(self, path)

    def load(self, path: str | Path) -> None:
        """Restore the whole engine state from a save file."""
        from engine.saves import load_game

        load_game(self, path)

    def state_hash(self) -> str:
        """A stable hex hash (blake2b) of the full engine state."""
        from engine.saves import state_hash

        return state_hash(self)

    # ------------------------------------------------------------------ running

    def run(self, argv: list[str] | None = None) -> int:
        """Run the game (window, or headless with ``--headless``); a no-op under ``anchorworld run``."""
        if _loading["active"] or self._reloading:
            return 0
        from engine.run_command import run_game

        main = sys.modules.get("__main__")
        if self.script_path is None and main is not None and getattr(main, "__file__", None):
            self.script_path = Path(main.__file__).resolve()
        code = run_game(self, sys.argv[1:] if argv is None else argv)
        if argv is None and code:
            raise SystemExit(code)
        return code

    def reload(self) -> str | None:
        """Re-execute the game script against this game, keeping the world; returns an error or None."""
        if self.script_path is None:
            return "no game script to reload"
        from engine.scripting import exec_script

        self._reloading = True
        old = (self._tick_fns, self._handlers, self._auto_uid)
        self._tick_fns, self._handlers, self._auto_uid = [], {}, {}
        _loading["reload"] = self
        try:
            exec_script(self.script_path, reload=True)
        except Exception as exc:  # keep running the old code on any script error
            self._tick_fns, self._handlers, self._auto_uid = old
            return f"reload failed: {type(exc).__name__}: {exc}"
        finally:
            _loading["reload"] = None
            self._reloading = False
        return None
