"""Physics on rapier3d: the only package that imports ``rapier3d``.

The ECS says what exists, Rapier says how it moves. Give an entity a ``RigidBody`` and/or a
``Collider`` (``engine.physics_components``) and the ``physics`` stage simulates it; its
``Transform`` is written back only when the pose actually changed (a body at rest publishes no
``moved``). Writing a Transform teleports a body (or drives a kinematic one); resizing its
``Proxy`` or scale reshapes its collider; despawning removes it::

    game.ground()                                            # physics="static": a collider
    crate = game.box(pos=(0, 3, 2), physics="dynamic")       # falls, can be pushed
    player = game.player()                                   # physics="character": walks, steps, jumps
    game.spawn(Transform((0, 1, 6)), Collider("box", half_extents=(1, 1, 1), sensor=True), uid="zone")

    @game.on("trigger_enter")
    def entered(game, ev): print(ev.other_uid, "entered", ev.sensor_uid)

    hit = game.physics.raycast((0, 1, 0), (0, 0, 1), 10.0, exclude=player)

Modules: ``adapter`` (the Rapier world keyed by entity ids, bulk pose reads), ``character``
(the kinematic character controller), ``shapes``
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
