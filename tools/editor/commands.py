"""Editor commands and the undo/redo history.

Every edit — from the GUI, a gizmo drag, the inspector or a ``--commands`` file — is one
``Command`` object executed through ``History.execute``: it validates first (a refused edit raises
``InputError`` and changes nothing), then applies; ``revert`` restores the exact previous JSON
values, key order and list positions, so undoing everything gives back the original bytes.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

from engine.errors import InputError
from tools.editor.document import Document, Json, validate_entity, validate_level

Path_ = tuple[str | int, ...]


class Command:
    """One undoable edit of a ``Document``."""

    label = "edit"

    def apply(self, doc: Document) -> None:
        """Perform the edit (raise ``InputError`` before changing anything if it is invalid)."""
        raise NotImplementedError

    def revert(self, doc: Document) -> None:
        """Undo the edit exactly."""
        raise NotImplementedError


# -- helpers -----------------------------------------------------------------------------------
def _get(root: Json, path: Path_) -> Json:
    for k in path:
        root = root[k]
    return root


_MISSING = object()


def _check_entity(doc: Document, e: dict[str, Json], where: str) -> None:
    validate_entity("<editor>", where, e)


@dataclass
class Spawn(Command):
    """Insert entities (deep-copied) at the end of the list, or at ``index``; selects them."""

    entities: list[dict[str, Json]]
    index: int | None = None
    label: str = "spawn"
    _prev_selection: list[str] = field(default_factory=list)

    def apply(self, doc: Document) -> None:
        uids = [e.get("uid") for e in self.entities]
        if len(set(uids)) != len(uids) or any(doc.has(u) for u in uids):
            raise InputError("<editor>", "uid", f"uids not already in the level, got {uids!r}")
        for e in self.entities:
            _check_entity(doc, e, f"$.entities[{e.get('uid')}]")
        at = len(doc.entities) if self.index is None else self.index
        doc.entities[at:at] = copy.deepcopy(self.entities)
        self._prev_selection = list(doc.selection)
        doc.selection = list(uids)

    def revert(self, doc: Document) -> None:
        at = doc.index_of(self.entities[0]["uid"])
        del doc.entities[at : at + len(self.entities)]
        doc.selection = list(self._prev_selection)


@dataclass
class Delete(Command):
    """Remove entities by uid; revert puts each back at its old index."""

    uids: list[str]
    label: str = "delete"
    _removed: list[tuple[int, dict[str, Json]]] = field(default_factory=list)
    _prev_selection: list[str] = field(default_factory=list)

    def apply(self, doc: Document) -> None:
        missing = [u for u in self.uids if not doc.has(u)]
        if missing or not self.uids:
            raise InputError("<editor>", "uid", f"existing entities to delete, got {self.uids!r}")
        idx = sorted(doc.index_of(u) for u in dict.fromkeys(self.uids))
        self._removed = [(i, doc.entities[i]) for i in idx]
        for i in reversed(idx):
            del doc.entities[i]
        self._prev_selection = list(doc.selection)
        doc.selection = [u for u in doc.selection if u not in self.uids]

    def revert(self, doc: Document) -> None:
        for i, e in self._removed:
            doc.entities.insert(i, e)
        doc.selection = list(self._prev_selection)


@dataclass
class SetField(Command):
    """Set one JSON value by path (e.g. ``("components", "Proxy", "material")``) of an entity,
    or of the level itself when ``uid`` is None. ``value=DELETE`` removes the key."""

    uid: str | None
    path: Path_
    value: Json
    label: str = "set"
    _old: Json = None
    _order: list[Any] = field(default_factory=list)

    def _owner(self, doc: Document) -> Json:
        return doc.data if self.uid is None else doc.entity(self.uid)

    def apply(self, doc: Document) -> None:
        if self.uid is not None and not doc.has(self.uid):
            raise InputError("<editor>", "uid", f"an existing entity, got {self.uid!r}")
        if not self.path:
            raise InputError("<editor>", "field", "a non-empty field path")
        owner = self._owner(doc)
        try:
            parent = _get(owner, self.path[:-1])
        except (KeyError, IndexError, TypeError):
            raise InputError("<editor>", ".".join(map(str, self.path)), "an existing field") from None
        key = self.path[-1]
        if isinstance(parent, dict):
            old = parent.get(key, _MISSING)
        elif isinstance(parent, list) and isinstance(key, int) and 0 <= key < len(parent):
            old = parent[key]
        else:
            raise InputError("<editor>", ".".join(map(str, self.path)), "an existing field")
        if self.value is DELETE and old is _MISSING:
            raise InputError("<editor>", ".".join(map(str, self.path)), "an existing field to remove")
        if self.value is DELETE and not isinstance(parent, dict):
            raise InputError("<editor>", ".".join(map(str, self.path)), "a key of an object to remove")
        # Try on a copy first: a refused value never touches the document.
        trial = copy.deepcopy(owner)
        tparent = _get(trial, self.path[:-1])
        if self.value is DELETE:
            del tparent[key]
        else:
            tparent[key] = copy.deepcopy(self.value)
        where = "$" if self.uid is None else f"$.entities[{self.uid}]"
        if self.uid is None:
            validate_level(trial, "<editor>")
        else:
            if trial.get("uid") != self.uid and doc.has(trial.get("uid")):
                raise InputError("<editor>", f"{where}.uid", "a uid not used by another entity")
            validate_entity("<editor>", where, trial)
        self._old = old
        self._order = list(parent.keys()) if isinstance(parent, dict) else []
        if self.value is DELETE:
            del parent[key]
        else:
            parent[key] = copy.deepcopy(self.value)
        if self.uid is not None and self.path == ("uid",):
            doc.selection = [self.value if u == self.uid else u for u in doc.selection]

    def revert(self, doc: Document) -> None:
        uid = self.value if (self.uid is not None and self.path == ("uid",)) else self.uid
        owner = doc.data if uid is None else doc.entity(uid)
        parent = _get(owner, self.path[:-1])
        key = self.path[-1]
        if self._old is _MISSING:
            del parent[key]
        elif self.value is DELETE:
            # put the removed key back in its old place so the saved bytes match exactly
            items = dict(parent)
            items[key] = self._old
            parent.clear()
            parent.update((k, items[k]) for k in self._order)
        else:
            parent[key] = self._old
        if uid != self.uid:
            doc.selection = [self.uid if u == uid else u for u in doc.selection]


class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


DELETE: Any = _Delete()


@dataclass
class SetTransforms(Command):
    """Replace the Transform of several entities at once (a gizmo drag, a nudge, a snap)."""

    new: dict[str, dict[str, Json]]
    label: str = "transform"
    _old: dict[str, Json] = field(default_factory=dict)

    def apply(self, doc: Document) -> None:
        for uid, t in self.new.items():
            if not doc.has(uid):
                raise InputError("<editor>", "uid", f"an existing entity, got {uid!r}")
            from tools.editor.document import validate_transform

            validate_transform("<editor>", f"$.entities[{uid}].components.Transform", t)
        self._old = {}
        for uid, t in self.new.items():
            comps = doc.entity(uid).setdefault("components", {})
            self._old[uid] = comps.get("Transform", _MISSING)
            comps["Transform"] = copy.deepcopy(t)

    def revert(self, doc: Document) -> None:
        for uid, old in self._old.items():
            comps = doc.entity(uid)["components"]
            if old is _MISSING:
                del comps["Transform"]
            else:
                comps["Transform"] = old


@dataclass
class Select(Command):
    """Change the selection (undoable, so undo after a click restores the previous one)."""

    uids: list[str]
    label: str = "select"
    _prev: list[str] = field(default_factory=list)

    def apply(self, doc: Document) -> None:
        missing = [u for u in self.uids if not doc.has(u)]
        if missing:
            raise InputError("<editor>", "uid", f"existing entities to select, got {missing!r}")
        self._prev = list(doc.selection)
        doc.selection = list(dict.fromkeys(self.uids))

    def revert(self, doc: Document) -> None:
        doc.selection = list(self._prev)


@dataclass
class Batch(Command):
    """Several commands as one undo step (reverted in reverse order)."""

    parts: list[Command]
    label: str = "batch"

    def apply(self, doc: Document) -> None:
        done: list[Command] = []
        try:
            for c in self.parts:
                c.apply(doc)
                done.append(c)
        except Exception:
            for c in reversed(done):
                c.revert(doc)
            raise

    def revert(self, doc: Document) -> None:
        for c in reversed(self.parts):
            c.revert(doc)


# -- derived commands --------------------------------------------------------------------------
def _uid_stem(uid: str) -> str:
    stem, _, tail = uid.rpartition("_")
    return stem if stem and tail.isdigit() else uid


def copies_with_fresh_uids(
    doc: Document, entities: list[dict[str, Json]], offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
) -> list[dict[str, Json]]:
    """Deep copies of ``entities`` with new unique uids, optionally moved by ``offset`` metres."""
    taken: set[str] = set()
    out = []
    for e in entities:
        c = copy.deepcopy(e)
        c["uid"] = doc.fresh_uid(_uid_stem(str(e["uid"])), taken)
        taken.add(c["uid"])
        t = c.get("components", {}).get("Transform")
        if t is not None and any(offset):
            t["pos"] = [round(p + o, 6) for p, o in zip(t["pos"], offset, strict=True)]
        out.append(c)
    return out


def duplicate(doc: Document, uids: list[str], offset=(1.0, 0.0, 0.0)) -> Spawn:
    """A ``Spawn`` of copies of ``uids`` (new uids, shifted by ``offset``), inserted after the last one."""
    if not uids or any(not doc.has(u) for u in uids):
        raise InputError("<editor>", "selection", "existing entities to duplicate")
    ents = [doc.entity(u) for u in uids]
    spawn = Spawn(copies_with_fresh_uids(doc, ents, offset), label="duplicate")
    return spawn


def paste(doc: Document, clipboard: list[dict[str, Json]]) -> Spawn:
    """A ``Spawn`` of the clipboard's entities with uids made unique in this level."""
    if not clipboard:
        raise InputError("<editor>", "clipboard", "copied entities to paste")
    return Spawn(copies_with_fresh_uids(doc, clipboard), label="paste")


