"""GPU radix sort and the CPU 16-bit radix fallback give np.argsort's stable order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.render.context import headless_context
from engine.render.splat_sort import (
    GpuRadixSort,
    argsort_reference,
    depth_keys16,
    depth_keys32,
    radix_argsort16,
    radix_argsort16_reference,
)


@pytest.fixture(
    scope="module", params=[(4, "rows"), (8, "rows"), (8, "one")], ids=["4bit-rows", "8bit-ballot-rows", "8bit-ballot-one"]
)
def sorter(request):
    # rows: the scan hardware GPUs use; one: the single-workgroup scan "auto" picks on llvmpipe
    ctx = headless_context(430)
    bits, scan = request.param
    s = GpuRadixSort(ctx, 1 << 12, digit_bits=bits, scan=scan)
    yield s
    s.release()
    ctx.release()


def gpu_order(sorter, keys):
    n = len(keys)
    sorter.reserve(n)
    sorter.keys.write(np.asarray(keys, np.uint32).tobytes())
    sorter.values.write(np.arange(n, dtype=np.uint32).tobytes())
    sorter.sort(n)
    sorted_keys = np.frombuffer(sorter.keys.read(n * 4), np.uint32)
    order = np.frombuffer(sorter.values.read(n * 4), np.uint32)
    return sorted_keys, order


@pytest.mark.gl
def test_8bit_digits_rank_with_ballots_on_this_context(sorter):
    # llvmpipe has GL_ARB_shader_ballot (subgroups of 8): the 8-bit path is what CI checks
    if sorter.digit_bits == 8:
        assert sorter.subgroup in (4, 8, 16, 32, 64) and sorter.block == 64 * min(sorter.subgroup, 64)
        assert sorter.passes(24, even=False) == 3


@pytest.mark.gl
@pytest.mark.parametrize("n", [1, 2, 255, 511, 513, 2048, 2049, 70_001])
def test_gpu_radix_matches_argsort(sorter, n):
    rng = np.random.default_rng(n)
    keys = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    keys[rng.random(n) < 0.3] = 0xFFFFFFFF  # many ties, like culled splats
    keys[: n // 4] = keys[n // 2] if n > 2 else keys[: n // 4]
    sorted_keys, order = gpu_order(sorter, keys)
    ref = argsort_reference(keys)
    assert np.array_equal(order, ref)
    assert np.array_equal(sorted_keys, keys[ref])


@pytest.mark.gl
def test_odd_pass_count_with_swap_leaves_the_result_under_the_names(sorter):
    """swap=True runs 3 passes (12 bits of 4, 24 of 8), not 4: keys/values then name the other buffers."""
    key_bits = 3 * sorter.digit_bits
    keys = np.random.default_rng(3).integers(0, 2**key_bits, 5000, dtype=np.uint64).astype(np.uint32)
    keys[::7] = 5  # ties
    sorter.reserve(len(keys))  # the module's sorter starts at 4,096 keys; earlier tests may not have grown it
    before = sorter.keys
    sorter.keys.write(keys.tobytes())
    sorter.values.write(np.arange(len(keys), dtype=np.uint32).tobytes())
    sorter.sort(len(keys), key_bits, swap=True)
    assert sorter.passes(key_bits, even=False) == 3 and sorter.keys is not before
    order = np.frombuffer(sorter.values.read(len(keys) * 4), np.uint32)
    assert np.array_equal(order, argsort_reference(keys))
    assert np.array_equal(gpu_order(sorter, keys)[1], argsort_reference(keys))  # and sorts on afterwards


@pytest.mark.gl
@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=3000))
def test_gpu_radix_matches_argsort_fuzzed(sorter, keys):
    if sorter.digit_bits == 8 and sorter.scan == "rows":
        # same ranking as 8bit-ballot-one; its row scan (256 workgroups, slow on llvmpipe) has the sized cases
        return
    keys = np.array(keys, np.uint32)
    assert np.array_equal(gpu_order(sorter, keys)[1], argsort_reference(keys))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 0xFFFF), min_size=0, max_size=5000))
def test_cpu_radix16_matches_argsort(keys):
    keys = np.array(keys, np.uint16)
    assert np.array_equal(radix_argsort16(keys), argsort_reference(keys))
    assert np.array_equal(radix_argsort16(keys), radix_argsort16_reference(keys))
    assert radix_argsort16(keys).dtype == radix_argsort16_reference(keys).dtype == np.uint32


def test_depth_keys_order_back_to_front():
    z = np.array([0.5, 3.0, 1.0, 3.0, 0.02, 7.0], np.float32)
    visible = np.array([True, True, True, True, True, False])
    order16 = radix_argsort16(depth_keys16(z, visible))
    order32 = argsort_reference(depth_keys32(z, visible))
    expected = [1, 3, 2, 0, 4, 5]  # farthest first, equal depths in slot order, invisible last
    assert order16.tolist() == expected
    assert order32.tolist() == expected


@pytest.mark.gl
def test_gpu_and_cpu_sort_agree_on_depths(sorter):
    """Same depth scene: GPU 32-bit keys and CPU 16-bit keys give the same order where depths differ enough."""
    rng = np.random.default_rng(7)
    z = rng.uniform(0.5, 4.0, 20_000).astype(np.float32)
    visible = rng.random(20_000) > 0.1
    _, gpu = gpu_order(sorter, depth_keys32(z, visible))
    cpu = radix_argsort16(depth_keys16(z, visible))
    nvis = int(visible.sum())
    assert set(gpu[:nvis].tolist()) == set(cpu[:nvis].tolist()) == set(np.flatnonzero(visible).tolist())
    # 16-bit quantisation may swap neighbours closer than (zmax − zmin) / 65534 only
    step = (z[visible].max() - z[visible].min()) / 65534
    assert np.all(np.diff(z[gpu[:nvis]]) <= 0)
    assert np.all(np.diff(z[cpu[:nvis]]) <= step * 1.01)


@pytest.mark.gl
@pytest.mark.parametrize("digit_bits, scan", [(5, "rows"), (8, "rows"), (8, "one")])
@pytest.mark.parametrize("n, key_bits", [(0, 32), (1, 32), (2049, 30), (70_001, 32), (70_001, 12)])
def test_gpu_radix_indirect_count_matches_argsort(n, key_bits, digit_bits, scan):
    """sort_indirect reads n and its workgroup count from a GPU buffer; entries past n stay put."""
    ctx = headless_context(430)
    s = GpuRadixSort(ctx, 1 << 17, digit_bits=digit_bits, indirect=True, scan=scan)  # 5 falls back to 4 on llvmpipe
    try:
        rng = np.random.default_rng(n)
        keys = rng.integers(0, 2**key_bits, n + 100, dtype=np.uint64).astype(np.uint32)
        keys[rng.random(n + 100) < 0.3] = 7  # ties
        s.keys.write(keys.tobytes())
        s.values.write(np.arange(n + 100, dtype=np.uint32).tobytes())
        status = np.zeros(16, np.uint32)
        status[0], status[4:7] = n, ((n + s.block - 1) // s.block, 1, 1)
        buf = ctx.buffer(status.tobytes())
        swap = key_bits == 12  # 3 passes of 4 bits (odd): the result is under the swapped names
        s.sort_indirect(buf, n, buf, 16, key_bits, swap=swap)
        order = np.frombuffer(s.values.read((n + 100) * 4), np.uint32)
        assert np.array_equal(order[:n], argsort_reference(keys[:n]))
        if s.passes(key_bits, even=not swap) % 2 == 0:  # after an odd count they are the scratch buffer's
            assert np.array_equal(order[n:], np.arange(n, n + 100))
        with pytest.raises(ValueError):
            s.sort_indirect(buf, s.capacity + 1, buf, 16, key_bits)
        with pytest.raises(ValueError):
            GpuRadixSort(ctx, 16, digit_bits=6)
        with pytest.raises(ValueError):
            GpuRadixSort(ctx, 16, scan="tree")
        buf.release()
    finally:
        s.release()
        ctx.release()


@pytest.mark.gl
def test_passes_past_the_key_width_keep_the_order():
    # 5-bit digits on 32-bit keys take 8 passes (40 bits): passes with a shift >= 32 must be stable
    # no-ops, not GLSL's undefined shift. Here 4-bit digits with 40 "key bits" hit the same passes.
    keys = np.random.default_rng(7).integers(0, 2**32, 5000, dtype=np.uint64).astype(np.uint32)
    n = len(keys)
    ctx = headless_context(430)
    sorter = GpuRadixSort(ctx, n)
    sorter.keys.write(keys.tobytes())
    sorter.values.write(np.arange(n, dtype=np.uint32).tobytes())
    sorter.sort(n, key_bits=40)
    order = np.frombuffer(sorter.values.read(n * 4), np.uint32)
    sorter.release()
    ctx.release()
    assert np.array_equal(order, argsort_reference(keys))
