"""Core ECS components: small dataclasses stored in an esper world.

Writes that matter to change tracking go through ``Game``/``World`` helpers or bump the
component's ``version``; transforms are diffed by value against the last published layout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.registry import FieldError, InputError, decode_value, register_component
from engine.splats.vocab import STATES, check_shape, material


class Transform:
    """Position (m), rotation (unit quaternion, w-first) and per-axis scale.

    pos: (3,) float64, rot: (4,) float64 (w, x, y, z), scale: (3,) float64. The three live in one
    (10,) row: once the transform is added to a ``World`` that row is a view into the world's
    transform table, so the change tracking compares transforms with numpy, many at once. Write
    in place (``t.pos[1] += 1``) or assign (``t.pos = (0, 1, 0)``, copied into the row); both are
    seen. Keep the transform, not a view of ``t.pos``, across ticks (the table may be re-allocated).

    Change tracking is access-based, as in Bevy (``DerefMut`` marks a component changed): every
    ``pos``/``rot``/``scale`` access of a transform in a world logs its row in the table
    (``TransformTable.touched``), and the trackers value-compare only the logged rows. So a write
    through a view kept past a stage of the tick (``p = t.pos`` in one tick, ``p[0] = 1`` in the
    next) is not seen: take the view again (``t.pos[0] = 1``) where you write.
    """

    __slots__ = ("_data", "_owner", "_row")

    def __init__(
        self,
        pos: np.ndarray | tuple[float, float, float] | list[float] = (0.0, 0.0, 0.0),
        rot: np.ndarray | tuple[float, float, float, float] | list[float] = (1.0, 0.0, 0.0, 0.0),
        scale: np.ndarray | tuple[float, float, float] | list[float] = (1.0, 1.0, 1.0),
    ) -> None:
        d = np.empty(10, np.float64)
        d[0:3] = np.asarray(pos, np.float64).reshape(3)
        d[3:7] = np.asarray(rot, np.float64).reshape(4)
        d[7:10] = np.asarray(scale, np.float64).reshape(3)
        self._data = d
        self._owner: object | None = None  # the TransformTable holding ``_data`` (None: detached)

    @property
    def pos(self) -> np.ndarray:
        """(3,) position in metres (a view: in-place writes are tracked)."""
        o = self._owner
        if o is not None:
            o.touched.add(self._row)  # type: ignore[attr-defined]
        return self._data[0:3]

    @pos.setter
    def pos(self, v: np.ndarray | tuple[float, float, float] | list[float]) -> None:
        self._data[0:3] = np.asarray(v, np.float64).reshape(3)
        o = self._owner
        if o is not None:
            o.touched.add(self._row)  # type: ignore[attr-defined]

    @property
    def rot(self) -> np.ndarray:
        """(4,) unit quaternion, w-first."""
        o = self._owner
        if o is not None:
            o.touched.add(self._row)  # type: ignore[attr-defined]
        return self._data[3:7]

    @rot.setter
    def rot(self, v: np.ndarray | tuple[float, float, float, float] | list[float]) -> None:
        self._data[3:7] = np.asarray(v, np.float64).reshape(4)
        o = self._owner
        if o is not None:
            o.touched.add(self._row)  # type: ignore[attr-defined]

    @property
    def scale(self) -> np.ndarray:
        """(3,) per-axis scale."""
        o = self._owner
        if o is not None:
            o.touched.add(self._row)  # type: ignore[attr-defined]
        return self._data[7:10]

    @scale.setter
    def scale(self, v: np.ndarray | tuple[float, float, float] | list[float]) -> None:
        self._data[7:10] = np.asarray(v, np.float64).reshape(3)
        o = self._owner
        if o is not None:
            o.touched.add(self._row)  # type: ignore[attr-defined]

    @classmethod
    def from_row(cls, row: np.ndarray) -> Transform:
        """A detached transform from a (10,) float64 row (pos, rot, scale); the fast constructor."""
        t = object.__new__(cls)
        t._data = np.array(row, np.float64)
        t._owner = None
        return t

    def copy(self) -> Transform:
        """A detached copy (not in any world's table)."""
        return Transform.from_row(self._data)

    __copy__ = copy

    def __deepcopy__(self, memo: dict) -> Transform:
        return self.copy()

    def __reduce__(self) -> tuple:
        return (Transform, (self.pos.copy(), self.rot.copy(), self.scale.copy()))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Transform):
            return NotImplemented
        return bool(np.array_equal(self._data, other._data))

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Transform(pos={self.pos.tolist()}, rot={self.rot.tolist()}, scale={self.scale.tolist()})"

    def matrix(self) -> np.ndarray:
        """4×4 local→world matrix (float64): T · R · S."""
        return transform_matrix(self.pos, self.rot, self.scale)


def transform_matrix(pos: np.ndarray, rot: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """4×4 float64 matrix T·R·S from pos (3,), rot (4,) w-first and scale (3,)."""
    w, x, y, z = rot
    r = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )
    m = np.eye(4)
    m[:3, :3] = r * np.asarray(scale)[None, :]
    m[:3, 3] = pos
    return m


