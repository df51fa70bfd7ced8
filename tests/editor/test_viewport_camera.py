"""Viewport camera: orbit keeps the distance, zoom and fly move the eye, frame fits the bounds."""

from __future__ import annotations

import numpy as np

from tools.editor.viewport_camera import ViewportCamera


def test_orbit_zoom_pan_fly_frame():
    cam = ViewportCamera(target=np.zeros(3), distance=10.0)
    cam.orbit(50, -20)
    assert np.isclose(np.linalg.norm(cam.eye() - cam.target), 10.0)
    cam.zoom(2)
    assert cam.distance < 10.0
    before = cam.target.copy()
    cam.pan(100, 0, 600)
    right, _, fwd = cam.camera(600, 600).basis()
    moved = cam.target - before
    assert abs(np.dot(moved, fwd)) < 1e-9 and np.dot(moved, right) < 0  # drag right: the world follows
    eye = cam.eye()
    cam.fly(1.0, 0.0, 0.0, dt=0.5)
    assert np.dot(cam.eye() - eye, fwd) > 0
    cam.frame(np.array([-1.0, 0.0, -1.0]), np.array([3.0, 2.0, 1.0]))
    assert np.allclose(cam.target, [1.0, 1.0, 0.0])
    c = cam.camera(640, 480)
    for corner in ([-1, 0, -1], [3, 2, 1], [3, 0, -1], [-1, 2, 1]):
        p = c.view @ np.array([*corner, 1.0])
        u = c.intrinsics @ p[:3]
        assert p[2] > 0 and 0 <= u[0] / u[2] <= 640 and 0 <= u[1] / u[2] <= 480
