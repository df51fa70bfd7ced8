"""The inspector panel: every component of the selection with the right widget per field.

Drags preview in place while the widget is held and become one command on release; every other
change is one command at once. Refused values show a red message in the status bar.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from imgui_bundle import imgui

from engine.splats.vocab import MATERIAL_NAMES, SHAPES, STATES
from tools.editor import prefabs
from tools.editor.commands import DELETE, SetField, SetTransforms, clean, normalised, quat_from_euler_deg

if TYPE_CHECKING:
    from tools.editor.app import EditorApp


def _rect(app: EditorApp, name: str) -> None:
    """Remember the last widget's screen rectangle (tests click widgets by name)."""
    a, b = imgui.get_item_rect_min(), imgui.get_item_rect_max()
    app.ui_rects[name] = (a.x, a.y, b.x, b.y)


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


def draw_inspector(app: EditorApp, x: float, y: float, w: float, h: float) -> None:
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
    if imgui.begin_combo("##addcomp", "Add component..."):
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
