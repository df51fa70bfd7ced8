"""`anchorworld run` end to end in subprocesses: hashes, record/replay, save/load, errors, no display."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
HELLO = str(ROOT / "games" / "hello.py")


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    e = dict(os.environ)
    e.pop("DISPLAY", None)
    e.pop("WAYLAND_DISPLAY", None)
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, env=e,
                          cwd=cwd or ROOT, timeout=120)


def _hash(p: subprocess.CompletedProcess) -> str:
    assert p.returncode == 0, p.stderr
    h = p.stdout.strip().splitlines()[-1]
    assert len(h) == 64
    return h


def test_same_hash_twice_and_seed_changes_it() -> None:
    a = _hash(run("run", HELLO, "--headless", "--ticks", "120", "--state-hash"))
    b = _hash(run("run", HELLO, "--headless", "--ticks", "120", "--state-hash"))
    assert a == b


def test_seed_changes_the_hash(capsys: pytest.CaptureFixture[str]) -> None:
    assert main("run", HELLO, "--headless", "--ticks", "10", "--state-hash") == 0
    a = capsys.readouterr().out.split()[-1]
    assert main("run", HELLO, "--headless", "--ticks", "10", "--state-hash", "--seed", "2") == 0
    assert capsys.readouterr().out.split()[-1] != a


def test_record_then_replay(tmp_path: Path) -> None:
    rec = tmp_path / "r.replay"
    a = _hash(run("run", HELLO, "--headless", "--ticks", "90", "--record", str(rec), "--state-hash"))
    b = _hash(run("run", HELLO, "--headless", "--replay", str(rec), "--state-hash"))
    assert a == b


def test_save_then_load(tmp_path: Path) -> None:
    sav = tmp_path / "s.sav"
    a = _hash(run("run", HELLO, "--headless", "--ticks", "100", "--save", str(sav), "--state-hash"))
    b = _hash(run("run", HELLO, "--headless", "--load", str(sav), "--ticks", "0", "--state-hash"))
    assert a == b


def main(*args: str) -> int:
    from engine.cli import main as cli_main

    try:
        return cli_main(list(args))
    except SystemExit as exc:  # argparse errors and --help
        return int(exc.code or 0)


@pytest.mark.parametrize(
    "args",
    [["--ticks", "-3"], ["--ticks", "ten"], ["--size", "12"], ["--size", "640x0"], ["--seed", "x"], ["--bogus"]],
)
def test_bad_arguments_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main("run", HELLO, "--headless", *args) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_bad_files_one_line_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.sav"
    bad.write_bytes(b"\x93garbage")
    for args in (["run", str(tmp_path / "nope.py")], ["run", HELLO, "--headless", "--load", str(bad)],
                 ["run", HELLO, "--headless", "--replay", str(bad)]):
        assert main(*args) == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and str(args[-1]) in err


def test_no_display_falls_back_to_headless_and_names_a_screenshot(tmp_path: Path) -> None:
    p = run("run", HELLO, "--ticks", "5", "--size", "256x144", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    first = p.stdout.splitlines()[0]
    assert "no display" in first and "hello-screenshot.png" in first
    from PIL import Image

    img = np.asarray(Image.open(tmp_path / "hello-screenshot.png").convert("RGB")).astype(float)
    assert img.shape == (144, 256, 3) and img.std(axis=(0, 1)).max() > 10  # a picture, not a blank frame


def test_level_file_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from engine.components import Proxy, Transform
    from engine.levels import Level, LevelEntity

    script = tmp_path / "rules.py"
    script.write_text("def setup(game):\n    game.every_tick(lambda g, dt: g.move(g.find('crate'), by=(0, 0, dt)))\n")
    lv = Level("yard", 3, "rules.py", {"pos": [0, 0, -4], "yaw": 0},
               [LevelEntity("crate", "Crate", [], {"Transform": Transform(pos=(0, 0.5, 0)), "Proxy": Proxy()})])
    lv.save(tmp_path / "yard.level.json")
    hashes = []
    for _ in range(2):
        assert main("run", str(tmp_path / "yard.level.json"), "--headless", "--ticks", "30", "--state-hash") == 0
        hashes.append(capsys.readouterr().out.split()[-1])
    assert hashes[0] == hashes[1]


def test_help_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--help"], ["run", "--help"], ["bench", "engine", "--help"]):
        assert main(*args) == 0
        assert "usage" in capsys.readouterr().out
