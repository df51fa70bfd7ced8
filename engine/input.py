"""Input: named actions and axes over keyboard, mouse and gamepad, with rebinding and replays.

Scripts read actions, never keys::

    if game.input.pressed("jump"): ...
    x = game.input.axis("move_x")          # -1..1

Sources are strings: ``"key:space"`` (a pygame key name), ``"mouse:1"`` (button), ``"pad:0"``
(gamepad button), ``"padaxis:1"`` / ``"padaxis:-1"`` (gamepad axis, sign = direction),
``"mouse:dx"`` / ``"mouse:dy"`` (relative motion, for look axes). The window turns pygame events
into a ``RawInput``; ``Input.sample`` maps it to an ``ActionState`` once per tick; the state is
what scripts see, what ``--record`` writes and what ``--replay`` feeds back, so a replay
reproduces the game tick for tick. This module never imports pygame.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack

from engine.errors import InputError

REPLAY_FORMAT = "anchorworld.replay"
REPLAY_VERSION = 1

DEFAULT_ACTIONS: dict[str, list[str]] = {
    "jump": ["key:space", "pad:0"],
    "interact": ["key:e", "mouse:1", "pad:2"],
    "sprint": ["key:left shift", "pad:4"],
    "fire": ["mouse:3", "key:f", "pad:1"],
}
DEFAULT_AXES: dict[str, dict[str, list[str]]] = {
    "move_x": {"neg": ["key:a", "key:left"], "pos": ["key:d", "key:right", "padaxis:0"]},
    "move_z": {"neg": ["key:s", "key:down", "padaxis:1"], "pos": ["key:w", "key:up"]},
    "look_x": {"neg": [], "pos": ["mouse:dx", "padaxis:2"]},
    "look_y": {"neg": ["mouse:dy", "padaxis:3"], "pos": []},
}


@dataclass
class RawInput:
    """One frame's raw device state: held sources, mouse motion (counts) and gamepad axes (-1..1)."""

    held: set[str] = field(default_factory=set)
    mouse_dx: float = 0.0
    mouse_dy: float = 0.0
    pad_axes: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionState:
    """The action/axis state of one tick (what scripts read and replays store)."""

    down: frozenset[str] = frozenset()
    axes: tuple[tuple[str, float], ...] = ()

    def axis(self, name: str) -> float:
        for k, v in self.axes:
            if k == name:
                return v
        return 0.0


EMPTY = ActionState()


class Input:
    """Action and axis bindings plus the current and previous tick's state."""

    def __init__(self) -> None:
        self.actions: dict[str, list[str]] = {k: list(v) for k, v in DEFAULT_ACTIONS.items()}
        self.axes: dict[str, dict[str, list[str]]] = {k: {s: list(x) for s, x in v.items()} for k, v in DEFAULT_AXES.items()}
        self.current = EMPTY
        self.previous = EMPTY
        self.deadzone = 0.15

    # -------------------------------------------------------------- bindings

    def bind(self, action: str, *sources: str) -> None:
        """Bind an action to sources, replacing its old binding (rebinding)."""
        for s in sources:
            _check_source(s)
        self.actions[action] = list(sources)

    def bind_axis(self, axis: str, neg: list[str] | tuple[str, ...] = (), pos: list[str] | tuple[str, ...] = ()) -> None:
        """Bind an axis: ``neg`` sources push it to -1, ``pos`` to +1 (analogue sources add their value)."""
        for s in (*neg, *pos):
            _check_source(s)
        self.axes[axis] = {"neg": list(neg), "pos": list(pos)}

    def bindings(self) -> dict[str, Any]:
        """All bindings as plain data (for a settings file)."""
        return {"actions": {k: list(v) for k, v in self.actions.items()}, "axes": {k: dict(v) for k, v in self.axes.items()}}

    # -------------------------------------------------------------- sampling

    def _value(self, source: str, raw: RawInput) -> float:
        if source == "mouse:dx":
            return raw.mouse_dx
        if source == "mouse:dy":
            return raw.mouse_dy
        if source.startswith("padaxis:"):
            v = raw.pad_axes.get(int(source.split(":", 1)[1]), 0.0)
            return v if abs(v) > self.deadzone else 0.0
        return 1.0 if source in raw.held else 0.0

    def sample(self, raw: RawInput) -> ActionState:
        """Map raw device input to this tick's ``ActionState``."""
        down = frozenset(a for a, srcs in self.actions.items() if any(s in raw.held for s in srcs))
        axes = []
        for name in sorted(self.axes):
            b = self.axes[name]
            v = sum(self._value(s, raw) for s in b.get("pos", ())) - sum(self._value(s, raw) for s in b.get("neg", ()))
            if not name.startswith("look"):
                v = max(-1.0, min(1.0, v))
            if v:
                axes.append((name, float(v)))
        return ActionState(down, tuple(axes))

    def begin_tick(self, state: ActionState) -> None:
        """Make ``state`` current (the old one becomes ``previous`` for edge detection)."""
        self.previous, self.current = self.current, state

    # -------------------------------------------------------------- script API

    def held(self, action: str) -> bool:
        """Whether the action is down this tick."""
        return action in self.current.down

    def pressed(self, action: str) -> bool:
        """Whether the action went down this tick."""
        return action in self.current.down and action not in self.previous.down

    def released(self, action: str) -> bool:
        """Whether the action went up this tick."""
        return action not in self.current.down and action in self.previous.down

    def axis(self, name: str) -> float:
        """The axis value this tick (move axes in [-1, 1]; look axes in mouse counts)."""
        return self.current.axis(name)

    # -------------------------------------------------------------- save state

    def save_state(self) -> dict[str, Any]:
        return {"current": encode_state(self.current), "previous": encode_state(self.previous)}

    def load_state(self, data: dict[str, Any], source: str = "<save>") -> None:
        self.current = decode_state(data.get("current"), source, "input.current")
        self.previous = decode_state(data.get("previous"), source, "input.previous")


