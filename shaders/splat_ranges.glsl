// Compute rasteriser, step 3: each tile's [start, end) in the sorted pair list (ranges zeroed first).
#version 430
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Keys { uint keys[]; };
layout(std430, binding = 7) buffer Ranges { uvec2 ranges[]; };
uniform uint u_n;
uniform uint u_depth_bits;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= u_n) return;
    uint t = keys[i] >> u_depth_bits;
    if (i == 0u || (keys[i - 1u] >> u_depth_bits) != t) ranges[t].x = i;
    if (i == u_n - 1u || (keys[i + 1u] >> u_depth_bits) != t) ranges[t].y = i + 1u;
}
