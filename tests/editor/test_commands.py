"""Editor commands: every edit undoable exactly; refused edits change nothing; fuzzed sequences."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from engine.splats.vocab import MATERIAL_NAMES, SHAPES
from tools.editor.command_file import CommandRunner, parse_lines
from tools.editor.commands import History
from tools.editor.document import Document, new_level, read_level, to_bytes


def _level_with(n: int) -> dict:
    doc = Document(new_level("fuzz", seed=7))
    r = CommandRunner(History(doc))
    for i in range(n):
        r.run({"op": "spawn", "shape": SHAPES[i % len(SHAPES)], "material": MATERIAL_NAMES[i % 12], "pos": [i, 0.5, 0]})
    doc.data["entities"][0]["components"]["Proxy"]["state"] = {"wetness": 0.25}
    return doc.data


def _runner(data: dict) -> tuple[CommandRunner, Document]:
    doc = Document(json.loads(json.dumps(data)))
    return CommandRunner(History(doc)), doc


def test_place_move_restyle_undo_twice_redo_once_save(tmp_path):
    path = tmp_path / "t.level.json"
    r, doc = _runner(new_level("t"))
    ops = [
        {"op": "spawn", "shape": "box", "material": "stone", "pos": [0, 0.5, 0]},
        {"op": "move", "by": [2, 0, 0]},
        {"op": "set", "field": "Proxy.material", "value": "brick"},
        {"op": "undo"},
        {"op": "undo"},
        {"op": "redo"},
        {"op": "save", "path": str(path)},
    ]
    for op in ops:
        r.run(op)
    saved = read_level(path)
    (box,) = saved["entities"]
    assert box["uid"] == "box_1"
    assert box["components"]["Transform"]["pos"] == [2.0, 0.5, 0.0]
    assert box["components"]["Proxy"]["material"] == "stone"  # the restyle stayed undone
    assert not doc.dirty
    r.run({"op": "set", "field": "name", "value": "crate"})
    assert doc.dirty
    r.run({"op": "undo"})
    assert not doc.dirty  # back to the saved bytes: no false dirty marker


@pytest.mark.parametrize(
    "op, path",
    [
        ({"op": "set", "field": "Proxy.material", "value": "cheese"}, "material"),
        ({"op": "set", "field": "Proxy.half_extents", "value": [1, -1, 1]}, "half_extents[1]"),
        ({"op": "set", "field": "Proxy.state.wetness", "value": 1.5}, "state.wetness"),
        ({"op": "set", "field": "Proxy.state.glow", "value": 0.5}, "state.glow"),
        ({"op": "set", "field": "Proxy.shape", "value": "torus"}, "shape"),
        ({"op": "set", "field": "Transform.scale", "value": [1, 0, 1]}, "scale[1]"),
        ({"op": "set", "field": "Transform.rot", "value": [2, 0, 0, 0]}, "rot"),
        ({"op": "set", "field": "Proxy.style_seed", "value": -3}, "style_seed"),
        ({"op": "set", "field": "uid", "value": "sphere_1"}, "uid"),
        ({"op": "set", "field": "level.seed", "value": "x"}, "seed"),
        ({"op": "move", "to": [float("nan"), 0, 0]}, "pos[0]"),
        ({"op": "spawn", "shape": "box", "uid": "box_1"}, "uid"),
        ({"op": "select", "uids": ["ghost"]}, "uid"),
    ],
)
def test_invalid_values_are_refused_and_change_nothing(op, path):
    r, doc = _runner(_level_with(3))
    r.run({"op": "select", "uids": ["box_1"]})
    before = doc.to_bytes()
    with pytest.raises(InputError) as err:
        r.run(op)
    assert path in str(err.value)
    assert doc.to_bytes() == before
    assert r.history.undo_stack[-1].label == "select"  # nothing recorded


def test_delete_duplicate_copy_paste_between_levels():
    r1, d1 = _runner(_level_with(4))
    r1.run({"op": "select", "uids": ["sphere_1", "cylinder_1"]})
    r1.run({"op": "copy"})
    r1.run({"op": "duplicate"})
    assert d1.selection == ["sphere_2", "cylinder_2"]
    assert d1.entity("sphere_2")["components"]["Transform"]["pos"] == [2.0, 0.5, 0.0]
    r1.run({"op": "delete"})
    assert not d1.has("sphere_2")
    # paste into another level: uids made unique there, components unchanged
    r2, d2 = _runner(_level_with(2))
    r2.clipboard = r1.clipboard
    r2.run({"op": "paste"})
    assert d2.selection == ["sphere_2", "cylinder_1"]
    assert d2.entity("sphere_2")["components"] == d1.entity("sphere_1")["components"]


def test_delete_restores_position_in_list():
    data = _level_with(5)
    r, doc = _runner(data)
    r.run({"op": "delete", "uids": ["sphere_1", "capsule_1"]})
    assert [e["uid"] for e in doc.entities] == ["box_1", "cylinder_1", "plane_1"]
    r.run({"op": "undo"})
    assert doc.to_bytes() == to_bytes(data)


def test_commands_file_errors_name_the_line():
    with pytest.raises(InputError, match="line 2"):
        list(parse_lines('{"op":"undo"}\n{op: undo}\n'))
    with pytest.raises(InputError, match="line 1"):
        list(parse_lines("[1, 2]"))
    r, _ = _runner(new_level())
    with pytest.raises(InputError, match="known editor command"):
        r.run({"op": "explode"})
    with pytest.raises(InputError, match="editor window"):
        r.run({"op": "screenshot", "path": "x.png"})


uids = st.sampled_from(["box_1", "sphere_1", "cylinder_1", "capsule_1", "plane_1", "box_2", "ghost"])
vec = st.lists(st.floats(-50, 50, allow_nan=False), min_size=3, max_size=3)
bad_or_good = st.one_of(
    st.sampled_from(MATERIAL_NAMES), st.text(max_size=5), st.floats(allow_nan=True), st.integers(-5, 5), vec
)
fields = st.sampled_from(
    ["Proxy.material", "Proxy.shape", "Proxy.half_extents", "Proxy.state.wetness", "Proxy.style_seed",
     "Transform.pos", "Transform.scale", "name", "tags", "uid", "level.name", "level.seed", "Physics.mass"]
)
ops = st.one_of(
    st.builds(lambda s, m, p: {"op": "spawn", "shape": s, "material": m, "pos": p},
              st.sampled_from([*SHAPES, "torus"]), st.sampled_from(MATERIAL_NAMES), vec),
    st.builds(lambda u, add: {"op": "select", "uids": [u], "add": add}, uids, st.booleans()),
    st.builds(lambda v: {"op": "move", "by": v}, vec),
    st.builds(lambda v: {"op": "rotate", "by_deg": v}, vec),
    st.builds(lambda v: {"op": "scale", "to": v}, vec),
    st.builds(lambda f, v: {"op": "set", "field": f, "value": v}, fields, bad_or_good),
    st.builds(lambda f: {"op": "unset", "field": f}, fields),
    st.just({"op": "delete"}),
    st.just({"op": "duplicate"}),
    st.just({"op": "copy"}),
    st.just({"op": "paste"}),
    st.just({"op": "undo"}),
    st.just({"op": "redo"}),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, max_size=30))
def test_fuzzed_command_sequences_never_corrupt_the_level(sequence):
    data = _level_with(5)
    original = to_bytes(data)
    r, doc = _runner(data)
    states = []
    for op in sequence:
        try:
            r.run(op)
        except InputError:
            pass
        # the level is always valid (a refused edit never lands) and saveable
        from tools.editor.document import validate_level

        validate_level(doc.data)
        states.append(doc.to_bytes())
    # redo everything then undo everything: the original file, byte for byte
    while r.history.redo():
        pass
    while r.history.undo():
        pass
    assert doc.to_bytes() == original


def test_clipboard_survives_opening_another_level(tmp_path):
    a, b = tmp_path / "a.level.json", tmp_path / "b.level.json"
    r, doc = _runner(_level_with(2))
    doc.save(a)
    Document(new_level("b")).save(b)
    r.run({"op": "select", "uids": ["sphere_1"]})
    r.run({"op": "copy"})
    r.run({"op": "open", "path": str(b)})
    assert r.doc.path == b and not r.doc.entities and not r.history.undo_stack
    r.run({"op": "paste"})
    r.run({"op": "save"})
    (e,) = read_level(b)["entities"]
    assert e["uid"] == "sphere_1" and e["components"]["Proxy"]["shape"] == "sphere"
    r.run({"op": "undo"})
    assert r.doc.dirty and not r.doc.entities
