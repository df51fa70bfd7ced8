"""The edited level: the ``*.level.json`` document as plain JSON data, its file and its selection.

The editor edits the JSON tree directly (every edit is a command, see ``commands.py``) so that an
undone edit restores the exact values and key order, and saving gives the same bytes. Validation
and the on-disk form follow the engine's level format (``engine/levels.py``)::

    {"format": "anchorworld.level", "version": 1, "name": str, "seed": int, "script": str | null,
     "player_start": {"pos": [x, y, z], "yaw": deg} | null,
     "entities": [{"uid": str, "name": str, "tags": [str], "components": {
         "Transform": {"pos": [3], "rot": [w, x, y, z], "scale": [3]},
         "Proxy": {"shape", "half_extents": [3], "material", "style_seed": int, "state": {name: 0..1}},
         ...}}]}
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

from engine.errors import InputError
from engine.files import atomic_write
from engine.splats.vocab import MATERIAL_NAMES, SHAPES, STATES

FORMAT = "anchorworld.level"
VERSION = 1

Json = Any


def new_level(name: str = "untitled", seed: int = 0) -> dict[str, Json]:
    """An empty level document."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": name,
        "seed": seed,
        "script": None,
        "player_start": {"pos": [0.0, 1.0, 5.0], "yaw": 0.0},
        "entities": [],
    }


def to_bytes(data: dict[str, Json]) -> bytes:
    """Deterministic on-disk bytes, exactly what ``engine.levels.Level.save`` writes for this data
    (sorted keys, 2-space indent, shortest round-trip floats); plain sorted JSON for data the engine
    cannot encode (never saved: ``Document.save`` validates first)."""
    try:
        from engine.levels import Level

        return Level.from_data(data, "<editor>").to_json().encode("utf-8")
    except ImportError:
        pass
    except InputError:
        pass
    return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def canonical(data: dict[str, Json]) -> dict[str, Json]:
    """The level data as the engine would save it (so editing starts from the saved form)."""
    return json.loads(to_bytes(data))


# -- validation ------------------------------------------------------------------------------------
def _num(src: str, path: str, v: Json, lo: float = -math.inf, hi: float = math.inf) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise InputError(src, path, f"a finite number, got {v!r}")
    if not lo <= v <= hi:
        raise InputError(src, path, f"a number in [{lo}, {hi}], got {v!r}")
    return float(v)


def _vec(src: str, path: str, v: Json, n: int, lo: float = -math.inf, hi: float = math.inf) -> None:
    if not isinstance(v, list) or len(v) != n:
        raise InputError(src, path, f"a list of {n} numbers, got {v!r}")
    for i, x in enumerate(v):
        _num(src, f"{path}[{i}]", x, lo, hi)


def _obj(src: str, path: str, v: Json) -> dict[str, Json]:
    if not isinstance(v, dict):
        raise InputError(src, path, f"an object, got {type(v).__name__}")
    return v


def validate_transform(src: str, path: str, t: Json) -> None:
    """Transform: pos (3), rot unit quaternion w-first (4), scale (3) > 0."""
    t = _obj(src, path, t)
    _vec(src, f"{path}.pos", t.get("pos"), 3)
    _vec(src, f"{path}.rot", t.get("rot"), 4, -1.0000001, 1.0000001)
    if abs(math.sqrt(sum(x * x for x in t["rot"])) - 1.0) > 1e-3:
        raise InputError(src, f"{path}.rot", f"a unit quaternion (w, x, y, z), got {t['rot']!r}")
    _vec(src, f"{path}.scale", t.get("scale"), 3, 1e-6)
    extra = set(t) - {"pos", "rot", "scale"}
    if extra:
        raise InputError(src, f"{path}.{sorted(extra)[0]}", "only pos, rot and scale")


