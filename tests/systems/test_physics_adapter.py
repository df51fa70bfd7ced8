"""The Rapier adapter on plain data (no ECS): slot bookkeeping through adds and swap-removes."""

from __future__ import annotations

import numpy as np

from engine.physics_components import Collider, RigidBody
from systems.physics.adapter import DYNAMIC, LOOSE, Simulation
from systems.physics.shapes import shape_spec


def pose(x: float, y: float) -> np.ndarray:
    return np.array([x, y, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0])


def test_slots_stay_consistent_through_removals_and_poses_belong_to_their_entities():
    sim = Simulation()
    ground = Collider("box", half_extents=(50, 0.5, 50))
    sim.add("ground", 1, 0, pose(0, -0.5), None, ground, shape_spec("ground", ground, None, np.ones(3)))
    box = Collider("box", half_extents=(0.25, 0.25, 0.25))
    spec = shape_spec("box", box, None, np.ones(3))
    for e in range(10, 20):
        sim.add(f"e{e}", e, e, pose(float(e), 5.0 + e), RigidBody("dynamic"), box, spec)
    for e in (12, 15, 19, 10):
        assert sim.remove(e)
    assert not sim.remove(12)
    for _ in range(10):
        sim.step()
    alive = sorted(sim.records)
    assert alive == [1, 11, 13, 14, 16, 17, 18]
    for s, rec in enumerate(sim.slots):
        assert rec.slot == s and sim.records[rec.entity] is rec
        if rec.body is not None:
            assert sim.by_body[rec.body] == s and sim.slot_of_index[rec.body.index] == s
    assert sim.kind_of[sim.records[1].slot] == LOOSE
    slots = sim.awake_dynamic_slots()
    assert sorted(sim.slots[s].entity for s in slots) == [11, 13, 14, 16, 17, 18]
    assert all(sim.kind_of[s] == DYNAMIC for s in slots)
    poses = sim.read_poses(slots)
    for s, p in zip(slots.tolist(), poses, strict=True):
        e = sim.slots[s].entity
        assert p[0] == np.float32(e)  # each body kept its own x
        assert p[1] < 5.0 + e  # and fell
    assert np.array_equal(poses, sim._read_poses(slots))


def _crates(n: int, removed: tuple[int, ...] = ()) -> Simulation:
    """``n`` tumbling dynamic boxes over a ground collider (entities 10..), some then removed."""
    sim = Simulation()
    ground = Collider("box", half_extents=(80, 0.5, 80))
    sim.add("ground", 1, 0, pose(0, -0.5), None, ground, shape_spec("ground", ground, None, np.ones(3)))
    box = Collider("box", half_extents=(0.25, 0.25, 0.25))
    spec = shape_spec("box", box, None, np.ones(3))
    for i in range(n):
        p = pose(1.1 * (i % 10), 0.6 + 0.9 * (i // 10))
        p[3:7] = (np.cos(0.1 * i), np.sin(0.1 * i), 0.0, 0.0)  # tilted, so they land and roll
        sim.add(f"e{i}", 10 + i, 1 + i, p, RigidBody("dynamic"), box, spec)
    for e in removed:
        sim.remove(e)
    return sim


def test_bulk_pose_read_matches_the_per_body_twin_bit_for_bit():
    """Most bodies read: the one-blob RigidBodySet path (its quaternion normalisation included) gives
    exactly what the per-body getters give, as the bodies fall, collide, roll and fall asleep."""
    sim = _crates(90)
    used = 0
    for t in range(240):
        sim.step()
        slots = sim.dynamic_slots()
        assert sim._poses_by_index(len(sim.by_body)) is not None
        fast, ref = sim.read_poses(slots), sim._read_poses(slots)
        assert np.array_equal(fast.view(np.int64), ref.view(np.int64)), t
        ref_awake = sim._awake_dynamic_slots()
        assert np.array_equal(sim.awake_dynamic_slots(), ref_awake), t
        bulk = sim.bulk_awake()
        if bulk is not None:  # most bodies active: awake set and poses from the one blob
            assert np.array_equal(bulk[0], ref_awake), t
            assert np.array_equal(np.take(bulk[1], sim.index_of_slot[slots], axis=0), ref), t
            used += 1
        else:
            assert 5 * len(sim.world.islands) < 3 * len(sim.by_body), t
    assert 0 < used < 240 and len(sim._awake_dynamic_slots()) < 90  # some fell asleep on the way


def test_bulk_pose_read_falls_back_when_the_arena_is_not_ours_in_order():
    """A removed body leaves a free arena entry; a body without a collider has a shorter record; a
    body put into Rapier behind the simulation's back among the first entries is not ours: the
    per-body path is used (a foreign body after ours is simply not read)."""
    import rapier3d as rp

    sim = _crates(80, removed=(15,))
    assert sim._poses_by_index(len(sim.by_body)) is None
    slots = sim.dynamic_slots()
    assert np.array_equal(sim.read_poses(slots), sim._read_poses(slots))
    assert sim._blob_refused == sim.structure_version  # not serialised again every tick
    box = Collider("box", half_extents=(0.25, 0.25, 0.25))
    sim.add("again", 15, 16, pose(3, 3), RigidBody("dynamic"), box, shape_spec("box", box, None, np.ones(3)))
    assert sim._poses_by_index(len(sim.by_body)) is not None  # the free entry was reused: the blob fits again

    sim = _crates(80)
    sim.add("frame", 5, 100, pose(0, 9), RigidBody("static"), None, None)  # a body with no collider
    assert sim._poses_by_index(len(sim.by_body)) is None
    sim.step()
    slots = sim.dynamic_slots()
    assert np.array_equal(sim.read_poses(slots), sim._read_poses(slots))

    sim = _crates(80)
    sim.world.add_body(rp.RigidBody.dynamic().translation((0.0, 30.0, 0.0)))  # index 81, after ours
    assert sim._poses_by_index(len(sim.by_body)) is not None  # ours are still entries 0..80: usable
    foreign = _crates(80)
    foreign.world.add_body(rp.RigidBody.dynamic().translation((0.0, 30.0, 0.0)))
    foreign.remove(12)  # a free entry among the first n, and the foreign body counted in them
    assert foreign._poses_by_index(len(foreign.by_body)) is None
    sim.step()
    slots = sim.dynamic_slots()
    assert np.array_equal(sim.read_poses(slots), sim._read_poses(slots))
    assert np.array_equal(sim.awake_dynamic_slots(), sim._awake_dynamic_slots())
