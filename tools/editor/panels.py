"""The editor's ImGui panels: menus, outliner, inspector, palette, status bar, prompts, error panel."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from imgui_bundle import imgui

from engine.errors import InputError
from engine.splats.vocab import MATERIAL_NAMES, SHAPES, STATES
from tools.editor import prefabs
from tools.editor.commands import (
    DELETE,
    Batch,
    SetField,
    SetTransforms,
    Spawn,
    clean,
    normalised,
    quat_from_euler_deg,
)

if TYPE_CHECKING:
    from tools.editor.app import EditorApp

PHYSICS_DEFAULTS: dict[str, dict[str, Any]] = {
    "RigidBody": {"kind": "dynamic", "density": 1000.0},
    "Collider": {"shape": "proxy", "friction": 0.5, "restitution": 0.0, "sensor": False},
    "CharacterController": {},
    "Joint": {"kind": "hinge", "other": ""},
}
ENUM_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("RigidBody", "kind"): ("dynamic", "kinematic", "static"),
    ("Collider", "shape"): ("proxy", "box", "sphere", "capsule", "cylinder", "hull", "trimesh"),
    ("Joint", "kind"): ("fixed", "hinge", "ball", "prismatic"),
}


def open_path_popup(app: EditorApp, title: str) -> None:
    """Ask for a file path (Open level / Save level as / Import capture)."""
    app._path_popup = title
    app.path_input = str(app.doc.path) if (title.startswith("Save") and app.doc.path) else ""


def _live_commit(app: EditorApp, uid: str, path: tuple, value: Any, key: str) -> None:
    """Inspector drags: preview in place while the widget is active, one command on release."""
    live = app.__dict__.setdefault("_live", {})
    ent = app.doc.entity(uid)
    parent = ent
    for k in path[:-1]:
        parent = parent[k]
    if key not in live:
        live[key] = (uid, path, parent.get(path[-1], DELETE) if isinstance(parent, dict) else parent[path[-1]])
    parent[path[-1]] = value


def _live_end(app: EditorApp, key: str) -> None:
    live = app.__dict__.setdefault("_live", {})
    if key not in live:
        return
    uid, path, old = live.pop(key)
    ent = app.doc.entity(uid)
    parent = ent
    for k in path[:-1]:
        parent = parent[k]
    final = parent[path[-1]]
    if old is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = old
    if final != old:
        app.execute(SetField(uid, path, final, label=f"set {'.'.join(map(str, path[1:]))}"))


def _rect(app: EditorApp, name: str) -> None:
    """Remember the last widget's screen rectangle (tests click widgets by name)."""
    a, b = imgui.get_item_rect_min(), imgui.get_item_rect_max()
    app.ui_rects[name] = (a.x, a.y, b.x, b.y)


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


def _component_generic(app: EditorApp, uid: str, name: str, comp: dict[str, Any]) -> None:
    for key, val in list(comp.items()):
        path = ("components", name, key)
        wid = f"{key}##{uid}.{name}.{key}"
        enum = ENUM_FIELDS.get((name, key))
        if enum:
            if imgui.begin_combo(wid, str(val)):
                for opt in enum:
                    if imgui.selectable(opt, opt == val)[0] and opt != val:
                        app.execute(SetField(uid, path, opt))
                imgui.end_combo()
        elif isinstance(val, bool):
            changed, nv = imgui.checkbox(wid, val)
            if changed:
                app.execute(SetField(uid, path, nv))
        elif isinstance(val, int) and -(2**31) <= val < 2**31:
            changed, nv = imgui.input_int(wid, val)
            if changed:
                app.execute(SetField(uid, path, nv))
        elif isinstance(val, int):  # 32-bit masks and other wide integers: typed as text
            changed, txt = imgui.input_text(wid, hex(val) if val >= 0 else str(val), imgui.InputTextFlags_.enter_returns_true)
            if changed:
                try:
                    app.execute(SetField(uid, path, int(txt, 0)))
                except ValueError:
                    app.notify(f"refused: {key}: an integer, got {txt!r}", error=True)
        elif isinstance(val, float):
            changed, nv = imgui.drag_float(wid, val, 0.01)
            if changed:
                _live_commit(app, uid, path, float(nv), wid)
            if imgui.is_item_deactivated():
                _live_end(app, wid)
        elif isinstance(val, str):
            changed, nv = imgui.input_text(wid, val, imgui.InputTextFlags_.enter_returns_true)
            if changed:
                app.execute(SetField(uid, path, nv))
        elif isinstance(val, list) and val and all(isinstance(v, bool) for v in val):
            imgui.text(key)
            for i, b in enumerate(val):
                imgui.same_line()
                changed, nb = imgui.checkbox(f"{'xyzw'[i] if i < 4 else i}##{wid}{i}", b)
                if changed:
                    app.execute(SetField(uid, path, [nb if j == i else v for j, v in enumerate(val)]))
        elif isinstance(val, list) and len(val) in (2, 3, 4) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in val):
            fn = {2: imgui.drag_float2, 3: imgui.drag_float3, 4: imgui.drag_float4}[len(val)]
            changed, nv = fn(wid, [float(v) for v in val], 0.01)
            if changed:
                _live_commit(app, uid, path, clean(list(nv), 5), wid)
            if imgui.is_item_deactivated():
                _live_end(app, wid)
        else:
            imgui.text(f"{key}: {val!r}"[:80])


