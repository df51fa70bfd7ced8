"""Dynamic resolution of the splat layer in a window on software GL: slower frames get a smaller
splat layer, faster ones a larger, a steady load a steady size; headless frames never change."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from systems.view import SCALES, ResolutionGovernor


def run(gov: ResolutionGovernor, period_at_scale, frames: int) -> list[float]:
    """Feed ``frames`` frames whose period is ``period_at_scale(scale)``; the scales used."""
    used = []
    for _ in range(frames):
        used.append(gov.scale)
        gov.update(period_at_scale(gov.scale))
    return used


def test_an_overloaded_machine_steps_down_until_frames_reach_the_target() -> None:
    gov = ResolutionGovernor(0.5, target_fps=20.0)
    # 10 ms fixed + 400 ms per full-size frame of pixels: 110 ms at half size (9 FPS)
    used = run(gov, lambda s: 0.010 + 0.4 * s * s, 200)
    assert used[0] == 0.5 and used[-1] < 0.5
    assert 0.010 + 0.4 * used[-1] ** 2 <= 0.05  # 20 FPS or better at the size it settled on
    assert len(set(used[-50:])) == 1  # settled: no oscillation


def test_a_fast_machine_steps_up_and_stops_below_the_target() -> None:
    gov = ResolutionGovernor(0.5, target_fps=20.0)
    used = run(gov, lambda s: 0.005 + 0.02 * s * s, 300)  # 10 ms at half size
    assert used[-1] == 1.0  # full size still runs at 40 FPS
    gov = ResolutionGovernor(0.5, target_fps=20.0)
    used = run(gov, lambda s: 0.005 + 0.1 * s * s, 300)  # 30 ms at half size, 105 ms at full
    assert 0.5 < used[-1] < 1.0 and 0.005 + 0.1 * used[-1] ** 2 <= 0.05
    assert len(set(used[-50:])) == 1


def test_the_floor_and_stalls() -> None:
    gov = ResolutionGovernor(0.5, target_fps=20.0)
    used = run(gov, lambda s: 1.0, 300)  # hopeless: 1 FPS at any size
    assert used[-1] == SCALES[0]
    gov = ResolutionGovernor(0.5, target_fps=20.0)
    for _ in range(50):
        gov.update(0.03)
    before = gov.scale
    gov.update(30.0)  # a stall (a breakpoint, a resize) is not a load level
    gov.update(float("nan"))
    gov.update(-1.0)
    assert gov.scale == before


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=10.0) | st.just(float("nan")), min_size=1, max_size=200),
       st.sampled_from(SCALES))
def test_the_scale_is_always_a_ladder_size(periods, start) -> None:
    gov = ResolutionGovernor(start)
    for p in periods:
        s = gov.update(p)
        assert s in SCALES


@pytest.mark.gl
def test_a_window_on_software_gl_adapts_and_headless_frames_stay_full_size() -> None:
    from engine.game import Game
    from engine.presenter import Presenter
    from engine.render.context import headless_context

    game = Game(seed=3, name="resolution-test")
    game.ground(size=8.0)
    game.box(pos=(0, 0.6, 3), half_extents=(0.6, 0.6, 0.6), material="brick", uid="crate")
    game.player(pos=(0, 0, 0))
    stage = game.system("worldmodel")
    stage.worker, stage.device, stage.min_lod = "thread", "cpu", 2
    game.tick()
    ctx = headless_context(330)
    try:
        p = Presenter(game, ctx, (96, 64))
        view = p.splat_view
        view.wait = True
        p.render(1.0)
        full = p.frame.read_rgb()
        if view.governor is None:
            pytest.skip(f"not software GL: {ctx.info.get('GL_RENDERER')}")
        view.wait = False
        view.governor.period = 1e-9  # no machine reaches this: every settled window steps down
        for _ in range(60):
            p.render(1.0)
        assert view.render_scale == SCALES[0]
        view.wait = True
        p.render(1.0)
        assert np.array_equal(p.frame.read_rgb(), full)  # headless: full size whatever the governor did
        assert "splats at 25%" in view.stats_line()
        p.close()
    finally:
        stage.close()
        ctx.release()
