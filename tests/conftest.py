"""Shared fixtures: no ECS state leaks between tests (esper keeps its worlds in module globals)."""

from __future__ import annotations

import esper
import pytest


@pytest.fixture(autouse=True)
def _fresh_esper():
    """Each test starts in a clean default esper world; worlds a test created are deleted after it."""
    before = set(esper.list_worlds())
    esper.switch_world("default")
    esper.clear_database()
    esper.event_registry.clear()
    yield
    esper.switch_world("default")
    esper.clear_database()
    esper.event_registry.clear()
    for name in set(esper.list_worlds()) - before:
        if name != "default":
            esper.delete_world(name)
    from engine import game as game_mod

    game_mod._loading.update(active=False, games=[], reload=None, seed=None, path=None)
