"""The shared vocabulary of proxies: shapes, materials and appearance states.

Every layer that names a material or a state (levels, the proxy pass, the world model, the wire
format) takes it from here, so a tag means the same thing everywhere.

Shapes all live inside the box ``[-h, h]`` given by the proxy's half-extents ``h = (hx, hy, hz)``:

- ``box``: the box itself.
- ``sphere``: the ellipsoid inscribed in the box.
- ``cylinder``: axis +Y, elliptical cross-section with radii (hx, hz), from y=-hy to y=+hy.
- ``capsule``: axis +Y, radius r = min(hx, hz), total half-height hy; its caps are half-ellipsoids
  of semi-axes (r, min(r, hy), r): hemispheres when hy ≥ r, and a capsule shorter than it is wide
  is the ellipsoid (r, hy, r), still inside the box.
- ``plane``: a horizontal surface at y=0 spanning x in [-hx, hx], z in [-hz, hz]; hy is the
  height its surface detail (grass, water ripples) may rise to.
- ``ramp``: a wedge: bottom face at y=-hy, sloped top rising from y=-hy at x=-hx to y=+hy at x=+hx.
"""

from __future__ import annotations

from dataclasses import dataclass

SHAPES: tuple[str, ...] = ("box", "sphere", "cylinder", "capsule", "plane", "ramp")

# Appearance states are continuous in [0, 1]; order is the order of the state vector.
STATES: tuple[str, ...] = ("damage", "wetness", "snow", "burn")


@dataclass(frozen=True)
class Material:
    """A material tag: its id in the vocabulary, its mean linear colour and its margin.

    ``margin`` (metres) is how far generated detail may stand out of the proxy's bounds
    (grass blades, leaves, protruding bricks).
    """

    id: int
    name: str
    colour: tuple[float, float, float]
    margin: float


_MATERIAL_TABLE: tuple[tuple[str, tuple[float, float, float], float], ...] = (
    ("grass", (0.16, 0.34, 0.07), 0.12),
    ("dirt", (0.28, 0.18, 0.10), 0.03),
    ("sand", (0.62, 0.52, 0.33), 0.02),
    ("stone", (0.38, 0.37, 0.35), 0.04),
    ("brick", (0.45, 0.16, 0.10), 0.03),
    ("plaster", (0.78, 0.74, 0.66), 0.01),
    ("wood_planks", (0.46, 0.30, 0.16), 0.02),
    ("bark", (0.25, 0.16, 0.09), 0.04),
    ("foliage", (0.10, 0.30, 0.06), 0.25),
    ("roof_tiles", (0.50, 0.17, 0.10), 0.04),
    ("water", (0.10, 0.25, 0.38), 0.03),
    ("metal", (0.55, 0.56, 0.58), 0.01),
)

MATERIALS: dict[str, Material] = {
    name: Material(i, name, colour, margin) for i, (name, colour, margin) in enumerate(_MATERIAL_TABLE)
}
MATERIAL_NAMES: tuple[str, ...] = tuple(MATERIALS)


def material(name: str) -> Material:
    """Look up a material tag; an unknown tag raises ``ValueError`` listing the vocabulary."""
    try:
        return MATERIALS[name]
    except KeyError:
        raise ValueError(f"unknown material {name!r}; expected one of {', '.join(MATERIAL_NAMES)}") from None


def check_shape(name: str) -> str:
    """Return ``name`` if it is a known proxy shape, else raise ``ValueError``."""
    if name not in SHAPES:
        raise ValueError(f"unknown shape {name!r}; expected one of {', '.join(SHAPES)}")
    return name


def capsule_dims(hx: float, hy: float, hz: float) -> tuple[float, float, float]:
    """A capsule proxy's (radius r = min(hx, hz), its caps' vertical semi-axis c = min(r, hy),
    the straight side's half-length hy − c): c < r is the capsule shorter than it is wide."""
    r = min(hx, hz)
    c = min(r, hy)
    return r, c, hy - c