def _transform(app: EditorApp, uid: str, t: dict[str, Any]) -> None:
    changed, pos = imgui.drag_float3(f"position##{uid}", [float(v) for v in t["pos"]], 0.05)
    if changed:
        _live_commit(app, uid, ("components", "Transform", "pos"), clean(list(pos), 5), "pos")
    if imgui.is_item_deactivated():
        _live_end(app, "pos")
    w, x, y, z = t["rot"]
    # Euler (XYZ, degrees) shown for editing; stored as a quaternion.
    rx = math.degrees(math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y)))
    ry = math.degrees(math.asin(max(-1.0, min(1.0, 2 * (w * y - z * x)))))
    rz = math.degrees(math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))
    changed, eul = imgui.input_float3(
        f"rotation°##{uid}", [round(rx, 3), round(ry, 3), round(rz, 3)], "%.2f", imgui.InputTextFlags_.enter_returns_true
    )
    if changed:
        q = normalised(quat_from_euler_deg(*eul))
        app.execute(SetTransforms({uid: {**t, "rot": q}}, label="rotate"))
    changed, sc = imgui.drag_float3(f"scale##{uid}", [float(v) for v in t["scale"]], 0.01)
    if changed:
        _live_commit(app, uid, ("components", "Transform", "scale"), clean(list(sc), 5), "scale")
    if imgui.is_item_deactivated():
        _live_end(app, "scale")


def _proxy(app: EditorApp, uid: str, p: dict[str, Any]) -> None:
    base = ("components", "Proxy")
    if imgui.begin_combo(f"shape##{uid}", p["shape"]):
        for s in SHAPES:
            if imgui.selectable(s, s == p["shape"])[0] and s != p["shape"]:
                app.execute(SetField(uid, (*base, "shape"), s, label="set shape"))
        imgui.end_combo()
    changed, he = imgui.drag_float3(f"half-extents##{uid}", [float(v) for v in p["half_extents"]], 0.02)
    if changed:
        if min(he) > 0:
            _live_commit(app, uid, (*base, "half_extents"), clean(list(he), 4), "he")
        else:
            app.notify("refused: half-extents must be > 0", error=True)
    if imgui.is_item_deactivated():
        _live_end(app, "he")
    opened = imgui.begin_combo(f"material##{uid}", p["material"])
    _rect(app, "material")
    if opened:
        for m in MATERIAL_NAMES:
            if imgui.selectable(m, m == p["material"])[0] and m != p["material"]:
                app.execute(SetField(uid, (*base, "material"), m, label="set material"))
            _rect(app, f"material:{m}")
        imgui.end_combo()
    changed, seed = imgui.input_int(f"style seed##{uid}", min(int(p.get("style_seed", 0)), 2**31 - 1))
    if changed:
        app.execute(SetField(uid, (*base, "style_seed"), int(seed), label="set style seed"))
    state = p.get("state", {})
    for s in STATES:
        changed, v = imgui.slider_float(f"{s}##{uid}", float(state.get(s, 0.0)), 0.0, 1.0)
        key = f"state.{s}"
        if changed:
            _live_commit(app, uid, (*base, "state", s), round(float(v), 3), key)
        if imgui.is_item_deactivated():
            _live_end(app, key)


