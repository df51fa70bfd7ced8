"""`anchorworld view FILE`: a window that shows a splat file, with orbit and fly cameras.

Keys and mouse:
  Tab              switch between orbit and fly camera
  orbit camera:    left drag orbits round the target, right drag pans, wheel zooms
  fly camera:      left drag looks around, W/S forward/back, A/D left/right, Q/E down/up,
                   wheel changes speed; hold Shift for 4× speed
  R                reset the camera to frame the whole scene
  P                save a screenshot (viewer-NNN.png in the current folder)
  Esc or close     quit

Example::

    anchorworld view scene.ply --up 0,-1,0     # most 3DGS captures have −Y up
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tools.render_command import parse_colour, parse_fov, parse_size, parse_vec3


def _basis(up: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An orthonormal frame (x, up, z) with ``up`` as the second axis."""
    u = up / np.linalg.norm(up)
    helper = np.array([0.0, 0.0, 1.0]) if abs(u[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    x = np.cross(u, helper)
    x /= np.linalg.norm(x)
    z = np.cross(x, u)
    return x, u, z


def _direction(yaw: float, pitch: float, up: np.ndarray) -> np.ndarray:
    """Unit vector from yaw (about ``up``) and pitch (towards ``up``), radians."""
    x, u, z = _basis(up)
    return math.cos(pitch) * (math.sin(yaw) * x + math.cos(yaw) * z) + math.sin(pitch) * u


@dataclass
class OrbitCamera:
    """Eye on a sphere round ``target``: yaw/pitch in radians, distance in metres."""

    target: np.ndarray
    distance: float
    yaw: float = 0.0
    pitch: float = 0.3
    up: np.ndarray = field(default_factory=lambda: np.array([0.0, 1.0, 0.0]))

    def eye(self) -> np.ndarray:
        return self.target + self.distance * _direction(self.yaw, self.pitch, self.up)

    def orbit(self, dx: float, dy: float) -> None:
        """Mouse drag of (dx, dy) pixels."""
        self.yaw -= dx * 0.01
        self.pitch = float(np.clip(self.pitch + dy * 0.01, -1.55, 1.55))

    def pan(self, dx: float, dy: float) -> None:
        eye = self.eye()
        fwd = (self.target - eye) / self.distance
        right = np.cross(fwd, self.up)
        right /= np.linalg.norm(right)
        up = np.cross(right, fwd)
        self.target = self.target + (-dx * right + dy * up) * self.distance * 0.002

    def zoom(self, steps: float) -> None:
        self.distance = float(max(1e-3, self.distance * 0.9**steps))


@dataclass
class FlyCamera:
    """A free camera at ``eye`` looking along yaw/pitch (radians)."""

    eye: np.ndarray
    yaw: float
    pitch: float
    speed: float = 1.0  # metres per second
    up: np.ndarray = field(default_factory=lambda: np.array([0.0, 1.0, 0.0]))

    def forward(self) -> np.ndarray:
        return _direction(self.yaw, self.pitch, self.up)

    def look(self, dx: float, dy: float) -> None:
        self.yaw -= dx * 0.004
        self.pitch = float(np.clip(self.pitch - dy * 0.004, -1.55, 1.55))

    def move(self, forward: float, right: float, up: float, dt: float) -> None:
        """Move by axis inputs in −1..1 for ``dt`` seconds."""
        f = self.forward()
        r = np.cross(f, self.up)
        r /= np.linalg.norm(r)
        u = self.up / np.linalg.norm(self.up)
        self.eye = self.eye + (forward * f + right * r + up * u) * self.speed * dt


def initial_cameras(means: np.ndarray, fov_y: float, up: np.ndarray) -> tuple[OrbitCamera, FlyCamera]:
    """Orbit and fly cameras framing the points ``means`` (N, 3)."""
    from tools.render_command import framing

    eye, target = framing(means, fov_y)
    distance = float(np.linalg.norm(eye - target))
    orbit = OrbitCamera(target, distance, 0.0, 0.3, up)
    fwd = orbit.target - orbit.eye()
    fwd /= np.linalg.norm(fwd)
    x, u, z = _basis(up)
    fly = FlyCamera(orbit.eye(), math.atan2(fwd @ x, fwd @ z), math.asin(float(np.clip(fwd @ u, -1, 1))), distance / 3, up)
    return orbit, fly


def register(sub: Any) -> None:
    """Add the `view` subcommand."""
    p = sub.add_parser(
        "view",
        help="open a window showing a splat file (orbit and fly cameras)",
        description="Show a splat file in a window.",
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", help="a splat file: .ply (INRIA or PlayCanvas compressed), .splat or .spz")
    p.add_argument("--size", type=parse_size, default=(1280, 720), metavar="WxH", help="window size (default 1280x720)")
    p.add_argument("--fov-y", type=parse_fov, default=60.0, metavar="DEG", help="vertical field of view (default 60)")
    p.add_argument("--up", type=parse_vec3, default=(0.0, 1.0, 0.0), metavar="X,Y,Z", help="world up (default 0,1,0)")
    p.add_argument("--background", type=parse_colour, default=(0.0, 0.0, 0.0), metavar="R,G,B", help="default 0,0,0")
    p.add_argument("--sort", choices=("auto", "gpu", "cpu"), default="auto", help="depth sort (default auto)")
    p.add_argument("--raster", choices=("auto", "quads", "compute"), default="auto", help="rasteriser (default auto)")
    p.add_argument("--frames", type=int, default=0, help="quit after this many frames (0: run until closed)")
    p.add_argument("--screenshot", metavar="PATH", help="save the last frame as PATH (.png) on exit")
    p.set_defaults(func=run, _parser=p)


def run(args: argparse.Namespace) -> int:
    """Open the window and draw until closed."""
    import os

    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import moderngl
    import pygame

    from engine.errors import AnchorworldError
    from engine.render.camera import Camera
    from engine.render.splat_pass import SplatPass
    from engine.splats.io import load

    up = np.array(args.up, np.float64)
    if np.linalg.norm(up) == 0:
        args._parser.error("--up must not be the zero vector")
    if args.frames < 0:
        args._parser.error("--frames must be >= 0")
    gaussians = load(args.file)  # bad files fail before a window opens
    w, h = args.size
    pygame.display.init()  # display and input only: no audio device needed
    try:
        ctx = None
        for major, minor in ((4, 3), (3, 3)):
            pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MAJOR_VERSION, major)
            pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MINOR_VERSION, minor)
            pygame.display.gl_set_attribute(pygame.GL_CONTEXT_PROFILE_MASK, pygame.GL_CONTEXT_PROFILE_CORE)
            try:
                pygame.display.set_mode((w, h), pygame.OPENGL | pygame.DOUBLEBUF)
                ctx = moderngl.create_context()
                break
            except Exception:  # noqa: BLE001 - pygame/moderngl raise plain errors; try the next version
                continue
        if ctx is None:
            raise AnchorworldError("could not open an OpenGL 3.3 window (is a display available?)")
        if args.raster == "compute" and ctx.version_code < 430:
            raise AnchorworldError("--raster compute needs OpenGL 4.3; this window has 3.3")
        sort = args.sort if ctx.version_code >= 430 or args.sort == "cpu" else "cpu"
        splat_pass = SplatPass(ctx, sort=sort, raster=args.raster)
        splat_pass.set("file", gaussians)
        color = ctx.texture((w, h), 4, dtype="f2")
        fbo = ctx.framebuffer([color], ctx.depth_renderbuffer((w, h)))
        fbo.clear(*args.background, 0.0, depth=1.0)  # once: the splat pass writes no depth
        orbit, fly = initial_cameras(gaussians.means, args.fov_y, up)
        mode = "orbit"
        clock = pygame.time.Clock()
        frame = shots = 0
        running = True
        while running:
            dt = clock.tick(120) / 1000.0
            for ev in pygame.event.get():
                if ev.type == pygame.QUIT or (ev.type == pygame.KEYDOWN and ev.key == pygame.K_ESCAPE):
                    running = False
                elif ev.type == pygame.KEYDOWN and ev.key == pygame.K_TAB:
                    if mode == "orbit":
                        fly.eye = orbit.eye()
                        fwd = orbit.target - fly.eye
                        x, u, z = _basis(up)
                        fwd /= np.linalg.norm(fwd)
                        fly.yaw, fly.pitch = math.atan2(fwd @ x, fwd @ z), math.asin(float(np.clip(fwd @ u, -1, 1)))
                    mode = "fly" if mode == "orbit" else "orbit"
                elif ev.type == pygame.KEYDOWN and ev.key == pygame.K_r:
                    orbit, fly = initial_cameras(gaussians.means, args.fov_y, up)
                elif ev.type == pygame.KEYDOWN and ev.key == pygame.K_p:
                    shots += 1
                    _save_png(fbo, f"viewer-{shots:03d}.png", w, h)
                elif ev.type == pygame.MOUSEMOTION and any(ev.buttons):
                    dx, dy = ev.rel
                    if mode == "orbit":
                        if ev.buttons[0]:
                            orbit.orbit(dx, dy)
                        elif ev.buttons[2]:
                            orbit.pan(dx, dy)
                    elif ev.buttons[0]:
                        fly.look(dx, dy)
                elif ev.type == pygame.MOUSEWHEEL:
                    if mode == "orbit":
                        orbit.zoom(ev.y)
                    else:
                        fly.speed *= 1.2**ev.y
            if mode == "fly":
                keys = pygame.key.get_pressed()
                boost = 4.0 if keys[pygame.K_LSHIFT] or keys[pygame.K_RSHIFT] else 1.0
                fly.move(
                    (keys[pygame.K_w] - keys[pygame.K_s]) * boost,
                    (keys[pygame.K_d] - keys[pygame.K_a]) * boost,
                    (keys[pygame.K_e] - keys[pygame.K_q]) * boost,
                    dt,
                )
                eye, target = fly.eye, fly.eye + fly.forward()
            else:
                eye, target = orbit.eye(), orbit.target
            cam = Camera(eye, target, w, h, fov_y=args.fov_y, up=up)
            fbo.use()
            # the splat pass replaces the colour with splats over the background (the compute
            # rasteriser writes every pixel: no full-screen clear on the graphics units)
            splat_pass.draw(cam, fbo, background=tuple(args.background))
            ctx.copy_framebuffer(ctx.screen, fbo)
            pygame.display.flip()
            frame += 1
            if frame % 30 == 0:
                pygame.display.set_caption(
                    f"anchorworld view — {len(gaussians)} splats — {mode} — {clock.get_fps():.1f} fps"
                )
            if args.frames and frame >= args.frames:
                running = False
        if args.screenshot:
            _save_png(fbo, args.screenshot, w, h)
        splat_pass.release()
    finally:
        pygame.quit()
    return 0


def _save_png(fbo: Any, path: str, w: int, h: int) -> None:
    from tools.render_command import save_outputs

    img = np.frombuffer(fbo.read(components=4, dtype="f2"), np.float16).reshape(h, w, 4)[::-1].astype(np.float32)
    png, npy = save_outputs(path, img)
    npy.unlink(missing_ok=True)  # the viewer saves pictures only
    print(f"saved {png}")
