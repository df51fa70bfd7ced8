// Compute rasteriser, step 8 (after the sort of pairs by tile): each tile's [start, end) in the sorted pair
// list. Dispatched indirectly (status[8..10], min(ceil(n / 1024), 65535) groups); n = status[0]; ranges were zeroed by splat_scan.glsl.
#version 430
layout(local_size_x = 1024) in;
layout(std430, binding = 0) readonly buffer Keys { uint keys[]; };
layout(std430, binding = 5) readonly buffer Status { uint status[]; };
layout(std430, binding = 7) buffer Ranges { uvec2 ranges[]; };
uniform uint u_depth_bits;
uniform uint u_ntiles;  // keys of tiles ≥ this are sentinels (splat_emit.glsl)

void main() {
    uint n = status[0];
    uint stride = gl_NumWorkGroups.x * 1024u;  // grid-stride: the dispatch is capped at 65535 groups
    for (uint i = gl_GlobalInvocationID.x; i < n; i += stride) {
        uint t = keys[i] >> u_depth_bits;
        if (t >= u_ntiles) continue;
        if (i == 0u || (keys[i - 1u] >> u_depth_bits) != t) ranges[t].x = i;
        if (i == n - 1u || (keys[i + 1u] >> u_depth_bits) != t) ranges[t].y = i + 1u;
    }
}
