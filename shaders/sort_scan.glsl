// Radix sort, pass 2 of 3: exclusive prefix sum of hist[RADIX * num_blocks] in place (one workgroup).
// Digit-major order makes the result each (digit, block)'s first output position.
// RADIX_BITS and INDIRECT as in sort_count.glsl.
#version 430
layout(local_size_x = 1024) in;
#define BLOCK 2048u
#define RADIX (1u << RADIX_BITS)
layout(std430, binding = 4) buffer Hist { uint hist[]; };
#ifdef INDIRECT
layout(std430, binding = 5) readonly buffer Count { uint count_buf[]; };
#endif
uniform uint u_count;
shared uint s_sum[1024];

void main() {
#ifdef INDIRECT
    uint count = RADIX * ((count_buf[0] + BLOCK - 1u) / BLOCK);
#else
    uint count = u_count;
#endif
    uint t = gl_LocalInvocationID.x;
#define SCAN_BUF hist
#define SCAN_COUNT count
#include "scan_1024.inc"
}
