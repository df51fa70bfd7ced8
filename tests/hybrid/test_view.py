"""The splat view: proxies stand in until Gaussians arrive, view modes, the game's text overlay."""

from __future__ import annotations

import numpy as np
import pytest

from engine.game import Game
from engine.render.context import headless_context

pytestmark = pytest.mark.gl


@pytest.fixture
def scene():
    game = Game(seed=3, name="view-test")
    game.ground(size=8.0)
    game.box(pos=(0, 0.6, 3), half_extents=(0.6, 0.6, 0.6), material="brick", uid="crate")
    game.player(pos=(0, 0, 0))
    game.system("worldmodel").min_lod = 2  # cheap
    game.tick()
    ctx = headless_context(330)
    from engine.presenter import Presenter

    p = Presenter(game, ctx, (96, 64))
    p.splat_view.wait = True  # headless behaviour even if another test left a pygame window open
    yield game, p, ctx
    game.system("worldmodel").close()
    p.close()
    ctx.release()


def frame(p) -> np.ndarray:
    p.render(1.0)
    return p.frame.read_rgb()


def test_proxies_stand_in_until_gaussians_arrive_then_splats_replace_them(scene) -> None:
    game, p, ctx = scene
    view = p.splat_view
    view.wait = False
    view.stage.budget = 0  # nothing generated yet: the frame must not wait
    first = frame(p)
    assert set(view.pending_proxies.where) == {"crate", "ground"}
    assert view.splats.stats()["splats"] == 0
    view.wait = True
    second = frame(p)
    assert not view.pending_proxies.where and view.splats.stats()["splats"] > 0
    assert not np.array_equal(first, second)


def test_view_modes_cycle_and_change_the_picture(scene) -> None:
    game, p, ctx = scene
    view = p.splat_view
    images = {}
    for _ in range(3):
        images[view.mode] = frame(p)
        view.cycle_mode()
    assert set(images) == {"splats", "proxies", "both"} and view.mode == "splats"
    assert p.frame.show_proxies is False
    for a, b in (("splats", "proxies"), ("splats", "both"), ("proxies", "both")):
        assert not np.array_equal(images[a], images[b]), (a, b)


def test_v_key_action_toggles_the_view_and_game_text_is_drawn(scene) -> None:
    from engine.input import ActionState

    game, p, ctx = scene
    view = p.splat_view
    plain = frame(p)
    game.vars["hud"] = ["Found 1/3"]
    with_text = frame(p)
    corner = (slice(0, 30), slice(0, 60))
    assert not np.array_equal(plain[corner], with_text[corner])
    assert np.array_equal(plain[40:], with_text[40:])  # only the corner changed
    game.tick(ActionState(frozenset({"toggle_view"})))
    frame(p)
    assert view.mode == "proxies"


def test_moving_things_are_interpolated_in_a_window_and_not_headless(scene) -> None:
    game, p, ctx = scene
    view = p.splat_view
    frame(p)  # flushed: the crate has its Gaussians
    crate = game.find("crate")
    game.move(crate, (0, 0.6, 4))
    game.tick()
    view.wait = False
    p.render(0.5)
    np.testing.assert_allclose(view.all_proxies.matrix["crate"][:3, 3], (0, 0.6, 3.5))
    game.tick()  # it stopped: back to the tick transform
    p.render(0.5)
    np.testing.assert_allclose(view.all_proxies.matrix["crate"][:3, 3], (0, 0.6, 4))
    view.wait = True
    game.move(crate, (0, 0.6, 5))
    game.tick()
    p.render(0.5)
    np.testing.assert_allclose(view.all_proxies.matrix["crate"][:3, 3], (0, 0.6, 5))


def test_reduced_size_splat_layer_in_a_window_matches_the_full_size_one(scene) -> None:
    game, p, ctx = scene
    view = p.splat_view
    full = frame(p).astype(np.int16)  # flushed, full size
    view.wait, view.render_scale = False, 0.5
    half = frame(p).astype(np.int16)
    assert not np.array_equal(full, half)
    assert np.abs(full - half).mean() < 12  # the same picture, a little softer
