"""The `anchorworld` command line: one subcommand per module, imported lazily.

Each module in ``COMMANDS`` defines ``register(subparsers)``, which adds its parser and sets
``func(args) -> int``. Modules must import cheaply (no torch or moderngl at import time), so
``--help`` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from engine.errors import AnchorworldError

COMMANDS: dict[str, str] = {
    "run": "engine.run_command",
    "bench": "tools.bench",
    "view": "tools.viewer",
    "render": "tools.render_command",
    "worldmodel": "worldmodel.cli",
    "edit": "tools.editor.cli",
}


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="anchorworld",
        description="Anchorworld: a Python game runtime with hybrid rules and AI rendering.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS.values():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                continue  # that part is not built yet
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except AnchorworldError as exc:
        print(f"anchorworld {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `anchorworld bench ... | head -1`: the reader left, which is not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