def _check_source(s: str) -> None:
    kind = s.split(":", 1)[0]
    if ":" not in s or kind not in ("key", "mouse", "pad", "padaxis"):
        raise ValueError(f"input source {s!r}: expected key:NAME, mouse:N, mouse:dx, mouse:dy, pad:N or padaxis:N")


def encode_state(s: ActionState) -> list[Any]:
    """Plain data for one tick: [sorted action names, [[axis, value], ...]]."""
    return [sorted(s.down), [[k, v] for k, v in s.axes]]


def decode_state(d: Any, source: str, path: str) -> ActionState:
    """Inverse of ``encode_state``; raises ``InputError`` on bad data."""
    if not (isinstance(d, list | tuple) and len(d) == 2 and isinstance(d[0], list | tuple) and isinstance(d[1], list | tuple)):
        raise InputError(source, path, "[actions, axes]")
    for i, a in enumerate(d[0]):
        if not isinstance(a, str):
            raise InputError(source, f"{path}[0][{i}]", f"an action name, got {a!r}")
    axes = []
    for i, kv in enumerate(d[1]):
        if not (isinstance(kv, list | tuple) and len(kv) == 2 and isinstance(kv[0], str)
                and isinstance(kv[1], int | float) and not isinstance(kv[1], bool) and math.isfinite(kv[1])):
            raise InputError(source, f"{path}[1][{i}]", "[axis name, finite number]")
        axes.append((kv[0], float(kv[1])))
    return ActionState(frozenset(d[0]), tuple(axes))


@dataclass
class Recording:
    """Per-tick action states of a run: written by ``--record``, fed back by ``--replay``."""

    ticks: list[ActionState] = field(default_factory=list)
    seed: int = 0
    tick_rate: float = 60.0
    game: str = ""

    def to_bytes(self) -> bytes:
        return msgpack.packb(
            {"format": REPLAY_FORMAT, "version": REPLAY_VERSION, "seed": self.seed, "tick_rate": self.tick_rate,
             "game": self.game, "ticks": [encode_state(s) for s in self.ticks]},
            use_bin_type=True,
        )

    def save(self, path: str | Path) -> None:
        """Write atomically (temp file, fsync, rename)."""
        from engine.files import atomic_write

        atomic_write(path, self.to_bytes())

    @classmethod
    def load(cls, path: str | Path) -> Recording:
        """Read and validate a replay file; ``InputError`` on anything wrong."""
        from engine.files import read_input

        return cls.from_bytes(read_input(path, "replay file"), str(path))

    @classmethod
    def from_bytes(cls, raw: bytes, source: str = "<replay>") -> Recording:
        try:
            d = msgpack.unpackb(raw, raw=False, strict_map_key=True)
        except (ValueError, TypeError, OverflowError, RecursionError, msgpack.UnpackException) as exc:  # corrupt input
            raise InputError(source, "", f"a msgpack replay file ({type(exc).__name__}: {exc})") from None
        if not isinstance(d, dict) or d.get("format") != REPLAY_FORMAT:
            raise InputError(source, "format", f"{REPLAY_FORMAT!r}")
        if d.get("version") != REPLAY_VERSION:
            raise InputError(source, "version", f"{REPLAY_VERSION}, got {d.get('version')!r}")
        seed, rate, game, ticks = d.get("seed"), d.get("tick_rate"), d.get("game", ""), d.get("ticks")
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise InputError(source, "seed", "an integer")
        if not isinstance(rate, int | float) or isinstance(rate, bool) or not (math.isfinite(rate) and rate > 0):
            raise InputError(source, "tick_rate", "a positive number")
        if not isinstance(game, str):
            raise InputError(source, "game", "a string")
        if not isinstance(ticks, list):
            raise InputError(source, "ticks", "a list of per-tick states")
        return cls([decode_state(t, source, f"ticks[{i}]") for i, t in enumerate(ticks)], seed, float(rate), game)


def hide_pygame_banner() -> None:
    """Silence pygame's import banner (call before importing pygame)."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
