"""Procedural reference assets: one triangle mesh per (material, shape, half-extents, style seed).

The mesh does not depend on the appearance state: damage, wetness, snow and burn are applied in the
shaders (``teacher.glsl``) as smooth functions of the state, so one mesh serves every state and states
change the picture continuously.

How the seed shapes the asset: everything is laid out in noise space ``q = p + style_offset(seed)``
(``worldmodel.spec``). Detail pieces sit on a jittered lattice fixed in q (cell jitter, keep and
removal thresholds hashed from the cell), kept with a probability and sized by the smooth style
field (``worldmodel.style``, channel ``GROWTH``) at the piece; brick, plank, tile and panel rows are
lattices fixed in q too, standing proud by the field. Only sub-piece detail (blade bend, rock
facets, per-piece palette pick) comes from a generator seeded with ``(style_seed, material id,
shape index)``. The same spec always yields the same mesh.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from engine.splats.vocab import MATERIALS, SHAPES
from worldmodel.spec import style_offset
from worldmodel.style import GROWTH, style_field
from worldmodel.teacher import meshes as M
from worldmodel.teacher.surface import (
    Patch,
    grid_mesh,
    grid_triangles,
    patches,
    recompute_normals,
    valid_spans,
)

MAX_DETAIL_VERTS = 240_000  # detail budget per asset; beyond it pieces get proportionally larger and fewer


class Asset:
    """Everything needed to build one asset: the patches, bounds, margin and the seeded generator."""

    def __init__(self, shape: str, half_extents: tuple[float, float, float], material: str, seed: int) -> None:
        self.shape = shape
        self.h = np.asarray(half_extents, np.float64)
        self.material = MATERIALS[material]
        self.margin = self.material.margin
        self.rng = np.random.default_rng(np.random.SeedSequence([int(seed), self.material.id, SHAPES.index(shape)]))
        self.patches = patches(shape, half_extents)
        self.area = sum(p.length_u * p.length_v for p in self.patches)
        self.offset = style_offset(seed)  # the seed's window into the fixed noise and style fields
        self.parts: list[np.ndarray] = []

    # -- base surface -------------------------------------------------------------------------
    def base(self, colour: tuple[float, float, float], spacing: float = 0.08,
             displace: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None, max_cells: int = 48) -> None:
        """Mesh every patch; ``displace(pos, normal) -> (...,)`` offsets along the normal (metres)."""
        for patch in self.patches:
            p, n, uv = grid_mesh(patch, spacing, max_cells)
            if displace is not None:
                # Fade to zero at patch borders so neighbouring faces still meet (no open seams).
                edge = np.full(uv.shape[:-1], np.inf)
                if patch.crease_u:
                    edge = np.minimum(edge, np.minimum(uv[..., 0], patch.length_u - uv[..., 0]))
                if patch.crease_v:
                    edge = np.minimum(edge, np.minimum(uv[..., 1], patch.length_v - uv[..., 1]))
                fade = np.clip(edge / 0.03, 0.0, 1.0)
                p = p + (displace(p, n) * fade)[..., None] * n
                n = recompute_normals(p, n)
            tri_p, tri_n = grid_triangles(p), grid_triangles(n)
            alb = np.broadcast_to(np.asarray(colour, np.float64), tri_p.shape)
            self.parts.append(M.vertices(tri_p, tri_n, alb, tri_p, np.full(len(tri_p), -1.0), 0.0))

    # -- placement ----------------------------------------------------------------------------
    def growth(self, p: np.ndarray) -> np.ndarray:
        """The style field's ``GROWTH`` channel at surface points ``p`` (N, 3) → (N,) in (0, 1)."""
        return style_field(p + self.offset)[..., GROWTH]

    def _tangent_offsets(self, patch: Patch) -> tuple[float, float]:
        """The style offset along a patch's u and v directions (at its centre), metres."""
        c = np.array([0.5])
        _, nr, du, _ = patch.grid(c, c)
        dv = np.cross(nr[0], du[0])
        return float(self.offset @ du[0]), float(self.offset @ dv)

    def scatter(self, density: float, up_only: float = -2.0, cost: int = 96, keep: tuple[float, float] = (0.15, 1.0)
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """Pieces on a jittered lattice fixed in noise space, about ``density`` per m² at most.

        Each patch's (u, v) metres, shifted by the style offset along its axes, are cut into cells
        of side ``1/√density``; a cell holds one piece at a hashed jitter, kept where a hashed
        threshold is below ``keep[0] + (keep[1] − keep[0]) · growth`` (the style field), so dense and
        sparse areas move with the seed. Each piece costs ``cost`` vertices. Returns (pos (N,3),
        frames (N,3,3), u (N,) hashed removal thresholds, size factor ≥ 1 when the cap made cells larger).
        Points whose normal's y is below ``up_only`` are dropped.
        """
        want = density * self.area
        factor = max(1.0, math.sqrt(want * cost / MAX_DETAIL_VERTS))
        cell = factor / math.sqrt(density)
        ps, frs, us = [], [], []
        for k, patch in enumerate(self.patches):
            lu, lv = patch.length_u, patch.length_v
            ou, ov = self._tangent_offsets(patch)
            iu = np.arange(math.floor(ou / cell), math.floor((lu + ou) / cell) + 1)
            iv = np.arange(math.floor(ov / cell), math.floor((lv + ov) / cell) + 1)
            gi, gj = (a.ravel() for a in np.meshgrid(iu, iv))
            salt = np.full(gi.shape, 7 * k + 101 * self.material.id)
            ju, jv = M.hash3(gi, gj, salt), M.hash3(gi, gj, salt + 1)
            u = ((gi + 0.1 + 0.8 * ju) * cell - ou) / lu
            v = ((gj + 0.1 + 0.8 * jv) * cell - ov) / lv
            inside = (u >= 0) & (u < 1) & (v >= 0) & (v < 1)
            if not inside.any():
                continue
            p, nr, du, ok = patch.layout(u[inside], v[inside])
            g = self.growth(p)
            ok &= (nr[:, 1] >= up_only) & (M.hash3(gi, gj, salt + 2)[inside] < keep[0] + (keep[1] - keep[0]) * g)
            ps.append(p[ok])
            frs.append(M.frames(nr[ok], du[ok]))
            us.append(M.hash3(gi, gj, salt + 3)[inside][ok])
        if not ps or sum(len(p) for p in ps) == 0:
            return np.zeros((0, 3)), np.zeros((0, 3, 3)), np.zeros(0), factor
        return np.concatenate(ps), np.concatenate(frs), np.concatenate(us), factor

    def lattice(self, cell_u: float, cell_v: float, stagger: float, gap: float, cost: int = 36
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Rows of cells (bricks, tiles, planks, panels) in each patch's (u, v) metres.

        Row r's cells are shifted by ``stagger * r`` cells. Cells are clipped at patch borders; flat
        pieces on a curved patch stay short (half its radius) so they hug the surface. Each piece
        costs ``cost`` vertices. Returns (centres (N,3), frames (N,3,3), sizes (N,2) in metres
        without the gap, u (N,)).
        """
        cells = [(min(cell_u, 0.5 * p.radius), min(cell_v, 0.5 * p.radius)) for p in self.patches]
        total = sum(math.ceil(p.length_u / cu) * math.ceil(p.length_v / cv) for p, (cu, cv) in zip(self.patches, cells, strict=True))
        k = max(1.0, math.sqrt(total * cost / MAX_DETAIL_VERTS))
        gap = gap * k
        cs, frs, szs = [], [], []
        for patch, (cu, cv) in zip(self.patches, cells, strict=True):
            cu, cv = cu * k, cv * k
            lu, lv = patch.length_u, patch.length_v
            ou, ov = self._tangent_offsets(patch)
            r0 = math.floor(ov / cv)  # rows and their stagger are fixed in noise space
            r = np.arange(r0, math.floor((lv + ov) / cv) + 1)
            v0, v1 = np.maximum(r * cv - ov, 0.0), np.minimum((r + 1) * cv - ov, lv)
            tall = (v1 - v0) > 0.25 * min(cv, lv)
            r, v0, v1 = r[tall], v0[tall], v1[tall]
            rows = len(r)
            shift = ((stagger * r + ou / cu) % 1.0) * cu
            lo, hi, row_ok = np.zeros(rows), np.full(rows, lu), np.ones(rows, bool)
            if patch.masked:  # clip each row to the part of it on the surface, at both its edges
                for edge in (v0, v1):
                    lo_e, hi_e = valid_spans(patch, edge / lv)
                    row_ok &= np.isfinite(lo_e)
                    lo = np.maximum(lo, np.where(np.isfinite(lo_e), lo_e, 0.0) * lu)
                    hi = np.minimum(hi, np.where(np.isfinite(hi_e), hi_e, 0.0) * lu)
            ncol = int(math.ceil(lu / cu)) + 2
            starts = (lo - shift)[:, None] + np.arange(ncol)[None, :] * cu
            u0 = np.maximum(starts, lo[:, None])
            u1 = np.minimum(starts + cu, hi[:, None])
            keep = (starts < hi[:, None]) & row_ok[:, None] & \
                ((u1 - u0) > 0.25 * np.minimum(cu, hi - lo)[:, None]) & (hi > lo)[:, None]
            u0, u1 = u0[keep], u1[keep]
            rv0 = np.broadcast_to(v0[:, None], keep.shape)[keep]
            rv1 = np.broadcast_to(v1[:, None], keep.shape)[keep]
            if len(u0) == 0:
                continue
            p, nr, du, ok = patch.layout((u0 + u1) / 2 / lu, (rv0 + rv1) / 2 / lv)
            size = np.stack([u1 - u0 - gap, rv1 - rv0 - gap], -1)
            cs.append(p[ok])
            frs.append(M.frames(nr[ok], du[ok]))
            szs.append(np.maximum(size[ok], 0.2 * gap))
        if not cs:
            return np.zeros((0, 3)), np.zeros((0, 3, 3)), np.zeros((0, 2)), np.zeros(0)
        c = np.concatenate(cs)
        return c, np.concatenate(frs), np.concatenate(szs), self.rng.random(len(c))

    def colours(self, n: int, palette: list[tuple[float, float, float]], spread: float = 0.12) -> np.ndarray:
        """(n, 3) colours: a random palette entry per piece times a random brightness."""
        pal = np.asarray(palette, np.float64)
        pick = pal[self.rng.integers(0, len(pal), n)]
        return pick * (1.0 + spread * (self.rng.random((n, 1)) * 2 - 1))

    def add(self, part: np.ndarray) -> None:
        self.parts.append(part)

    def mesh(self) -> np.ndarray:
        """The finished (n, 14) float32 triangle list, every vertex inside bounds + margin."""
        v = np.concatenate(self.parts) if self.parts else np.zeros((0, M.VERTEX_FLOATS), np.float32)
        lim = (self.h + self.margin).astype(np.float32)
        v[:, 0:3] = np.clip(v[:, 0:3], -lim, lim)
        v[:, 9:12] = np.clip(v[:, 9:12], -lim, lim)
        return np.ascontiguousarray(v, np.float32)

    def noise(self, p: np.ndarray, freq: float, octaves: int = 3) -> np.ndarray:
        """The fixed noise field seen through this seed's offset, in [0, 1]."""
        return M.fbm((p + self.offset) * freq, octaves)


# -- materials ----------------------------------------------------------------------------------


def _slab(a: Asset, centres: np.ndarray, fr: np.ndarray, size: np.ndarray, depth: np.ndarray,
          albedo: np.ndarray, u: np.ndarray, sink: float = 0.01) -> None:
    """Boxes lying on the surface: footprint ``size`` (N,2), standing ``depth`` (N,) proud of it."""
    thick = depth + sink
    c = centres + fr[:, 2] * (depth - thick / 2)[:, None]
    a.add(M.instance(M.CUBE, c, fr, np.stack([size[:, 0], size[:, 1], thick], -1), albedo, u, 0.0,
                     origin=centres))


def grass(a: Asset) -> None:
    a.base((0.11, 0.24, 0.05), spacing=0.1)
    pos, fr, u, f = a.scatter(120.0, up_only=-0.3, cost=50, keep=(0.1, 1.0))
    n = len(pos)
    grow = a.growth(pos)
    blades = a.rng.integers(4, 8, n)
    idx = np.repeat(np.arange(n), blades)
    m = len(idx)
    spread = 0.025 * f
    off = (a.rng.random((m, 2)) * 2 - 1) * spread
    base = pos[idx] + off[:, :1] * fr[idx, 0] + off[:, 1:] * fr[idx, 1]
    bfr = M.rotate_frames(fr[idx], a.rng.random(m) * 2 * math.pi, a.rng.random(m) * 0.6)
    hmax = min(a.margin, a.h[1] + a.margin) if a.shape == "plane" else a.margin
    height = hmax * (0.3 + 0.6 * grow[idx]) * (0.75 + 0.25 * a.rng.random(m))
    width = (0.008 + 0.006 * a.rng.random(m)) * f
    tuft = a.colours(n, [(0.14, 0.42, 0.06), (0.20, 0.48, 0.08), (0.27, 0.46, 0.07), (0.24, 0.40, 0.09)])
    alb = tuft[idx] * (1.0 + 0.15 * (a.rng.random((m, 1)) * 2 - 1))
    a.add(M.instance(M.BLADE, base, bfr, np.stack([width, width * 2, height], -1), alb, u[idx], 1.0,
                     shade=M.BLADE_SHADE, origin=base))


def dirt(a: Asset) -> None:
    a.base((0.28, 0.18, 0.10), spacing=0.04, max_cells=64,
           displace=lambda p, n: a.margin * (0.3 + 0.5 * a.growth(p)) * a.noise(p, 7.0))
    pos, fr, u, f = a.scatter(160.0, cost=24, keep=(0.1, 1.0))
    n = len(pos)
    size = (0.01 + 0.025 * a.rng.random(n)) * f * (0.6 + 0.6 * a.growth(pos))
    sc = np.stack([size, size * (0.6 + 0.6 * a.rng.random(n)), np.minimum(size * 0.6, a.margin * 0.9)], -1)
    alb = a.colours(n, [(0.16, 0.10, 0.06), (0.36, 0.24, 0.14), (0.30, 0.25, 0.19), (0.22, 0.13, 0.07)])
    a.add(M.instance(M.rocks(a.rng, n, 0.3, small=True), pos, fr, sc, alb, u, 0.0))


def sand(a: Asset) -> None:
    ang = a.rng.random() * math.pi
    d = np.array([math.cos(ang), 0.35, math.sin(ang)])
    lam = 0.07 + 0.05 * a.rng.random()

    def ripples(p: np.ndarray, n: np.ndarray) -> np.ndarray:
        phase = 2 * math.pi * ((p + a.offset) @ d) / lam + 3.0 * a.noise(p, 2.0, 2)
        return a.margin * (0.3 + 0.6 * a.growth(p)) * (0.5 + 0.5 * np.sin(phase)) ** 1.5

    a.base((0.62, 0.52, 0.33), spacing=0.02, displace=ripples, max_cells=80)
    pos, fr, u, f = a.scatter(25.0, cost=24)
    n = len(pos)
    size = (0.004 + 0.008 * a.rng.random(n)) * f
    sc = np.stack([size, size, np.minimum(size * 0.7, a.margin * 0.9)], -1)
    a.add(M.instance(M.rocks(a.rng, n, 0.3, small=True), pos, fr, sc, a.colours(n, [(0.45, 0.40, 0.33), (0.70, 0.62, 0.48)]),
                     u, 0.0))


def stone(a: Asset) -> None:
    a.base((0.30, 0.29, 0.27), spacing=0.1)
    pos, fr, u, f = a.scatter(90.0, keep=(0.3, 1.0))
    n = len(pos)
    grow = a.growth(pos)
    size = (0.05 + 0.05 * a.rng.random(n)) * f * (0.7 + 0.5 * grow)
    sc = np.stack([size, size * (0.6 + 0.5 * a.rng.random(n)), a.margin * (0.3 + 0.45 * grow + 0.2 * a.rng.random(n))], -1)
    fr = M.rotate_frames(fr, a.rng.random(n) * 2 * math.pi, np.zeros(n))
    alb = a.colours(n, [(0.46, 0.45, 0.43), (0.38, 0.38, 0.39), (0.51, 0.48, 0.43), (0.35, 0.34, 0.31)])
    a.add(M.instance(M.rocks(a.rng, n, 0.25), pos, fr, sc, alb, u, 0.0))


def brick(a: Asset) -> None:
    a.base((0.30, 0.22, 0.18), spacing=0.15)
    k = 0.9 + 0.2 * a.rng.random()
    c, fr, size, u = a.lattice(0.23 * k, 0.075 * k, 0.5, 0.012)
    n = len(c)
    depth = a.margin * (0.3 + 0.55 * a.growth(c) + 0.1 * a.rng.random(n))
    alb = a.colours(n, [(0.45, 0.14, 0.08), (0.50, 0.17, 0.10), (0.38, 0.11, 0.07), (0.48, 0.19, 0.11)], 0.15)
    _slab(a, c, fr, size, depth, alb, u)


def plaster(a: Asset) -> None:
    a.base((0.78, 0.74, 0.66), spacing=0.04, max_cells=64,
           displace=lambda p, n: a.margin * (0.25 + 0.65 * a.growth(p)) * a.noise(p, 6.0))


def wood_planks(a: Asset) -> None:
    a.base((0.10, 0.06, 0.03), spacing=0.2)
    w = 0.10 + 0.04 * a.rng.random()
    c, fr, size, u = a.lattice(1.2, w, 0.37, 0.008)
    n = len(c)
    alb = a.colours(n, [(0.51, 0.33, 0.18), (0.44, 0.28, 0.13), (0.57, 0.38, 0.21), (0.40, 0.25, 0.13)], 0.1)
    _slab(a, c, fr, size, a.margin * (0.4 + 0.5 * a.growth(c)), alb, u)


def bark(a: Asset) -> None:
    a.base((0.19, 0.12, 0.06), spacing=0.1)
    pos, fr, u, f = a.scatter(160.0, keep=(0.3, 1.0))
    n = len(pos)
    fr = M.rotate_frames(fr, (a.rng.random(n) - 0.5) * 0.3, np.zeros(n))
    sc = np.stack([(0.012 + 0.02 * a.rng.random(n)) * f, (0.08 + 0.25 * a.rng.random(n)) * f,
                   a.margin * (0.25 + 0.55 * a.growth(pos) + 0.15 * a.rng.random(n))], -1)
    alb = a.colours(n, [(0.29, 0.18, 0.10), (0.34, 0.22, 0.12), (0.25, 0.16, 0.09)])
    a.add(M.instance(M.rocks(a.rng, n, 0.2), pos, fr, sc, alb, u, 0.0))


def foliage(a: Asset) -> None:
    a.base((0.07, 0.20, 0.04), spacing=0.1)
    pos, fr, u, f = a.scatter(45.0, cost=51, keep=(0.15, 1.0))
    n = len(pos)
    grow = a.growth(pos)
    leaves = a.rng.integers(6, 12, n)
    idx = np.repeat(np.arange(n), leaves)
    m = len(idx)
    lift = a.margin * (0.05 + (0.25 + 0.4 * grow[idx]) * a.rng.random(m))
    off = (a.rng.random((m, 2)) * 2 - 1) * 0.07 * f
    c = pos[idx] + fr[idx, 2] * lift[:, None] + off[:, :1] * fr[idx, 0] + off[:, 1:] * fr[idx, 1]
    lfr = M.rotate_frames(fr[idx], a.rng.random(m) * 2 * math.pi, (a.rng.random(m) - 0.3) * 1.6)
    size = (0.04 + 0.05 * a.rng.random(m)) * f * (0.7 + 0.6 * grow[idx])
    clump = a.colours(n, [(0.10, 0.36, 0.06), (0.14, 0.42, 0.07), (0.09, 0.30, 0.06), (0.20, 0.40, 0.06)])
    alb = clump[idx] * (1.0 + 0.2 * (a.rng.random((m, 1)) * 2 - 1))
    a.add(M.instance(M.LEAF, c, lfr, np.stack([size, size, size], -1), alb, u[idx], 1.0, origin=c))


def roof_tiles(a: Asset) -> None:
    a.base((0.14, 0.05, 0.03), spacing=0.15)
    k = 0.9 + 0.2 * a.rng.random()
    c, fr, size, u = a.lattice(0.17 * k, 0.12 * k, 0.5, 0.01)
    n = len(c)
    # Tiles tilt so that their lower edge stands proud: the shingled look of overlapping rows.
    tilt = np.full(n, -0.22)
    tfr = M.rotate_frames(fr, np.zeros(n), tilt)
    size = size * np.array([1.0, 1.15])
    lift = c + fr[:, 2] * (a.margin * (0.25 + 0.4 * a.growth(c)))[:, None]
    alb = a.colours(n, [(0.50, 0.17, 0.10), (0.44, 0.14, 0.08), (0.56, 0.22, 0.12), (0.40, 0.18, 0.12)], 0.12)
    a.add(M.instance(M.CUBE, lift, tfr, np.stack([size[:, 0], size[:, 1], np.full(n, 0.012)], -1), alb, u, 0.0,
                     origin=c))


def water(a: Asset) -> None:
    dirs = a.rng.normal(size=(3, 3))
    dirs[:, 1] *= 0.3
    lam = 0.12 + 0.2 * a.rng.random(3)

    def ripples(p: np.ndarray, n: np.ndarray) -> np.ndarray:
        w = sum(np.sin(2 * math.pi * ((p + a.offset) @ dirs[i]) / lam[i] + 2.0 * a.noise(p, 1.5, 2)) for i in range(3))
        return a.margin * 0.8 * (0.5 + w / 6.0) * (0.3 + 0.7 * a.growth(p))

    a.base((0.07, 0.20, 0.32), spacing=0.025, displace=ripples, max_cells=80)


def metal(a: Asset) -> None:
    a.base((0.20, 0.20, 0.21), spacing=0.2)
    k = 0.7 + 0.5 * a.rng.random()
    c, fr, size, u = a.lattice(0.6 * k, 0.4 * k, 0.0, 0.008, cost=36 + 12 * 24)
    n = len(c)
    alb = a.colours(n, [(0.55, 0.56, 0.58), (0.50, 0.52, 0.55), (0.58, 0.57, 0.55)], 0.06)
    depth = a.margin * (0.3 + 0.4 * a.growth(c))
    _slab(a, c, fr, size, depth, alb, u)
    # Rivets along the two long edges of every panel.
    per = np.clip((size[:, 0] / 0.08).astype(int), 2, 12)
    idx = np.repeat(np.arange(n), per * 2)
    first = np.repeat(np.cumsum(per * 2) - per * 2, per * 2)
    j = np.arange(len(idx)) - first  # 0 .. 2*per-1 within a panel
    perr = per[idx]
    side = np.where(j < perr, -1.0, 1.0)
    frac = ((j % perr) + 0.5) / perr - 0.5
    rc = (c[idx] + fr[idx, 0] * (frac * size[idx, 0] * 0.95)[:, None]
          + fr[idx, 1] * (side * (size[idx, 1] / 2 - 0.015))[:, None] + fr[idx, 2] * depth[idx, None])
    r = 0.006
    sc = np.tile([r, r, a.margin * 0.45], (len(idx), 1))
    dome = M.PEBBLE_VERTS[M.PEBBLE_TRIS[:4].reshape(-1)]  # the upper half: a four-sided stud
    a.add(M.instance(dome, rc, fr[idx], sc, alb[idx] * 0.8, u[idx], 0.0))


BUILDERS: dict[str, Callable[[Asset], None]] = {
    "grass": grass, "dirt": dirt, "sand": sand, "stone": stone, "brick": brick, "plaster": plaster,
    "wood_planks": wood_planks, "bark": bark, "foliage": foliage, "roof_tiles": roof_tiles, "water": water,
    "metal": metal,
}
assert set(BUILDERS) == set(MATERIALS), "every material needs a builder"


def build_mesh(shape: str, half_extents: tuple[float, float, float], material: str, seed: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """The asset's (n, 14) float32 triangle list and its (3,) noise offset. Pure function of its inputs."""
    a = Asset(shape, half_extents, material, seed)
    BUILDERS[material](a)
    return a.mesh(), a.offset.astype(np.float32)
