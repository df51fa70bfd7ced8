"""Every real file loads; the biker scene agrees across PlayCanvas .ply and SPZ; each lossy reader
decodes independently written files within its quantisation step; SPZ's RUB axes are converted."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from splat_encoders import encode_playcanvas, encode_spz, quat_matrix, random_set, sh_colour, spz_arrays

from engine.errors import InputError
from engine.splats import dotsplat, load
from engine.splats.gaussians import SH_C0, GaussianSet
from engine.splats.io import decode, load_with_info

DATA = Path(__file__).resolve().parents[2].parent / "shared/testdata/splats"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"real splat files not found at {DATA} (shared/ beside the clone)")

# (file, format, splats, SH degree) as listed in SOURCES.md
REAL = [
    ("loadersgl_train-1000.ply", "inria-ply", 1000, 3),
    ("gshairlod_donut_fused.ply", "inria-ply", 45624, 0),
    ("playcanvas_guitar.compressed.ply", "playcanvas-ply", 90854, 0),
    ("playcanvas_test_compressed_sh3.ply", "playcanvas-ply", 64, 3),
    ("playcanvas_biker.compressed.ply", "playcanvas-ply", 152746, 0),
    ("playcanvas_biker.spz", "spz", 152746, 0),
    ("pdal_fourth_st.spz", "spz", 131199, 3),
    ("aframe_luma-seal.splat", "splat", 101780, 0),
]


@needs_data
@pytest.mark.parametrize(("name", "fmt", "count", "degree"), REAL)
def test_every_real_file_loads_valid(name: str, fmt: str, count: int, degree: int) -> None:
    gs, info = load_with_info(DATA / name)
    assert (info.format, len(gs), gs.sh_degree) == (fmt, count, degree)
    gs.validate(name)
    np.testing.assert_allclose(np.linalg.norm(gs.quats, axis=1), 1.0, atol=2e-6)
    assert gs.opacities.min() > 0 and gs.scales.max() < 100 and np.abs(gs.means).max() < 1e4


@needs_data
def test_spz_flags() -> None:
    assert load_with_info(DATA / "pdal_fourth_st.spz")[1].version == 2
    assert load_with_info(DATA / "pdal_fourth_st.spz")[1].antialiased
    assert load_with_info(DATA / "playcanvas_biker.spz")[1].version == 4


@needs_data
def test_biker_compressed_ply_and_spz_are_the_same_splats() -> None:
    a = load(DATA / "playcanvas_biker.compressed.ply")
    b = load(DATA / "playcanvas_biker.spz")
    assert len(a) == len(b)
    # same order; tolerances are the two formats' quantisation steps
    assert np.abs(a.means - b.means).max() <= 0.5 / 4096 + 1e-6  # SPZ: 12 fractional bits
    la = np.clip(np.log(a.scales), -10.0, 5.9375)  # SPZ clamps log scales to its u8 range
    assert np.abs(la - np.log(b.scales)).max() <= 1 / 32 + 1e-4  # SPZ: 1/16 steps in log scale
    assert np.abs(a.opacities - b.opacities).max() <= 0.5 / 255 + 1e-6
    rgb = lambda g: g.sh[:, 0] * SH_C0 + 0.5  # noqa: E731
    assert np.abs(rgb(a) - rgb(b)).max() <= 0.5 / 255 / 0.15 * SH_C0 + 1e-4  # SPZ colour step
    dot = np.abs((a.quats.astype(np.float64) * b.quats).sum(axis=1))
    assert np.degrees(2 * np.arccos(np.clip(dot.min(), 0, 1))) < 0.5  # u8/10-bit quaternions


def _max_errors(a: GaussianSet, b: GaussianSet) -> dict[str, float]:
    dot = np.abs((a.quats.astype(np.float64) * b.quats).sum(axis=1))
    return {
        "means": float(np.abs(a.means - b.means).max()),
        "log_scales": float(np.abs(np.log(a.scales) - np.log(b.scales)).max()),
        "opacities": float(np.abs(a.opacities - b.opacities).max()),
        "dc": float(np.abs(a.sh[:, 0] - b.sh[:, 0]).max()),
        "rest": float(np.abs(a.sh[:, 1:] - b.sh[:, 1:]).max()) if a.sh.shape[1] > 1 else 0.0,
        "quat_deg": float(np.degrees(2 * np.arccos(np.clip(dot.min(), 0, 1)))),
    }


@pytest.mark.parametrize(("version", "degree"), [(2, 3), (3, 1), (4, 0), (4, 2)])
def test_spz_reader_matches_known_gaussians(version: int, degree: int) -> None:
    gs = random_set(600, degree, seed=version + degree)
    got, info = decode(encode_spz(gs, version, antialiased=True), "t.spz", ".spz")
    assert (info.version, info.antialiased, got.sh_degree) == (version, True, degree)
    err = _max_errors(gs, got)
    assert err["means"] <= 0.5 / 4096 + 1e-6
    assert err["log_scales"] <= 1 / 32 + 1e-5
    assert err["opacities"] <= 0.5 / 255 + 1e-6
    assert err["dc"] <= 0.5 / 255 / 0.15 + 1e-5
    assert err["rest"] <= 0.5 / 128 + 1e-6
    if version >= 3:
        assert err["quat_deg"] < 0.3  # smallest three, 9 bits + sign
    else:  # x, y, z as u8 with w >= 0 rebuilt: the stored components are within half a step
        sign = lambda q: q * np.where(q[:, :1] < 0, -1, 1)  # noqa: E731
        assert np.abs(sign(got.quats)[:, 1:] - sign(gs.quats)[:, 1:]).max() <= 0.5 / 127.5 + 2e-3


def test_spz_rub_axes_become_ply_frame_for_positions_rotations_and_view_dependent_colour() -> None:
    gs = random_set(300, 3, seed=11)
    got = decode(encode_spz(gs, 4), "t.spz", ".spz")[0]
    # what the file holds, read by hand without any axis conversion (RUB)
    arrays = spz_arrays(gs, 4)
    b = np.frombuffer(arrays[0], np.uint8).reshape(-1, 3, 3).astype(np.int64)
    fixed = b[..., 0] | b[..., 1] << 8 | b[..., 2] << 16
    rub_pos = np.where(fixed >= 1 << 23, fixed - (1 << 24), fixed) / 4096
    np.testing.assert_allclose(got.means, rub_pos * [1, -1, -1], atol=1e-6)
    rub_rest = (np.frombuffer(arrays[5], np.uint8).reshape(len(gs), 15, 3).astype(np.float64) - 128) / 128
    rub_sh = np.concatenate([got.sh[:, :1].astype(np.float64), rub_rest], axis=1)
    d = np.random.default_rng(0).normal(size=(len(gs), 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    flip = np.array([1.0, -1.0, -1.0])
    # colour seen along d in the RUB file == colour along the flipped d in our frame
    np.testing.assert_allclose(sh_colour(got.sh, d * flip), sh_colour(rub_sh, d), atol=1e-5)
    # and it is the colour of the original Gaussians up to SH quantisation
    assert np.abs(sh_colour(got.sh, d) - sh_colour(gs.sh, d)).max() < 0.05
    r_ours = quat_matrix(got.quats)
    r_orig = quat_matrix(gs.quats)
    assert np.abs(r_ours - r_orig).max() < 0.02


def test_spz_bad_headers_name_the_field() -> None:
    good = encode_spz(random_set(20, 1), 4)
    cases = {
        good[:20]: "header",
        good[:4] + struct.pack("<I", 9) + good[8:]: "header.version",
        good[:8] + struct.pack("<I", 0) + good[12:]: "header.numPoints",
        good[:8] + struct.pack("<I", 2**30) + good[12:]: "header.numPoints",
        good[:12] + bytes([7]) + good[13:]: "header.shDegree",
        good[:15] + bytes([3]) + good[16:]: "header.numStreams",
        good[:-3]: "toc.sh",
        good + b"xx": "toc",
        b"NOPE" + good[4:]: "header",
    }
    for blob, field in cases.items():
        with pytest.raises(InputError) as e:
            decode(blob, "bad.spz", ".spz")
        assert e.value.field == field and e.value.source == "bad.spz", e.value
    v2 = encode_spz(random_set(20, 1), 2)
    for blob, field in {v2[:30]: "gzip", v2[:10]: "header"}.items():
        with pytest.raises(InputError) as e:
            decode(blob, "bad.spz", ".spz")
        assert e.value.field in (field, "gzip", "header", "body"), e.value


@pytest.mark.parametrize(("degree", "bounds"), [(0, True), (3, True), (1, False), (2, True)])
def test_playcanvas_reader_matches_known_gaussians(degree: int, bounds: bool) -> None:
    gs = random_set(700, degree, seed=degree)
    got, info = decode(encode_playcanvas(gs, color_bounds=bounds), "t.ply", ".ply")
    assert info.format == "playcanvas-ply" and got.sh_degree == degree
    err = _max_errors(gs, got)
    assert err["means"] <= 4.0 / 1023 * 0.51  # chunk span ≤ 4, 10 bits for y (11 for x, z)
    assert err["log_scales"] <= (np.log(0.3) - np.log(0.002)) / 1023 * 0.51
    assert err["opacities"] <= 0.5 / 255 + 1e-6
    assert err["dc"] <= (1.0 if not bounds else 0.6) / 255 / SH_C0 + 1e-4
    assert err["rest"] <= 4 / 255 + 1e-6
    assert err["quat_deg"] < 0.3


def test_playcanvas_structure_errors() -> None:
    good = encode_playcanvas(random_set(300, 1))
    cases = {
        good.replace(b"element chunk 2", b"element chunk 1"): "chunk",
        good.replace(b"property float max_b", b"property float max_q"): "chunk",
        good.replace(b"element sh 300", b"element sh 299"): "sh",
        good[:-1]: "sh",
        good.replace(b"property uint packed_scale", b"property float packed_scale"): "vertex",
    }
    for blob, field in cases.items():
        with pytest.raises(InputError) as e:
            decode(blob, "bad.ply", ".ply")
        assert e.value.field == field, (field, e.value)


def test_dotsplat_reader_matches_known_gaussians_and_rejects_bad_records() -> None:
    gs = random_set(500, 0, seed=5)
    got = decode(dotsplat.encode(gs), "t.splat", ".splat")[0]
    err = _max_errors(gs, got)
    assert err["means"] == 0 and err["log_scales"] < 1e-6 and err["opacities"] <= 0.5 / 255 + 1e-6
    assert err["dc"] <= 0.5 / 255 / SH_C0 + 1e-5 and err["quat_deg"] < 2.0
    data = bytearray(dotsplat.encode(gs))
    with pytest.raises(InputError, match="multiple of 32"):
        decode(bytes(data[:-7]), "t.splat", ".splat")
    data[32 * 4 + 16:32 * 4 + 20] = np.float32(np.nan).tobytes()
    with pytest.raises(InputError) as e:
        decode(bytes(data), "t.splat", ".splat")
    assert e.value.field == "splat.scale" and "splat 4" in e.value.expected
    zero_alpha = bytearray(dotsplat.encode(gs))
    zero_alpha[27] = 0
    assert 0 < decode(bytes(zero_alpha), "t.splat", ".splat")[0].opacities[0] < 1e-10


# --- vectorised readers against plain per-splat twins ---------------------------------------

def _pc_rotation_reference(v: int) -> list[float]:
    """One packed_rotation → (w, x, y, z), written like the engine's per-splat iterator."""
    norm = np.sqrt(2.0)
    a = (((v >> 20) & 1023) / 1023 - 0.5) * norm
    b = (((v >> 10) & 1023) / 1023 - 0.5) * norm
    c = ((v & 1023) / 1023 - 0.5) * norm
    m = np.sqrt(max(0.0, 1.0 - (a * a + b * b + c * c)))
    x, y, z, w = {0: (a, b, c, m), 1: (m, b, c, a), 2: (b, m, c, a), 3: (b, c, m, a)}[v >> 30]
    q = np.array([w, x, y, z])
    return list(q / np.linalg.norm(q))


