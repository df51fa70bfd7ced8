"""Collision and trigger events for game scripts, delivered through ``game.emit``.

- ``trigger_enter`` / ``trigger_exit`` (:class:`TriggerEvent`): a sensor collider began / stopped
  overlapping another collider. Each fires exactly once per transition: the set of overlapping
  (sensor, other) pairs is kept here and Rapier's reports only toggle it. An entity despawned
  while inside a sensor gets its ``trigger_exit``.
- ``collision_start`` / ``collision_stop`` (:class:`CollisionEvent`): two solid colliders, one of
  them with ``Collider.events``, began / stopped touching; ``start`` carries the deepest contact
  point (world), the normal (from ``a`` towards ``b``), the depth and the total impulse.

Handlers: ``@game.on("trigger_enter") def f(game, ev): ...``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from systems.physics.adapter import Simulation


@dataclass(frozen=True)
class TriggerEvent:
    """A sensor's overlap with ``other`` began (enter) or ended (exit)."""

    sensor: int
    other: int
    sensor_uid: str | None
    other_uid: str | None


@dataclass(frozen=True)
class CollisionEvent:
    """Entities ``a`` and ``b`` began or stopped touching; contact data on ``collision_start``."""

    a: int
    b: int
    a_uid: str | None
    b_uid: str | None
    point: np.ndarray | None = field(default=None, compare=False)  # (3,) world metres
    normal: np.ndarray | None = field(default=None, compare=False)  # (3,) unit, from a towards b
    depth: float = 0.0
    impulse: float = 0.0


class EventRouter:
    """Turns Rapier's collision reports into game events, once per transition."""

    def __init__(self) -> None:
        self.inside: set[tuple[int, int]] = set()  # (sensor entity, other entity)
        self.touching: set[tuple[int, int]] = set()  # (a, b) with a < b
        self.pending: list[tuple[str, Any]] = []
        self.uids: dict[int, str | None] = {}  # uids of entities in a pair (they outlive a despawn)
        self.verify: set[int] = set()  # entities whose collider was rebuilt: re-check their pairs

    def forget(self, entity: int, uid_of: Any) -> None:
        """An entity left the simulation: end its overlaps now (exit events), drop its contacts."""
        known = self.uids

        def uid_of(e: int, _live: Any = uid_of) -> str | None:  # noqa: F811 - the entity may be gone
            u = _live(e)
            return u if u is not None else known.get(e)

        for pair in sorted(p for p in self.inside if entity in p):
            self.inside.discard(pair)
            self.pending.append(("trigger_exit", TriggerEvent(pair[0], pair[1], uid_of(pair[0]), uid_of(pair[1]))))
        for pair in sorted(p for p in self.touching if entity in p):
            self.touching.discard(pair)
            self.pending.append(("collision_stop", CollisionEvent(pair[0], pair[1], uid_of(pair[0]), uid_of(pair[1]))))
        self.uids.pop(entity, None)

    def recheck_later(self, entity: int) -> None:
        """An entity's collider was rebuilt (new handle): confirm its pairs after the next step."""
        self.verify.add(entity)

    def _recheck(self, sim: Simulation, uid_of: Any, out: list[tuple[str, Any]]) -> None:
        # Rapier reports a rebuilt collider's overlaps as new pairs (deduplicated above) and never
        # ends the old handle's: ask the narrow phase whether each remembered pair still holds
        verify, self.verify = self.verify, set()
        np_ = sim.world.narrow_phase

        def handles(pair: tuple[int, int]) -> tuple[Any, Any] | None:
            r0, r1 = sim.records.get(pair[0]), sim.records.get(pair[1])
            if r0 is None or r1 is None or r0.collider is None or r1.collider is None:
                return None
            return r0.collider, r1.collider

        for pair in sorted(p for p in self.inside if p[0] in verify or p[1] in verify):
            h = handles(pair)
            if h is None or not np_.intersection_pair(h[0], h[1]):
                self.inside.discard(pair)
                out.append(("trigger_exit", TriggerEvent(pair[0], pair[1], uid_of(pair[0]), uid_of(pair[1]))))
        for pair in sorted(p for p in self.touching if p[0] in verify or p[1] in verify):
            h = handles(pair)
            cp = None if h is None else np_.contact_pair(h[0], h[1])
            if cp is None or not cp.has_any_active_contact:
                self.touching.discard(pair)
                out.append(("collision_stop", CollisionEvent(pair[0], pair[1], uid_of(pair[0]), uid_of(pair[1]))))

    def collect(self, sim: Simulation, uid_of: Any) -> list[tuple[str, Any]]:
        """Drain Rapier's events of the last step; returns ``[(event name, payload)]`` in order."""
        out, self.pending = self.pending, []
        colliders = sim.world.colliders
        live_uid = uid_of

        def uid_of(e: int) -> str | None:  # noqa: F811 - remember uids for exit events after despawns
            u = live_uid(e)
            if u is not None:
                self.uids[e] = u
            return u

        for ev in sim.events.drain_collision_events():
            h1, h2 = ev.collider1, ev.collider2
            e1, e2 = sim.by_collider.get(h1), sim.by_collider.get(h2)
            if e1 is None or e2 is None:
                continue  # a collider removed before the step: forget() already reported it
            if ev.sensor:
                c1 = colliders.get(h1)
                if c1 is not None and c1.is_sensor:
                    pair = (e1, e2)
                else:
                    pair = (e2, e1)
                ev_name = None
                if ev.started and pair not in self.inside:
                    self.inside.add(pair)
                    ev_name = "trigger_enter"
                elif not ev.started and pair in self.inside:
                    self.inside.discard(pair)
                    ev_name = "trigger_exit"
                if ev_name:
                    out.append((ev_name, TriggerEvent(pair[0], pair[1], uid_of(pair[0]), uid_of(pair[1]))))
                continue
            a, b, ha, hb = (e1, e2, h1, h2) if e1 <= e2 else (e2, e1, h2, h1)
            pair = (a, b)
            if ev.started and pair not in self.touching:
                self.touching.add(pair)
                out.append(("collision_start", self._contact(sim, a, b, ha, hb, uid_of)))
            elif not ev.started and pair in self.touching:
                self.touching.discard(pair)
                out.append(("collision_stop", CollisionEvent(a, b, uid_of(a), uid_of(b))))
        if self.verify:
            self._recheck(sim, uid_of, out)
        return out

    @staticmethod
    def _contact(sim: Simulation, a: int, b: int, ha: Any, hb: Any, uid_of: Any) -> CollisionEvent:
        pair = sim.world.narrow_phase.contact_pair(ha, hb)
        point = normal = None
        depth = impulse = 0.0
        if pair is not None:
            flip = pair.collider1 != ha
            best = None
            for m in pair.manifolds:
                for c in m.data.solver_contacts:
                    if best is None or c.dist < best[0].dist:
                        best = (c, m)
            if best is not None:
                c, m = best
                point = np.array(c.point.to_tuple())
                n = np.array(m.data.normal.to_tuple())
                normal = -n if flip else n
                depth = max(0.0, -float(c.dist))
            impulse = float(pair.total_impulse_magnitude())
        return CollisionEvent(a, b, uid_of(a), uid_of(b), point, normal, depth, impulse)
