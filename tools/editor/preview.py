"""Live AI preview: the editor's entities → LayoutDeltas → the world-model stage → SplatDeltas →
the viewport's splat pass.

Only what changed is sent: a restyle (shape, size, material, style seed, state) regenerates that
one anchor on the stage's worker thread; a move is an ``xform`` and never touches the model. The
proxy stands in until the anchor's Gaussians arrive, and ``update`` never waits for the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tools.editor.document import Json


def _entry(e: dict[str, Json]) -> Any:
    from engine.components import Proxy, Transform
    from engine.layout import LayoutEntry

    c = e["components"]
    t = c.get("Transform") or {"pos": [0, 0, 0], "rot": [1, 0, 0, 0], "scale": [1, 1, 1]}
    p = c["Proxy"]
    return LayoutEntry(
        e["uid"],
        Transform(t["pos"], t["rot"], t["scale"]),
        Proxy(p["shape"], p["half_extents"], p["material"], int(p.get("style_seed", 0)), dict(p.get("state", {}))),
    )


def layout_delta(
    seen: dict[str, tuple[Any, Any]], entities: list[dict[str, Json]], tick: int
) -> Any:
    """The ``LayoutDelta`` from ``seen`` (uid → (proxy key, transform key), updated in place) to ``entities``."""
    from engine.layout import LayoutDelta

    d = LayoutDelta(tick)
    alive = set()
    from tools.editor.prefabs import capture_path

    for e in entities:
        comps = e.get("components", {})
        p = comps.get("Proxy")
        if p is None or capture_path(e) is not None:  # captures show their own splats
            continue
        uid = e["uid"]
        alive.add(uid)
        t = comps.get("Transform")
        pkey = (p["shape"], tuple(p["half_extents"]), p["material"], p.get("style_seed", 0),
                tuple(sorted((p.get("state") or {}).items())))
        tkey = (tuple(t["pos"]), tuple(t["rot"]), tuple(t["scale"])) if t else None
        old = seen.get(uid)
        if old is None:
            d.spawned.append(_entry(e))
        elif old[0] != pkey:
            d.restyled.append(_entry(e))
        elif old[1] != tkey:
            d.moved.append((uid, _entry(e).transform))
        seen[uid] = (pkey, tkey)
    for uid in sorted(set(seen) - alive):
        del seen[uid]
        d.removed.append(uid)
    return d


class LivePreview:
    """Feeds the world-model stage from the edited level and applies its messages to a SceneView."""

    def __init__(self, scene: Any, world_seed: int, stage: Any = None) -> None:
        from engine.splats.wire import SplatScene
        from systems.worldmodel_stage import WorldModelStage

        self.scene = scene
        self.stage = stage or WorldModelStage(world_seed=world_seed, budget=4)
        self.mirror = SplatScene("editor-preview", sink=self)
        self.seen: dict[str, tuple[Any, Any]] = {}
        self.tick = 0
        self.regenerated: list[str] = []  # uids whose Gaussians arrived (latest last)
        self.captures: dict[str, str] = {}  # uid → capture path shown

    @property
    def pending(self) -> int:
        """Generations not yet shown."""
        return int(self.stage.pending)

    def update(self, app: Any, entities: list[dict[str, Json]], wait: bool = False) -> None:
        """Once per frame: publish what changed, take whatever the model finished (``wait``: all of it)."""
        self._sync_captures(app, entities)
        delta = layout_delta(self.seen, entities, self.tick)
        self.tick += 1
        if delta:
            self.stage.consume(delta)
        eye = app.camera.eye() if app is not None else np.zeros(3)
        msg = self.stage.flush(eye) if wait else self.stage.frame(eye)
        if msg:
            self.mirror.apply_bytes(msg)

    def _sync_captures(self, app: Any, entities: list[dict[str, Json]]) -> None:
        """Imported splat captures: load each file once and show it at its entity's transform."""
        from pathlib import Path

        from engine.errors import InputError
        from engine.splats import io as splat_io
        from tools.editor.picking import entity_matrix
        from tools.editor.prefabs import capture_path

        alive = set()
        for e in entities:
            path = capture_path(e)
            if path is None:
                continue
            alive.add(e["uid"])
            if self.captures.get(e["uid"]) == path:
                continue
            p = Path(path)
            doc_path = getattr(getattr(app, "doc", None), "path", None)
            if not p.is_absolute() and not p.exists() and doc_path is not None:
                p = doc_path.parent / p
            self.captures[e["uid"]] = path
            try:
                gs = splat_io.load(p)
            except (InputError, OSError) as exc:
                if app is not None:
                    app.notify(f"capture {path}: {exc}", error=True)
                continue
            self.scene.set_splats(e["uid"], gs, entity_matrix(e))
        for uid in list(self.captures):
            if uid not in alive:
                del self.captures[uid]
                self.scene.remove_splats(uid)

    # -- SplatScene sink ------------------------------------------------------------------------
    def on_proxy(self, op: Any) -> None:
        """Proxies come from the document directly (SceneView.sync)."""

    def on_set(self, op: Any, matrix: Any) -> None:
        """New Gaussians for one anchor."""
        m = matrix if matrix is not None else np.eye(4, dtype=np.float32)
        self.scene.set_splats(op.anchor, op.gaussians, np.asarray(m, np.float32))
        self.regenerated.append(op.anchor)

    def on_remove(self, anchor: str) -> None:
        """An anchor is gone."""
        self.scene.remove_splats(anchor)

    def on_xform(self, op: Any) -> None:
        """An anchor moved: its Gaussians follow without the model."""
        self.scene.xform_splats(op.anchor, op.matrix)

    def close(self) -> None:
        """Stop the stage's worker thread."""
        self.stage.close()
