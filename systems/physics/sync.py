"""ECS ↔ Rapier synchronisation: the ECS says what exists, Rapier says how it moves.

Per tick (see ``PhysicsSystem.tick``):

1. :func:`reconcile` — only when the world's write version moved: spawn / despawn / rebuild bodies
   and colliders for entities whose ``RigidBody``, ``Collider``, ``CharacterController``, ``Proxy``
   or ``Transform`` component was written, and (re)build joints.
2. :func:`push_poses` — one vectorised diff of the transform-table rows touched since the last
   sync (the table's touch log; every row when it does not reach back) against the pose last
   synchronised: a changed row is a teleport (dynamic, static), a kinematic move (kinematic
   bodies, moving platforms) or a rescale (collider rebuilt).
3. :func:`pull_poses` — after the step: bulk-read the awake dynamic bodies' poses, write them into
   the transform table and log their rows in the touch log; the layout tracker value-compares
   those rows, so a body at rest produces no ``moved``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.components import Name, Proxy, Transform
from engine.errors import InputError
from engine.layout import unique_sorted
from engine.physics_components import CharacterController, Collider, Joint, RigidBody
from systems.physics.adapter import DYNAMIC, Simulation
from systems.physics.character import kcc_for, move_character
from systems.physics.shapes import shape_spec

if TYPE_CHECKING:
    from engine.world import World

_CHARACTER_BODY = RigidBody("kinematic")
_RECHECK = np.int64(0x7FF4000000000001)  # a signalling-NaN bit pattern marking rows to re-check
# the first 7 float64 of a 10-float row (pos + rot) as one opaque 56-byte field: a row gather/scatter
# of this field is a 1-D void copy, ~3x cheaper than ``a[rows, 0:7] = ...`` (and bitwise, as that is)
_POSE_FIELD = np.dtype({"names": ["pose"], "formats": ["V56"], "offsets": [0], "itemsize": 80})
_POSE_BYTES = np.dtype("V56")


def pose_field(a: np.ndarray) -> np.ndarray:
    """(N,) V56 view of the pos+rot columns of a C-contiguous (N, 10) float64 array ``a``."""
    return a.view(_POSE_FIELD).reshape(-1)["pose"]


def describe(world: World, entity: int) -> str:
    """How errors name an entity: its anchor uid, else its Name, else its id."""
    uid = world.uid(entity)
    if uid is not None:
        return f"entity {uid!r}"
    n = world.try_get(entity, Name)
    return f"entity {n.value!r} (#{entity})" if n is not None else f"entity #{entity}"


def check_pose(where: str, pose: np.ndarray) -> np.ndarray:
    """Validate a (10,) transform row; returns it with the rotation normalised."""
    if not np.all(np.isfinite(pose[0:3])):
        raise InputError(where, "Transform.pos", f"3 finite numbers, got {pose[0:3].tolist()}")
    n = float(np.linalg.norm(pose[3:7]))
    if not (math.isfinite(n) and n > 1e-9):
        raise InputError(where, "Transform.rot", f"a non-zero finite quaternion (w, x, y, z), got {pose[3:7].tolist()}")
    if not (np.all(np.isfinite(pose[7:10])) and np.all(pose[7:10] > 0)):
        raise InputError(where, "Transform.scale", f"3 finite numbers > 0, got {pose[7:10].tolist()}")
    out = pose.copy()
    out[3:7] /= n
    return out


def _body_key(body: RigidBody | None, collider: Collider | None) -> tuple[Any, ...]:
    """Everything except the shape that, when changed, needs the body/collider rebuilt."""
    b = None if body is None else (body.kind, body.mass, body.density, body.linear_damping, body.angular_damping,
                                   body.gravity_scale, body.ccd, body.lock_translation, body.lock_rotation, body.can_sleep)
    c = None if collider is None else (collider.friction, collider.restitution, collider.sensor, collider.events,
                                       collider.groups, collider.mask)
    return (b, c)


class Sync:
    """The bookkeeping between one ``World`` and one :class:`Simulation`."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.since = -1  # world.version seen by the last reconcile
        self.keys: dict[int, tuple[Any, ...]] = {}
        self.joints: dict[int, tuple[Any, int, int]] = {}  # entity → (joint handle, other entity, id(Joint))
        self.characters: dict[int, Any] = {}  # entity → (rapier KCC, id(CharacterController))
        self.awake_last = np.zeros(0, np.int64)  # slots awake after the last step
        self._awake_stamp = np.zeros(0, np.int64)  # slot → number of the last pull that saw it awake
        self._pulls = 0
        self._pull_structure = -1  # sim.structure_version at the last pull
        self._fields: tuple[Any, ...] = (None, None, None, None)  # (table data, its pose field, sim.last, its field)
        self.on_remove: list[Any] = []
        self.on_rebuild: list[Any] = []
        # a copy of the world's transform table as of the last sync, and row → slot; the per-tick
        # teleport check is then one contiguous compare instead of a gather over every slot
        self.shadow = np.zeros((0, 10), np.float64)
        self.slot_of_row = np.zeros(0, np.int64)
        self._rows_version = -1
        self.cursor = -1  # position in the world's transform touch log (see ``TransformTable``)

    # ------------------------------------------------------------------ structure

    def reconcile(self, world: World) -> None:
        """Bring Rapier's set of bodies/colliders/joints in line with the ECS (if anything was written)."""
        if world.version == self.since:
            return
        sim = self.sim
        if self.since < 0:
            cands = set(_having(world, Collider)) | _having(world, RigidBody) | _having(world, CharacterController)
        else:
            cands = set()
            for t in (Collider, RigidBody, CharacterController, Proxy, Transform):
                cands |= world.changed(t, self.since)
            # despawns are not logged per type: diff the id sets (C-level set ops, no sorting)
            gone = sim.records.keys() - _having(world, Collider)
            if gone:
                gone = gone - _having(world, RigidBody) - _having(world, CharacterController)
            cands.update(gone)
        for e in sorted(cands):
            self._reconcile_one(world, e)
        self._reconcile_joints(world, cands)
        self.since = world.version

    def _reconcile_one(self, world: World, e: int) -> None:
        sim = self.sim
        alive = world.exists(e)
        body = world.try_get(e, RigidBody) if alive else None
        collider = world.try_get(e, Collider) if alive else None
        cc = world.try_get(e, CharacterController) if alive else None
        if cc is not None and body is None:
            body = _CHARACTER_BODY
        physical = alive and (body is not None or collider is not None)
        rec = sim.records.get(e)
        if not physical:
            if rec is not None:
                self.remove(e)
            return
        where = describe(world, e)
        t = world.try_get(e, Transform)
        if t is None:
            raise InputError(where, "Transform", "a Transform on every entity with a RigidBody or Collider")
        if body is not None:
            body.validate(where)
        if collider is not None:
            collider.validate(where)
        if cc is not None:
            cc.validate(where)
            if body.kind != "kinematic":
                raise InputError(where, "RigidBody.kind", "'kinematic' for an entity with a CharacterController")
            if collider is None:
                raise InputError(where, "Collider", "a Collider (the character's shape) with the CharacterController")
        pose = check_pose(where, t._data)
        spec = shape_spec(where, collider, world.try_get(e, Proxy), pose[7:10]) if collider is not None else None
        key = _body_key(body, collider)
        row = world.table.row_of[e]
        if rec is None or self.keys.get(e) != key:
            keep = None
            if rec is not None and rec.kind == DYNAMIC and body is not None and body.kind == "dynamic":
                keep = (rec.view.linvel, rec.view.angvel)
            if rec is not None:
                self.remove(e, despawned=False)
            rec = sim.add(where, e, row, pose, body, collider, spec)
            if keep is not None:
                rec.view.linvel, rec.view.angvel = keep
            self.keys[e] = key
        else:
            if sim.row_of[rec.slot] != row:
                sim.row_of[rec.slot] = row
                sim.structure_version += 1
            if spec != rec.spec and collider is not None and spec is not None:
                sim.reshape(where, e, spec, collider)
                for fn in self.on_rebuild:
                    fn(e)
        if cc is not None:
            old = self.characters.get(e)
            if old is None or old[1] != _cc_key(cc):
                self.characters[e] = (kcc_for(cc), _cc_key(cc))
        else:
            self.characters.pop(e, None)

    def remove(self, e: int, despawned: bool = True) -> None:
        """Drop an entity's body/collider (its joints go with the body).

        ``despawned=False`` is a rebuild (new parameters): the ``on_rebuild`` hooks run instead of
        ``on_remove``, so overlaps are re-checked rather than ended.
        """
        rec = self.sim.records.get(e)
        if rec is not None and rec.collider is not None:
            self.sim.by_collider.pop(rec.collider, None)
        self.sim.remove(e)
        self.keys.pop(e, None)
        self.characters.pop(e, None)
        self.joints.pop(e, None)
        for fn in self.on_remove if despawned else self.on_rebuild:
            fn(e)

    # ------------------------------------------------------------------ joints

    def _reconcile_joints(self, world: World, cands: set[int]) -> None:
        import rapier3d as rp

        from systems.physics.joints import joint_builder

        sim = self.sim
        joint_ents = {e for e, _ in world.query(Joint)}
        for e in list(self.joints):
            if e not in joint_ents:
                h = self.joints.pop(e)[0]
                if h in sim.world.impulse_joints:
                    sim.world.impulse_joints.remove(h)
        for e in sorted(joint_ents):
            j = world.get(e, Joint)
            where = describe(world, e)
            j.validate(where)
            other = world.entity(j.other)
            old = self.joints.get(e)
            if old is not None:
                h, oe, jid = old
                valid = h in sim.world.impulse_joints and jid == id(j) and oe == other
                if valid and e not in cands and other not in cands:
                    continue
                if h in sim.world.impulse_joints:
                    sim.world.impulse_joints.remove(h)
                del self.joints[e]
            if other is None:
                if old is not None:
                    continue  # the other entity was despawned: the joint went with it
                raise InputError(where, "Joint.other", f"the anchor uid of an existing entity, got {j.other!r}")
            r1, r2 = sim.records.get(e), sim.records.get(other)
            for name, r in (("Joint", r1), ("Joint.other", r2)):
                if r is None or r.body is None:
                    raise InputError(where, name, "both joined entities to have a RigidBody (use kind='static' for a fixed frame)")
            assert r1 is not None and r2 is not None
            data = joint_builder(j)
            h = sim.world.impulse_joints.insert(r2.body, r1.body, data, True)
            assert isinstance(h, rp.ImpulseJointHandle)
            self.joints[e] = (h, other, id(j))

    # ------------------------------------------------------------------ motion

    def _refresh_rows(self, world: World) -> None:
        sim, data = self.sim, world.table.data
        if len(self.shadow) != len(data):
            shadow = np.zeros_like(data)
            m = min(len(data), len(self.shadow))
            shadow[:m] = self.shadow[:m]
            self.shadow = shadow
            self._rows_version = -1
        if self._rows_version != sim.structure_version:
            n = len(sim.slots)
            self.slot_of_row = np.full(len(data), -1, np.int64)
            self.slot_of_row[sim.row_of[:n]] = np.arange(n)
            self._rows_version = sim.structure_version

    def push_poses(self, world: World) -> None:
        """ECS → Rapier for every synced entity whose transform row changed since the last sync."""
        sim = self.sim
        if not sim.slots:
            return
        self._refresh_rows(world)
        table = world.table
        size = table.size
        data = table.data
        cand, self.cursor = table.changes_since(self.cursor)
        if cand is not None and len(cand) == 0:  # nothing touched since the last sync (the usual tick)
            return
        if cand is None or len(cand) > max(4096, size // 4):  # the log does not reach back, or names most rows
            # bitwise compare of the int64 views: ~4x faster than a float compare + any(axis=1)
            flat = np.flatnonzero(data[:size].view(np.int64) != self.shadow[:size].view(np.int64))
            rows = unique_sorted(flat // 10)
        else:  # the rows touched since the last sync (the physics write-back's own are not logged)
            cand = cand[cand < size]
            flat = np.flatnonzero(data[cand].view(np.int64) != self.shadow[cand].view(np.int64))
            rows = cand[unique_sorted(flat // 10)]
        if len(rows) == 0:
            return
        self.shadow[rows] = data[rows]
        slots = self.slot_of_row[rows]
        slots = slots[slots >= 0]
        if len(slots) == 0:
            return
        cur = data[sim.row_of[slots]]
        changed = (cur != sim.last[slots]).any(axis=1)
        try:
            for s, pose_row in zip(slots[changed].tolist(), cur[changed], strict=True):
                self._push_one(world, s, pose_row)
        except InputError:
            # look at these rows again next tick: a NaN payload no float the user writes has, and a
            # full compare (the touch log will not name them again)
            self.shadow.view(np.int64)[rows] = _RECHECK
            self.cursor = -1
            raise

    def _push_reference(self, world: World) -> None:
        """Plain twin of :meth:`push_poses`: compare every slot's row with its last synced pose."""
        sim = self.sim
        for s in range(len(sim.slots)):
            row = world.table.data[sim.row_of[s]]
            if not np.array_equal(row, sim.last[s]):
                self._push_one(world, s, row.copy())

    def _push_one(self, world: World, s: int, pose_row: np.ndarray) -> None:
        sim = self.sim
        rec = sim.slots[s]
        where = describe(world, rec.entity)
        pose = check_pose(where, pose_row)
        if not np.array_equal(pose[7:10], sim.last[s, 7:10]) and rec.spec is not None:
            collider = world.get(rec.entity, Collider)
            spec = shape_spec(where, collider, world.try_get(rec.entity, Proxy), pose[7:10])
            if spec != rec.spec:
                sim.reshape(where, rec.entity, spec, collider)
        if not np.array_equal(pose[0:7], sim.last[s, 0:7]):
            sim.set_pose(rec, pose[0:7])
        sim.last[s] = pose_row

    def move_characters(self, world: World, game: Any, dt: float) -> None:
        """Run Rapier's character controller for every CharacterController entity."""
        if not self.characters:
            return
        from engine.components import Player

        sim = self.sim
        sim.update_queries()
        table = world.table.data
        jump = bool(game.input.pressed("jump")) if hasattr(game, "input") else False
        for e in sorted(self.characters):
            kcc = self.characters[e][0]
            cc = world.get(e, CharacterController)
            p = world.try_get(e, Player)
            if p is not None:
                cc.walk = np.array([p.move[0], 0.0, p.move[2]])
                if jump:
                    cc.jump()
            rec = sim.records[e]
            row = sim.row_of[rec.slot]
            new, grounded, _ground = move_character(sim, rec, kcc, cc, table[row, 0:7], dt)
            cc.grounded = grounded
            if not np.array_equal(new, table[row, 0:3]):
                table[row, 0:3] = new
                world.table.mark(np.array([row]))
            sim.last[rec.slot, 0:3] = table[row, 0:3]
            if row < len(self.shadow):
                self.shadow[row] = table[row]

    def pull_poses(self, world: World) -> None:
        """Rapier → ECS: write changed poses of the bodies awake now or in the last step."""
        sim = self.sim
        bulk = sim.bulk_awake()  # most bodies awake: awake set and poses from one blob
        by_index = None
        if bulk is not None:
            awake, by_index = bulk
        else:
            awake = sim.awake_dynamic_slots()
        slots = awake
        last = self.awake_last
        if len(last):
            # bodies that fell asleep in this step still moved during it: read them once more
            n = len(sim.slots)
            same = self._pull_structure == sim.structure_version  # no slot added, removed or moved since
            if not same and last.max() >= n:  # slots past the end were removed since
                last = last[last < n]
            if len(self._awake_stamp) < n:
                self._awake_stamp = np.zeros(2 * n, np.int64)
            self._pulls += 1
            stamp = self._awake_stamp  # slot → last pull that saw it awake (no reset pass needed)
            stamp[awake] = self._pulls
            extra = last[stamp[last] != self._pulls]
            if len(extra):
                if not same:  # a slot may hold another entity now
                    extra = extra[sim.kind_of[extra] == DYNAMIC]
                slots = np.concatenate([awake, extra])
        self.awake_last = awake
        self._pull_structure = sim.structure_version
        if len(slots) == 0:
            return
        if by_index is not None:
            poses = np.take(by_index, sim.index_of_slot[slots], axis=0)
        else:
            poses = sim.read_poses(slots)
        rows = sim.row_of[slots]
        table = world.table.data
        data, field, last_arr, last_field = self._fields
        if data is not table or last_arr is not sim.last:  # either array was reallocated (grown)
            data, field, last_arr, last_field = table, pose_field(table), sim.last, pose_field(sim.last)
            self._fields = (data, field, last_arr, last_field)
        # written as read, unchanged values included: the layout tracker value-compares the logged
        # rows against what it published, so a body at rest still produces no ``moved``
        pv = poses.view(_POSE_BYTES).reshape(-1)
        field[rows] = pv  # table[rows, 0:7] = poses
        last_field[slots] = pv  # sim.last[slots, 0:7] = poses
        # logged for the layout tracker; this sync's own cursor skips them when nothing else was
        # logged since its last look. The shadow is not refreshed: it only pre-filters the push,
        # whose real test is ``sim.last`` (a stale shadow row costs one compare if it comes up)
        self.cursor = world.table.mark(rows, self.cursor)

    def _pull_reference(self, world: World) -> None:
        """Plain twin of :meth:`pull_poses`: every dynamic body, one at a time."""
        sim = self.sim
        table = world.table.data
        for rec in sim.slots:
            if rec.kind != DYNAMIC:
                continue
            pose = sim._read_poses(np.array([rec.slot]))[0]
            row = sim.row_of[rec.slot]
            if not np.array_equal(pose, table[row, 0:7]):
                table[row, 0:7] = pose
                world.table.mark(np.array([row]))
                sim.last[rec.slot, 0:7] = pose
                if row < len(self.shadow):
                    self.shadow[row] = table[row]


def _having(world: World, ctype: type) -> set[int] | frozenset[int]:
    """Ids of the entities with a ``ctype`` component, without building a sorted query.

    esper keeps exactly this set per component type (``esper._components``, esper 3.9 is pinned
    below 4); reading it is O(1) where ``world.query`` would rebuild and sort a list of every entity
    after any structural change. Falls back to the query if esper's layout ever differs.
    """
    import esper

    world._enter()
    table = getattr(esper, "_components", None)
    if isinstance(table, dict):
        return table.get(ctype, frozenset())
    return {e for e, _ in world.query(ctype)}  # pragma: no cover


def _cc_key(cc: CharacterController) -> tuple[float, ...]:
    return (cc.max_slope_deg, cc.min_slide_deg, cc.autostep_height, cc.autostep_min_width, cc.snap_to_ground, cc.offset)


__all__ = ["Sync", "describe", "check_pose"]
