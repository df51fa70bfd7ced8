"""Bad input to physics: a clear InputError naming the entity (or component) and the field."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.components import Proxy, Transform
from engine.errors import InputError
from engine.game import Game
from engine.physics_components import CharacterController, Collider, Joint, RigidBody
from engine.registry import decode_component

BAD_POSITIVE = st.one_of(
    st.just(0.0), st.just(-0.0), st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=True),
    st.just(math.nan), st.just(math.inf),
)
BAD_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


def make_game() -> Game:
    return Game(seed=0, systems=["scripts", "physics", "rules", "layout"])


@settings(max_examples=30, deadline=None)
@given(bad=BAD_POSITIVE)
def test_non_positive_or_non_finite_sizes_and_masses_are_rejected(bad: float):
    with pytest.raises(InputError, match=r"RigidBody\.mass"):
        RigidBody(mass=bad)
    with pytest.raises(InputError, match=r"RigidBody\.density"):
        RigidBody(density=bad)
    with pytest.raises(InputError, match=r"Collider\.radius"):
        Collider("sphere", radius=bad)
    with pytest.raises(InputError, match=r"Collider\.half_extents"):
        Collider("box", half_extents=(1.0, bad, 1.0))


@settings(max_examples=10, deadline=None)
@given(bad=BAD_FINITE)
def test_non_finite_values_are_rejected_everywhere(bad: float):
    with pytest.raises(InputError, match=r"RigidBody\.gravity_scale"):
        RigidBody(gravity_scale=bad)
    with pytest.raises(InputError, match=r"Collider\.offset"):
        Collider(offset=(0, bad, 0))
    with pytest.raises(InputError, match=r"CharacterController\.jump_speed"):
        CharacterController(jump_speed=bad)
    with pytest.raises(InputError, match=r"Joint\.limits"):
        Joint("hinge", other="x", limits=(0.0, bad))


def test_component_choices_and_shapes_are_checked():
    with pytest.raises(InputError, match=r"RigidBody\.kind.*dynamic, kinematic, static"):
        RigidBody("floating")
    with pytest.raises(InputError, match=r"Collider\.shape"):
        Collider("torus")
    with pytest.raises(InputError, match=r"Collider\.points"):
        Collider("hull")
    with pytest.raises(InputError, match=r"Collider\.indices"):
        Collider("trimesh", points=np.eye(4, 3), indices=[[0, 1, 9]])
    with pytest.raises(InputError, match=r"Collider\.groups"):
        Collider(groups=-1)
    with pytest.raises(InputError, match=r"Joint\.other"):
        Joint("hinge", other="")
    with pytest.raises(InputError, match=r"Joint\.axis"):
        Joint("hinge", other="a", axis=(0, 0, 0))
    with pytest.raises(InputError, match=r"CharacterController\.max_slope_deg"):
        CharacterController(max_slope_deg=120)


def test_level_data_with_a_bad_collider_names_the_path():
    with pytest.raises(InputError) as exc:
        decode_component("Collider", {"shape": "sphere", "radius": -2.0}, "village.level.json", "entities[4].Collider")
    assert "village.level.json" in str(exc.value) and "entities[4].Collider" in str(exc.value)
    assert "radius" in str(exc.value)


@pytest.mark.parametrize(
    ("field", "transform"),
    [
        ("Transform.pos", Transform((0, math.nan, 0))),
        ("Transform.pos", Transform((math.inf, 0, 0))),
        ("Transform.rot", Transform((0, 0, 0), (0, 0, 0, 0))),
        ("Transform.scale", Transform((0, 0, 0), scale=(1, 0, 1))),
        ("Transform.scale", Transform((0, 0, 0), scale=(1, -1, 1))),
    ],
)
def test_bad_transform_of_a_body_names_the_entity_and_field(field: str, transform: Transform):
    g = make_game()
    g.spawn(transform, Proxy("box"), RigidBody("dynamic"), Collider(), uid="crate-7")
    with pytest.raises(InputError, match=rf"entity 'crate-7'.*{field}"):
        g.tick()


def test_a_bad_teleport_is_reported_and_the_fix_is_picked_up():
    g = make_game()
    g.ground()
    crate = g.box(pos=(0, 2, 0), physics="dynamic", uid="crate")
    g.tick()
    g.get(crate, Transform).pos = (0, math.nan, 0)
    with pytest.raises(InputError, match=r"entity 'crate'.*Transform\.pos"):
        g.tick()
    g.get(crate, Transform).pos = (3, 5, 0)  # the script fixes its mistake
    g.tick()
    p = g.get(crate, Transform).pos
    assert p[0] == pytest.approx(3.0, abs=1e-5) and 4.9 < p[1] < 5.0


def test_a_component_made_bad_after_spawning_names_the_entity():
    g = make_game()
    crate = g.box(pos=(0, 2, 0), physics="dynamic", uid="crate")
    g.tick()
    g.get(crate, RigidBody).mass = -5.0
    g.touch(crate, RigidBody)
    with pytest.raises(InputError, match=r"entity 'crate'.*RigidBody\.mass"):
        g.tick()


def test_joint_to_a_missing_or_bodiless_entity_is_an_input_error():
    g = make_game()
    g.spawn(Transform(), RigidBody("dynamic"), Collider("box"), Joint("hinge", other="nowhere"), uid="door")
    with pytest.raises(InputError, match=r"entity 'door'.*Joint\.other.*'nowhere'"):
        g.tick()
    g2 = make_game()
    g2.spawn(Transform(), Proxy("box"), uid="frame")  # no body to hinge on
    g2.spawn(Transform(), RigidBody("dynamic"), Collider("box"), Joint("hinge", other="frame"), uid="door")
    with pytest.raises(InputError, match=r"entity 'door'.*Joint\.other.*RigidBody"):
        g2.tick()


def test_structural_mistakes_name_the_entity():
    g = make_game()
    g.spawn(Proxy("box"), RigidBody("dynamic"), Collider(), uid="ghost")  # no Transform
    with pytest.raises(InputError, match=r"entity 'ghost'.*Transform"):
        g.tick()
    g2 = make_game()
    g2.spawn(Transform(), Collider(), uid="blob")  # proxy collider without a proxy
    with pytest.raises(InputError, match=r"entity 'blob'.*Collider\.shape.*Proxy"):
        g2.tick()
    g3 = make_game()
    g3.spawn(Transform(), RigidBody("dynamic"), Collider("sphere"), CharacterController(), uid="hero")
    with pytest.raises(InputError, match=r"entity 'hero'.*RigidBody\.kind.*kinematic"):
        g3.tick()


def test_queries_reject_bad_arguments():
    g = make_game()
    g.ground()
    with pytest.raises(InputError, match="origin"):
        g.physics.raycast((0, math.nan, 0), (0, -1, 0))
    with pytest.raises(InputError, match="direction"):
        g.physics.raycast((0, 1, 0), (0, 0, 0))
    with pytest.raises(InputError, match="max_dist"):
        g.physics.raycast((0, 1, 0), (0, -1, 0), -1.0)
    with pytest.raises(InputError, match="size"):
        g.physics.overlap("sphere", 0.0, (0, 0, 0))
    with pytest.raises(InputError, match="shape"):
        g.physics.shape_cast("cone", 1.0, (0, 1, 0), (0, -1, 0))
    with pytest.raises(InputError, match="only"):
        g.physics.raycast((0, 1, 0), (0, -1, 0), only="sleepy")
    with pytest.raises(InputError, match="impulse"):
        g.physics.apply_impulse(g.box(pos=(0, 3, 0), physics="dynamic"), (math.inf, 0, 0))
