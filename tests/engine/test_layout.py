"""Change tracking: LayoutDelta contents, and the fast tracker against its plain reference twin."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.components import Anchor, Name, Proxy, Transform
from engine.layout import (
    LayoutTracker,
    _detached_rows,
    _detached_rows_reference,
    _ReferenceTracker,
    full_layout,
    unique_sorted,
)
from engine.world import World


def _crate(w: World, uid: str, x: float = 0.0) -> int:
    return w.spawn(Anchor(uid), Transform(pos=(x, 0, 0)), Proxy("box", (0.5, 0.5, 0.5), "wood_planks"))


def test_spawn_move_restyle_remove() -> None:
    w, tr = World(), LayoutTracker()
    a = _crate(w, "a")
    b = _crate(w, "b", 2)
    w.spawn(Anchor("no-proxy"), Transform())  # not part of the layout
    d = tr.publish(w, 1)
    assert [e.uid for e in d.spawned] == ["a", "b"] and not d.moved and not d.removed
    d = tr.publish(w, 2)
    assert not d  # nothing changed: empty delta

    w.get(a, Transform).pos[1] = 3.0  # in-place write, no API call
    d = tr.publish(w, 3)
    assert [u for u, _ in d.moved] == ["a"] and d.moved[0][1].pos.tolist() == [0, 3, 0]
    assert not d.spawned and not d.restyled

    w.get(a, Transform).pos[1] = 3.0  # same value again: no change
    assert not tr.publish(w, 4)

    w.set(b, Proxy("box", (0.5, 0.5, 0.5), "brick"))
    w.get(b, Transform).pos[0] = 9  # moved and restyled in one tick: reported once, as restyled
    d = tr.publish(w, 5)
    assert [e.uid for e in d.restyled] == ["b"] and d.restyled[0].proxy.material == "brick"
    assert d.restyled[0].transform.pos[0] == 9 and not d.moved

    p = w.get(a, Proxy)
    p.state["wetness"] = 0.5
    w.touch(a, Proxy)
    d = tr.publish(w, 6)
    assert [e.uid for e in d.restyled] == ["a"] and d.restyled[0].proxy.state == {"wetness": 0.5}

    w.despawn(a)
    w.remove(b, Proxy)
    d = tr.publish(w, 7)
    assert d.removed == ["a", "b"]
    w.add(b, Proxy("sphere", (1, 1, 1), "stone"))
    d = tr.publish(w, 8)
    assert [e.uid for e in d.spawned] == ["b"]


def test_spawn_and_despawn_within_one_tick_is_invisible() -> None:
    w, tr = World(), LayoutTracker()
    e = _crate(w, "ghost")
    w.despawn(e)
    assert not tr.publish(w, 1)


def test_published_entries_are_copies() -> None:
    w, tr = World(), LayoutTracker()
    e = _crate(w, "a")
    d = tr.publish(w, 1)
    w.get(e, Transform).pos[0] = 100
    assert d.spawned[0].transform.pos[0] == 0


def test_reset_republishes_everything_as_spawned() -> None:
    w, tr = World(), LayoutTracker()
    for i in range(5):
        _crate(w, f"c{i}", i)
    tr.publish(w, 1)
    tr.reset()
    d = tr.publish(w, 2)
    full = full_layout(w, 2).spawned
    assert [(e.uid, e.transform) for e in d.spawned] == [(e.uid, e.transform) for e in full] and len(full) == 5


def test_only_changed_entities_appear_among_many() -> None:
    w, tr = World(), LayoutTracker()
    ids = [_crate(w, f"e{i:05d}", i) for i in range(3000)]
    tr.publish(w, 1)
    rng = np.random.default_rng(0)
    pick = sorted(rng.choice(len(ids), 100, replace=False).tolist())
    for i in pick:
        w.get(ids[i], Transform).pos[2] += 1.0
    d = tr.publish(w, 2)
    assert [u for u, _ in d.moved] == [f"e{i:05d}" for i in pick]


def _same(d1, d2) -> bool:
    def key(d):
        return (  # transforms as bytes: a NaN row equals itself
            [(e.uid, e.transform._data.tobytes(), e.proxy.material, e.proxy.state) for e in d.spawned],
            d.removed,
            [(e.uid, e.transform._data.tobytes(), e.proxy.material, e.proxy.state) for e in d.restyled],
            [(u, t._data.tobytes()) for u, t in d.moved],
        )

    return key(d1) == key(d2)


ops = st.lists(
    st.tuples(
        st.sampled_from(["spawn", "move", "restyle", "touch", "despawn", "drop_proxy", "add_proxy", "same", "retransform",
                         "publish", "view", "direct", "bulk", "nan", "drop_transform", "add_transform"]),
        st.integers(0, 7),
        st.floats(-5, 5, allow_nan=False),
    ),
    max_size=60,
)


@settings(max_examples=80, deadline=None)
@given(ops)
def test_fast_tracker_matches_reference(seq) -> None:
    """Random edit sequences: the vectorised tracker and the plain twin publish identical deltas."""
    w = World()
    fast, ref = LayoutTracker(), _ReferenceTracker()
    tick = 0
    for op, k, x in seq:
        uid = f"u{k}"
        e = w.entity(uid)
        if op == "spawn" and e is None:
            _crate(w, uid, x)
        elif e is None:
            pass
        elif op == "move" and w.has(e, Transform):
            w.get(e, Transform).pos[k % 3] = x
        elif op == "retransform":
            w.set(e, Transform(pos=(x, x, 0)))
        elif op == "restyle" and w.has(e, Proxy):
            w.set(e, Proxy("sphere", (1, 1, 1), "brick", state={"snow": abs(x) / 5}))
        elif op == "touch" and w.has(e, Proxy):
            w.get(e, Proxy).state["damage"] = abs(x) / 5
            w.touch(e, Proxy)
        elif op == "despawn":
            w.despawn(e)
        elif op == "drop_proxy":
            w.remove(e, Proxy)
        elif op == "add_proxy" and not w.has(e, Proxy):
            w.add(e, Proxy("capsule", (0.3, 1, 0.3), "metal"))
        elif op == "same":
            w.set(e, Name("same"))
        elif op == "drop_transform":
            w.remove(e, Transform)  # frees its row: another entity may take it
        elif op == "add_transform" and not w.has(e, Transform):
            w.add(e, Transform(pos=(x, 1, 0)))
        elif op == "view" and w.has(e, Transform):
            r = w.get(e, Transform).rot  # a view taken and written within the stage
            r[:] = (0.0, 0.0, 1.0, 0.0) if x > 0 else (1.0, 0.0, 0.0, 0.0)
        elif op in ("direct", "bulk", "nan") and w.has(e, Transform):
            row = w.table.row_of[e]
            w.table.data[row, k % 10] = float("nan") if op == "nan" else x  # a writer bypassing Transform
            if op == "bulk":
                w.table.mark_all()
            else:
                w.table.mark(np.array([row]))
        if op == "publish":
            tick += 1
            assert _same(fast.publish(w, tick), ref.publish(w, tick))
    tick += 1
    assert _same(fast.publish(w, tick), ref.publish(w, tick))


writes = st.lists(
    st.tuples(st.sampled_from(["pos", "rot_set", "scale", "view", "direct", "bulk", "nan", "same", "publish"]),
              st.integers(0, 5), st.floats(-5, 5, allow_nan=False)),
    min_size=1, max_size=40,
)


@settings(max_examples=100, deadline=None)
@given(writes)
def test_touch_log_sees_every_kind_of_transform_write(seq) -> None:
    """Six anchors, every way of writing a transform: the touch-log tracker publishes what the twin does."""
    w = World()
    ents = [_crate(w, f"u{i}", i) for i in range(6)]
    fast, ref = LayoutTracker(), _ReferenceTracker()
    assert _same(fast.publish(w, 0), ref.publish(w, 0))
    for tick, (op, k, x) in enumerate(seq, 1):
        e = ents[k]
        row = w.table.row_of[e]
        if op == "pos":
            w.get(e, Transform).pos[k % 3] += x
        elif op == "rot_set":
            w.get(e, Transform).rot = (1.0, 0.0, 0.0, 0.0) if x > 0 else (0.0, 1.0, 0.0, 0.0)
        elif op == "scale":
            w.get(e, Transform).scale[1] = abs(x) + 0.5
        elif op == "view":
            r = w.get(e, Transform).rot  # a view taken and written within the stage
            r[:] = (0.0, 0.0, 1.0, 0.0) if x > 0 else (1.0, 0.0, 0.0, 0.0)
        elif op in ("direct", "bulk", "nan"):
            w.table.data[row, k] = float("nan") if op == "nan" else x  # a writer bypassing Transform
            w.table.mark_all() if op == "bulk" else w.table.mark(np.array([row]))
        elif op == "same":
            w.get(e, Transform).pos[0] = w.get(e, Transform).pos[0]  # touched, value unchanged
        if op == "publish" or tick == len(seq):
            assert _same(fast.publish(w, tick), ref.publish(w, tick))


def test_detached_rows_behave_like_the_from_row_twin() -> None:
    src = np.arange(40, dtype=np.float64).reshape(4, 10)
    fast, ref = _detached_rows(src), _detached_rows_reference(src)
    assert fast == ref and all(type(t) is Transform and t._owner is None for t in fast)
    big = np.random.default_rng(1).normal(size=(137, 10))
    kept = _detached_rows(big)
    assert kept == _detached_rows_reference(big)
    assert all(t._data.base is None or t._data.base.nbytes <= 64 * 80 for t in kept)  # never pins the tick
    big[:] = 0.0  # the source is not kept either
    assert kept == _detached_rows_reference(np.random.default_rng(1).normal(size=(137, 10)))
    fast[1].pos[0] = -1.0  # in-place writes touch that transform only
    assert fast[0] == ref[0] and fast[2] == ref[2] and fast[1].pos[0] == -1.0 and src[1, 0] == 10.0
    import pickle

    assert pickle.loads(pickle.dumps(fast[2])) == ref[2] and fast[3].copy() == ref[3]
    w = World()
    e = w.spawn(Anchor("x"), fast[3])  # a detached transform joins a world like any other
    w.get(e, Transform).pos[1] = 5.0
    assert w.get(e, Transform).pos.tolist() == [30.0, 5.0, 32.0] and fast[2].pos.tolist() == [20.0, 21.0, 22.0]
    assert _detached_rows(np.zeros((0, 10))) == []
    order = np.array([3, 0, 2, 1])
    assert _detached_rows(src, order) == _detached_rows_reference(src[order])


@given(st.lists(st.integers(0, 30), max_size=50))
def test_unique_sorted_matches_numpy_unique(xs) -> None:
    a = np.array(sorted(xs), np.int64)
    assert np.array_equal(unique_sorted(a), np.unique(a))


def test_moved_entries_are_in_uid_order_not_spawn_order() -> None:
    """Rows are allocated in spawn order ("c2" before "c10"); ``moved`` is sorted by uid like the twin's."""
    w, fast, ref = World(), LayoutTracker(), _ReferenceTracker()
    ids = [_crate(w, f"c{i}", i) for i in range(40)]
    w.despawn(ids[5])  # a freed row, reused by the next spawn
    ids[5] = _crate(w, "a-late", 5)
    fast.publish(w, 1), ref.publish(w, 1)
    for e in ids[::3]:
        w.get(e, Transform).rot = (0.0, 1.0, 0.0, 0.0)
    d = fast.publish(w, 2)
    assert _same(d, ref.publish(w, 2))
    uids = [u for u, _ in d.moved]
    assert uids == sorted(uids) and len(uids) == 14 and "a-late" not in uids
    assert all(t.rot.tolist() == [0.0, 1.0, 0.0, 0.0] for _, t in d.moved)


def test_moved_uid_order_survives_churn_and_bulk_spawns() -> None:
    """The uid order of rows is kept by small updates (despawns, spawns into freed rows, uid changes)
    and by a full re-sort (a large batch); ``moved`` matches the twin throughout."""
    w, fast, ref = World(), LayoutTracker(), _ReferenceTracker()
    rng = np.random.default_rng(3)
    ids = [_crate(w, f"k{int(v)}", i) for i, v in enumerate(rng.permutation(300))]
    assert _same(fast.publish(w, 1), ref.publish(w, 1))
    for tick in range(2, 8):
        for e in rng.choice(ids, 5, replace=False):
            w.despawn(int(e))
            ids.remove(int(e))
        ids += [_crate(w, f"n{tick}-{j}", j) for j in range(4)]  # reuse the freed rows
        e = ids[int(rng.integers(len(ids)))]
        w.add(e, Anchor(f"renamed-{tick}"))  # same row, new uid
        if tick == 5:
            ids += [_crate(w, f"bulk{j:03d}", j) for j in range(400)]  # a full re-sort
        for e in ids:
            w.get(e, Transform).pos[1] += 0.5
        d = fast.publish(w, tick)
        assert _same(d, ref.publish(w, tick)) and len(d.moved) > 250
