"""The Generator's GPU fast path (device-side inputs, one graph-capturable chunk function), run here
on the CPU: its inputs match ``model.encode``, its outputs match the plain twin ``_run_chunked``, an
entity's bits do not depend on its batch, and a fast path that drifts from the model is caught."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine.splats.vocab import MATERIAL_NAMES, SHAPES, STATES
from worldmodel import Generator, ProxySpec
from worldmodel.anchors import LODS, anchor_count
from worldmodel.device_inputs import Template, encode_on_device, entity_params, template
from worldmodel.eval import violations
from worldmodel.model import ModelConfig, encode
from worldmodel.spec import STYLE_OFFSET_RANGE, style_offset, style_offsets

FIELDS = ("means", "scales", "quats", "opacities", "sh")


@pytest.fixture(scope="module")
def gen() -> Generator:
    """A Generator whose device path runs chunks of 8 (64 on a GPU): the same code, less CPU work."""
    g = Generator()
    g.chunk = 8
    return g


def _specs(n: int, seed: int) -> list[ProxySpec]:
    rng = np.random.default_rng(seed)
    return [ProxySpec(SHAPES[i % len(SHAPES)], tuple(rng.uniform(0.2, 2.0, 3)), MATERIAL_NAMES[i % 12],
                      int(rng.integers(1 << 40)), tuple(rng.uniform(0, 1, 4) * (rng.random(4) < 0.5)))
            for i in range(n)]


extents = st.floats(min_value=1e-3, max_value=1000.0, allow_nan=False)
spec_st = st.builds(ProxySpec, st.sampled_from(SHAPES), st.tuples(extents, extents, extents),
                    st.sampled_from(MATERIAL_NAMES), st.integers(0, (1 << 63) - 1),
                    st.tuples(*[st.floats(0.0, 1.0)] * len(STATES)))


@settings(max_examples=40, deadline=None)
@given(specs=st.lists(spec_st, min_size=1, max_size=5), lod=st.integers(0, len(LODS) - 1))
@example(specs=[ProxySpec("capsule", (0.6, 0.2, 0.8), "plaster", 3), ProxySpec("capsule", (0.3, 1.0, 0.5), "metal", 4)],
         lod=0)  # a capsule shorter than wide (ellipsoid caps) beside a tall one (hemispheres)
def test_device_inputs_match_model_encode(specs: list[ProxySpec], lod: int) -> None:
    """Host-side fields are bit-identical; the geometry agrees to float32 rounding (torch's CPU sqrt
    is not always correctly rounded, so a last bit may differ), and every anchor is on the same face."""
    cfg = ModelConfig()
    n = anchor_count(specs[0].shape, specs[0].half_extents, lod)
    specs = [s for s in specs if anchor_count(s.shape, s.half_extents, lod) == n]
    want = encode(specs, lod, cfg, "cpu", device_features=True)
    got = encode_on_device(torch.from_numpy(entity_params(specs, lod, cfg)), lod, template(n, cfg, torch.device("cpu")))
    assert got.n_gauss == want.n_gauss
    for f in ("cond", "material", "bound", "spacing", "base_rgb"):
        assert torch.equal(getattr(got, f), getattr(want, f)), f
    he = torch.tensor([s.half_extents for s in specs]).view(-1, 1, 3)
    for f in ("anchors", "normals", "base_quat", "tokens"):
        a, b = getattr(got, f), getattr(want, f)
        assert a.shape == b.shape and a.dtype == b.dtype, f
        scale = he if f == "anchors" else 1.0
        assert bool(((a - b).abs() <= 1e-6 * scale + 1e-6 * b.abs()).all()), f


@settings(max_examples=30, deadline=None)
@given(seeds=st.lists(st.integers(0, (1 << 63) - 1), max_size=20))
def test_style_offsets_are_the_specs_own_bit_for_bit(seeds: list[int]) -> None:
    got = style_offsets(seeds)
    assert got.shape == (len(seeds), 3) and got.dtype == np.float64
    for row, seed in zip(got, seeds, strict=True):
        assert row.tobytes() == style_offset(seed).tobytes()
        # plain twin: the hash's words one seed at a time
        h = hashlib.blake2b(f"style:{seed}".encode(), digest_size=12).digest()
        plain = np.frombuffer(h, dtype="<u4").astype(np.float64) / 2.0**32 * STYLE_OFFSET_RANGE
        assert row.tobytes() == plain.tobytes()


def test_parameter_rows_do_not_depend_on_the_batch() -> None:
    cfg = ModelConfig()
    specs = [s for s in _specs(60, 3) if anchor_count(s.shape, s.half_extents, 1) == 32]
    whole = entity_params(specs, 1, cfg)
    for i in (0, len(specs) // 2, len(specs) - 1):
        assert whole[i].tobytes() == entity_params([specs[i]], 1, cfg)[0].tobytes()


def test_fast_path_matches_its_plain_twin_and_is_batch_independent(gen: Generator) -> None:
    specs = _specs(30, 4) + [ProxySpec("plane", (3.0, 1e-3, 3.0), "water", 0),
                             ProxySpec("box", (1e-3, 1e-3, 1e-3), "metal", (1 << 63) - 1, (1.0,) * 4),
                             ProxySpec("ramp", (40.0, 0.1, 2.0), "roof_tiles", 9, (0.0, 0.0, 1.0, 0.0))]
    for lod in (0, 2):
        fast = gen._run_device(specs, lod)
        plain = gen._run_chunked(specs, lod)
        sevens = [g for k in range(0, len(specs), 7) for g in gen._run_device(specs[k:k + 7], lod)]
        alone = [gen._run_device([s], lod)[0] for s in specs[::6]]
        for a, p, s in zip(fast, plain, specs, strict=True):
            assert len(a) == len(p) == anchor_count(s.shape, s.half_extents, lod) * LODS[lod][1]
            for f in FIELDS:
                np.testing.assert_allclose(getattr(a, f), getattr(p, f), rtol=1e-5, atol=1e-5 * max(s.half_extents))
            assert violations(a, s, lod) == 0
        assert all(a.equals(b) for a, b in zip(sevens, fast, strict=True))
        assert all(a.equals(b) for a, b in zip(alone, fast[::6], strict=True))


def test_outputs_own_their_memory(gen: Generator) -> None:
    """Each GaussianSet holds its own arrays: evicting one from the cache frees it, and writing into
    one (the results are documented read-only, but still) cannot change another."""
    a, b = gen._run_device(_specs(2, 5), 0)
    for f in FIELDS:
        assert not np.shares_memory(getattr(a, f), getattr(b, f))
        assert getattr(a, f).flags.c_contiguous
    assert a.sh.shape == (len(a), 1, 3)


def test_start_up_check_accepts_the_fast_path_and_catches_drift() -> None:
    """On a device the Generator checks the fast path against the plain one when it starts (here
    run on the CPU, eagerly); inputs that drift from the model's make it fall back with a warning."""
    g = Generator()
    g.chunk, g.device_path = 8, "eager"
    g._check_device_path()
    assert g.device_path == "eager" and "error" not in g.device_check
    assert g.device_check["lod0_max_abs_diff_to_plain"] <= 1e-5

    drifted = Generator()
    drifted.chunk, drifted.device_path = 8, "eager"
    for n in (16, 32, 64, 128, 256):  # as if model.py's Fourier features changed and device_inputs did not
        t = template(n, drifted.cfg, torch.device("cpu"))
        drifted._templates[n] = Template(t.n, t.u, t.v, t.sphere, t.cos_phi, t.sin_phi, t.fourier * 1.5, t.flip_quat)
    with pytest.warns(RuntimeWarning, match="plain path|reference path"):
        drifted._check_device_path()
    assert drifted.device_path == "reference" and "differs" in drifted.device_check["error"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 1000))
def test_cuda_graphs_give_the_eager_bits(seed: int) -> None:
    graph, eager = _cuda_pair()
    specs = _specs(70, seed)
    a = graph.generate(specs)
    b = eager.generate(specs)
    alone = [graph.generate([s])[0] for s in specs[:10]]
    assert graph.device_path == "graph" and eager.device_path == "eager"
    assert all(x.equals(y) for x, y in zip(a, b, strict=True))
    assert all(x.equals(y) for x, y in zip(alone, a, strict=False))
    graph.clear_cache()
    eager.clear_cache()


_PAIR: list[Generator] = []


def _cuda_pair() -> tuple[Generator, Generator]:
    if not _PAIR:
        _PAIR.extend([Generator(device="cuda"), Generator(device="cuda", graphs=False)])
    return _PAIR[0], _PAIR[1]
