"""The world model in its own process: the same Gaussians and frames as the thread path, restyles
first, a clear error when the worker dies, and no process left behind."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from engine.components import Proxy, Transform
from engine.layout import LayoutDelta, LayoutEntry
from engine.splats import wire
from engine.splats.wire import SetOp, SplatScene
from systems.worldmodel_stage import WorldModelStage, make_generator
from systems.worldmodel_worker import Request, WorkerDied, take_batch

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def generator():
    return make_generator("cpu")


def entry(uid: str, pos=(0.0, 0.5, 0.0), material="brick", state=None, shape="box") -> LayoutEntry:
    return LayoutEntry(uid, Transform(pos), Proxy(shape, (0.5, 0.5, 0.5), material, 0, dict(state or {})))


def village_patch() -> LayoutDelta:
    mats = ("brick", "stone", "grass", "metal", "wood_planks", "roof_tiles")
    shapes = ("box", "cylinder", "box", "sphere", "box", "cylinder")
    return LayoutDelta(0, spawned=[entry(f"e{i}", (i * 1.7 - 4.0, 0.5, -i * 1.3), m, shape=s)
                                   for i, (m, s) in enumerate(zip(mats, shapes, strict=True))])


def sets(msg: bytes | None) -> list[SetOp]:
    return [] if msg is None else [op for op in wire.decode(msg).ops if isinstance(op, SetOp)]


def test_process_worker_sends_the_bytes_the_thread_worker_sends(generator) -> None:
    """Same layout and camera path: every Gaussian set the renderer gets is bit-identical, and the
    flushed scenes (the renderer's whole input) are byte for byte the same."""
    keyframes, by_anchor = [], []
    for worker in ("thread", "process"):
        stage = WorldModelStage(11, generator if worker == "thread" else None, worker=worker, device="cpu")
        assert stage.worker == worker
        stage.consume(village_patch())
        got: dict[tuple[str, int], bytes] = {}
        for eye in ((0, 1, 30), (0, 1, 12), (0, 1, 4)):  # walk in: coarse, then refined
            stage.start()
            stage.wait_worker()
            msg = stage.frame(eye, (0, 0, -1))
            for op in sets(msg):
                got[(op.anchor, op.lod)] = wire.encode_packed(0, [wire.pack_op(op)])
            msg = stage.flush(eye)
            for op in sets(msg):
                got[(op.anchor, op.lod)] = wire.encode_packed(0, [wire.pack_op(op)])
        keyframes.append(stage.mirror.keyframe(seq=0))
        by_anchor.append(got)
        stage.close()
    assert keyframes[0] == keyframes[1]
    common = set(by_anchor[0]) & set(by_anchor[1])
    assert len(common) >= 12  # six anchors at two levels of detail at least
    assert all(by_anchor[0][k] == by_anchor[1][k] for k in common)
    scene = SplatScene()
    scene.apply_bytes(keyframes[1])
    assert len(scene.anchors) == 6 and all(a.gaussians is not None and len(a.gaussians) > 0
                                           for a in scene.anchors.values())


@pytest.mark.gl
def test_process_worker_renders_the_frame_the_thread_worker_renders() -> None:
    """A game drawn through the splat view: frames while the worker fills in, then the flushed
    frame — pixel-identical whichever worker ran the model."""
    from engine.game import Game
    from engine.presenter import Presenter
    from engine.render.context import headless_context

    images = []
    for worker in ("thread", "process"):
        game = Game(seed=5, name="worker-frames")
        game.ground(size=6.0)
        for i, m in enumerate(("brick", "wood_planks", "stone")):
            game.box(pos=(i - 1.0, 0.5, 3), half_extents=(0.4, 0.4, 0.4), material=m, uid=f"b{i}")
        game.player(pos=(0, 0, 0))
        stage = game.system("worldmodel")
        stage.worker, stage.device, stage.min_lod = worker, "cpu", 1
        game.tick()
        ctx = headless_context(330)
        try:
            p = Presenter(game, ctx, (96, 64))
            view = p.splat_view
            view.wait = False
            for _ in range(3):
                p.render(1.0)
            stage.wait_worker()
            p.render(1.0)
            view.wait = True
            p.render(1.0)
            assert not view.pending_proxies.where
            images.append(p.frame.read_rgb())
            p.close()
        finally:
            stage.close()
            ctx.release()
    assert images[0].std() > 1.0
    assert np.array_equal(images[0], images[1])


@pytest.mark.gl
def test_games_default_to_the_process_worker_and_headless_frames_start_none(monkeypatch) -> None:
    """The default: a game's stage runs the model in a worker process once frames are drawn as in a
    window; a headless frame (flushed) generates in this process and starts no worker."""
    from engine.game import Game
    from engine.presenter import Presenter
    from engine.render.context import headless_context

    monkeypatch.delenv("ANCHORWORLD_WORKER", raising=False)
    game = Game(seed=5, name="default-worker")
    game.box(pos=(0, 0.5, 3), half_extents=(0.4, 0.4, 0.4), material="brick", uid="b")
    game.player(pos=(0, 0, 0))
    stage = game.system("worldmodel")
    stage.min_lod = 2
    game.tick()
    assert stage.worker == "process"
    ctx = headless_context(330)
    try:
        p = Presenter(game, ctx, (64, 48))
        p.splat_view.wait = True
        p.render(1.0)
        assert stage._proc is None and stage.splat_count() > 0
        p.close()
    finally:
        stage.close()
        ctx.release()


def test_restyles_are_delivered_ahead_of_the_budget_by_the_process_worker() -> None:
    stage = WorldModelStage(3, worker="process", device="cpu", budget=1, min_lod=2)
    uids = [f"e{i}" for i in range(6)]
    stage.consume(LayoutDelta(0, spawned=[entry(u, (i - 2.5, 0.5, 0)) for i, u in enumerate(uids)]))
    stage.start()
    stage.flush((0, 1, 5))  # through the worker: everything shown at LOD 2
    stage.frame((0, 1, 5), (0, 0, -1))
    stage.consume(LayoutDelta(1, restyled=[entry(u, (i - 2.5, 0.5, 0), state={"burn": 0.5})
                                           for i, u in enumerate(uids)]))
    stage.wait_worker()  # consume woke the worker: all six finished, none handed out yet
    assert stage.pending == 6
    got = sets(stage.frame((0, 1, 5), (0, 0, -1)))
    assert sorted(op.anchor for op in got) == uids  # all six in one frame, though the budget is one
    assert stage.pending == 0
    stage.close()


def test_budget_and_coarse_first_hold_with_the_process_worker() -> None:
    stage = WorldModelStage(3, worker="process", device="cpu", budget=1)
    stage.consume(LayoutDelta(0, spawned=[entry("near"), entry("far", (0, 0.5, -30))]))
    assert stage.frame((0, 1, 2), (0, 0, -1)) is not None  # proxies at once; the model is still loading
    stage.wait_worker()
    first = sets(stage.frame((0, 1, 2), (0, 0, -1)))
    assert [(op.anchor, op.lod) for op in first] == [("near", 2)]  # budget one, largest first, coarse
    seen = [(op.anchor, op.lod) for op in first]
    for _ in range(20):
        stage.wait_worker()
        seen += [(op.anchor, op.lod) for op in sets(stage.frame((0, 1, 2), (0, 0, -1)))]
        if stage.pending == 0 and len(seen) >= 3:
            break
    assert seen[:3] == [("near", 2), ("far", 2), ("near", 0)] or seen[:3] == [("near", 2), ("near", 0), ("far", 2)]
    assert stage.anchors["near"].shown[1] == 0 and stage.anchors["far"].shown[1] == 2
    stage.close()


def test_a_killed_worker_is_a_clear_error_and_close_does_not_hang() -> None:
    stage = WorldModelStage(3, worker="process", device="cpu", min_lod=2)
    stage.consume(LayoutDelta(0, spawned=[entry("a")]))
    stage.start()
    stage.flush((0, 1, 5))
    pid = stage._proc.pid
    os.kill(pid, signal.SIGKILL)
    stage.consume(LayoutDelta(1, restyled=[entry("a", state={"wetness": 0.5})]))
    with pytest.raises(WorkerDied, match=r"pid \d+\) was killed by SIGKILL.*ANCHORWORLD_WORKER=thread"):
        for _ in range(200):
            stage.frame((0, 1, 5), (0, 0, -1))
            time.sleep(0.01)
    t0 = time.monotonic()
    stage.close()
    assert time.monotonic() - t0 < 10
    assert not [p for p in multiprocessing.active_children() if p.pid == pid]


def test_close_stops_the_worker_even_while_it_loads() -> None:
    stage = WorldModelStage(3, worker="process", device="cpu")
    stage.consume(LayoutDelta(0, spawned=[entry("a")]))
    stage.frame((0, 1, 5))  # spawned; importing torch over there
    proc = stage._proc.process
    stage.close()
    assert not proc.is_alive() and proc.exitcode is not None
    assert stage._proc is None


def test_a_stage_nobody_holds_any_more_takes_its_worker_with_it() -> None:
    import gc

    stage = WorldModelStage(3, worker="process", device="cpu")
    stage.start()
    proc = stage._proc.process
    del stage
    gc.collect()
    proc.join(10)
    assert not proc.is_alive()


def test_a_model_that_cannot_load_is_reported_from_the_worker() -> None:
    stage = WorldModelStage(3, worker="process", device="no-such-device")
    stage.consume(LayoutDelta(0, spawned=[entry("a")]))
    stage.start()
    with pytest.raises(RuntimeError, match="could not load the model"):
        stage.flush((0, 1, 5), timeout=120)
    stage.close()


def test_a_generation_that_raises_in_the_worker_names_the_anchor(generator) -> None:
    """An error inside the model reaches the game as the thread path reports it, with the worker's
    traceback attached (here: a fourth level of detail the model does not have)."""
    for worker in ("thread", "process"):
        stage = WorldModelStage(3, generator if worker == "thread" else None, worker=worker, device="cpu",
                                lod_distances=(6.0, 18.0, 30.0), max_lod=3, min_lod=3)
        stage.consume(LayoutDelta(0, spawned=[entry("far", (0, 0.5, -60))]))
        stage.start()
        with pytest.raises(RuntimeError, match="world model failed on anchor 'far'") as info:
            for _ in range(100):
                stage.frame((0, 1, 5))
                stage.wait_worker()
        assert "lod must be in 0..2" in str(info.value.__cause__)
        stage.close()


def test_bad_worker_arguments_are_refused(generator) -> None:
    with pytest.raises(ValueError, match="worker: expected one of process, thread"):
        WorldModelStage(worker="gpu")
    with pytest.raises(ValueError, match="generator object lives in this process"):
        WorldModelStage(generator=generator, worker="process")
    assert WorldModelStage(generator=generator).worker == "thread"


def test_take_batch_keeps_restyles_out_of_refinement_chunks() -> None:
    import heapq

    heap = [Request(1, (-0.5,), 0, "r0", (), 0), Request(0, (1, 1, 0.0), 1, "restyle", (), 2),
            Request(1, (-0.4,), 2, "r1", (), 0), Request(1, (-0.3,), 3, "coarse", (), 2)]
    heapq.heapify(heap)
    assert [r.uid for r in take_batch(heap, 64)] == ["restyle"]
    assert [r.uid for r in take_batch(heap, 64)] == ["r0", "r1"]  # same LOD only
    assert [r.uid for r in take_batch(heap, 64)] == ["coarse"] and not heap


def test_a_game_script_is_not_run_again_by_the_worker(tmp_path) -> None:
    """Spawning re-imports the parent's main script by default; a game script runs its game at the
    top level, so the worker must not (one 'started' line, not two)."""
    script = tmp_path / "game_script.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        print("started", flush=True)
        from engine.components import Proxy, Transform
        from engine.layout import LayoutDelta, LayoutEntry
        from systems.worldmodel_stage import WorldModelStage
        stage = WorldModelStage(1, worker="process", device="cpu", min_lod=2)
        stage.consume(LayoutDelta(0, spawned=[LayoutEntry("a", Transform((0, 0.5, 0)), Proxy("box", (0.5, 0.5, 0.5), "brick", 0, {{}}))]))
        stage.start()
        msg = stage.flush((0, 1, 5))
        print("splats", stage.splat_count(), flush=True)
        stage.close()
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.split()
    assert lines.count("started") == 1, done.stdout
    assert "splats" in lines and int(lines[lines.index("splats") + 1]) > 0


def test_a_killed_game_leaves_no_worker_behind(tmp_path) -> None:
    """The parent dies without closing anything (SIGKILL): the worker sees its pipe close and goes."""
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from systems.worldmodel_stage import WorldModelStage
        stage = WorldModelStage(1, worker="process", device="cpu")
        stage.start()
        print(stage._proc.pid, flush=True)
        time.sleep(600)
    """))
    game = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        worker = int(game.stdout.readline())
        time.sleep(0.5)
    finally:
        game.kill()
        game.wait(30)
    deadline = time.monotonic() + 60  # it may be importing torch: it leaves when that is done
    while time.monotonic() < deadline and _alive(worker):
        time.sleep(0.1)
    assert not _alive(worker)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited (its reaper, init, collects it)


@pytest.mark.parametrize(("var", "value"), [("ANCHORWORLD_WORKER", "bogus"), ("ANCHORWORLD_DEVICE", "gpu"),
                                            ("ANCHORWORLD_SPLAT_SCALE", "abc"), ("ANCHORWORLD_SPLAT_SCALE", "0"),
                                            ("ANCHORWORLD_SPLAT_SCALE", "1.5")])
def test_a_bad_setting_in_the_environment_is_one_clear_line(var, value, tmp_path) -> None:
    """`anchorworld run` with a wrong environment variable names it and exits 1, no traceback."""
    env = {**os.environ, var: value, "SDL_VIDEODRIVER": "dummy"}
    env.pop("DISPLAY", None)
    out = subprocess.run([sys.executable, "-m", "engine.cli", "run", "games/village.py", "--headless", "--ticks", "2",
                          "--screenshot", str(tmp_path / "a.png")],
                         capture_output=True, text=True, env=env, timeout=120, cwd=Path(__file__).parents[2])
    assert out.returncode == 1
    assert f"${var}" in out.stderr and repr(value) in out.stderr
    assert "Traceback" not in out.stderr
