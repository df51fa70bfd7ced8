"""Physics demo: push crates, step on the pad, the gate swings open. Run: anchorworld run games/physics_demo.py

WASD / arrows walk (Rapier's character controller: it climbs the low step, not the high one),
the mouse looks, Space jumps. Walk into the crates to shove them. Stand on the metal pad (a
trigger volume) and the wooden gate ahead swings open on its hinge motor; step off and it closes.
The gate only swings within its hinge limits, however hard you push it.
"""

from __future__ import annotations

import math

from engine import Game
from engine.physics_components import Collider, Joint, RigidBody

game = Game(seed=7, name="physics demo")
game.ground(size=30)
player = game.player(pos=(0, 0.02, 0))

# three light crates in the way, and a low step you can climb and a high one you cannot
for i in range(3):
    game.box(pos=(i * 1.2 - 1.2, 0.4, 3), half_extents=(0.4, 0.4, 0.4), material="wood_planks",
             physics="dynamic", uid=f"crate-{i}")
game.box(pos=(-4, 0.1, 5), half_extents=(1.5, 0.1, 1.5), material="stone", physics="static", uid="low-step")
game.box(pos=(4, 0.3, 5), half_extents=(1.5, 0.3, 1.5), material="brick", physics="static", uid="high-step")

# the pad: a thin plate with a sensor volume above it
pad = game.shape("plane", pos=(0, 0.01, 7), half_extents=(1.0, 0.02, 1.0), material="metal", uid="pad")
game.set(pad, Collider("box", half_extents=(1.0, 1.0, 1.0), offset=(0.0, 1.0, 0.0), sensor=True))

# the gate: a dynamic panel hinged on a static post, with a motor that holds it shut
GATE_CLOSED, GATE_OPEN = 0.0, math.radians(100)
game.box(pos=(-1.0, 1.0, 10), half_extents=(0.08, 1.0, 0.08), material="stone", uid="gate-post",
         components=(RigidBody("static"), Collider("box", half_extents=(0.08, 1.0, 0.08))))


def gate_joint(target: float) -> Joint:
    """The gate's hinge, its motor driving it towards ``target`` radians."""
    return Joint("hinge", other="gate-post", anchor=(-0.95, 0.0, 0.0), other_anchor=(0.0, 0.0, 0.0),
                 axis=(0.0, 1.0, 0.0), limits=(-0.05, math.radians(110)),
                 motor_target=target, motor_stiffness=60.0, motor_damping=8.0)


gate = game.box(pos=(0.0, 1.0, 10), half_extents=(0.9, 0.9, 0.05), material="wood_planks", uid="gate",
                components=(RigidBody("dynamic", density=200.0), Collider("box", half_extents=(0.9, 0.9, 0.05)),
                            gate_joint(GATE_CLOSED)))


@game.on("trigger_enter")
def pad_pressed(g: Game, ev) -> None:
    if ev.sensor_uid == "pad" and ev.other_uid == "player":
        g.restyle(pad, material="roof_tiles")
        g.set(gate, gate_joint(GATE_OPEN))


@game.on("trigger_exit")
def pad_released(g: Game, ev) -> None:
    if ev.sensor_uid == "pad" and ev.other_uid == "player":
        g.restyle(pad, material="metal")
        g.set(gate, gate_joint(GATE_CLOSED))


game.run()
