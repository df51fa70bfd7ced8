"""The component registry: generic codecs for dataclasses (enums, nested, arrays) used by levels and saves."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from engine.components import Proxy, Transform
from engine.errors import InputError
from engine.game import Game
from engine.registry import decode_component, encode_component, register_component


class Mood(enum.Enum):
    CALM = 1
    ANGRY = 2


@dataclass
class Memory:
    where: tuple[float, float] = (0.0, 0.0)
    what: str = ""


@register_component(name="Villager")
@dataclass
class VillagerBrain:
    mood: Mood = Mood.CALM
    home: Memory = field(default_factory=Memory)
    seen: list[Memory] = field(default_factory=list)
    weights: np.ndarray = field(default_factory=lambda: np.zeros((2, 3), np.float32))
    notes: dict[str, int] = field(default_factory=dict)
    asleep: bool = False
    level: int = 1
    target: str | None = None


def test_round_trip_of_enums_nested_dataclasses_and_arrays() -> None:
    b = VillagerBrain(Mood.ANGRY, Memory((1.5, 2.0), "well"), [Memory((3, 4), "tree")],
                      np.arange(6, dtype=np.float32).reshape(2, 3), {"apples": 3}, True, 4, "baker")
    data = encode_component(b)
    assert data["mood"] == "ANGRY" and data["home"] == {"where": [1.5, 2.0], "what": "well"}
    back = decode_component("Villager", data)
    assert back.mood is Mood.ANGRY and back.home == b.home and back.seen == b.seen
    assert back.weights.dtype == np.float32 and np.array_equal(back.weights, b.weights)
    assert (back.notes, back.asleep, back.level, back.target) == ({"apples": 3}, True, 4, "baker")


@pytest.mark.parametrize(
    ("patch", "path"),
    [({"mood": "SLEEPY"}, "c.mood"), ({"home": {"where": [1]}}, "c.home.where"), ({"level": 1.5}, "c.level"),
     ({"asleep": 1}, "c.asleep"), ({"weights": [[1, 2, 3]]}, "c.weights"), ({"seen": [{"what": 3}]}, "c.seen[0].what"),
     ({"bogus": 1}, "c.bogus"), ({"notes": {"a": "b"}}, "c.notes.a")],
)
def test_bad_fields_name_their_path(patch: dict, path: str) -> None:
    data = {**encode_component(VillagerBrain()), **patch}
    with pytest.raises(InputError) as ei:
        decode_component("Villager", data, "f.json", "c")
    assert ei.value.field == path


def test_registered_components_are_saved_and_hashed(tmp_path: Path) -> None:
    g = Game(seed=1)
    e = g.spawn(uid="bob", transform=Transform(pos=(1, 0, 0)), proxy=Proxy(), brain=VillagerBrain(level=3))
    h = g.state_hash()
    g.save(tmp_path / "s.sav")
    g.get(e, VillagerBrain).level = 4
    assert g.state_hash() != h
    g.load(tmp_path / "s.sav")
    assert g.get(g.find("bob"), VillagerBrain).level == 3 and g.state_hash() == h


def test_name_clash_is_refused() -> None:
    @dataclass
    class Other:
        x: int = 0

    with pytest.raises(ValueError, match="already registered"):
        register_component(Other, name="Villager")
