"""Level files (``*.level.json``): load, validate, edit in memory, save with deterministic bytes.

Schema (version 1)::

    {"format": "anchorworld.level", "version": 1, "name": "village", "seed": 7,
     "script": "village.py",                      # optional, relative to the level file
     "player_start": {"pos": [0, 0, 0], "yaw": 0}, # optional
     "entities": [
       {"uid": "crate-1", "name": "Crate", "tags": ["crate"],
        "components": {"Transform": {"pos": [..3], "rot": [w, x, y, z], "scale": [..3]},
                       "Proxy": {"shape": "box", "half_extents": [..3], "material": "wood_planks",
                                 "style_seed": 0, "state": {"damage": 0.0}},
                       "<any registered component>": {...}}}]}

Saving writes sorted keys, two-space indentation and shortest round-trip floats, so
save → load → save is byte-identical. Every validation error is an ``InputError`` naming the file,
the JSON path (``entities[3].components.Proxy.half_extents[1]``) and what was expected.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.components import Anchor, Name, Tags
from engine.errors import InputError
from engine.files import read_input
from engine.registry import (
    component_name,
    decode_component,
    encode_component,
    is_registered,
    registered_names,
)

LEVEL_FORMAT = "anchorworld.level"
LEVEL_VERSION = 1
_TOP_KEYS = ("format", "version", "name", "seed", "script", "player_start", "entities")
_ENTITY_KEYS = ("uid", "name", "tags", "components")
_RESERVED = ("Anchor", "Name", "Tags")  # expressed by the entity's uid/name/tags


@dataclass
class LevelEntity:
    """One entity of a level: its anchor uid, name, tags and components (by registered name)."""

    uid: str
    name: str = ""
    tags: list[str] = field(default_factory=list)
    components: dict[str, Any] = field(default_factory=dict)


@dataclass
class Level:
    """An in-memory level (what the editor edits and saves)."""

    name: str = "untitled"
    seed: int = 0
    script: str | None = None
    player_start: dict[str, Any] | None = None
    entities: list[LevelEntity] = field(default_factory=list)

    # ------------------------------------------------------------------ files

    @classmethod
    def load(cls, path: str | Path) -> Level:
        """Read and validate a level file."""
        return cls.parse(read_input(path, "level file"), str(path))

    @classmethod
    def parse(cls, raw: bytes | str, source: str = "<level>") -> Level:
        """Validate level JSON (bytes or text)."""
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(source, "", f"UTF-8 text (bad byte at offset {exc.start})") from None
        else:
            text = raw
        try:
            d = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise InputError(source, f"line {exc.lineno} column {exc.colno}", f"valid JSON ({exc.msg})") from None
        except (ValueError, RecursionError) as exc:
            raise InputError(source, "", f"valid JSON ({exc})") from None
        return cls.from_data(d, source)

    @classmethod
    def from_data(cls, d: Any, source: str = "<level>") -> Level:
        """Validate parsed JSON data."""
        if not isinstance(d, dict):
            raise InputError(source, "", f"a JSON object with \"format\": \"{LEVEL_FORMAT}\"")
        for k in d:
            if k not in _TOP_KEYS:
                raise InputError(source, str(k), f"a level key ({', '.join(_TOP_KEYS)})")
        if d.get("format") != LEVEL_FORMAT:
            raise InputError(source, "format", f"\"{LEVEL_FORMAT}\", got {d.get('format')!r}")
        if d.get("version") != LEVEL_VERSION or isinstance(d.get("version"), bool):
            raise InputError(source, "version", f"{LEVEL_VERSION}, got {d.get('version')!r}")
        name = d.get("name", "untitled")
        if not isinstance(name, str):
            raise InputError(source, "name", f"a string, got {name!r}")
        seed = d.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < (1 << 63):
            raise InputError(source, "seed", f"an integer in [0, 2^63), got {seed!r}")
        script = d.get("script")
        if script is not None and (not isinstance(script, str) or not script.endswith(".py")):
            raise InputError(source, "script", f"a path to a .py game script relative to the level, got {script!r}")
        ps = d.get("player_start")
        if ps is not None:
            ps = _player_start(ps, source)
        ents = d.get("entities", [])
        if not isinstance(ents, list):
            raise InputError(source, "entities", f"a list, got {type(ents).__name__}")
        out: list[LevelEntity] = []
        seen: dict[str, int] = {}
        for i, e in enumerate(ents):
            ent = _entity(e, source, f"entities[{i}]")
            if ent.uid in seen:
                raise InputError(source, f"entities[{i}].uid", f"a unique uid; {ent.uid!r} is also entities[{seen[ent.uid]}]")
            seen[ent.uid] = i
            out.append(ent)
        return cls(name, seed, script, ps, out)

    def to_data(self) -> dict[str, Any]:
        """Plain JSON data of the level."""
        d: dict[str, Any] = {"format": LEVEL_FORMAT, "version": LEVEL_VERSION, "name": self.name, "seed": self.seed,
                             "entities": []}
        if self.script is not None:
            d["script"] = self.script
        if self.player_start is not None:
            d["player_start"] = {"pos": [float(v) for v in self.player_start["pos"]],
                                 "yaw": float(self.player_start.get("yaw", 0.0))}
        for e in self.entities:
            comps = {}
            for n, c in e.components.items():
                comps[n] = encode_component(c)
            d["entities"].append({"uid": e.uid, "name": e.name, "tags": sorted(set(e.tags)), "components": comps})
        return d

    def to_json(self) -> str:
        """Deterministic text: sorted keys, 2-space indent, shortest round-trip floats, final newline."""
        return json.dumps(self.to_data(), sort_keys=True, indent=2, allow_nan=False, ensure_ascii=False) + "\n"

    def save(self, path: str | Path) -> None:
        """Validate (by re-parsing) and write atomically."""
        from engine.files import atomic_write

        text = self.to_json()
        Level.parse(text, str(path))  # never write a file we could not load back
        atomic_write(path, text.encode("utf-8"))

    # ------------------------------------------------------------------ worlds

    @classmethod
    def from_world(cls, world: Any, name: str = "untitled", seed: int = 0, script: str | None = None,
                   player_start: dict[str, Any] | None = None) -> Level:
        """A level of every anchored entity in ``world`` (entity order), with its registered components."""
        ents = []
        for e in world.entities():
            uid = world.uid(e)
            if uid is None:
                continue
            n = world.try_get(e, Name)
            t = world.try_get(e, Tags)
            comps = {}
            for c in world.components(e):
                if isinstance(c, Anchor | Name | Tags) or not is_registered(type(c)):
                    continue
                comps[component_name(type(c))] = copy.deepcopy(c)
            ents.append(LevelEntity(uid, n.value if n else "", list(t.values) if t else [], dict(sorted(comps.items()))))
        return cls(name, seed, script, player_start, ents)

    def spawn_into(self, world: Any, skip_existing: bool = False) -> list[int]:
        """Create the level's entities in ``world`` (copies of the components); returns their ids.

        A uid already in the world raises ``InputError`` unless ``skip_existing``.
        """
        out = []
        for e in self.entities:
            have = world.entity(e.uid)
            if have is not None:
                if skip_existing:
                    out.append(have)
                    continue
                raise InputError(e.uid, "uid", "a uid not already in the world")
            comps: list[Any] = [Anchor(e.uid)]
            if e.name:
                comps.append(Name(e.name))
            if e.tags:
                comps.append(Tags(list(e.tags)))
            comps.extend(copy.deepcopy(c) for _, c in sorted(e.components.items()))
            out.append(world.spawn(*comps))
        return out

    def entity(self, uid: str) -> LevelEntity | None:
        """The level entity with this uid, or None."""
        for e in self.entities:
            if e.uid == uid:
                return e
        return None


def _reject_constant(c: str) -> Any:
    raise ValueError(f"{c} is not allowed (numbers must be finite)")


def _finite3(v: Any, source: str, path: str) -> list[float]:
    if not isinstance(v, list) or len(v) != 3:
        raise InputError(source, path, f"3 numbers, got {v!r}")
    for i, x in enumerate(v):
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
            raise InputError(source, f"{path}[{i}]", f"a finite number, got {x!r}")
    return [float(x) for x in v]


def _player_start(ps: Any, source: str) -> dict[str, Any]:
    if not isinstance(ps, dict):
        raise InputError(source, "player_start", "an object {\"pos\": [x, y, z], \"yaw\": degrees}")
    for k in ps:
        if k not in ("pos", "yaw"):
            raise InputError(source, f"player_start.{k}", "pos or yaw")
    pos = _finite3(ps.get("pos"), source, "player_start.pos")
    yaw = ps.get("yaw", 0.0)
    if isinstance(yaw, bool) or not isinstance(yaw, int | float) or not math.isfinite(yaw):
        raise InputError(source, "player_start.yaw", f"a finite number of degrees, got {yaw!r}")
    return {"pos": pos, "yaw": float(yaw)}


def _entity(e: Any, source: str, path: str) -> LevelEntity:
    if not isinstance(e, dict):
        raise InputError(source, path, "an object with uid, name, tags, components")
    for k in e:
        if k not in _ENTITY_KEYS:
            raise InputError(source, f"{path}.{k}", f"an entity key ({', '.join(_ENTITY_KEYS)})")
    uid = e.get("uid")
    if not isinstance(uid, str) or not uid.strip():
        raise InputError(source, f"{path}.uid", f"a non-empty string, got {uid!r}")
    name = e.get("name", "")
    if not isinstance(name, str):
        raise InputError(source, f"{path}.name", f"a string, got {name!r}")
    tags = e.get("tags", [])
    if not isinstance(tags, list):
        raise InputError(source, f"{path}.tags", "a list of strings")
    for i, t in enumerate(tags):
        if not isinstance(t, str):
            raise InputError(source, f"{path}.tags[{i}]", f"a string, got {t!r}")
    comps = e.get("components", {})
    if not isinstance(comps, dict):
        raise InputError(source, f"{path}.components", "an object of component name → fields")
    out = {}
    for n in sorted(comps):
        if n in _RESERVED:
            raise InputError(source, f"{path}.components.{n}", "no Anchor/Name/Tags here (use the entity's uid, name, tags)")
        if n not in registered_names():
            raise InputError(source, f"{path}.components.{n}", f"a registered component ({', '.join(n2 for n2 in registered_names() if n2 not in _RESERVED)})")
        out[n] = decode_component(n, comps[n], source, f"{path}.components.{n}")
    return LevelEntity(uid, name, sorted(set(tags)), out)


def validate(data: Any, source: str = "<level>") -> Level:
    """Validate parsed level JSON; raises ``InputError`` (file, JSON path, expectation)."""
    return Level.from_data(data, source)
