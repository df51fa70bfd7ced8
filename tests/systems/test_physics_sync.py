"""ECS ↔ Rapier synchronisation: spawn/despawn, teleports, resizes, kinematic movers, fast paths."""

from __future__ import annotations

import numpy as np
import pytest

from engine.components import Proxy, Transform
from engine.game import Game
from engine.physics_components import Collider, RigidBody


def make_game() -> Game:
    return Game(seed=0, systems=["scripts", "physics", "rules", "layout"])


def settle(g: Game, n: int = 200) -> None:
    for _ in range(n):
        g.tick()


def test_spawn_and_despawn_mid_game():
    g = make_game()
    g.ground()
    settle(g, 5)
    box = g.box(pos=(0, 2, 0), physics="dynamic", uid="late")
    g.tick()
    y1 = g.get(box, Transform).pos[1]
    assert y1 < 2.0  # it is simulated from its first tick
    assert g.physics.raycast((0, 5, 0), (0, -1, 0)).uid == "late"
    g.despawn(box)
    g.tick()
    assert g.physics.raycast((0, 5, 0), (0, -1, 0)).uid == "ground"
    assert box not in g.system("physics").sim.records


def test_removing_the_collider_component_removes_the_body():
    g = make_game()
    g.ground()
    box = g.box(pos=(0, 0.5, 0), physics="static", uid="b")
    g.tick()
    assert g.physics.raycast((0, 5, 0), (0, -1, 0)).uid == "b"
    g.world.remove(box, Collider)
    assert g.physics.raycast((0, 5, 0), (0, -1, 0)).uid == "ground"


def test_teleport_by_writing_the_transform():
    g = make_game()
    g.ground()
    box = g.box(pos=(0, 0.5, 0), physics="dynamic")
    settle(g, 120)
    assert g.physics.is_sleeping(box)
    g.move(box, (5.0, 4.0, 0.0))  # a script teleports the sleeping crate
    g.tick()
    p = g.get(box, Transform).pos
    assert p[0] == pytest.approx(5.0, abs=1e-5) and 3.9 < p[1] < 4.0  # then it falls from there
    settle(g, 200)
    assert g.get(box, Transform).pos[1] == pytest.approx(0.5, abs=0.01)


def test_collider_follows_a_resized_proxy():
    g = make_game()
    g.ground()
    wall = g.box(pos=(0, 1, 3), half_extents=(1, 1, 0.5), physics="static", uid="wall")
    assert g.physics.raycast((0, 1, 0), (0, 0, 1)).distance == pytest.approx(2.5, abs=1e-4)
    g.restyle(wall, half_extents=(1, 1, 1.5))
    g.tick()
    assert g.physics.raycast((0, 1, 0), (0, 0, 1)).distance == pytest.approx(1.5, abs=1e-4)
    g.get(wall, Transform).scale = (1, 1, 2)  # scaling the entity scales its collider
    g.tick()
    assert g.physics.raycast((0, 1, 0), (0, 0, 1)).distance == pytest.approx(0.0, abs=1e-4)


def test_dynamic_body_mass_follows_a_resized_proxy():
    g = make_game()
    g.ground()
    box = g.box(pos=(0, 0.5, 0), physics="dynamic")
    g.tick()
    m1 = g.physics.mass(box)
    g.restyle(box, half_extents=(1, 1, 1))
    g.tick()
    assert g.physics.mass(box) == pytest.approx(8 * m1, rel=1e-4)


def test_kinematic_platform_moved_by_a_script_carries_a_box_and_pushes_another():
    g = make_game()
    g.ground()
    plat = g.spawn(Transform((0, 0.3, 0)), Proxy("box", (2, 0.1, 2)), RigidBody("kinematic"), Collider(), uid="platform")
    rider = g.box(pos=(0, 0.9, 0), physics="dynamic", uid="rider")
    settle(g, 60)

    @g.every_tick
    def lift(game: Game, dt: float) -> None:
        t = game.get(plat, Transform)
        if t.pos[1] < 2.0:
            t.pos[1] += 1.0 * dt

    settle(g, 150)
    assert g.get(plat, Transform).pos[1] == pytest.approx(2.0, abs=0.02)
    assert g.get(rider, Transform).pos[1] == pytest.approx(2.0 + 0.1 + 0.5, abs=0.03)


