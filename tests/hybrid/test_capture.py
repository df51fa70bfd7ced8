"""Splat captures in a level: an entity with a ``SplatCapture`` is drawn from its file by
``anchorworld run`` (not by the world model), deterministically, through save/load; a missing or
bad file is one clear error naming the entity and the file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from engine.errors import InputError
from engine.render.context import headless_context
from engine.splats import GaussianSet, save_ply
from engine.splats.gaussians import SH_C0

pytestmark = pytest.mark.gl
ROOT = Path(__file__).resolve().parents[2]
SIZE = (96, 64)
N = 400  # Gaussians in the test capture


def write_capture(path: Path) -> GaussianSet:
    """A red ball of N Gaussians (radius 0.4 m) saved as an INRIA .ply."""
    rng = np.random.default_rng(5)
    d = rng.normal(size=(N, 3))
    means = (d / np.linalg.norm(d, axis=1, keepdims=True) * rng.uniform(0, 0.4, (N, 1)) ** (1 / 3)).astype(np.float32)
    sh = np.empty((N, 1, 3), np.float32)
    sh[:, 0] = (np.array([0.95, 0.1, 0.1]) - 0.5) / SH_C0
    gs = GaussianSet(means, np.full((N, 3), 0.06, np.float32), np.tile(np.array([1, 0, 0, 0], np.float32), (N, 1)),
                     np.full(N, 0.95, np.float32), sh)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_ply(path, gs)
    return gs


def level_data(capture: str | None) -> dict:
    """A level with one anchored static entity in front of the player start; ``capture`` names its
    file (None: a plain proxy the world model paints)."""
    comps = {
        "Transform": {"pos": [0.0, 0.7, 3.0], "rot": [1.0, 0.0, 0.0, 0.0], "scale": [1.0, 1.0, 1.0]},
        "Proxy": {"shape": "box", "half_extents": [0.45, 0.45, 0.45], "material": "stone", "style_seed": 0, "state": {}},
    }
    if capture is not None:
        comps["SplatCapture"] = {"path": capture}
    return {"format": "anchorworld.level", "version": 1, "name": "capture", "seed": 4,
            "player_start": {"pos": [0.0, 0.0, 0.0], "yaw": 0.0},
            "entities": [{"uid": "statue", "name": "statue", "tags": ["capture", "static"], "components": comps}]}


def write_level(path: Path, capture: str | None) -> Path:
    path.write_text(json.dumps(level_data(capture)))
    return path


def render(game, mode: str = "splats") -> np.ndarray:
    """The game's current view (H, W, 3) uint8 in view ``mode``, everything flushed."""
    from engine.presenter import Presenter

    ctx = headless_context(330)
    try:
        p = Presenter(game, ctx, SIZE)
        p.splat_view.wait = True
        while p.splat_view.mode != mode:
            p.splat_view.cycle_mode()
        p.render(1.0)
        img = p.frame.read_rgb()
        p.close()
    finally:
        ctx.release()
    return img


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine.cli", "run", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def render_both(level: str, out: str) -> None:
    """In a fresh process (headless EGL frames and the editor's pygame window tests do not share a
    process well): the level's splat view and proxy view, and what the stage sent, into ``out`` (.npz)."""
    from engine.scripting import load_game

    game = load_game(level)
    stage = game.system("worldmodel")
    stage._generator = object()  # any model call would fail: a capture never asks the model
    try:
        game.tick()
        splats = render(game)
        proxies = render(game, "proxies")
        np.savez(out, splats=splats, proxies=proxies, count=stage.mirror.splat_count(),
                 shown=json.dumps(stage.anchors["statue"].shown))
    finally:
        stage.close()