def _smallest_three_reference(r: bytes) -> list[float]:
    """One SPZ v3+ rotation → (x, y, z, w), a line-by-line twin of the C++ decoder."""
    comp = r[0] | r[1] << 8 | r[2] << 16 | r[3] << 24
    largest = comp >> 30
    q = [0.0] * 4
    sum_sq = 0.0
    for i in (3, 2, 1, 0):
        if i != largest:
            mag, neg = comp & 511, (comp >> 9) & 1
            comp >>= 10
            q[i] = np.sqrt(0.5) * mag / 511 * (-1 if neg else 1)
            sum_sq += q[i] * q[i]
    q[largest] = np.sqrt(max(0.0, 1.0 - sum_sq))
    return q


def test_vectorised_rotation_unpacking_matches_per_splat_twins() -> None:
    from engine.splats import playcanvas, spz

    rng = np.random.default_rng(3)
    packed = rng.integers(0, 2**32, 2000, dtype=np.uint64).astype(np.uint32)
    fast = playcanvas.unpack_rotation(packed)
    slow = np.array([_pc_rotation_reference(int(v)) for v in packed])
    np.testing.assert_allclose(fast, slow, atol=1e-6)
    raw = rng.integers(0, 256, (2000, 4), dtype=np.uint8)
    fast = spz.unpack_smallest_three(raw)
    slow = np.array([_smallest_three_reference(bytes(r)) for r in raw])
    np.testing.assert_allclose(fast, slow, atol=1e-12)


