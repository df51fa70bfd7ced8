"""Every sample game in games/ loads and runs a few ticks headless (new games are covered automatically)."""

from __future__ import annotations

from pathlib import Path

import pytest

GAMES = sorted(p for p in (Path(__file__).resolve().parents[2] / "games").glob("*.py") if p.name != "__init__.py")
LEVELS = sorted((Path(__file__).resolve().parents[2] / "games").glob("*.level.json"))


@pytest.mark.parametrize("path", GAMES + LEVELS, ids=lambda p: p.name)
def test_game_runs_headless(path: Path) -> None:
    from engine.scripting import load_game

    g = load_game(path)
    first = g.state_hash()
    for _ in range(10):
        g.tick()
    assert g.tick_count == 10 and g.state_hash() != first
    doc = (path.read_text().split('"""')[1] if path.suffix == ".py" else "")
    if path.suffix == ".py":
        assert "anchorworld run" in doc, "the docstring says how to run it"


def test_hello_is_short() -> None:
    src = (Path(__file__).resolve().parents[2] / "games" / "hello.py").read_text().strip().splitlines()
    assert len([ln for ln in src if ln.strip() and not ln.startswith('"""')]) <= 10