def validate_proxy(src: str, path: str, p: Json) -> None:
    """Proxy: shape and material from the vocabulary, half_extents > 0, style_seed int, state in [0, 1]."""
    p = _obj(src, path, p)
    if p.get("shape") not in SHAPES:
        raise InputError(src, f"{path}.shape", f"one of {', '.join(SHAPES)}, got {p.get('shape')!r}")
    _vec(src, f"{path}.half_extents", p.get("half_extents"), 3, 1e-4, 1e4)
    if p.get("material") not in MATERIAL_NAMES:
        raise InputError(
            src, f"{path}.material", f"one of {', '.join(MATERIAL_NAMES)}, got {p.get('material')!r}"
        )
    seed = p.get("style_seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise InputError(src, f"{path}.style_seed", f"an integer in [0, 2^32), got {seed!r}")
    state = _obj(src, f"{path}.state", p.get("state", {}))
    for k, v in state.items():
        if k not in STATES:
            raise InputError(src, f"{path}.state.{k}", f"a state among {', '.join(STATES)}")
        _num(src, f"{path}.state.{k}", v, 0.0, 1.0)


def validate_entity(src: str, path: str, e: Json) -> None:
    """One entity: uid (non-empty str), name (str), tags (list of str), components (object)."""
    e = _obj(src, path, e)
    uid = e.get("uid")
    if not isinstance(uid, str) or not uid or len(uid) > 128:
        raise InputError(src, f"{path}.uid", f"a non-empty string, got {uid!r}")
    if not isinstance(e.get("name", ""), str):
        raise InputError(src, f"{path}.name", "a string")
    tags = e.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        raise InputError(src, f"{path}.tags", f"a list of non-empty strings, got {tags!r}")
    comps = _obj(src, f"{path}.components", e.get("components", {}))
    if "Transform" in comps:
        validate_transform(src, f"{path}.components.Transform", comps["Transform"])
    if "Proxy" in comps:
        validate_proxy(src, f"{path}.components.Proxy", comps["Proxy"])
    for name, c in comps.items():
        _obj(src, f"{path}.components.{name}", c)
    _engine_validate_entity(e, src, path)


def _engine_validate_entity(e: dict[str, Json], src: str, path: str) -> None:
    """The engine's checks of one entity (registered components, their fields), with our path."""
    try:
        from engine.levels import Level
    except ImportError:
        return
    import engine.physics_components  # noqa: F401 - registers the physics components

    try:
        Level.from_data({"format": FORMAT, "version": VERSION, "entities": [e]}, src)
    except InputError as exc:
        field = exc.field.replace("entities[0]", path, 1) if exc.field.startswith("entities[0]") else exc.field
        raise InputError(src, field, exc.expected) from None


def validate_level(data: Json, src: str = "<level>") -> None:
    """Raise ``InputError`` naming the JSON path of the first problem in a level document."""
    data = _obj(src, "$", data)
    if data.get("format") != FORMAT:
        raise InputError(src, "$.format", f"{FORMAT!r}, got {data.get('format')!r}")
    if data.get("version") != VERSION:
        raise InputError(src, "$.version", f"{VERSION}, got {data.get('version')!r}")
    if not isinstance(data.get("name", ""), str):
        raise InputError(src, "$.name", "a string")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InputError(src, "$.seed", f"an integer, got {seed!r}")
    script = data.get("script")
    if script is not None and not isinstance(script, str):
        raise InputError(src, "$.script", "a path string or null")
    ps = data.get("player_start")
    if ps is not None:
        ps = _obj(src, "$.player_start", ps)
        _vec(src, "$.player_start.pos", ps.get("pos"), 3)
        if "yaw" in ps:
            _num(src, "$.player_start.yaw", ps["yaw"])
    ents = data.get("entities")
    if not isinstance(ents, list):
        raise InputError(src, "$.entities", "a list of entities")
    seen: set[str] = set()
    for i, e in enumerate(ents):
        validate_entity(src, f"$.entities[{i}]", e)
        if e["uid"] in seen:
            raise InputError(src, f"$.entities[{i}].uid", f"a unique uid; {e['uid']!r} appears twice")
        seen.add(e["uid"])
    _engine_validate(data, src)


def _engine_validate(data: dict[str, Json], src: str) -> None:
    """Also run the engine's own level validation (registered components included)."""
    try:
        from engine.levels import Level
    except ImportError:
        return
    import engine.physics_components  # noqa: F401 - registers RigidBody, Collider, … for levels

    Level.from_data(data, src)


def read_level(path: str | Path) -> dict[str, Json]:
    """Parse and validate a level file; raises ``InputError`` (file, JSON path, expectation)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(str(path), "", f"a readable level file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(str(path), "", "UTF-8 JSON text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"line {exc.lineno} column {exc.colno}", f"valid JSON ({exc.msg})") from None
    validate_level(data, str(path))
    return data


class Document:
    """The level being edited: its JSON data, file path, selection and dirty state.

    ``revision`` counts applied changes (commands bump it on apply and revert alike);
    ``saved_bytes`` is what the file on disk holds, so ``dirty`` is exact even after undo.
    """

    def __init__(self, data: dict[str, Json] | None = None, path: str | Path | None = None) -> None:
        self.data: dict[str, Json] = data if data is not None else new_level()
        self.path: Path | None = Path(path) if path else None
        self.selection: list[str] = []
        self.revision = 0
        self.saved_bytes: bytes | None = to_bytes(self.data) if (path and Path(path).exists()) else None

    @classmethod
    def open(cls, path: str | Path) -> Document:
        """Load ``path``; a missing file gives an empty level that is created on first save."""
        p = Path(path)
        if not p.exists():
            doc = cls(new_level(p.name.removesuffix(".level.json")), None)
            doc.path = p
            return doc
        return cls(canonical(read_level(p)), p)

    @property
    def entities(self) -> list[dict[str, Json]]:
        """The entity list (live)."""
        return self.data["entities"]

    def index_of(self, uid: str) -> int:
        """Index of the entity with ``uid``; ``KeyError`` if absent."""
        for i, e in enumerate(self.entities):
            if e["uid"] == uid:
                return i
        raise KeyError(uid)

    def entity(self, uid: str) -> dict[str, Json]:
        """The entity with ``uid`` (live dict)."""
        return self.entities[self.index_of(uid)]

    def has(self, uid: str) -> bool:
        """Whether an entity with ``uid`` exists."""
        return any(e["uid"] == uid for e in self.entities)

    def fresh_uid(self, stem: str, taken: set[str] | None = None) -> str:
        """The first ``stem_N`` (N = 1, 2, …) not used by any entity nor in ``taken``."""
        used = {e["uid"] for e in self.entities} | (taken or set())
        n = 1
        while f"{stem}_{n}" in used:
            n += 1
        return f"{stem}_{n}"

    def to_bytes(self) -> bytes:
        """The bytes a save would write now."""
        return to_bytes(self.data)

    @property
    def dirty(self) -> bool:
        """Whether the level differs from the file on disk (or was never saved).

        Compared by bytes (exact even after undo), cached per revision so the status bar can ask
        every frame.
        """
        key = (self.revision, id(self.saved_bytes))
        if getattr(self, "_dirty_key", None) != key:
            self._dirty_key = key
            self._dirty = self.saved_bytes != self.to_bytes()
        return self._dirty

    def save(self, path: str | Path | None = None) -> Path:
        """Validate, then write atomically to ``path`` (default: the document's path)."""
        target = Path(path) if path else self.path
        if target is None:
            raise InputError("<editor>", "path", "a file name to save to (use save-as)")
        validate_level(self.data, str(target))
        payload = self.to_bytes()
        atomic_write(target, payload, make_parents=True)
        self.path = target
        self.saved_bytes = payload
        return target

    def snapshot(self) -> dict[str, Json]:
        """A deep copy of the level data (play mode restores it)."""
        return copy.deepcopy(self.data)
