"""The whole hybrid loop on the village: sim rate, frame rate, input-to-visible latency, delta bytes.

    anchorworld bench loop --json [--seconds 20] [--size 640x360] [--device cuda] [--worker process|thread]

One JSON object with:

- ``sim_hz``: ticks per second of the village with every system on (physics, rules, layout
  tracking, world-model stage), simulating only, after a warm-up;
- ``fps``: frames per second of the real-time loop (fixed 60 Hz ticks with an accumulator, headless
  EGL render of splats + pending proxies at ``--size`` each frame, the splat layer at
  ``splat_render_scale`` of it as in a window: on software GL the view's dynamic resolution picks
  it, ``splat_render_scale_mean`` is its mean over the loop) while the player walks a circle through the village
  and it rains; ``sim_hz_in_loop``: ticks per wall second in that loop (60 when
  the simulation keeps up);
- ``input_to_visible_ms_p50`` / ``_p95``: every second a script, as on an input, gives the anchor
  nearest the player among those in view (a change behind the player is never visible) a new
  ``damage`` value; the latency runs from the start of that tick to the
  end of the first frame (``ctx.finish()``) that draws its new Gaussians;
- ``latency_<a>_<b>_ms_p50`` / ``_p95``: the same latency split into steps (``input`` tick →
  ``consumed`` by the stage → ``queued`` → worker ``start`` → worker ``done`` → ``accepted`` into a
  frame's message → that frame ``drawn``), from ``WorldModelStage.trace``;
- ``delta_bytes_per_tick``: SplatDelta bytes sent to the renderer per tick while walking (all ops:
  transforms of moving things, proxies and the Gaussians generated as levels of detail change,
  the rain restyles and the probes); ``delta_bytes_per_tick_<op>`` splits it by op (xform, set, ...);
- ``worker``: where the model ran (``process``, the default of windowed runs, or ``thread``);
  ``frame_ms_p50`` / ``_p95``: wall time per rendered frame of the loop; ``render_ms_p50``: of that,
  the presenter's render and ``ctx.finish()``; ``ticks_ms_p50``: the simulation ticks run before it;
  ``cpu_ms_per_frame``: CPU time of this process (render loop and GL driver threads, and a model
  thread) per frame, and ``worker_cpu_ms_per_frame`` of a worker process: on a shared machine these
  vary less than wall-clock rates; ``load_avg``: the 1-minute load average when the loop started
  (other processes competing for the cores lower ``fps``).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

VILLAGE = Path(__file__).resolve().parents[2] / "games" / "village.py"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``anchorworld bench loop``."""
    from engine.run_command import parse_size

    p.add_argument("--seconds", type=float, default=20.0, help="length of the walking loop (default 20)")
    p.add_argument("--size", type=parse_size, default=(640, 360), metavar="WxH", help="frame size (default 640x360)")
    p.add_argument("--sim-ticks", type=int, default=600, help="ticks for the simulation-only rate (default 600)")
    p.add_argument("--device", default=None, help="world-model device: cpu or cuda (default: cuda when available)")
    p.add_argument("--worker", choices=("process", "thread"), default="process",
                   help="where the model runs off the frame path (default process, as in a window)")


def _walk_state(turn: float) -> Any:
    from engine.input import ActionState

    return ActionState(frozenset(), (("move_z", 1.0), ("look_x", turn)))


STEPS = ("input", "consumed", "queued", "start", "done", "accepted", "drawn")


