"""Hypothesis fuzzing of every reader: truncated, byte-flipped, header-mangled and random files give
either valid Gaussians or an InputError naming the file, never another exception."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from splat_encoders import encode_playcanvas, encode_spz, random_set

from engine.errors import InputError
from engine.splats import dotsplat, ply
from engine.splats.io import decode

DATA = Path(__file__).resolve().parents[2].parent / "shared/testdata/splats"


def _ascii_ply() -> bytes:
    gs = random_set(6, 1, seed=2)
    canon = np.frombuffer(ply.encode_inria(gs).split(b"end_header\n", 1)[1], "<f4").reshape(len(gs), -1)
    head = ply.encode_inria(gs).split(b"end_header\n", 1)[0].replace(b"binary_little_endian", b"ascii")
    return head + b"end_header\n" + "\n".join(" ".join(f"{v:.9g}" for v in row) for row in canon).encode() + b"\n"


SAMPLES: dict[str, tuple[bytes, str]] = {
    "inria": (ply.encode_inria(random_set(8, 1, seed=1)), ".ply"),
    "inria_ascii": (_ascii_ply(), ".ply"),
    "playcanvas": (encode_playcanvas(random_set(260, 1, seed=3)), ".ply"),
    "spz_v2": (encode_spz(random_set(40, 3, seed=4), 2), ".spz"),
    "spz_v3": (encode_spz(random_set(40, 1, seed=5), 3), ".spz"),
    "spz_v4": (encode_spz(random_set(40, 2, seed=6), 4), ".spz"),
    "splat": (dotsplat.encode(random_set(20, 0, seed=7)), ".splat"),
}
if (DATA / "playcanvas_test_compressed_sh3.ply").is_file():
    SAMPLES["playcanvas_real_sh3"] = ((DATA / "playcanvas_test_compressed_sh3.ply").read_bytes(), ".ply")

HEADER_LINES = st.sampled_from([
    "comment hi", "obj_info x", "element vertex 3", "element vertex -1", "element vertex 99999999999",
    "element chunk 1", "element sh 8", "property float x", "property float scale_0", "property uchar f_rest_0",
    "property list uchar int vertex_indices", "property int128 q", "format ascii 1.0",
    "format binary_big_endian 1.0", "format binary_little_endian 2.0", "end_header", "", "\x00\xff",
]) | st.text(max_size=30)

FUZZ = settings(max_examples=int(__import__("os").environ.get("FUZZ_N", "60")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(blob: bytes, suffix: str) -> None:
    try:
        gs, _ = decode(blob, "fuzz" + suffix, suffix)
    except InputError as e:
        assert e.source == "fuzz" + suffix
        return
    gs.validate("fuzzed")  # a successful load must be honest, valid Gaussians


@pytest.mark.parametrize("kind", sorted(SAMPLES))
@FUZZ
@given(data=st.data())
def test_truncated_files(kind: str, data: st.DataObject) -> None:
    blob, suffix = SAMPLES[kind]
    _check(blob[: data.draw(st.integers(0, len(blob) - 1))], suffix)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
@FUZZ
@given(data=st.data())
def test_flipped_bytes(kind: str, data: st.DataObject) -> None:
    blob, suffix = SAMPLES[kind]
    b = bytearray(blob)
    # half the time aim at the first 200 bytes, where the headers live
    hi = data.draw(st.sampled_from([min(200, len(b)), len(b)])) - 1
    for pos, val in data.draw(st.lists(st.tuples(st.integers(0, hi), st.integers(0, 255)), min_size=1, max_size=8)):
        b[pos] = val
    _check(bytes(b), suffix)


@pytest.mark.parametrize("kind", ["inria", "inria_ascii", "playcanvas"])
@FUZZ
@given(data=st.data())
def test_random_header_lines(kind: str, data: st.DataObject) -> None:
    blob, suffix = SAMPLES[kind]
    head, body = blob.split(b"end_header\n", 1)
    lines = head.split(b"\n")
    for _ in range(data.draw(st.integers(1, 3))):
        line = data.draw(HEADER_LINES).encode("utf-8", "surrogatepass")
        if data.draw(st.booleans()) and len(lines) > 1:
            lines[data.draw(st.integers(1, len(lines) - 1))] = line
        else:
            lines.insert(data.draw(st.integers(1, len(lines))), line)
    _check(b"\n".join(lines) + b"\nend_header\n" + body, suffix)


@FUZZ
@given(blob=st.binary(max_size=300), suffix=st.sampled_from([".ply", ".spz", ".splat", ".bin"]),
       prefix=st.sampled_from([b"", b"ply\n", b"NGSP", b"\x1f\x8b"]))
def test_random_bytes(blob: bytes, suffix: str, prefix: bytes) -> None:
    _check(prefix + blob, suffix)
