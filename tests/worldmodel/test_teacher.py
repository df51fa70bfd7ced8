"""The procedural teacher: determinism, bounds, every material × state, smooth states, sampling splits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.render.camera import Camera
from engine.splats.vocab import MATERIAL_NAMES, MATERIALS, SHAPES, STATES
from worldmodel.spec import ProxySpec
from worldmodel.teacher import HELDOUT_SEED, Teacher, sample_cameras, sample_spec, split_of
from worldmodel.teacher.assets import build_mesh

pytestmark = pytest.mark.gl
SIZE = 48


@pytest.fixture(scope="module")
def teacher() -> Teacher:
    return Teacher(size=(SIZE, SIZE))


def _cams(spec: ProxySpec, n: int = 3, seed: int = 0) -> list[Camera]:
    return sample_cameras(spec, n, np.random.default_rng(seed), size=(SIZE, SIZE))


def _front(spec: ProxySpec) -> list[Camera]:
    r = float(np.linalg.norm(spec.half_extents)) * 2.6
    return [Camera(np.array([0.55, 0.6, 0.6]) * r, (0, 0, 0), SIZE, SIZE, fov_y=50)]


def test_same_spec_renders_bit_identical_arrays(teacher: Teacher) -> None:
    spec = ProxySpec("box", (0.5, 0.4, 0.3), "grass", 11, (0.2, 0.3, 0.1, 0.05))
    a = teacher.render(spec, _cams(spec))
    fresh = Teacher(ctx=teacher.ctx, size=(SIZE, SIZE))  # no cached mesh
    b = fresh.render(spec, _cams(spec))
    for k in ("rgb", "alpha", "depth"):
        assert a[k].shape[:3] == (3, SIZE, SIZE) and a[k].dtype == np.float32
        assert np.array_equal(a[k], b[k]), k
    alone = teacher.render(spec, _cams(spec)[2:3])  # a view's pixels do not depend on its batch
    assert all(np.array_equal(alone[k][0], a[k][2]) for k in a)
    m1, o1 = build_mesh("sphere", (0.3, 0.3, 0.3), "foliage", 5)
    m2, o2 = build_mesh("sphere", (0.3, 0.3, 0.3), "foliage", 5)
    assert np.array_equal(m1, m2) and np.array_equal(o1, o2)


def test_different_seeds_give_different_assets(teacher: Teacher) -> None:
    a = ProxySpec("box", (0.5, 0.5, 0.5), "brick", 1)
    b = ProxySpec("box", (0.5, 0.5, 0.5), "brick", 2)
    cams = _front(a)
    assert np.abs(teacher.render(a, cams)["rgb"] - teacher.render(b, cams)["rgb"]).mean() > 0.005


def _unproject(cam: Camera, depth: np.ndarray) -> np.ndarray:
    """World points (N, 3) of the pixels with depth > 0."""
    ys, xs = np.nonzero(depth > 0)
    z = depth[ys, xs].astype(np.float64)
    k = cam.intrinsics.astype(np.float64)
    xc = (xs + 0.5 - k[0, 2]) / k[0, 0] * z
    yc = (ys + 0.5 - k[1, 2]) / k[1, 1] * z
    pc = np.stack([xc, yc, z], -1)
    v = cam.view.astype(np.float64)
    return (pc - v[:3, 3]) @ v[:3, :3]


@pytest.mark.parametrize("material", MATERIAL_NAMES)
def test_depth_points_lie_inside_bounds_plus_margin(teacher: Teacher, material: str) -> None:
    """Every shape of every material renders, and every surface point seen lies in bounds + margin."""
    m = MATERIALS[material].margin
    for shape, he in (("box", (0.4, 0.3, 0.5)), ("sphere", (0.3, 0.5, 0.3)), ("plane", (0.6, 0.05, 0.4)),
                      ("ramp", (0.5, 0.3, 0.3)), ("capsule", (0.25, 0.6, 0.25)), ("cylinder", (0.3, 0.4, 0.2))):
        spec = ProxySpec(shape, he, material, 3, (0.5, 0.0, 0.5, 0.0))
        cams = _cams(spec, 4, seed=7)
        out = teacher.render(spec, cams)
        assert (out["alpha"] > 0).any()
        for cam, d in zip(cams, out["depth"], strict=True):
            pts = _unproject(cam, d)
            # Depth is resolved at pixel centres; allow half a pixel's footprint at that depth.
            slack = 0.6 * d.max() / cam.focal + 1e-3
            assert (np.abs(pts) <= np.asarray(he) + m + slack).all(), (shape, np.abs(pts).max(0))


def _ray_box(cam: Camera, h: np.ndarray) -> np.ndarray:
    """Reference twin of the rasteriser's depth: view z where each pixel-centre ray enters the box
    ``[-h, h]`` (inf where it misses), by the slab method in numpy."""
    k = cam.intrinsics.astype(np.float64)
    ys, xs = np.mgrid[0:cam.height, 0:cam.width]
    d_cam = np.stack([(xs + 0.5 - k[0, 2]) / k[0, 0], (ys + 0.5 - k[1, 2]) / k[1, 1], np.ones(xs.shape)], -1)
    rot = cam.view.astype(np.float64)[:3, :3]
    d = d_cam @ rot  # world direction per unit of view z
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (-h - cam.eye) / d
        t2 = (h - cam.eye) / d
    tmin = np.nanmax(np.minimum(t1, t2), -1)
    tmax = np.nanmin(np.maximum(t1, t2), -1)
    return np.where((tmax >= tmin) & (tmin > 0), tmin, np.inf)


def test_depth_and_coverage_match_a_ray_cast_reference(teacher: Teacher) -> None:
    he = np.array([0.5, 0.4, 0.3])
    spec = ProxySpec("box", tuple(he), "plaster", 2)  # plaster: detail within 1 cm of the box
    m = MATERIALS["plaster"].margin
    cams = _cams(spec, 4, seed=5)
    out = teacher.render(spec, cams)
    for cam, d, a in zip(cams, out["depth"], out["alpha"], strict=True):
        inner, outer = _ray_box(cam, he), _ray_box(cam, he + m)
        full = a >= 1.0
        assert np.isfinite(inner[full & np.isfinite(inner)]).all()
        both = full & np.isfinite(inner)
        assert both.sum() > 50
        ok = (d[both] >= outer[both] - 1e-3) & (d[both] <= inner[both] + 1e-3)
        assert ok.mean() > 0.97, ok.mean()
        # Pixels on edges average supersamples that hit different faces: within a pixel's footprint.
        slack = 1.5 * d.max() / cam.focal
        assert (d[both] >= outer[both] - slack).all() and (d[both] <= inner[both] + slack).all()
        hit_ref, hit = np.isfinite(inner), a > 0.5
        iou = (hit_ref & hit).sum() / max((hit_ref | hit).sum(), 1)
        assert iou > 0.88, iou


def _texture(rgb: np.ndarray, alpha: np.ndarray) -> float:
    """Mean |pixel − 4-neighbour mean| over fully covered interior pixels: 0 for a flat colour."""
    full = alpha >= 1.0
    inner = full[1:-1, 1:-1] & full[:-2, 1:-1] & full[2:, 1:-1] & full[1:-1, :-2] & full[1:-1, 2:]
    c = rgb[1:-1, 1:-1]
    nb = (rgb[:-2, 1:-1] + rgb[2:, 1:-1] + rgb[1:-1, :-2] + rgb[1:-1, 2:]) / 4
    return float(np.abs(c - nb)[inner].mean()) if inner.any() else 0.0


@pytest.mark.parametrize("material", MATERIAL_NAMES)
def test_every_material_and_state_renders_detail_not_a_flat_colour(teacher: Teacher, material: str) -> None:
    base = ProxySpec("box", (0.5, 0.4, 0.5), material, 21)
    cams = _front(base)
    pristine = teacher.render(base, cams)
    assert pristine["alpha"].mean() > 0.1
    assert _texture(pristine["rgb"][0], pristine["alpha"][0]) > 0.004, "no visible detail"
    for i, name in enumerate(STATES):
        state = tuple(1.0 if j == i else 0.0 for j in range(len(STATES)))
        out = teacher.render(ProxySpec("box", (0.5, 0.4, 0.5), material, 21, state), cams)
        assert out["alpha"].mean() > 0.1, name
        assert np.isfinite(out["rgb"]).all() and out["rgb"].min() >= 0
        changed = np.abs(out["rgb"] - pristine["rgb"]).mean()
        assert changed > 0.01, f"{name}=1 hardly changes {material}"


@pytest.mark.parametrize("material", ["grass", "brick", "plaster", "water", "foliage", "metal"])
def test_states_change_the_picture_continuously(teacher: Teacher, material: str) -> None:
    cams = _front(ProxySpec("box", (0.5, 0.4, 0.5), material, 4))
    for i, name in enumerate(STATES):
        def img(v: float, i: int = i) -> np.ndarray:
            st_ = tuple(v if j == i else 0.2 for j in range(len(STATES)))
            return teacher.render(ProxySpec("box", (0.5, 0.4, 0.5), material, 4, st_), cams)["rgb"]

        lo, step, far = img(0.4), img(0.45), img(0.9)
        small = np.abs(step - lo).mean()
        big = np.abs(far - lo).mean()
        assert small < 0.04, f"{name}: a 0.05 step changes the mean pixel by {small:.4f}"
        assert small < 0.3 * big, f"{name}: change is not gradual ({small:.4f} vs {big:.4f})"
        assert np.array_equal(img(0.4), lo)


def test_render_rejects_bad_cameras(teacher: Teacher) -> None:
    spec = ProxySpec("box", (0.5, 0.5, 0.5), "stone", 0)
    with pytest.raises(ValueError, match="at least one camera"):
        teacher.render(spec, [])
    with pytest.raises(ValueError, match="teacher renders"):
        teacher.render(spec, [Camera((2, 2, 2), (0, 0, 0), SIZE + 1, SIZE)])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), split=st.sampled_from(["train", "heldout"]))
def test_sampled_specs_fall_in_their_split(seed: int, split: str) -> None:
    rng = np.random.default_rng(seed)
    spec = sample_spec(rng, split=split)
    assert split_of(spec) == split
    assert (spec.style_seed >= HELDOUT_SEED) == (split == "heldout")
    assert spec.shape in SHAPES and spec.material in MATERIALS
    cams = sample_cameras(spec, 8, rng)
    lim = np.asarray(spec.half_extents) + MATERIALS[spec.material].margin
    for c in cams:
        assert not (np.abs(c.eye) <= lim).all(), "camera inside the proxy"


def test_sample_spec_validates_and_honours_materials() -> None:
    rng = np.random.default_rng(0)
    assert {sample_spec(rng, materials=["sand"]).material for _ in range(5)} == {"sand"}
    assert all(5 <= sample_spec(rng, seeds=range(5, 7)).style_seed < 7 for _ in range(5))
    with pytest.raises(ValueError):
        sample_spec(rng, materials=["lava"])
    with pytest.raises(ValueError):
        sample_spec(rng, split="test")
    with pytest.raises(ValueError):
        sample_cameras(ProxySpec("box", (1, 1, 1), "sand"), 0, rng)


def test_sampled_cameras_see_the_proxy(teacher: Teacher) -> None:
    rng = np.random.default_rng(3)
    seen = []
    for _ in range(6):
        spec = sample_spec(rng)
        out = teacher.render(spec, _cams(spec, 4, seed=int(rng.integers(1000))))
        seen += list(out["alpha"].mean((1, 2)) > 0.01)
    assert np.mean(seen) > 0.9


@settings(max_examples=25, deadline=None)
@given(shape=st.sampled_from(SHAPES), material=st.sampled_from(MATERIAL_NAMES),
       he=st.tuples(*[st.floats(-4.0, 4.5)] * 3), seed=st.integers(0, 2**40))
def test_any_spec_builds_a_bounded_mesh_of_bounded_size(shape: str, material: str, he: tuple, seed: int) -> None:
    """Random and extreme sizes (1 cm to 45 m): finite, inside bounds + margin, within the vertex budget."""
    half = tuple(float(np.exp(v)) * 0.5 for v in he)
    verts, offset = build_mesh(shape, half, material, seed)
    assert verts.dtype == np.float32 and verts.shape[1] == 14 and len(verts) % 3 == 0 and len(verts) > 0
    assert np.isfinite(verts).all() and np.isfinite(offset).all()
    lim = (np.asarray(half) + MATERIALS[material].margin) * (1 + 1e-6)
    assert (np.abs(verts[:, 0:3]) <= lim).all()
    assert len(verts) < 800_000


def test_speed_probe_prints_json_and_writes_a_sheet(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from PIL import Image

    from worldmodel.teacher.__main__ import main

    sheet = tmp_path / "sheet.png"
    assert main(["--specs", "1", "--views", "1", "--size", "16", "--sheet", str(sheet), "--smoothness", "1"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert rows[0]["area"] == "teacher" and rows[0]["views_per_s"] > 0
    assert [r["state"] for r in rows[1:]] == list(STATES)
    assert all(r["psnr_min"] > 10 for r in rows[1:])
    assert Image.open(sheet).size == (16 * 12, 16 * len(MATERIAL_NAMES))