def test_capture_is_drawn_from_its_file_not_the_model(tmp_path: Path) -> None:
    write_capture(tmp_path / "caps" / "ball.ply")
    level = write_level(tmp_path / "c.level.json", "caps/ball.ply")  # relative to the level
    out = tmp_path / "frames.npz"
    r = subprocess.run([sys.executable, __file__, str(level), str(out)], capture_output=True, text=True,
                       cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    got = np.load(out)
    splats, proxies = got["splats"], got["proxies"]
    assert int(got["count"]) == N  # exactly the file's Gaussians
    assert json.loads(str(got["shown"])) == [["capture", str((tmp_path / "caps" / "ball.ply").resolve())], 0]
    changed = np.abs(splats.astype(int) - proxies.astype(int)).max(axis=2) > 30
    assert changed.sum() > 100  # the capture's splats are on screen, not the proxy box
    centre = splats[SIZE[1] // 2 - 3 : SIZE[1] // 2 + 3, SIZE[0] // 2 - 3 : SIZE[0] // 2 + 3].reshape(-1, 3).astype(int)
    assert (centre[:, 0] > centre[:, 1] + 60).all()  # and it is the red ball of the file


def test_same_file_same_frame_and_save_load_keeps_the_capture(tmp_path: Path) -> None:
    """`anchorworld run LEVEL --headless --screenshot` twice, then save → load in a new process: identical frames."""
    from engine.levels import Level

    write_capture(tmp_path / "ball.ply")
    level = write_level(tmp_path / "c.level.json", "ball.ply")
    a, b, c, sav = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png", tmp_path / "s.sav"
    opts = ["--headless", "--size", f"{SIZE[0]}x{SIZE[1]}"]
    first = run_cli(str(level), *opts, "--ticks", "2", "--save", str(sav), "--screenshot", str(a))
    assert first.returncode == 0, first.stderr
    second = run_cli(str(level), *opts, "--ticks", "2", "--screenshot", str(b))
    assert second.returncode == 0, second.stderr
    third = run_cli(str(level), *opts, "--load", str(sav), "--ticks", "0", "--screenshot", str(c))
    assert third.returncode == 0, third.stderr
    ia, ib, ic = (np.asarray(Image.open(p)) for p in (a, b, c))
    np.testing.assert_array_equal(ia, ib)
    np.testing.assert_array_equal(ia, ic)
    assert (np.abs(ia.astype(int) - ia[0, 0].astype(int)).max(axis=2) > 30).sum() > 100  # not a blank frame
    # the level file round trip keeps the component
    lv = Level.load(level)
    out = tmp_path / "again.level.json"
    lv.save(out)
    (e,) = json.loads(out.read_text())["entities"]
    assert e["components"]["SplatCapture"] == {"path": "ball.ply"}


def test_editor_saved_capture_runs_and_old_tag_levels_still_draw(tmp_path: Path) -> None:
    """A level the editor writes (SplatCapture) and one from before it (``splat:<path>`` tag) both draw the file."""
    from engine.scripting import load_game
    from tools.editor.document import Document, new_level
    from tools.editor.prefabs import splat_entity

    cap = tmp_path / "ball.ply"
    write_capture(cap)
    doc = Document(new_level("ed", seed=4))
    e = splat_entity(doc, cap, (0.0, 0.7, 3.0))
    assert e["components"]["SplatCapture"] == {"path": str(cap)}  # no file yet: as given
    doc.path = tmp_path / "l.level.json"
    assert splat_entity(doc, cap)["components"]["SplatCapture"] == {"path": "ball.ply"}  # next to the level
    e["components"]["SplatCapture"]["path"] = "ball.ply"
    old = level_data(None)
    old["entities"][0]["tags"].append(f"splat:{cap}")
    for data in (dict(new_level("ed", seed=4), entities=[e]), old):
        path = tmp_path / "l.level.json"
        path.write_text(json.dumps(data))
        game = load_game(path)
        stage = game.system("worldmodel")
        stage._generator = object()
        try:
            game.tick()
            stage.flush(np.zeros(3))
            assert stage.mirror.splat_count() == N
        finally:
            stage.close()


def test_missing_capture_is_one_clear_error(tmp_path: Path) -> None:
    from engine.scripting import load_game

    level = write_level(tmp_path / "m.level.json", "nowhere/ball.ply")
    game = load_game(level)
    with pytest.raises(InputError) as info:
        game.tick()
    msg = str(info.value)
    assert "'statue'" in msg and str(tmp_path / "nowhere" / "ball.ply") in msg and "m.level.json" in msg
    game.system("worldmodel").close()
    r = run_cli(str(level), "--headless", "--ticks", "1")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "statue" in r.stderr and "ball.ply" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_unreadable_capture_names_the_entity(tmp_path: Path) -> None:
    from engine.scripting import load_game

    (tmp_path / "bad.ply").write_bytes(b"ply\nformat nonsense\n")
    game = load_game(write_level(tmp_path / "b.level.json", "bad.ply"))
    with pytest.raises(InputError, match="statue"):
        game.tick()
    game.system("worldmodel").close()


@settings(max_examples=25, deadline=None)
@given(st.one_of(st.just(""), st.just("   "), st.integers(), st.none(), st.lists(st.text(max_size=3), max_size=2)))
def test_bad_splatcapture_path_in_a_level_is_an_input_error(path: object) -> None:
    from engine.levels import Level

    data = level_data("x.ply")
    data["entities"][0]["components"]["SplatCapture"]["path"] = path
    with pytest.raises(InputError, match="SplatCapture"):
        Level.from_data(data, "h.level.json")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    render_both(sys.argv[1], sys.argv[2])
