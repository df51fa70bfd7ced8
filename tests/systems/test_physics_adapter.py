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