class History:
    """Unlimited undo/redo over a ``Document``."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.undo_stack: list[Command] = []
        self.redo_stack: list[Command] = []

    def execute(self, cmd: Command) -> Command:
        """Apply ``cmd`` and record it; a refused command raises and leaves everything as it was."""
        cmd.apply(self.doc)
        self.undo_stack.append(cmd)
        self.redo_stack.clear()
        self.doc.revision += 1
        return cmd

    def undo(self) -> Command | None:
        """Revert the last command; None when there is nothing to undo."""
        if not self.undo_stack:
            return None
        cmd = self.undo_stack.pop()
        cmd.revert(self.doc)
        self.redo_stack.append(cmd)
        self.doc.revision += 1
        return cmd

    def redo(self) -> Command | None:
        """Re-apply the last undone command; None when there is nothing to redo."""
        if not self.redo_stack:
            return None
        cmd = self.redo_stack.pop()
        cmd.apply(self.doc)
        self.undo_stack.append(cmd)
        self.doc.revision += 1
        return cmd

    def clear(self) -> None:
        """Forget all history (after opening another file)."""
        self.undo_stack.clear()
        self.redo_stack.clear()


# -- transforms math ---------------------------------------------------------------------------
def quat_from_euler_deg(rx: float, ry: float, rz: float) -> list[float]:
    """Unit quaternion (w, x, y, z) for intrinsic X then Y then Z rotations in degrees (R = Rz·Ry·Rx)."""
    hx, hy, hz = (math.radians(a) / 2 for a in (rx, ry, rz))
    cx, sx, cy, sy, cz, sz = math.cos(hx), math.sin(hx), math.cos(hy), math.sin(hy), math.cos(hz), math.sin(hz)
    return [
        cx * cy * cz + sx * sy * sz,
        sx * cy * cz - cx * sy * sz,
        cx * sy * cz + sx * cy * sz,
        cx * cy * sz - sx * sy * cz,
    ]


def quat_mul(a: list[float], b: list[float]) -> list[float]:
    """Hamilton product a·b of w-first quaternions."""
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return [
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ]


def clean(v: list[float], nd: int = 6) -> list[float]:
    """Round to ``nd`` decimals (and turn -0.0 into 0.0) so saved files stay readable and stable."""
    return [round(float(x), nd) + 0.0 for x in v]


def normalised(q: list[float]) -> list[float]:
    """``q`` scaled to unit length (rounded)."""
    n = math.sqrt(sum(x * x for x in q)) or 1.0
    return clean([x / n for x in q], 7)
