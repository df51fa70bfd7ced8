"""Anchorworld engine core: ECS world, components, clock, input, levels, saves, Game API, CLI.

``from engine import Game`` is cheap: the name is resolved lazily (no torch or moderngl import).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.game import Game
    from engine.world import World

__all__ = ["Game", "World"]


def __getattr__(name: str) -> Any:
    if name == "Game":
        from engine.game import Game

        return Game
    if name == "World":
        from engine.world import World

        return World
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
