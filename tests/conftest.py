"""Shared fixtures: no ECS state leaks between tests (esper keeps its worlds in module globals)."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import esper
import pytest

# Tests marked ``own_process`` run in a fresh interpreter: a GLX window (pygame under Xvfb) and the
# EGL contexts other tests leave in a worker process do not mix safely in one process.
_CHILD = "ANCHORWORLD_TEST_CHILD"
_ROOT = Path(__file__).resolve().parents[1]


def _run_in_own_process(item: pytest.Item) -> None:
    env = dict(os.environ, **{_CHILD: "1"})
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", item.nodeid]
    done = subprocess.run(cmd, cwd=_ROOT, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"{item.nodeid} failed in its own process:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}", pytrace=False)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(_CHILD):
        return
    for item in items:
        if item.get_closest_marker("own_process"):
            item.runtest = functools.partial(_run_in_own_process, item)  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _fresh_esper():
    """Each test starts in a clean default esper world; worlds a test created are deleted after it."""
    before = set(esper.list_worlds())
    esper.switch_world("default")
    esper.clear_database()
    esper.event_registry.clear()
    yield
    esper.switch_world("default")
    esper.clear_database()
    esper.event_registry.clear()
    for name in set(esper.list_worlds()) - before:
        if name != "default":
            esper.delete_world(name)
    from engine import game as game_mod

    game_mod._loading.update(active=False, games=[], reload=None, seed=None, path=None)
