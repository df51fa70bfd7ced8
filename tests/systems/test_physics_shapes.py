"""Collider shapes: every proxy shape and explicit shape is where the vocabulary says it is."""

from __future__ import annotations

import numpy as np
import pytest

from engine.components import Proxy, Transform
from engine.game import Game
from engine.physics_components import Collider

H = (0.6, 0.8, 0.4)  # half-extents used for every proxy shape below


def make_game() -> Game:
    return Game(seed=0, systems=["scripts", "physics", "rules", "layout"])


def top_at(g: Game, x: float, z: float) -> float | None:
    hit = g.physics.raycast((x, 10.0, z), (0, -1, 0), 20.0)
    return None if hit is None else float(hit.point[1])


@pytest.mark.parametrize(
    ("shape", "probe", "top"),
    [
        ("box", (0.5, 0.3), H[1]),
        ("sphere", (0.0, 0.0), H[1]),  # ellipsoid (hull): the pole
        ("cylinder", (0.0, 0.0), H[1]),
        ("capsule", (0.0, 0.0), H[1]),  # radius min(hx, hz) = 0.4, total half-height 0.8
        ("plane", (0.5, 0.3), 0.0),  # the surface is y = 0
        ("ramp", (0.0, 0.0), 0.0),  # halfway up the wedge from -hy to +hy
        ("ramp", (0.6 - 1e-3, 0.0), H[1]),
    ],
)
def test_proxy_shapes_match_the_vocabulary(shape: str, probe: tuple[float, float], top: float):
    g = make_game()
    g.spawn(Transform((0, 0, 0)), Proxy(shape, H), Collider(), uid="thing")
    y = top_at(g, *probe)
    assert y is not None and y == pytest.approx(top, abs=0.02)


def test_proxy_shape_outside_its_box_is_empty():
    g = make_game()
    g.spawn(Transform((0, 0, 0)), Proxy("sphere", H), Collider(), uid="egg")
    assert top_at(g, 0.59, 0.39) is None  # a box corner is outside the inscribed ellipsoid


def test_explicit_hull_and_trimesh_colliders():
    pts = np.array([[-1, 0, -1], [1, 0, -1], [1, 0, 1], [-1, 0, 1], [0, 2, 0]], np.float64)  # a pyramid
    g = make_game()
    g.spawn(Transform((0, 0, 0)), Collider("hull", points=pts), uid="pyramid")
    assert top_at(g, 0, 0) == pytest.approx(2.0, abs=1e-3)
    assert top_at(g, 0.5, 0) == pytest.approx(1.0, abs=1e-3)
    g2 = make_game()
    tri = np.array([[0, 1, 2], [0, 2, 3]])
    g2.spawn(Transform((0, 0.5, 0)), Collider("trimesh", points=pts[:4], indices=tri), uid="floor")
    assert top_at(g2, 0.3, -0.2) == pytest.approx(0.5, abs=1e-4)


def test_rotated_and_offset_colliders():
    g = make_game()
    q = np.array([np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)])  # 90° about +Z: x extent becomes y
    g.spawn(Transform((0, 0, 0), q), Collider("box", half_extents=(1.0, 0.1, 0.1), offset=(0.5, 0, 0)), uid="beam")
    assert top_at(g, 0, 0) == pytest.approx(1.5, abs=1e-3)


def test_a_capsule_shorter_than_wide_is_the_ellipsoid_inside_its_box():
    """hy < min(hx, hz): the collider is the ellipsoid (r, hy, r) (not a ball of radius r poking out
    of the box), as the proxy pass draws it and the world model's anchors lie on it."""
    g = make_game()
    g.spawn(Transform((0, 0, 0)), Proxy("capsule", (0.6, 0.25, 0.8)), Collider(), uid="pebble")
    assert top_at(g, 0.0, 0.0) == pytest.approx(0.25, abs=0.02)
    assert top_at(g, 0.0, 0.7) is None  # r = min(hx, hz) = 0.6: nothing beyond it, though hz = 0.8
    side = top_at(g, 0.45, 0.0)  # on the ellipsoid: y = hy·sqrt(1 − (x/r)²)
    assert side is not None and side == pytest.approx(0.25 * np.sqrt(1 - 0.75**2), abs=0.03)
