"""The ModernGL ImGui renderer draws real ImGui windows headless (EGL): font atlas, colours, scissor."""

from __future__ import annotations

import numpy as np
import pytest

imgui = pytest.importorskip("imgui_bundle").imgui

pytestmark = pytest.mark.gl


@pytest.fixture()
def gui():
    from engine.render.context import headless_context
    from tools.editor.imgui_renderer import ImGuiRenderer

    ctx = headless_context()
    imgui.create_context()
    io = imgui.get_io()
    io.set_ini_filename("")
    io.display_size = (320, 240)
    renderer = ImGuiRenderer(ctx)
    fbo = ctx.simple_framebuffer((320, 240))
    yield ctx, renderer, fbo
    renderer.release()
    imgui.destroy_context()
    ctx.release()


def _frame(renderer, fbo, body) -> np.ndarray:
    imgui.get_io().delta_time = 1 / 60
    imgui.new_frame()
    body()
    imgui.render()
    fbo.use()
    fbo.clear(0.0, 0.0, 0.0, 1.0)
    renderer.render(imgui.get_draw_data(), fbo)
    return np.frombuffer(fbo.read(components=3), np.uint8).reshape(240, 320, 3)[::-1]


def _window(colour: tuple[float, float, float, float]):
    def body():
        imgui.set_next_window_pos((20, 20))
        imgui.set_next_window_size((200, 120))
        imgui.push_style_color(imgui.Col_.window_bg, colour)
        imgui.begin("Known window")
        imgui.text("Anchorworld")
        imgui.end()
        imgui.pop_style_color()

    return body


def test_window_background_title_and_text_reach_the_pixels(gui):
    _, renderer, fbo = gui
    body = _window((1.0, 0.0, 0.0, 1.0))
    for _ in range(2):
        img = _frame(renderer, fbo, body)
    # Outside the window: the cleared background stays black.
    assert img[200, 300].tolist() == [0, 0, 0]
    # Inside the window body, below the text: the window background colour exactly.
    assert img[120, 120].tolist() == [255, 0, 0]
    # The font atlas was created through the 1.92 texture protocol and glyphs are drawn:
    # the text row holds bright (white) pixels that the red background alone never has.
    assert renderer.textures, "the font atlas texture was never created"
    text_row = img[40:60, 22:200]
    assert (text_row.min(axis=2) > 200).sum() > 20


def test_clip_rect_scissors_child_content(gui):
    _, renderer, fbo = gui

    def body():
        imgui.set_next_window_pos((0, 0))
        imgui.set_next_window_size((100, 100))
        imgui.begin("clip", flags=imgui.WindowFlags_.no_decoration)
        dl = imgui.get_window_draw_list()
        dl.push_clip_rect((10, 10), (50, 50), False)
        dl.add_rect_filled((0, 0), (300, 300), imgui.get_color_u32((0.0, 1.0, 0.0, 1.0)))
        dl.pop_clip_rect()
        imgui.end()

    for _ in range(2):
        img = _frame(renderer, fbo, body)
    assert img[30, 30].tolist() == [0, 255, 0]
    assert img[70, 70].tolist() != [0, 255, 0]  # outside the clip rect, inside the window
    assert img[150, 150].tolist() == [0, 0, 0]  # outside the window


def test_font_atlas_growth_is_uploaded(gui):
    """Larger font sizes make ImGui 1.92 bake new glyphs: the renderer must apply the updates."""
    _, renderer, fbo = gui

    def body():
        imgui.set_next_window_pos((0, 0))
        imgui.set_next_window_size((320, 240))
        imgui.begin("big")
        imgui.push_font(None, 40.0)
        imgui.text("WM")
        imgui.pop_font()
        imgui.end()

    for _ in range(3):
        img = _frame(renderer, fbo, body)
    assert all(t.status == imgui.ImTextureStatus.ok for t in imgui.get_platform_io().textures)
    assert (img[20:90, 5:120].min(axis=2) > 200).sum() > 200  # big glyphs are solid
