"""Physics components: what a game author attaches to an entity to give it a body.

Plain dataclasses (no Rapier import here; ``systems/physics`` is the only module that talks to
Rapier). Every component has ``validate(where)`` raising :class:`engine.errors.InputError` that
names the entity (``where``) and the field; ``__post_init__`` runs it with the component's own name,
and the physics system runs it again with the entity's name when it builds the body, so a bad value
written later is caught too.

- :class:`RigidBody` — dynamic / kinematic / static; mass or density, damping, gravity scale, CCD,
  locked axes.
- :class:`Collider` — box, sphere, capsule, cylinder, convex hull or triangle mesh, or ``"proxy"``
  (the default: the collider follows the entity's ``Proxy`` shape and half-extents, scaled by its
  ``Transform.scale``); friction, restitution, sensor, collision groups and masks.
- :class:`CharacterController` — Rapier's kinematic character controller: max slope, autostep, snap
  to ground, gravity and jump; ``grounded`` is written back every tick.
- :class:`Joint` — fixed, hinge (limits + motor), ball, prismatic (limits + motor), linking this
  entity to another one named by its anchor uid.

Example::

    game.spawn(Transform(pos=(0, 3, 0)), Proxy("box", (0.5, 0.5, 0.5), "wood_planks"),
               RigidBody("dynamic", density=500.0), Collider())
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.errors import InputError
from engine.registry import register_component

BODY_KINDS: tuple[str, ...] = ("dynamic", "kinematic", "static")
COLLIDER_SHAPES: tuple[str, ...] = ("proxy", "box", "sphere", "capsule", "cylinder", "hull", "trimesh")
JOINT_KINDS: tuple[str, ...] = ("fixed", "hinge", "ball", "prismatic")
ALL_GROUPS = 0xFFFFFFFF


def _finite(where: str, name: str, value: Any, *, positive: bool = False, nonneg: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(where, name, f"a number, got {value!r}") from None
    if not math.isfinite(v):
        raise InputError(where, name, f"a finite number, got {v}")
    if positive and not v > 0.0:
        raise InputError(where, name, f"a number > 0, got {v}")
    if nonneg and v < 0.0:
        raise InputError(where, name, f"a number >= 0, got {v}")
    return v


def _vec(where: str, name: str, value: Any, n: int = 3, *, positive: bool = False) -> np.ndarray:
    try:
        a = np.asarray(value, np.float64).reshape(n)
    except (TypeError, ValueError):
        raise InputError(where, name, f"{n} numbers, got {value!r}") from None
    if not np.all(np.isfinite(a)):
        raise InputError(where, name, f"{n} finite numbers, got {a.tolist()}")
    if positive and not np.all(a > 0.0):
        raise InputError(where, name, f"{n} numbers > 0, got {a.tolist()}")
    return a.copy()


def _axes(where: str, name: str, value: Any) -> tuple[bool, bool, bool]:
    try:
        t = tuple(bool(b) for b in value)
    except TypeError:
        raise InputError(where, name, f"three booleans (x, y, z), got {value!r}") from None
    if len(t) != 3:
        raise InputError(where, name, f"three booleans (x, y, z), got {value!r}")
    return t  # type: ignore[return-value]


def _group_bits(where: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= int(value) <= ALL_GROUPS:
        raise InputError(where, name, f"a 32-bit group mask (int in [0, 0xFFFFFFFF]), got {value!r}")
    return int(value)


@dataclass
class RigidBody:
    """A body Rapier moves (``dynamic``), a script moves (``kinematic``) or nothing moves (``static``).

    ``mass`` (kg) overrides the mass computed from ``density`` (kg/m³) and the collider volume.
    ``lock_translation`` / ``lock_rotation`` are per-axis (x, y, z) locks.
    ``can_sleep``: a body at rest stops costing anything and publishes no ``moved`` entries.
    """

    kind: str = "dynamic"
    mass: float | None = None
    density: float = 1000.0
    linear_damping: float = 0.0
    angular_damping: float = 0.05
    gravity_scale: float = 1.0
    ccd: bool = False
    lock_translation: tuple[bool, bool, bool] = (False, False, False)
    lock_rotation: tuple[bool, bool, bool] = (False, False, False)
    can_sleep: bool = True

    def __post_init__(self) -> None:
        self.validate("RigidBody")

    def validate(self, where: str) -> None:
        """Raise ``InputError(where, 'RigidBody.<field>', ...)`` on a bad value; normalise types."""
        if self.kind not in BODY_KINDS:
            raise InputError(where, "RigidBody.kind", f"one of {', '.join(BODY_KINDS)}, got {self.kind!r}")
        if self.mass is not None:
            self.mass = _finite(where, "RigidBody.mass", self.mass, positive=True)
        self.density = _finite(where, "RigidBody.density", self.density, positive=True)
        self.linear_damping = _finite(where, "RigidBody.linear_damping", self.linear_damping, nonneg=True)
        self.angular_damping = _finite(where, "RigidBody.angular_damping", self.angular_damping, nonneg=True)
        self.gravity_scale = _finite(where, "RigidBody.gravity_scale", self.gravity_scale)
        self.lock_translation = _axes(where, "RigidBody.lock_translation", self.lock_translation)
        self.lock_rotation = _axes(where, "RigidBody.lock_rotation", self.lock_rotation)


@dataclass
class Collider:
    """The collision shape of an entity, in its local frame (plus ``offset``).

    shape: ``proxy`` (follow the entity's Proxy × Transform.scale), ``box`` (``half_extents``),
    ``sphere`` (``radius``), ``capsule`` / ``cylinder`` (axis +Y: ``half_height`` of the straight
    part, ``radius``), ``hull`` (convex hull of ``points``) or ``trimesh`` (``points`` + ``indices``).
    points: (N, 3) metres; indices: (M, 3) int triangle corners.
    groups / mask: 32-bit collision membership and filter; two colliders interact when each one's
    groups intersect the other's mask.
    sensor: a trigger volume: it reports ``trigger_enter`` / ``trigger_exit`` and pushes nothing.
    events: report ``collision_start`` / ``collision_stop`` (with contact data) for this collider
    (off by default so piles of rubble cost nothing).
    """

    shape: str = "proxy"
    half_extents: np.ndarray = field(default_factory=lambda: np.full(3, 0.5))
    radius: float = 0.5
    half_height: float = 0.5
    points: np.ndarray | None = None
    indices: np.ndarray | None = None
    offset: np.ndarray = field(default_factory=lambda: np.zeros(3))
    friction: float = 0.7
    restitution: float = 0.0
    sensor: bool = False
    events: bool = False
    groups: int = ALL_GROUPS
    mask: int = ALL_GROUPS

    def __post_init__(self) -> None:
        self.validate("Collider")

    def validate(self, where: str) -> None:
        """Raise ``InputError(where, 'Collider.<field>', ...)`` on a bad value; normalise types."""
        if self.shape not in COLLIDER_SHAPES:
            raise InputError(where, "Collider.shape", f"one of {', '.join(COLLIDER_SHAPES)}, got {self.shape!r}")
        self.half_extents = _vec(where, "Collider.half_extents", self.half_extents, positive=True)
        self.radius = _finite(where, "Collider.radius", self.radius, positive=True)
        self.half_height = _finite(where, "Collider.half_height", self.half_height, nonneg=True)
        self.offset = _vec(where, "Collider.offset", self.offset)
        self.friction = _finite(where, "Collider.friction", self.friction, nonneg=True)
        self.restitution = _finite(where, "Collider.restitution", self.restitution, nonneg=True)
        self.groups = _group_bits(where, "Collider.groups", self.groups)
        self.mask = _group_bits(where, "Collider.mask", self.mask)
        if self.shape in ("hull", "trimesh"):
            if self.points is None:
                raise InputError(where, "Collider.points", f"(N, 3) points for a {self.shape} collider")
            pts = np.asarray(self.points, np.float64)
            if pts.ndim != 2 or pts.shape[1] != 3 or len(pts) < 4:
                raise InputError(where, "Collider.points", f"(N >= 4, 3) points, got shape {pts.shape}")
            if not np.all(np.isfinite(pts)):
                raise InputError(where, "Collider.points", "finite coordinates")
            self.points = pts
        if self.shape == "trimesh":
            if self.indices is None:
                raise InputError(where, "Collider.indices", "(M, 3) triangle indices for a trimesh collider")
            idx = np.asarray(self.indices)
            if idx.ndim != 2 or idx.shape[1] != 3 or len(idx) == 0 or not np.all(np.isfinite(idx)) or not np.all(idx == np.round(idx)):
                raise InputError(where, "Collider.indices", f"(M >= 1, 3) integers, got shape {idx.shape}")
            idx = idx.astype(np.int64)
            assert self.points is not None
            if idx.min() < 0 or idx.max() >= len(self.points):
                raise InputError(where, "Collider.indices", f"indices in [0, {len(self.points)})")
            self.indices = idx.astype(np.uint32)


@dataclass
class CharacterController:
    """A player or NPC moved by Rapier's kinematic character controller (needs a ``kinematic`` body).

    Scripts set ``walk`` (desired horizontal velocity, m/s, world frame) and call
    ``jump()``; the physics system integrates gravity, slides along walls, climbs steps up to
    ``autostep_height`` (m), refuses slopes steeper than ``max_slope_deg``, snaps down to the ground
    within ``snap_to_ground`` (m, 0 = off) and writes ``grounded`` and ``vertical_speed`` back.
    """

    max_slope_deg: float = 45.0
    min_slide_deg: float = 30.0
    autostep_height: float = 0.3
    autostep_min_width: float = 0.1
    snap_to_ground: float = 0.2
    gravity: float = 9.81
    jump_speed: float = 5.0
    offset: float = 0.02
    mass: float = 80.0
    walk: np.ndarray = field(default_factory=lambda: np.zeros(3))
    grounded: bool = False
    vertical_speed: float = 0.0
    jump_requested: bool = False

    def __post_init__(self) -> None:
        self.validate("CharacterController")

    def jump(self) -> None:
        """Ask for a jump; it happens on the next tick if the character is grounded."""
        self.jump_requested = True

    def validate(self, where: str) -> None:
        """Raise ``InputError(where, 'CharacterController.<field>', ...)`` on a bad value."""
        w = "CharacterController."
        self.max_slope_deg = _finite(where, w + "max_slope_deg", self.max_slope_deg, nonneg=True)
        if self.max_slope_deg > 90.0:
            raise InputError(where, w + "max_slope_deg", f"an angle in [0, 90] degrees, got {self.max_slope_deg}")
        self.min_slide_deg = _finite(where, w + "min_slide_deg", self.min_slide_deg, nonneg=True)
        self.autostep_height = _finite(where, w + "autostep_height", self.autostep_height, nonneg=True)
        self.autostep_min_width = _finite(where, w + "autostep_min_width", self.autostep_min_width, nonneg=True)
        self.snap_to_ground = _finite(where, w + "snap_to_ground", self.snap_to_ground, nonneg=True)
        self.gravity = _finite(where, w + "gravity", self.gravity, nonneg=True)
        self.jump_speed = _finite(where, w + "jump_speed", self.jump_speed, nonneg=True)
        self.offset = _finite(where, w + "offset", self.offset, positive=True)
        self.mass = _finite(where, w + "mass", self.mass, nonneg=True)
        self.walk = _vec(where, w + "walk", self.walk)
        self.vertical_speed = _finite(where, w + "vertical_speed", self.vertical_speed)


@dataclass
class Joint:
    """A joint from this entity (body 1) to the entity whose anchor uid is ``other`` (body 2).

    kind: ``fixed``, ``hinge`` (rotation about ``axis``), ``ball`` or ``prismatic`` (sliding along
    ``axis``). anchor / other_anchor: (3,) attachment points in each body's local frame.
    limits: (min, max) radians for a hinge, metres for a prismatic joint, of *this* entity relative
    to the other (a door's opening angle in its frame, counter-clockwise about ``axis``); None = free.
    motor: a hinge/prismatic motor driving towards ``motor_target`` (with ``motor_stiffness``)
    and/or at ``motor_speed`` (with ``motor_damping``), at most ``motor_max_force``.
    """

    kind: str = "fixed"
    other: str = ""
    anchor: np.ndarray = field(default_factory=lambda: np.zeros(3))
    other_anchor: np.ndarray = field(default_factory=lambda: np.zeros(3))
    axis: np.ndarray = field(default_factory=lambda: np.array([0.0, 1.0, 0.0]))
    limits: tuple[float, float] | None = None
    motor_speed: float = 0.0
    motor_target: float = 0.0
    motor_stiffness: float = 0.0
    motor_damping: float = 0.0
    motor_max_force: float = 1.0e9
    contacts: bool = False

    def __post_init__(self) -> None:
        self.validate("Joint")

    @property
    def has_motor(self) -> bool:
        """Whether the motor is on (any of stiffness, damping or speed is non-zero)."""
        return bool(self.motor_stiffness or self.motor_damping or self.motor_speed)

    def validate(self, where: str) -> None:
        """Raise ``InputError(where, 'Joint.<field>', ...)`` on a bad value; normalise types."""
        if self.kind not in JOINT_KINDS:
            raise InputError(where, "Joint.kind", f"one of {', '.join(JOINT_KINDS)}, got {self.kind!r}")
        if not isinstance(self.other, str) or not self.other:
            raise InputError(where, "Joint.other", f"the anchor uid of the other entity, got {self.other!r}")
        self.anchor = _vec(where, "Joint.anchor", self.anchor)
        self.other_anchor = _vec(where, "Joint.other_anchor", self.other_anchor)
        self.axis = _vec(where, "Joint.axis", self.axis)
        n = float(np.linalg.norm(self.axis))
        if n < 1e-9:
            raise InputError(where, "Joint.axis", "a non-zero direction")
        self.axis = self.axis / n
        if self.limits is not None:
            try:
                lo, hi = (float(v) for v in self.limits)
            except (TypeError, ValueError):
                raise InputError(where, "Joint.limits", f"(min, max) or None, got {self.limits!r}") from None
            if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
                raise InputError(where, "Joint.limits", f"finite (min, max) with min <= max, got {self.limits!r}")
            self.limits = (lo, hi)
        for name in ("motor_speed", "motor_target"):
            setattr(self, name, _finite(where, "Joint." + name, getattr(self, name)))
        for name in ("motor_stiffness", "motor_damping", "motor_max_force"):
            setattr(self, name, _finite(where, "Joint." + name, getattr(self, name), nonneg=True))


PHYSICS_COMPONENTS: tuple[type, ...] = (RigidBody, Collider, CharacterController, Joint)

for _c in PHYSICS_COMPONENTS:
    register_component(_c)
