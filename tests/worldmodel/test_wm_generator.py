"""Generator with the shipped checkpoint: determinism, cache, constraints over random and extreme specs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.splats.gaussians import GaussianSet
from engine.splats.vocab import MATERIAL_NAMES, SHAPES, STATES
from worldmodel import Generator, ProxySpec
from worldmodel.anchors import LODS, anchor_count
from worldmodel.eval import violations
from worldmodel.model import G_MAX, RAW, ModelConfig, decode, encode


@pytest.fixture(scope="module")
def gen() -> Generator:
    return Generator()


def _specs(n: int, seed: int = 0) -> list[ProxySpec]:
    rng = np.random.default_rng(seed)
    return [ProxySpec(SHAPES[i % len(SHAPES)], tuple(rng.uniform(0.2, 2.0, 3)), MATERIAL_NAMES[i % 12],
                      int(rng.integers(1 << 40)), tuple(rng.uniform(0, 1, 4))) for i in range(n)]


def test_output_is_a_gaussian_set_with_a_version(gen: Generator) -> None:
    [gs] = gen.generate([ProxySpec("box", (0.5, 0.5, 0.5), "brick", 7)])
    assert isinstance(gs, GaussianSet) and len(gs) > 0 and gs.sh_degree == 0
    gs.validate("test")
    assert gen.version.startswith("wm-") and len(gen.version) == 15


def test_bit_identical_alone_in_batches_and_across_thread_counts(gen: Generator) -> None:
    specs = _specs(32, seed=1)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        gen.clear_cache()
        big = gen.generate(specs)
        gen.clear_cache()
        seven = [g for k in range(0, 14, 7) for g in gen.generate(specs[k:k + 7])]
        torch.set_num_threads(1)
        gen.clear_cache()
        alone = [gen.generate([s])[0] for s in specs[:14]]
    finally:
        torch.set_num_threads(threads)
    for a, b, c in zip(big[:14], seven, alone, strict=True):
        assert a.equals(b) and a.equals(c)
    assert torch.get_num_threads() == threads  # generation leaves the thread count as it found it


def test_cache_and_quantised_state(gen: Generator) -> None:
    s = ProxySpec("sphere", (0.4, 0.6, 0.4), "stone", 3, (0.2, 0.0, 0.0, 0.0))
    a = gen.generate([s])[0]
    assert gen.generate([s])[0] is a
    tiny_change = dataclasses.replace(s, state=(0.2 + 1e-5, 0.0, 0.0, 0.0))  # below the state quantum
    assert gen.generate([tiny_change])[0] is a
    other = gen.generate([dataclasses.replace(s, style_seed=4)])[0]
    assert not other.equals(a)


def test_lods_shrink_the_budget_and_budget_grows_with_area(gen: Generator) -> None:
    s = ProxySpec("box", (1.0, 1.0, 1.0), "plaster", 1)
    sizes = [len(gen.generate([s], lod=k)[0]) for k in range(len(LODS))]
    assert sizes[0] > sizes[1] > sizes[2] > 0
    small = ProxySpec("box", (0.2, 0.2, 0.2), "plaster", 1)
    assert len(gen.generate([small])[0]) < sizes[0]
    with pytest.raises(ValueError, match="lod"):
        gen.generate([s], lod=len(LODS))
    with pytest.raises(TypeError, match="ProxySpec"):
        gen.generate(["box"])  # type: ignore[list-item]


def test_bad_specs_are_rejected_with_the_field() -> None:
    with pytest.raises(ValueError, match="material"):
        ProxySpec("box", (1, 1, 1), "lava")
    with pytest.raises(ValueError, match="state.wetness"):
        ProxySpec("box", (1, 1, 1), "stone", 0, (0.0, 1.5, 0.0, 0.0))


extents = st.floats(min_value=1e-3, max_value=1000.0, allow_nan=False)
unit = st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0))
spec_st = st.builds(
    ProxySpec, st.sampled_from(SHAPES), st.tuples(extents, extents, extents), st.sampled_from(MATERIAL_NAMES),
    st.integers(0, (1 << 63) - 1), st.tuples(*[unit] * len(STATES)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=spec_st, lod=st.integers(0, len(LODS) - 1))
def test_zero_constraint_violations_random_and_extreme_specs(gen: Generator, spec: ProxySpec, lod: int) -> None:
    [gs] = gen.generate([spec], lod=lod)
    assert len(gs) == anchor_count(spec.shape, spec.half_extents, lod) * LODS[lod][1]
    assert violations(gs, spec, lod) == 0


@settings(max_examples=25, deadline=None)
@given(spec=spec_st, scale=st.sampled_from([1.0, 30.0, 1e4]), seed=st.integers(0, 1000))
def test_constraints_hold_for_any_raw_network_output(spec: ProxySpec, scale: float, seed: int) -> None:
    """The bounds come from the parametrisation: even absurd raw outputs decode inside them."""
    enc = encode([spec], 0, ModelConfig())
    raw = torch.randn(1, enc.tokens.shape[1], G_MAX, RAW, generator=torch.Generator().manual_seed(seed)) * scale
    g = decode(raw, enc)
    sh = ((g["rgb"][0] - 0.5) / 0.28209479177387814).unsqueeze(1)
    gs = GaussianSet(g["means"][0].numpy(), g["scales"][0].numpy(), g["quats"][0].numpy(),
                     g["opacities"][0].numpy(), sh.numpy())
    assert violations(gs, spec, 0) == 0


def test_violation_check_can_fail() -> None:
    spec = ProxySpec("box", (0.5, 0.5, 0.5), "metal", 0)
    enc = encode([spec], 0, ModelConfig())
    g = decode(torch.zeros(1, enc.tokens.shape[1], G_MAX, RAW), enc)
    gs = GaussianSet(g["means"][0].numpy(), g["scales"][0].numpy(), g["quats"][0].numpy(), g["opacities"][0].numpy(),
                     np.zeros((enc.tokens.shape[1] * 4, 1, 3)))
    assert violations(gs, spec, 0) == 0
    gs.means[0] = [0.6, 0, 0]  # outside 0.5 + 0.01 margin
    gs.opacities[1] = 1.0
    assert violations(gs, spec, 0) == 2


# --- fast paths vs their reference twins ------------------------------------------------------

he_st = st.tuples(*[st.floats(min_value=1e-3, max_value=1000.0, allow_nan=False)] * 3)


@settings(max_examples=30, deadline=None)
@given(shape=st.sampled_from(SHAPES), hes=st.lists(he_st, min_size=1, max_size=6),
       n=st.sampled_from([16, 32, 64, 128, 256]))
def test_vectorised_anchor_points_are_bit_identical_to_the_reference(shape: str, hes: list, n: int) -> None:
    from worldmodel.anchors import _anchor_points_cached, anchor_points_batch

    pts, nrm = anchor_points_batch(shape, np.array(hes), n)
    assert pts.shape == nrm.shape == (len(hes), n, 3)
    for b, he in enumerate(hes):
        p, q = _anchor_points_cached.__wrapped__(shape, tuple(float(v) for v in he), n)
        assert p.tobytes() == pts[b].tobytes() and q.tobytes() == nrm[b].tobytes()


def test_vectorised_encode_is_bit_identical_to_the_per_entity_reference() -> None:
    from worldmodel.model import encode_reference

    cfg = ModelConfig()
    specs = _specs(60, seed=5) + [ProxySpec("plane", (3.0, 1e-3, 3.0), "water", 0),
                                  ProxySpec("box", (1e-3, 1e-3, 1e-3), "metal", (1 << 63) - 1, (1.0,) * 4)]
    fields = ("tokens", "cond", "material", "anchors", "normals", "bound", "spacing", "base_rgb", "base_quat")
    for lod in range(len(LODS)):
        groups: dict[int, list[ProxySpec]] = {}
        for s in specs:
            groups.setdefault(anchor_count(s.shape, s.half_extents, lod), []).append(s)
        for grp in groups.values():
            enc = encode(grp, lod, cfg)
            for b, s in enumerate(grp):
                ref = encode_reference([s], lod, cfg)
                for f in fields:
                    got, want = getattr(enc, f)[b:b + 1], getattr(ref, f)
                    assert got.dtype == want.dtype and got.shape == want.shape, f
                    assert got.numpy().tobytes() == want.numpy().tobytes(), f"{f} differs (lod {lod}, {s})"


def test_encode_rejects_mixed_anchor_counts() -> None:
    small, big = ProxySpec("box", (0.1, 0.1, 0.1), "dirt"), ProxySpec("box", (3.0, 3.0, 3.0), "dirt")
    with pytest.raises(ValueError, match="anchor count"):
        encode([small, big], 0, ModelConfig())


def test_cpu_generator_matches_its_per_entity_reference_twin(gen: Generator) -> None:
    specs = _specs(24, seed=11)
    gen.clear_cache()
    fast = gen.generate(specs, lod=1)
    with torch.inference_mode():
        ref = gen._run_reference(specs, 1)
    assert all(a.equals(b) for a, b in zip(fast, ref, strict=True))


def test_chunked_device_path_is_batch_independent_and_close_to_the_reference(gen: Generator) -> None:
    """The CUDA path (device-side features, padded chunks, one copy back), run here on the CPU."""
    specs = _specs(40, seed=12)
    with torch.inference_mode():
        chunked = gen._run_chunked(specs, 0)
        few = gen._run_chunked(specs[:5], 0)
        ref = gen._run_reference(specs, 0)
    assert all(a.equals(b) for a, b in zip(few, chunked, strict=False))
    for a, r, s in zip(chunked, ref, specs, strict=True):
        assert len(a) == len(r)
        np.testing.assert_allclose(a.means, r.means, atol=1e-4 * max(s.half_extents))
        np.testing.assert_allclose(a.sh, r.sh, atol=1e-3)
        np.testing.assert_allclose(a.opacities, r.opacities, atol=1e-4)
        assert violations(a, s, 0) == 0
