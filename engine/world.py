"""`World`: one esper world context per game world, with anchors, versions and a transform table.

esper 3.9 keeps its database in module globals and swaps them with ``esper.switch_world(name)``.
Each ``World`` owns a unique context name and switches to it before every esper call, so two
worlds (a game and an editor preview, or two tests) never see each other's entities.

Change tracking is one mechanism (see ``engine.layout``):

- every write through the API (``spawn``, ``add``, ``set``, ``remove``, ``touch``) bumps
  ``world.version`` and logs (version, entity) for that component type → ``changed(Type, since)``;
- every ``Transform`` lives as a row of one (N, 10) float64 table → value diffs are one numpy op,
  over the rows the table's touch log names (accessed through a Transform, or marked by a direct
  writer), or over the whole table when a reader's log position is too old;
- gaining/losing an Anchor/Transform/Proxy or dying logs a ``Membership`` write, so any number of
  trackers can each follow the world from their own version.

Entities are esper's ints; ``entity(uid)`` finds one by its ``Anchor`` uid.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator
from typing import Any, TypeVar, overload

import esper
import numpy as np

from engine.components import Anchor, Proxy, Transform
from engine.registry import register_component

__all__ = ["World", "register_component", "unique_sorted"]

C = TypeVar("C")
C2 = TypeVar("C2")
C3 = TypeVar("C3")
C4 = TypeVar("C4")

_LAYOUT_TYPES = (Anchor, Transform, Proxy)


class Membership:
    """Marker type in the write log: the entity gained/lost an Anchor, Transform or Proxy, or died."""
_LOG_LIMIT = 1 << 16
_names = itertools.count(1)


def unique_sorted(a: np.ndarray) -> np.ndarray:
    """Distinct values of an ascending (N,) int array (no hashing or sorting, unlike ``np.unique``)."""
    if len(a) < 2:
        return a
    keep = np.empty(len(a), bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


class TransformTable:
    """Rows of every Transform in a world: (cap, 10) float64 = pos(3) rot(4) scale(3).

    ``row_entity[r]`` is the entity owning row r (0 when free). Transforms in the world hold a view
    of their row; growing the table re-points every one of them.

    The touch log says which rows may have been written, so readers (the layout tracker, the
    physics push) value-compare those rows instead of the whole table. A Transform's ``pos``/
    ``rot``/``scale`` accessors add their row to ``touched`` (a set: reads count too, a superset is
    fine); code writing ``data`` directly calls :meth:`mark` (rows) or :meth:`mark_all`. Each reader
    keeps a cursor and asks :meth:`changes_since`; ``None`` there (a fresh reader, or the log was
    cut or reset since) means "compare every row" — the full diff is the fallback and the plain twin.
    """

    _LOG_ROWS = 1 << 20  # logged rows kept before the oldest half is dropped (8 MiB)
    _LOG_BATCHES = 1 << 12

    def __init__(self, capacity: int = 256) -> None:
        self.data = np.zeros((capacity, 10), np.float64)
        self.row_entity = np.zeros(capacity, np.int64)
        self.objects: list[Transform | None] = [None] * capacity
        self.size = 0  # rows ever used (high-water mark)
        self.free: list[int] = []
        self.row_of: dict[int, int] = {}
        self.touched: set[int] = set()  # rows accessed through a Transform since the last flush
        self._log: list[np.ndarray] = []  # batches of possibly-written rows, oldest first
        self._log_start = 0  # cursor of ``_log[0]``
        self._log_rows = 0

    # ------------------------------------------------------------ touch log

    def _flush(self) -> None:
        if self.touched:
            t, self.touched = self.touched, set()
            self._append(np.fromiter(t, np.int64, len(t)))

    def _append(self, rows: np.ndarray) -> None:
        self._log.append(rows)
        self._log_rows += len(rows)
        if self._log_rows > self._LOG_ROWS or len(self._log) > self._LOG_BATCHES:
            cut = len(self._log) // 2 or 1
            self._log_rows -= sum(len(b) for b in self._log[:cut])
            del self._log[:cut]
            self._log_start += cut

    def mark(self, rows: np.ndarray, reader: int = -1) -> int:
        """Record that ``rows`` (K,) int were written directly into ``data`` (not through a Transform).

        ``reader``: the writer's own cursor, if it reads the log too; returned moved past this batch
        when nothing else was logged since it (the writer knows what it wrote), else unchanged.
        """
        self._flush()
        end = self._log_start + len(self._log)
        if len(rows):
            self._append(np.array(rows, np.int64, copy=True).reshape(-1))
        return self._log_start + len(self._log) if reader == end else reader

    def mark_all(self) -> None:
        """Any row may have changed (a bulk write into ``data``): every reader compares the whole table next."""
        self.touched.clear()
        self._log_start += len(self._log) + 1
        self._log = []
        self._log_rows = 0

    def cursor(self) -> int:
        """The log position now: :meth:`changes_since` with it returns what is written from here on."""
        self._flush()
        return self._log_start + len(self._log)

    def changes_since(self, cursor: int) -> tuple[np.ndarray | None, int]:
        """(rows possibly written since ``cursor`` — (K,) int64, ascending, distinct — or None when
        the log no longer reaches back that far, so the caller compares every row; the new cursor)."""
        self._flush()
        end = self._log_start + len(self._log)
        if cursor < self._log_start:
            return None, end
        parts = self._log[cursor - self._log_start:]
        if not parts:
            return np.zeros(0, np.int64), end
        rows = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return unique_sorted(np.sort(rows)), end  # np.unique is ~8x slower on a few hundred rows

    def adopt(self, entity: int, t: Transform) -> None:
        """Store ``t`` in ``entity``'s row (allocating one) and make ``t`` a view of it."""
        row = self.row_of.get(entity)
        if row is None:
            if self.free:
                row = self.free.pop()
            else:
                if self.size == len(self.data):
                    self._grow()
                row = self.size
                self.size += 1
            self.row_of[entity] = row
        else:
            old = self.objects[row]
            if old is not None and old is not t:
                old._data = old._data.copy()
                old._owner = None
        self.data[row] = t._data
        t._data = self.data[row]
        t._owner = self
        t._row = row
        self.objects[row] = t
        self.row_entity[row] = entity
        self.touched.add(row)

    def release(self, entity: int) -> None:
        """Free ``entity``'s row; its Transform gets a private copy of its values."""
        row = self.row_of.pop(entity, None)
        if row is None:
            return
        t = self.objects[row]
        if t is not None:
            t._data = t._data.copy()
            t._owner = None
        self.objects[row] = None
        self.row_entity[row] = 0
        self.free.append(row)

    def _grow(self) -> None:
        cap = len(self.data) * 2
        data = np.zeros((cap, 10), np.float64)
        data[: self.size] = self.data[: self.size]
        self.data = data
        re = np.zeros(cap, np.int64)
        re[: self.size] = self.row_entity[: self.size]
        self.row_entity = re
        self.objects.extend([None] * (cap - len(self.objects)))
        for r in range(self.size):
            t = self.objects[r]
            if t is not None:
                t._data = data[r]


