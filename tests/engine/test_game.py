"""The authoring API: prefabs, queries, timers, events, callbacks, scripts and hot reload."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine import Game
from engine.components import Proxy, Script, Tags, Transform
from engine.scripting import load_game


def test_prefabs_and_queries() -> None:
    g = Game(seed=2)
    g.ground()
    a = g.box(pos=(1, 0.5, 2), tags=["crate"])
    b = g.box(material="brick")
    s = g.sphere(radius=0.3)
    p = g.player(pos=(0, 0, -2))
    assert g.find("box-1") == a and g.find("box-2") == b and g.find("player") == p
    assert g.get(s, Proxy).half_extents.tolist() == [0.3, 0.3, 0.3]
    assert g.tagged("crate") == [a]
    assert [e for e, _ in g.query(Proxy, Tags)] == [a]
    with pytest.raises(ValueError, match="already used"):
        g.box(uid="box-1")
    with pytest.raises(ValueError, match="unknown material"):
        g.box(material="cheese")


def test_style_seed_is_stable_per_uid() -> None:
    a, b = Game(seed=1), Game(seed=1)
    assert a.get(a.box(), Proxy).style_seed == b.get(b.box(), Proxy).style_seed
    c = Game(seed=2)
    assert c.get(c.box(), Proxy).style_seed != a.get(a.find("box-1"), Proxy).style_seed


def test_timers_events_and_callbacks_in_order() -> None:
    g = Game(tick_rate=10)
    log: list[tuple[int, str]] = []
    g.after(0.3, lambda game: log.append((game.tick_count, "after")))
    t = g.every(0.2, lambda game: log.append((game.tick_count, "every")))

    @g.on("boom")
    def boom(game: Game, power: int) -> None:
        log.append((game.tick_count, f"boom{power}"))

    @g.every_tick
    def per_tick(game: Game, dt: float) -> None:
        assert dt == pytest.approx(0.1)
        if game.tick_count == 4:
            game.emit("boom", 7)

    for _ in range(6):
        g.tick()
    g.cancel(t)
    for _ in range(4):
        g.tick()
    assert log == [(2, "every"), (3, "after"), (4, "boom7"), (4, "every"), (6, "every")]


def test_event_handlers_are_held_strongly() -> None:
    g = Game()
    hits = []

    def make():
        def handler(game: Game) -> None:  # a local function: only the game holds it
            hits.append(1)

        g.on("ping")(handler)

    make()
    import gc

    gc.collect()
    g.emit("ping")
    assert hits == [1]


def test_entity_scripts_and_player_walks() -> None:
    from engine.input import ActionState

    g = Game()
    e = g.box(components=(Script(lambda game, ent, dt: game.move(ent, by=(0, dt, 0))),))
    p = g.player()
    for _ in range(60):
        g.tick(ActionState(axes=(("move_z", 1.0),)))
    assert g.get(e, Transform).pos[1] == pytest.approx(1.5)
    assert g.get(p, Transform).pos[2] == pytest.approx(4.0)  # 4 m/s for one second, facing +Z
    assert np.allclose(g.view.eye, g.get(p, Transform).pos + [0, 0.7, 0])


HOT = '''
from engine import Game
game = Game(seed=4)
game.ground()
crate = game.box(pos=(0, 0.5, 3))
{extra}
@game.every_tick
def push(g, dt):
    g.move(crate, by=({speed}, 0, 0))
'''


def test_hot_reload_keeps_world_and_swaps_code(tmp_path: Path) -> None:
    script = tmp_path / "hot.py"
    script.write_text(HOT.format(extra="", speed=1.0))
    g = load_game(script)
    for _ in range(3):
        g.tick()
    crate = g.find("box-1")
    assert g.get(crate, Transform).pos[0] == 3.0
    script.write_text(HOT.format(extra="game.sphere(pos=(2, 1, 2))", speed=10.0))
    assert g.reload() is None
    assert g.find("box-1") == crate and g.tick_count == 3
    assert g.get(crate, Transform).pos[0] == 3.0  # the world state was kept
    assert g.find("sphere-1") is not None  # new things in the script appear
    g.tick()
    assert g.get(crate, Transform).pos[0] == 13.0  # the new code runs, once
    script.write_text("this is not python(")
    err = g.reload()
    assert err is not None and "SyntaxError" in err
    g.tick()
    assert g.get(crate, Transform).pos[0] == 23.0  # old code keeps running after a failed reload


def test_reload_rebinds_timers_by_name(tmp_path: Path) -> None:
    script = tmp_path / "t.py"
    src = "from engine import Game\ngame = Game()\n@game.every(0.05)\ndef tick3(g):\n    g.vars['n'] = g.vars.get('n', 0) + {k}\n"
    script.write_text(src.format(k=1))
    g = load_game(script)
    for _ in range(6):
        g.tick()
    assert g.vars["n"] == 2
    script.write_text(src.format(k=100))
    g.reload()
    for _ in range(3):
        g.tick()
    assert g.vars["n"] == 102 and len(g.timers) == 1


def test_seed_override_from_the_cli_loader(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("from engine import Game\ngame = Game(seed=1)\ngame.run()\n")
    assert load_game(script, seed=9).seed == 9


def test_relative_level_path_resolves_next_to_the_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.levels import Level, LevelEntity

    Level("yard", 1, None, None, [LevelEntity("rock", "", [], {"Transform": Transform(), "Proxy": Proxy()})]).save(
        tmp_path / "yard.level.json")
    (tmp_path / "g.py").write_text("from engine import Game\ngame = Game()\ngame.load_level('yard.level.json')\n")
    monkeypatch.chdir("/")
    g = load_game(tmp_path / "g.py")
    assert g.find("rock") is not None
