// Radix sort, pass 1 of 3 per digit: per-block digit histogram.
// Each workgroup of THREADS owns BLOCK keys; writes hist[digit * num_blocks + block].
// The host prepends RADIX_BITS (4, 5 or 8), THREADS, BLOCK and, for sorts whose count lives on the
// GPU, INDIRECT (n = count[0], dispatched indirectly with ceil(n / BLOCK) workgroups).
#version 430
layout(local_size_x = THREADS) in;
#define ITEMS (BLOCK / THREADS)
#define RADIX (1u << RADIX_BITS)
#include "sort_pass.inc"
layout(std430, binding = 4) writeonly buffer Hist { uint hist[]; };
shared uint s_hist[RADIX];

void main() {
    SORT_SIZES
    uint t = gl_LocalInvocationID.x;
    uint b = gl_WorkGroupID.x;
    for (uint d = t; d < RADIX; d += THREADS) s_hist[d] = 0u;
    barrier();
    uint start = b * BLOCK;
    for (uint i = 0u; i < ITEMS; i++) {
        uint idx = start + i * THREADS + t;
        if (idx < n) atomicAdd(s_hist[DIGIT(keys_in[idx])], 1u);
    }
    barrier();
    for (uint d = t; d < RADIX; d += THREADS) hist[d * num_blocks + b] = s_hist[d];
}
