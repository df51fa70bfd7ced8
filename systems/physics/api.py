"""`game.physics`: the physics helpers a game script uses (installed by ``PhysicsSystem.attach``).

    hit = game.physics.raycast(eye, forward, 20.0, exclude=player)
    if hit: print(hit.uid, hit.distance)
    game.physics.apply_impulse(crate, (0, 5, 0))

    @game.on("trigger_enter")
    def entered(game, ev): print(ev.other_uid, "entered", ev.sensor_uid)

Teleporting is writing the entity's ``Transform`` (``game.move(e, pos)``): the physics stage sees the
changed row and moves the body; a kinematic body (a moving platform) follows its Transform.

Also installs the prefab hook that gives ``game.ground()`` (``physics="static"``), ``game.box(...,
physics="dynamic")`` and ``game.player()`` (``physics="character"``) their bodies.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.errors import InputError
from engine.physics_components import CharacterController, Collider, RigidBody
from systems.physics.adapter import DYNAMIC
from systems.physics.queries import Hit, Projection, Queries
from systems.physics.sync import describe

__all__ = ["Physics", "Hit", "Projection", "prefab_physics"]


class Physics:
    """Queries (raycast, raycast_all, shape_cast, overlap, project_point) and body helpers."""

    def __init__(self, game: Any, system: Any) -> None:
        self._game = game
        self._system = system
        self._queries = Queries(self._sim, game.world.uid)
        self.raycast = self._queries.raycast
        self.raycast_all = self._queries.raycast_all
        self.shape_cast = self._queries.shape_cast
        self.overlap = self._queries.overlap
        self.project_point = self._queries.project_point

    def _sim(self) -> Any:
        self._system.prepare()
        return self._system.sim

    def _where(self, entity: int) -> str:
        return describe(self._game.world, entity)

    def _body(self, entity: int) -> Any:
        rec = self._sim().records.get(entity)
        if rec is None or rec.view is None:
            raise InputError(self._where(entity), "RigidBody", "an entity with a rigid body")
        return rec

    @property
    def step_ms(self) -> float:
        """Wall time of the last Rapier step alone, in milliseconds."""
        return self._system.last_step_s * 1e3

    def velocity(self, entity: int) -> np.ndarray:
        """(3,) linear velocity in m/s (zero for static and character bodies)."""
        return np.array(self._body(entity).view.linvel.to_tuple())

    def angular_velocity(self, entity: int) -> np.ndarray:
        """(3,) angular velocity in rad/s."""
        return np.array(self._body(entity).view.angvel.to_tuple())

    def set_velocity(self, entity: int, linear: Any = None, angular: Any = None) -> None:
        """Set a dynamic body's linear (3,) and/or angular (3,) velocity and wake it (locked axes stay still)."""
        rec = self._body(entity)
        for name, v in (("linear", linear), ("angular", angular)):
            if v is None:
                continue
            a = np.asarray(v, np.float64).reshape(3)
            if not np.all(np.isfinite(a)):
                raise InputError(self._where(entity), name, f"3 finite numbers, got {a.tolist()}")
            # Rapier keeps locked axes still against forces and contacts but not against a
            # velocity written directly: drop the locked components here
            if name == "linear":
                a = a * np.asarray(rec.view.enabled_translations, np.float64)
                rec.view.linvel = tuple(a)
            else:
                a = a * np.asarray(rec.view.enabled_rotations, np.float64)
                rec.view.angvel = tuple(a)
        rec.view.wake_up()

    def apply_impulse(self, entity: int, impulse: Any, point: Any = None) -> None:
        """Apply an impulse (3,) N·s at the centre of mass, or at a world ``point`` (3,)."""
        rec = self._body(entity)
        if rec.kind != DYNAMIC:
            raise InputError(self._where(entity), "RigidBody.kind", "a dynamic body to push")
        a = np.asarray(impulse, np.float64).reshape(3)
        if not np.all(np.isfinite(a)):
            raise InputError(self._where(entity), "impulse", f"3 finite numbers, got {a.tolist()}")
        if point is None:
            rec.view.apply_impulse(tuple(a), True)
        else:
            rec.view.apply_impulse_at_point(tuple(a), tuple(np.asarray(point, np.float64).reshape(3)), True)

    def apply_torque_impulse(self, entity: int, impulse: Any) -> None:
        """Apply an angular impulse (3,) N·m·s to a dynamic body (locked rotations stay locked)."""
        rec = self._body(entity)
        if rec.kind != DYNAMIC:
            raise InputError(self._where(entity), "RigidBody.kind", "a dynamic body to spin")
        a = np.asarray(impulse, np.float64).reshape(3)
        if not np.all(np.isfinite(a)):
            raise InputError(self._where(entity), "impulse", f"3 finite numbers, got {a.tolist()}")
        rec.view.apply_torque_impulse(tuple(a), True)

    def is_sleeping(self, entity: int) -> bool:
        """Whether Rapier has put the body to sleep (it costs nothing and publishes no moves)."""
        return bool(self._body(entity).view.is_sleeping)

    def mass(self, entity: int) -> float:
        """The body's mass in kg."""
        return float(self._body(entity).view.mass)

    def inside(self, sensor: int) -> list[int]:
        """Entities currently inside a sensor entity, ascending."""
        return sorted(o for s, o in self._system.router.inside if s == sensor)


def prefab_physics(game: Any, entity: int, kind: str, physics: str | None) -> None:
    """``engine.game.prefab_hooks`` entry: ``physics`` = static | dynamic | kinematic | sensor | character."""
    if physics is None:
        return
    w = game.world
    if physics == "character":
        cc = CharacterController()
        w.set(entity, RigidBody("kinematic"))
        w.set(entity, Collider("capsule", radius=0.3, half_height=0.35, offset=(0.0, 0.65 + cc.offset, 0.0)))
        w.set(entity, cc)
    elif physics == "static":
        w.set(entity, Collider())
    elif physics == "sensor":
        w.set(entity, Collider(sensor=True))
    elif physics in ("dynamic", "kinematic"):
        w.set(entity, RigidBody(physics))
        w.set(entity, Collider())
    else:
        raise InputError(f"entity {w.uid(entity)!r}", "physics", f"static, dynamic, kinematic, sensor or character, got {physics!r}")
