"""Incremental set/remove/xform upload only the anchor touched; the sort is skipped when nothing moved."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

try:  # tests/render is not a package; should it become one, import relatively
    from splat_scenes import camera, psnr, random_scene, transform
except ImportError:  # pragma: no cover
    from .splat_scenes import camera, psnr, random_scene, transform

from engine.render.context import headless_context
from engine.render.reference import render_reference
from engine.render.splat_alloc import RangeAllocator
from engine.render.splat_packing import (
    SH_TEXELS,
    SPLAT_BYTES,
    pack_quats,
    pack_splats,
    unpack_quats,
    unpack_splats,
)
from engine.render.splat_pass import SplatPass, render_offscreen

BG = (0.0, 0.0, 0.0)


@pytest.fixture(scope="module")
def ctx():
    c = headless_context(430)
    yield c
    c.release()


def scene():
    return {
        "crate": (random_scene(300, seed=1, extent=0.3), transform(0, (0, 1, 0), 1.0, (-0.6, 0, 0))),
        "door": (random_scene(500, seed=2, extent=0.3, degree=2), transform(30, (0, 1, 0), 1.0, (0.6, 0, 0))),
        "tree": (random_scene(700, seed=3, extent=0.3), transform(0, (0, 1, 0), 2.0, (0, 0.4, -0.8))),
    }


@pytest.mark.gl
@pytest.mark.parametrize("sort, raster", [("gpu", "compute"), ("gpu", "quads"), ("cpu", "quads")])
def test_updates_upload_only_the_touched_anchor(ctx, sort, raster):
    p = SplatPass(ctx, sort=sort, raster=raster)
    cam = camera(96, 72)
    anchors = scene()
    for name, (g, m) in anchors.items():
        p.set(name, g)
        p.xform(name, m)
    render_offscreen(p, cam, BG)

    def uploaded(action):
        before = p.total_upload
        action()
        return p.total_upload - before

    # xform: one anchor's 4 texels (64 bytes), nothing else
    m2 = transform(45, (0, 1, 0), 1.0, (-0.5, 0.1, 0))
    assert uploaded(lambda: p.xform("crate", m2)) == 0  # deferred to the next draw
    anchors["crate"] = (anchors["crate"][0], m2)
    frame_bytes = uploaded(lambda: render_offscreen(p, cam, BG))
    # per-frame bytes: the indirect command, or the CPU order, or the compute path's 16-byte status reset
    sort_bytes = {"quads": 16 if sort == "gpu" else 4 * 1500, "compute": 16}[raster]
    assert frame_bytes <= 64 + sort_bytes
    assert p.stats()["upload_bytes_last_frame"] == frame_bytes

    # set: the new anchor's splats and its SH, nothing of the others
    door = random_scene(500, seed=9, extent=0.3, degree=2)
    assert uploaded(lambda: p.set("door", door)) == 500 * (SPLAT_BYTES + SH_TEXELS[2] * 16)
    anchors["door"] = (door, anchors["door"][1])
    # remove: at most the removed anchor's own slots are marked free
    assert uploaded(lambda: p.remove("tree")) <= 700 * SPLAT_BYTES
    del anchors["tree"]
    img = render_offscreen(p, cam, BG)
    assert psnr(img, render_reference(list(anchors.values()), cam, BG)) >= 45
    # a new anchor reuses the hole; still only its own bytes
    tree2 = random_scene(600, seed=5, extent=0.3)
    assert uploaded(lambda: p.set("tree2", tree2)) == 600 * SPLAT_BYTES
    assert p.stats()["slots_drawn"] <= 1500
    anchors["tree2"] = (tree2, np.eye(4, dtype=np.float32))
    img = render_offscreen(p, cam, BG)
    assert psnr(img, render_reference(list(anchors.values()), cam, BG)) >= 45
    assert p.stats()["splats"] == 300 + 500 + 600 and p.stats()["anchors"] == 3
    p.clear()
    assert p.stats()["splats"] == 0 and p.stats()["slots_drawn"] == 0
    p.release()


@pytest.mark.gl
def test_thousands_of_anchors_and_growth(ctx):
    """2,000 anchors of a few splats, growing capacity GPU-side, all drawn with their own transforms."""
    p = SplatPass(ctx, capacity=256)
    cam = camera(96, 72)
    rng = np.random.default_rng(0)
    anchors = []
    for i in range(2000):
        g = random_scene(3, seed=100 + i, extent=0.05)
        m = transform(rng.uniform(0, 360), rng.normal(size=3), rng.uniform(0.5, 2), rng.uniform(-1, 1, 3))
        p.set(f"a{i}", g)
        p.xform(f"a{i}", m)
        anchors.append((g, m))
    img = render_offscreen(p, cam, BG)
    assert psnr(img, render_reference(anchors, cam, BG)) >= 45
    p.release()


@pytest.mark.gl
@pytest.mark.parametrize("sort, raster", [("gpu", "compute"), ("gpu", "quads"), ("cpu", "quads")])
def test_sort_skipped_when_nothing_moved(ctx, sort, raster):
    p = SplatPass(ctx, sort=sort, raster=raster)
    p.set("a", random_scene(100, seed=4))
    cam = camera(32, 24)
    render_offscreen(p, cam, BG)
    assert p.stats()["sorted_last_frame"]
    render_offscreen(p, cam, BG)
    assert not p.stats()["sorted_last_frame"] and p.stats()["upload_bytes_last_frame"] == 0
    p.xform("a", transform(10, (0, 1, 0), 1.0, (0, 0, 0)))
    render_offscreen(p, cam, BG)
    assert p.stats()["sorted_last_frame"]
    render_offscreen(p, camera(32, 24, eye=(0.3, 0.4, 2.5)), BG)
    assert p.stats()["sorted_last_frame"]
    p.release()


@pytest.mark.gl
def test_bad_input_is_rejected(ctx):
    p = SplatPass(ctx)
    p.set("a", random_scene(5))
    with pytest.raises(ValueError, match="4, 4"):
        p.xform("a", np.eye(3))
    with pytest.raises(ValueError, match="non-finite"):
        p.xform("a", np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match="last row"):
        p.xform("a", np.ones((4, 4)))
    with pytest.raises(ValueError, match="singular"):
        p.xform("a", np.diag([0, 0, 0, 1.0]))
    with pytest.raises(KeyError):
        p.xform("missing", np.eye(4))
    with pytest.raises(TypeError):
        p.set("b", np.zeros((3, 3)))
    with pytest.raises(ValueError, match="sort"):
        SplatPass(ctx, sort="bogus")
    with pytest.raises(ValueError, match="framebuffer"):
        tex = ctx.texture((10, 10), 4, dtype="f2")
        p.draw(camera(32, 24), ctx.framebuffer([tex]))
    p.remove("missing")  # ignored
    p.release()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 50)), max_size=60))
def test_allocator_ranges_never_overlap(ops):
    a = RangeAllocator(8)
    live: dict[int, int] = {}
    for is_alloc, size in ops:
        if is_alloc or not live:
            start = a.alloc(size)
            live[start] = size
        else:
            start = sorted(live)[size % len(live)]
            a.free(start, live.pop(start))
        used = np.zeros(a.high_water, int)
        for s, n in live.items():
            assert s + n <= a.high_water <= a.capacity
            used[s : s + n] += 1
        assert used.max(initial=0) <= 1
        assert a.free_slots() == a.high_water - sum(live.values())


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**31))
def test_packing_round_trip(seed):
    g = random_scene(64, seed=seed)
    back, slots = unpack_splats(pack_splats(g, 77))
    assert (slots == 77).all()
    assert np.array_equal(back.means, g.means)
    assert np.allclose(back.scales, g.scales, rtol=1e-3)
    assert np.allclose(back.opacities, g.opacities, atol=1e-5)
    assert np.allclose(back.sh, g.sh, atol=2e-3)
    dots = np.abs((back.quats * g.quats).sum(1))
    assert dots.min() > 1 - 5e-6
    q = unpack_quats(pack_quats(-g.quats))  # q and −q are the same rotation
    assert np.abs((q * g.quats).sum(1)).min() > 1 - 5e-6


OPS = st.lists(
    st.tuples(
        st.sampled_from(["set", "remove", "xform"]),
        st.sampled_from(["a", "b", "c", "d"]),
        st.integers(0, 120),  # splat count for set (0 allowed)
        st.integers(0, 3),  # SH degree for set
        st.integers(0, 2**16),  # seed
    ),
    min_size=1,
    max_size=12,
)


@pytest.mark.gl
@settings(max_examples=12, deadline=None)
@given(ops=OPS, mode=st.sampled_from(["compute", "quads", "gl33"]))
def test_any_sequence_of_updates_renders_like_the_reference(ctx, ops, mode):
    """After any set/remove/xform sequence the picture equals the reference of what is left."""
    kwargs = {"compute": dict(raster="compute"), "quads": dict(raster="quads", sort="gpu"), "gl33": dict(gl33=True)}
    p = SplatPass(ctx, capacity=64, **kwargs[mode])
    model: dict[str, list] = {}
    cam = camera(48, 36)
    for i, (op, name, n, degree, seed) in enumerate(ops):
        if op == "set":
            g = random_scene(n, seed=seed, degree=degree, extent=0.5)
            p.set(name, g)
            model[name] = [g, model.get(name, [None, np.eye(4, dtype=np.float32)])[1]]
        elif op == "remove":
            p.remove(name)
            model.pop(name, None)
        elif name in model:
            rng = np.random.default_rng(seed)
            m = transform(rng.uniform(0, 360), rng.normal(size=3) + 1e-3, rng.uniform(0.5, 1.5), rng.uniform(-0.5, 0.5, 3))
            p.xform(name, m)
            model[name][1] = m
        if i % 4 == 3:  # draw now and then, so sorting and skipping interleave with updates
            render_offscreen(p, cam, BG)
    img = render_offscreen(p, cam, BG)
    ref = render_reference([tuple(v) for v in model.values()], cam, BG)
    assert psnr(img, ref) >= 45
    assert p.stats()["splats"] == sum(len(v[0]) for v in model.values())
    p.release()
