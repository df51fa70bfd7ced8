// Compute rasteriser, step 5: one workgroup scans the per-workgroup pair counts bsum[0, u_blocks)
// (exclusive, in place), then writes status: [0] pairs to sort = min(total, capacity), [3] total
// (read back a frame later to grow the buffers), [4..6] the sort's indirect dispatch
// (ceil(n / u_sort_block), 1, 1), [8..10] the tile-range pass's (min(ceil(n / 1024), 65535), 1, 1). It also zeroes
// the tile ranges, which splat_ranges.glsl fills only for tiles that have pairs.
#version 430
layout(local_size_x = 1024) in;
layout(std430, binding = 5) buffer Status { uint status[]; };
layout(std430, binding = 7) writeonly buffer Ranges { uvec2 ranges[]; };
layout(std430, binding = 8) buffer BlockSums { uint bsum[]; };
uniform uint u_blocks;
uniform uint u_capacity;
uniform uint u_ntiles;
uniform uint u_sort_block;  // keys per workgroup of the radix sort
shared uint s_sum[1024];

void main() {
    uint t = gl_LocalInvocationID.x;
    for (uint i = t; i < u_ntiles; i += 1024u) ranges[i] = uvec2(0u);
#define SCAN_BUF bsum
#define SCAN_COUNT u_blocks
#include "scan_1024.inc"
    if (t == 1023u) {
        uint total = s_sum[1023];
        uint n = min(total, u_capacity);
        status[0] = n;
        status[3] = total;
        status[4] = (n + u_sort_block - 1u) / u_sort_block;
        status[5] = 1u;
        status[6] = 1u;
        status[8] = min((n + 1023u) / 1024u, 65535u);
        status[9] = 1u;
        status[10] = 1u;
    }
}
