"""Input: actions and axes from raw devices, rebinding, edges, recordings and their validation."""

from __future__ import annotations

from pathlib import Path

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.clock import Clock
from engine.errors import InputError
from engine.input import ActionState, Input, RawInput, Recording


def test_actions_axes_and_edges() -> None:
    inp = Input()
    s1 = inp.sample(RawInput({"key:space", "key:w", "key:d"}))
    assert s1.down == frozenset({"jump"}) and s1.axis("move_z") == 1.0 and s1.axis("move_x") == 1.0
    inp.begin_tick(s1)
    assert inp.pressed("jump") and inp.held("jump")
    inp.begin_tick(inp.sample(RawInput({"key:space"})))
    assert not inp.pressed("jump") and inp.held("jump") and inp.axis("move_z") == 0.0
    inp.begin_tick(inp.sample(RawInput()))
    assert inp.released("jump")


def test_gamepad_and_mouse_sources() -> None:
    inp = Input()
    s = inp.sample(RawInput({"pad:0"}, mouse_dx=12.0, pad_axes={1: -0.9, 0: 0.05}))
    assert "jump" in s.down
    assert s.axis("move_z") == pytest.approx(0.9)  # stick forward is negative y
    assert s.axis("move_x") == 0.0  # inside the dead zone
    assert s.axis("look_x") == 12.0


def test_rebinding() -> None:
    inp = Input()
    inp.bind("jump", "key:j")
    assert "jump" not in inp.sample(RawInput({"key:space"})).down
    assert "jump" in inp.sample(RawInput({"key:j"})).down
    inp.bind_axis("move_x", neg=["key:q"], pos=["key:e"])
    assert inp.sample(RawInput({"key:q"})).axis("move_x") == -1.0
    with pytest.raises(ValueError, match="input source"):
        inp.bind("jump", "keyboard-j")


def test_recording_round_trip(tmp_path: Path) -> None:
    rec = Recording([ActionState(frozenset({"jump"}), (("move_x", -0.5),)), ActionState()], seed=4, game="g.py")
    rec.save(tmp_path / "r.replay")
    back = Recording.load(tmp_path / "r.replay")
    assert back.ticks == rec.ticks and back.seed == 4 and back.game == "g.py"


def test_bad_recordings(tmp_path: Path) -> None:
    good = Recording([ActionState()], seed=1).to_bytes()
    d = msgpack.unpackb(good)
    d["version"] = 2
    with pytest.raises(InputError, match="version"):
        Recording.from_bytes(msgpack.packb(d))
    d["version"] = 1
    d["ticks"] = [[["jump"], [["move_x", float("nan")]]]]
    with pytest.raises(InputError, match=r"ticks\[0\]\[1\]\[0\]"):
        Recording.from_bytes(msgpack.packb(d))
    with pytest.raises(InputError, match="readable"):
        Recording.load(tmp_path / "missing")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_random_replay_bytes_give_input_error_only(raw: bytes) -> None:
    try:
        Recording.from_bytes(raw)
    except InputError:
        pass


def test_clock_fixed_steps_pause_step_and_scale() -> None:
    c = Clock(60)
    assert c.advance(1 / 120) == 0 and 0.4 < c.alpha < 0.6
    assert c.advance(1 / 120) == 1
    assert c.advance(1.0) == c.max_ticks_per_frame  # spiral of death avoided
    c.pause(True)
    assert c.advance(1.0) == 0
    c.step()
    assert c.advance(0.0) == 1 and c.advance(1.0) == 0
    c.pause(False)
    c.time_scale = 2.0
    c.accumulator = 0.0
    assert c.advance(1 / 60) == 2
