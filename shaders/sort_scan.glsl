// Radix sort, pass 2 of 3: exclusive scans of the digit-major histogram hist[d * num_blocks + b].
// Rows (default): workgroup d scans row d, hist[d * num_blocks, (d + 1) * num_blocks), in place and
// writes the row's total to totals[d]; RADIX workgroups run in parallel (one long serial scan by a
// single workgroup cost ~0.4 ms a pass at 18M keys on an H200); sort_scatter*.glsl add the exclusive
// scan of totals (each digit's first output position) themselves. Rows are read in chunks of
// 1024 × PER entries, PER consecutive entries per thread.
// ONE_GROUP: a single workgroup scans the whole histogram (scan_1024.inc), which then holds global
// positions, and zeroes totals: far less work for small sorts and on CPU rasterisers (llvmpipe runs
// RADIX workgroups of 1024 invocations slowly). RADIX_BITS, BLOCK and INDIRECT as in sort_count.glsl.
#version 430
layout(local_size_x = 1024) in;
#define PER 4u
layout(std430, binding = 4) buffer Hist { uint hist[]; };
layout(std430, binding = 6) writeonly buffer Totals { uint totals[]; };
#ifdef INDIRECT
layout(std430, binding = 5) readonly buffer Count { uint count_buf[]; };
#endif
uniform uint u_num_blocks;
shared uint s_sum[1024];

void main() {
#ifdef INDIRECT
    uint nb = (count_buf[0] + BLOCK - 1u) / BLOCK;
#else
    uint nb = u_num_blocks;
#endif
    uint t = gl_LocalInvocationID.x;
#ifdef ONE_GROUP
    uint count = nb << RADIX_BITS;
    if (t < (1u << RADIX_BITS)) totals[t] = 0u;
#define SCAN_BUF hist
#define SCAN_COUNT count
#include "scan_1024.inc"
#else
    uint row = gl_WorkGroupID.x * nb;
    uint carry = 0u;
    for (uint base = 0u; base < nb; base += 1024u * PER) {
        uint first = base + t * PER;
        uint v[PER];
        uint sum = 0u;
        for (uint i = 0u; i < PER; i++) {
            v[i] = first + i < nb ? hist[row + first + i] : 0u;
            sum += v[i];
        }
        s_sum[t] = sum;
        barrier();
        for (uint off = 1u; off < 1024u; off <<= 1) {
            uint x = t >= off ? s_sum[t - off] : 0u;
            barrier();
            s_sum[t] += x;
            barrier();
        }
        uint run = carry + s_sum[t] - sum;
        for (uint i = 0u; i < PER; i++) {
            if (first + i < nb) hist[row + first + i] = run;
            run += v[i];
        }
        carry += s_sum[1023];
        barrier();
    }
    if (t == 0u) totals[gl_WorkGroupID.x] = carry;
#endif
}