def _segments(traces: list[dict[str, Any]]) -> dict[str, float]:
    """p50 / p95 milliseconds of each step of the probe's way to the screen: ``latency_<a>_<b>_ms_p50``
    from event ``a`` to the next recorded event ``b`` (input tick, restyle consumed by the stage,
    queued, worker start, worker done, accepted into a frame's message, that frame finished)."""
    spans: dict[str, list[float]] = {}
    for t in traces:
        steps = [s for s in STEPS if s in t]
        for a, b in zip(steps, steps[1:], strict=False):
            spans.setdefault(f"latency_{a}_{b}", []).append((t[b] - t[a]) * 1000.0)
    out: dict[str, float] = {}
    for name in (f"latency_{a}_{b}" for i, a in enumerate(STEPS) for b in STEPS[i + 1:]):
        if name in spans:
            out[f"{name}_ms_p50"] = round(float(np.percentile(spans[name], 50)), 1)
            out[f"{name}_ms_p95"] = round(float(np.percentile(spans[name], 95)), 1)
    return out


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc; 0 elsewhere or for None)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """Measure and yield one row."""
    from engine.components import Transform
    from engine.presenter import Presenter
    from engine.render.context import best_headless_context
    from engine.scripting import load_game

    # 1. simulation only: every system on, nothing rendered
    game = load_game(VILLAGE)
    for _ in range(60):
        game.tick()
    t0 = time.perf_counter()
    for _ in range(args.sim_ticks):
        game.tick()
    sim_hz = args.sim_ticks / (time.perf_counter() - t0)
    game.system("worldmodel").close()

    # 2. the real-time loop
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    game = load_game(VILLAGE)
    stage = game.system("worldmodel")
    stage.device = device
    stage.worker = args.worker
    stage.start()  # the warm-up flush goes through the worker: one model, where the loop uses it
    player = game.find("player")
    game.move(player, (0.0, 0.1, 4.0))
    game.tick()
    ctx = best_headless_context()  # GL 4.3 where there is one: GPU sort and projection pre-pass
    presenter = Presenter(game, ctx, args.size)
    view = presenter.splat_view
    presenter.render(1.0)  # warm-up: the village fully generated before we measure
    ctx.finish()
    view.wait = False
    sent = stage.total_bytes
    sent_by_op = dict(stage.bytes_by_op)
    ticks = frames = 0
    latencies: list[float] = []
    traces: list[dict[str, Any]] = []
    probe: tuple[str, tuple, float] | None = None
    next_probe = 1.0
    rng = np.random.default_rng(0)
    frame_ms: list[float] = []
    render_ms: list[float] = []
    ticks_ms: list[float] = []
    scales: list[float] = []
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    worker_pid = stage._proc.pid if stage._proc is not None else None
    worker_cpu0 = _cpu_seconds(worker_pid)
    cpu0 = time.process_time()
    start = last = time.perf_counter()
    while True:
        now = time.perf_counter()
        if now - start > args.seconds:
            break
        n = game.clock.advance(now - last)
        last = now
        for _ in range(n):
            tick_start = time.perf_counter()
            game.tick(_walk_state(2.5))
            ticks += 1
            if probe is None and tick_start - start > next_probe:
                here = game.get(player, Transform).pos
                seen = [u for u in stage.anchors if not u.startswith("ground")
                        and (stage._forward is None or stage._on_screen(stage.anchors[u]))]
                best = min(seen or [u for u in stage.anchors if not u.startswith("ground")],
                           key=lambda u: float(np.linalg.norm(stage.anchors[u].centre - here)))
                e = game.find(best)
                if e is not None:
                    stage.trace = {best: {"input": tick_start}}
                    game.restyle(e, damage=round(float(rng.uniform(0.05, 0.95)), 3))
                    game.tick(_walk_state(2.5))  # the layout stage publishes the restyle this tick
                    ticks += 1
                    probe = (best, stage.anchors[best].key, tick_start)
        drawing = time.perf_counter()
        presenter.render(game.clock.alpha)
        ctx.finish()
        frames += 1
        done = time.perf_counter()
        frame_ms.append((done - now) * 1000.0)
        render_ms.append((done - drawing) * 1000.0)
        ticks_ms.append((drawing - now) * 1000.0)
        scales.append(view.render_scale)
        if probe is not None:
            uid, key, t_in = probe
            a = stage.anchors.get(uid)
            if a is None or a.key != key:
                probe = None  # changed again by the game (rain): drop this sample
            elif a.shown is not None and a.shown[0] == key:
                drawn = time.perf_counter()
                latencies.append((drawn - t_in) * 1000.0)
                traces.append({**stage.trace.get(uid, {}), "drawn": drawn})
                probe = None
                next_probe = time.perf_counter() - start + 1.0
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    worker_cpu = _cpu_seconds(worker_pid) - worker_cpu0
    walked = ticks
    delta_bytes = stage.total_bytes - sent
    stats = view.splats.stats()
    ctx_info = f'{ctx.info.get("GL_RENDERER", "?")} (GL {ctx.version_code})'
    stage.close()
    presenter.close()
    ctx.release()
    lat = np.array(latencies) if latencies else np.array([float("nan")])
    yield {
        "sim_hz": round(sim_hz, 1),
        "fps": round(frames / elapsed, 1),
        "sim_hz_in_loop": round(ticks / elapsed, 1),
        "frame_ms_p50": round(float(np.percentile(frame_ms, 50)), 1),
        "frame_ms_p95": round(float(np.percentile(frame_ms, 95)), 1),
        "render_ms_p50": round(float(np.percentile(render_ms, 50)), 1),
        "ticks_ms_p50": round(float(np.percentile(ticks_ms, 50)), 1),
        "cpu_ms_per_frame": round(cpu * 1000.0 / max(frames, 1), 1),
        "worker_cpu_ms_per_frame": round(worker_cpu * 1000.0 / max(frames, 1), 1),
        "load_avg": round(load_avg, 2),
        "input_to_visible_ms_p50": round(float(np.percentile(lat, 50)), 1),
        "input_to_visible_ms_p95": round(float(np.percentile(lat, 95)), 1),
        "latency_samples": len(latencies),
        **_segments(traces),
        "delta_bytes_per_tick": round(delta_bytes / max(walked, 1), 1),
        **{f"delta_bytes_per_tick_{k}": round((v - sent_by_op.get(k, 0)) / max(walked, 1), 1)
           for k, v in sorted(stage.bytes_by_op.items())},
        "splats": stats["splats"],
        "sort": stats["sort"],
        "splat_render_scale": view.render_scale,
        "splat_render_scale_mean": round(float(np.mean(scales)), 3) if scales else view.render_scale,
        "size": f"{args.size[0]}x{args.size[1]}",
        "seconds": round(elapsed, 1),
        "device": device,
        "worker": args.worker,
        "renderer": ctx_info,
    }


if __name__ == "__main__":  # python -m tools.bench.loop [--seconds S] [--size WxH] [--device cuda]
    import json

    _parser = argparse.ArgumentParser(description="bench loop (same as anchorworld bench loop --json)")
    add_arguments(_parser)
    for _row in run(_parser.parse_args()):
        print(json.dumps(_row), flush=True)
