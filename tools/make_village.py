"""Generate ``games/village.level.json``: the village sample's level, laid out by code.

    python tools/make_village.py            # rewrites games/village.level.json (deterministic bytes)
    python tools/make_village.py --check    # exit 1 if the file on disk differs

A grass ground in 36 tiles, dirt and sand paths, four houses (plaster or brick walls, two roof_tiles ramps
each), trees (bark trunk + foliage crown), a well (stone ring + water), fences (wood_planks),
crates stacked to fall (dynamic bodies), a door on a hinge, a torch and three items to find.
Tags tell the game script what each entity is for: ``static`` (collider from its proxy),
``crate``, ``door``, ``fence``, ``torch``, ``item``, ``outdoor`` (gets wet in the rain).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file from anywhere
from typing import Any

LEVEL = Path(__file__).resolve().parents[1] / "games" / "village.level.json"


def yaw_quat(deg: float) -> list[float]:
    """w-first unit quaternion for a rotation of ``deg`` degrees about +Y."""
    h = math.radians(deg) / 2.0
    return [round(math.cos(h), 9), 0.0, round(math.sin(h), 9), 0.0]


class Village:
    """Collects entities in document order; uids are stable, human-readable paths."""

    def __init__(self) -> None:
        self.entities: list[dict[str, Any]] = []

    def add(self, uid: str, shape: str, he: tuple[float, float, float], material: str, pos: tuple[float, float, float],
            yaw: float = 0.0, tags: tuple[str, ...] = ("static", "outdoor"), name: str | None = None,
            extra: dict[str, Any] | None = None) -> None:
        comps: dict[str, Any] = {
            "Transform": {"pos": [round(v, 4) for v in pos], "rot": yaw_quat(yaw), "scale": [1.0, 1.0, 1.0]},
            "Proxy": {"shape": shape, "half_extents": [round(v, 4) for v in he], "material": material,
                      "style_seed": 0, "state": {}},
        }
        if "static" in tags:
            comps["RigidBody"] = {"kind": "static"}
            comps["Collider"] = {}
        comps.update(extra or {})
        self.entities.append({"uid": uid, "name": name or uid.split("/")[0], "tags": list(tags), "components": comps})


def house(v: Village, i: int, x: float, z: float, yaw: float, wall: str, w: float, d: float, h: float) -> None:
    """Walls box + a gable roof of two ramps meeting at the ridge (ridge along the house's z axis)."""
    c, s = math.cos(math.radians(yaw)), math.sin(math.radians(yaw))

    def at(lx: float, ly: float, lz: float) -> tuple[float, float, float]:  # house-local → world
        return (x + c * lx + s * lz, ly, z - s * lx + c * lz)

    v.add(f"house{i}/walls", "box", (w, h, d), wall, at(0, h, 0), yaw, name=f"house {i}")
    rh = 0.45 * w  # roof half-height
    v.add(f"house{i}/roof_left", "ramp", (w / 2 + 0.15, rh, d + 0.3), "roof_tiles", at(-w / 2 - 0.15, 2 * h + rh, 0), yaw,
          name=f"house {i} roof")
    v.add(f"house{i}/roof_right", "ramp", (w / 2 + 0.15, rh, d + 0.3), "roof_tiles", at(w / 2 + 0.15, 2 * h + rh, 0),
          yaw + 180.0, name=f"house {i} roof")


def build() -> dict[str, Any]:
    """The village level document."""
    v = Village()
    # the ground in 8 m tiles: each tile is its own anchor, so the model's Gaussian budget (which
    # grows with area up to a cap) and the level of detail (by distance) work per tile
    for i in range(6):
        for k in range(6):
            v.add(f"ground/{i}_{k}", "plane", (4.0, 0.1, 4.0), "grass", (8.0 * i - 20.0, 0, 8.0 * k - 20.0), name="ground")
    # paths: a dirt cross through the village and a sand square around the well
    v.add("path/main", "plane", (1.2, 0.02, 16.0), "dirt", (0, 0.01, 0), name="path")
    v.add("path/cross", "plane", (12.0, 0.02, 1.0), "dirt", (0, 0.011, -2.0), name="path")
    v.add("path/well", "plane", (2.6, 0.02, 2.6), "sand", (5.0, 0.012, 4.0), name="path")
    # houses along the cross path
    house(v, 1, -6.5, -7.0, 0.0, "plaster", 2.5, 2.0, 1.4)
    house(v, 2, 6.5, -7.0, 0.0, "brick", 2.2, 2.2, 1.3)
    house(v, 3, -7.0, 3.5, 90.0, "brick", 2.0, 2.6, 1.5)
    house(v, 4, 7.5, 10.0, 90.0, "plaster", 2.0, 2.0, 1.2)
    # the door of house 1 on a hinge at its left edge (facing +z, toward the path)
    # hinge at the door's left edge (door-local x = -0.45); in the walls' frame that is (-0.45, -0.43, 2.07);
    # negative angles swing it outwards (+z); the motor holds it at motor_target (the script opens it)
    v.add("house1/door", "box", (0.45, 0.95, 0.05), "wood_planks", (-6.5, 0.97, -4.93), tags=("door", "outdoor"),
          name="door", extra={
              "RigidBody": {"kind": "dynamic", "density": 400.0, "angular_damping": 2.0},
              "Collider": {},
              "Joint": {"kind": "hinge", "other": "house1/walls", "anchor": [-0.45, 0.0, 0.0],
                        "other_anchor": [-0.45, -0.43, 2.07], "axis": [0.0, 1.0, 0.0], "limits": [-1.6, 0.0],
                        "motor_target": 0.0, "motor_stiffness": 200.0, "motor_damping": 20.0},
          })
    # trees
    trees = [(-12, -12), (-3, -13), (12, -13), (-13, -2), (13, 1), (-12, 9), (2, 13), (-4, 9), (11, 5)]
    for i, (tx, tz) in enumerate(trees):
        tall = 1.1 + 0.15 * (i % 3)
        v.add(f"tree{i}/trunk", "cylinder", (0.22, tall, 0.22), "bark", (tx, tall, tz), name="tree trunk")
        v.add(f"tree{i}/crown", "sphere", (1.3, 1.4, 1.3), "foliage", (tx, 2 * tall + 1.0, tz), name="tree crown")
    # the well
    v.add("well/ring", "cylinder", (0.9, 0.45, 0.9), "stone", (5.0, 0.45, 4.0), name="well")
    v.add("well/water", "plane", (0.7, 0.02, 0.7), "water", (5.0, 0.8, 4.0), tags=("outdoor",), name="well water")
    # fences along the west edge of the main path, south of the cross path
    for i in range(6):
        v.add(f"fence{i}", "box", (1.0, 0.45, 0.05), "wood_planks", (-2.6, 0.45, 2.0 + 2.05 * i), 90.0,
              tags=("static", "fence", "outdoor"), name="fence")
    # crates: stacked in the air beside house 2, they fall when the game starts
    for i, (cx, cy, cz) in enumerate([(3.2, 0.6, -3.6), (3.3, 1.8, -3.6), (3.25, 3.0, -3.5), (4.2, 2.2, -3.9),
                                      (3.6, 4.4, -3.7)]):
        v.add(f"crate{i}", "box", (0.35, 0.35, 0.35), "wood_planks", (cx, cy, cz), 12.0 * i,
              tags=("crate", "outdoor"), name="crate",
              extra={"RigidBody": {"kind": "dynamic", "density": 300.0}, "Collider": {"events": True}})
    # the torch, leaning on a stone block by the fence; three items to find
    v.add("torch/block", "box", (0.3, 0.3, 0.3), "stone", (-1.8, 0.3, 7.5), name="stone block")
    v.add("torch", "cylinder", (0.05, 0.35, 0.05), "wood_planks", (-1.8, 0.95, 7.5), tags=("torch",), name="torch")
    v.add("item/lantern", "sphere", (0.18, 0.18, 0.18), "metal", (9.5, 0.25, -9.5), tags=("item",), name="lantern")
    v.add("item/bucket", "cylinder", (0.2, 0.2, 0.2), "metal", (5.9, 0.2, 5.1), tags=("item",), name="bucket")
    v.add("item/horseshoe", "box", (0.15, 0.03, 0.15), "metal", (-10.5, 0.05, 6.0), tags=("item",), name="horseshoe")
    return {
        "format": "anchorworld.level",
        "version": 1,
        "name": "village",
        "seed": 7,
        "script": "village.py",
        "player_start": {"pos": [0.0, 0.1, 14.0], "yaw": 180.0},
        "entities": v.entities,
    }


def to_bytes(doc: dict[str, Any]) -> bytes:
    """The engine's canonical level bytes (validated by ``engine.levels``, as the editor saves them)."""
    import engine.physics_components  # noqa: F401  (registers RigidBody, Collider, Joint for levels)
    from engine.levels import Level

    return Level.from_data(doc, "tools/make_village.py").to_json().encode()


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the level file."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 if the level file is not what this script writes")
    p.add_argument("--out", type=Path, default=LEVEL)
    args = p.parse_args(argv)
    data = to_bytes(build())
    if args.check:
        same = args.out.exists() and args.out.read_bytes() == data
        print("up to date" if same else f"{args.out} differs; run python tools/make_village.py")
        return 0 if same else 1
    fd, tmp = tempfile.mkstemp(dir=args.out.parent, prefix=".village.", suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, args.out)
    print(f"wrote {args.out} ({len(build()['entities'])} anchors)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
