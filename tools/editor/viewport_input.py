"""Viewport and keyboard input: pygame events → ImGui, shortcuts, camera controls, click picking."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pygame
from imgui_bundle import imguizmo

from tools.editor import panels
from tools.editor.commands import Select
from tools.editor.imgui_input import feed_event
from tools.editor.picking import pick, pixel_ray

if TYPE_CHECKING:
    from tools.editor.app import EditorApp


def viewport_contains(app: EditorApp, x: float, y: float) -> bool:
    """Whether window pixel (x, y) lies in the 3D viewport."""
    vx, vy, vw, vh = app.viewport_rect()
    return vx <= x < vx + vw and vy <= y < vy + vh


def shortcut(app: EditorApp, event: pygame.event.Event) -> None:
    """Keyboard shortcuts (the ones shown in the menus)."""
    ctrl = bool(event.mod & pygame.KMOD_CTRL)
    shift = bool(event.mod & pygame.KMOD_SHIFT)
    k = event.key
    if ctrl:
        actions = {
            pygame.K_z: (app.redo if shift else app.undo),
            pygame.K_y: app.redo,
            pygame.K_s: (lambda: panels.open_path_popup(app, "Save level as")) if shift else app.save,
            pygame.K_d: app.duplicate_selection,
            pygame.K_c: app.copy_selection,
            pygame.K_v: app.paste_clipboard,
            pygame.K_n: lambda: app.request("new"),
            pygame.K_o: lambda: panels.open_path_popup(app, "Open level"),
            pygame.K_q: lambda: app.request("quit"),
            pygame.K_a: lambda: app.execute(Select([e["uid"] for e in app.doc.entities])),
            pygame.K_p: app.toggle_play,
        }
        if k in actions:
            actions[k]()
        return
    if pygame.mouse.get_pressed()[2]:
        return  # right button held: WASD flies the camera
    keys = {
        pygame.K_DELETE: app.delete_selection,
        pygame.K_b: app.place_prefab,
        pygame.K_f: app.frame_selection,
        pygame.K_w: lambda: setattr(app.gizmo, "operation", "translate"),
        pygame.K_e: lambda: setattr(app.gizmo, "operation", "rotate"),
        pygame.K_r: lambda: setattr(app.gizmo, "operation", "scale"),
        pygame.K_x: lambda: setattr(app.gizmo, "space", "local" if app.gizmo.space == "world" else "world"),
        pygame.K_g: lambda: setattr(app.scene, "show_grid", not app.scene.show_grid),
        pygame.K_1: lambda: setattr(app.scene, "mode", "proxies"),
        pygame.K_2: lambda: setattr(app.scene, "mode", "splats"),
        pygame.K_3: lambda: setattr(app.scene, "mode", "both"),
        pygame.K_F5: app.toggle_play,
        pygame.K_ESCAPE: (app.toggle_play if app.playing else (lambda: app.execute(Select([])))),
    }
    if k in keys:
        keys[k]()


def handle_event(app: EditorApp, event: pygame.event.Event) -> None:
    """One pygame event: to ImGui first, then to the viewport when ImGui does not want it."""
    if event.type == pygame.QUIT:
        app.request("quit")
        return
    if event.type == pygame.VIDEORESIZE:
        app.size = (event.w, event.h)
        app.io.display_size = app.size
        return
    feed_event(app.io, event)
    over_gizmo = imguizmo.im_guizmo.is_over() or imguizmo.im_guizmo.is_using()
    if event.type == pygame.KEYDOWN and not app.io.want_text_input:
        shortcut(app, event)
    if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
        inside = viewport_contains(app, *event.pos) and not app.io.want_capture_mouse
        app._mouse_down_at = event.pos if inside and not over_gizmo else None
        app._mouse_moved = False
    elif event.type == pygame.MOUSEMOTION:
        if app._mouse_down_at is not None:
            dx = event.pos[0] - app._mouse_down_at[0]
            dy = event.pos[1] - app._mouse_down_at[1]
            app._mouse_moved = app._mouse_moved or dx * dx + dy * dy > 16
        if app.io.want_capture_mouse and not pygame.mouse.get_pressed()[2]:
            return
        buttons = event.buttons
        dx, dy = event.rel
        if buttons[2] and not app.gizmo.dragging:
            if any(pygame.key.get_pressed()[k] for k in (pygame.K_w, pygame.K_a, pygame.K_s, pygame.K_d)):
                app.camera.look(dx, dy)
            else:
                app.camera.orbit(dx, dy)
        elif buttons[1]:
            app.camera.pan(dx, dy, app.viewport_rect()[3])
    elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
        if app._mouse_down_at is not None and not app._mouse_moved and not app.gizmo.dragging:
            click(app, event.pos, bool(pygame.key.get_mods() & pygame.KMOD_SHIFT))
        app._mouse_down_at = None
    elif event.type == pygame.MOUSEWHEEL and not app.io.want_capture_mouse:
        mx, my = pygame.mouse.get_pos()
        if viewport_contains(app, mx, my):
            app.camera.zoom(event.y)


def click(app: EditorApp, pos: tuple[int, int], shift: bool) -> None:
    """Pick the entity under a viewport click (Shift: add/remove)."""
    vx, vy, _, _ = app.viewport_rect()
    origin, direction = pixel_ray(app.view_camera(), pos[0] - vx + 0.5, pos[1] - vy + 0.5)
    uid = pick(app.doc.entities, origin, direction)
    app.select(uid, add=shift)


def fly(app: EditorApp, dt: float) -> None:
    """Hold the right button and use WASD/QE to fly the camera."""
    if not pygame.mouse.get_pressed()[2] or app.io.want_text_input:
        return
    k = pygame.key.get_pressed()
    fwd = float(k[pygame.K_w]) - float(k[pygame.K_s])
    strafe = float(k[pygame.K_d]) - float(k[pygame.K_a])
    up = float(k[pygame.K_e]) - float(k[pygame.K_q])
    if fwd or strafe or up:
        app.camera.fly(fwd, strafe, up, dt, speed=8.0 * (3.0 if k[pygame.K_LSHIFT] else 1.0))
