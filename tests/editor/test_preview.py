"""Live AI preview: only the edited anchor regenerates; moves never call the model; captures show."""

from __future__ import annotations

import pytest

from tools.editor.command_file import CommandRunner
from tools.editor.commands import History
from tools.editor.document import Document, new_level

pytestmark = pytest.mark.gl


class CountingGenerator:
    """The real world model, counting which anchors it is asked to paint."""

    def __init__(self):
        from systems.worldmodel_stage import make_generator

        self.inner = make_generator()
        self.calls: list[tuple] = []

    def generate(self, specs, lod):
        self.calls.append(tuple(s.key() for s in specs))
        return self.inner.generate(specs, lod)


@pytest.fixture(scope="module")
def preview_env():
    from engine.render.context import headless_context
    from systems.worldmodel_stage import WorldModelStage
    from tools.editor.preview import LivePreview
    from tools.editor.scene_view import SceneView

    ctx = headless_context()
    scene = SceneView(ctx)
    gen = CountingGenerator()
    stage = WorldModelStage(world_seed=3, generator=gen, threaded=False, min_lod=2, max_lod=2)
    preview = LivePreview(scene, 3, stage=stage)
    yield scene, preview, gen
    preview.close()


def test_only_the_edited_anchor_regenerates(preview_env):
    scene, preview, gen = preview_env
    doc = Document(new_level("p", seed=3))
    r = CommandRunner(History(doc))
    for i, m in enumerate(["stone", "brick", "wood_planks"]):
        r.run({"op": "spawn", "shape": "box", "material": m, "pos": [2 * i, 0.5, 0]})
    scene.sync(doc.entities)
    preview.update(None, doc.entities, wait=True)
    assert sorted(preview.regenerated) == ["box_1", "box_2", "box_3"]
    assert scene.splat_uids == {"box_1", "box_2", "box_3"}

    preview.regenerated.clear()
    n_calls = len(gen.calls)
    r.run({"op": "move", "uid": "box_1", "by": [0, 0, 3]})  # a move: an xform, no model call
    scene.sync(doc.entities)
    preview.update(None, doc.entities, wait=True)
    assert preview.regenerated == [] and len(gen.calls) == n_calls

    r.run({"op": "set", "uid": "box_2", "field": "Proxy.state.wetness", "value": 0.8})  # a restyle
    scene.sync(doc.entities)
    preview.update(None, doc.entities, wait=True)
    assert preview.regenerated == ["box_2"]
    assert all(len(c) == 1 for c in gen.calls[n_calls:])

    r.run({"op": "delete", "uid": "box_3"})
    scene.sync(doc.entities)
    preview.update(None, doc.entities, wait=True)
    assert "box_3" not in scene.splat_uids


def test_imported_capture_shows_its_own_splats(preview_env, tmp_path):
    from pathlib import Path

    scene, preview, gen = preview_env
    cap = Path("/work/shared/testdata/splats/loadersgl_train-1000.ply")
    if not cap.exists():
        pytest.skip("shared test captures not present")
    doc = Document(new_level("c"))
    r = CommandRunner(History(doc))
    r.run({"op": "import_splat", "path": str(cap), "pos": [0, 0, 0]})
    (e,) = doc.entities
    assert "static" in e["tags"] and e["components"]["RigidBody"]["kind"] == "static"
    assert e["components"]["SplatCapture"] == {"path": str(cap)}  # the engine draws it too
    assert not any(t.startswith("splat:") for t in e["tags"])
    n_calls = len(gen.calls)
    scene.sync(doc.entities)
    preview.update(None, doc.entities, wait=True)
    assert e["uid"] in scene.splat_uids and len(gen.calls) == n_calls  # the file, not the model
    with pytest.raises(Exception, match="splat capture"):
        r.run({"op": "import_splat", "path": str(tmp_path / "notes.txt")})


def test_capture_named_by_the_old_splat_tag_still_shows(preview_env, tmp_path):
    """Levels saved before the SplatCapture component named the file in a ``splat:<path>`` tag."""
    import numpy as np

    from engine.splats import GaussianSet, save_ply
    from tools.editor.prefabs import capture_path

    scene, preview, gen = preview_env
    n = 50
    rng = np.random.default_rng(0)
    gs = GaussianSet(rng.uniform(-0.3, 0.3, (n, 3)).astype(np.float32), np.full((n, 3), 0.05, np.float32),
                     np.tile(np.array([1, 0, 0, 0], np.float32), (n, 1)), np.full(n, 0.9, np.float32),
                     rng.uniform(-1, 1, (n, 1, 3)).astype(np.float32))
    save_ply(tmp_path / "old.ply", gs)
    e = {"uid": "old_capture", "name": "old", "tags": ["capture", f"splat:{tmp_path / 'old.ply'}", "static"],
         "components": {"Transform": {"pos": [0, 0, 0], "rot": [1, 0, 0, 0], "scale": [1, 1, 1]},
                        "Proxy": {"shape": "box", "half_extents": [0.3, 0.3, 0.3], "material": "stone",
                                  "style_seed": 0, "state": {}}}}
    assert capture_path(e) == str(tmp_path / "old.ply")
    n_calls = len(gen.calls)
    scene.sync([e])
    preview.update(None, [e], wait=True)
    assert "old_capture" in scene.splat_uids and len(gen.calls) == n_calls
