"""`DataTexture`: a growable RGBA32UI texture used as a 1-D array of texels (splats, SH, anchors).

Textures rather than buffers so the same data serves GL 3.3 (vertex-shader texelFetch) and GL 4.3
(compute). Rows of ``TEX_WIDTH`` texels; texel ``i`` sits at (i % TEX_WIDTH, i // TEX_WIDTH), as the
shaders' ``fetch`` computes. Ranges are written with at most three sub-image uploads; growth doubles
the rows and copies the old contents through a GPU buffer (no re-upload from the CPU).
"""

from __future__ import annotations

from typing import Any

import moderngl
import numpy as np

TEX_WIDTH = 4096  # texels per row; shaders/splat_common.glsl's fetch() assumes it
MAX_ROWS = 16384  # GL_MAX_TEXTURE_SIZE on llvmpipe and most GPUs


class DataTexture:
    """A growable RGBA32UI texture addressed as a 1-D array of texels, ``TEX_WIDTH`` per row."""

    def __init__(self, ctx: Any, rows: int) -> None:
        self.ctx = ctx
        self.rows = max(1, rows)
        self.tex = ctx.texture((TEX_WIDTH, self.rows), 4, dtype="u4")
        self.tex.filter = (moderngl.NEAREST, moderngl.NEAREST)

    def ensure(self, texels: int) -> None:
        """Grow (doubling rows) to hold ``texels``, copying the old contents GPU-side."""
        need = (texels + TEX_WIDTH - 1) // TEX_WIDTH
        if need <= self.rows:
            return
        rows = self.rows
        while rows < need:
            rows *= 2
        if rows > MAX_ROWS:
            if need > MAX_ROWS:
                raise ValueError(f"splat pass: {texels} texels exceed the {MAX_ROWS}-row texture limit")
            rows = MAX_ROWS
        new = self.ctx.texture((TEX_WIDTH, rows), 4, dtype="u4")
        new.filter = self.tex.filter
        staging = self.ctx.buffer(reserve=TEX_WIDTH * self.rows * 16)
        self.tex.read_into(staging)
        new.write(staging, viewport=(0, 0, TEX_WIDTH, self.rows))
        staging.release()
        self.tex.release()
        self.tex, self.rows = new, rows

    def write(self, first: int, data: np.ndarray) -> int:
        """Write ``data`` (n, 4) uint32 texels from texel ``first``; returns the bytes uploaded."""
        data = np.ascontiguousarray(data, np.uint32).reshape(-1, 4)
        n = len(data)
        pos, i = first, 0
        while i < n:
            x, y = pos % TEX_WIDTH, pos // TEX_WIDTH
            if x == 0 and n - i >= TEX_WIDTH:
                rows = (n - i) // TEX_WIDTH
                take = rows * TEX_WIDTH
                self.tex.write(data[i : i + take].tobytes(), viewport=(0, y, TEX_WIDTH, rows))
            else:
                take = min(TEX_WIDTH - x, n - i)
                self.tex.write(data[i : i + take].tobytes(), viewport=(x, y, take, 1))
            pos += take
            i += take
        return n * 16

    def nbytes(self) -> int:
        return TEX_WIDTH * self.rows * 16

    def release(self) -> None:
        self.tex.release()
