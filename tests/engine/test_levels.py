"""Level files: deterministic round trip, clear validation errors, fuzzed corrupt input."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.components import Proxy, Transform
from engine.errors import InputError
from engine.game import Game
from engine.levels import Level, LevelEntity
from engine.registry import register_component
from engine.world import World


@register_component
@dataclass
class Health:
    """A component the engine does not know: registered by a game."""

    hp: float = 100.0
    regen: list[float] = field(default_factory=lambda: [0.5, 1.0])
    armour: np.ndarray = field(default_factory=lambda: np.zeros(2, np.float32))


def _level() -> Level:
    return Level(
        name="yard", seed=5, script=None, player_start={"pos": [0, 0, -3], "yaw": 90},
        entities=[
            LevelEntity("ground", "Ground", ["floor"], {"Transform": Transform(), "Proxy": Proxy("plane", (10, 0.05, 10), "grass")}),
            LevelEntity("crate-1", "Crate", ["crate", "loot"], {
                "Transform": Transform(pos=(1.1, 0.5, 2.0 / 3.0), rot=(np.cos(0.3), 0, np.sin(0.3), 0)),
                "Proxy": Proxy("box", (0.5, 0.5, 0.5), "wood_planks", 17, {"damage": 0.25}),
                "Health": Health(42.5),
            }),
        ],
    )


def test_save_load_save_is_byte_identical(tmp_path: Path) -> None:
    p1, p2 = tmp_path / "a.level.json", tmp_path / "b.level.json"
    _level().save(p1)
    Level.load(p1).save(p2)
    assert p1.read_bytes() == p2.read_bytes()
    lv = Level.load(p2)
    crate = lv.entity("crate-1")
    assert crate is not None and crate.components["Health"].hp == 42.5
    assert crate.components["Proxy"].state == {"damage": 0.25}
    assert crate.components["Transform"].pos[2] == 2.0 / 3.0  # floats survive exactly


def test_world_round_trip_through_a_level(tmp_path: Path) -> None:
    w = World()
    ids = _level().spawn_into(w)
    lv = Level.from_world(w, name="yard", seed=5, player_start={"pos": [0, 0, -3], "yaw": 90})
    assert lv.to_json() == _level().to_json()
    w2 = World()
    lv.spawn_into(w2)
    assert w2.get(w2.entity("crate-1"), Transform) == w.get(ids[1], Transform)


def test_game_loads_a_level_and_the_cli_format_runs_it(tmp_path: Path) -> None:
    p = tmp_path / "yard.level.json"
    _level().save(p)
    g = Game(seed=5)
    g.load_level(p)
    g.tick()
    assert g.find("crate-1") is not None and [e.uid for e in g.layout_delta.spawned] == ["crate-1", "ground"]


def _bad(tmp_path: Path, mutate) -> InputError:
    d = _level().to_data()
    mutate(d)
    p = tmp_path / "bad.level.json"
    p.write_text(json.dumps(d))
    with pytest.raises(InputError) as ei:
        Level.load(p)
    assert str(p) in str(ei.value)
    return ei.value


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [
        (lambda d: d["entities"][1]["components"]["Proxy"]["half_extents"].__setitem__(1, -1), "entities[1].components.Proxy.half_extents[1]", "half-extent"),
        (lambda d: d["entities"][1]["components"]["Proxy"].__setitem__("material", "cheese"), "entities[1].components.Proxy.material", "wood_planks"),
        (lambda d: d["entities"][1]["components"]["Proxy"]["state"].__setitem__("damage", 2), "entities[1].components.Proxy.state.damage", "[0, 1]"),
        (lambda d: d["entities"][0]["components"]["Transform"].__setitem__("pos", [0, 0]), "entities[0].components.Transform.pos", "3 numbers"),
        (lambda d: d["entities"][0]["components"]["Transform"].__setitem__("rot", [2, 0, 0, 0]), "entities[0].components.Transform.rot", "unit quaternion"),
        (lambda d: d["entities"][1]["components"]["Health"].__setitem__("hp", "lots"), "entities[1].components.Health.hp", "finite number"),
        (lambda d: d["entities"][1]["components"].__setitem__("Wobble", {}), "entities[1].components.Wobble", "registered component"),
        (lambda d: d["entities"][1].__setitem__("uid", "ground"), "entities[1].uid", "unique"),
        (lambda d: d.__setitem__("version", 9), "version", "1"),
        (lambda d: d.__setitem__("format", "x"), "format", "anchorworld.level"),
        (lambda d: d.__setitem__("player_start", {"pos": [0, "a", 0]}), "player_start.pos[1]", "finite"),
    ],
)
def test_validation_errors_name_the_json_path(tmp_path: Path, mutate, path: str, words: str) -> None:
    err = _bad(tmp_path, mutate)
    assert err.field == path, str(err)
    assert words in err.expected


def test_nan_and_syntax_errors(tmp_path: Path) -> None:
    p = tmp_path / "x.level.json"
    p.write_text(_level().to_json().replace("42.5", "NaN"))
    with pytest.raises(InputError, match="finite"):
        Level.load(p)
    p.write_text(_level().to_json()[:-20])
    with pytest.raises(InputError, match="line"):
        Level.load(p)
    with pytest.raises(InputError, match="readable"):
        Level.load(tmp_path / "missing.level.json")


GOOD = _level().to_json().encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corrupt_level_bytes_give_input_error_only(data) -> None:
    """Truncations, byte flips and random JSON: either a valid Level or InputError, nothing else."""
    kind = data.draw(st.sampled_from(["truncate", "flip", "random", "json"]))
    if kind == "truncate":
        raw = GOOD[: data.draw(st.integers(0, len(GOOD)))]
    elif kind == "flip":
        b = bytearray(GOOD)
        for _ in range(data.draw(st.integers(1, 8))):
            b[data.draw(st.integers(0, len(b) - 1))] = data.draw(st.integers(0, 255))
        raw = bytes(b)
    elif kind == "random":
        raw = data.draw(st.binary(max_size=300))
    else:
        js = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
                          lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=20)
        d = json.loads(GOOD)
        where = data.draw(st.sampled_from(["top", "entity", "comp", "proxy"]))
        key = data.draw(st.sampled_from(["uid", "pos", "Proxy", "half_extents", "state", "entities", "seed", "x"]))
        val = data.draw(js)
        target = {"top": d, "entity": d["entities"][1], "comp": d["entities"][1]["components"],
                  "proxy": d["entities"][1]["components"]["Proxy"]}[where]
        target[key] = val
        raw = json.dumps(d).encode()
    try:
        Level.parse(raw, "fuzz.level.json")
    except InputError:
        pass
