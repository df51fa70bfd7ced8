"""`FrameRenderer`: one frame offscreen — sky, proxies, then any extra passes (the splat pass).

    frame = FrameRenderer(ctx, (640, 360))
    frame.proxies.set_proxy(...)
    frame.render(camera)            # clears, draws, leaves the result in frame.fbo
    rgb = frame.read_rgb()          # (H, W, 3) uint8, top row first
    frame.screenshot("out.png")

``extra_passes`` holds callables ``fn(camera, frame)`` drawn after the proxies into the same
framebuffer with its depth buffer (the hybrid loop appends the splat pass there). The colour target
is RGBA8 by default or RGBA16F (``hdr=True``) for passes that blend many layers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import moderngl
import numpy as np

from engine.render.camera import Camera
from engine.render.proxy_pass import ProxyPass

SKY = (0.62, 0.74, 0.88)


class FrameRenderer:
    """An offscreen colour + depth target and the passes that draw into it."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int], hdr: bool = False) -> None:
        self.ctx = ctx
        self.size = (int(size[0]), int(size[1]))
        self.hdr = hdr
        self.colour = ctx.texture(self.size, 4, dtype="f2" if hdr else "f1")
        self.depth = ctx.depth_texture(self.size)
        self.fbo = ctx.framebuffer(color_attachments=[self.colour], depth_attachment=self.depth)
        self.proxies = ProxyPass(ctx)
        self.show_proxies = True
        self.extra_passes: list[Callable[[Camera, FrameRenderer], Any]] = []
        self.background = SKY

    def camera(self, eye: Any, target: Any, fov_y: float = 60.0, near: float = 0.05, far: float = 500.0) -> Camera:
        """A ``Camera`` of this frame's size."""
        return Camera(eye, target, self.size[0], self.size[1], fov_y=fov_y, near=near, far=far)

    def render(self, camera: Camera) -> None:
        """Clear to the sky colour and draw every pass for ``camera``."""
        self.fbo.use()
        self.ctx.viewport = (0, 0, *self.size)
        # sky: linear colour, gamma-encoded like the proxy shader's output
        sky = tuple(float(c) ** (1 / 2.2) for c in self.background)
        self.fbo.clear(*sky, 1.0, depth=1.0)
        if self.show_proxies:
            self.proxies.draw(camera)
        for p in self.extra_passes:
            self.fbo.use()
            p(camera, self)

    def read_rgb(self) -> np.ndarray:
        """(H, W, 3) uint8 of the last frame, top row first."""
        raw = self.fbo.read(components=3, alignment=1)
        img = np.frombuffer(raw, np.uint8).reshape(self.size[1], self.size[0], 3)
        return img[::-1].copy()

    def screenshot(self, path: str | Path) -> Path:
        """Write the last frame as an 8-bit RGB PNG (atomically); returns the path."""
        import io

        from PIL import Image

        from engine.files import atomic_write

        buf = io.BytesIO()
        Image.fromarray(self.read_rgb(), "RGB").save(buf, format="PNG")
        atomic_write(path, buf.getvalue())
        return Path(path)

    def release(self) -> None:
        """Free GPU resources."""
        self.proxies.release()
        self.fbo.release()
        self.colour.release()
        self.depth.release()
