"""Pinhole camera shared by every pass (proxy pass, splat pass, reference renderer).

Convention: the eye looks at the target; ``up`` defaults to +Y; vertical field of view in degrees;
fx = fy = (H/2)/tan(fov_y/2); principal point at the image centre (W/2, H/2), pixel centres at +0.5.
``view`` is the world→camera matrix in the OpenCV/gsplat convention (x right, y down, z forward), so
view-space z is the positive depth used as the sort key. ``gl_view``/``gl_projection`` give the
matching OpenGL matrices (camera looks down −z, clip-space y up) for rasterised passes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

NEAR = 0.01


def _vec3(v: tuple[float, float, float] | np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64).reshape(-1)
    if a.shape != (3,) or not np.isfinite(a).all():
        raise ValueError(f"camera {name}: expected 3 finite numbers, got {v!r}")
    return a


@dataclass
class Camera:
    """A pinhole camera looking from ``eye`` at ``target``."""

    eye: np.ndarray
    target: np.ndarray
    width: int
    height: int
    fov_y: float = 60.0  # degrees, vertical
    up: np.ndarray = field(default_factory=lambda: np.array([0.0, 1.0, 0.0]))
    near: float = NEAR
    far: float = 1000.0

    def __post_init__(self) -> None:
        self.eye = _vec3(self.eye, "eye")
        self.target = _vec3(self.target, "target")
        self.up = _vec3(self.up, "up")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"camera size must be positive, got {self.width}x{self.height}")
        if not 0.0 < self.fov_y < 180.0:
            raise ValueError(f"camera fov_y must be in (0, 180) degrees, got {self.fov_y}")
        fwd = self.target - self.eye
        if np.linalg.norm(fwd) < 1e-12:
            raise ValueError("camera eye and target coincide")
        if np.linalg.norm(np.cross(fwd, self.up)) < 1e-9 * np.linalg.norm(fwd) * np.linalg.norm(self.up):
            raise ValueError("camera up is parallel to the view direction")

    @property
    def focal(self) -> float:
        """fx = fy in pixels."""
        return (self.height / 2.0) / math.tan(math.radians(self.fov_y) / 2.0)

    @property
    def intrinsics(self) -> np.ndarray:
        """3×3 K matrix (float32)."""
        f = self.focal
        return np.array([[f, 0, self.width / 2.0], [0, f, self.height / 2.0], [0, 0, 1]], np.float32)

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(right, down, forward) unit vectors in world space (OpenCV camera axes)."""
        fwd = self.target - self.eye
        fwd = fwd / np.linalg.norm(fwd)
        right = np.cross(fwd, self.up)
        right /= np.linalg.norm(right)
        down = np.cross(fwd, right)
        return right, down, fwd

    @property
    def view(self) -> np.ndarray:
        """4×4 world→camera (OpenCV: x right, y down, z forward), float32."""
        r, d, f = self.basis()
        rot = np.stack([r, d, f])
        m = np.eye(4)
        m[:3, :3] = rot
        m[:3, 3] = -rot @ self.eye
        return m.astype(np.float32)

    @property
    def gl_view(self) -> np.ndarray:
        """4×4 world→camera in the OpenGL convention (x right, y up, looking down −z), float32."""
        flip = np.diag([1.0, -1.0, -1.0, 1.0]).astype(np.float32)
        return flip @ self.view

    @property
    def gl_projection(self) -> np.ndarray:
        """4×4 OpenGL perspective projection matching the pinhole intrinsics, float32."""
        t = math.tan(math.radians(self.fov_y) / 2.0)
        aspect = self.width / self.height
        n, fa = self.near, self.far
        p = np.zeros((4, 4))
        p[0, 0] = 1.0 / (t * aspect)
        p[1, 1] = 1.0 / t
        p[2, 2] = -(fa + n) / (fa - n)
        p[2, 3] = -2.0 * fa * n / (fa - n)
        p[3, 2] = -1.0
        return p.astype(np.float32)
