"""The README tutorial's game runs as written (documentation cannot rot)."""

from __future__ import annotations

import re
from pathlib import Path

from engine.components import Proxy

README = Path(__file__).resolve().parents[2] / "README.md"


def test_tutorial_game_runs(tmp_path: Path) -> None:
    text = README.read_text()
    section = text.split("## Tutorial", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    script = tmp_path / "my_game.py"
    script.write_text(code)
    from engine.scripting import load_game

    g = load_game(script)
    for _ in range(130):
        g.tick()
    crate = g.find("box-1")
    assert g.get(crate, Proxy).state == {"damage": 0.5}  # the timer emitted "hit" after 2 s