class World:
    """An ECS world: entities, components, anchors, write versions and the transform table."""

    def __init__(self, name: str | None = None) -> None:
        self.name = f"anchorworld:{name or 'world'}:{next(_names)}"
        self.version = 0
        self.table = TransformTable()
        self._writes: dict[type, list[tuple[int, int]]] = {}
        self._floor: dict[type, int] = {}
        self._uids: dict[str, int] = {}
        self._uid_of: dict[int, str] = {}
        self._sorted_cache: dict[tuple[type, ...], tuple[list, list]] = {}
        self._closed = False
        esper.switch_world(self.name)

    # ------------------------------------------------------------ esper context

    def _enter(self) -> None:
        if esper.current_world != self.name:
            if self._closed or self.name not in esper.list_worlds() and self.version:
                raise RuntimeError(f"world {self.name} is closed")
            esper.switch_world(self.name)

    def close(self) -> None:
        """Delete this world's esper context (the world is unusable afterwards)."""
        if self._closed:
            return
        self._closed = True
        if esper.current_world == self.name:
            esper.switch_world("default")
        if self.name in esper.list_worlds():
            esper.delete_world(self.name)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # ------------------------------------------------------------ writes

    def _bump(self, entity: int, ctype: type) -> None:
        self.version += 1
        log = self._writes.get(ctype)
        if log is None:
            log = self._writes[ctype] = []
        log.append((self.version, entity))
        if len(log) > _LOG_LIMIT:
            cut = len(log) // 2
            self._floor[ctype] = log[cut - 1][0]
            del log[:cut]

    def spawn(self, *components: Any) -> int:
        """Create an entity with components; returns its id. Duplicate Anchor uids raise ``ValueError``."""
        self._enter()
        for c in components:
            if isinstance(c, Anchor) and c.uid in self._uids:
                raise ValueError(f"anchor uid {c.uid!r} is already used by entity {self._uids[c.uid]}")
        e = esper.create_entity()
        for c in components:
            self.add(e, c)
        return e

    def add(self, entity: int, component: Any) -> None:
        """Add or replace a component (a write: bumps its version)."""
        self._enter()
        ctype = type(component)
        if ctype is Anchor:
            prev = self._uids.get(component.uid)
            if prev is not None and prev != entity:
                raise ValueError(f"anchor uid {component.uid!r} is already used by entity {prev}")
            old = self._uid_of.get(entity)
            if old is not None and old != component.uid:
                del self._uids[old]
            self._uids[component.uid] = entity
            self._uid_of[entity] = component.uid
        elif ctype is Transform:
            if component._owner is not None and component._owner is not self.table:
                component = component.copy()
            elif component._owner is self.table:
                row = self.table.row_of.get(entity)
                if row is None or self.table.objects[row] is not component:
                    component = component.copy()
            self.table.adopt(entity, component)
        esper.add_component(entity, component)
        if ctype in _LAYOUT_TYPES:
            self._bump(entity, Membership)
        self._bump(entity, ctype)

    set = add  # ``world.set(e, comp)``: the write API the change tracking sees

    def touch(self, entity: int, ctype: type) -> None:
        """Mark a component as written after mutating it in place (``proxy.state[...] = ...``)."""
        self._bump(entity, ctype)

    def remove(self, entity: int, ctype: type[C]) -> C | None:
        """Remove a component if present; returns it."""
        self._enter()
        c = esper.try_remove_component(entity, ctype)
        if c is None:
            return None
        if ctype is Anchor:
            self._forget_uid(entity)
        elif ctype is Transform:
            self.table.release(entity)
        if ctype in _LAYOUT_TYPES:
            self._bump(entity, Membership)
        self._bump(entity, ctype)
        return c

    def _forget_uid(self, entity: int) -> None:
        uid = self._uid_of.pop(entity, None)
        if uid is not None:
            self._uids.pop(uid, None)

    def despawn(self, entity: int) -> None:
        """Delete an entity and all its components now."""
        self._enter()
        if not esper.entity_exists(entity):
            return
        self._forget_uid(entity)
        self.table.release(entity)
        esper.delete_entity(entity, immediate=True)
        self._bump(entity, Membership)

    def clear(self) -> None:
        """Delete every entity (versions keep counting up)."""
        for e in list(self.entities()):
            self.despawn(e)

    # ------------------------------------------------------------ reads

    def exists(self, entity: int) -> bool:
        """Whether the entity is alive."""
        self._enter()
        return esper.entity_exists(entity)

    def get(self, entity: int, ctype: type[C]) -> C:
        """The entity's component of ``ctype`` (``KeyError`` if absent)."""
        self._enter()
        return esper.component_for_entity(entity, ctype)

    def try_get(self, entity: int, ctype: type[C]) -> C | None:
        """The entity's component of ``ctype`` or None."""
        self._enter()
        return esper.try_component(entity, ctype)

    def has(self, entity: int, *ctypes: type) -> bool:
        """Whether the entity has all the given component types."""
        self._enter()
        return esper.entity_exists(entity) and esper.has_components(entity, *ctypes)

    def components(self, entity: int) -> tuple[Any, ...]:
        """All components of an entity."""
        self._enter()
        return esper.components_for_entity(entity)

    def entities(self) -> list[int]:
        """Living entity ids, ascending."""
        self._enter()
        return sorted(e for e in esper.get_entities() if esper.entity_exists(e))

    def __len__(self) -> int:
        self._enter()
        return sum(1 for _ in esper.get_entities())

    def entity(self, uid: str) -> int | None:
        """The entity with this Anchor uid, or None."""
        return self._uids.get(uid)

    def uid(self, entity: int) -> str | None:
        """The Anchor uid of an entity, or None."""
        return self._uid_of.get(entity)

    def uids(self) -> dict[str, int]:
        """A copy of the uid → entity index."""
        return dict(self._uids)

    @overload
    def query(self, c1: type[C]) -> list[tuple[int, tuple[C]]]: ...
    @overload
    def query(self, c1: type[C], c2: type[C2]) -> list[tuple[int, tuple[C, C2]]]: ...
    @overload
    def query(self, c1: type[C], c2: type[C2], c3: type[C3]) -> list[tuple[int, tuple[C, C2, C3]]]: ...
    @overload
    def query(
        self, c1: type[C], c2: type[C2], c3: type[C3], c4: type[C4]
    ) -> list[tuple[int, tuple[C, C2, C3, C4]]]: ...
    def query(self, *ctypes: type) -> list[tuple[int, tuple[Any, ...]]]:
        """Entities having all ``ctypes``, as ``[(entity, (c1, c2, ...))]`` in ascending entity order.

        The order is deterministic (replays and loaded saves iterate identically); the sorted list
        is cached until esper's own cache changes. Do not mutate the returned list.
        """
        self._enter()
        raw = esper.get_components(*ctypes)
        hit = self._sorted_cache.get(ctypes)
        if hit is not None and hit[0] is raw:
            return hit[1]
        out = sorted(raw, key=lambda r: r[0])
        self._sorted_cache[ctypes] = (raw, out)
        return out

    # ------------------------------------------------------------ change tracking

    def changed(self, ctype: type, since: int) -> set[int]:
        """Entities whose ``ctype`` was written with a version > ``since`` (may include dead ones).

        If the write log no longer reaches back to ``since`` every entity having ``ctype`` is returned.
        """
        log = self._writes.get(ctype)
        if not log:
            return set()
        if since < self._floor.get(ctype, 0):
            self._enter()
            return {e for e, _ in esper.get_component(ctype)} | {e for _, e in log}
        i = bisect.bisect_right(log, (since, 1 << 62))
        return {e for _, e in log[i:]}

    def log_reaches(self, ctype: type, since: int) -> bool:
        """Whether ``changed(ctype, since)`` is exact (the write log still reaches back to ``since``)."""
        return since >= self._floor.get(ctype, 0)

    def is_layout_member(self, entity: int) -> bool:
        """Whether the entity has Anchor + Transform + Proxy (appears in LayoutDeltas)."""
        return self.has(entity, Anchor, Transform, Proxy)

    # ------------------------------------------------------------ esper internals used by saves

    def _set_next_entity_id(self, next_id: int) -> None:
        # esper 3.9 keeps its id counter in a module global saved per context by switch_world;
        # saves restore exact entity ids so query order (and so physics order) is identical.
        self._enter()
        esper._entity_count = itertools.count(next_id)

    def next_entity_id(self) -> int:
        """The id the next spawned entity will get (saved so loads continue identically)."""
        self._enter()
        c = esper._entity_count
        n = next(c)
        esper._entity_count = itertools.count(n)
        return n

    def spawn_with_id(self, entity_id: int, *components: Any) -> int:
        """Create an entity with an exact id (saves); the id must be unused and ≥ the next id."""
        self._set_next_entity_id(entity_id)
        e = self.spawn(*components)
        assert e == entity_id
        return e

    def iter_components(self, entity: int) -> Iterator[Any]:
        """Components of an entity in a stable order (by class qualified name)."""
        yield from sorted(self.components(entity), key=lambda c: (type(c).__module__, type(c).__qualname__))
