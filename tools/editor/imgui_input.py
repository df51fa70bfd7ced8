"""pygame events → Dear ImGui IO (mouse position/buttons/wheel, keys with modifiers, text)."""

from __future__ import annotations

import pygame
from imgui_bundle import imgui

_MOUSE_BUTTONS = {1: imgui.MouseButton_.left, 2: imgui.MouseButton_.middle, 3: imgui.MouseButton_.right}


def _key_map() -> dict[int, imgui.Key]:
    k = imgui.Key
    m = {
        pygame.K_LEFT: k.left_arrow, pygame.K_RIGHT: k.right_arrow, pygame.K_UP: k.up_arrow,
        pygame.K_DOWN: k.down_arrow, pygame.K_PAGEUP: k.page_up, pygame.K_PAGEDOWN: k.page_down,
        pygame.K_HOME: k.home, pygame.K_END: k.end, pygame.K_INSERT: k.insert,
        pygame.K_DELETE: k.delete, pygame.K_BACKSPACE: k.backspace, pygame.K_RETURN: k.enter,
        pygame.K_ESCAPE: k.escape, pygame.K_KP_ENTER: k.keypad_enter, pygame.K_TAB: k.tab,
        pygame.K_SPACE: k.space, pygame.K_LCTRL: k.left_ctrl, pygame.K_RCTRL: k.right_ctrl,
        pygame.K_LALT: k.left_alt, pygame.K_RALT: k.right_alt, pygame.K_LSHIFT: k.left_shift,
        pygame.K_RSHIFT: k.right_shift, pygame.K_LSUPER: k.left_super, pygame.K_RSUPER: k.right_super,
        pygame.K_MINUS: k.minus, pygame.K_PERIOD: k.period, pygame.K_COMMA: k.comma,
    }
    for i in range(26):
        m[pygame.K_a + i] = getattr(k, chr(ord("a") + i))
    for i in range(10):
        m[pygame.K_0 + i] = getattr(k, f"_{i}")
    for i in range(12):
        m[pygame.K_F1 + i] = getattr(k, f"f{i + 1}")
    return m


KEY_MAP: dict[int, imgui.Key] = _key_map()


def feed_event(io: imgui.IO, event: pygame.event.Event) -> None:
    """Forward one pygame event to ImGui's input queue."""
    t = event.type
    if t == pygame.MOUSEMOTION:
        io.add_mouse_pos_event(float(event.pos[0]), float(event.pos[1]))
    elif t in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
        io.add_mouse_pos_event(float(event.pos[0]), float(event.pos[1]))
        button = _MOUSE_BUTTONS.get(event.button)
        if button is not None:
            io.add_mouse_button_event(button, t == pygame.MOUSEBUTTONDOWN)
    elif t == pygame.MOUSEWHEEL:
        io.add_mouse_wheel_event(float(event.x), float(event.y))
    elif t in (pygame.KEYDOWN, pygame.KEYUP):
        down = t == pygame.KEYDOWN
        mods = event.mod
        io.add_key_event(imgui.Key.mod_ctrl, bool(mods & pygame.KMOD_CTRL))
        io.add_key_event(imgui.Key.mod_shift, bool(mods & pygame.KMOD_SHIFT))
        io.add_key_event(imgui.Key.mod_alt, bool(mods & pygame.KMOD_ALT))
        io.add_key_event(imgui.Key.mod_super, bool(mods & pygame.KMOD_GUI))
        key = KEY_MAP.get(event.key)
        if key is not None:
            io.add_key_event(key, down)
    elif t == pygame.TEXTINPUT:
        for ch in event.text:
            if 32 <= ord(ch) < 0x10000 and ord(ch) != 127:
                io.add_input_character(ord(ch))
    elif t == pygame.WINDOWFOCUSLOST:
        io.add_focus_event(False)
    elif t == pygame.WINDOWFOCUSGAINED:
        io.add_focus_event(True)
