"""Level files in the editor: corrupt input gives InputError, atomic saves, recent files, autosave,
and the gizmo's matrix → transform split."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from tools.editor import files
from tools.editor.commands import quat_from_euler_deg
from tools.editor.document import Document, read_level
from tools.editor.gizmo import matrix_to_transform
from tools.editor.picking import entity_matrix, pick, pixel_ray


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_corrupt_level_bytes_give_input_error(tmp_path_factory, raw):
    p = tmp_path_factory.mktemp("lv") / "x.level.json"
    p.write_bytes(raw)
    with pytest.raises(InputError):
        read_level(p)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-100, 100), min_size=3, max_size=3),
    st.lists(st.floats(-180, 180), min_size=3, max_size=3),
    st.lists(st.floats(0.05, 20), min_size=3, max_size=3),
)
def test_gizmo_matrix_split_round_trips(pos, euler, scale):
    t = {"pos": pos, "rot": quat_from_euler_deg(*euler), "scale": scale}
    m = entity_matrix({"components": {"Transform": t}})
    back = matrix_to_transform(m)
    m2 = entity_matrix({"components": {"Transform": back}})
    assert np.allclose(m, m2, atol=1e-3 * max(1.0, np.abs(m).max()))
    assert abs(np.linalg.norm(back["rot"]) - 1.0) < 1e-5


def test_save_is_atomic_and_refuses_invalid_levels(tmp_path):
    p = tmp_path / "a.level.json"
    doc = Document.open(p)  # a new file: created on first save
    assert not p.exists() and doc.dirty  # never saved: a quit would prompt
    doc.save()
    good = p.read_bytes()
    doc.data["entities"].append({"uid": "x", "name": "", "tags": [], "components": {"Proxy": {"shape": "cube"}}})
    with pytest.raises(InputError, match="shape"):
        doc.save()
    assert p.read_bytes() == good  # the previous file is intact
    assert not list(tmp_path.glob("*.tmp"))


def test_recent_files_and_autosave(tmp_path, monkeypatch):
    monkeypatch.setenv("ANCHORWORLD_CONFIG_DIR", str(tmp_path / "cfg"))
    assert files.recent_files() == []
    for name in ("a", "b", "a"):
        files.remember(tmp_path / f"{name}.level.json")
    assert [r.rsplit("/", 1)[1] for r in files.recent_files()] == ["a.level.json", "b.level.json"]
    (tmp_path / "cfg" / "editor_recent.json").write_text("{not json")
    assert files.recent_files() == []
    doc = Document.open(tmp_path / "lvl.level.json")
    doc.save()
    assert files.autosave(doc) is None  # clean: nothing to back up
    doc.data["name"] = "changed"
    doc.revision += 1
    backup = files.autosave(doc)
    assert backup == tmp_path / "lvl.level.json.autosave"
    assert json.loads(backup.read_bytes())["name"] == "changed"
    assert read_level(tmp_path / "lvl.level.json")["name"] == "lvl"  # the level itself untouched


def test_click_picks_the_nearest_proxy():
    from engine.render.camera import Camera

    near = {"uid": "near", "components": {"Transform": {"pos": [0, 0, 2], "rot": [1, 0, 0, 0], "scale": [1, 1, 1]},
                                           "Proxy": {"half_extents": [0.5, 0.5, 0.5]}}}
    far = {"uid": "far", "components": {"Transform": {"pos": [0, 0, -2], "rot": [1, 0, 0, 0], "scale": [1, 1, 1]},
                                         "Proxy": {"half_extents": [0.5, 0.5, 0.5]}}}
    cam = Camera((0, 0, 10), (0, 0, 0), 200, 100)
    o, d = pixel_ray(cam, 100, 50)
    assert pick([far, near], o, d) == "near"
    assert pick([far, near], o, d, skip={"near"}) == "far"
    o, d = pixel_ray(cam, 5, 5)  # the corner of the view misses both
    assert pick([far, near], o, d) is None
