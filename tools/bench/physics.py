"""physics: full engine tick vs the raw Rapier step, 2,000 dynamic bodies on 20,000 static colliders.

Scene: a ground slab, a grid of 20,000 static posts (anchored collider-only entities with proxies) and
2,000 dynamic crates (entities with Anchor + Transform + Proxy + RigidBody + Collider) dropped
from staggered heights. All are awake in the first ~60 ticks; over the default window (ticks 21-260)
they land and settle, and the median tick has ~600 awake (``awake_median``, ``moved_median``):
``--warmup 0 --ticks 60`` measures the all-awake phase instead. Each measured tick runs the
game's scripts → physics → rules → layout stages (the layout stage diffs the transforms touched
since the last publish — the physics write-back's rows and any a script accessed, see
``engine.world.TransformTable`` — and builds the LayoutDelta; its ``moved`` is array-backed, the
sorted uids and one (K, 10) array of rows, no Python object per moved anchor); ``rapier_ms`` is the wall time of ``PhysicsWorld.step()`` alone inside the
same tick. Prints the medians and their ratio (target ≤ 1.5), the physics stage alone
(``physics_stage_ms``: reconcile + push + characters + step + pull + events) and its ratio to the
step, the Rapier → ECS pose pull alone (``pull_ms``: the engine's largest share), the layout stage alone (``layout_stage_ms``: the transform diff and the LayoutDelta), the
tick's and the step's process CPU time and their ratio (``ratio_cpu``: steadier than wall
time on a shared machine, but it counts Rapier's idle-spinning worker threads), and the awake-body
count.

    anchorworld bench physics --json [--dynamic 2000] [--static 20000] [--ticks 240] [--warmup 20]
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Iterator
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Scene size and the measured window."""
    parser.add_argument("--dynamic", type=int, default=2000, help="dynamic bodies (default 2000)")
    parser.add_argument("--static", type=int, default=20000, help="static colliders (default 20000)")
    parser.add_argument("--ticks", type=int, default=240, help="measured ticks (default 240)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured ticks first (default 20)")
    parser.add_argument("--threads", type=int, default=0, help="Rapier worker threads (0: its default pool)")
    parser.add_argument("--systems", default="scripts,physics,rules,layout",
                        help="stages in the measured tick (default scripts,physics,rules,layout)")


