"""SplatDelta wire format: round trips, error bounds of the quantised layout, validation, ordering."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest

from engine.errors import InputError
from engine.splats import wire
from engine.splats.gaussians import GaussianSet
from engine.splats.wire import ProxyOp, RemoveOp, SetOp, SplatDelta, SplatScene, XformOp


def random_set(n: int, degree: int = 0, seed: int = 0, extent: float = 2.0) -> GaussianSet:
    """N random Gaussians inside a box of half-size ``extent``."""
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    k = (degree + 1) ** 2
    return GaussianSet(
        means=rng.uniform(-extent, extent, (n, 3)),
        scales=np.exp(rng.uniform(np.log(0.002), np.log(0.3), (n, 3))),
        quats=q,
        opacities=rng.uniform(0.01, 0.99, n),
        sh=rng.normal(0, 0.6, (n, k, 3)),
    )


def quat_angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    dot = np.abs((a.astype(np.float64) * b).sum(axis=1))
    return 2 * np.arccos(np.clip(dot, 0, 1))


def test_sh0_costs_16_bytes_per_gaussian() -> None:
    small = wire.encode(SplatDelta(0, [SetOp("a", random_set(1010))]))  # same msgpack header sizes
    big = wire.encode(SplatDelta(0, [SetOp("a", random_set(2010))]))
    assert (len(big) - len(small)) / 1000 == wire.BYTES_PER_GAUSSIAN_SH0 == 16


@pytest.mark.parametrize("degree", [0, 1, 3])
def test_quantised_set_stays_within_stated_error_of_float32_reference(degree: int) -> None:
    g = random_set(5000, degree, seed=degree)
    ref = wire.decode(wire.encode(SplatDelta(3, [SetOp("house/1", g, lod=2)]), quantised=False)).ops[0]
    assert ref.gaussians.equals(g) and ref.lod == 2  # the reference twin is lossless
    q = wire.decode(wire.encode(SplatDelta(3, [SetOp("house/1", g, lod=2)]))).ops[0].gaussians
    lo, hi = g.means.min(0), g.means.max(0)
    assert (np.abs(q.means - g.means) <= (hi - lo) / 131070 + 1e-6).all()
    logs = np.log(g.scales)
    assert np.abs(np.log(q.scales) - logs).max() <= (logs.max() - logs.min()) / 510 + 1e-5
    np.testing.assert_allclose(np.linalg.norm(q.quats, axis=1), 1.0, atol=1e-6)
    assert quat_angle(q.quats, g.quats).max() <= 0.035
    assert np.abs(q.opacities - g.opacities).max() <= 1 / 512 + 1e-7
    assert ((q.opacities > 0) & (q.opacities < 1)).all()
    dc = g.sh[:, 0]
    assert (np.abs(q.sh[:, 0] - dc) <= (dc.max(0) - dc.min(0)) / 510 + 1e-6).all()
    if degree:
        rest = g.sh[:, 1:]
        assert np.abs(q.sh[:, 1:] - rest).max() <= (rest.max() - rest.min()) / 510 + 1e-6


def test_quantised_decode_is_deterministic_and_stable_under_reencoding_of_bytes() -> None:
    g = random_set(300, seed=7)
    data = wire.encode(SplatDelta(0, [SetOp("a", g)]))
    assert data == wire.encode(SplatDelta(0, [SetOp("a", g)]))
    a = wire.decode(data).ops[0].gaussians
    b = wire.decode(data).ops[0].gaussians
    assert a.equals(b)


def test_every_op_round_trips() -> None:
    m = np.eye(4, dtype=np.float32)
    m[:3, 3] = (1.5, -2.0, 30.25)
    ops = [
        ProxyOp("well", "cylinder", (1.0, 0.5, 1.0), "stone", (0.0, 0.25, 0.0, 0.0)),
        SetOp("well", random_set(50), lod=1),
        XformOp("well", m),
        RemoveOp("crate/3"),
        SetOp("empty", GaussianSet.empty()),
    ]
    out = wire.decode(wire.encode(SplatDelta(9, ops, keyframe=True)))
    assert out.seq == 9 and out.keyframe
    assert out.ops[0] == ops[0]
    assert out.ops[1].anchor == "well" and out.ops[1].lod == 1 and len(out.ops[1].gaussians) == 50
    np.testing.assert_array_equal(out.ops[2].matrix, m)
    assert out.ops[3] == RemoveOp("crate/3")
    assert len(out.ops[4].gaussians) == 0


def test_scene_applies_in_order_and_keyframe_restores_the_same_state() -> None:
    sender = SplatScene()
    m = np.eye(4, dtype=np.float32)
    sender.apply_bytes(wire.encode(SplatDelta(0, [ProxyOp("a", "box", (1, 1, 1), "brick"), SetOp("a", random_set(20))])))
    sender.apply_bytes(wire.encode(SplatDelta(1, [XformOp("a", m), ProxyOp("b", "sphere", (1, 2, 1), "foliage")])))
    sender.apply_bytes(wire.encode(SplatDelta(2, [RemoveOp("b")])))
    with pytest.raises(InputError, match="seq"):
        sender.apply_bytes(wire.encode(SplatDelta(5, [RemoveOp("a")])))
    assert set(sender.anchors) == {"a"} and sender.splat_count() == 20
    client = SplatScene()
    client.apply_bytes(sender.keyframe())
    assert client.seq == 2 and set(client.anchors) == {"a"}
    assert client.anchors["a"].gaussians.equals(sender.anchors["a"].gaussians)
    assert client.keyframe() == sender.keyframe()
    client.apply_bytes(wire.encode(SplatDelta(3, [RemoveOp("a")])))
    assert client.anchors == {}


def _msg(op: dict, **env) -> bytes:
    base = {"v": 1, "seq": 0, "key": False, "ops": [op]}
    base.update(env)
    return msgpack.packb(base, use_bin_type=True)


def _good_set() -> dict:
    return wire.pack_op(SetOp("a", random_set(4)))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"", ""),
        (b"\x93\x01\x02\x03", ""),
        (msgpack.packb({"v": 2, "seq": 0, "key": False, "ops": []}), "v"),
        (msgpack.packb({"v": 1, "seq": -1, "key": False, "ops": []}), "seq"),
        (msgpack.packb({"v": 1, "seq": 0, "key": 1, "ops": []}), "key"),
        (_msg({"o": "explode", "a": "x"}), "ops[0].o"),
        (_msg({"o": "remove", "a": ""}), "ops[0].a"),
        (_msg({"o": "xform", "a": "x", "m": b"\0" * 47}), "ops[0].m"),
        (_msg({"o": "xform", "a": "x", "m": np.full(12, np.nan, "<f4").tobytes()}), "ops[0].m"),
        (_msg({"o": "proxy", "a": "x", "shape": "torus", "he": [1, 1, 1], "mat": "stone", "st": [0] * 4}), "ops[0].shape"),
        (_msg({"o": "proxy", "a": "x", "shape": "box", "he": [1, 1, 1], "mat": "cheese", "st": [0] * 4}), "ops[0].mat"),
        (_msg({"o": "proxy", "a": "x", "shape": "box", "he": [1, -1, 1], "mat": "stone", "st": [0] * 4}), "ops[0].he"),
        (_msg({"o": "proxy", "a": "x", "shape": "box", "he": [1, 1, 1], "mat": "stone", "st": [0, 2, 0, 0]}), "ops[0].st"),
        (_msg({**_good_set(), "n": 5}), "ops[0].mean"),
        (_msg({**_good_set(), "n": -1}), "ops[0].n"),
        (_msg({**_good_set(), "k": 2}), "ops[0].k"),
        (_msg({**_good_set(), "lo": [0, float("inf"), 0]}), "ops[0].lo"),
        (_msg({**_good_set(), "slo": 99.0}), "ops[0].slo"),
        (_msg({**_good_set(), "enc": "f16"}), "ops[0].enc"),
        (_msg({**_good_set(), "lod": "hi"}), "ops[0].lod"),
        (_msg({**wire.pack_op(SetOp("a", random_set(2)), quantised=False), "opa": np.array([0.5, 2.0], "<f4").tobytes()}),
         "ops[0].opa"),
    ],
)
def test_bad_messages_name_the_field(data: bytes, field: str) -> None:
    with pytest.raises(InputError) as err:
        wire.decode(data, source="net")
    assert err.value.source == "net" and err.value.field == field


def test_oversized_message_is_refused_before_parsing() -> None:
    with pytest.raises(InputError, match="at most"):
        wire.decode(b"\0" * (wire.MAX_MESSAGE_BYTES + 1))
