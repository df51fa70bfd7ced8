"""Depth sort for the splat pass: GPU radix sort (GL 4.3 compute) and the CPU fallback (GL 3.3).

Both sort unsigned keys ascending and stably (equal keys keep slot order), which is what
``np.argsort(keys, kind="stable")`` does — the reference twin used by the tests.

GPU: least-significant-digit radix sort of 32-bit keys with (key, value) pairs, 4-, 5- or 8-bit
digits, passes of three compute shaders each: ``shaders/sort_count.glsl`` (per-block histogram),
``sort_scan.glsl`` (one workgroup per digit scanning its row of block counts; or, ``scan="one"``,
one workgroup for the whole histogram, cheaper on CPU rasterisers) and a stable scatter:
``sort_scatter.glsl`` ranks 4- or 5-bit digits with per-thread counters in shared memory (5 bits
need 43 KiB: hardware GPUs, not llvmpipe's 32 KiB); ``sort_scatter_ballot.glsl`` ranks 8-bit digits
with subgroup ballots (GL_ARB_shader_ballot: NVIDIA and llvmpipe), half the passes of 4-bit digits.
A width the context cannot compile falls back to the next narrower one. Buffers ping-pong; by
default the pass count is rounded up to even so the result is back in the same ``keys``/``values``
buffers; with ``swap=True`` an odd count is allowed and the attributes are swapped instead (one
pass less, but ``keys``/``values`` may name other buffer objects afterwards).
:meth:`GpuRadixSort.sort_indirect` takes the count from a GPU buffer and dispatches indirectly, so a
count computed on the GPU never comes back.

Shared memory decides the speed on an H200: the 8-bit scatter with one shared array for counts,
keys and values in turn (11 KiB a workgroup, ``BALLOT_LOW_SHARED``) sorted the frame's 18.4M
13-bit tile keys in 0.76 ms (2 passes), against 1.48 ms with three arrays (27 KiB) and 2.13 ms
for the 5-bit scatter (43 KiB, 3 passes): fewer workgroups fit on an SM the more each one takes.

CPU: 16-bit keys, two 8-bit LSD counting-sort passes in numpy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

SHADER_DIR = Path(__file__).resolve().parents[2] / "shaders"
DIGIT_BITS = 4  # default digit width
BALLOT_LOW_SHARED = True  # 8-bit scatter: one shared array for counts, keys and values (benchmarks compare)
_SUBGROUP_PROBE = """#version 430
#extension GL_ARB_shader_ballot : require
#extension GL_ARB_gpu_shader_int64 : require
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Out { uint o[]; };
void main() {
    o[gl_LocalInvocationIndex * 2u] = gl_SubGroupSizeARB;
    o[gl_LocalInvocationIndex * 2u + 1u] = gl_SubGroupInvocationARB;
}
"""


def subgroup_size(ctx: Any) -> int:
    """The subgroup size for sort_scatter_ballot.glsl, or 0 where it cannot run.

    0 without GL_ARB_shader_ballot / GL_ARB_gpu_shader_int64, with a size that is not a power of two
    in [4, 64], or with lanes not in invocation order (the shader assumes lane = index mod size).
    """
    if not {"GL_ARB_shader_ballot", "GL_ARB_gpu_shader_int64"} <= set(ctx.extensions):
        return 0
    try:
        prog = ctx.compute_shader(_SUBGROUP_PROBE)
    except Exception:  # noqa: BLE001 - moderngl raises a plain Error
        return 0
    buf = ctx.buffer(reserve=256 * 8)
    buf.bind_to_storage_buffer(0)
    prog.run(1)
    out = np.frombuffer(buf.read(), np.uint32).reshape(256, 2)
    buf.release()
    prog.release()
    size = int(out[0, 0])
    ok = size in (4, 8, 16, 32, 64) and np.all(out[:, 0] == size) and np.all(out[:, 1] == np.arange(256) % size)
    return size if ok else 0


def shader_text(name: str, directory: Path = SHADER_DIR) -> str:
    """A shader file's text with each ``#include "FILE"`` line replaced by FILE's text (GLSL has no include)."""
    lines = []
    for line in (directory / name).read_text().splitlines(keepends=True):
        if line.startswith("#include "):
            lines.append(shader_text(line.split('"')[1], directory))
        else:
            lines.append(line)
    return "".join(lines)


def sort_source(
    name: str, digit_bits: int, indirect: bool, threads: int = 256, subgroup: int = 0, low_shared: bool = False,
    one_group: bool = False,
) -> str:
    """A sort shader's source: its version and extension lines, then RADIX_BITS, THREADS, BLOCK
    (8 keys a thread), SG (subgroup size, if given), INDIRECT, LOW_SHARED and ONE_GROUP defined, then the rest."""
    text = shader_text(name)
    head = [line for line in text.splitlines() if line.startswith(("#version", "#extension"))]
    body = "\n".join(line for line in text.splitlines() if not line.startswith(("#version", "#extension")))
    defines = f"#define RADIX_BITS {digit_bits}\n#define THREADS {threads}\n#define BLOCK {threads * 8}\n"
    defines += (f"#define SG {subgroup}\n" if subgroup else "") + ("#define INDIRECT\n" if indirect else "")
    defines += ("#define LOW_SHARED\n" if low_shared else "") + ("#define ONE_GROUP\n" if one_group else "")
    return "\n".join(head) + "\n" + defines + body + "\n"


def argsort_reference(keys: np.ndarray) -> np.ndarray:
    """Reference twin: stable ascending order of ``keys`` (N,) as int64 indices."""
    return np.argsort(np.asarray(keys), kind="stable")


def radix_argsort16(keys: np.ndarray) -> np.ndarray:
    """Stable ascending order of 16-bit ``keys`` (N,) → (N,) uint32: the CPU fallback's sort.

    NumPy's stable sort of 16-bit integers is its built-in radix sort (one C pass per byte), about
    30x faster than the two passes spelled out in numpy calls in ``radix_argsort16_reference``.
    """
    return np.argsort(np.asarray(keys, np.uint16), kind="stable").astype(np.uint32)


def radix_argsort16_reference(keys: np.ndarray) -> np.ndarray:
    """Plain twin of ``radix_argsort16``: two 8-bit LSD counting-sort passes → (N,) uint32."""
    keys = np.asarray(keys, np.uint16)
    n = len(keys)
    order = np.arange(n, dtype=np.uint32)
    for shift in (0, 8):
        digit = ((keys[order] >> shift) & 0xFF).astype(np.intp)
        counts = np.bincount(digit, minlength=256)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        # rank of each element among earlier elements with the same digit (stable)
        by_digit = np.argsort(digit, kind="stable")
        rank = np.empty(n, np.intp)
        rank[by_digit] = np.arange(n) - starts[digit[by_digit]]
        dest = starts[digit] + rank
        new = np.empty_like(order)
        new[dest] = order
        order = new
    return order


def depth_keys16(z: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """16-bit back-to-front keys: farthest visible → 0; z (N,) view depth, visible (N,) bool.

    Depths are quantised linearly over the visible range; invisible entries get 0xFFFF.
    """
    keys = np.full(len(z), 0xFFFF, np.uint16)
    if visible.any():
        zv = z[visible].astype(np.float64)
        lo, hi = float(zv.min()), float(zv.max())
        scale = 65534.0 / (hi - lo) if hi > lo else 0.0
        keys[visible] = np.rint((hi - zv) * scale).astype(np.uint16)
    return keys


def depth_keys32(z: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """32-bit back-to-front keys as the GPU computes them: ``0xFFFFFFFF - bits(z)``, invisible → 0xFFFFFFFF."""
    bits = np.asarray(z, np.float32).view(np.uint32)
    return np.where(visible, np.uint32(0xFFFFFFFF) - bits, np.uint32(0xFFFFFFFF)).astype(np.uint32)


class GpuRadixSort:
    """Sorts ``keys`` (uint32) with ``values`` (uint32) in GPU buffers of a GL 4.3 context.

    ``keys`` and ``values`` are public ``moderngl.Buffer`` objects of ``capacity`` entries; fill them
    (by a compute shader or ``write``), call :meth:`sort` with the count, read the result from them.
    digit_bits: 4, 5 or 8 (fewer passes; each falls back to the next narrower width the context
    cannot compile: 8 needs subgroup ballots, 5 more shared memory than llvmpipe has).
    indirect: compile the variants :meth:`sort_indirect` needs (count read from a GPU buffer).
    scan: "rows" (one workgroup per digit: hardware GPUs), "one" (one workgroup for the whole
    histogram: far cheaper on CPU rasterisers) or "auto" (one on llvmpipe/softpipe, else rows).
    ``block``: keys per workgroup (2048; 8 × 8 × the subgroup size with 8-bit digits).
    """

    def __init__(
        self, ctx, capacity: int = 1 << 16, digit_bits: int = DIGIT_BITS, indirect: bool = False, scan: str = "auto"
    ) -> None:
        self.ctx = ctx
        if scan not in ("auto", "rows", "one"):
            raise ValueError(f"scan must be auto, rows or one, got {scan!r}")
        if scan == "auto":
            renderer = str(ctx.info.get("GL_RENDERER", "")).lower()
            scan = "one" if any(name in renderer for name in ("llvmpipe", "softpipe")) else "rows"
        self.scan = scan
        if digit_bits not in (4, 5, 8):
            raise ValueError(f"digit_bits must be 4, 5 or 8, got {digit_bits}")
        variant = "_indirect" if indirect else ""
        progs = None
        for bits in (8, 5, 4):
            if bits > digit_bits:
                continue
            threads, subgroup, scatter = 256, 0, "sort_scatter.glsl"
            if bits == 8:
                subgroup = subgroup_size(ctx)
                if not subgroup:
                    continue
                threads, scatter = min(8 * subgroup, 512), "sort_scatter_ballot.glsl"
            try:
                progs = [
                    ctx.compute_shader(
                        sort_source(name, bits, indirect, threads, subgroup, BALLOT_LOW_SHARED, scan == "one")
                    )
                    for name in ("sort_count.glsl", "sort_scan.glsl", scatter)
                ]
            except Exception:  # noqa: BLE001 - moderngl raises a plain Error: too little shared memory
                if bits == 4:
                    raise
                continue
            break
        self._count, self._scan, self._scatter = progs
        self.digit_bits = bits
        self.block = threads * 8
        self.subgroup = subgroup
        self.profile: dict[str, float] | None = None  # set to {} to sum GPU ms per kernel (stalls)
        self._query = None
        self.variant = variant
        self.capacity = 0
        self.keys = self.values = self._keys2 = self._values2 = self._hist = None
        self._totals = ctx.buffer(reserve=4 << self.digit_bits)
        self.reserve(capacity)

    def reserve(self, capacity: int) -> None:
        """Make room for ``capacity`` entries (contents are not kept when it grows)."""
        if capacity <= self.capacity:
            return
        cap = max(1024, 1 << (int(capacity) - 1).bit_length())
        for b in (self.keys, self.values, self._keys2, self._values2, self._hist):
            if b is not None:
                b.release()
        self.keys = self.ctx.buffer(reserve=cap * 4)
        self.values = self.ctx.buffer(reserve=cap * 4)
        self._keys2 = self.ctx.buffer(reserve=cap * 4)
        self._values2 = self.ctx.buffer(reserve=cap * 4)
        self._hist = self.ctx.buffer(reserve=(1 << self.digit_bits) * ((cap + self.block - 1) // self.block) * 4)
        self.capacity = cap

    def sort(self, n: int, key_bits: int = 32, swap: bool = False) -> None:
        """Sort the first ``n`` entries of ``keys``/``values`` by the low ``key_bits`` bits of the keys.

        swap: allow an odd pass count; the sorted entries are then in the buffers ``keys``/``values``
        name after the call (the attributes are swapped with the scratch buffers).
        """
        if n <= 1:
            return
        blocks = (n + self.block - 1) // self.block
        src = (self.keys, self.values)
        dst = (self._keys2, self._values2)
        self._scan["u_num_blocks"] = blocks
        passes = self.passes(key_bits, even=not swap)
        for p in range(passes):
            shift = p * self.digit_bits
            src[0].bind_to_storage_buffer(0)
            src[1].bind_to_storage_buffer(1)
            dst[0].bind_to_storage_buffer(2)
            dst[1].bind_to_storage_buffer(3)
            self._hist.bind_to_storage_buffer(4)
            self._totals.bind_to_storage_buffer(6)
            for prog in (self._count, self._scatter):
                prog["u_n"] = n
                prog["u_shift"] = shift
                prog["u_num_blocks"] = blocks
            self._timed("count", lambda: self._count.run(blocks))
            self._timed("scan", lambda: self._scan.run(1 if self.scan == "one" else 1 << self.digit_bits))
            self._timed("scatter", lambda: self._scatter.run(blocks))
            src, dst = dst, src
        self._settle(passes)

    def _timed(self, name: str, dispatch: Any) -> None:
        """Run one dispatch and a memory barrier; with ``profile`` set, add its GPU ms to it."""
        if self.profile is None:
            dispatch()
            self.ctx.memory_barrier()
            return
        if self._query is None:
            self._query = self.ctx.query(time=True)
        with self._query:
            dispatch()
            self.ctx.memory_barrier()
        self.profile[name] = self.profile.get(name, 0.0) + self._query.elapsed / 1e6

    def _settle(self, passes: int) -> None:
        """After an odd pass count the result is in the scratch buffers: swap the names."""
        if passes % 2:
            self.keys, self._keys2 = self._keys2, self.keys
            self.values, self._values2 = self._values2, self.values

    def passes(self, key_bits: int, even: bool = True) -> int:
        """Digit passes for ``key_bits``-bit keys; ``even`` rounds up so the result lands back in keys/values."""
        passes = (key_bits + self.digit_bits - 1) // self.digit_bits
        return passes + passes % 2 if even else passes

    def sort_indirect(
        self, count: Any, max_n: int, dispatch: Any, dispatch_offset: int, key_bits: int, swap: bool = False
    ) -> None:
        """Sort the first ``count[0]`` entries, a count that stays on the GPU (needs ``indirect=True``).

        count: buffer whose first uint is n (≤ ``capacity``); dispatch: buffer holding the indirect
        dispatch command (ceil(n / ``block``), 1, 1) at byte ``dispatch_offset``; max_n: an upper bound
        of n (sizes nothing, checked against capacity); key_bits: significant low bits of the keys;
        swap: as in :meth:`sort`.
        """
        if not self.variant:
            raise ValueError("sort_indirect needs a GpuRadixSort made with indirect=True")
        if max_n > self.capacity:
            raise ValueError(f"sort_indirect: up to {max_n} entries, capacity {self.capacity}")
        src = (self.keys, self.values)
        dst = (self._keys2, self._values2)
        count.bind_to_storage_buffer(5)
        self._hist.bind_to_storage_buffer(4)
        self._totals.bind_to_storage_buffer(6)
        passes = self.passes(key_bits, even=not swap)
        for p in range(passes):
            shift = p * self.digit_bits
            if shift >= 32:
                raise ValueError(f"sort_indirect: {key_bits}-bit keys need a digit shift of {shift}")
            src[0].bind_to_storage_buffer(0)
            src[1].bind_to_storage_buffer(1)
            dst[0].bind_to_storage_buffer(2)
            dst[1].bind_to_storage_buffer(3)
            self._count["u_shift"] = shift
            self._scatter["u_shift"] = shift
            self._timed("count", lambda: self._count.run_indirect(dispatch, dispatch_offset))
            self._timed("scan", lambda: self._scan.run(1 if self.scan == "one" else 1 << self.digit_bits))
            self._timed("scatter", lambda: self._scatter.run_indirect(dispatch, dispatch_offset))
            src, dst = dst, src
        self._settle(passes)

    def release(self) -> None:
        """Free the GPU objects."""
        for b in (self.keys, self.values, self._keys2, self._values2, self._hist, self._totals):
            if b is not None:
                b.release()
        for p in (self._count, self._scan, self._scatter):
            p.release()
