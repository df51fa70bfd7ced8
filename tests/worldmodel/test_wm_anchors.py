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
