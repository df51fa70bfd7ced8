"""Engine core speed: bare tick and change tracking with N anchored entities (no physics, no rendering).

Keys: ``tick_ms_median`` / ``tick_ms_p95`` — one full tick of the bare engine (scripts, rules,
layout, camera) while a per-tick callback moves ``--changed`` entities; ``change_tracking_ms`` —
median time of ``LayoutTracker.publish`` alone with the same changes; ``reference_tracking_ms`` —
its plain reference twin, for scale.
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
