"""`PhysicsSystem`: the ``physics`` stage of the tick (slot 2 in ``systems/__init__.py``).

Order inside the stage: reconcile the ECS's bodies → push changed transforms (teleports,
kinematic movers, rescales) → move character controllers → ``rapier step`` → pull awake bodies'
poses into the transform table → emit collision / trigger events to game scripts.

Saves: :meth:`save_state` returns Rapier's own snapshot (bincode bytes of every structure,
including contact and solver caches, so a loaded game continues bit for bit) plus the entity ↔
handle map; :meth:`load_state` restores it on the next tick, after the engine has rebuilt the
entities with their saved ids.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import rapier3d as rp

from engine.components import Proxy
from engine.errors import InputError
from engine.physics_components import CharacterController, Collider, Joint, RigidBody
from systems.physics.adapter import Record, Simulation
from systems.physics.character import kcc_for
from systems.physics.events import CollisionEvent, EventRouter, TriggerEvent
from systems.physics.shapes import shape_spec
from systems.physics.sync import Sync, _body_key, _cc_key, check_pose, describe

SAVE_VERSION = 1


def _pair_of(ev: TriggerEvent | CollisionEvent) -> list[Any]:
    if isinstance(ev, TriggerEvent):
        return [ev.sensor, ev.other, ev.sensor_uid, ev.other_uid]
    return [ev.a, ev.b, ev.a_uid, ev.b_uid]


class PhysicsSystem:
    """Rapier 3D behind the ECS. Exposes ``game.physics`` (:class:`systems.physics.api.Physics`)."""

    name = "physics"

    def __init__(self, gravity: tuple[float, float, float] = (0.0, -9.81, 0.0)) -> None:
        self.gravity = gravity
        self.game: Any = None
        self.sim: Simulation | None = None
        self.sync: Sync | None = None
        self.router = EventRouter()
        self.last_step_s = 0.0  # wall time of the last Rapier step alone (for the benchmark)
        self.last_step_cpu_s = 0.0  # process CPU time of that step (all of Rapier's threads)
        self._pending_load: Any = None

    def attach(self, game: Any) -> None:
        """Create the Rapier world and install ``game.physics``."""
        from systems.physics.api import Physics

        self.game = game
        self._fresh()
        game.physics = Physics(game, self)

    def _fresh(self) -> None:
        self.sim = Simulation(self.gravity, float(self.game.dt))
        self.sync = Sync(self.sim)
        self.sync.on_remove.append(lambda e: self.router.forget(e, self._uid))
        self.sync.on_rebuild.append(self.router.recheck_later)
        self.router = EventRouter()

    def _uid(self, entity: int) -> str | None:
        return self.game.world.uid(entity)

    # ------------------------------------------------------------------ the tick

    def prepare(self) -> None:
        """Apply a pending load and bring Rapier in line with the ECS (also done before queries)."""
        if self._pending_load is not None:
            state, self._pending_load = self._pending_load, None
            self._restore(state)
        assert self.sync is not None
        self.sync.reconcile(self.game.world)

    def tick(self, game: Any, dt: float) -> None:
        """One fixed physics step (``dt`` must equal the game's fixed dt)."""
        self.prepare()
        sync, sim, world = self.sync, self.sim, game.world
        assert sync is not None and sim is not None
        sync.push_poses(world)
        sync.move_characters(world, game, dt)
        c0, t0 = time.process_time(), time.perf_counter()
        sim.step()
        self.last_step_s = time.perf_counter() - t0
        self.last_step_cpu_s = time.process_time() - c0
        sync.pull_poses(world)
        for name, ev in self.router.collect(sim, self._uid):
            game.emit(name, ev)

    # ------------------------------------------------------------------ saves

    def save_state(self) -> dict[str, Any]:
        """Rapier's snapshot + the entity ↔ handle map (msgpack-able)."""
        self.prepare()
        sim, sync = self.sim, self.sync
        assert sim is not None and sync is not None
        records = []
        for rec in sim.slots:
            b = rec.body
            c = rec.collider
            records.append([rec.entity, rec.kind, -1 if b is None else b.index, -1 if b is None else b.generation,
                            -1 if c is None else c.index, -1 if c is None else c.generation])
        joints = [[e, h.index, h.generation, other] for e, (h, other, _jid) in sorted(sync.joints.items())]
        return {
            "version": SAVE_VERSION,
            "snapshot": sim.world.snapshot(),
            "records": records,
            "joints": joints,
            "inside": sorted([list(p) for p in self.router.inside]),
            "touching": sorted([list(p) for p in self.router.touching]),
            # exits/stops queued by a despawn, not yet delivered (they carry no contact data)
            "pending": [[name, *_pair_of(ev)] for name, ev in self.router.pending],
            "awake_last": sync.awake_last.tolist(),
            # whether queries must refresh Rapier's broad phase first: that refresh changes its
            # internal state, so a loaded game must do it exactly when the saved one would have
            "queries_dirty": bool(sim.queries_dirty),
        }

    def load_state(self, state: Any) -> None:
        """Restore a :meth:`save_state` result; takes effect before the next tick or query.

        ``None`` (a save made without the physics stage) rebuilds every body from the ECS at rest.
        """
        if state is None:
            self._pending_load = None
            self._fresh()
            return
        if not isinstance(state, dict) or state.get("version") != SAVE_VERSION or not isinstance(state.get("snapshot"), bytes):
            raise InputError("<save>", "systems.physics", f"a physics state of version {SAVE_VERSION}")
        self._pending_load = state

    def _restore(self, state: dict[str, Any]) -> None:
        world = self.game.world
        self._fresh()
        sim, sync = self.sim, self.sync
        assert sim is not None and sync is not None
        try:
            sim.world = rp.PhysicsWorld.restore(state["snapshot"])
        except rp.RapierError as exc:
            raise InputError("<save>", "systems.physics.snapshot", f"a Rapier snapshot ({exc})") from None
        sim.events = rp.ChannelEventCollector()
        sim.world.event_handler = sim.events
        for e, kind, bi, bg, ci, cg in state["records"]:
            if not world.exists(e):
                raise InputError("<save>", "systems.physics.records", f"entity #{e} to exist in the saved world")
            where = describe(world, e)
            body = world.try_get(e, RigidBody)
            collider = world.try_get(e, Collider)
            cc = world.try_get(e, CharacterController)
            if cc is not None and body is None:
                from systems.physics.sync import _CHARACTER_BODY

                body = _CHARACTER_BODY
            row = world.table.row_of[e]
            pose = check_pose(where, world.table.data[row])
            spec = shape_spec(where, collider, world.try_get(e, Proxy), pose[7:10]) if collider is not None else None
            bh = rp.RigidBodyHandle.from_raw_parts(bi, bg) if bi >= 0 else None
            ch = rp.ColliderHandle.from_raw_parts(ci, cg) if ci >= 0 else None
            view = sim.world.rigid_bodies[bh] if bh is not None else None
            sim.adopt(Record(e, kind, bh, ch, spec, view), row, world.table.data[row])
            sync.keys[e] = _body_key(body, collider)
            if cc is not None:
                sync.characters[e] = (kcc_for(cc), _cc_key(cc))
        for e, ji, jg, other in state["joints"]:
            j = world.get(e, Joint)
            sync.joints[e] = (rp.ImpulseJointHandle.from_raw_parts(ji, jg), other, id(j))
        self.router.inside = {tuple(p) for p in state["inside"]}  # type: ignore[misc]
        self.router.touching = {tuple(p) for p in state["touching"]}  # type: ignore[misc]
        for name, a, b, ua, ub in state.get("pending", []):
            ev = TriggerEvent(a, b, ua, ub) if name.startswith("trigger") else CollisionEvent(a, b, ua, ub)
            self.router.pending.append((name, ev))
        sync.awake_last = np.asarray(state["awake_last"], np.int64)
        sim.queries_dirty = bool(state.get("queries_dirty", True))
        sync.since = world.version
