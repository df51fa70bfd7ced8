"""`anchorworld bench AREA --json`: one JSON object per line, one module per area.

Each area module defines ``add_arguments(parser)`` and ``run(args) -> Iterator[dict]``; each
yielded dict is printed as one JSON line (with ``--json``) or as ``key=value`` text.
"""

from __future__ import annotations

import argparse
import importlib
import json
from typing import Any

AREAS: dict[str, str] = {
    "engine": "tools.bench.engine",
    "physics": "tools.bench.physics",
    "render": "tools.bench.render",
    "worldmodel": "tools.bench.worldmodel",
    "loop": "tools.bench.loop",
    "editor": "tools.editor.bench",
}


def register(sub: Any) -> None:
    """Add the `bench` subcommand and one sub-subcommand per area."""
    p = sub.add_parser("bench", help="measure speed; prints one JSON object per line with --json")
    areas = p.add_subparsers(dest="area", metavar="AREA", required=True)
    for name, module in AREAS.items():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                continue
            raise
        ap = areas.add_parser(name, help=(mod.__doc__ or name).strip().splitlines()[0])
        ap.add_argument("--json", action="store_true", help="print one JSON object per line")
        mod.add_arguments(ap)
        ap.set_defaults(func=lambda args, mod=mod: _run(mod, args))


def _run(mod: Any, args: argparse.Namespace) -> int:
    for row in mod.run(args):
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return 0
