"""`anchorworld edit LEVEL.level.json`: the level editor (a new file is created on first save)."""

from __future__ import annotations

import argparse
from typing import Any


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH such as 1280x720, got {text!r}") from None
    if not (64 <= w <= 16384 and 64 <= h <= 16384):
        raise argparse.ArgumentTypeError(f"size out of range: {text!r}")
    return w, h


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return n


def register(sub: Any) -> None:
    """Add the ``edit`` subcommand."""
    p = sub.add_parser(
        "edit",
        help="open the level editor",
        description="Block out a level with low-poly proxies, preview the world model's splats, play it in place.",
    )
    p.add_argument("level", nargs="?", help="LEVEL.level.json (created on first save if missing)")
    p.add_argument("--size", type=_size, default=(1280, 720), help="window size WxH (default 1280x720)")
    p.add_argument("--frames", type=_positive, help="quit after N frames (automation)")
    p.add_argument("--screenshot", metavar="PNG", help="write the last frame to PNG (with --frames)")
    p.add_argument("--commands", metavar="FILE", help="run editor commands from FILE (JSON lines; see docs)")
    p.add_argument("--benchmark", action="store_true", help="print frame-time statistics as JSON at exit")
    p.add_argument("--view", choices=("proxies", "splats", "both"), default="proxies",
                   help="viewport mode at start (splats/both start the live AI preview; keys 1/2/3 switch)")
    p.add_argument("--no-splats", action="store_true", help="hide splats and skip the live AI preview")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from tools.editor.app import EditorApp

    app = EditorApp(
        args.level,
        size=args.size,
        commands=args.commands,
        frames=args.frames,
        screenshot=args.screenshot,
        benchmark=args.benchmark,
        splats=not args.no_splats,
        view=args.view,
    )
    return app.run()
