"""Core ECS components: small dataclasses stored in an esper world.

Writes that matter to change tracking go through ``Game``/``World`` helpers or bump the
component's ``version``; transforms are diffed by value against the last published layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.splats.vocab import STATES, check_shape, material


def _quat_identity() -> np.ndarray:
    return np.array([1.0, 0.0, 0.0, 0.0], np.float64)


@dataclass
class Transform:
    """Position (m), rotation (unit quaternion, w-first) and per-axis scale."""

    pos: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float64))
    rot: np.ndarray = field(default_factory=_quat_identity)
    scale: np.ndarray = field(default_factory=lambda: np.ones(3, np.float64))

    def __post_init__(self) -> None:
        self.pos = np.asarray(self.pos, np.float64).reshape(3).copy()
        self.rot = np.asarray(self.rot, np.float64).reshape(4).copy()
        self.scale = np.asarray(self.scale, np.float64).reshape(3).copy()

    def matrix(self) -> np.ndarray:
        """4×4 local→world matrix (float64): T · R · S."""
        w, x, y, z = self.rot
        r = np.array(
            [
                [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
            ]
        )
        m = np.eye(4)
        m[:3, :3] = r * self.scale[None, :]
        m[:3, 3] = self.pos
        return m


@dataclass
class Anchor:
    """Persistent identity of a place or thing; stable across saves, levels and sessions."""

    uid: str


@dataclass
class Proxy:
    """Coarse low-poly shape the world model paints, with its material and appearance state.

    half_extents: (3,) metres, the box [-h, h] that bounds the shape (see engine.splats.vocab).
    state: named floats in [0, 1] from ``engine.splats.vocab.STATES``.
    """

    shape: str = "box"
    half_extents: np.ndarray = field(default_factory=lambda: np.full(3, 0.5))
    material: str = "stone"
    style_seed: int = 0
    state: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_shape(self.shape)
        material(self.material)
        self.half_extents = np.asarray(self.half_extents, np.float64).reshape(3).copy()
        for k, v in self.state.items():
            if k not in STATES:
                raise ValueError(f"unknown appearance state {k!r}; expected one of {', '.join(STATES)}")
            if not 0.0 <= float(v) <= 1.0:
                raise ValueError(f"appearance state {k!r} must be in [0, 1], got {v}")


@dataclass
class Name:
    """Human-readable name (not unique)."""

    value: str


@dataclass
class Camera:
    """A camera attached to an entity; the active one renders the view."""

    fov_y: float = 60.0
    near: float = 0.05
    far: float = 500.0
    active: bool = True
