"""OpenGL contexts: headless through EGL (tests, servers, CI on Mesa llvmpipe) or the window's own."""

from __future__ import annotations

import moderngl

from engine.errors import AnchorworldError


def headless_context(require: int = 330) -> moderngl.Context:
    """A standalone ModernGL context through EGL; raises a clear error when none can be made.

    require: the minimum GL version code (330 for the proxy pass, 430 for compute shaders).
    """
    try:
        ctx = moderngl.create_standalone_context(backend="egl", require=require)
    except Exception as exc:  # moderngl raises plain Exception subclasses from glcontext
        raise AnchorworldError(
            f"could not create a headless OpenGL {require // 100}.{require % 100 // 10} context through EGL "
            f"({exc}); install Mesa's EGL drivers (libegl1, libgl1-mesa-dri)"
        ) from exc
    return ctx


def best_headless_context(minimum: int = 330) -> moderngl.Context:
    """The newest headless context available: GL 4.3 where there is one, else ``minimum``.

    Some drivers (NVIDIA's EGL) hand out exactly the version asked for, so asking for 3.3 would
    keep the splat pass off its GPU sort and compute paths even on a GPU that has them.
    """
    try:
        return headless_context(430)
    except AnchorworldError:
        return headless_context(minimum)


def has_compute(ctx: moderngl.Context) -> bool:
    """Whether the context supports compute shaders (GL 4.3+)."""
    return ctx.version_code >= 430
