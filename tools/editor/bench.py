"""Editor frame time: the real editor window (needs a display; use xvfb-run) for N frames.

    xvfb-run -a anchorworld bench editor --json --level games/village.level.json --frames 200
"""

from __future__ import annotations

import argparse
import os
import statistics
from collections.abc import Iterator
from typing import Any


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``anchorworld bench editor``."""
    p.add_argument("--level", default="games/village.level.json", help="level to open")
    p.add_argument("--frames", type=int, default=200, help="frames to draw (the first 10 are warm-up)")
    p.add_argument("--size", default="1280x720", help="window size WxH")
    p.add_argument("--view", choices=("proxies", "splats", "both"), default="proxies",
                   help="viewport mode (splats/both run the live world-model preview)")


def run(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """One row: median / p95 frame time and FPS of the editor with the level open."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from tools.editor.app import EditorApp

    w, h = (int(v) for v in args.size.lower().split("x"))
    app = EditorApp(args.level, size=(w, h), frames=max(args.frames, 20), splats=args.view != "proxies",
                    view=args.view)
    renderer = app.ctx.info.get("GL_RENDERER", "?")
    n = len(app.doc.entities)
    app.run()
    body = sorted(app.frame_ms[10:])
    med = statistics.median(body)
    yield {
        "area": "editor",
        "level": args.level,
        "entities": n,
        "size": f"{w}x{h}",
        "view": args.view,
        "frames": len(body),
        "frame_ms_median": round(med, 2),
        "frame_ms_p95": round(body[int(0.95 * (len(body) - 1))], 2),
        "fps": round(1000.0 / med, 1),
        "gl_renderer": renderer,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