def test_only_moving_bodies_are_published_as_moved():
    g = make_game()
    g.ground()
    rest = g.box(pos=(-3, 0.5, 0), physics="dynamic", uid="resting")
    settle(g, 150)
    g.box(pos=(3, 4, 0), physics="dynamic", uid="falling")
    moved_uids: set[str] = set()
    for _ in range(30):
        moved_uids |= {uid for uid, _ in g.tick().moved}
    assert "falling" in moved_uids
    assert "resting" not in moved_uids
    assert g.physics.is_sleeping(rest)


def test_bulk_pose_read_matches_the_reference_twin():
    g = make_game()
    g.ground()
    for i in range(20):
        g.box(pos=(0.2 * i, 1 + i, 0.1 * i), physics="dynamic", yaw=13.0 * i)
    settle(g, 25)
    sim = g.system("physics").sim
    slots = np.arange(len(sim.slots))
    slots = slots[sim.kind_of[slots] == 0]
    assert len(slots) == 20
    assert np.array_equal(sim.read_poses(slots), sim._read_poses(slots))


def test_awake_slots_match_the_per_handle_reference_as_bodies_fall_asleep():
    g = make_game()
    g.ground()
    boxes = [g.box(pos=(1.5 * i, 1 + 0.5 * i, 0), physics="dynamic") for i in range(8)]
    g.despawn(boxes[3])  # a freed slot and handle index in the middle
    sim = g.system("physics").sim
    seen = set()
    for _ in range(300):
        g.tick()
        fast, ref = sim.awake_dynamic_slots(), sim._awake_dynamic_slots()
        assert np.array_equal(fast, ref) and fast.dtype == np.int64
        seen.add(len(fast))
    assert 7 in seen and 0 in seen  # covered all awake and all asleep


def test_vectorised_pull_matches_the_per_body_reference():
    def run(reference: bool) -> np.ndarray:
        g = make_game()
        g.ground()
        ents = [g.box(pos=(0.3 * i, 1 + 0.8 * i, 0), physics="dynamic", yaw=7.0 * i) for i in range(12)]
        sys = g.system("physics")
        if reference:
            sys.sync.pull_poses = lambda world: sys.sync._pull_reference(world)
        out = []
        for _ in range(90):
            g.tick()
            out.append([g.get(e, Transform)._data.copy() for e in ents])
        return np.array(out)

    assert np.array_equal(run(False), run(True))


def test_replays_are_deterministic_with_physics():
    def run() -> np.ndarray:
        g = make_game()
        g.ground()
        ents = [g.box(pos=(0.2 * i, 1 + i, 0.05 * i), physics="dynamic", yaw=11.0 * i) for i in range(10)]
        for _ in range(100):
            g.tick()
        return np.array([g.get(e, Transform)._data for e in ents])

    assert np.array_equal(run(), run())


def test_despawning_a_hinge_frame_frees_the_door():
    g = make_game()
    g.ground()
    frame = g.spawn(Transform((0, 3, 0)), RigidBody("static"), uid="frame")
    from engine.physics_components import Joint

    door = g.spawn(Transform((0, 2, 0)), RigidBody("dynamic"), Collider("box", half_extents=(0.2, 0.2, 0.2)),
                   Joint("ball", other="frame", anchor=(0, 1, 0)), uid="door")
    for _ in range(30):
        g.tick()
    assert g.get(door, Transform).pos[1] == pytest.approx(2.0, abs=0.02)
    g.despawn(frame)
    for _ in range(60):
        g.tick()
    assert g.get(door, Transform).pos[1] == pytest.approx(0.2, abs=0.02)  # fell to the ground


def test_character_walks_through_colliders_its_mask_excludes():
    from engine.physics_components import CharacterController

    def run(mask: int) -> float:
        g = make_game()
        g.ground()
        g.spawn(Transform((2, 1, 0)), Collider("box", half_extents=(0.2, 1, 2), groups=0b100), uid="ghost-wall")
        hero = g.spawn(Transform((0, 0.02, 0)), RigidBody("kinematic"),
                       Collider("capsule", radius=0.3, half_height=0.35, offset=(0, 0.67, 0), mask=mask),
                       CharacterController(), uid="hero")
        g.get(hero, CharacterController).walk = np.array([2.0, 0.0, 0.0])
        for _ in range(120):
            g.tick()
        return float(g.get(hero, Transform).pos[0])

    assert run(0xFFFFFFFF) < 1.6  # blocked by the wall at x = 1.8
    assert run(0xFFFFFFFF & ~0b100) > 3.0  # its mask ignores group 2: walks through