def test_rotate_x180_is_an_involution_and_preserves_view_dependent_colour() -> None:
    from engine.splats.io import rotate_x180

    gs = random_set(200, 3, seed=9)
    once = rotate_x180(gs)
    assert rotate_x180(once).equals(gs)
    d = np.random.default_rng(1).normal(size=(200, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    flip = np.array([1.0, -1.0, -1.0])
    np.testing.assert_allclose(sh_colour(once.sh, d * flip), sh_colour(gs.sh, d), atol=1e-5)
    np.testing.assert_allclose(quat_matrix(once.quats), flip[:, None] * quat_matrix(gs.quats) * flip, atol=1e-6)


def test_spz_degree_4_is_read_truncated_to_degree_3() -> None:
    import zstandard

    gs = random_set(50, 3, seed=12)
    arrays = spz_arrays(gs, 4)
    sh = np.frombuffer(arrays[5], np.uint8).reshape(50, 15, 3)
    extra = np.random.default_rng(0).integers(0, 256, (50, 9, 3), dtype=np.uint8)
    arrays[5] = np.concatenate([sh, extra], axis=1).tobytes()
    frames = [zstandard.ZstdCompressor().compress(a) for a in arrays]
    head = struct.pack("<IIIBBBBI12x", 0x5053474E, 4, 50, 4, 12, 0, 6, 32)
    toc = b"".join(struct.pack("<QQ", len(f), len(a)) for f, a in zip(frames, arrays, strict=True))
    got = decode(head + toc + b"".join(frames), "d4.spz", ".spz")[0]
    assert got.equals(decode(encode_spz(gs, 4), "d3.spz", ".spz")[0])