def quat_from_yaw_pitch(yaw_deg: float, pitch_deg: float = 0.0) -> np.ndarray:
    """(4,) w-first quaternion: yaw about +Y, then pitch about the local +X."""
    hy, hp = math.radians(yaw_deg) / 2, math.radians(pitch_deg) / 2
    qy = np.array([math.cos(hy), 0.0, math.sin(hy), 0.0])
    qp = np.array([math.cos(hp), math.sin(hp), 0.0, 0.0])
    return quat_mul(qy, qp)


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of two (4,) w-first quaternions."""
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return np.array(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ]
    )


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
        try:
            check_shape(self.shape)
        except ValueError as exc:
            raise FieldError("shape", str(exc)) from None
        try:
            material(self.material)
        except ValueError as exc:
            raise FieldError("material", str(exc)) from None
        he = np.asarray(self.half_extents, np.float64).reshape(-1)
        if he.shape != (3,):
            raise FieldError("half_extents", f"3 numbers, got {he.size}")
        for i, v in enumerate(he):
            if not (math.isfinite(v) and 0.0 < v <= 1000.0):
                raise FieldError(f"half_extents[{i}]", f"a half-extent in (0, 1000] metres, got {v}")
        self.half_extents = he.copy()
        if isinstance(self.style_seed, bool) or not isinstance(self.style_seed, int | np.integer) or self.style_seed < 0:
            raise FieldError("style_seed", f"an integer >= 0, got {self.style_seed!r}")
        self.style_seed = int(self.style_seed)
        self.state = dict(self.state)
        for k, v in self.state.items():
            if k not in STATES:
                raise FieldError(f"state.{k}", f"an appearance state ({', '.join(STATES)})")
            if isinstance(v, bool) or not isinstance(v, int | float | np.floating) or not 0.0 <= float(v) <= 1.0:
                raise FieldError(f"state.{k}", f"a value in [0, 1], got {v!r}")
            self.state[k] = float(v)


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


@dataclass
class Tags:
    """Free-form labels for queries and level files (sorted, unique)."""

    values: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for i, t in enumerate(self.values):
            if not isinstance(t, str):
                raise FieldError(f"values[{i}]", f"a string, got {t!r}")
        self.values = sorted(set(self.values))


@dataclass
class Player:
    """A first-person walker driven by the input actions ``move_x``/``move_z``/``look_x``/``look_y``/``jump``.

    ``move`` (3,) is the desired velocity in m/s computed each tick by the scripts stage; without a
    physics character controller the scripts stage integrates it directly.
    """

    speed: float = 4.0
    yaw: float = 0.0  # degrees about +Y; 0 looks down +Z
    pitch: float = 0.0  # degrees, positive looks up
    eye_height: float = 0.7  # metres above the entity's position
    look_speed: float = 0.15  # degrees per mouse count
    move: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float64))

    def __post_init__(self) -> None:
        self.move = np.asarray(self.move, np.float64).reshape(3).copy()


@dataclass
class Script:
    """Per-entity behaviour: ``fn(game, entity, dt)`` called each tick in the scripts stage.

    Not saved (functions are code); the game script re-attaches it when it runs.
    """

    fn: Any = None


@dataclass
class SplatCapture:
    """An anchor drawn from a splat capture file (.ply/.spz/.splat) instead of the world model.

    path: relative to the level file (else to the working directory), or absolute. The anchor's
    Proxy still sizes it for picking and physics; ``systems.worldmodel_stage`` loads the file.
    """

    path: str

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path.strip():
            raise FieldError("path", f"a non-empty file path string, got {self.path!r}")


def _encode_transform(t: Transform) -> dict[str, Any]:
    return {"pos": t.pos.tolist(), "rot": t.rot.tolist(), "scale": t.scale.tolist()}


def _decode_transform(data: Any, source: str, path: str) -> Transform:
    if not isinstance(data, dict):
        raise InputError(source, path, f"an object with pos, rot, scale, got {type(data).__name__}")
    for k in data:
        if k not in ("pos", "rot", "scale"):
            raise InputError(source, f"{path}.{k}" if path else k, "a field of Transform (pos, rot, scale)")
    defaults = {"pos": np.zeros(3), "rot": np.array([1.0, 0, 0, 0]), "scale": np.ones(3)}
    vals = {
        k: decode_value(data[k], np.ndarray, defaults[k], source, f"{path}.{k}" if path else k) if k in data else defaults[k]
        for k in defaults
    }
    n = float(np.linalg.norm(vals["rot"]))
    if not 0.999 <= n <= 1.001:
        raise InputError(source, f"{path}.rot" if path else "rot", f"a unit quaternion (w, x, y, z), got norm {n:.4g}")
    return Transform(vals["pos"], vals["rot"], vals["scale"])


register_component(Transform, encode=_encode_transform, decode=_decode_transform)
for _c in (Anchor, Proxy, Name, Camera, Tags, Player, SplatCapture):
    register_component(_c)
