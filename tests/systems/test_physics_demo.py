"""games/physics_demo.py runs and does what its docstring says (the player is driven by input)."""

from __future__ import annotations

import math
from pathlib import Path

from engine.components import Proxy, Transform
from engine.input import ActionState
from engine.scripting import exec_script

DEMO = Path(__file__).resolve().parents[2] / "games" / "physics_demo.py"
FORWARD = ActionState(axes=(("move_z", 1.0),))


def _yaw(rot) -> float:
    w, _, y, _ = rot
    return math.degrees(2 * math.atan2(y, w))


def test_demo_docstring_says_how_to_run_it():
    assert "anchorworld run games/physics_demo.py" in DEMO.read_text().splitlines()[0]


def test_player_pushes_a_crate_and_the_pad_opens_the_gate():
    game = exec_script(DEMO)
    crate = game.find("crate-1")  # straight ahead of the player
    z0 = game.get(crate, Transform).pos[2]
    for _ in range(100):  # walk forward into the crate
        game.tick(FORWARD)
    assert game.get(crate, Transform).pos[2] > z0 + 1.0
    # step back from the crate, go around it to the pad (x = 1.6 clears the crates)
    player = game.find("player")
    game.get(player, Transform).pos = (2.0, 0.02, 5.0)
    for _ in range(5):
        game.tick()
    game.get(player, Transform).pos = (0.0, 0.02, 6.5)  # onto the pad
    entered = []
    game.on("trigger_enter")(lambda g, ev: entered.append(ev.other_uid))
    for _ in range(90):
        game.tick()
    assert "player" in entered
    assert game.get(game.find("pad"), Proxy).material == "roof_tiles"
    gate = game.find("gate")
    assert _yaw(game.get(gate, Transform).rot) > 60.0  # swung open
    game.get(player, Transform).pos = (4.0, 0.02, 0.0)  # off the pad
    for _ in range(180):
        game.tick()
    assert game.get(game.find("pad"), Proxy).material == "metal"
    assert abs(_yaw(game.get(gate, Transform).rot)) < 10.0  # shut again
