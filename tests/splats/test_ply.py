"""INRIA .ply: exact round trips both ways, layout conventions, header variants, bad input, atomic save."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from splat_encoders import random_set

from engine.errors import InputError
from engine.splats import load, ply, save_ply
from engine.splats.gaussians import SH_C0, GaussianSet
from engine.splats.io import decode, load_with_info

DATA = Path(__file__).resolve().parents[2].parent / "shared/testdata/splats"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"real splat files not found at {DATA} (shared/ beside the clone)")


def header(props: list[tuple[str, str]], n: int, fmt: str = "binary_little_endian", extra: str = "") -> bytes:
    lines = ["ply", f"format {fmt} 1.0", extra, f"element vertex {n}"] + [f"property {t} {p}" for p, t in props]
    return ("\n".join(line for line in lines if line) + "\nend_header\n").encode()


def write_records(gs: GaussianSet, names: list[str], types: dict[str, str], endian: str = "<") -> bytes:
    """Build a body from the canonical file's columns, re-ordered/retyped as asked."""
    canon = np.frombuffer(ply.encode_inria(gs).split(b"end_header\n", 1)[1], "<f4").reshape(len(gs), -1)
    cols = dict(zip(ply.inria_properties(gs.sh_degree), canon.T, strict=True))
    np_t = {"float": "f4", "double": "f8", "uchar": "u1"}
    dt = np.dtype([(n, endian + np_t[types.get(n, "float")]) for n in names])
    rec = np.zeros(len(gs), dt)
    for n in names:
        rec[n] = cols.get(n, 7.0)  # unknown extra properties get an arbitrary value
    return rec.tobytes()


# --- round trips -------------------------------------------------------------------------------

@needs_data
def test_canonical_file_is_written_back_byte_for_byte(tmp_path: Path) -> None:
    src = DATA / "loadersgl_train-1000.ply"
    gs = load(src)
    assert len(gs) == 1000 and gs.sh_degree == 3
    save_ply(tmp_path / "out.ply", gs)
    assert (tmp_path / "out.ply").read_bytes() == src.read_bytes()


@needs_data
def test_donut_quats_normalised_colours_kept_and_rewrite_is_stable(tmp_path: Path) -> None:
    gs = load(DATA / "gshairlod_donut_fused.ply")
    assert len(gs) == 45624 and gs.sh_degree == 0
    np.testing.assert_allclose(np.linalg.norm(gs.quats, axis=1), 1.0, atol=1e-6)
    assert (gs.sh[:, 0] * SH_C0 + 0.5).max() > 1.0  # DC colours above 1 are kept, not clipped
    save_ply(tmp_path / "a.ply", gs)
    again = load(tmp_path / "a.ply")
    assert again.equals(gs)
    save_ply(tmp_path / "b.ply", again)
    assert (tmp_path / "b.ply").read_bytes() == (tmp_path / "a.ply").read_bytes()
    # the unnormalised file quaternions survive in the rewritten file
    body = np.frombuffer((tmp_path / "a.ply").read_bytes().split(b"end_header\n")[1], "<f4").reshape(len(gs), -1)
    assert np.linalg.norm(body[:, -4:], axis=1).max() > 2.0


@pytest.mark.parametrize("degree", [0, 1, 2, 3])
def test_set_save_load_exact_with_double_activations(tmp_path: Path, degree: int) -> None:
    gs = random_set(3000, degree, seed=degree)
    gs.opacities[:3] = [1.0, 2.0**-149, 0.99999994]
    save_ply(tmp_path / "g.ply", gs, double_activations=True)
    back = load(tmp_path / "g.ply")
    assert back.equals(gs)


