"""Layout stage: the change tracking. Publishes this tick's ``LayoutDelta`` (see ``engine.layout``)."""

from __future__ import annotations

from typing import Any

from engine.layout import LayoutTracker


class LayoutSystem:
    """Diffs the world against the last publish and hands the delta to the game."""

    name = "layout"

    def __init__(self) -> None:
        self.tracker = LayoutTracker()

    def attach(self, game: Any) -> None:
        self.game = game

    def tick(self, game: Any, dt: float) -> None:
        game.publish_layout(self.tracker.publish(game.world, game.tick_count))

    def load_state(self, state: Any) -> None:
        """After a load every anchor is published again as spawned (a keyframe)."""
        self.tracker.reset()
