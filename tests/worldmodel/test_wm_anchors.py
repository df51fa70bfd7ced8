"""Anchor points: on the proxy surface, deterministic, budget growing with area, three LODs."""

from __future__ import annotations

import numpy as np
import pytest

from engine.splats.vocab import SHAPES
from worldmodel.anchors import LODS, MAX_ANCHORS, MIN_ANCHORS, anchor_count, anchor_points, hammersley


def test_hammersley_is_the_radical_inverse_sequence() -> None:
    h = hammersley(8)
    np.testing.assert_allclose(h[:, 1], [0, 0.5, 0.25, 0.75, 0.125, 0.625, 0.375, 0.875])
    np.testing.assert_allclose(h[:, 0], (np.arange(8) + 0.5) / 8)


@pytest.mark.parametrize("shape", SHAPES)
def test_points_lie_on_the_shape_surface(shape: str) -> None:
    he = (0.7, 0.4, 0.5)
    p, n = anchor_points(shape, he, 256)
    h = np.array(he)
    assert (np.abs(p) <= h + 1e-12).all()
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-9)
    if shape == "sphere":
        np.testing.assert_allclose(np.linalg.norm(p / h, axis=1), 1.0, atol=1e-9)
    if shape == "box":
        assert np.isclose(np.abs(p / h).max(axis=1), 1.0).all()
    if shape == "plane":
        assert (p[:, 1] == 0).all() and (n[:, 1] == 1).all()
    if shape == "cylinder":
        r = np.hypot(p[:, 0] / h[0], p[:, 2] / h[2])
        assert (np.isclose(r, 1.0) | np.isclose(np.abs(p[:, 1]), h[1])).all()
    if shape == "ramp":  # never above the slope
        assert (p[:, 1] <= -h[1] + (p[:, 0] + h[0]) * h[1] / h[0] + 1e-9).all()
    q, _ = anchor_points(shape, he, 256)
    assert q.tobytes() == p.tobytes()


def test_budget_scales_with_area_and_lods() -> None:
    small, big = anchor_count("box", (0.2, 0.2, 0.2)), anchor_count("box", (1.0, 1.0, 1.0))
    assert MIN_ANCHORS <= small < big <= MAX_ANCHORS
    counts = [anchor_count("box", (1.0, 1.0, 1.0), lod) * LODS[lod][1] for lod in range(len(LODS))]
    assert len(counts) >= 3 and counts == sorted(counts, reverse=True) and counts[-1] < counts[0]
    with pytest.raises(ValueError, match="lod"):
        anchor_count("box", (1, 1, 1), 7)


@pytest.mark.parametrize("he", [(0.26, 0.16, 0.26), (1.76, 1.3, 1.76), (0.3, 1.0, 0.5), (0.5, 0.5, 0.5)])
def test_capsule_anchors_lie_on_the_teachers_capsule(he: tuple[float, float, float]) -> None:
    """A capsule is radius r = min(hx, hz) with half-ellipsoid caps (r, min(r, hy), r): the anchors
    and the teacher's surface patches both satisfy that implicit surface, also when the capsule is
    shorter than it is wide (a squashed ellipsoid, not a sphere of radius hy)."""
    from worldmodel.teacher.surface import patches

    r = min(he[0], he[2])
    c = min(r, he[1])
    y0 = he[1] - c

    def residual(p: np.ndarray) -> np.ndarray:
        rad = np.hypot(p[:, 0], p[:, 2])
        ay = np.abs(p[:, 1])
        side = np.abs(rad - r)
        cap = np.abs((rad / r) ** 2 + (np.maximum(ay - y0, 0.0) / c) ** 2 - 1.0)
        return np.where(ay <= y0, side, cap)

    p, n = anchor_points("capsule", he, 256)
    assert residual(p).max() < 1e-9
    grad = np.stack([p[:, 0] / r**2, np.where(np.abs(p[:, 1]) > y0, (p[:, 1] - np.sign(p[:, 1]) * y0) / c**2, 0.0),
                     p[:, 2] / r**2], axis=1)
    grad /= np.linalg.norm(grad, axis=1, keepdims=True)
    assert np.abs((n * grad).sum(1) - 1.0).max() < 1e-9  # normals: the implicit surface's
    teacher_pts = np.concatenate([patch.grid(*np.meshgrid(np.linspace(0, 1, 9), np.linspace(0, 1, 9)))[0].reshape(-1, 3)
                                  for patch in patches("capsule", he)])
    assert residual(teacher_pts).max() < 1e-6
    np.testing.assert_allclose(np.abs(p).max(0), np.abs(teacher_pts).max(0), rtol=0.03)