def test_set_save_load_float32_exact_where_representable(tmp_path: Path) -> None:
    gs = random_set(20000, 3, seed=7)
    save_ply(tmp_path / "g.ply", gs)
    back = load(tmp_path / "g.ply")
    for name in ("means", "quats", "sh"):
        assert getattr(back, name).tobytes() == getattr(gs, name).tobytes(), name
    for name in ("scales", "opacities"):
        ulp = np.abs(getattr(back, name).view(np.int32).astype(np.int64) - getattr(gs, name).view(np.int32))
        assert ulp.max() <= 8, name
    # values that are float32 exps of float32 logs (what any float32 file can hold) come back exactly
    log_s = np.random.default_rng(1).uniform(-7, 1, (5000, 3)).astype(np.float32)
    logit = np.random.default_rng(2).uniform(-9, 9, 5000).astype(np.float32)
    rep = GaussianSet(gs.means[:5000], ply.exp_scale(log_s), gs.quats[:5000], ply.sigmoid_opacity(logit), gs.sh[:5000])
    save_ply(tmp_path / "r.ply", rep)
    assert load(tmp_path / "r.ply").equals(rep)


def test_layout_log_scale_logit_opacity_channel_major_w_first() -> None:
    sh = np.zeros((1, 4, 3), np.float32)
    sh[0, 1:, 0] = [1, 2, 3]  # red degree-1 coefficients
    sh[0, 1:, 1] = [4, 5, 6]
    sh[0, 1:, 2] = [7, 8, 9]
    gs = GaussianSet([[1, 2, 3]], [[0.5, 1.0, 2.0]], [[0.5, 0.5, 0.5, 0.5]], [0.25], sh)
    data = ply.encode_inria(gs)
    head, body = data.split(b"end_header\n")
    names = [line.split()[-1] for line in head.decode().splitlines() if line.startswith("property")]
    row = dict(zip(names, np.frombuffer(body, "<f4"), strict=True))
    assert [row[f"f_rest_{i}"] for i in range(9)] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert row["scale_0"] == pytest.approx(np.log(0.5)) and row["scale_1"] == 0
    assert row["opacity"] == pytest.approx(np.log(0.25 / 0.75), abs=1e-6)
    assert row["rot_0"] == 0.5 and (row["x"], row["z"]) == (1, 3) and row["nx"] == 0


# --- header variants ---------------------------------------------------------------------------

def _variant_bytes(gs: GaussianSet, variant: str) -> bytes:
    props = ply.inria_properties(gs.sh_degree)
    if variant == "crlf_comments":
        head, body = ply.encode_inria(gs).split(b"end_header\n", 1)
        head = head.replace(b"format", b"comment made by hand\nobj_info x\nformat", 1).replace(b"\n", b"  \r\n")
        return head + b"end_header\r\n" + body
    if variant == "no_normals_extra_shuffled":
        names = [p for p in props if p not in ("nx", "ny", "nz")]
        names = names[::-1] + ["semantic_id"]
        return header([(n, "float") for n in names], len(gs)) + write_records(gs, names, {})
    if variant == "big_endian":
        return header([(n, "float") for n in props], len(gs), "binary_big_endian") + write_records(gs, props, {}, ">")
    if variant == "doubles":
        types = dict.fromkeys(props, "double")
        return header([(n, "double") for n in props], len(gs)) + write_records(gs, props, types)
    if variant == "ascii":
        canon = np.frombuffer(ply.encode_inria(gs).split(b"end_header\n", 1)[1], "<f4").reshape(len(gs), -1)
        text = "\n".join(" ".join(repr(float(v)) for v in row) for row in canon) + "\n"
        return header([(n, "float") for n in props], len(gs), "ascii") + text.encode()
    if variant == "trailing_face_list":
        return (ply.encode_inria(gs).replace(b"end_header", b"element face 1\nproperty list uchar int vertex_indices\nend_header")
                + b"\x03\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00")
    raise AssertionError(variant)


@pytest.mark.parametrize("variant", ["crlf_comments", "no_normals_extra_shuffled", "big_endian", "doubles", "ascii",
                                     "trailing_face_list"])
def test_header_and_body_variants_give_the_same_gaussians(variant: str) -> None:
    gs = decode(ply.encode_inria(random_set(50, 2, seed=3)), "ref.ply", ".ply")[0]
    got = decode(_variant_bytes(gs, variant), f"{variant}.ply", ".ply")[0]
    assert got.equals(gs)


# --- bad input ---------------------------------------------------------------------------------

def _corrupt(gs: GaussianSet, prop: str, value: float) -> bytes:
    data = bytearray(ply.encode_inria(gs))
    head_len = data.index(b"end_header\n") + len(b"end_header\n")
    props = ply.inria_properties(gs.sh_degree)
    off = head_len + 4 * (len(props) * 3 + props.index(prop))  # vertex 3
    data[off:off + 4] = np.float32(value).tobytes()
    return bytes(data)


