"""The editor's ImGui panels: menus, outliner, inspector, palette, status bar, prompts, error panel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imgui_bundle import imgui

from engine.errors import InputError
from engine.splats.vocab import MATERIAL_NAMES, SHAPES
from tools.editor.commands import clean
from tools.editor.inspector import _rect, draw_inspector

if TYPE_CHECKING:
    from tools.editor.app import EditorApp


def open_path_popup(app: EditorApp, title: str) -> None:
    """Ask for a file path (Open level / Save level as / Import capture)."""
    app._path_popup = title
    app.path_input = str(app.doc.path) if (title.startswith("Save") and app.doc.path) else ""


def _menus(app: EditorApp) -> None:
    if not imgui.begin_main_menu_bar():
        return
    if imgui.begin_menu("File"):
        if imgui.menu_item("New", "Ctrl+N", False)[0]:
            app.request("new")
        if imgui.menu_item("Open...", "Ctrl+O", False)[0]:
            open_path_popup(app, "Open level")
        if imgui.begin_menu("Open Recent", bool(app.recent)):
            for r in app.recent:
                if imgui.menu_item(r, "", False)[0]:
                    app.request(f"open:{r}")
            imgui.end_menu()
        if imgui.menu_item("Save", "Ctrl+S", False)[0]:
            app.save()
        if imgui.menu_item("Save As...", "Ctrl+Shift+S", False)[0]:
            open_path_popup(app, "Save level as")
        imgui.separator()
        if imgui.menu_item("Import splat capture...", "", False)[0]:
            open_path_popup(app, "Import splat capture")
        imgui.separator()
        if imgui.menu_item("Quit", "Ctrl+Q", False)[0]:
            app.request("quit")
        imgui.end_menu()
    if imgui.begin_menu("Edit"):
        h = app.history
        if imgui.menu_item("Undo", "Ctrl+Z", False, bool(h.undo_stack))[0]:
            app.undo()
        if imgui.menu_item("Redo", "Ctrl+Y", False, bool(h.redo_stack))[0]:
            app.redo()
        imgui.separator()
        has_sel = bool(app.doc.selection)
        if imgui.menu_item("Duplicate", "Ctrl+D", False, has_sel)[0]:
            app.duplicate_selection()
        if imgui.menu_item("Delete", "Del", False, has_sel)[0]:
            app.delete_selection()
        if imgui.menu_item("Copy", "Ctrl+C", False, has_sel)[0]:
            app.copy_selection()
        if imgui.menu_item("Paste", "Ctrl+V", False, bool(app.runner.clipboard))[0]:
            app.paste_clipboard()
        if imgui.menu_item("Select All", "Ctrl+A", False)[0]:
            app.run_op({"op": "select", "uids": [e["uid"] for e in app.doc.entities]})
        imgui.end_menu()
    if imgui.begin_menu("View"):
        for i, mode in enumerate(("proxies", "splats", "both")):
            if imgui.menu_item(mode.capitalize(), str(i + 1), app.scene.mode == mode)[0]:
                app.scene.mode = mode
        imgui.separator()
        if imgui.menu_item("Frame Selection", "F", False)[0]:
            app.frame_selection(all_if_empty=True)
        if imgui.menu_item("Grid", "G", app.scene.show_grid)[0]:
            app.scene.show_grid = not app.scene.show_grid
        imgui.menu_item("Orbit: right drag · Pan: middle drag · Zoom: wheel", "", False, False)
        imgui.menu_item("Fly: hold right button + WASD/QE", "", False, False)
        imgui.end_menu()
    if imgui.begin_menu("Gizmo"):
        for op, key in (("translate", "W"), ("rotate", "E"), ("scale", "R")):
            if imgui.menu_item(op.capitalize(), key, app.gizmo.operation == op)[0]:
                app.gizmo.operation = op
        imgui.separator()
        if imgui.menu_item("Local space", "X", app.gizmo.space == "local")[0]:
            app.gizmo.space = "local" if app.gizmo.space == "world" else "world"
        if imgui.menu_item("Snap (hold Ctrl)", "", app.gizmo.snap)[0]:
            app.gizmo.snap = not app.gizmo.snap
        imgui.end_menu()
    label = "Stop" if app.playing else "Play"
    if imgui.menu_item(f"{label} (F5)", "", app.playing is not None)[0]:
        app.toggle_play()
    imgui.end_main_menu_bar()


def _outliner(app: EditorApp, x: float, y: float, w: float, h: float) -> None:
    imgui.set_next_window_pos((x, y))
    imgui.set_next_window_size((w, h))
    flags = imgui.WindowFlags_.no_move | imgui.WindowFlags_.no_resize | imgui.WindowFlags_.no_collapse
    imgui.begin("Outliner", None, flags)
    _, app.search = imgui.input_text_with_hint("##search", "search name or uid", app.search)
    q = app.search.lower().strip()
    imgui.begin_child("entities")
    shift = imgui.get_io().key_shift
    for e in app.doc.entities:
        name = str(e.get("name", ""))
        if q and q not in name.lower() and q not in e["uid"].lower():
            continue
        selected = e["uid"] in app.doc.selection
        if imgui.selectable(f"{name}  [{e['uid']}]##{e['uid']}", selected)[0]:
            app.select(e["uid"], add=shift)
        if imgui.is_item_hovered() and imgui.is_mouse_double_clicked(0):
            app.frame_selection()
    imgui.end_child()
    imgui.end()


def _palette(app: EditorApp, x: float, y: float, w: float, h: float) -> None:
    imgui.set_next_window_pos((x, y))
    imgui.set_next_window_size((w, h))
    flags = imgui.WindowFlags_.no_move | imgui.WindowFlags_.no_resize | imgui.WindowFlags_.no_collapse
    imgui.begin("Palette", None, flags)
    imgui.text("Prefab: shape × material")
    imgui.set_next_item_width(w * 0.42)
    if imgui.begin_combo("##shape", app.palette_shape):
        for s in SHAPES:
            if imgui.selectable(s, s == app.palette_shape)[0]:
                app.palette_shape = s
        imgui.end_combo()
    imgui.same_line()
    imgui.set_next_item_width(w * 0.42)
    if imgui.begin_combo("##material", app.palette_material):
        for m in MATERIAL_NAMES:
            if imgui.selectable(m, m == app.palette_material)[0]:
                app.palette_material = m
        imgui.end_combo()
    if imgui.button("Place at view centre (B)"):
        app.place_prefab()
    _rect(app, "place")
    imgui.separator()
    imgui.text("Splat capture (.ply .spz .splat)")
    imgui.set_next_item_width(w - 20)
    _, app.capture_path = imgui.input_text("##capture", app.capture_path)
    if imgui.button("Import as static splat entity") and app.capture_path:
        t = app.camera.target
        app.run_op({"op": "import_splat", "path": app.capture_path, "pos": clean(list(t), 3)})
    imgui.end()


def _status(app: EditorApp, x: float, y: float, w: float, h: float) -> None:
    imgui.set_next_window_pos((x, y))
    imgui.set_next_window_size((w, h))
    flags = (
        imgui.WindowFlags_.no_decoration | imgui.WindowFlags_.no_move | imgui.WindowFlags_.no_saved_settings
    )
    imgui.begin("##status", None, flags)
    doc = app.doc
    name = str(doc.path) if doc.path else "untitled (unsaved)"
    fps = 1000.0 / max(sum(app.frame_ms[-30:]) / max(len(app.frame_ms[-30:]), 1), 1e-3)
    info = (
        f"{'* ' if doc.dirty else ''}{name}  |  {len(doc.entities)} entities  |  {len(doc.selection)} selected  |  "
        f"{app.gizmo.operation}/{app.gizmo.space}{' snap' if app.gizmo.snap else ''}  |  view {app.scene.mode}  |  "
        f"{fps:.0f} FPS"
    )
    if app.preview is not None:
        info += f"  |  AI pending {app.preview.pending}"
    if app.playing is not None:
        info += "  |  PLAYING"
    imgui.text(info)
    if app.messages:
        _, text, err = app.messages[-1]
        imgui.same_line()
        imgui.text_colored((1.0, 0.4, 0.35, 1.0) if err else (0.6, 0.9, 0.6, 1.0), f"  {text}")
    imgui.end()


def _popups(app: EditorApp) -> None:
    title = getattr(app, "_path_popup", None)
    if title:
        imgui.open_popup(title)
        app._path_popup = None
    for t in ("Open level", "Save level as", "Import splat capture"):
        if imgui.begin_popup_modal(t, None, imgui.WindowFlags_.always_auto_resize)[0]:
            imgui.set_next_item_width(420)
            entered, app.path_input = imgui.input_text("path", app.path_input, imgui.InputTextFlags_.enter_returns_true)
            ok = imgui.button("OK") or entered
            imgui.same_line()
            if imgui.button("Cancel"):
                imgui.close_current_popup()
            elif ok and app.path_input.strip():
                p = app.path_input.strip()
                if t == "Open level":
                    app.request(f"open:{p}")
                elif t == "Save level as":
                    app.save(p)
                else:
                    app.run_op({"op": "import_splat", "path": p, "pos": clean(list(app.camera.target), 3)})
                imgui.close_current_popup()
            imgui.end_popup()
    if app.pending_prompt:
        imgui.open_popup("Unsaved changes")
    if imgui.begin_popup_modal("Unsaved changes", None, imgui.WindowFlags_.always_auto_resize)[0]:
        imgui.text("The level has unsaved changes. Save them first?")
        action = app.pending_prompt or ""
        if imgui.button("Save"):
            app.save()
            if not app.doc.dirty:
                app.do(action)
            app.pending_prompt = None
            imgui.close_current_popup()
        imgui.same_line()
        if imgui.button("Discard"):
            app.pending_prompt = None
            app.do(action)
            imgui.close_current_popup()
        imgui.same_line()
        if imgui.button("Cancel"):
            app.pending_prompt = None
            imgui.close_current_popup()
        imgui.end_popup()


def _error_panel(app: EditorApp) -> None:
    err: InputError | None = app.load_error
    if err is None:
        return
    w, h = app.size
    imgui.set_next_window_pos((w / 2 - 260, h / 2 - 90))
    imgui.set_next_window_size((520, 0))
    imgui.begin("Level failed validation", None, imgui.WindowFlags_.no_collapse)
    imgui.text_colored((1.0, 0.45, 0.4, 1.0), "The level file could not be opened:")
    imgui.text_wrapped(f"file: {err.source}")
    imgui.text_wrapped(f"JSON path: {err.field or '(whole file)'}")
    imgui.text_wrapped(f"expected: {err.expected}")
    imgui.separator()
    imgui.text_wrapped("The file was not changed. You are editing a new, unnamed level.")
    if imgui.button("Close"):
        app.load_error = None
    imgui.end()


def draw(app: EditorApp) -> None:
    """Build every panel for this frame."""
    from tools.editor.app import LEFT_W, MENU_H, RIGHT_W, STATUS_H

    w, h = app.size
    _menus(app)
    body_h = h - MENU_H - STATUS_H
    _outliner(app, 0, MENU_H, LEFT_W, body_h * 0.6)
    _palette(app, 0, MENU_H + body_h * 0.6, LEFT_W, body_h * 0.4)
    draw_inspector(app, w - RIGHT_W, MENU_H, RIGHT_W, body_h)
    _status(app, 0, h - STATUS_H, w, STATUS_H)
    _popups(app)
    _error_panel(app)

