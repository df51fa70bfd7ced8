"""Acceptance checks of the physics feature with real Rapier (issue 3)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.components import Transform
from engine.game import Game
from engine.physics_components import CharacterController, Collider, Joint, RigidBody


def make_game() -> Game:
    return Game(seed=0, systems=["scripts", "physics", "rules", "layout"])


def world_aabb(t: Transform, half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Oracle: the world AABB (min (3,), max (3,)) of a box with half-extents ``half`` at ``t``."""
    w, x, y, z = t.rot
    r = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )
    ext = np.abs(r) @ (np.asarray(half) * t.scale)
    return t.pos - ext, t.pos + ext


def test_box_dropped_on_ground_rests_at_its_half_height_and_stops_publishing_moves():
    g = make_game()
    g.ground()
    box = g.box(pos=(0, 3, 0), half_extents=(0.5, 0.25, 0.5), physics="dynamic", uid="crate")
    for _ in range(240):
        delta = g.tick()
    t = g.get(box, Transform)
    lo, hi = world_aabb(t, np.array([0.5, 0.25, 0.5]))
    assert lo[1] == pytest.approx(0.0, abs=0.01)  # resting on the ground's surface (y = 0)
    assert hi[1] == pytest.approx(0.5, abs=0.01)
    assert t.pos[1] == pytest.approx(0.25, abs=0.01)
    assert g.physics.is_sleeping(box)
    assert all(uid != "crate" for uid, _ in delta.moved)  # at rest: no moved entry
    assert not g.tick().moved


def test_box_falls_like_gravity_says_before_landing():
    g = make_game()
    g.ground()
    box = g.box(pos=(0, 10, 0), physics="dynamic")
    for _ in range(30):
        g.tick()
    y = g.get(box, Transform).pos[1]
    t = 30 / 60
    assert y == pytest.approx(10 - 0.5 * 9.81 * t * t, abs=0.02)  # Rapier substeps: close to analytic


def _walk(step_h: float | None = None, slope_deg: float | None = None, autostep: float = 0.3, max_slope: float = 45.0):
    g = make_game()
    g.ground()
    if step_h is not None:
        g.box(pos=(3, step_h / 2, 0), half_extents=(1.5, step_h / 2, 2), material="stone", physics="static", uid="step")
    if slope_deg is not None:
        a = math.radians(slope_deg)
        q = np.array([math.cos(a / 2), 0, 0, math.sin(a / 2)])
        g.box(pos=(2 + 5 * math.cos(a), 5 * math.sin(a) - 0.1, 0), half_extents=(5, 0.1, 2), rot=q, physics="static", uid="slope")
    hero = g.spawn(
        Transform((0, 0.02, 0)),
        RigidBody("kinematic"),
        Collider("capsule", radius=0.3, half_height=0.35, offset=(0, 0.67, 0)),
        CharacterController(autostep_height=autostep, max_slope_deg=max_slope),
        uid="hero",
    )
    cc = g.get(hero, CharacterController)
    cc.walk = np.array([2.0, 0.0, 0.0])
    ys, xs = [], []
    for _ in range(150):
        g.tick()
        p = g.get(hero, Transform).pos
        ys.append(p[1])
        xs.append(p[0])
    return np.array(xs), np.array(ys), cc


def test_character_climbs_a_step_below_its_autostep_height():
    xs, ys, cc = _walk(step_h=0.2, autostep=0.3)
    assert ys.max() == pytest.approx(0.2, abs=0.03)  # stood on top of the step
    assert xs[-1] > 4.0  # and kept walking across it
    assert cc.grounded


def test_character_is_stopped_by_a_step_above_its_autostep_height():
    xs, ys, _ = _walk(step_h=0.45, autostep=0.3)
    assert ys.max() < 0.05
    assert xs[-1] < 1.5 - 0.3 + 0.05  # blocked at the step's face (x = 1.5) minus the radius


def test_character_walks_up_a_gentle_slope_but_not_a_steep_one():
    _, ys_gentle, _ = _walk(slope_deg=30, max_slope=45)
    xs_steep, ys_steep, _ = _walk(slope_deg=60, max_slope=45)
    assert ys_gentle.max() > 1.0
    assert ys_steep.max() < 0.1
    assert xs_steep[-1] < 2.5


def test_trigger_fires_enter_and_exit_exactly_once_each():
    g = make_game()
    g.ground()
    zone = g.spawn(Transform((0, 1, 0)), Collider("box", half_extents=(1, 1, 1), sensor=True), uid="zone")
    ball = g.spawn(Transform((0, 6, 0)), RigidBody("dynamic"), Collider("sphere", radius=0.25), uid="ball")
    seen: list[tuple[str, str | None, str | None]] = []
    g.on("trigger_enter")(lambda game, ev: seen.append(("enter", ev.sensor_uid, ev.other_uid)))
    g.on("trigger_exit")(lambda game, ev: seen.append(("exit", ev.sensor_uid, ev.other_uid)))
    for _ in range(90):
        g.tick()
    assert seen == [("enter", "zone", "ball")]
    assert g.physics.inside(zone) == [ball]
    g.physics.set_velocity(ball, (6.0, 4.0, 0.0))
    for _ in range(90):
        g.tick()
    assert seen == [("enter", "zone", "ball"), ("exit", "zone", "ball")]
    assert g.physics.inside(zone) == []


