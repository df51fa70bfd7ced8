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


_ANCHORS = st.sampled_from(["a", "b", "c"])
_OPS = st.one_of(
    st.builds(lambda a, m: ProxyOp(a, "box", (1.0, 0.5, 1.0), m), _ANCHORS, st.sampled_from(["brick", "stone", "grass"])),
    st.builds(lambda a, n: SetOp(a, _set(n)), _ANCHORS, st.integers(0, 5)),
    st.builds(lambda a, x: XformOp(a, np.diag([1.0, 1.0, 1.0, 1.0]) + np.eye(4, k=3) * x), _ANCHORS,
              st.floats(-100, 100, allow_nan=False)),
    st.builds(lambda a: wire.RemoveOp(a), _ANCHORS),
)


def _set(n: int) -> GaussianSet:
    rng = np.random.default_rng(n)
    q = rng.normal(size=(n, 4))
    q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-9)
    return GaussianSet(rng.normal(size=(n, 3)), rng.uniform(0.01, 0.1, (n, 3)), q, rng.uniform(0.1, 0.9, n),
                       rng.normal(size=(n, 1, 3)))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(_OPS, max_size=5), max_size=6))
def test_a_late_client_gets_the_same_state_from_one_keyframe(messages: list) -> None:
    """Any sequence of deltas, then a keyframe to a new client: both hold the same anchors and bytes."""
    live = SplatScene()
    for seq, ops in enumerate(messages):
        live.apply_bytes(wire.encode(SplatDelta(seq, ops)))
    late = SplatScene()
    late.apply_bytes(live.keyframe())
    assert set(late.anchors) == set(live.anchors)
    for uid, a in live.anchors.items():
        b = late.anchors[uid]
        assert (a.gaussians is None) == (b.gaussians is None)
        if a.gaussians is not None:
            assert a.gaussians.equals(b.gaussians)
        assert (a.matrix is None) == (b.matrix is None) and (a.matrix is None or np.array_equal(a.matrix, b.matrix))
        assert a.proxy == b.proxy
    assert late.keyframe() == live.keyframe()


_ANY = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.floats() | st.text(max_size=8) | st.binary(max_size=64),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([0, 1, 2, 3, 4]), st.data())
def test_well_formed_msgpack_with_any_field_value_only_raises_input_error(which: int, data) -> None:
    """Deeper than bit flips: a valid message with one field of one op replaced by any value."""
    import msgpack

    msg = msgpack.unpackb(VALID[which % 2] if which < 2 else _valid_message(which == 2), raw=False)
    op = msg["ops"][data.draw(st.integers(0, len(msg["ops"]) - 1))]
    key = data.draw(st.sampled_from(sorted(op) + ["v", "seq", "key"]))
    target = msg if key in ("v", "seq", "key") else op
    target[key] = data.draw(_ANY)
    try:
        raw = msgpack.packb(msg, use_bin_type=True)
    except (OverflowError, TypeError, ValueError):
        return  # not representable in msgpack
    _decode_never_crashes(raw)
