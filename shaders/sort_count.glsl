// Radix sort, pass 1 of 3 per 4-bit digit: per-block digit histogram.
// Each workgroup owns BLOCK = 256 × 8 keys; writes hist[digit * num_blocks + block].
#version 430
layout(local_size_x = 256) in;
#define ITEMS 8u
#define BLOCK 2048u
layout(std430, binding = 0) readonly buffer KeysIn { uint keys_in[]; };
layout(std430, binding = 4) writeonly buffer Hist { uint hist[]; };
uniform uint u_n;
uniform uint u_shift;
uniform uint u_num_blocks;
shared uint s_hist[16];

void main() {
    uint t = gl_LocalInvocationID.x;
    uint b = gl_WorkGroupID.x;
    if (t < 16u) s_hist[t] = 0u;
    barrier();
    uint start = b * BLOCK;
    for (uint i = 0u; i < ITEMS; i++) {
        uint idx = start + i * 256u + t;
        if (idx < u_n) atomicAdd(s_hist[(keys_in[idx] >> u_shift) & 15u], 1u);
    }
    barrier();
    if (t < 16u) hist[t * u_num_blocks + b] = s_hist[t];
}
