"""Click picking: a ray through a pixel against each entity's proxy box (oriented, scaled)."""

from __future__ import annotations

import numpy as np

from engine.render.camera import Camera
from tools.editor.document import Json


def entity_matrix(e: dict[str, Json]) -> np.ndarray:
    """4×4 local→world of an entity's Transform (identity without one), T·R·S."""
    t = e.get("components", {}).get("Transform")
    if not t:
        return np.eye(4)
    w, x, y, z = (float(v) for v in t["rot"])
    r = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )
    m = np.eye(4)
    m[:3, :3] = r * np.asarray(t["scale"], float)[None, :]
    m[:3, 3] = np.asarray(t["pos"], float)
    return m


def half_extents(e: dict[str, Json]) -> np.ndarray:
    """(3,) local half-extents of the entity's proxy box (a small box when it has no proxy)."""
    p = e.get("components", {}).get("Proxy")
    return np.asarray(p["half_extents"], float) if p else np.full(3, 0.25)


def pixel_ray(cam: Camera, x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
    """World-space (origin (3,), unit direction (3,)) through pixel (x, y), top-left origin."""
    right, down, fwd = cam.basis()
    f = cam.focal
    d = fwd + right * (x - cam.width / 2.0) / f + down * (y - cam.height / 2.0) / f
    return cam.eye.copy(), d / np.linalg.norm(d)


def ray_box(origin: np.ndarray, direction: np.ndarray, matrix: np.ndarray, half: np.ndarray) -> float | None:
    """Distance along the ray to the oriented box ``matrix · [-half, half]``, or None if missed."""
    try:
        inv = np.linalg.inv(matrix)
    except np.linalg.LinAlgError:
        return None
    o = inv[:3, :3] @ origin + inv[:3, 3]
    d = inv[:3, :3] @ direction
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (-half - o) / d
        t2 = (half - o) / d
    t1 = np.where(np.isnan(t1), -np.inf, t1)
    t2 = np.where(np.isnan(t2), np.inf, t2)
    tmin = float(np.max(np.minimum(t1, t2)))
    tmax = float(np.min(np.maximum(t1, t2)))
    if tmax < max(tmin, 0.0):
        return None
    t_local = tmin if tmin > 0 else tmax
    hit_local = o + d * t_local
    hit_world = matrix[:3, :3] @ hit_local + matrix[:3, 3]
    return float(np.linalg.norm(hit_world - origin))


def pick(
    entities: list[dict[str, Json]], origin: np.ndarray, direction: np.ndarray, skip: set[str] | None = None
) -> str | None:
    """uid of the nearest entity whose proxy box the ray hits (``skip``: uids to ignore)."""
    best, best_t = None, np.inf
    for e in entities:
        if skip and e["uid"] in skip:
            continue
        t = ray_box(origin, direction, entity_matrix(e), half_extents(e))
        if t is not None and t < best_t:
            best, best_t = e["uid"], t
    return best


def bounds(entities: list[dict[str, Json]]) -> tuple[np.ndarray, np.ndarray]:
    """World-space AABB (lo (3,), hi (3,)) of the entities' proxy boxes."""
    corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)
    pts = []
    for e in entities:
        m, h = entity_matrix(e), half_extents(e)
        pts.append((corners * h) @ m[:3, :3].T + m[:3, 3])
    if not pts:
        return np.full(3, -1.0), np.full(3, 1.0)
    allp = np.concatenate(pts)
    return allp.min(axis=0), allp.max(axis=0)
