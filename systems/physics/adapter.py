"""`Simulation`: the one object that owns a Rapier ``PhysicsWorld``, keyed by entity ids.

It knows nothing of esper: callers hand it plain data (an entity id, a pose as a (7,) float64 row
``pos(3) + rot(4) w-first``, components, a resolved :data:`~systems.physics.shapes.ShapeSpec`)
and get entity ids back. ``systems.physics.sync`` connects it to the ECS.

Layout of the per-entity state (one *slot* per entity with a body or a collider)::

    slots[slot]      Record  the entity, its handles, resolved shape and live body view
    kind_of[slot]    int8    DYNAMIC, KINEMATIC, FIXED (a fixed body) or LOOSE (a collider on no body)
    row_of[slot]     int64   the entity's row in the world's transform table
    last[slot]       (10,)   pos, rot (w-first), scale last synchronised with the ECS

Pose read (the hot path), two ways — Rapier's bindings expose no array accessor:

- *per body* (fewer than ~60 % of the bodies awake): the awake bodies' 36-byte
  ``Isometry3.to_bytes()`` blobs (8-byte header, then f32 qx qy qz qw tx ty tz) gathered through
  C-level ``map`` calls over the slots' views (``view_of``, an object array: one gather, no Python
  call per slot), joined once and decoded with one ``np.frombuffer`` and one structured cast
  (column order and float64 in one pass). :meth:`Simulation.read_poses`.
- *one blob* (most bodies awake, :meth:`Simulation.bulk_awake`): ``RigidBodySet.to_bytes()`` gives
  every body's record (a private arena layout, see ``_BODY_CHECK``) — its pose and sleeping flag —
  in one call; used only after every record's tag, generation and user_data (the entity) match
  what this simulation registered for handle indices 0..n-1 (else, or after a despawn left a free
  entry, the per-body path; a refused layout is not retried until a body comes or goes). The
  stored quaternion is divided by its norm exactly as the ``position`` getter does
  (:func:`quaternion_norms`), so both ways give the same bits.

:meth:`Simulation._read_poses` is the plain per-attribute twin of both (compared in tests, bit for
bit). Sleeping bodies cost nothing on the per-body path.

The awake set comes from ``PhysicsWorld.active_bodies()`` (handles); their indices are read with
the builtin ``hash`` (rapier3d 0.36.1 hashes a handle as ``index << 32 | generation``; the layout is
checked once at import, else the ``index`` attribute is used) — a C-level ``map``, ~1/3 cheaper than
the property (until this was checked against the real layout the attribute path was the one in use) —
and mapped to slots through ``dynamic_slot_of_index`` (-1 for non-dynamic bodies) with one clipped
gather (its last entry is a -1 sentinel) and one in-place sort (the -1s come first and are cut
with a view); when every body is active (``len(world.islands)``, the active-set size, equals the
body count) it is simply every dynamic slot. :meth:`Simulation.awake_dynamic_slots` is that fast
path, :meth:`Simulation._awake_dynamic_slots` its plain twin.

Costs (rapier3d 0.36.1, the 2-core dev machine, inside the bench tick): every binding call costs
~80-250 ns (``body.position`` ~250, ``Isometry3.to_bytes`` ~170, a handle from ``active_bodies``
~60-90, its ``hash`` ~80-140), so a body costs ~0.55-0.65 µs of binding calls to read per body, plus
~0.15 µs of numpy (the pull of ~600 awake bodies: ~0.4-0.7 ms depending on the machine's state).
``RigidBodySet.to_bytes`` is ~0.3-0.37 µs per body, sleeping ones included, + ~0.03 µs to check and
decode (2,000 bodies: ~0.6-0.75 ms), hence the ~60 % switch. No array accessor exists in the .pyi
(checked: PhysicsWorld, RigidBodySet, IslandManager, RigidBody, Isometry3 — no buffer protocol, no
``__array__``). Checked and not used: ``IslandManager.to_bytes`` (~95 µs even with nothing awake:
it serialises every island, and the awake handles are not at a fixed offset); ``RigidBody.to_bytes``
per body (~0.63 µs, slower than position + to_bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np
import rapier3d as rp

from engine.physics_components import Collider, RigidBody
from systems.physics.shapes import ShapeSpec, build_shape, collider_builder

DYNAMIC, KINEMATIC, FIXED, LOOSE = 0, 1, 2, 3
_KIND_CODE = {"dynamic": DYNAMIC, "kinematic": KINEMATIC, "static": FIXED}
_ISO_HEADER = 8  # bytes before the 7 floats of an Isometry3 blob
_ISO_BYTES = 36
# float32 columns of an Isometry3 blob (after the header: qx qy qz qw tx ty tz) in pose order
_POSE_COLUMNS = _ISO_HEADER // 4 + np.array([4, 5, 6, 3, 0, 1, 2])
# the same as one record type: casting it to _POSE_F64 (fields matched by position) reorders the
# columns and widens them to float64 in one pass, giving C-contiguous (K, 7) rows
_ISO_RECORD = np.dtype({"names": [f"c{i}" for i in range(7)], "formats": ["<f4"] * 7,
                        "offsets": [4 * int(c) for c in _POSE_COLUMNS], "itemsize": _ISO_BYTES})
_POSE_F64 = np.dtype({"names": [f"c{i}" for i in range(7)], "formats": ["<f8"] * 7,
                      "offsets": [8 * i for i in range(7)], "itemsize": 56})
# ``RigidBodySet.to_bytes()`` (rapier3d 0.36.1): "RPYS" + u32 version 1, u64 arena entries (free ones
# included), then one record per entry; an occupied entry holding a body with one collider is 429 bytes: u32 tag (1),
# u32 generation, ..., the pose at 24 (f32 qx qy qz qw tx ty tz, as in an Isometry3 blob), ..., the
# activation's ``sleeping`` bool at 338, ..., u128 user_data at 413. Only used after checking every record's tag, generation and user_data
# (the entity) against what the simulation registered — anything else falls back to per-body reads.
_SET_HEADER = b"RPYS\x01\x00\x00\x00"
_BODY_BYTES = 429
_BODY_CHECK = np.dtype({"names": ["tag", "gen", "sleeping", "ud_lo", "ud_hi"],
                        "formats": ["<u4", "<u4", "u1", "<u8", "<u8"],
                        "offsets": [0, 4, 338, 413, 421], "itemsize": _BODY_BYTES})
_BODY_POSE = np.dtype({"names": ["pose"], "formats": [("<f4", 7)], "offsets": [24], "itemsize": _BODY_BYTES})
_BULK_MIN = 64  # bodies read below which the per-body path is always used
_INDEX = attrgetter("index")
_POSITION = attrgetter("position")
_TO_BYTES = rp.Isometry3.to_bytes  # the unbound method: ~2x cheaper a call than methodcaller


def _hash_index_shift() -> int | None:
    """Where a handle's index sits in ``hash(handle)`` in these bindings: 32 (``index << 32 |
    generation``, rapier3d 0.36.1), 0 (``index | generation << 32``) or None (neither: the ``index``
    attribute is read instead)."""
    try:
        pairs = ((0, 0), (7, 3), (123456, 1), (2**31 + 5, 9), (2**32 - 2, 5))
        hashes = [hash(rp.RigidBodyHandle.from_raw_parts(i, g)) for i, g in pairs]
    except Exception:  # pragma: no cover - a future binding without from_raw_parts or hashing
        return None
    for shift in (32, 0):
        if all((h >> shift) & 0xFFFFFFFF == i for h, (i, _g) in zip(hashes, pairs, strict=True)):
            return shift
    return None  # pragma: no cover


_HASH_SHIFT = _hash_index_shift()


def quaternion_norms(x: np.ndarray, y: np.ndarray, z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(K,) float32 norms of quaternions given as four (K,) float32 component arrays, computed as the
    bindings' ``body.position`` getter does before dividing by it: ``sqrt((x² + z²) + (y² + w²))``
    in float32 (that getter's output is the stored quaternion divided by this, bit for bit: tested
    against the per-body reads)."""
    return np.sqrt((x * x + z * z) + (y * y + w * w))


