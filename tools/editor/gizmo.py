"""Translate / rotate / scale gizmos (ImGuizmo) over the viewport; one drag = one undo step.

During a drag the selected entities' transforms are written straight into the document as a
preview; on release they are put back and a single ``SetTransforms`` command carries the result
through the history, so undo returns to the pose before the drag.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
from imgui_bundle import imgui, imguizmo

from engine.render.camera import Camera
from tools.editor.commands import History, SetTransforms, clean
from tools.editor.document import Json
from tools.editor.picking import entity_matrix

gz = imguizmo.im_guizmo

OPERATIONS = {"translate": gz.OPERATION.translate, "rotate": gz.OPERATION.rotate, "scale": gz.OPERATION.scale}
MODES = {"local": gz.MODE.local, "world": gz.MODE.world}


def matrix_to_transform(m: np.ndarray) -> dict[str, list[float]]:
    """Split a 4×4 T·R·S matrix into a level Transform (pos, unit quaternion w-first, scale)."""
    pos = m[:3, 3]
    scale = np.linalg.norm(m[:3, :3], axis=0)
    r = m[:3, :3] / np.where(scale > 1e-12, scale, 1.0)[None, :]
    if np.linalg.det(r) < 0:  # keep a proper rotation; fold the reflection into the scale
        scale[0], r[:, 0] = -scale[0], -r[:, 0]
    tr = np.trace(r)
    if tr > 0:
        s = math.sqrt(tr + 1.0) * 2
        q = [0.25 * s, (r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s]
    elif r[0, 0] > r[1, 1] and r[0, 0] > r[2, 2]:
        s = math.sqrt(1.0 + r[0, 0] - r[1, 1] - r[2, 2]) * 2
        q = [(r[2, 1] - r[1, 2]) / s, 0.25 * s, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s]
    elif r[1, 1] > r[2, 2]:
        s = math.sqrt(1.0 + r[1, 1] - r[0, 0] - r[2, 2]) * 2
        q = [(r[0, 2] - r[2, 0]) / s, (r[0, 1] + r[1, 0]) / s, 0.25 * s, (r[1, 2] + r[2, 1]) / s]
    else:
        s = math.sqrt(1.0 + r[2, 2] - r[0, 0] - r[1, 1]) * 2
        q = [(r[1, 0] - r[0, 1]) / s, (r[0, 2] + r[2, 0]) / s, (r[1, 2] + r[2, 1]) / s, 0.25 * s]
    q = np.asarray(q)
    q /= np.linalg.norm(q)
    if q[0] < 0:
        q = -q
    return {"pos": clean(pos.tolist(), 5), "rot": clean(q.tolist(), 6), "scale": clean(scale.tolist(), 5)}


def _m16(m: np.ndarray) -> gz.Matrix16:
    return gz.Matrix16(np.asarray(m, np.float64).T.reshape(-1).tolist())  # column-major for ImGuizmo


@dataclass
class Gizmo:
    """Gizmo state: operation, space, snapping, and the drag in progress."""

    operation: str = "translate"
    space: str = "world"
    snap: bool = False
    grid_snap: float = 0.5  # metres
    angle_snap: float = 15.0  # degrees
    scale_snap: float = 0.1  # ratio
    _start: dict[str, dict[str, Json]] = field(default_factory=dict)
    _start_primary: np.ndarray | None = None
    dragging: bool = False

    def snap_values(self) -> list[float]:
        """The 3 snap values ImGuizmo expects for the current operation."""
        v = {"translate": self.grid_snap, "rotate": self.angle_snap, "scale": self.scale_snap}[self.operation]
        return [v, v, v]

    def manipulate(
        self, history: History, camera: Camera, rect: tuple[float, float, float, float], force_snap: bool = False
    ) -> bool:
        """Draw and run the gizmo for the selection; returns whether a drag is in progress."""
        doc = history.doc
        sel = [u for u in doc.selection if doc.has(u)]
        if not sel:
            self.dragging = False
            return False
        gz.set_drawlist(imgui.get_background_draw_list())
        gz.set_rect(*rect)
        gz.set_orthographic(False)
        primary = doc.entity(sel[-1])
        obj = _m16(entity_matrix(primary))
        snap = gz.Matrix3(self.snap_values()) if (self.snap or force_snap) else None
        gz.manipulate(
            _m16(camera.gl_view), _m16(camera.gl_projection), OPERATIONS[self.operation], MODES[self.space],
            obj, None, snap,
        )
        using = gz.is_using()
        if using and not self.dragging:
            self.dragging = True
            self._start = {u: copy.deepcopy(doc.entity(u)["components"].get("Transform")) for u in sel}
            self._start_primary = entity_matrix(primary)
        if using:
            new_primary = np.asarray(obj.values, np.float64).reshape(4, 4).T
            self._preview(doc, sel, new_primary)
        elif self.dragging:
            self.dragging = False
            self.finish(history)
        return self.dragging

    def _preview(self, doc, sel: list[str], new_primary: np.ndarray) -> None:
        assert self._start_primary is not None
        delta = new_primary @ np.linalg.inv(self._start_primary)
        for u in sel:
            start = self._start.get(u)
            if start is None:
                continue
            m0 = entity_matrix({"components": {"Transform": start}})
            m1 = new_primary if u == sel[-1] else delta @ m0
            t = matrix_to_transform(m1)
            if all(math.isfinite(x) for v in t.values() for x in v) and min(abs(s) for s in t["scale"]) > 1e-4:
                doc.entity(u)["components"]["Transform"] = t

    def finish(self, history: History) -> None:
        """End a drag: restore the start poses, then record the final ones as one command."""
        doc = history.doc
        final = {}
        for u, start in self._start.items():
            if not doc.has(u):
                continue
            final[u] = doc.entity(u)["components"]["Transform"]
            doc.entity(u)["components"]["Transform"] = start
        self._start = {}
        if final and any(final[u] != doc.entity(u)["components"]["Transform"] for u in final):
            history.execute(SetTransforms(final, label=f"gizmo {self.operation}"))
