"""Engine core speed: bare tick and change tracking with N anchored entities (no physics, no rendering).

Keys: ``tick_ms_median`` / ``tick_ms_p95`` — one full tick of the bare engine (scripts, rules,
layout, camera) while a per-tick callback moves ``--changed`` entities; ``change_tracking_ms`` —
median time of ``LayoutTracker.publish`` alone with the same changes; ``reference_tracking_ms`` —
its plain reference twin, for scale.

A second row (``"case": "moved_consumers"``) times what the two real consumers do with a tick's
``moved`` of ``--moved`` anchors (array-backed: uids + one (K, 10) row array): the world-model
stage's ``consume`` (``stage_consume_ms``; ``stage_per_transform_ms`` is its per-Transform twin,
one ``_place`` per pair as before the arrays) and the presenter's interpolation + matrices for the
moving anchors (``presenter_math_ms``; ``presenter_math_reference_ms``: one row at a time, as
before). No GL: the renderer's per-uid ``xform`` calls are not included.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterator
from typing import Any


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``anchorworld bench engine``."""
    p.add_argument("--entities", type=int, default=10_000, help="anchored proxy entities (default 10000)")
    p.add_argument("--changed", type=int, default=100, help="entities moved per tick (default 100)")
    p.add_argument("--ticks", type=int, default=300, help="ticks measured (default 300)")
    p.add_argument("--moved", type=int, default=600, help="moved anchors for the consumer row (default 600)")


def _world(n: int) -> Any:
    from engine.game import Game

    g = Game(seed=0, systems=["scripts", "rules", "layout", "camera"])
    for i in range(n):
        g.box(pos=(i % 100, 0.5, i // 100), uid=f"e{i}")
    return g


def run(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """Yield one JSON-able dict of measurements."""
    import numpy as np

    from engine.components import Transform
    from engine.layout import LayoutTracker, _ReferenceTracker

    n, k, ticks = args.entities, min(args.changed, args.entities), args.ticks
    g = _world(n)
    ts = [g.world.get(e, Transform) for e, _ in g.query(Transform)]
    rng = np.random.default_rng(0)
    picks = [rng.choice(n, k, replace=False) for _ in range(ticks)]

    @g.every_tick
    def mover(game: Any, dt: float) -> None:
        for i in picks[game.tick_count % ticks]:
            ts[i].pos[1] += 0.01

    g.tick()  # first publish spawns everything: not measured
    times = []
    moved = 0
    for _ in range(ticks):
        t0 = time.perf_counter()
        g.tick()
        times.append((time.perf_counter() - t0) * 1e3)
        moved += len(g.layout_delta.moved)

    w = g.world
    tracker, ref = LayoutTracker(), _ReferenceTracker()
    tracker.publish(w, 0)
    ref.publish(w, 0)
    track, reft = [], []
    for j in range(ticks):
        for i in picks[j]:
            ts[i].pos[0] += 0.01
        t0 = time.perf_counter()
        d = tracker.publish(w, j + 1)
        track.append((time.perf_counter() - t0) * 1e3)
        assert len(d.moved) == k
        if j < 3:  # the plain twin is slow: a few samples for scale
            t0 = time.perf_counter()
            ref.publish(w, j + 1)
            reft.append((time.perf_counter() - t0) * 1e3)
    yield {
        "bench": "engine",
        "entities": n,
        "changed_per_tick": k,
        "ticks": ticks,
        "tick_ms_median": round(statistics.median(times), 4),
        "tick_ms_p95": round(float(np.percentile(times, 95)), 4),
        "change_tracking_ms": round(statistics.median(track), 4),
        "change_tracking_ms_p95": round(float(np.percentile(track, 95)), 4),
        "reference_tracking_ms": round(statistics.median(reft), 4),
        "moved_per_tick": moved / ticks,
    }
    if args.moved > 0:
        yield moved_consumers(args.moved)


class _NoModel:
    def generate(self, specs: Any, lod: int) -> Any:  # never called: budget 0, not threaded
        raise AssertionError("moves never run the model")


def _median_ms(fn: Any, reps: int) -> float:
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return round(statistics.median(out), 4)


def moved_consumers(k: int, reps: int = 50) -> dict[str, Any]:
    """The consumer row (see the module docstring) for ``k`` moved anchors."""
    import numpy as np

    from engine.components import Proxy, Transform, transform_matrix
    from engine.layout import LayoutDelta, LayoutEntry, MovedRows, transform_matrices
    from engine.presenter import interpolate_rows, interpolate_rows_reference
    from systems.worldmodel_stage import WorldModelStage

    rng = np.random.default_rng(0)
    uids = [f"m{i:05d}" for i in range(k)]
    rows = rng.normal(size=(k, 10))
    rows[:, 3:7] /= np.linalg.norm(rows[:, 3:7], axis=1)[:, None]
    rows[:, 7:10] = 1.0
    moved = MovedRows.from_arrays(list(uids), rows.copy())
    pairs = list(moved)
    stage = WorldModelStage(0, _NoModel(), threaded=False, budget=0)
    stage.consume(LayoutDelta(0, spawned=[LayoutEntry(u, Transform(), Proxy("box", (0.3, 0.3, 0.3))) for u in uids]))
    delta = LayoutDelta(1, moved=moved)

    def per_transform() -> None:
        for uid, t in pairs:
            a = stage.anchors.get(uid)
            if a is not None:
                stage._place(uid, a, t)

    prev = rows + rng.normal(scale=0.01, size=rows.shape)

    def reference_math() -> None:
        for r in interpolate_rows_reference(prev, rows, 0.5):
            transform_matrix(r[0:3], r[3:7], r[7:10])

    row = {
        "bench": "engine",
        "case": "moved_consumers",
        "moved": k,
        "stage_consume_ms": _median_ms(lambda: stage.consume(delta), reps),
        "stage_per_transform_ms": _median_ms(per_transform, reps),
        "presenter_math_ms": _median_ms(lambda: transform_matrices(interpolate_rows(prev, rows, 0.5)), reps),
        "presenter_math_reference_ms": _median_ms(reference_math, max(3, reps // 10)),
    }
    stage.close()
    return row