def iso_from_pose(pose: np.ndarray) -> rp.Isometry3:
    """Rapier isometry from a (7,) pose row: pos(3), rot(4) w-first."""
    p = pose
    return rp.Isometry3((p[0], p[1], p[2]), (p[4], p[5], p[6], p[3]))


@dataclass
class Record:
    """What the simulation holds for one entity."""

    entity: int
    kind: int
    body: rp.RigidBodyHandle | None
    collider: rp.ColliderHandle | None
    spec: ShapeSpec | None
    view: Any = None  # live rapier RigidBody view of ``body`` (None for LOOSE)
    slot: int = -1


class Simulation:
    """A Rapier world plus the entity ↔ handle maps and the slot arrays described above."""

    def __init__(self, gravity: tuple[float, float, float] = (0.0, -9.81, 0.0), dt: float = 1.0 / 60.0) -> None:
        self.world = rp.PhysicsWorld(gravity=gravity)
        self.world.integration_parameters.dt = dt
        self.events = rp.ChannelEventCollector()
        self.world.event_handler = self.events
        self.records: dict[int, Record] = {}
        self.by_body: dict[rp.RigidBodyHandle, int] = {}  # body handle → slot
        self.by_collider: dict[rp.ColliderHandle, int] = {}  # collider handle → entity
        self.slots: list[Record] = []
        # slot → live rapier RigidBody view (None for LOOSE): an object array, so the awake slots'
        # views are one gather (``view_of[slots].tolist()``) instead of a Python call per slot
        self.view_of = np.full(64, None, object)
        self.row_of = np.zeros(64, np.int64)
        self.kind_of = np.zeros(64, np.int8)
        self.last = np.zeros((64, 10), np.float64)
        # rapier body handle index → slot; the last entry is never assigned (always -1), so a clipped
        # gather maps an index past the end (a body the simulation does not know) to -1
        self.slot_of_index = np.full(64, -1, np.int64)
        self.dynamic_slot_of_index = np.full(64, -1, np.int64)  # the same, -1 unless the body is DYNAMIC
        # by handle index, for checking a bulk RigidBodySet blob: the generation and the entity (-1: none)
        self.gen_of_index = np.full(64, -1, np.int64)
        self.entity_of_index = np.full(64, -1, np.int64)
        self.index_of_slot = np.full(64, -1, np.int64)  # slot → its body's handle index (-1: no body)
        self._dynamic = (-1, np.zeros(0, np.int64))  # (structure_version, every DYNAMIC slot ascending)
        self._blob_refused = -1  # structure_version at which the body blob last did not fit: not retried until it changes
        self.structure_version = 0  # bumped whenever slots or rows change
        self.queries_dirty = True

    # ------------------------------------------------------------------ structure

    @property
    def dt(self) -> float:
        """The fixed step in seconds."""
        return float(self.world.integration_parameters.dt)

    def _grow(self) -> None:
        n = len(self.row_of) * 2
        for name in ("row_of", "kind_of", "last", "view_of", "index_of_slot"):
            old = getattr(self, name)
            new = np.zeros((n,) + old.shape[1:], old.dtype) if old.dtype != object else np.full(n, None, object)
            if name == "index_of_slot":
                new[:] = -1
            new[: len(old)] = old
            setattr(self, name, new)

    def _index_slot(self, rec: Record, slot: int) -> None:
        handle, kind = rec.body, rec.kind
        self.index_of_slot[slot] = -1 if handle is None else handle.index
        if handle is None:
            return
        i = handle.index
        if i + 1 >= len(self.slot_of_index):  # keep the last entry free (the -1 sentinel)
            n = max(2 * len(self.slot_of_index), i + 2)
            for name in ("slot_of_index", "dynamic_slot_of_index", "gen_of_index", "entity_of_index"):
                old = getattr(self, name)
                grown = np.full(n, -1, np.int64)
                grown[: len(old)] = old
                setattr(self, name, grown)
        self.slot_of_index[i] = slot
        self.dynamic_slot_of_index[i] = slot if kind == DYNAMIC else -1
        self.gen_of_index[i] = handle.generation
        self.entity_of_index[i] = rec.entity

    def add(
        self,
        where: str,
        entity: int,
        row: int,
        pose10: np.ndarray,
        body: RigidBody | None,
        collider: Collider | None,
        spec: ShapeSpec | None,
    ) -> Record:
        """Create the body and/or collider of ``entity`` at ``pose10`` (10,) = pos, rot, scale.

        A collider without a RigidBody is LOOSE: attached to no body, the cheapest kind of scenery
        (a ``RigidBody("static")`` makes a fixed body, which joints can attach to).
        """
        if entity in self.records:
            self.remove(entity)
        iso = iso_from_pose(pose10[:7])
        cb = collider_builder(where, spec, collider) if collider is not None and spec is not None else None
        if cb is not None:
            cb = cb.user_data(entity)
        bh = ch = view = None
        if body is None:
            kind = LOOSE
            assert cb is not None
            ch = self.world.add_collider(cb.position(compose(iso, spec)))
        else:
            kind = _KIND_CODE[body.kind]
            bb = {
                DYNAMIC: rp.RigidBody.dynamic,
                KINEMATIC: rp.RigidBody.kinematic_position_based,
                FIXED: rp.RigidBody.fixed,
            }[kind]()
            bb = (
                bb.position(iso)
                .linear_damping(body.linear_damping)
                .angular_damping(body.angular_damping)
                .gravity_scale(body.gravity_scale)
                .ccd_enabled(body.ccd)
                .can_sleep(body.can_sleep)
                .enabled_translations(tuple(not b for b in body.lock_translation))
                .enabled_rotations(tuple(not b for b in body.lock_rotation))
                .user_data(entity)
            )
            if cb is not None:
                if body.mass is not None:
                    cb = cb.mass(body.mass)
                else:
                    cb = cb.density(body.density)
            elif kind == DYNAMIC:
                bb = bb.additional_mass(body.mass if body.mass is not None else 1.0)
            bh = self.world.add_body(bb)
            if cb is not None:
                ch = self.world.add_collider(cb, bh)
            view = self.world.rigid_bodies[bh]
        rec = Record(entity, kind, bh, ch, spec, view)
        slot = len(self.slots)
        if slot == len(self.row_of):
            self._grow()
        rec.slot = slot
        self.slots.append(rec)
        self.view_of[slot] = view
        self.row_of[slot] = row
        self.kind_of[slot] = kind
        self.last[slot] = pose10
        self.records[entity] = rec
        self._index_slot(rec, slot)
        if bh is not None:
            self.by_body[bh] = slot
        if ch is not None:
            self.by_collider[ch] = entity
        self.queries_dirty = True
        self.structure_version += 1
        return rec

    def adopt(self, rec: Record, row: int, pose10: np.ndarray) -> None:
        """Register a record whose body/collider already live in ``self.world`` (a restored snapshot)."""
        slot = len(self.slots)
        if slot == len(self.row_of):
            self._grow()
        rec.slot = slot
        self.slots.append(rec)
        self.view_of[slot] = rec.view
        self.row_of[slot] = row
        self.kind_of[slot] = rec.kind
        self.last[slot] = pose10
        self.records[rec.entity] = rec
        self.structure_version += 1
        self._index_slot(rec, slot)
        if rec.body is not None:
            self.by_body[rec.body] = slot
        if rec.collider is not None:
            self.by_collider[rec.collider] = rec.entity

    def remove(self, entity: int) -> bool:
        """Remove an entity's body, collider and attached joints; False if it had none."""
        rec = self.records.pop(entity, None)
        if rec is None:
            return False
        self.structure_version += 1
        if rec.body is not None:
            self.world.remove_body(rec.body)
            del self.by_body[rec.body]
            for table in (self.slot_of_index, self.dynamic_slot_of_index, self.gen_of_index, self.entity_of_index):
                table[rec.body.index] = -1
        elif rec.collider is not None:
            self.world.remove_collider(rec.collider)
        if rec.collider is not None:
            self.by_collider.pop(rec.collider, None)
        # swap-remove the slot
        slot, end = rec.slot, len(self.slots) - 1
        if slot != end:
            moved = self.slots[end]
            self.slots[slot] = moved
            self.view_of[slot] = moved.view
            moved.slot = slot
            self.row_of[slot] = self.row_of[end]
            self.kind_of[slot] = self.kind_of[end]
            self.last[slot] = self.last[end]
            self._index_slot(moved, slot)
            if moved.body is not None:
                self.by_body[moved.body] = slot
        self.slots.pop()
        self.view_of[end] = None
        self.index_of_slot[end] = -1
        self.queries_dirty = True
        return True

    def reshape(self, where: str, entity: int, spec: ShapeSpec, collider: Collider) -> None:
        """Give an entity's collider a new shape (its proxy or scale changed), keeping its body."""
        rec = self.records[entity]
        if rec.collider is None:
            return
        c = self.world.colliders[rec.collider]
        c.shape = build_shape(where, spec)
        if rec.body is None:
            c.position = compose(_uncompose(c.position, rec.spec), spec)
        else:
            c.position_wrt_parent = rp.Isometry3(spec[1])
            rec.view.recompute_mass_properties_from_colliders(self.world.colliders)
            rec.view.wake_up()
        rec.spec = spec
        self.queries_dirty = True

    # ------------------------------------------------------------------ motion

    def set_pose(self, rec: Record, pose7: np.ndarray) -> None:
        """Teleport (dynamic/fixed), move on the next step (kinematic) or place (loose) to ``pose7``."""
        iso = iso_from_pose(pose7)
        if rec.kind == LOOSE:
            assert rec.collider is not None
            self.world.colliders[rec.collider].position = compose(iso, rec.spec)
        elif rec.kind == KINEMATIC:
            rec.view.set_next_kinematic_position(iso)
        else:
            rec.view.position = iso
            if rec.kind == DYNAMIC:
                rec.view.wake_up()
        self.queries_dirty = True

    def step(self) -> None:
        """Advance Rapier by one fixed step."""
        self.world.step()
        self.queries_dirty = False  # the step refreshed the broad phase the queries read

    def awake_dynamic_slots(self) -> np.ndarray:
        """(K,) int64 sorted slots of the dynamic bodies Rapier moved in the last step (awake ones)."""
        n = len(self.by_body)
        if n and len(self.world.islands) == n == len(self.world.rigid_bodies):
            # every body of the world is ours and in the active set (the island manager's length is
            # the active-set size, O(1)): every dynamic slot, without a handle or hash per body
            return self.dynamic_slots().copy()
        act = self.world.active_bodies()
        if not act:
            return np.zeros(0, np.int64)
        if _HASH_SHIFT is not None:
            idx = np.fromiter(map(hash, act), np.int64, len(act))
            if _HASH_SHIFT:
                idx >>= _HASH_SHIFT
            idx &= 0xFFFFFFFF
        else:  # pragma: no cover
            idx = np.fromiter(map(_INDEX, act), np.int64, len(act))
        # one clipped gather (indices past the table hit its -1 sentinel) and one in-place sort; the
        # -1s of non-dynamic bodies sort first and are cut with a view, not a boolean pass
        slots = np.take(self.dynamic_slot_of_index, idx, mode="clip")
        slots.sort()
        if slots[0] < 0:
            slots = slots[np.searchsorted(slots, 0):]
        return slots

    def dynamic_slots(self) -> np.ndarray:
        """(D,) int64 every DYNAMIC slot, ascending (cached until the next structural change; do not modify)."""
        version, slots = self._dynamic
        if version != self.structure_version:
            slots = np.flatnonzero(self.kind_of[: len(self.slots)] == DYNAMIC).astype(np.int64)
            self._dynamic = (self.structure_version, slots)
        return slots

    def _awake_dynamic_slots(self) -> np.ndarray:
        """Plain twin of :meth:`awake_dynamic_slots`: the ``index`` attribute of each handle."""
        idx = np.array([h.index for h in self.world.active_bodies()], np.int64)
        return self._slots_of_indices(idx)

    def _slots_of_indices(self, idx: np.ndarray) -> np.ndarray:
        table = self.dynamic_slot_of_index
        if len(idx) and idx.max() >= len(table):
            idx = idx[idx < len(table)]
        slots = table[idx]
        slots = slots[slots >= 0]
        slots.sort()
        return slots

    def read_poses(self, slots: np.ndarray) -> np.ndarray:
        """(K, 7) float64 poses (pos, rot w-first) of the bodies in ``slots`` — the bulk fast path."""
        n = len(self.by_body)
        if len(slots) >= _BULK_MIN and 5 * len(slots) >= 3 * n:
            # most of the bodies: one RigidBodySet.to_bytes (~0.37 µs a body, sleeping ones too) beats
            # a position + to_bytes call pair per body (~0.6 µs inside a tick)
            by_index = self._poses_by_index(n)
            if by_index is not None:
                return np.take(by_index, self.index_of_slot[slots], axis=0)
        # C-level maps: slot → view → Isometry3 → 36 bytes, no Python frame per body
        blob = b"".join(map(_TO_BYTES, map(_POSITION, self.view_of[slots].tolist())))
        # one structured cast: tx ty tz qw qx qy qz as float64
        return np.frombuffer(blob, _ISO_RECORD).astype(_POSE_F64).view(np.float64).reshape(-1, 7)

    def _poses_by_index(self, n: int) -> np.ndarray | None:
        """(n, 7) float64 poses of every body by handle index (see :meth:`_parse_bodies`), or None."""
        parsed = self._parse_bodies(n)
        return None if parsed is None else parsed[0]

    def _parse_bodies(self, n: int) -> tuple[np.ndarray, np.ndarray] | None:
        """((n, 7) float64 poses, (n,) bool sleeping flags) of every body by handle index, from one
        ``RigidBodySet.to_bytes()``; None unless the arena's first ``n`` entries are our ``n`` bodies
        (indices 0..n-1: no body was removed, or its index was reused) in the layout described at
        ``_BODY_CHECK`` — every record's tag, generation and entity is checked. Free entries after
        them (the arena grows by reserving free slots) are not read."""
        if self._blob_refused == self.structure_version:  # it did not fit, and no body came or went since
            return None
        blob = self.world.rigid_bodies.to_bytes()
        if (len(blob) < 16 + n * _BODY_BYTES or blob[:8] != _SET_HEADER
                or int.from_bytes(blob[8:16], "little") < n or len(self.gen_of_index) < n):
            self._blob_refused = self.structure_version
            return None
        check = np.frombuffer(blob, _BODY_CHECK, n, 16)
        if not ((check["tag"] == 1).all() and np.array_equal(check["gen"], self.gen_of_index[:n])
                and np.array_equal(check["ud_lo"], self.entity_of_index[:n]) and not check["ud_hi"].any()):
            self._blob_refused = self.structure_version
            return None
        # (7, n) f32 rows qx qy qz qw tx ty tz, copied out of the 429-byte records once: the
        # arithmetic below then runs on contiguous rows (~2.5x faster than on the strided columns)
        t = np.frombuffer(blob, _BODY_POSE, n, 16)["pose"].T.copy()
        norm = quaternion_norms(t[0], t[1], t[2], t[3])
        out = np.empty((7, n), np.float64)
        out[0:3] = t[4:7]
        out[3] = t[3] / norm
        out[4:7] = t[0:3] / norm
        return out.T.copy(), check["sleeping"] != 0

    def bulk_awake(self) -> tuple[np.ndarray, np.ndarray] | None:
        """When most bodies are active: (awake DYNAMIC slots ascending — what
        :meth:`awake_dynamic_slots` returns —, (n, 7) poses of every body by handle index) from one
        ``RigidBodySet.to_bytes()`` and no call per body; None otherwise, or when the blob is not as
        expected or its sleeping flags do not add up to the active-set size (then use
        :meth:`awake_dynamic_slots` and :meth:`read_poses`)."""
        n = len(self.by_body)
        active = len(self.world.islands)  # the active-set size (O(1))
        if n < _BULK_MIN or 5 * active < 3 * n:
            return None
        parsed = self._parse_bodies(n)
        if parsed is None:
            return None
        poses, sleeping = parsed
        awake = ~sleeping
        if int(np.count_nonzero(awake)) != active:  # a foreign or differently flagged body: not exact
            self._blob_refused = self.structure_version
            return None
        slots = self.dynamic_slot_of_index[:n][awake]
        slots.sort()
        if len(slots) and slots[0] < 0:
            slots = slots[np.searchsorted(slots, 0):]
        return slots, poses

    def _read_poses(self, slots: np.ndarray) -> np.ndarray:
        """Reference twin of :meth:`read_poses`: one attribute read per body."""
        out = np.empty((len(slots), 7), np.float64)
        for i, s in enumerate(slots.tolist()):
            v = self.slots[s].view
            t = v.translation
            x, y, z, w = v.rotation.to_tuple()
            out[i] = (t.x, t.y, t.z, w, x, y, z)
        return out

    def update_queries(self) -> None:
        """Refresh the query structures if bodies or colliders changed since the last step."""
        if self.queries_dirty:
            self.world.update_query_pipeline()
            self.queries_dirty = False

def compose(iso: rp.Isometry3, spec: ShapeSpec | None) -> rp.Isometry3:
    """World pose of a loose collider: the entity pose times the collider's local offset."""
    if spec is None or spec[1] == (0.0, 0.0, 0.0):
        return iso
    return iso * rp.Isometry3(spec[1])


def _uncompose(iso: rp.Isometry3, spec: ShapeSpec | None) -> rp.Isometry3:
    if spec is None or spec[1] == (0.0, 0.0, 0.0):
        return iso
    return iso * rp.Isometry3(spec[1]).inverse()
