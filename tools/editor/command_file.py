"""``--commands FILE``: editor commands as JSON lines, run through the same command objects as the GUI.

One JSON object per line; blank lines and lines starting with ``#`` are ignored. ``uid`` defaults
to the current selection where it makes sense. Operations:

====================  ==================================================================================
``spawn``             ``{"op":"spawn","shape":"box","material":"stone","pos":[x,y,z],"uid"?,"name"?,"half_extents"?}``
``import_splat``      ``{"op":"import_splat","path":"capture.ply","pos"?:[x,y,z]}``
``select``            ``{"op":"select","uids":["box_1"]}`` (``"add":true`` extends the selection)
``move``              ``{"op":"move","by":[dx,dy,dz]}`` or ``"to":[x,y,z]`` (selection or ``"uid"``)
``rotate``            ``{"op":"rotate","by_deg":[rx,ry,rz]}`` (about the entity's origin, world axes)
``scale``             ``{"op":"scale","to":[sx,sy,sz]}`` or ``"by":[fx,fy,fz]``
``set``               ``{"op":"set","uid"?,"field":"Proxy.material","value":"brick"}``; a field is a dotted
                      path inside the entity (``Proxy.state.wetness``, ``name``, ``tags``; a leading
                      component name means ``components.<name>``), or ``level.<key>`` for the level
``unset``             ``{"op":"unset","field":"Proxy.state.wetness"}`` removes a key
``delete``            ``{"op":"delete"}``
``duplicate``         ``{"op":"duplicate","offset"?:[1,0,0]}``
``copy``/``paste``    ``{"op":"copy"}``, ``{"op":"paste"}`` (the clipboard survives ``open``)
``undo``/``redo``     ``{"op":"undo"}``, ``{"op":"redo"}``
``save``              ``{"op":"save","path"?:"out.level.json"}`` (``path`` = save-as)
``open``              ``{"op":"open","path":"other.level.json"}``
``new``               ``{"op":"new","path":"new.level.json"}``
app operations        ``view`` (``"mode":"proxies|splats|both"``), ``frame`` (frame selection),
                      ``camera`` (``"eye"``,``"target"``), ``gizmo`` (``"operation":"translate|rotate|scale"``,
                      ``"space":"local|world"``), ``wait`` (``"frames":N``), ``screenshot`` (``"path"``),
                      ``play``, ``stop``, ``quit`` — handled by the window app
====================  ==================================================================================
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from engine.errors import InputError
from tools.editor import prefabs
from tools.editor.commands import (
    DELETE,
    History,
    Select,
    SetField,
    SetTransforms,
    Spawn,
    clean,
    duplicate,
    normalised,
    paste,
    quat_from_euler_deg,
    quat_mul,
)
from tools.editor.document import Document, Json

COMPONENT_FIELDS_TOP = {"uid", "name", "tags", "components"}
APP_OPS = {"view", "frame", "camera", "gizmo", "wait", "screenshot", "play", "stop", "quit", "click", "key"}


def parse_lines(text: str, source: str = "<commands>") -> Iterator[tuple[int, dict[str, Json]]]:
    """Yield (line number, op dict) for each command line; bad JSON raises ``InputError``."""
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        try:
            op = json.loads(s)
        except json.JSONDecodeError as exc:
            raise InputError(source, f"line {n}", f"one JSON object ({exc.msg})") from None
        if not isinstance(op, dict) or not isinstance(op.get("op"), str):
            raise InputError(source, f"line {n}", 'a JSON object with a string "op"')
        yield n, op


def read_commands(path: str | Path) -> list[tuple[int, dict[str, Json]]]:
    """All commands of a file (validated as JSON up front, so a typo fails before any edit)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(str(p), "", f"a readable commands file ({exc.strerror})") from None
    return list(parse_lines(text, str(p)))


def field_path(field: str) -> tuple[str | None, tuple[str | int, ...]]:
    """Dotted field → (owner, path): owner None means the level, else the entity.

    ``Proxy.material`` → ("entity", ("components", "Proxy", "material")); ``level.name`` →
    (None, ("name",)); numeric parts index lists (``Transform.pos.1``).
    """
    parts: list[str | int] = [int(p) if p.lstrip("-").isdigit() else p for p in field.split(".") if p != ""]
    if not parts:
        raise InputError("<commands>", "field", "a dotted field path such as Proxy.material")
    if parts[0] == "level":
        return None, tuple(parts[1:])
    if parts[0] not in COMPONENT_FIELDS_TOP:
        parts = ["components", *parts]
    return "entity", tuple(parts)


def _vec3(op: dict[str, Json], key: str) -> list[float]:
    v = op.get(key)
    if not isinstance(v, list) or len(v) != 3 or not all(isinstance(x, int | float) for x in v):
        raise InputError("<commands>", key, f"a list of 3 numbers, got {v!r}")
    return [float(x) for x in v]


