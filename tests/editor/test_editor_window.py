"""The real editor window (pygame + ModernGL + ImGui under Xvfb), driven by injected pygame events
and by ``--commands``: place a box, move it with the gizmo, restyle, undo twice, redo once, save."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pygame
import pytest
from imgui_bundle import imguizmo

from tools.editor.command_file import CommandRunner
from tools.editor.commands import History
from tools.editor.document import Document, new_level, read_level, to_bytes

needs_display = pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs a display (run under xvfb-run)")
pytestmark = [pytest.mark.window, pytest.mark.own_process, needs_display]
gz = imguizmo.im_guizmo


def _key(app, key, mod=0):
    app.step([pygame.event.Event(pygame.KEYDOWN, key=key, mod=mod, unicode="", scancode=0)])
    app.step([pygame.event.Event(pygame.KEYUP, key=key, mod=mod, unicode="", scancode=0)])


def _move(app, pos, buttons=(0, 0, 0), rel=(0, 0)):
    app.step([pygame.event.Event(pygame.MOUSEMOTION, pos=pos, rel=rel, buttons=buttons)])


def _click(app, pos):
    _move(app, pos)
    app.step([pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1)])
    app.step([pygame.event.Event(pygame.MOUSEBUTTONUP, pos=pos, button=1)])


def _centre(rect):
    x0, y0, x1, y1 = rect
    return (int((x0 + x1) / 2), int((y0 + y1) / 2))


def _screen_of(app, p):
    """Window pixel of world point p."""
    cam = app.view_camera()
    vx, vy, _, _ = app.viewport_rect()
    c = cam.view @ np.array([*p, 1.0])
    u = cam.intrinsics @ c[:3]
    return vx + u[0] / u[2], vy + u[1] / u[2]


def _editor(path, **kw):
    from tools.editor.app import EditorApp

    # Scripted input: other tests' windows on the same X server send this one focus, leave and
    # pointer events; only the injected events may drive it (a focus loss once ended a gizmo drag).
    return EditorApp(path, size=(1280, 720), scripted_input=True, **kw)


def _viewport_pixels(app):
    x, y, w, h = app.viewport_rect()
    return app.read_pixels()[y : y + h, x : x + w]


def test_events_place_gizmo_restyle_undo_redo_save_reopen_run(tmp_path):
    path = tmp_path / "blockout.level.json"
    app = _editor(path)
    app.handle_app_op({"op": "camera", "eye": [0.0, 3.0, 8.0], "target": [0.0, 0.0, 0.0]})
    app.gizmo.snap = True  # grid snapping 0.5 m: the drag ends on an exact value
    app.step()
    _key(app, pygame.K_b)  # place the palette prefab (box × stone) at the view centre
    assert app.doc.selection == ["box_1"]
    box = app.doc.entity("box_1")["components"]
    assert box["Transform"]["pos"] == [0.0, 0.5, 0.0] and box["Proxy"]["material"] == "stone"

    # Find the gizmo's X arrow right of the box centre, then drag it 120 px to the right.
    ox, oy = _screen_of(app, [0.0, 0.5, 0.0])
    grab = None
    for dx in range(6, 90, 3):
        p = (int(ox + dx), int(oy))
        _move(app, p)
        if gz.is_over(gz.OPERATION.translate_x):
            grab = p
            break
    assert grab is not None, "the translate gizmo's X handle was not found"
    app.step([pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=grab, button=1)])
    for i in range(1, 13):
        if i == 1:  # what another window on the X server causes mid-drag: dropped under scripted input
            pygame.event.post(pygame.event.Event(pygame.WINDOWFOCUSLOST))
            pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(640, 360), rel=(0, 0), buttons=(0, 0, 0)))
        _move(app, (grab[0] + 10 * i, grab[1]), buttons=(1, 0, 0), rel=(10, 0))
    app.step([pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(grab[0] + 120, grab[1]), button=1)])
    app.step()
    assert app.history.undo_stack[-1].label == "gizmo translate"  # the whole drag: one command
    moved = app.doc.entity("box_1")["components"]["Transform"]["pos"]
    assert moved[0] >= 0.5 and moved[0] % 0.5 == 0 and moved[1:] == [0.5, 0.0]

    # Change the material in the inspector's combo box.
    _click(app, _centre(app.ui_rects["material"]))
    app.step()  # the popup settles where it is shown on its second frame
    _click(app, _centre(app.ui_rects["material:brick"]))
    app.step()
    assert app.doc.entity("box_1")["components"]["Proxy"]["material"] == "brick"

    _key(app, pygame.K_z, pygame.KMOD_LCTRL)  # undo the material
    _key(app, pygame.K_z, pygame.KMOD_LCTRL)  # undo the drag
    assert app.doc.entity("box_1")["components"]["Transform"]["pos"] == [0.0, 0.5, 0.0]
    _key(app, pygame.K_y, pygame.KMOD_LCTRL)  # redo the drag
    _key(app, pygame.K_s, pygame.KMOD_LCTRL)  # save (the file is created now)
    assert not app.doc.dirty

    # The saved file equals the expected level, built through the command API.
    exp = Document(new_level("blockout"))
    r = CommandRunner(History(exp))
    r.run({"op": "spawn", "shape": "box", "material": "stone", "pos": [0.0, 0.5, 0.0]})
    r.run({"op": "move", "to": moved})
    assert path.read_bytes() == to_bytes(exp.data)

    view = {"op": "camera", "eye": [4.0, 5.0, 9.0], "target": [0.5, 0.0, 0.0]}
    app.run_op({"op": "select", "uids": []})
    app.handle_app_op(view)
    app.step()
    app.step()
    before = _viewport_pixels(app)
    app.close()

    # Reopening shows the same scene.
    again = _editor(path)
    assert again.doc.to_bytes() == path.read_bytes() and not again.doc.dirty
    again.handle_app_op(view)
    again.step()
    again.step()
    after = _viewport_pixels(again)
    again.close()
    assert np.array_equal(before, after)
    assert (np.abs(after.astype(int) - [92, 107, 128]).sum(axis=2) > 30).sum() > 200  # the box is drawn

    # `anchorworld run` builds the same layout from the saved file.
    from engine.scripting import load_game
    from tools.editor.play import layout_of

    game = load_game(path)
    game.tick()
    (ent,) = [e for e in layout_of(game) if e["uid"] == "box_1"]
    assert ent["components"]["Transform"]["pos"] == moved
    assert ent["components"]["Proxy"]["material"] == "stone"


def test_commands_file_through_the_cli(tmp_path):
    path = tmp_path / "scripted.level.json"
    cmds = tmp_path / "edit.jsonl"
    shot = tmp_path / "shot.png"
    lines = [
        {"op": "spawn", "shape": "box", "material": "stone", "pos": [0, 0.5, 0]},
        {"op": "move", "by": [2, 0, 0]},
        {"op": "set", "field": "Proxy.material", "value": "brick"},
        {"op": "undo"},
        {"op": "undo"},
        {"op": "redo"},
        {"op": "save"},
        {"op": "frame"},
        {"op": "screenshot", "path": str(tmp_path / "mid.png")},
    ]
    cmds.write_text("# place, move, restyle, undo twice, redo once, save\n" + "\n".join(json.dumps(x) for x in lines))
    out = subprocess.run(
        [sys.executable, "-m", "engine.cli", "edit", str(path), "--commands", str(cmds), "--frames", "12",
         "--screenshot", str(shot)],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    (box,) = read_level(path)["entities"]
    assert box["components"]["Transform"]["pos"] == [2.0, 0.5, 0.0]
    assert box["components"]["Proxy"]["material"] == "stone"
    assert shot.exists() and (tmp_path / "mid.png").exists()
    run = subprocess.run(
        [sys.executable, "-m", "engine.cli", "run", str(path), "--headless", "--ticks", "2", "--state-hash"],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr  # the engine runs what the editor saved

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"op": "spawn"}\n{"op": "set", "field": "Proxy.material", "value": "cheese"}\n')
    out = subprocess.run(
        [sys.executable, "-m", "engine.cli", "edit", str(tmp_path / "x.level.json"), "--commands", str(bad),
         "--frames", "5"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 1 and "line 2" in out.stderr and "material" in out.stderr
    assert "Traceback" not in out.stderr


def test_invalid_level_opens_with_error_panel_and_file_untouched(tmp_path):
    path = tmp_path / "broken.level.json"
    data = new_level("broken")
    data["entities"] = [{"uid": "a", "name": "a", "tags": [], "components": {
        "Proxy": {"shape": "box", "half_extents": [1, 1, 1], "material": "cheese", "style_seed": 0, "state": {}}}}]
    raw = json.dumps(data).encode()
    path.write_bytes(raw)
    app = _editor(path)
    assert app.load_error is not None and "entities[0]" in app.load_error.field
    assert "material" in app.load_error.field
    app.step()
    app.step()
    assert app.doc.path is None  # a save can never overwrite the broken file by accident
    app.request("quit")
    assert not app.running
    app.close()
    assert path.read_bytes() == raw


def test_unsaved_changes_prompt_and_play_stop_restores(tmp_path):
    path = tmp_path / "p.level.json"
    app = _editor(path)
    app.run_op({"op": "spawn", "shape": "box", "pos": [0, 3, 0]})
    app.run_op({"op": "set", "field": "RigidBody", "value": {"kind": "dynamic"}})
    app.step()
    before = app.doc.to_bytes()
    app.toggle_play()
    assert app.playing is not None
    for _ in range(20):
        app.step()
    (falling,) = [e for e in app.playing.entities() if e["uid"] == "box_1"]
    assert falling["components"]["Transform"]["pos"][1] < 3.0  # physics ran during play
    _key(app, pygame.K_ESCAPE)  # Stop
    assert app.playing is None and app.doc.to_bytes() == before
    app.request("quit")  # dirty: asks first
    assert app.running and app.pending_prompt == "quit"
    app.step()
    app.close()


def test_village_opens_with_panels(tmp_path):
    shot = tmp_path / "e.png"
    out = subprocess.run(
        [sys.executable, "-m", "engine.cli", "edit", "games/village.level.json", "--frames", "30", "--screenshot",
         str(shot)],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    from PIL import Image

    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert img.shape == (720, 1280, 3)
    from tools.editor.app import LEFT_W, RIGHT_W

    panel = img[300:400, 40:200]  # the outliner: dark ImGui window background
    assert panel.mean() < 70
    view = img[100:650, LEFT_W + 10 : 1280 - RIGHT_W - 10]
    green = (view[..., 1] > view[..., 0] + 15) & (view[..., 1] > view[..., 2])
    assert green.mean() > 0.05  # the village's grass and trees are drawn


def test_inspector_draws_every_component_and_refuses_bad_values(tmp_path):
    app = _editor(tmp_path / "i.level.json")
    for op in (
        {"op": "spawn", "shape": "box", "pos": [0, 0.5, 0]},
        {"op": "spawn", "shape": "cylinder", "material": "bark", "pos": [2, 0.8, 0]},
        {"op": "set", "field": "RigidBody", "value": {"kind": "dynamic", "density": 500.0}},
        {"op": "set", "field": "Collider", "value": {"shape": "proxy", "friction": 0.4}},
        {"op": "set", "field": "Joint", "value": {"kind": "hinge", "other": "box_1", "limits": [0.0, 1.5]}},
        {"op": "set", "field": "CharacterController", "value": {}},
        {"op": "set", "field": "tags", "value": ["door", "wood"]},
    ):
        assert app.run_op(op), app.messages[-1]
    for operation, space in (("translate", "world"), ("rotate", "local"), ("scale", "local")):
        app.handle_app_op({"op": "gizmo", "operation": operation, "space": space})
        app.step()
        app.step()
    assert not app.run_op({"op": "set", "field": "RigidBody.kind", "value": "floating"})
    assert app.messages[-1][2] and "RigidBody.kind" in app.messages[-1][1]  # shown in red, not saved
    assert app.doc.entity("cylinder_1")["components"]["RigidBody"]["kind"] == "dynamic"
    for mode in ("splats", "both", "proxies"):
        app.handle_app_op({"op": "view", "mode": mode})
        app.step()
    app.close()


def test_a_failing_panel_reports_and_keeps_the_editor_alive(tmp_path):
    from tools.editor import panels

    app = _editor(tmp_path / "k.level.json")
    app.run_op({"op": "spawn", "shape": "box"})

    def broken(app_, *a):
        import imgui_bundle

        imgui_bundle.imgui.begin("half drawn")
        raise RuntimeError("boom")

    good = panels._status
    panels._status = broken
    try:
        for _ in range(3):
            app.step()
    finally:
        panels._status = good
    assert app.messages[-1][2] and "boom" in app.messages[-1][1]
    app.step()
    assert app.doc.has("box_1")
    app.close()
