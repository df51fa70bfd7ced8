"""Collider shapes: a ``Collider`` (+ the entity's ``Proxy`` and ``Transform.scale``) → Rapier.

:func:`shape_spec` is pure Python: it resolves the component to a hashable :data:`ShapeSpec`
(kind + numbers) so the physics system can tell when a collider must be rebuilt (a proxy grew, a
scale changed) by comparing specs. :func:`build_shape` turns a spec into a Rapier ``SharedShape``.

Proxy shapes follow ``engine.splats.vocab``: ``box`` → cuboid; ``sphere`` → ball (an ellipsoid
becomes a convex hull); ``cylinder`` (axis +Y) → cylinder (elliptic → hull); ``capsule`` → capsule
of radius min(hx, hz) (shorter than wide: the ellipsoid's hull); ``plane`` → a thin slab whose top face is y = 0; ``ramp`` → wedge hull.
"""

from __future__ import annotations

import math

import numpy as np
import rapier3d as rp

from engine.components import Proxy
from engine.errors import InputError
from engine.physics_components import Collider
from engine.splats.vocab import capsule_dims

# (kind, offset (x, y, z), params): params are floats, or for hull/trimesh tuples of floats/ints.
ShapeSpec = tuple
PLANE_THICKNESS = 0.05  # metres of slab under a ``plane`` proxy's surface


def _ellipsoid_points(h: np.ndarray, n_theta: int = 8, n_phi: int = 12) -> np.ndarray:
    """(M, 3) points on the ellipsoid with semi-axes ``h`` (3,)."""
    pts = [(0.0, h[1], 0.0), (0.0, -h[1], 0.0)]
    for i in range(1, n_theta):
        t = math.pi * i / n_theta
        for j in range(n_phi):
            p = 2.0 * math.pi * j / n_phi
            pts.append((h[0] * math.sin(t) * math.cos(p), h[1] * math.cos(t), h[2] * math.sin(t) * math.sin(p)))
    return np.asarray(pts)


def _elliptic_cylinder_points(h: np.ndarray, n: int = 16) -> np.ndarray:
    """(2n, 3) rim points of the cylinder along +Y with radii (hx, hz) and half-height hy."""
    a = 2.0 * math.pi * np.arange(n) / n
    ring = np.stack([h[0] * np.cos(a), np.zeros(n), h[2] * np.sin(a)], 1)
    top, bot = ring.copy(), ring.copy()
    top[:, 1], bot[:, 1] = h[1], -h[1]
    return np.concatenate([top, bot])


def _ramp_points(h: np.ndarray) -> np.ndarray:
    """(6, 3) corners of the wedge rising from y=-hy at x=-hx to y=+hy at x=+hx."""
    hx, hy, hz = h
    return np.array(
        [[-hx, -hy, -hz], [-hx, -hy, hz], [hx, -hy, -hz], [hx, -hy, hz], [hx, hy, -hz], [hx, hy, hz]], np.float64
    )


def _hull(points: np.ndarray, offset: tuple[float, float, float]) -> ShapeSpec:
    return ("hull", offset, tuple(float(v) for v in np.asarray(points, np.float64).reshape(-1)))