@pytest.mark.parametrize(("prop", "value", "needle"), [
    ("scale_0", np.nan, "finite"), ("opacity", np.inf, "finite"), ("x", -np.inf, "finite"),
    ("scale_1", 200.0, "log scale"), ("f_rest_5", np.nan, "finite"),
])
def test_non_finite_or_out_of_range_values_name_the_property(prop: str, value: float, needle: str) -> None:
    with pytest.raises(InputError) as e:
        decode(_corrupt(random_set(10, 1), prop, value), "bad.ply", ".ply")
    assert e.value.source == "bad.ply" and e.value.field == f"vertex.{prop}"
    assert needle in e.value.expected and "vertex 3" in e.value.expected


def test_zero_quaternion_missing_property_truncation_and_wrong_header(tmp_path: Path) -> None:
    data = ply.encode_inria(random_set(10))
    props = ply.inria_properties(0)
    raw = bytearray(data)
    head_len = raw.index(b"end_header\n") + 11
    off = head_len + 4 * (len(props) * 3 + props.index("rot_0"))
    raw[off:off + 16] = bytes(16)
    cases = {
        bytes(raw): "vertex.rot_0",
        data.replace(b"property float scale_2\n", b"property float scale_x\n"): "vertex.scale_2",
        data[:-5]: "vertex",
        b"plx\n" + data[4:]: "header",
        data.replace(b"format binary_little_endian 1.0", b"format binary_middle_endian 1.0"): "header line 2",
        data.replace(b"end_header\n", b"end_headr\n"): "header",
        data.replace(b"property float x\n", b"property quux x\n"): "header line 4",
    }
    for blob, field in cases.items():
        with pytest.raises(InputError) as e:
            decode(blob, "bad.ply", ".ply")
        assert e.value.field == field, (field, e.value)
    with pytest.raises(InputError, match="readable file"):
        load(tmp_path / "missing.ply")
    (tmp_path / "x.obj").write_bytes(b"v 1 2 3\n")
    with pytest.raises(InputError, match="splat file"):
        load(tmp_path / "x.obj")


def test_save_is_atomic_and_rejects_invalid_sets(tmp_path: Path) -> None:
    path = tmp_path / "scene.ply"
    good = random_set(100, 1)
    save_ply(path, good)
    before = path.read_bytes()
    bad = random_set(100, 1)
    bad.scales[5, 1] = np.nan
    with pytest.raises(InputError) as e:
        save_ply(path, bad)
    assert e.value.field == "scales" and "Gaussian 5" in e.value.expected
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["scene.ply"]  # no temp files left behind
    with pytest.raises(InputError, match="writable"):
        save_ply(tmp_path / "no" / "such" / "dir.ply", good)
    info = load_with_info(path)[1]
    assert info.format == "inria-ply"


@needs_data
def test_editing_a_loaded_set_rewrites_only_the_edited_values(tmp_path: Path) -> None:
    src = DATA / "loadersgl_train-1000.ply"
    gs = load(src)
    gs.scales[10, 2] *= 2.0
    gs.opacities[20] = 0.5
    gs.quats[30] = [1, 0, 0, 0]
    save_ply(tmp_path / "e.ply", gs)
    names = ply.inria_properties(3)
    a = np.frombuffer(src.read_bytes().split(b"end_header\n")[1], "<f4").reshape(1000, -1)
    b = np.frombuffer((tmp_path / "e.ply").read_bytes().split(b"end_header\n")[1], "<f4").reshape(1000, -1)
    diff = {(int(i), names[j]) for i, j in np.argwhere(a.view(np.int32) != b.view(np.int32))}
    assert {(10, "scale_2"), (20, "opacity"), (30, "rot_0")} <= diff
    assert {i for i, _ in diff} == {10, 20, 30}
    back = load(tmp_path / "e.ply")
    for name in ("means", "quats", "opacities", "sh"):
        assert getattr(back, name).tobytes() == getattr(gs, name).tobytes(), name
    np.testing.assert_allclose(back.scales, gs.scales, rtol=1e-6)
