"""The ordered system registry: the one place that says what runs in a tick, and in which order.

A tick runs these stages in order (``SLOTS``):

1. ``scripts``    — per-tick callbacks, entity ``Script``s, player input → desired motion
2. ``physics``    — rapier3d step, transforms written back (owned by the physics feature)
3. ``rules``      — timers and game rules/triggers
4. ``layout``     — change tracking: publishes this tick's ``LayoutDelta`` (``game.layout_delta``)
                    and hands it to every system's optional ``on_layout(delta)``
5. ``worldmodel`` — world-model stage: restyled/spawned proxies → Gaussians (owned by the hybrid loop)
6. ``camera``     — decides ``game.view`` from the active camera entity

A system follows the ``System`` protocol. Optional stages are imported lazily; when their module is
not there (not built yet, or a dependency missing) the slot is skipped, so the engine still runs.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class System(Protocol):
    """A stage of the tick. Optional methods: ``save_state() -> msgpack-able``, ``load_state(state)``,
    ``on_layout(delta)``."""

    name: str

    def attach(self, game: Any) -> None:
        """Called once when the game is created."""

    def tick(self, game: Any, dt: float) -> None:
        """Run one fixed tick of ``dt`` seconds."""


# (name, module, class, required). Order here IS the tick order.
SLOTS: tuple[tuple[str, str, str, bool], ...] = (
    ("scripts", "systems.scripts", "ScriptSystem", True),
    ("physics", "systems.physics", "PhysicsSystem", False),
    ("rules", "systems.rules", "RulesSystem", True),
    ("layout", "systems.layout", "LayoutSystem", True),
    ("worldmodel", "systems.worldmodel_stage", "WorldModelStage", False),
    ("camera", "systems.camera", "CameraSystem", True),
)


def available(name: str) -> bool:
    """Whether the slot's module can be imported here."""
    for n, module, cls, _ in SLOTS:
        if n == name:
            try:
                return hasattr(importlib.import_module(module), cls)
            except ImportError:
                return False
    return False


def build_systems(only: list[str] | None = None) -> list[System]:
    """Instantiate the systems in tick order (``only``: a subset of slot names, e.g. for benchmarks)."""
    out: list[System] = []
    for name, module, cls, required in SLOTS:
        if only is not None and name not in only:
            continue
        try:
            mod = importlib.import_module(module)
            klass = getattr(mod, cls)
        except (ImportError, AttributeError) as exc:
            if required:
                raise
            missing = getattr(exc, "name", None) or ""
            if isinstance(exc, ImportError) and missing and not module.startswith(missing) and not missing.startswith(module):
                raise  # the stage exists but one of its own imports is broken: say so
            continue
        out.append(klass())
    return out
