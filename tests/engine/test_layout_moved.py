"""``LayoutDelta.moved`` is array-backed (``MovedRows``): the list-like API game authors use, the
vectorised matrices against their per-row twin, and the consumers that read the arrays (the
presenter's interpolation, the world-model stage's xforms) against the per-Transform path."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.components import Anchor, Proxy, Transform
from engine.layout import (
    LayoutDelta,
    LayoutEntry,
    LayoutTracker,
    MovedRows,
    _ReferenceTracker,
    transform_matrices,
    transform_matrices_reference,
)
from engine.presenter import interpolate_rows, interpolate_rows_reference
from engine.world import World


def _crate(w: World, uid: str, x: float = 0.0) -> int:
    return w.spawn(Anchor(uid), Transform(pos=(x, 0, 0)), Proxy("box", (0.5, 0.5, 0.5), "wood_planks"))


def test_tracker_publishes_uids_and_one_row_array() -> None:
    w, tr = World(), LayoutTracker()
    ids = [_crate(w, f"c{i}", i) for i in range(12)]
    tr.publish(w, 1)
    for e in ids[::-4]:  # written in reverse uid order
        t = w.get(e, Transform)
        t.pos[1] = 2.0
        t.rot = (0.0, 0.0, 1.0, 0.0)
    d = tr.publish(w, 2)
    m = d.moved
    assert isinstance(m, MovedRows) and m.uids == ["c11", "c3", "c7"]  # uid (string) order
    assert m.rows.shape == (3, 10) and m.rows.dtype == np.float64 and not m.rows.flags.writeable
    assert m.rows[0].tolist() == [11.0, 2.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0]
    with pytest.raises(ValueError):
        m.rows[0, 0] = 5.0  # shared by every listener of the tick: read-only
    # the list-of-pairs view: detached transforms equal to the world's, made on demand
    pairs = list(m)
    assert [u for u, _ in pairs] == m.uids and pairs[0][1] == w.get(ids[11], Transform)
    assert all(t._owner is None for _, t in pairs)
    pairs[0][1].pos[0] = -1.0  # writing to one changes neither the delta nor the world
    assert m.rows[0, 0] == 11.0 and w.get(ids[11], Transform).pos[0] == 11.0
    uid, t = m[1]
    assert uid == "c3" and t.pos.tolist() == [3.0, 2.0, 0.0]
    assert m[1:].uids == ["c3", "c7"] and len(m) == 3 and m
    np.testing.assert_array_equal(m.matrices()[2], w.get(ids[7], Transform).matrix())


def test_hand_built_moved_behaves_like_the_list_it_replaces() -> None:
    a, b = Transform((1, 2, 3)), Transform((0, 0, 0), (0.0, 1.0, 0.0, 0.0), (2, 2, 2))
    d = LayoutDelta(4, moved=[("b", b)])  # a list is converted
    assert isinstance(d.moved, MovedRows) and d and len(d.moved) == 1
    d.moved.append(("a", a))  # as tools/editor/preview.py does
    a.pos[0] = 99.0  # the row was copied at append
    assert d.moved.uids == ["b", "a"] and d.moved.rows[1, 0] == 1.0
    d.moved.sort()
    assert d.moved.uids == ["a", "b"] and d.moved.rows[0, :3].tolist() == [1.0, 2.0, 3.0]
    assert d.moved == [("a", Transform((1, 2, 3))), ("b", b)]
    assert d.moved != [("a", Transform((1, 2, 4))), ("b", b)] and d.moved != [("a", a)]
    assert d.summary()["moved"] == 2
    assert pickle.loads(pickle.dumps(d)) == d
    d.moved = []  # assigning a list converts it too
    assert isinstance(d.moved, MovedRows) and not d.moved and not d and d.moved.rows.shape == (0, 10)
    assert list(d.moved) == [] and d.moved == MovedRows()
    d.moved.extend([("z", Transform()), ("y", Transform((1, 0, 0)))])
    d.moved.sort(key=lambda p: p[1].pos[0])
    assert d.moved.uids == ["z", "y"]


def test_bad_moved_entries_are_refused() -> None:
    m = MovedRows()
    with pytest.raises(ValueError, match="10 numbers"):
        m.append(("x", (1.0, 2.0, 3.0)))
    with pytest.raises(ValueError, match="10 numbers"):
        LayoutDelta(0, moved=[("x", np.zeros(9))])
    with pytest.raises(ValueError):
        m.append(("too", "many", "parts"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\(2, 10\) float64"):
        MovedRows.from_arrays(["a", "b"], np.zeros((3, 10)))
    with pytest.raises(ValueError, match="float64"):
        MovedRows.from_arrays(["a"], np.zeros((1, 10), np.float32))
    m.append(("row", np.arange(10.0)))  # a plain row is fine
    assert m[0][1].scale.tolist() == [7.0, 8.0, 9.0] and not (m == 3)


def test_fast_tracker_moved_equals_the_twin_with_arrays() -> None:
    w, fast, ref = World(), LayoutTracker(), _ReferenceTracker()
    rng = np.random.default_rng(5)
    ids = [_crate(w, f"k{int(v)}", i) for i, v in enumerate(rng.permutation(200))]
    fast.publish(w, 0), ref.publish(w, 0)
    for tick in range(1, 4):
        for e in rng.choice(ids, 60, replace=False):
            w.get(int(e), Transform).pos[:] = rng.normal(size=3)
        d, r = fast.publish(w, tick), ref.publish(w, tick)
        assert d.moved == r.moved and d.moved.uids == r.moved.uids == sorted(d.moved.uids)
        assert d.moved.rows.tobytes() == r.moved.rows.tobytes()


finite = st.floats(-1e3, 1e3, allow_nan=False)
any_float = st.one_of(finite, st.sampled_from([0.0, -0.0, float("nan"), float("inf"), -float("inf"), 1e-300]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(any_float, min_size=10, max_size=10), min_size=0, max_size=12))
def test_transform_matrices_are_bit_identical_to_transform_matrix(rows) -> None:
    r = np.array(rows, np.float64).reshape(-1, 10)
    with np.errstate(invalid="ignore", over="ignore"):
        fast, ref = transform_matrices(r), transform_matrices_reference(r)
        one = [Transform(row[0:3], row[3:7], row[7:10]).matrix() for row in r]  # the wire's xform source
    assert fast.shape == (len(r), 4, 4)
    for other in (ref, np.array(one).reshape(-1, 4, 4)):
        nan = np.isnan(fast)  # a NaN's sign/payload is not specified; every other value is bitwise equal
        assert np.array_equal(nan, np.isnan(other)) and fast[~nan].tobytes() == other[~nan].tobytes()


def test_interpolated_rows_match_the_per_row_twin() -> None:
    rng = np.random.default_rng(2)
    prev, cur = rng.normal(size=(300, 10)), rng.normal(size=(300, 10))
    cur[::7, 3:7] = -prev[::7, 3:7]  # opposite quaternions: the short way round
    for a in (0.0, 0.25, 0.5, 1.0):
        np.testing.assert_allclose(interpolate_rows(prev, cur, a), interpolate_rows_reference(prev, cur, a),
                                   rtol=1e-12, atol=1e-12)
    assert interpolate_rows(prev[:0], cur[:0], 0.5).shape == (0, 10)


class _NoModel:
    def generate(self, specs, lod):  # noqa: ANN001, ANN201 - never called: budget 0, not threaded
        raise AssertionError("moves never run the model")


def test_stage_places_moved_rows_exactly_as_per_transform() -> None:
    """The stage's array path gives the same matrices, centres, radii and xform bytes as placing
    each moved Transform (the old per-entry path, kept as ``_place``)."""
    from systems.worldmodel_stage import WorldModelStage

    uids = [f"a{i:02d}" for i in range(30)]
    spawn = [LayoutEntry(u, Transform((i, 0.5, 0)), Proxy("box", (0.5, 0.25 + i / 100, 0.5), "brick")) for i, u in
             enumerate(uids)]
    fast, twin = (WorldModelStage(3, _NoModel(), threaded=False, budget=0, max_lod=3, min_lod=3) for _ in range(2))
    for s in (fast, twin):
        s.consume(LayoutDelta(0, spawned=list(spawn)))
        s.frame((0, 1, 5))
    rng = np.random.default_rng(4)
    for tick in range(1, 5):
        moved = []
        for u in sorted(rng.choice(uids, 12, replace=False).tolist()) + ["unknown"]:
            q = rng.normal(size=4)
            scale = (1, 1, 1) if tick % 2 else rng.uniform(0.5, 2, 3)  # some ticks rescale
            moved.append((u, Transform(rng.normal(size=3) * 10, q / np.linalg.norm(q), scale)))
        fast.consume(LayoutDelta(tick, moved=moved))
        for u, t in moved:  # the twin: one Transform at a time
            if u in twin.anchors:
                twin._place(u, twin.anchors[u], t)
        for u in uids:
            a, b = fast.anchors[u], twin.anchors[u]
            assert a.matrix.tobytes() == b.matrix.tobytes() and a.centre.tobytes() == b.centre.tobytes()
            assert a.radius == b.radius and a.matrix.base is None  # a private matrix
        assert fast.frame((0, 1, 5)) == twin.frame((0, 1, 5))
    assert "unknown" not in fast.anchors
    fast.close(), twin.close()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.one_of(any_float, st.floats(allow_nan=True, allow_infinity=True)), min_size=16,
                         max_size=16), max_size=8))
def test_stage_xform_ops_are_the_wire_packing_byte_for_byte(mats) -> None:
    import msgpack

    from systems.worldmodel_stage import xform_ops, xform_ops_reference

    class _A:
        def __init__(self, m: np.ndarray) -> None:
            self.matrix = m

    anchors = {f"u{i}": _A(np.array(m, np.float64).reshape(4, 4)) for i, m in enumerate(mats)}
    uids = sorted(anchors)
    with np.errstate(over="ignore", invalid="ignore"):
        fast, ref = xform_ops(uids, anchors), xform_ops_reference(uids, anchors)
    assert msgpack.packb(fast, use_bin_type=True) == msgpack.packb(ref, use_bin_type=True)


def test_bench_engine_consumer_row_runs() -> None:
    from tools.bench.engine import moved_consumers

    row = moved_consumers(20, reps=2)
    assert row["moved"] == 20 and row["case"] == "moved_consumers"
    assert all(row[k] > 0 for k in ("stage_consume_ms", "stage_per_transform_ms", "presenter_math_ms",
                                    "presenter_math_reference_ms"))