def build_scene(n_dynamic: int, n_static: int, systems: list[str]) -> Any:
    """A game with the benchmark scene (see the module docstring)."""
    import numpy as np

    from engine.components import Proxy, Transform
    from engine.game import Game
    from engine.physics_components import Collider, RigidBody

    g = Game(seed=0, name="bench-physics", systems=systems)
    side = math.ceil(math.sqrt(max(n_static, 1)))
    spacing = 2.0
    half = side * spacing / 2
    g.ground(size=2 * half + 4)
    for i in range(n_static):
        x, z = (i % side) * spacing - half, (i // side) * spacing - half
        g.spawn(Transform((x, 0.3, z)), Proxy("box", (0.3, 0.3, 0.3)), Collider(), uid=f"post-{i}")
    dside = math.ceil(math.sqrt(max(n_dynamic, 1)))
    dspacing = 2 * half / dside
    rng = np.random.default_rng(0)
    for i in range(n_dynamic):
        x = (i % dside) * dspacing - half + 0.5 + rng.uniform(-0.2, 0.2)
        z = (i // dside) * dspacing - half + 0.5 + rng.uniform(-0.2, 0.2)
        y = 1.5 + (i % 13) * 0.9
        g.spawn(Transform((x, y, z)), Proxy("box", (0.35, 0.35, 0.35), "wood_planks"), RigidBody("dynamic"), Collider(),
                uid=f"crate-{i}")
    return g


def run(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """Yield one result row."""
    import numpy as np

    from engine.components import Proxy, Transform
    from engine.errors import InputError
    from engine.physics_components import Collider, RigidBody

    for name in ("dynamic", "static", "ticks"):
        if getattr(args, name) < 1:
            raise InputError("bench physics", f"--{name}", "an integer >= 1")
    systems = [s for s in args.systems.split(",") if s]
    if "physics" not in systems:
        raise InputError("bench physics", "--systems", "a list including physics")
    t0 = time.perf_counter()
    g = build_scene(args.dynamic, args.static, systems)
    phys = g.system("physics")
    if args.threads > 0:
        phys.sim.world.set_num_threads(args.threads)
    phys.prepare()
    build_s = time.perf_counter() - t0
    for _ in range(args.warmup):
        g.tick()
    ticks, steps, awake, moved, phys_s, lay_s, cpu, step_cpu, pull_s = [], [], [], [], [], [], [], [], []
    stage = phys.tick
    layout = g.system("layout")
    lay_stage = layout.tick if layout is not None else None

    def timed_stage(game: Any, dt: float) -> None:
        t = time.perf_counter()
        stage(game, dt)
        phys_s.append(time.perf_counter() - t)

    def timed_layout(game: Any, dt: float) -> None:
        t = time.perf_counter()
        lay_stage(game, dt)
        lay_s.append(time.perf_counter() - t)

    pull = phys.sync.pull_poses

    def timed_pull(world: Any) -> None:
        t = time.perf_counter()
        pull(world)
        pull_s.append(time.perf_counter() - t)

    phys.tick = timed_stage
    phys.sync.pull_poses = timed_pull
    if layout is not None:
        layout.tick = timed_layout
    for _ in range(args.ticks):
        c = time.process_time()
        t = time.perf_counter()
        delta = g.tick()
        ticks.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        steps.append(phys.last_step_s)
        step_cpu.append(phys.last_step_cpu_s)
        awake.append(len(phys.sync.awake_last))
        moved.append(len(delta.moved))
    phys.tick = stage
    phys.sync.pull_poses = pull
    if layout is not None:
        layout.tick = lay_stage
    tick_ms = float(np.median(ticks) * 1e3)
    rapier_ms = float(np.median(steps) * 1e3)
    physics_ms = float(np.median(phys_s) * 1e3)
    yield {
        "area": "physics",
        "dynamic": args.dynamic,
        "static": args.static,
        "ticks": args.ticks,
        "systems": ",".join(systems),
        "tick_ms": round(tick_ms, 3),
        "rapier_ms": round(rapier_ms, 3),
        "ratio": round(tick_ms / rapier_ms, 3) if rapier_ms > 0 else None,
        "overhead_ms": round(tick_ms - rapier_ms, 3),
        "physics_stage_ms": round(physics_ms, 3),
        "physics_stage_ratio": round(physics_ms / rapier_ms, 3) if rapier_ms > 0 else None,
        "layout_stage_ms": round(float(np.median(lay_s) * 1e3), 3) if lay_s else None,
        "pull_ms": round(float(np.median(pull_s) * 1e3), 3),
        "tick_cpu_ms": round(float(np.median(cpu) * 1e3), 3),
        "rapier_cpu_ms": round(float(np.median(step_cpu) * 1e3), 3),
        "ratio_cpu": round(float(np.median(cpu) / np.median(step_cpu)), 3) if np.median(step_cpu) > 0 else None,
        "tick_p90_ms": round(float(np.percentile(ticks, 90) * 1e3), 3),
        "awake_median": int(np.median(awake)),
        "moved_median": int(np.median(moved)),
        "rapier_threads": int(phys.sim.world.num_threads),
        "build_s": round(build_s, 2),
    }
    # churn: one crate spawned and one despawned per tick in the same big world (reconcile cost)
    churn, spawned = [], []
    for i in range(min(args.ticks, 60)):
        spawned.append(g.spawn(Transform((0.0, 40.0, 0.0)), Proxy("box", (0.3, 0.3, 0.3)), RigidBody("dynamic"),
                               Collider(), uid=f"churn-{i}"))
        if len(spawned) > 3:
            g.despawn(spawned.pop(0))
        c = time.perf_counter()
        phys.prepare()
        churn.append(time.perf_counter() - c)
        g.tick()
    yield {"area": "physics", "case": "churn", "dynamic": args.dynamic, "static": args.static,
           "reconcile_ms": round(float(np.median(churn) * 1e3), 3)}
