"""Scene queries for scripts: ray casts, shape casts, overlaps, point projection.

Results name entities (and their anchor uids), never Rapier handles. Filters:
``exclude`` (an entity or a list of entities to ignore), ``groups`` (a 32-bit mask: only colliders
whose ``Collider.groups`` intersect it), ``sensors`` (include trigger volumes; default False) and
``only`` (``"dynamic"``, ``"kinematic"`` or ``"static"``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import rapier3d as rp

from engine.errors import InputError
from engine.physics_components import ALL_GROUPS
from systems.physics.adapter import Simulation


@dataclass(frozen=True)
class Hit:
    """A query hit: the entity, its anchor uid, the world point (3,), the surface normal (3,), distance."""

    entity: int
    uid: str | None
    point: np.ndarray
    normal: np.ndarray
    distance: float


@dataclass(frozen=True)
class Projection:
    """The closest point (3,) on the closest collider to a query point, and whether it was inside."""

    entity: int
    uid: str | None
    point: np.ndarray
    inside: bool
    distance: float


def _vec(name: str, v: Any) -> tuple[float, float, float]:
    try:
        a = np.asarray(v, np.float64).reshape(3)
    except (TypeError, ValueError):
        raise InputError("physics query", name, f"3 numbers, got {v!r}") from None
    if not np.all(np.isfinite(a)):
        raise InputError("physics query", name, f"3 finite numbers, got {a.tolist()}")
    return (float(a[0]), float(a[1]), float(a[2]))


def _ray(origin: Any, direction: Any) -> rp.Ray:
    """A ray from ``origin`` (3,) along the unit ``direction`` (3,); a zero direction is an InputError."""
    o, d = _vec("origin", origin), _vec("direction", direction)
    n = math.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2)
    if n == 0:
        raise InputError("physics query", "direction", "a non-zero vector")
    return rp.Ray(o, (d[0] / n, d[1] / n, d[2] / n))


def _dist(name: str, v: float) -> float:
    if not (isinstance(v, int | float) and not math.isnan(v) and v >= 0):
        raise InputError("physics query", name, f"a distance >= 0, got {v!r}")
    return float(min(v, 1.0e6))


_ONLY = {
    None: None,
    "dynamic": rp.QueryFilterFlags.ONLY_DYNAMIC,
    "kinematic": rp.QueryFilterFlags.ONLY_KINEMATIC,
    "static": rp.QueryFilterFlags.ONLY_FIXED,
}


class Queries:
    """Query functions bound to one simulation; ``uid_of(entity)`` names entities."""

    def __init__(self, sim_fn: Callable[[], Simulation], uid_of: Callable[[int], str | None]) -> None:
        self._sim_fn = sim_fn
        self._uid_of = uid_of

    @property
    def sim(self) -> Simulation:
        sim = self._sim_fn()
        sim.update_queries()
        return sim

    def _filter(self, exclude: int | Iterable[int] | None, groups: int, sensors: bool, only: str | None) -> rp.QueryFilter:
        if only not in _ONLY:
            raise InputError("physics query", "only", f"one of dynamic, kinematic, static or None, got {only!r}")
        if isinstance(groups, bool) or not isinstance(groups, int) or not 0 <= groups <= ALL_GROUPS:
            raise InputError("physics query", "groups", f"a 32-bit mask, got {groups!r}")
        flags = rp.QueryFilterFlags.empty()
        if _ONLY[only] is not None:
            flags = flags | _ONLY[only]
        if not sensors:
            flags = flags | rp.QueryFilterFlags.EXCLUDE_SENSORS
        ex: set[int] = set()
        if exclude is not None:
            ex = {exclude} if isinstance(exclude, int | np.integer) else {int(e) for e in exclude}
        grp = None
        if groups != ALL_GROUPS:
            grp = rp.InteractionGroups(rp.Group.from_bits(ALL_GROUPS), rp.Group.from_bits(groups))
        sim = self._sim_fn()
        if ex:
            by = sim.by_collider
            pred = lambda h, c: by.get(h) not in ex  # noqa: E731
            return rp.QueryFilter(flags=flags, groups=grp, predicate=pred)
        return rp.QueryFilter(flags=flags, groups=grp)

    def _hit(self, h: rp.ColliderHandle, point: Any, normal: Any, dist: float) -> Hit | None:
        e = self._sim_fn().by_collider.get(h)
        if e is None:
            return None
        return Hit(e, self._uid_of(e), np.array(tuple(point)), np.array(tuple(normal)), float(dist))

    def raycast(self, origin: Any, direction: Any, max_dist: float = math.inf, *, exclude: Any = None,
                groups: int = ALL_GROUPS, sensors: bool = False, only: str | None = None) -> Hit | None:
        """The nearest hit along the ray from ``origin`` (3,) towards ``direction`` (3,), or None."""
        sim = self.sim
        ray = _ray(origin, direction)
        r = sim.world.query_pipeline.cast_ray_and_get_normal(ray, _dist("max_dist", max_dist), True,
                                                              self._filter(exclude, groups, sensors, only))
        if r is None:
            return None
        h, inter = r
        return self._hit(h, ray.point_at(inter.toi), inter.normal, inter.toi)

    def raycast_all(self, origin: Any, direction: Any, max_dist: float = math.inf, *, exclude: Any = None,
                    groups: int = ALL_GROUPS, sensors: bool = False, only: str | None = None) -> list[Hit]:
        """Every hit along the ray, nearest first (ties broken by entity id)."""
        sim = self.sim
        ray = _ray(origin, direction)
        found: list[Hit] = []

        def cb(h: rp.ColliderHandle, inter: rp.RayIntersection) -> bool:
            hit = self._hit(h, ray.point_at(inter.toi), inter.normal, inter.toi)
            if hit is not None:
                found.append(hit)
            return True

        sim.world.query_pipeline.intersect_ray(ray, _dist("max_dist", max_dist), True, cb,
                                               self._filter(exclude, groups, sensors, only))
        return sorted(found, key=lambda h: (h.distance, h.entity))

    @staticmethod
    def _shape(shape: str, size: Any) -> rp.SharedShape:
        if shape == "sphere":
            r = float(size)
            if not (math.isfinite(r) and r > 0):
                raise InputError("physics query", "size", f"a radius > 0, got {size!r}")
            return rp.SharedShape.ball(r)
        if shape == "box":
            h = _vec("size", size)
            if min(h) <= 0:
                raise InputError("physics query", "size", f"half-extents > 0, got {h}")
            return rp.SharedShape.cuboid(*h)
        if shape == "capsule":
            try:
                hh, r = (float(v) for v in size)
            except (TypeError, ValueError):
                raise InputError("physics query", "size", f"(half_height, radius), got {size!r}") from None
            if not (math.isfinite(hh) and math.isfinite(r) and hh >= 0 and r > 0):
                raise InputError("physics query", "size", f"(half_height >= 0, radius > 0), got {size!r}")
            return rp.SharedShape.capsule_y(hh, r)
        raise InputError("physics query", "shape", f"sphere, box or capsule, got {shape!r}")

    def shape_cast(self, shape: str, size: Any, origin: Any, direction: Any, max_dist: float = math.inf, *,
                   exclude: Any = None, groups: int = ALL_GROUPS, sensors: bool = False, only: str | None = None) -> Hit | None:
        """Sweep a shape (``sphere`` radius, ``box`` half-extents (3,), ``capsule`` (half_height, radius))."""
        o, d = _vec("origin", origin), _vec("direction", direction)
        n = math.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2)
        if n == 0:
            raise InputError("physics query", "direction", "a non-zero vector")
        d = (d[0] / n, d[1] / n, d[2] / n)
        shp = self._shape(shape, size)
        sim = self.sim
        opts = rp.ShapeCastOptions(max_time_of_impact=_dist("max_dist", max_dist))
        r = sim.world.query_pipeline.cast_shape(rp.Isometry3(o), d, shp, opts, self._filter(exclude, groups, sensors, only))
        if r is None:
            return None
        h, hit = r
        return self._hit(h, hit.witness1, hit.normal1, hit.time_of_impact)

    def overlap(self, shape: str, size: Any, center: Any, *, exclude: Any = None, groups: int = ALL_GROUPS,
                sensors: bool = False, only: str | None = None) -> list[int]:
        """Entities whose colliders intersect the shape placed at ``center`` (3,), ascending."""
        c = _vec("center", center)
        shp = self._shape(shape, size)
        sim = self.sim
        out: set[int] = set()

        def cb(h: rp.ColliderHandle) -> bool:
            e = sim.by_collider.get(h)
            if e is not None:
                out.add(e)
            return True

        sim.world.query_pipeline.intersect_shape(rp.Isometry3(c), shp, cb, self._filter(exclude, groups, sensors, only))
        return sorted(out)

    def project_point(self, point: Any, max_dist: float = math.inf, *, exclude: Any = None, groups: int = ALL_GROUPS,
                      sensors: bool = False, only: str | None = None) -> Projection | None:
        """The closest collider surface point to ``point`` (3,) within ``max_dist``, or None."""
        p = _vec("point", point)
        sim = self.sim
        md = None if math.isinf(max_dist) else _dist("max_dist", max_dist)
        r = sim.world.query_pipeline.project_point(p, True, self._filter(exclude, groups, sensors, only), md)
        if r is None:
            return None
        h, proj = r
        e = sim.by_collider.get(h)
        if e is None:
            return None
        q = np.array(tuple(proj.point))
        return Projection(e, self._uid_of(e), q, bool(proj.is_inside), float(np.linalg.norm(q - np.array(p))))
