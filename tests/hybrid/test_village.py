"""The village's rules, played through the public API (no rendering): rain, crates, torch, items, door."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.components import Proxy, Transform
from engine.scripting import load_game

VILLAGE = Path(__file__).resolve().parents[2] / "games" / "village.py"


@pytest.fixture
def game():
    g = load_game(VILLAGE)
    yield g
    g.system("worldmodel").close()


def state(g, uid: str, name: str) -> float:
    return float(g.get(g.find(uid), Proxy).state.get(name, 0.0))


def run(g, seconds: float, action=None) -> None:
    for _ in range(round(seconds * 60)):
        g.tick(action)


def test_level_has_the_promised_village() -> None:
    import json

    doc = json.loads(VILLAGE.with_name("village.level.json").read_text())
    ents = doc["entities"]
    assert len(ents) >= 40
    mats = {e["components"]["Proxy"]["material"] for e in ents}
    assert {"plaster", "brick", "roof_tiles", "bark", "foliage", "stone", "water", "dirt", "sand", "wood_planks",
            "grass"} <= mats
    assert any(e["components"].get("Joint", {}).get("kind") == "hinge" for e in ents)
    assert sum("crate" in e["tags"] for e in ents) >= 3
    from tools.make_village import main

    assert main(["--check"]) == 0  # the file is what tools/make_village.py writes


def test_rain_raises_wetness_in_steps_and_stops(game) -> None:
    run(game, 0.5)
    assert state(game, "house1/walls", "wetness") == 0.0
    run(game, 5.0)
    assert state(game, "house1/walls", "wetness") == pytest.approx(0.1)
    run(game, 30.0)
    assert state(game, "house1/walls", "wetness") == pytest.approx(0.6)
    assert state(game, "torch", "wetness") == 0.0  # carried things are not tagged outdoor


def test_falling_crates_take_damage_and_resting_ones_do_not(game) -> None:
    run(game, 3.0)
    high = state(game, "crate4", "damage")  # fell from 4.4 m
    assert 0.0 < high <= 1.0
    assert state(game, "crate0", "damage") <= high
    before = {f"crate{i}": state(game, f"crate{i}", "damage") for i in range(5)}
    run(game, 2.0)
    assert {k: state(game, k, "damage") for k in before} == before


def test_find_three_items_with_on_screen_text(game) -> None:
    player = game.find("player")
    assert game.vars["hud"][0].startswith("Found 0/3")
    for i, uid in enumerate(("item/lantern", "item/bucket", "item/horseshoe"), start=1):
        pos = game.get(game.find(uid), Transform).pos.copy()
        game.move(player, pos + np.array([0.0, 0.1, 0.6]))
        run(game, 0.1)
        assert game.find(uid) is None
        assert game.vars["hud"][0].startswith(f"Found {i}/3")
    assert any("found everything" in line for line in game.vars["hud"])


def test_torch_burns_a_fence_down(game) -> None:
    player = game.find("player")
    torch_pos = game.get(game.find("torch"), Transform).pos.copy()
    game.move(player, (torch_pos[0] + 0.5, 0.1, torch_pos[2]))
    run(game, 0.2)
    assert game.vars["torch"]
    fence = game.get(game.find("fence3"), Transform).pos.copy()
    game.move(player, (fence[0] + 1.0, 0.1, fence[2]))
    run(game, 1.0)
    assert 0.0 < state(game, "fence3", "burn") < 1.0
    run(game, 3.0)
    assert game.find("fence3") is None and "burnt down" in game.vars["message"]


def test_e_opens_the_hinged_door(game) -> None:
    from engine.input import ActionState

    door = game.find("house1/door")
    player = game.find("player")
    game.move(player, (-6.0, 0.1, -3.0))
    closed = game.get(door, Transform).rot.copy()
    game.tick(ActionState(frozenset({"interact"})))
    run(game, 2.0)
    assert game.vars["door_open"]
    opened = game.get(door, Transform).rot
    angle = 2 * np.degrees(np.arccos(min(1.0, abs(float(np.dot(closed, opened))))))
    assert angle > 30.0


def test_the_level_file_and_the_script_start_the_same_game() -> None:
    games = [load_game(VILLAGE.with_name("village.level.json")), load_game(VILLAGE)]
    for g in games:
        run(g, 2.0)
    assert games[0].state_hash() == games[1].state_hash()
    for g in games:
        g.system("worldmodel").close()