def _inspector(app: EditorApp, x: float, y: float, w: float, h: float) -> None:
    imgui.set_next_window_pos((x, y))
    imgui.set_next_window_size((w, h))
    flags = imgui.WindowFlags_.no_move | imgui.WindowFlags_.no_resize | imgui.WindowFlags_.no_collapse
    imgui.begin("Inspector", None, flags)
    doc = app.doc
    sel = [u for u in doc.selection if doc.has(u)]
    if not sel:
        _level_fields(app)
        imgui.end()
        return
    if len(sel) > 1:
        imgui.text(f"{len(sel)} selected; editing the last one")
    uid = sel[-1]
    e = doc.entity(uid)
    changed, nuid = imgui.input_text("uid", uid, imgui.InputTextFlags_.enter_returns_true)
    if changed and nuid != uid:
        app.execute(SetField(uid, ("uid",), nuid, label="rename uid"))
        imgui.end()
        return
    changed, name = imgui.input_text("name", str(e.get("name", "")), imgui.InputTextFlags_.enter_returns_true)
    if changed:
        app.execute(SetField(uid, ("name",), name, label="rename"))
    changed, tags = imgui.input_text("tags", ", ".join(e.get("tags", [])), imgui.InputTextFlags_.enter_returns_true)
    if changed:
        app.execute(SetField(uid, ("tags",), [t.strip() for t in tags.split(",") if t.strip()], label="set tags"))
    comps = e.get("components", {})
    for cname in list(comps):
        opened = imgui.collapsing_header(f"{cname}##{uid}", imgui.TreeNodeFlags_.default_open)
        if cname not in ("Transform", "Proxy") and imgui.begin_popup_context_item(f"ctx{cname}"):
            if imgui.menu_item("Remove component", "", False)[0]:
                app.execute(SetField(uid, ("components", cname), DELETE, label=f"remove {cname}"))
            imgui.end_popup()
        if not opened or cname not in comps:
            continue
        if cname == "Transform":
            _transform(app, uid, comps[cname])
        elif cname == "Proxy":
            _proxy(app, uid, comps[cname])
        else:
            _component_generic(app, uid, cname, comps[cname])
    imgui.separator()
    if imgui.begin_combo("##addcomp", "Add component…"):
        for cname, default in PHYSICS_DEFAULTS.items():
            if cname not in comps and imgui.selectable(cname, False)[0]:
                kw = {}
                if cname == "Joint":  # a joint needs its other body: the other selected entity, else any
                    others = [u for u in sel if u != uid] or [x["uid"] for x in doc.entities if x["uid"] != uid]
                    kw = {"kind": "hinge", "other": others[0] if others else ""}
                app.execute(SetField(uid, ("components", cname), _component_defaults(cname, {**default, **kw}, kw)))
        if "Proxy" not in comps and imgui.selectable("Proxy", False)[0]:
            app.execute(SetField(uid, ("components", "Proxy"), prefabs.proxy_entity(app.doc)["components"]["Proxy"]))
        imgui.end_combo()
    imgui.end()


def _component_defaults(name: str, fallback: dict[str, Any], kw: dict[str, Any] | None = None) -> dict[str, Any]:
    """The engine's encoded defaults of a registered component (with ``kw``), else ``fallback``."""
    try:
        from engine import physics_components, registry

        cls = getattr(physics_components, name, None)
        if cls is not None and registry.is_registered(cls):
            enc = registry.encode_component(cls(**(kw or {})))
            if isinstance(enc, dict):
                return enc
    except Exception:  # noqa: BLE001 - the registry is someone else's and may change; fall back
        pass
    return dict(fallback)


def _level_fields(app: EditorApp) -> None:
    d = app.doc.data
    imgui.text("Level")
    changed, name = imgui.input_text("level name", str(d.get("name", "")), imgui.InputTextFlags_.enter_returns_true)
    if changed:
        app.execute(SetField(None, ("name",), name, label="rename level"))
    changed, seed = imgui.input_int("world seed", min(int(d.get("seed", 0)), 2**31 - 1))
    if changed:
        app.execute(SetField(None, ("seed",), int(seed), label="set seed"))
    changed, script = imgui.input_text("game script", str(d.get("script") or ""), imgui.InputTextFlags_.enter_returns_true)
    if changed:
        app.execute(SetField(None, ("script",), script or None, label="set script"))
    ps = d.get("player_start") or {"pos": [0.0, 1.0, 0.0], "yaw": 0.0}
    changed, pos = imgui.input_float3("player start", [float(v) for v in ps["pos"]], "%.2f", imgui.InputTextFlags_.enter_returns_true)
    if changed:
        app.execute(SetField(None, ("player_start",), {**ps, "pos": clean(list(pos), 4)}, label="move player start"))
    imgui.text_disabled("Select an entity to edit its components.")


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
    _inspector(app, w - RIGHT_W, MENU_H, RIGHT_W, body_h)
    _status(app, 0, h - STATUS_H, w, STATUS_H)
    _popups(app)
    _error_panel(app)


__all__ = ["draw", "open_path_popup", "Batch", "Spawn"]
