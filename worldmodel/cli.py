"""`anchorworld worldmodel {data,train,eval}`: datasets from the teacher, training, evaluation.

Imports nothing heavy at import time: torch and ModernGL load inside the commands.
"""

from __future__ import annotations

import argparse
from typing import Any

from engine.splats.vocab import MATERIAL_NAMES


def register(sub: Any) -> None:
    """Add the `worldmodel` subcommand with its `data`, `train` and `eval` subcommands."""
    p = sub.add_parser("worldmodel", help="world model: teacher datasets, training, evaluation")
    wm = p.add_subparsers(dest="wm_command", metavar="WM_COMMAND", required=True)

    d = wm.add_parser("data", help="render a teacher dataset (progress bar)")
    try:
        from worldmodel.data import add_data_arguments
    except ModuleNotFoundError as exc:
        if exc.name and "worldmodel" in exc.name:
            d.set_defaults(func=_missing_data)
        else:
            raise
    else:
        add_data_arguments(d)
        d.set_defaults(func=_run_data)

    t = wm.add_parser("train", help="train the world model (GPU: gsplat; CPU: --tiny with the torch compositor)")
    add_train_arguments(t)
    t.set_defaults(func=_run_train)

    e = wm.add_parser("eval", help="held-out evaluation: model vs floor vs ceiling, one JSON object per material")
    add_eval_arguments(e)
    e.set_defaults(func=_run_eval)


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `anchorworld worldmodel train`."""
    p.add_argument("--out", default="out/worldmodel-run", help="run folder (resumes from its state.pt)")
    p.add_argument("--tiny", action="store_true", help="tiny CPU configuration (CI)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--steps", type=int, default=None, help="total steps of the run's schedule")
    p.add_argument("--max-steps", type=int, default=None, help="stop this call after this many steps")
    p.add_argument("--minutes", type=float, default=1e9, help="stop this call after this many minutes")
    p.add_argument("--save-minutes", type=float, default=3.0, help="save the state this often")
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--size", type=int, default=None, help="image side in pixels")
    p.add_argument("--views", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", choices=("auto", "torch", "gsplat"), default="auto")
    p.add_argument("--export", default=None, help="also copy the EMA inference checkpoint here at the end")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--data", default=None, help="train from a dataset folder (`worldmodel data`) instead of live teacher renders")
    p.add_argument("--workers", type=int, default=0, help="teacher worker processes rendering ahead (0: inline)")
    p.add_argument("--pool", type=int, default=None, help="teacher items held at once")
    p.add_argument("--refresh", type=int, default=None, help="teacher items replaced per step (at most)")
    p.add_argument("--warmup", type=int, default=None, help="learning-rate warm-up steps")
    p.add_argument("--train-only", default=None, help="train only parameters whose name starts with one of these comma-separated prefixes (e.g. style_head,style_mlp)")
    p.add_argument("--materials", nargs="+", choices=MATERIAL_NAMES, metavar="TAG", default=None,
                   help="materials the teacher draws (default all); a tag given k times is drawn k times as often")
    p.add_argument("--init", default=None, help="warm-start a new run from this inference checkpoint (same architecture)")



def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `anchorworld worldmodel eval`."""
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--quick", action="store_true", help="small held-out set (2-core CPU: a few minutes)")
    p.add_argument("--checkpoint", default=None, help="inference checkpoint (default: the shipped one)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--ceiling", default=None, help="stored ceiling JSON (default: beside the shipped checkpoint)")
    p.add_argument("--compute-ceiling", action="store_true", help="optimise per-instance 3DGS now and store it")
    p.add_argument("--ceiling-steps", type=int, default=300)
    p.add_argument("--missing-only", action="store_true", help="with --compute-ceiling: keep stored values, fit only missing ones")
    p.add_argument("--materials", default=None, help="comma-separated subset of materials")


def _missing_data(args: argparse.Namespace) -> int:
    from engine.errors import AnchorworldError

    raise AnchorworldError("the teacher dataset writer (worldmodel.data) is not installed in this build")


def _run_data(args: argparse.Namespace) -> int:
    from worldmodel.data import run_data

    return int(run_data(args) or 0)


def _run_train(args: argparse.Namespace) -> int:
    from worldmodel.train import run_train

    return run_train(args)


def _run_eval(args: argparse.Namespace) -> int:
    from worldmodel.eval import run_eval

    return run_eval(args)
