"""The village: walk around in first person and find three lost things. Run: anchorworld run games/village.py

WASD / arrows walk, the mouse looks, Space jumps, E opens or closes the door of the white house,
V switches the view (splats / proxies / both). Find the lantern, the bucket and the horseshoe.
Rain makes everything wetter over time; crates that fall take damage; pick up the torch by the
fence and carry it to a fence to burn it down. Everything here is rules: the world model only
paints what the rules decide (wetness, damage, burn) — and it paints the same village every time.

The level (``village.level.json``) is laid out by ``tools/make_village.py``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from engine import Game
from engine.components import Player, Proxy, Tags, Transform

RAIN_EVERY = 5.0  # seconds between two rain steps
RAIN_STEP = 0.1  # wetness added per step
MAX_WETNESS = 0.6
REACH = 1.4  # metres: picking up items and the torch
DOOR_REACH = 3.0
BURN_RADIUS = 1.6  # metres from the torch to a fence
BURN_PER_SECOND = 0.35
STATE_STEP = 0.05  # appearance states move in steps: one regeneration per step, not per tick
ITEMS = {"item/lantern": "the lantern", "item/bucket": "the bucket", "item/horseshoe": "the horseshoe"}


def _pos(game: Game, e: int) -> np.ndarray:
    return game.get(e, Transform).pos


def _state(game: Game, e: int, name: str) -> float:
    return float(game.get(e, Proxy).state.get(name, 0.0))


def _step(value: float) -> float:
    """Quantise an appearance state to STATE_STEP (so the model runs once per visible step)."""
    return round(math.floor(value / STATE_STEP + 1e-9) * STATE_STEP, 4)


def hud(game: Game) -> list[str]:
    """The on-screen text (drawn by the overlay from ``game.vars['hud']``)."""
    v = game.vars
    found = v["found"]
    lines = [f"Found {len(found)}/3" + (f": {', '.join(ITEMS[u] for u in found)}" if found else " - look around the village")]
    if len(found) == 3:
        lines.append("You found everything. Thank you!")
    if v["torch"]:
        lines.append("You carry the torch: fences burn near it")
    lines.append(v["message"])
    if game.tick_count < 10 * 60:
        lines.append("WASD walk, mouse look, Space jump, E door, V view (splats/proxies/both), F3 stats")
    return [s for s in lines if s]


def setup(game: Game) -> None:
    """Rules of the village; called once after the level is loaded (and again on hot reload)."""
    v = game.vars
    v.setdefault("found", [])
    v.setdefault("torch", False)
    v.setdefault("door_open", False)
    v.setdefault("message", "It starts to rain.")
    v.setdefault("burn", {})  # fence uid -> exact burn (the proxy holds the quantised one)
    v["hud"] = hud(game)

    @game.every(RAIN_EVERY)
    def rain(g: Game) -> None:
        for e in g.tagged("outdoor"):
            w = _state(g, e, "wetness")
            if w < MAX_WETNESS:
                g.restyle(e, wetness=round(min(MAX_WETNESS, w + RAIN_STEP), 4))

    @game.on("collision_start")
    def crate_hit(g: Game, ev: object) -> None:
        for e in (ev.a, ev.b):  # type: ignore[attr-defined]
            tags = g.world.try_get(e, Tags)
            if tags is None or "crate" not in tags.values:
                continue
            he = g.get(e, Proxy).half_extents
            mass = 300.0 * 8.0 * float(np.prod(he))
            speed = float(ev.impulse) / mass  # type: ignore[attr-defined]
            if speed > 1.5:
                dmg = _step(min(1.0, _state(g, e, "damage") + 0.12 * (speed - 1.5)))
                if dmg != _state(g, e, "damage"):
                    g.restyle(e, damage=dmg)

    @game.every_tick
    def play(g: Game, dt: float) -> None:
        player = g.find("player")
        if player is None:
            return
        here = _pos(g, player)
        # three things to find
        for uid in ITEMS:
            e = g.find(uid)
            if e is not None and uid not in v["found"] and np.linalg.norm(_pos(g, e) - here) < REACH:
                v["found"].append(uid)
                v["message"] = f"You found {ITEMS[uid]}!"
                g.despawn(e)
        # the torch: picked up by walking to it, then carried in the right hand
        torch = g.find("torch")
        if torch is not None and not v["torch"] and np.linalg.norm(_pos(g, torch) - here) < REACH:
            v["torch"] = True
            v["message"] = "You took the torch."
        if torch is not None and v["torch"]:
            yaw = math.radians(g.get(player, Player).yaw)
            fwd = np.array([math.sin(yaw), 0.0, math.cos(yaw)])
            right = np.array([-fwd[2], 0.0, fwd[0]])
            g.move(torch, here + 0.5 * fwd - 0.3 * right + np.array([0.0, 0.5, 0.0]))
            for f in g.tagged("fence"):
                uid = g.world.uid(f)
                if np.linalg.norm(_pos(g, f) - _pos(g, torch)) > BURN_RADIUS:
                    continue
                burn = v["burn"].get(uid, 0.0) + BURN_PER_SECOND * dt
                v["burn"][uid] = burn
                if burn >= 1.0:
                    g.despawn(f)
                    v["message"] = "The fence burnt down."
                elif _step(burn) != _state(g, f, "burn"):
                    g.restyle(f, burn=_step(burn))
        # the door: E near it swings it open (the hinge motor drives it; physics moves it)
        door = g.find("house1/door")
        if door is not None and g.input.pressed("interact") and np.linalg.norm(_pos(g, door) - here) < DOOR_REACH:
            v["door_open"] = not v["door_open"]
            _set_door(g, door, v["door_open"])
        v["hud"] = hud(g)


def _set_door(game: Game, door: int, open_: bool) -> None:
    from engine.physics_components import Joint

    joint = game.world.try_get(door, Joint)
    if joint is not None:
        joint.motor_target = -1.3 if open_ else 0.0
        game.touch(door, Joint)


if "game" not in globals():  # run as a script (a level file that names this script binds `game` itself)
    game = Game(seed=7, name="village")
    game.load_level(Path(__file__).with_name("village.level.json"))
    game.player(pos=(0.0, 0.1, 14.0), yaw=180.0)
    setup(game)
    game.run()
