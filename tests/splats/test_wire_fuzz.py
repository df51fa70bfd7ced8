"""Fuzzing the SplatDelta decoder: random, bit-flipped and truncated bytes only ever raise InputError."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from engine.splats import wire
from engine.splats.gaussians import GaussianSet
from engine.splats.wire import ProxyOp, SetOp, SplatDelta, SplatScene, XformOp


def _valid_message(quantised: bool) -> bytes:
    rng = np.random.default_rng(1)
    q = rng.normal(size=(6, 4))
    g = GaussianSet(rng.normal(size=(6, 3)), rng.uniform(0.01, 0.1, (6, 3)), q / np.linalg.norm(q, axis=1, keepdims=True),
                    rng.uniform(0.1, 0.9, 6), rng.normal(size=(6, 4, 3)))
    ops = [ProxyOp("a", "ramp", (2, 1, 3), "roof_tiles", (0.1, 0.2, 0.3, 0.4)), SetOp("a", g, 1), XformOp("a", np.eye(4))]
    return wire.encode(SplatDelta(4, ops), quantised=quantised)


VALID = (_valid_message(True), _valid_message(False))


def _decode_never_crashes(data: bytes) -> None:
    try:
        delta = wire.decode(data)
    except InputError:
        return
    for op in delta.ops:  # whatever decodes is well formed
        if isinstance(op, SetOp):
            g = op.gaussians.validate()
            assert np.isfinite(g.means).all() and ((g.opacities > 0) & (g.opacities <= 1)).all()
    scene = SplatScene()
    try:
        scene.apply_bytes(data)
    except InputError:
        return
    SplatScene().apply_bytes(scene.keyframe())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_random_bytes(data: bytes) -> None:
    _decode_never_crashes(data)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([0, 1]), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 7)), min_size=1, max_size=6))
def test_bit_flips(which: int, flips: list[tuple[int, int]]) -> None:
    data = bytearray(VALID[which])
    for pos, bit in flips:
        data[pos % len(data)] ^= 1 << bit
    _decode_never_crashes(bytes(data))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([0, 1]), st.integers(0, 10**6), st.binary(max_size=8))
def test_truncated_or_extended(which: int, cut: int, tail: bytes) -> None:
    data = VALID[which]
    _decode_never_crashes(data[: cut % len(data)])
    _decode_never_crashes(data + tail)
