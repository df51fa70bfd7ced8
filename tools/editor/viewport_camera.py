"""Viewport camera controls: orbit / pan / zoom around a target, a fly mode, and frame-selection."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.render.camera import Camera


@dataclass
class ViewportCamera:
    """An orbit camera (yaw/pitch/distance around ``target``) that can also fly (WASD + mouse look).

    yaw 0 looks down −Z (the eye sits on +Z of the target); pitch positive looks down on the target.
    """

    target: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 0.0]))
    yaw: float = 30.0  # degrees
    pitch: float = 30.0  # degrees
    distance: float = 20.0  # metres
    fov_y: float = 60.0

    def eye(self) -> np.ndarray:
        """Eye position (3,) in world space."""
        y, p = math.radians(self.yaw), math.radians(self.pitch)
        offset = np.array([math.sin(y) * math.cos(p), math.sin(p), math.cos(y) * math.cos(p)])
        return self.target + self.distance * offset

    def camera(self, width: int, height: int) -> Camera:
        """The engine camera for a viewport of ``width``×``height`` pixels."""
        return Camera(self.eye(), self.target, width, height, fov_y=self.fov_y, near=0.05, far=2000.0)

    def orbit(self, dx: float, dy: float) -> None:
        """Rotate around the target by mouse deltas (pixels)."""
        self.yaw = (self.yaw - 0.3 * dx) % 360.0
        self.pitch = float(np.clip(self.pitch + 0.3 * dy, -89.0, 89.0))

    def pan(self, dx: float, dy: float, height: int) -> None:
        """Slide target and eye in the view plane so the point under the mouse follows it."""
        cam = self.camera(max(height, 1), max(height, 1))
        right, down, _ = cam.basis()
        metres_per_px = 2.0 * self.distance * math.tan(math.radians(self.fov_y) / 2) / max(height, 1)
        self.target = self.target - right * dx * metres_per_px - down * dy * metres_per_px

    def zoom(self, steps: float) -> None:
        """Dolly towards (steps > 0) or away from the target."""
        self.distance = float(np.clip(self.distance * (0.85**steps), 0.2, 1500.0))

    def fly(self, forward: float, strafe: float, up: float, dt: float, speed: float = 8.0) -> None:
        """Move eye and target together along the view direction / right / world up (metres/s)."""
        cam = self.camera(1, 1)
        right, _, fwd = cam.basis()
        move = (fwd * forward + right * strafe + np.array([0.0, 1.0, 0.0]) * up) * speed * dt
        self.target = self.target + move

    def look(self, dx: float, dy: float) -> None:
        """Fly-mode mouse look: turn the view about the eye (the target swings around it)."""
        eye = self.eye()
        self.yaw = (self.yaw - 0.2 * dx) % 360.0
        self.pitch = float(np.clip(self.pitch + 0.2 * dy, -89.0, 89.0))
        y, p = math.radians(self.yaw), math.radians(self.pitch)
        offset = np.array([math.sin(y) * math.cos(p), math.sin(p), math.cos(y) * math.cos(p)])
        self.target = eye - self.distance * offset

    def frame(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """Aim at the centre of the box [lo, hi] and back off until all of it fits."""
        lo, hi = np.asarray(lo, float), np.asarray(hi, float)
        self.target = (lo + hi) / 2.0
        radius = max(float(np.linalg.norm(hi - lo)) / 2.0, 0.25)
        self.distance = float(radius / math.sin(math.radians(self.fov_y) / 2.0) * 1.1)
