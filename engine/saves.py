"""Saves and the state hash: the whole engine state as canonical msgpack.

The state is: tick, seed, RNG state, every entity (exact esper id) with all its *registered*
components, the next entity id, timers (by callback name), ``game.vars``, the input state
(for edge detection) and every system's ``save_state()``. ``state_hash`` is blake2b over the
canonical bytes of that state, so a load restores exactly the same hash.

File: msgpack ``{"format": "anchorworld.save", "version": 1, "game": str, "state": {...}}``,
written atomically (temp file, fsync, rename): a failed save never replaces a good one. Loading
validates everything; truncated, corrupt or wrong-version files raise ``InputError``.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgpack
import numpy as np

from engine.errors import InputError
from engine.files import atomic_write, read_input
from engine.registry import component_name, component_type, decode_component, encode_component, is_registered

if TYPE_CHECKING:
    from engine.game import Game

SAVE_FORMAT = "anchorworld.save"
SAVE_VERSION = 1
MAX_SAVE_BYTES = 1 << 30


def canonical(v: Any) -> Any:
    """Plain data with dict keys sorted and numpy values converted (for stable bytes)."""
    if isinstance(v, dict):
        return {k: canonical(v[k]) for k in sorted(v, key=str)}
    if isinstance(v, list | tuple):
        return [canonical(x) for x in v]
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def _pack(v: Any) -> bytes:
    return msgpack.packb(canonical(v), use_bin_type=True)


def _rng_state(rng: np.random.Generator) -> dict[str, Any]:
    st = rng.bit_generator.state
    if st.get("bit_generator") != "PCG64":
        raise ValueError("only PCG64 generators are saved")
    return {"state": str(st["state"]["state"]), "inc": str(st["state"]["inc"]),
            "has_uint32": int(st["has_uint32"]), "uinteger": int(st["uinteger"])}


def game_state(game: Game) -> dict[str, Any]:
    """The complete, canonical engine state as plain data."""
    w = game.world
    entities = []
    for e in w.entities():
        comps = {}
        for c in w.components(e):
            if is_registered(type(c)):
                comps[component_name(type(c))] = encode_component(c)
        entities.append([e, comps])
    systems = {}
    for s in game.systems:
        fn = getattr(s, "save_state", None)
        if fn is not None:
            systems[s.name] = fn()
    return canonical({
        "tick": game.tick_count,
        "seed": game.seed,
        "rng": _rng_state(game.rng),
        "next_entity": w.next_entity_id(),
        "entities": entities,
        "timers": game.timers.save_state()[0],
        "timer_ids": game.timers.next_id,
        "auto_uid": dict(game._auto_uid),
        "vars": game.vars,
        "input": game.input.save_state(),
        "systems": systems,
    })


def state_hash(game: Game) -> str:
    """blake2b-256 hex digest of the canonical engine state."""
    return hashlib.blake2b(_pack(game_state(game)), digest_size=32).hexdigest()


def save_bytes(game: Game) -> bytes:
    """The save file's bytes."""
    game_path = str(game.script_path or game.level_path or "")
    return _pack({"format": SAVE_FORMAT, "version": SAVE_VERSION, "game": game_path, "state": game_state(game)})


def save_game(game: Game, path: str | Path) -> None:
    """Encode fully, then write atomically; on any failure the old file stays as it was."""
    data = save_bytes(game)
    atomic_write(path, data)


def read_save(path: str | Path) -> dict[str, Any]:
    """Read and validate the envelope of a save file; returns its ``state`` dict."""
    return parse_save(read_input(path, "save file"), str(path))


def parse_save(raw: bytes, source: str = "<save>") -> dict[str, Any]:
    """Validate save bytes; returns the ``state`` dict or raises ``InputError``."""
    if len(raw) > MAX_SAVE_BYTES:
        raise InputError(source, "", f"a save file under {MAX_SAVE_BYTES} bytes")
    try:
        d = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    except (ValueError, TypeError, OverflowError, RecursionError, msgpack.UnpackException) as exc:  # corrupt input
        raise InputError(source, "", f"an Anchorworld save (msgpack) file; it is truncated or corrupt ({type(exc).__name__})") from None
    if not isinstance(d, dict) or d.get("format") != SAVE_FORMAT:
        raise InputError(source, "format", f"{SAVE_FORMAT!r}: this is not an Anchorworld save")
    if d.get("version") != SAVE_VERSION:
        raise InputError(source, "version", f"save version {SAVE_VERSION}, got {d.get('version')!r}")
    st = d.get("state")
    if not isinstance(st, dict):
        raise InputError(source, "state", "an object")
    _check_state(st, source)
    return st


def _int(v: Any, source: str, path: str, lo: int = 0) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise InputError(source, path, f"an integer >= {lo}, got {v!r}")
    return v


