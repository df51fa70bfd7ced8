"""`anchorworld run GAME`: play a game script or level in a window, or run it headless.

    anchorworld run games/hello.py                              # a window (WASD + mouse, F5 reload)
    anchorworld run games/hello.py --headless --ticks 300 --state-hash
    anchorworld run games/hello.py --headless --ticks 300 --record r.replay
    anchorworld run games/hello.py --headless --replay r.replay --state-hash
    anchorworld run games/hello.py --headless --ticks 600 --save s.sav
    anchorworld run games/hello.py --load s.sav --ticks 0 --state-hash --screenshot b.png

Without a display, a plain ``run`` says so in one line, runs headless and writes a screenshot.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from engine.errors import InputError

DEFAULT_HEADLESS_TICKS = 300


def parse_size(text: str) -> tuple[int, int]:
    """``"640x360"`` → (640, 360); argparse turns the error into exit code 2."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 640x360, got {text!r}") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise argparse.ArgumentTypeError(f"width and height must be within 16..8192, got {text!r}")
    return w, h


def _nonneg_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {v}")
    return v


def _seed(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not 0 <= v < (1 << 63):
        raise argparse.ArgumentTypeError(f"expected a seed in [0, 2^63), got {v}")
    return v


def add_run_options(p: argparse.ArgumentParser) -> None:
    """The options shared by ``anchorworld run`` and ``python script.py``."""
    p.add_argument("--headless", action="store_true", help="no window: simulate (and render offscreen through EGL)")
    p.add_argument("--ticks", type=_nonneg_int, metavar="N",
                   help=f"stop after N ticks (headless default {DEFAULT_HEADLESS_TICKS}, or the replay's length)")
    p.add_argument("--seed", type=_seed, metavar="S", help="world seed (overrides the game's)")
    p.add_argument("--record", metavar="FILE", help="record per-tick input actions to FILE (msgpack)")
    p.add_argument("--replay", metavar="FILE", help="feed input actions from a recording instead of devices")
    p.add_argument("--save", metavar="FILE", help="write a save of the whole engine state after the last tick")
    p.add_argument("--load", metavar="FILE", help="start from a save file")
    p.add_argument("--screenshot", metavar="PNG", help="render the final frame to a PNG")
    p.add_argument("--size", type=parse_size, metavar="WxH", help="window / screenshot size (default 1280x720, headless 640x360)")
    p.add_argument("--state-hash", action="store_true", help="print a hash of the full engine state after the last tick")


def register(sub: Any) -> None:
    """Add the ``run`` subcommand."""
    p = sub.add_parser(
        "run",
        help="play a game script (.py) or level (.level.json), or run it headless",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.split("\n\n")[1:]),
    )
    p.add_argument("game", metavar="GAME", help="a game script (games/hello.py) or a level file (*.level.json)")
    add_run_options(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Load GAME and run it with the options."""
    from engine.scripting import load_game

    path = Path(args.game)
    if not path.exists():
        raise InputError(args.game, "GAME", "an existing game script (.py) or level (.level.json)")
    game = load_game(path, seed=args.seed)
    return run_loaded(game, args)


def run_game(game: Any, argv: list[str]) -> int:
    """``game.run()`` from ``python script.py [options]``: parse the same options and run."""
    p = argparse.ArgumentParser(prog=Path(sys.argv[0]).name, description="Run this Anchorworld game.")
    add_run_options(p)
    args = p.parse_args(argv)
    if args.seed is not None and args.seed != game.seed:
        p.error("--seed works with `anchorworld run SCRIPT --seed S` (the script already built its world)")
    from engine.errors import AnchorworldError

    try:
        return run_loaded(game, args)
    except AnchorworldError as exc:
        print(f"{p.prog}: error: {exc}", file=sys.stderr)
        return 1


def display_available() -> bool:
    """Whether a window can probably be opened (X11/Wayland on Linux; always elsewhere)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def run_loaded(game: Any, args: argparse.Namespace) -> int:
    """Run an already-built game according to the parsed options; returns the exit code."""
    from engine.input import EMPTY, Recording

    if args.load:
        game.load(args.load)
    replay = Recording.load(args.replay) if args.replay else None
    if replay is not None and replay.seed != game.seed:
        raise InputError(args.replay, "seed", f"a recording of seed {game.seed}; it was recorded with seed {replay.seed} (pass --seed {replay.seed})")
    recorder = Recording(seed=game.seed, tick_rate=game.clock.tick_rate, game=str(game.script_path or game.level_path or "")) if args.record else None
    headless = args.headless
    screenshot = args.screenshot
    why = None if headless or display_available() else "no display found ($DISPLAY is not set)"
    if not headless and why is None:
        from engine.window import WindowUnavailable, run_window

        size = args.size or (1280, 720)
        try:
            run_window(game, size=size, max_ticks=args.ticks, replay=replay, recorder=recorder, screenshot=screenshot)
            screenshot = None  # written by the window (one GL context per process)
        except WindowUnavailable as exc:
            why = str(exc)
    if why is not None:
        headless = True
        if screenshot is None:
            screenshot = f"{Path(getattr(args, 'game', None) or game.name).name.replace('.level.json', '').replace('.py', '')}-screenshot.png"
        print(f"anchorworld run: {why}, running headless; the final frame goes to {screenshot}", flush=True)
    if headless:
        ticks = args.ticks
        if ticks is None:
            ticks = len(replay.ticks) if replay is not None else DEFAULT_HEADLESS_TICKS
        for i in range(ticks):
            state = replay.ticks[i] if replay is not None and i < len(replay.ticks) else EMPTY
            if recorder is not None:
                recorder.ticks.append(state)
            game.tick(state)
        size = args.size or (640, 360)
    if recorder is not None:
        recorder.save(args.record)
    if args.save:
        game.save(args.save)
    if screenshot:
        from engine.presenter import render_screenshot

        render_screenshot(game, screenshot, size)
        if screenshot != args.screenshot:
            print(f"anchorworld run: wrote {screenshot}", flush=True)
    if args.state_hash:
        print(game.state_hash(), flush=True)
    return 0
