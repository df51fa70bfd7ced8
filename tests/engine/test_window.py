"""A real pygame window with an OpenGL 3.3 core context (run under Xvfb: `xvfb-run -a pytest`).

Each check runs in its own process: a GLX window and the EGL contexts other tests create do not
mix safely in one process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = [pytest.mark.window, pytest.mark.gl,
              pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs a display (run under xvfb-run)")]


def _run(code: str) -> None:
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "OK" in p.stdout


def test_window_opens_and_shows_proxies() -> None:
    _run("""
        import numpy as np
        from engine import presenter as presenter_mod
        from engine.game import Game
        from engine.presenter import Presenter
        from engine.window import ScreenBlit, open_window

        g = Game(seed=1, systems=["scripts", "rules", "layout", "camera"])
        g.ground()
        g.box(pos=(0, 0.7, 3), half_extents=(0.7, 0.7, 0.7), material="brick")
        g.player()
        g.tick()
        pygame, ctx = open_window((160, 120), "test")
        assert ctx.version_code >= 330, ctx.version_code
        presenter_mod.presenter_hooks.clear()
        p = Presenter(g, ctx, (160, 120))
        p.render(1.0)
        ScreenBlit(ctx).draw(p.frame.colour)
        img = np.frombuffer(ctx.screen.read(components=3), np.uint8).reshape(120, 160, 3)[::-1].astype(int)
        pygame.display.flip()
        c = img[60, 80]
        assert c[0] > c[2] + 20, c  # the brick box in the middle of the window
        p.close()
        pygame.quit()
        print("OK")
    """)


def test_run_window_loop_with_replay_and_quit() -> None:
    _run("""
        from engine.game import Game
        from engine.input import ActionState, Recording
        from engine.window import run_window

        g = Game(seed=1, systems=["scripts", "rules", "layout", "camera"])
        g.box(pos=(0, 0.5, 3))
        g.player()
        rec = Recording([ActionState(axes=(("move_z", 1.0),))] * 1000, seed=1)
        out = Recording(seed=1)
        frames = run_window(g, size=(128, 96), replay=rec, recorder=out, max_frames=20)
        assert frames == 20
        assert len(out.ticks) == g.tick_count and all(s == rec.ticks[0] for s in out.ticks)
        print("OK")
    """)


def test_cli_run_in_a_window_writes_its_screenshot(tmp_path) -> None:
    from pathlib import Path

    hello = Path(__file__).resolve().parents[2] / "games" / "hello.py"
    out = tmp_path / "w.png"
    p = subprocess.run([sys.executable, "-m", "engine.cli", "run", str(hello), "--ticks", "20", "--size", "200x120",
                        "--screenshot", str(out), "--state-hash"], capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr
    assert "headless" not in p.stdout  # it really ran in the window
    assert len(p.stdout.split()[-1]) == 64 and out.stat().st_size > 1000