def test_body_options_locked_axes_gravity_scale_damping_and_mass():
    g = make_game()
    g.ground()
    floater = g.spawn(Transform((0, 3, 0)), Proxy("box"), RigidBody("dynamic", gravity_scale=0.0), Collider(), uid="floater")
    rail = g.spawn(Transform((3, 3, 0)), Proxy("box"), RigidBody("dynamic", lock_translation=(True, False, True),
                                                                  lock_rotation=(True, True, True)), Collider(), uid="rail")
    heavy = g.spawn(Transform((-3, 3, 0)), Proxy("box"), RigidBody("dynamic", mass=42.0, ccd=True), Collider(), uid="heavy")
    damped = g.spawn(Transform((6, 3, 0)), Proxy("box"), RigidBody("dynamic", gravity_scale=0.0, linear_damping=5.0),
                     Collider(), uid="damped")
    g.physics.set_velocity(rail, (5.0, 0.0, 5.0), angular=(3.0, 3.0, 3.0))
    g.physics.set_velocity(damped, (5.0, 0.0, 0.0))
    for _ in range(60):
        g.tick()
    assert g.get(floater, Transform).pos[1] == pytest.approx(3.0)
    r = g.get(rail, Transform)
    assert r.pos[0] == pytest.approx(3.0, abs=1e-6) and r.pos[2] == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(r.rot, [1, 0, 0, 0], atol=1e-6)
    assert r.pos[1] == pytest.approx(0.5, abs=0.01)
    assert g.physics.mass(heavy) == pytest.approx(42.0, rel=1e-5)
    assert np.linalg.norm(g.physics.velocity(damped)) < 0.5


def test_character_rides_a_moving_platform():
    from engine.physics_components import CharacterController

    g = make_game()
    g.ground()
    plat = g.spawn(Transform((0, 0.5, 0)), Proxy("box", (1.5, 0.1, 1.5)), RigidBody("kinematic"), Collider(), uid="lift")
    hero = g.spawn(Transform((0, 0.62, 0)), RigidBody("kinematic"),
                   Collider("capsule", radius=0.3, half_height=0.35, offset=(0, 0.67, 0)), CharacterController(), uid="hero")
    for _ in range(10):
        g.tick()
    assert g.get(hero, CharacterController).grounded

    @g.every_tick
    def slide(game: Game, dt: float) -> None:
        game.get(plat, Transform).pos[0] += 1.0 * dt  # 1 m/s along +x

    for _ in range(60):
        g.tick()
    assert g.get(plat, Transform).pos[0] == pytest.approx(1.0, abs=1e-6)
    assert g.get(hero, Transform).pos[0] == pytest.approx(1.0, abs=0.05)  # carried along
    assert g.get(hero, Transform).pos[1] == pytest.approx(0.6, abs=0.05)  # still on top


def test_touch_log_push_matches_the_per_slot_reference():
    def run(reference: bool) -> np.ndarray:
        g = make_game()
        g.ground()
        crates = [g.box(pos=(0.4 * i, 1 + i, 0), physics="dynamic", yaw=9.0 * i) for i in range(6)]
        plat = g.spawn(Transform((3, 0.3, 0)), Proxy("box", (1, 0.1, 1)), RigidBody("kinematic"), Collider(), uid="p")
        wall = g.box(pos=(-3, 1, 0), half_extents=(0.2, 1, 1), physics="static", uid="w")
        sync = g.system("physics").sync
        if reference:
            sync.push_poses = sync._push_reference
        out = []
        for t in range(90):
            if t == 20:
                g.move(crates[0], (0, 6, 0))  # teleport
            if t == 30:
                g.get(wall, Transform).scale = (1, 2, 1)  # rescale a static collider
            if t in (40, 50):  # a writer bypassing Transform: marks the row, or everything
                row = g.world.table.row_of[crates[1 if t == 40 else 2]]
                g.world.table.data[row, 1] += 3.0
                g.world.table.mark(np.array([row])) if t == 40 else g.world.table.mark_all()
            g.get(plat, Transform).pos[1] = 0.3 + 0.01 * t  # kinematic lift
            g.tick()
            out.append([g.get(e, Transform)._data.copy() for e in crates])
        return np.array(out)

    assert np.array_equal(run(False), run(True))


def test_torque_impulse_spins_a_body_about_the_axis():
    g = make_game()
    wheel = g.spawn(Transform((0, 3, 0)), Proxy("cylinder", (0.5, 0.1, 0.5)), RigidBody("dynamic", gravity_scale=0.0,
                    angular_damping=0.0), Collider(), uid="wheel")
    g.tick()
    g.physics.apply_torque_impulse(wheel, (0, 5.0, 0))
    g.tick()
    w = g.physics.angular_velocity(wheel)
    assert w[1] > 0.1 and abs(w[0]) < 1e-6 and abs(w[2]) < 1e-6


