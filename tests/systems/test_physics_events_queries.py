"""Collision events, scene queries, joints and saves through the engine's save files."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.components import Proxy, Transform
from engine.errors import InputError
from engine.game import Game
from engine.input import ActionState
from engine.physics_components import CharacterController, Collider, Joint, RigidBody


def make_game() -> Game:
    return Game(seed=0, systems=["scripts", "physics", "rules", "layout"])


def test_collision_start_and_stop_carry_contact_data_once_per_transition():
    g = make_game()
    g.ground()
    ball = g.spawn(Transform((0, 2, 0)), RigidBody("dynamic"), Collider("sphere", radius=0.5, events=True, restitution=0.0), uid="ball")
    log: list[tuple[str, object]] = []
    g.on("collision_start")(lambda game, ev: log.append(("start", ev)))
    g.on("collision_stop")(lambda game, ev: log.append(("stop", ev)))
    for _ in range(120):
        g.tick()
    starts = [ev for kind, ev in log if kind == "start"]
    assert len(starts) == 1
    ev = starts[0]
    assert {ev.a_uid, ev.b_uid} == {"ball", "ground"}
    assert ev.point is not None and abs(ev.point[1]) < 0.05  # touching the ground's surface
    normal_from_ball = ev.normal if ev.a == ball else -ev.normal
    np.testing.assert_allclose(normal_from_ball, [0, -1, 0], atol=1e-3)
    g.physics.set_velocity(ball, (0, 8, 0))
    for _ in range(10):
        g.tick()
    assert [k for k, _ in log] == ["start", "stop"]


def test_trigger_exit_fires_when_the_entity_inside_is_despawned():
    g = make_game()
    g.ground()
    g.spawn(Transform((0, 1, 0)), Collider("box", half_extents=(2, 1, 2), sensor=True), uid="zone")
    crate = g.box(pos=(0, 0.5, 0), physics="dynamic", uid="crate")
    log: list[str] = []
    g.on("trigger_enter")(lambda game, ev: log.append("enter:" + ev.other_uid))
    g.on("trigger_exit")(lambda game, ev: log.append("exit:" + ev.other_uid))
    for _ in range(5):
        g.tick()
    g.despawn(crate)
    for _ in range(5):
        g.tick()
    assert log == ["enter:crate", "exit:crate"]


def test_character_walking_into_a_trigger_zone_is_reported():
    g = make_game()
    g.ground()
    g.spawn(Transform((3, 1, 0)), Collider("box", half_extents=(0.5, 1, 2), sensor=True), uid="door-zone")
    hero = g.spawn(Transform((0, 0.02, 0)), RigidBody("kinematic"),
                   Collider("capsule", radius=0.3, half_height=0.35, offset=(0, 0.67, 0)), CharacterController(), uid="hero")
    g.get(hero, CharacterController).walk = np.array([3.0, 0.0, 0.0])
    log: list[tuple[str, str]] = []
    g.on("trigger_enter")(lambda game, ev: log.append(("enter", ev.other_uid)))
    g.on("trigger_exit")(lambda game, ev: log.append(("exit", ev.other_uid)))
    for _ in range(120):
        g.tick()
    assert log == [("enter", "hero"), ("exit", "hero")]


@pytest.mark.parametrize("mass", [80.0, 0.0])
def test_player_walking_with_input_pushes_a_crate_unless_massless(mass: float):
    g = make_game()
    g.ground()
    crate = g.box(pos=(0, 0.4, 2), half_extents=(0.4, 0.4, 0.4), physics="dynamic", uid="crate")
    hero = g.player(pos=(0, 0.02, 0))  # faces +Z
    g.get(hero, CharacterController).mass = mass
    forward = ActionState(axes=(("move_z", 1.0),))
    for _ in range(120):
        g.tick(forward)
    assert g.get(hero, CharacterController).grounded
    if mass > 0:
        assert g.get(crate, Transform).pos[2] > 4.0  # shoved ahead of the player
        assert g.get(hero, Transform).pos[2] > 3.5
    else:
        assert g.get(crate, Transform).pos[2] == pytest.approx(2.0, abs=0.01)  # a ghost pushes nothing
        assert g.get(hero, Transform).pos[2] < 2.0 - 0.4 - 0.3 + 0.05  # and is blocked by the crate


def test_shape_cast_overlap_and_point_projection_name_entities():
    g = make_game()
    g.ground()
    a = g.box(pos=(0, 0.5, 4), physics="static", uid="a")
    b = g.box(pos=(2, 0.5, 0), physics="static", uid="b")
    hit = g.physics.shape_cast("sphere", 0.25, (0, 0.5, 0), (0, 0, 1), 10.0)
    assert hit is not None and hit.uid == "a"
    assert hit.distance == pytest.approx(4 - 0.5 - 0.25, abs=1e-3)
    assert g.physics.overlap("box", (3, 0.6, 3), (0, 0.5, 0)) == sorted([b, g.find("ground")])
    assert g.physics.overlap("box", (3, 0.6, 3), (0, 0.5, 0), exclude=g.find("ground")) == [b]
    assert g.physics.overlap("box", (3, 0.6, 3), (0, 0.5, 0), only="dynamic") == []
    proj = g.physics.project_point((0, 0.5, 2.0), exclude=g.find("ground"))
    assert proj is not None and proj.entity == a and not proj.inside
    np.testing.assert_allclose(proj.point, [0, 0.5, 3.5], atol=1e-4)
    assert proj.distance == pytest.approx(1.5, abs=1e-4)


def test_query_filters_by_collision_groups_and_sensors():
    g = make_game()
    g.spawn(Transform((0, 0, 3)), Collider("box", groups=0b10), uid="glass")
    g.spawn(Transform((0, 0, 6)), Collider("box", groups=0b01), uid="wall")
    g.spawn(Transform((0, 0, 1.5)), Collider("box", half_extents=(0.2, 0.2, 0.2), sensor=True), uid="zone")
    assert g.physics.raycast((0, 0, 0), (0, 0, 1)).uid == "glass"
    assert g.physics.raycast((0, 0, 0), (0, 0, 1), groups=0b01).uid == "wall"
    assert g.physics.raycast((0, 0, 0), (0, 0, 1), sensors=True).uid == "zone"


@pytest.mark.parametrize("kind", ["fixed", "ball", "prismatic"])
def test_other_joint_kinds_hold_their_constraint(kind: str):
    g = make_game()
    g.spawn(Transform((0, 3, 0)), RigidBody("static"), uid="anchor")
    limits = (-0.5, 0.5) if kind == "prismatic" else None
    weight = g.spawn(Transform((0, 2, 0)), RigidBody("dynamic"), Collider("box", half_extents=(0.2, 0.2, 0.2)),
                     Joint(kind, other="anchor", anchor=(0, 1, 0), axis=(0, 1, 0), limits=limits), uid="weight")
    g.physics.set_velocity(weight, (2.0, 0.0, 1.0))
    for _ in range(120):
        g.tick()
    p = g.get(weight, Transform).pos
    if kind == "fixed":
        np.testing.assert_allclose(p, [0, 2, 0], atol=0.02)
    elif kind == "ball":
        assert np.linalg.norm(p + g.get(weight, Transform).matrix()[:3, 1] * 1.0 - [0, 3, 0]) < 0.02
    else:  # slides along Y only, stopped by the lower limit after falling
        assert abs(p[0]) < 0.02 and abs(p[2]) < 0.02
        assert p[1] == pytest.approx(1.5, abs=0.03)


def test_hinge_motor_opens_a_door_to_its_target():
    g = make_game()
    g.spawn(Transform((0, 1, 0)), RigidBody("static"), uid="frame")
    door = g.spawn(Transform((0.5, 1, 0)), RigidBody("dynamic", density=200.0),
                   Collider("box", half_extents=(0.5, 0.9, 0.05)),
                   Joint("hinge", other="frame", anchor=(-0.5, 0, 0), axis=(0, 1, 0), limits=(0, math.pi / 2),
                         motor_target=math.pi / 4, motor_stiffness=200.0, motor_damping=20.0), uid="door")
    for _ in range(240):
        g.tick()
    w, _, y, _ = g.get(door, Transform).rot
    assert 2 * math.atan2(y, w) == pytest.approx(math.pi / 4, abs=0.05)


def test_save_file_mid_fall_load_and_continue_identically(tmp_path):
    def scene() -> tuple[Game, list[int]]:
        g = make_game()
        g.ground()
        boxes = [g.box(pos=(0.3 * i, 2 + 1.2 * i, 0.1 * i), physics="dynamic", yaw=17.0 * i) for i in range(6)]
        hero = g.spawn(Transform((-3, 1.0, 0)), RigidBody("kinematic"),  # a character falling, then walking
                       Collider("capsule", radius=0.3, half_height=0.35, offset=(0, 0.67, 0)),
                       CharacterController(walk=np.array([1.5, 0.0, 0.2])), uid="hero")
        return g, [*boxes, hero]

    a, ents = scene()
    for _ in range(40):
        a.tick()
    a.save(tmp_path / "mid.save")
    h = a.state_hash()
    traj_a = []
    for _ in range(60):
        a.tick()
        traj_a.append([a.get(e, Transform)._data.copy() for e in ents])
    b, _ = scene()
    for _ in range(7):
        b.tick()  # a different state before the load must not matter
    b.load(tmp_path / "mid.save")
    assert b.state_hash() == h
    traj_b = []
    for _ in range(60):
        b.tick()
        traj_b.append([b.get(e, Transform)._data.copy() for e in ents])
    assert np.array_equal(np.array(traj_a), np.array(traj_b))
    assert a.state_hash() == b.state_hash()


def test_corrupt_physics_state_in_a_save_is_an_input_error():
    g = make_game()
    with pytest.raises(InputError, match="physics"):
        g.system("physics").load_state({"version": 99})
    g.system("physics").load_state({"version": 1, "snapshot": b"garbage", "records": [], "joints": [],
                                    "inside": [], "touching": [], "awake_last": []})
    with pytest.raises(InputError, match="snapshot"):
        g.tick()


def test_resizing_or_rebuilding_a_sensor_keeps_overlaps_exactly_once():
    g = make_game()
    g.ground()
    zone = g.spawn(Transform((0, 1, 0)), Proxy("box", (1, 1, 1)), Collider(sensor=True), uid="zone")
    ball = g.spawn(Transform((0.8, 1, 0)), RigidBody("dynamic", gravity_scale=0.0), Collider("sphere", radius=0.1), uid="ball")
    log: list[str] = []
    g.on("trigger_enter")(lambda game, ev: log.append("enter"))
    g.on("trigger_exit")(lambda game, ev: log.append("exit"))
    for _ in range(3):
        g.tick()
    assert log == ["enter"]
    g.set(ball, RigidBody("dynamic", gravity_scale=0.0, linear_damping=0.5))  # rebuilt body, still inside
    for _ in range(3):
        g.tick()
    assert log == ["enter"]
    g.restyle(zone, half_extents=(0.5, 1, 1))  # the zone shrinks away from the ball
    for _ in range(3):
        g.tick()
    assert log == ["enter", "exit"]
    g.restyle(zone, half_extents=(1.5, 1, 1))  # and grows back over it
    for _ in range(3):
        g.tick()
    assert log == ["enter", "exit", "enter"]


def test_an_exit_queued_by_a_despawn_survives_a_save_and_load(tmp_path):
    def scene() -> Game:
        g = make_game()
        g.ground()
        g.spawn(Transform((0, 1, 0)), Collider("box", half_extents=(2, 1, 2), sensor=True), uid="zone")
        g.box(pos=(0, 0.5, 0), physics="dynamic", uid="crate")
        return g

    a = scene()
    for _ in range(3):
        a.tick()
    a.despawn(a.find("crate"))
    a.save(tmp_path / "s.save")  # after the despawn, before the tick that reports the exit
    b = scene()
    b.load(tmp_path / "s.save")
    for g in (a, b):
        log: list[str] = []
        g.on("trigger_exit")(lambda game, ev, log=log: log.append(ev.other_uid))
        g.tick()
        assert log == ["crate"]


def test_save_and_load_stay_identical_with_queries_and_spawns_every_tick(tmp_path):
    def scene() -> tuple[Game, list[int]]:
        g = make_game()
        g.ground()
        ents = [g.box(pos=(0.3 * i, 2 + 1.2 * i, 0.1 * i), physics="dynamic", yaw=17.0 * i) for i in range(6)]

        @g.every_tick
        def look(game: Game, dt: float) -> None:
            game.physics.raycast((0, 10, 0), (0, -1, 0))
            if game.tick_count % 5 == 0:
                game.box(pos=(2, 6, 0), physics="dynamic", uid=f"drop-{game.tick_count}")

        return g, ents

    a, ents = scene()
    for _ in range(42):
        a.tick()
    a.save(tmp_path / "q.save")
    traj_a = []
    for _ in range(60):
        a.tick()
        traj_a.append([a.get(e, Transform)._data.copy() for e in ents])
    b, _ = scene()
    b.load(tmp_path / "q.save")
    traj_b = []
    for _ in range(60):
        b.tick()
        traj_b.append([b.get(e, Transform)._data.copy() for e in ents])
    assert np.array_equal(np.array(traj_a), np.array(traj_b))
    assert a.state_hash() == b.state_hash()
