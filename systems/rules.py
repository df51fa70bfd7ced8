"""Rules stage: timers (``game.after``/``game.every``) fire here, after physics, before the layout."""

from __future__ import annotations

from typing import Any


class RulesSystem:
    """Fires due timers in a deterministic order."""

    name = "rules"

    def attach(self, game: Any) -> None:
        self.game = game

    def tick(self, game: Any, dt: float) -> None:
        game.run_timers()
