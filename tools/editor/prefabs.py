"""Palette prefabs: proxy shapes × materials, and imported splat captures as static splat entities."""

from __future__ import annotations

from pathlib import Path

from engine.errors import InputError
from engine.splats.vocab import MATERIAL_NAMES, SHAPES
from tools.editor.commands import clean
from tools.editor.document import Document, Json

# Default half-extents (m) per shape: something a designer can see at once.
DEFAULT_HALF_EXTENTS: dict[str, list[float]] = {
    "box": [0.5, 0.5, 0.5],
    "sphere": [0.5, 0.5, 0.5],
    "cylinder": [0.4, 0.8, 0.4],
    "capsule": [0.3, 0.9, 0.3],
    "plane": [5.0, 0.05, 5.0],
    "ramp": [1.0, 0.5, 1.0],
}

SPLAT_SUFFIXES = (".ply", ".spz", ".splat")
CAPTURE_TAG = "splat:"  # how captures were named before the SplatCapture component (still read)


def capture_path(e: dict[str, Json]) -> str | None:
    """The splat capture file an entity shows (its ``SplatCapture`` component, or the ``splat:<path>``
    tag of levels saved before that component existed), or None."""
    cap = e.get("components", {}).get("SplatCapture")
    if isinstance(cap, dict) and isinstance(cap.get("path"), str):
        return cap["path"]
    for t in e.get("tags", []):
        if t.startswith(CAPTURE_TAG):
            return t[len(CAPTURE_TAG) :]
    return None


def proxy_entity(
    doc: Document,
    shape: str = "box",
    material: str = "stone",
    pos: tuple[float, float, float] | list[float] = (0.0, 0.5, 0.0),
    uid: str | None = None,
    name: str | None = None,
    half_extents: list[float] | None = None,
) -> dict[str, Json]:
    """A new entity with a Transform and a Proxy of ``shape`` in ``material``; uid ``<shape>_N``."""
    if shape not in SHAPES:
        raise InputError("<editor>", "shape", f"one of {', '.join(SHAPES)}, got {shape!r}")
    if material not in MATERIAL_NAMES:
        raise InputError("<editor>", "material", f"one of {', '.join(MATERIAL_NAMES)}, got {material!r}")
    uid = uid or doc.fresh_uid(shape)
    return {
        "uid": uid,
        "name": name or uid.replace("_", " "),
        "tags": [],
        "components": {
            "Transform": {"pos": clean(list(pos)), "rot": [1.0, 0.0, 0.0, 0.0], "scale": [1.0, 1.0, 1.0]},
            "Proxy": {
                "shape": shape,
                "half_extents": list(half_extents or DEFAULT_HALF_EXTENTS[shape]),
                "material": material,
                "style_seed": 0,
                "state": {},
            },
        },
    }


def _stored_path(doc: Document, p: Path) -> str:
    """``p`` relative to the document's folder when it lies under it, else as given."""
    if doc.path is not None:
        try:
            return p.absolute().relative_to(doc.path.absolute().parent).as_posix()
        except ValueError:
            pass
    return str(p)


def splat_entity(
    doc: Document, capture: str | Path, pos: tuple[float, float, float] | list[float] = (0.0, 0.0, 0.0)
) -> dict[str, Json]:
    """An anchored static splat entity showing an imported capture (.ply/.spz/.splat).

    The capture is loaded once to check it and to size the stand-in proxy box (its bounds), so the
    proxy view, picking and physics see the capture's extent. The path is stored relative to the
    document's folder when the document has a file and the capture lies under that folder (the
    engine resolves relative ``SplatCapture`` paths next to the level file), else as given.
    """
    p = Path(capture)
    if p.suffix.lower() not in SPLAT_SUFFIXES:
        raise InputError(str(p), "", f"a splat capture ({', '.join(SPLAT_SUFFIXES)})")
    half = [0.5, 0.5, 0.5]
    try:
        from engine.splats import io as splat_io  # the renderer engineer's loader

        gs = splat_io.load(p)
        lo, hi = gs.means.min(axis=0), gs.means.max(axis=0)
        half = clean([max(float(abs(x)) + abs(float(c)), 0.01) for x, c in zip((hi - lo) / 2, (hi + lo) / 2, strict=True)])
    except ImportError:
        if not p.exists():
            raise InputError(str(p), "", "an existing splat capture file") from None
    stem = "".join(ch if ch.isalnum() else "_" for ch in p.stem.lower()) or "capture"
    uid = doc.fresh_uid(f"splat_{stem}")
    return {
        "uid": uid,
        "name": p.stem,
        # ``SplatCapture`` makes ``anchorworld run`` draw the file (systems.worldmodel_stage).
        "tags": sorted(["static", "capture"]),
        "components": {
            "SplatCapture": {"path": _stored_path(doc, p)},
            "Transform": {"pos": clean(list(pos)), "rot": [1.0, 0.0, 0.0, 0.0], "scale": [1.0, 1.0, 1.0]},
            "Proxy": {"shape": "box", "half_extents": half, "material": "stone", "style_seed": 0, "state": {}},
            "RigidBody": {"kind": "static"},
        },
    }