def test_raycast_returns_the_nearest_entity():
    g = make_game()
    g.ground()
    near = g.box(pos=(0, 0.5, 3), physics="static", uid="near")
    g.box(pos=(0, 0.5, 6), physics="static", uid="far")
    hit = g.physics.raycast((0, 0.5, 0), (0, 0, 1), 100.0)
    assert hit is not None and hit.entity == near and hit.uid == "near"
    assert hit.distance == pytest.approx(2.5, abs=1e-4)
    np.testing.assert_allclose(hit.point, [0, 0.5, 2.5], atol=1e-4)
    np.testing.assert_allclose(hit.normal, [0, 0, -1], atol=1e-4)
    assert [h.uid for h in g.physics.raycast_all((0, 0.5, 0), (0, 0, 1), 100.0)] == ["near", "far"]
    assert g.physics.raycast((0, 0.5, 0), (0, 0, 1), 100.0, exclude=near).uid == "far"
    assert g.physics.raycast((0, 0.5, 0), (0, 0, 1), 2.0) is None


def test_hinged_door_swings_only_within_its_limits():
    g = make_game()
    g.ground()
    g.spawn(Transform((0, 1, 0)), RigidBody("static"), uid="frame")
    door = g.spawn(
        Transform((0.5, 1, 0)),
        RigidBody("dynamic", density=300.0, angular_damping=0.0),
        Collider("box", half_extents=(0.5, 0.9, 0.05)),
        Joint("hinge", other="frame", anchor=(-0.5, 0, 0), other_anchor=(0, 0, 0), axis=(0, 1, 0), limits=(0.0, math.pi / 2)),
        uid="door",
    )
    # kick it hard both ways and check the angle about the hinge never leaves [0, 90°] (+ solver slack)
    angles = []
    for kick in (-30.0, 30.0):
        g.physics.apply_impulse(door, (0, 0, kick), point=(1.0, 1.0, 0.0))
        for _ in range(120):
            g.tick()
            w, x, y, z = g.get(door, Transform).rot
            angles.append(2 * math.atan2(y, w))  # yaw about +Y
            hinge = g.get(door, Transform).pos - np.array([0.5 * math.cos(angles[-1]), 0, -0.5 * math.sin(angles[-1])])
            np.testing.assert_allclose(hinge, [0, 1, 0], atol=0.02)  # stays on its hinge
    a = np.degrees(angles)
    assert a.min() > -3.0 and a.max() < 93.0
    assert a.max() > 80.0  # it did swing open


def test_save_mid_fall_and_load_continue_on_the_same_trajectory_bit_for_bit():
    def scene() -> tuple[Game, list[int]]:
        g = make_game()
        g.ground()
        ents = [g.box(pos=(0.3 * i, 2 + 1.2 * i, 0.1 * i), physics="dynamic", yaw=17.0 * i) for i in range(8)]
        return g, ents

    a, ents = scene()
    for _ in range(40):
        a.tick()
    state = a.system("physics").save_state()
    table = a.world.table.data.copy()
    traj_a = []
    for _ in range(80):
        a.tick()
        traj_a.append(np.array([a.get(e, Transform)._data.copy() for e in ents]))

    b, ents_b = scene()
    assert ents_b == ents
    b.world.table.data[:] = table  # the ECS half of a save (the engine restores it from the file)
    b.world.table.mark_all()  # a bulk write into the table: every tracker compares all rows
    b.system("physics").load_state(state)
    traj_b = []
    for _ in range(80):
        b.tick()
        traj_b.append(np.array([b.get(e, Transform)._data.copy() for e in ents]))
    assert np.array_equal(np.array(traj_a), np.array(traj_b))
    assert not np.array_equal(traj_a[0], traj_a[-1])  # it was really moving


def test_player_jumps_with_the_jump_action_and_lands_again():
    from engine.input import ActionState

    g = make_game()
    g.ground()
    hero = g.player(pos=(0, 0.02, 0))
    for _ in range(10):
        g.tick()
    cc = g.get(hero, CharacterController)
    assert cc.grounded
    g.tick(ActionState(down=frozenset({"jump"})))
    heights = []
    for _ in range(90):
        g.tick()
        heights.append(g.get(hero, Transform).pos[1])
    # v²/2g with the default jump speed 5 m/s: about 1.27 m
    assert max(heights) == pytest.approx(5.0**2 / (2 * 9.81), abs=0.1)
    assert heights[-1] < 0.05 and cc.grounded