class CommandRunner:
    """Executes op dicts against an editor session (document + history + clipboard).

    ``app_handler`` receives the app-level ops (view, camera, screenshot, …); without one they are
    refused, so a headless run never silently skips them.
    """

    def __init__(self, history: History, app_handler: Callable[[dict[str, Json]], None] | None = None) -> None:
        self.history = history
        self.clipboard: list[dict[str, Json]] = []
        self.app_handler = app_handler
        self.on_document_replaced: Callable[[Document], None] | None = None

    @property
    def doc(self) -> Document:
        """The current document."""
        return self.history.doc

    def _targets(self, op: dict[str, Json]) -> list[str]:
        if "uid" in op:
            return [op["uid"]]
        if "uids" in op:
            return list(op["uids"])
        if not self.doc.selection:
            raise InputError("<commands>", "uid", f"a selection or a uid for {op['op']!r}")
        return list(self.doc.selection)

    def _transforms(self, uids: list[str]) -> dict[str, dict[str, Json]]:
        out = {}
        for u in uids:
            t = self.doc.entity(u).get("components", {}).get("Transform")
            out[u] = copy.deepcopy(t) if t else {"pos": [0.0] * 3, "rot": [1.0, 0, 0, 0], "scale": [1.0] * 3}
        return out

    def run(self, op: dict[str, Json]) -> Any:
        """Execute one op; returns the command (or None for ops that are not edits)."""
        kind = op["op"]
        h, doc = self.history, self.doc
        if kind == "spawn":
            e = prefabs.proxy_entity(
                doc,
                shape=op.get("shape", "box"),
                material=op.get("material", "stone"),
                pos=_vec3(op, "pos") if "pos" in op else (0.0, 0.5, 0.0),
                uid=op.get("uid"),
                name=op.get("name"),
                half_extents=op.get("half_extents"),
            )
            return h.execute(Spawn([e]))
        if kind == "import_splat":
            e = prefabs.splat_entity(doc, op["path"], _vec3(op, "pos") if "pos" in op else (0.0, 0.0, 0.0))
            return h.execute(Spawn([e], label="import"))
        if kind == "select":
            uids = list(op.get("uids", [op["uid"]] if "uid" in op else []))
            if op.get("add"):
                uids = list(dict.fromkeys([*doc.selection, *uids]))
            return h.execute(Select(uids))
        if kind in ("move", "rotate", "scale"):
            ts = self._transforms(self._targets(op))
            for t in ts.values():
                if kind == "move":
                    t["pos"] = clean(
                        _vec3(op, "to") if "to" in op else [a + b for a, b in zip(t["pos"], _vec3(op, "by"), strict=True)]
                    )
                elif kind == "rotate":
                    t["rot"] = normalised(quat_mul(quat_from_euler_deg(*_vec3(op, "by_deg")), t["rot"]))
                else:
                    t["scale"] = clean(
                        _vec3(op, "to") if "to" in op else [a * b for a, b in zip(t["scale"], _vec3(op, "by"), strict=True)]
                    )
            return h.execute(SetTransforms(ts, label=kind))
        if kind in ("set", "unset"):
            owner, path = field_path(str(op.get("field", "")))
            value = DELETE if kind == "unset" else op.get("value")
            if owner is None:
                return h.execute(SetField(None, path, value))
            targets = self._targets(op)
            if len(targets) == 1:
                return h.execute(SetField(targets[0], path, value))
            from tools.editor.commands import Batch

            return h.execute(Batch([SetField(u, path, value) for u in targets], label=kind))
        if kind == "delete":
            from tools.editor.commands import Delete

            return h.execute(Delete(self._targets(op)))
        if kind == "duplicate":
            off = _vec3(op, "offset") if "offset" in op else [1.0, 0.0, 0.0]
            return h.execute(duplicate(doc, self._targets(op), off))
        if kind == "copy":
            self.clipboard = [copy.deepcopy(doc.entity(u)) for u in self._targets(op)]
            return None
        if kind == "paste":
            return h.execute(paste(doc, self.clipboard))
        if kind == "undo":
            return h.undo()
        if kind == "redo":
            return h.redo()
        if kind == "save":
            return doc.save(op.get("path"))
        if kind in ("open", "new"):
            path = op.get("path")
            if not path:
                raise InputError("<commands>", "path", f"a level path for {kind!r}")
            new_doc = Document.open(path) if kind == "open" else Document(None, None)
            if kind == "new":
                new_doc.path = Path(path)
            self.history.doc = new_doc
            self.history.clear()
            if self.on_document_replaced:
                self.on_document_replaced(new_doc)
            return None
        if kind in APP_OPS:
            if self.app_handler is None:
                raise InputError("<commands>", "op", f"{kind!r} needs the editor window")
            return self.app_handler(op)
        raise InputError("<commands>", "op", f"a known editor command, got {kind!r}")