def _check_state(st: dict[str, Any], source: str) -> None:
    _int(st.get("tick"), source, "state.tick")
    _int(st.get("seed"), source, "state.seed", lo=-(1 << 63))
    nxt = _int(st.get("next_entity"), source, "state.next_entity", lo=1)
    rng = st.get("rng")
    if not isinstance(rng, dict):
        raise InputError(source, "state.rng", "an object")
    for k in ("state", "inc"):
        if not isinstance(rng.get(k), str) or not rng[k].isdigit() or len(rng[k]) > 40:
            raise InputError(source, f"state.rng.{k}", "a decimal integer string")
    for k in ("has_uint32", "uinteger"):
        _int(rng.get(k), source, f"state.rng.{k}")
    ents = st.get("entities")
    if not isinstance(ents, list):
        raise InputError(source, "state.entities", "a list")
    last = 0
    for i, item in enumerate(ents):
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[1], dict)):
            raise InputError(source, f"state.entities[{i}]", "[entity id, {component name: data}]")
        eid = _int(item[0], source, f"state.entities[{i}][0]", lo=1)
        if eid <= last or eid >= nxt:
            raise InputError(source, f"state.entities[{i}][0]", f"ascending entity ids below next_entity ({nxt})")
        last = eid
        for name in item[1]:
            if not isinstance(name, str) or component_type(name) is None:
                raise InputError(source, f"state.entities[{i}][1]", f"registered component names, got {name!r}")
    timers = st.get("timers")
    if not isinstance(timers, list):
        raise InputError(source, "state.timers", "a list")
    for i, t in enumerate(timers):
        if not (isinstance(t, list) and len(t) == 4 and isinstance(t[3], str)):
            raise InputError(source, f"state.timers[{i}]", "[id, due tick, period ticks, callback name]")
        for j in range(3):
            _int(t[j], source, f"state.timers[{i}][{j}]")
    _int(st.get("timer_ids"), source, "state.timer_ids")
    au = st.get("auto_uid")
    if not isinstance(au, dict) or not all(isinstance(k, str) and isinstance(v, int) for k, v in au.items()):
        raise InputError(source, "state.auto_uid", "an object of counters")
    if not isinstance(st.get("vars"), dict):
        raise InputError(source, "state.vars", "an object")
    if not isinstance(st.get("input"), dict):
        raise InputError(source, "state.input", "an object")
    if not isinstance(st.get("systems"), dict):
        raise InputError(source, "state.systems", "an object")
    _check_finite(st.get("vars"), source, "state.vars")


def _check_finite(v: Any, source: str, path: str) -> None:
    if isinstance(v, float) and not math.isfinite(v):
        raise InputError(source, path, "finite numbers")
    if isinstance(v, dict):
        for k, x in v.items():
            _check_finite(x, source, f"{path}.{k}")
    elif isinstance(v, list):
        for i, x in enumerate(v):
            _check_finite(x, source, f"{path}[{i}]")


def load_game(game: Game, path: str | Path) -> None:
    """Replace the game's state with a save's; the game keeps its code (callbacks, handlers)."""
    st = read_save(path)
    restore_state(game, st, str(path))


def restore_state(game: Game, st: dict[str, Any], source: str = "<save>") -> None:
    """Apply a validated state dict to ``game`` (decodes everything before touching the world)."""
    decoded: list[tuple[int, list[Any]]] = []
    for i, (eid, comps) in enumerate(st["entities"]):
        decoded.append((eid, [decode_component(n, comps[n], source, f"state.entities[{i}][1].{n}") for n in sorted(comps)]))
    timers = []
    for i, (tid, due, period, name) in enumerate(st["timers"]):
        fn = game.timers.callbacks.get(name)
        if fn is None:
            raise InputError(source, f"state.timers[{i}]", f"a timer callback the game defines, got {name!r}")
        timers.append((tid, due, period, fn, name))
    rng = st["rng"]
    bg = np.random.PCG64()
    try:
        bg.state = {"bit_generator": "PCG64", "state": {"state": int(rng["state"]), "inc": int(rng["inc"])},
                    "has_uint32": rng["has_uint32"], "uinteger": rng["uinteger"]}
    except (ValueError, TypeError, OverflowError) as exc:
        raise InputError(source, "state.rng", f"a valid PCG64 state ({exc})") from None
    from engine.input import Input
    from engine.timers import Timer

    probe = Input()
    probe.load_state(st["input"], source)
    # everything decoded: now replace the state; entity scripts (code, not data) follow their uid
    from engine.components import Anchor, Script

    w = game.world
    scripts = {w.uid(e): s for e, (s,) in w.query(Script) if w.uid(e) is not None}
    w.clear()
    for eid, comps in decoded:
        w.spawn_with_id(eid, *comps)
        a = next((c for c in comps if isinstance(c, Anchor)), None)
        if a is not None and a.uid in scripts:
            w.set(eid, scripts[a.uid])
    w._set_next_entity_id(st["next_entity"])
    game.tick_count = st["tick"]
    game.seed = st["seed"]
    game.rng = np.random.Generator(bg)
    game.timers.items = [Timer(tid, due, period, fn, name) for tid, due, period, fn, name in timers]
    game.timers.next_id = st["timer_ids"]
    game._auto_uid = dict(st["auto_uid"])
    game.vars = st["vars"]
    game.input.current, game.input.previous = probe.current, probe.previous
    systems = st["systems"]
    for s in game.systems:
        fn = getattr(s, "load_state", None)
        if fn is not None:
            fn(systems.get(s.name))
    cam = game.system("camera")
    if cam is not None:
        cam.tick(game, 0.0)
