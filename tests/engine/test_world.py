"""World: isolated esper contexts, anchors, deterministic queries, the transform table."""

from __future__ import annotations

import esper
import numpy as np
import pytest

from engine.components import Anchor, Name, Proxy, Transform
from engine.world import World


def test_worlds_do_not_share_entities() -> None:
    a, b = World("a"), World("b")
    ea = a.spawn(Anchor("x"), Name("in a"))
    b.spawn(Anchor("y"))
    assert a.entity("x") == ea and a.entity("y") is None
    assert b.entity("x") is None
    assert [n.value for _, (n,) in a.query(Name)] == ["in a"]
    assert b.query(Name) == []
    # plain esper calls in the default world see none of it
    esper.switch_world("default")
    assert esper.get_component(Name) == []


def test_closed_world_refuses_use() -> None:
    w = World()
    w.spawn(Anchor("a"))
    w.close()
    with pytest.raises(RuntimeError):
        w.spawn(Anchor("b"))


def test_duplicate_uid_is_refused() -> None:
    w = World()
    w.spawn(Anchor("crate"))
    with pytest.raises(ValueError, match="crate"):
        w.spawn(Anchor("crate"))


def test_uid_index_follows_despawn_and_anchor_changes() -> None:
    w = World()
    e = w.spawn(Anchor("a"))
    w.set(e, Anchor("b"))
    assert w.entity("a") is None and w.entity("b") == e and w.uid(e) == "b"
    w.despawn(e)
    assert w.entity("b") is None and not w.exists(e)


def test_query_is_in_entity_order_and_cached() -> None:
    w = World()
    ids = [w.spawn(Name(str(i))) for i in range(50)]
    for e in ids[::3]:
        w.despawn(e)
    got = [e for e, _ in w.query(Name)]
    assert got == sorted(got) == [e for e in ids if e not in ids[::3]]
    assert w.query(Name) is w.query(Name)  # cached until something changes
    w.spawn(Name("new"))
    assert len(w.query(Name)) == len(got) + 1


def test_transform_in_place_writes_land_in_the_table_and_survive_growth() -> None:
    w = World()
    t = Transform(pos=(1, 2, 3))
    e = w.spawn(t)
    t.pos[1] += 5
    row = w.table.row_of[e]
    assert w.table.data[row, 1] == 7.0
    for i in range(1000):  # forces the table to grow several times
        w.spawn(Transform(pos=(i, 0, 0)))
    t.pos = (9, 9, 9)
    assert np.array_equal(w.table.data[w.table.row_of[e], 0:3], [9, 9, 9])
    assert w.get(e, Transform) is t


def test_removed_transform_keeps_its_values_detached() -> None:
    w = World()
    t = Transform(pos=(1, 2, 3))
    e = w.spawn(t)
    w.remove(e, Transform)
    e2 = w.spawn(Transform(pos=(7, 7, 7)))  # reuses the freed row
    assert t.pos.tolist() == [1, 2, 3]
    assert w.get(e2, Transform).pos.tolist() == [7, 7, 7]


def test_one_transform_object_in_two_entities_is_copied() -> None:
    w = World()
    t = Transform(pos=(1, 0, 0))
    a = w.spawn(t)
    b = w.spawn(t)
    w.get(b, Transform).pos[0] = 5
    assert w.get(a, Transform).pos[0] == 1


def test_changed_reports_writes_since_a_version() -> None:
    w = World()
    e1 = w.spawn(Proxy())
    v = w.version
    e2 = w.spawn(Proxy())
    w.touch(e1, Proxy)
    assert w.changed(Proxy, v) == {e1, e2}
    assert w.changed(Proxy, w.version) == set()


def test_touch_log_names_rows_accessed_or_marked_since_a_cursor() -> None:
    w = World()
    es = [w.spawn(Transform(pos=(i, 0, 0))) for i in range(5)]
    rows = [w.table.row_of[e] for e in es]
    assert w.table.changes_since(-1)[0] is None  # a fresh reader compares every row
    cur = w.table.cursor()
    assert w.table.changes_since(cur)[0].tolist() == []
    w.get(es[3], Transform).pos[0] = 9.0  # in place, through the accessor
    w.get(es[1], Transform).rot = (0.0, 1.0, 0.0, 0.0)
    w.get(es[3], Transform).scale[1] = 2.0
    got, cur = w.table.changes_since(cur)
    assert got.tolist() == sorted({rows[1], rows[3]})  # ascending, distinct
    w.table.data[rows[4], 1] = 5.0  # a direct write must be marked by its writer
    w.table.mark(np.array([rows[4], rows[0], rows[4]]))
    got, cur2 = w.table.changes_since(cur)
    assert got.tolist() == sorted({rows[0], rows[4]})
    assert w.table.changes_since(cur2)[0].tolist() == []
    w.table.mark_all()  # a bulk write: every reader falls back to the full compare
    assert w.table.changes_since(cur2)[0] is None


def test_touch_log_is_bounded_and_a_reader_left_behind_compares_everything() -> None:
    w = World()
    e = w.spawn(Transform())
    old = w.table.cursor()
    t = w.get(e, Transform)
    for i in range(w.table._LOG_BATCHES + 10):
        t.pos[0] = float(i)
        w.table.cursor()  # another reader looking every tick keeps its place
    assert len(w.table._log) <= w.table._LOG_BATCHES
    assert w.table.changes_since(old)[0] is None
    cur = w.table.cursor()
    t.pos[0] = -1.0
    assert w.table.changes_since(cur)[0].tolist() == [w.table.row_of[e]]
    detached = Transform(pos=(1, 2, 3))
    detached.pos[0] = 0.0  # not in a world: nothing to log
    assert detached._owner is None


def test_a_writer_that_also_reads_the_log_skips_its_own_batch_only_when_nothing_else_came() -> None:
    w = World()
    es = [w.spawn(Transform()) for _ in range(3)]
    rows = np.array([w.table.row_of[e] for e in es])
    mine = w.table.cursor()
    mine = w.table.mark(rows[:1], mine)  # nothing else logged since: skipped
    assert w.table.changes_since(mine)[0].tolist() == []
    w.get(es[2], Transform).pos[0] = 1.0  # someone else wrote in between
    after = w.table.mark(rows[1:2], mine)
    assert after == mine and w.table.changes_since(after)[0].tolist() == sorted(rows[1:].tolist())
    assert w.table.mark(rows[:1]) == -1  # a writer that does not read
