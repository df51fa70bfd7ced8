"""Physics on rapier3d: the only package that imports ``rapier3d``.

Modules: ``adapter`` (the Rapier world keyed by entity ids, bulk pose reads), ``shapes``
(collider shapes from components and proxies), ``sync`` (ECS ↔ Rapier each tick), ``joints``,
``events`` (collision / trigger events), ``queries`` (ray/shape casts, overlaps, projections),
``api`` (``game.physics``), ``system`` (the ``physics`` tick stage with snapshot saves).
"""

from __future__ import annotations

from engine import game as _game
from systems.physics.api import Physics, prefab_physics
from systems.physics.events import CollisionEvent, TriggerEvent
from systems.physics.queries import Hit, Projection
from systems.physics.system import PhysicsSystem

if prefab_physics not in _game.prefab_hooks:
    _game.prefab_hooks.append(prefab_physics)

__all__ = ["PhysicsSystem", "Physics", "Hit", "Projection", "TriggerEvent", "CollisionEvent"]
