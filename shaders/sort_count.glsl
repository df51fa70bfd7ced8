// Radix sort, pass 1 of 3 per digit: per-block digit histogram.
// Each workgroup of THREADS owns BLOCK keys; writes hist[digit * num_blocks + block].
// The host prepends RADIX_BITS (4, 5 or 8), THREADS, BLOCK and, for sorts whose count lives on the
// GPU, INDIRECT (n = count[0], dispatched indirectly with ceil(n / BLOCK) workgroups).
#version 430
layout(local_size_x = THREADS) in;
#define ITEMS (BLOCK / THREADS)
#define RADIX (1u << RADIX_BITS)
layout(std430, binding = 0) readonly buffer KeysIn { uint keys_in[]; };
layout(std430, binding = 4) writeonly buffer Hist { uint hist[]; };
#ifdef INDIRECT
layout(std430, binding = 5) readonly buffer Count { uint count_buf[]; };
#endif
uniform uint u_n;
uniform uint u_shift;
// A pass past the key's width (shift >= 32, undefined in GLSL) sees digit 0 everywhere: a stable no-op.
#define DIGIT(k) (u_shift < 32u ? ((k) >> u_shift) & (RADIX - 1u) : 0u)
uniform uint u_num_blocks;
shared uint s_hist[RADIX];

void main() {
#ifdef INDIRECT
    uint n = count_buf[0];
    uint num_blocks = (n + BLOCK - 1u) / BLOCK;
#else
    uint n = u_n;
    uint num_blocks = u_num_blocks;
#endif
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