def shape_spec(where: str, collider: Collider, proxy: Proxy | None, scale: np.ndarray) -> ShapeSpec:
    """The resolved shape of ``collider`` for an entity with ``proxy`` and ``scale`` (3,).

    Raises ``InputError(where, field, ...)`` for a ``proxy`` collider without a Proxy, or a
    non-positive / non-finite scale.
    """
    s = np.asarray(scale, np.float64)
    if not (np.all(np.isfinite(s)) and np.all(s > 0.0)):
        raise InputError(where, "Transform.scale", f"3 finite numbers > 0, got {s.tolist()}")
    off = tuple(float(v) for v in collider.offset * s)
    kind = collider.shape
    if kind == "proxy":
        if proxy is None:
            raise InputError(where, "Collider.shape", "a Proxy on the entity for shape 'proxy' (or an explicit shape)")
        h = np.asarray(proxy.half_extents, np.float64) * s
        ps = proxy.shape
        if ps == "box":
            return ("box", off, (float(h[0]), float(h[1]), float(h[2])))
        if ps == "sphere":
            if h[0] == h[1] == h[2]:
                return ("ball", off, (float(h[0]),))
            return _hull(_ellipsoid_points(h), off)
        if ps == "cylinder":
            if h[0] == h[2]:
                return ("cylinder", off, (float(h[1]), float(h[0])))
            return _hull(_elliptic_cylinder_points(h), off)
        if ps == "capsule":
            r, c, side = capsule_dims(float(h[0]), float(h[1]), float(h[2]))
            if c < r:  # shorter than wide: the ellipsoid (r, hy, r), as the proxy draws it
                return _hull(_ellipsoid_points(np.array([r, c, r])), off)
            return ("capsule", off, (side, r))
        if ps == "plane":
            t = PLANE_THICKNESS
            return ("box", (off[0], off[1] - t, off[2]), (float(h[0]), t, float(h[2])))
        if ps == "ramp":
            return _hull(_ramp_points(h), off)
        raise InputError(where, "Proxy.shape", f"a shape physics understands, got {ps!r}")  # pragma: no cover
    if kind == "box":
        h = collider.half_extents * s
        return ("box", off, (float(h[0]), float(h[1]), float(h[2])))
    if kind == "sphere":
        return ("ball", off, (float(collider.radius * s.max()),))
    if kind in ("capsule", "cylinder"):
        r = float(collider.radius * max(s[0], s[2]))
        return (kind, off, (float(collider.half_height * s[1]), r))
    assert collider.points is not None
    pts = collider.points * s
    if kind == "hull":
        return _hull(pts, off)
    assert collider.indices is not None
    return (
        "trimesh",
        off,
        (tuple(float(v) for v in pts.reshape(-1)), tuple(int(i) for i in np.asarray(collider.indices).reshape(-1))),
    )


def build_shape(where: str, spec: ShapeSpec) -> rp.SharedShape:
    """A Rapier ``SharedShape`` for ``spec``; ``InputError`` if the points make no solid."""
    kind, _off, p = spec
    try:
        if kind == "box":
            return rp.SharedShape.cuboid(*p)
        if kind == "ball":
            return rp.SharedShape.ball(p[0])
        if kind == "capsule":
            return rp.SharedShape.capsule_y(p[0], p[1])
        if kind == "cylinder":
            return rp.SharedShape.cylinder(p[0], p[1])
        if kind == "hull":
            shape = rp.SharedShape.convex_hull(np.asarray(p, np.float32).reshape(-1, 3))
            if shape is None:
                raise ValueError("degenerate points")
            return shape
        if kind == "trimesh":
            pts, idx = p
            return rp.SharedShape.trimesh(np.asarray(pts, np.float32).reshape(-1, 3), np.asarray(idx, np.uint32).reshape(-1, 3))
    except (ValueError, rp.RapierError) as exc:
        raise InputError(where, "Collider.points", f"points spanning a solid ({exc})") from None
    raise AssertionError(kind)


def collider_builder(where: str, spec: ShapeSpec, collider: Collider) -> rp.ColliderBuilder:
    """A ``ColliderBuilder`` for the shape ``spec`` with ``collider``'s material, flags and groups."""
    b = rp.Collider.new(build_shape(where, spec))
    b = b.translation(spec[1]).friction(collider.friction).restitution(collider.restitution)
    groups = rp.InteractionGroups(rp.Group.from_bits(collider.groups), rp.Group.from_bits(collider.mask))
    b = b.collision_groups(groups)
    if collider.sensor:
        # sensors must see kinematic characters too (Rapier's default is dynamic pairs only);
        # static scenery touching a static trigger is of no interest
        types = rp.ActiveCollisionTypes.all() - rp.ActiveCollisionTypes.FIXED_FIXED
        b = b.sensor(True).active_collision_types(types)
    if collider.sensor or collider.events:
        b = b.active_events(rp.ActiveEvents.COLLISION_EVENTS)
    return b
