"""Proxy pass, frame renderer and presenter, rendered headless through EGL (Mesa llvmpipe)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.render.mesh import mesh_key, unit_mesh
from engine.splats.vocab import SHAPES

pytestmark = pytest.mark.gl


@pytest.fixture(scope="module")
def ctx():
    from engine.render.context import headless_context

    c = headless_context(330)
    yield c
    c.release()


@pytest.mark.parametrize("shape", SHAPES)
def test_meshes_fit_the_unit_box_with_unit_outward_normals(shape: str) -> None:
    m = unit_mesh(shape, 1.5)
    pos, nrm = m[:, :3], m[:, 3:]
    assert len(m) % 3 == 0 and len(m) >= 6
    assert np.all(np.abs(pos) <= 1.5 + 1e-6)
    assert np.allclose(np.linalg.norm(nrm, axis=1), 1, atol=1e-5)
    if shape != "plane":
        tri = pos.reshape(-1, 3, 3).mean(axis=1)
        assert np.all(np.sum(tri * nrm[::3], axis=1) > -1e-6)  # convex: faces look away from the centre


def test_capsule_keeps_round_caps() -> None:
    key, scale = mesh_key("capsule", np.array([0.3, 1.2, 0.5]))
    assert key == ("capsule", 4.0) and scale.tolist() == [0.3, 0.3, 0.3]
    assert np.isclose(np.abs(unit_mesh("capsule", 4.0)[:, 1]).max(), 4.0)
    # shorter than wide: the ellipsoid (r, hy, r) inside the box, as the teacher and the anchors
    key, scale = mesh_key("capsule", np.array([0.5, 0.2, 0.6]))
    assert key == ("sphere", 1.0) and scale.tolist() == [0.5, 0.2, 0.5]


def _frame(ctx, size=(96, 64)):
    from engine.render.frame import FrameRenderer

    return FrameRenderer(ctx, size)


def _sky(fr) -> np.ndarray:
    return np.array([round(255 * c ** (1 / 2.2)) for c in fr.background])


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_draws_inside_its_box(ctx, shape: str) -> None:
    fr = _frame(ctx)
    fr.proxies.set_proxy("a", shape, (0.6, 0.5, 0.6), "brick")
    fr.proxies.xform("a", np.eye(4))
    eye = (0.0, 1.5, -3.0) if shape == "plane" else (0.0, 0.3, -3.0)
    cam = fr.camera(eye, (0, 0, 0), fov_y=50)
    fr.render(cam)
    img = fr.read_rgb().astype(int)
    fg = np.abs(img - _sky(fr)).sum(axis=2) > 12
    assert fg.sum() > 30, f"{shape} not visible"
    box = _frame(ctx)
    box.proxies.set_proxy("a", "box", (0.6, 0.5, 0.6), "brick")
    box.proxies.xform("a", np.eye(4))
    box.render(cam)
    fg_box = np.abs(box.read_rgb().astype(int) - _sky(box)).sum(axis=2) > 12
    assert fg.sum() <= fg_box.sum() + 2  # every shape lies inside the half-extent box
    fr.release()
    box.release()


def test_remove_restyle_and_depth(ctx) -> None:
    fr = _frame(ctx)
    px = fr.proxies
    px.set_proxy("near", "box", (0.5, 0.5, 0.5), "metal")
    m = np.eye(4)
    m[2, 3] = 2.0
    px.xform("near", m)
    px.set_proxy("far", "box", (2, 2, 0.1), "brick")
    m2 = np.eye(4)
    m2[2, 3] = 6.0
    px.xform("far", m2)
    cam = fr.camera((0, 0, -2), (0, 0, 2))
    fr.render(cam)
    centre = fr.read_rgb()[32, 48].astype(int)
    assert centre[0] - centre[2] < 30  # grey metal in front hides the red brick wall
    px.remove("near")
    fr.render(cam)
    c2 = fr.read_rgb()[32, 48].astype(int)
    assert c2[0] > c2[2] + 30  # now the brick behind shows
    px.set_proxy("far", "box", (2, 2, 0.1), "grass")
    fr.render(cam)
    c3 = fr.read_rgb()[32, 48].astype(int)
    assert c3[1] > c3[0] and c3[1] > c3[2]
    assert len(px) == 1 and "near" not in px
    fr.release()


def test_hello_screenshot_shows_proxies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The proxy view alone (no splat layer hooked in): sky above, grass below, objects between."""
    from PIL import Image

    from engine import presenter
    from engine.presenter import render_screenshot
    from engine.scripting import load_game

    monkeypatch.setattr(presenter, "presenter_hooks", [])
    g = load_game(Path(__file__).resolve().parents[2] / "games" / "hello.py")
    for _ in range(60):
        g.tick()
    presenter.presenter_hooks.clear()  # the world-model stage hooks its splat layer in on attach
    out = render_screenshot(g, tmp_path / "out.png", (320, 180))
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert img.shape == (180, 320, 3)
    sky = np.array([round(255 * c ** (1 / 2.2)) for c in (0.62, 0.74, 0.88)])
    top, bottom = img[:60], img[120:]
    assert (np.abs(top - sky).sum(axis=2) < 6).mean() > 0.5  # sky above
    ground = bottom.reshape(-1, 3).mean(axis=0)
    assert ground[1] > ground[0] and ground[1] > ground[2]  # grass below
    band = img[70:115]
    non_env = (np.abs(band - sky).sum(axis=2) > 30) & ~((band[..., 1] > band[..., 0] + 20) & (band[..., 1] > band[..., 2]))
    assert non_env.mean() > 0.2  # crates and the ball in the middle band


def test_presenter_interpolates_moves(ctx) -> None:
    from engine.components import Transform
    from engine.game import Game
    from engine.presenter import Presenter

    g = Game(systems=["scripts", "rules", "layout", "camera"])  # proxies only: no splat layer
    e = g.box(pos=(0, 0, 5))
    g.tick()
    p = Presenter(g, ctx, (32, 32))
    g.world.get(e, Transform).pos[0] = 2.0
    g.tick()
    p.render(0.5)
    key, i = p.frame.proxies.where["box-1"]
    col = p.frame.proxies.batches[key].data[i]
    assert col[12] == pytest.approx(1.0)  # x translation halfway between ticks
    p.render(1.0)
    assert p.frame.proxies.batches[key].data[i][12] == pytest.approx(2.0)
    g.despawn(e)
    g.tick()
    assert "box-1" not in p.frame.proxies
    p.close()