def test_vectorised_pull_matches_the_reference_through_spawns_despawns_and_kinematic_movers():
    """The fast pull (awake stamps, void-field writes, cached slot views) against the per-body twin
    while slots are swap-removed and reused and a kinematic platform sits in Rapier's active set."""

    def run(reference: bool) -> tuple[list[np.ndarray], list[list[str]]]:
        g = make_game()
        g.ground()
        plat = g.spawn(Transform((6, 1, 0)), Proxy("box", (1, 0.1, 1)), RigidBody("kinematic"),
                       Collider("box", half_extents=(1, 0.1, 1)), uid="platform")
        ents = {f"b{i}": g.box(pos=(0.4 * i, 1 + 0.7 * i, 0.1 * i), physics="dynamic", yaw=9.0 * i, uid=f"b{i}")
                for i in range(10)}
        sys = g.system("physics")
        if reference:
            sys.sync.pull_poses = lambda world: sys.sync._pull_reference(world)
        out, moved = [], []
        for t in range(120):
            g.get(plat, Transform).pos = (6.0, 1.0 + 0.01 * t, 0.0)
            if t == 10:
                g.despawn(ents.pop("b2"))  # a swap-remove in the middle of the awake set
            if t == 20:
                ents["late"] = g.box(pos=(0.5, 4, 0.5), physics="dynamic", uid="late")
            if t == 40:
                g.despawn(ents.pop("b9"))
                g.despawn(ents.pop("b0"))
            delta = g.tick()
            moved.append(list(delta.moved.uids))
            out.append(np.array([g.get(e, Transform)._data for _, e in sorted(ents.items())]))
        return out, moved

    fast, ref = run(False), run(True)
    assert len(fast[0]) == len(ref[0]) == 120
    assert all(np.array_equal(a, b) for a, b in zip(fast[0], ref[0], strict=True))
    assert fast[1] == ref[1]
    assert any("late" in m for m in fast[1]) and any("platform" in m for m in fast[1])


def test_awake_slots_ignore_bodies_the_simulation_does_not_know():
    """Bodies put straight into the Rapier world (handle indices past the slot table) map to no slot."""
    import rapier3d as rp

    g = make_game()
    g.ground()
    boxes = [g.box(pos=(1.5 * i, 1 + 0.5 * i, 0), physics="dynamic") for i in range(3)]
    sim = g.system("physics").sim
    g.tick()
    for i in range(len(sim.dynamic_slot_of_index) + 3):  # indices beyond the table's last entry
        sim.world.add_body(rp.RigidBody.dynamic().translation((40.0 + 2 * i, 5.0, 0.0)))
    for _ in range(3):
        g.tick()
        fast, ref = sim.awake_dynamic_slots(), sim._awake_dynamic_slots()
        assert np.array_equal(fast, ref)
        assert sorted(sim.slots[s].entity for s in fast) == sorted(boxes)
    assert sim.dynamic_slot_of_index[-1] == -1  # the sentinel the clipped gather relies on


def test_pull_through_the_bulk_blob_matches_the_per_body_reference():
    """Enough bodies that the pull reads them from one RigidBodySet blob while most are awake, then
    per body as they settle: transforms and moved lists equal the per-body twin's, tick for tick."""

    def run(reference: bool) -> tuple[list[np.ndarray], list[list[str]], int]:
        g = make_game()
        g.ground()
        ents = [g.box(pos=(1.1 * (i % 9), 0.6 + 0.9 * (i // 9), 0.05 * i), physics="dynamic", yaw=17.0 * i,
                      uid=f"c{i:02d}") for i in range(72)]
        sys = g.system("physics")
        bulk_ticks = [0]
        if reference:
            sys.sync.pull_poses = lambda world: sys.sync._pull_reference(world)
        else:
            fast = sys.sim.bulk_awake

            def counted():
                r = fast()
                bulk_ticks[0] += r is not None
                return r

            sys.sim.bulk_awake = counted
        out, moved = [], []
        for _ in range(360):
            moved.append(list(g.tick().moved.uids))
            out.append(np.array([g.get(e, Transform)._data for e in ents]))
        return out, moved, bulk_ticks[0]

    fast, ref = run(False), run(True)
    assert all(np.array_equal(a.view(np.int64), b.view(np.int64)) for a, b in zip(fast[0], ref[0], strict=True))
    assert fast[1] == ref[1]
    assert 0 < fast[2] < 360  # the blob path ran, and the per-body path took over as bodies slept
