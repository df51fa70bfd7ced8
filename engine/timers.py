"""`Timers`: callbacks scheduled in whole ticks (``game.after`` / ``game.every``), fired by the rules stage.

Timers count ticks, not wall time, so replays and loaded saves fire them on exactly the same tick.
A timer is saved as (id, due tick, period, callback name); the name is the function's qualified
name, looked up again in the running game on load — so timers that must survive a save in a new
process should call named functions, not closures created at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Timer:
    """A scheduled callback ``fn(game)``: due at tick ``due``; repeats every ``period`` ticks if > 0."""

    id: int
    due: int
    period: int
    fn: Callable[[Any], Any]
    name: str
    alive: bool = True


class Timers:
    """The game's timers and the callback names they are saved under."""

    def __init__(self) -> None:
        self.items: list[Timer] = []
        self.next_id = 0
        self.callbacks: dict[str, Callable[..., Any]] = {}
        self.setup_names: set[str] = set()  # timers made while the script set up (tick 0)

    def remember(self, fn: Callable[..., Any]) -> str:
        """The name ``fn`` is saved under (the latest function of a name wins)."""
        name = getattr(fn, "__qualname__", repr(fn))
        self.callbacks[name] = fn
        return name

    def schedule(self, now: int, ticks: int, fn: Callable[[Any], Any], repeat: bool, reloading: bool = False) -> Timer:
        """A timer due ``ticks`` after tick ``now``. On a hot reload an existing timer of the same
        name gets the new function instead, and a setup timer that already fired is not re-made."""
        name = self.remember(fn)
        if reloading:
            for t in self.items:
                if t.name == name:
                    t.fn = fn
                    return t
            if name in self.setup_names:
                return Timer(-1, 0, 0, fn, name, alive=False)
        self.next_id += 1
        t = Timer(self.next_id, now + ticks, ticks if repeat else 0, fn, name)
        self.items.append(t)
        if now == 0:
            self.setup_names.add(name)
        return t

    def run_due(self, now: int, game: Any) -> None:
        """Fire timers due at or before tick ``now`` in (due, id) order; repeat or drop them."""
        due = sorted((t for t in self.items if t.alive and t.due <= now), key=lambda t: (t.due, t.id))
        for t in due:
            if not t.alive:
                continue
            if t.period:
                t.due += t.period
            else:
                t.alive = False
            t.fn(game)
        self.items = [t for t in self.items if t.alive]

    def __len__(self) -> int:
        return sum(1 for t in self.items if t.alive)

    def save_state(self) -> tuple[list[list[Any]], int]:
        """([[id, due, period, name], ...], next id)."""
        return [[t.id, t.due, t.period, t.name] for t in self.items if t.alive], self.next_id
