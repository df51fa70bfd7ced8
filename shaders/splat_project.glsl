// Compute rasteriser, step 1 (GL 4.3): project every splat slot once and emit one (key, slot) pair
// per 16×16 screen tile its ellipse touches. key = tile << depth_bits | quantised log depth, so one
// ascending radix sort orders pairs by tile, then front to back. Pairs are allocated with an atomic
// counter; if they overflow the buffer the host grows it and runs this again.
// Projected record per slot, 3 vec4: (mean.xy, conic.a, conic.b), (conic.c, opacity, z, 0), (rgb, 0).
#if defined COMPUTE_SHADER
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Keys { uint keys[]; };
layout(std430, binding = 1) writeonly buffer Vals { uint vals[]; };
layout(std430, binding = 5) buffer Counter { uint total; };
layout(std430, binding = 6) writeonly buffer Proj { vec4 proj[]; };
uniform uint u_n;
uniform uint u_capacity;
uniform uvec2 u_tiles;
uniform uint u_depth_bits;
uniform vec2 u_log_depth;   // log(near), 1 / (log(far) − log(near))

void main() {
    uint s = gl_GlobalInvocationID.x;
    if (s >= u_n) return;
    vec2 mean2d;
    vec3 cov2d;
    float z;
    vec4 rgba;
    if (!project_splat(s, mean2d, cov2d, z, rgba)) return;
    float a = cov2d.x, b = cov2d.y, c = cov2d.z;
    // axis-aligned box of the ellipse where o·exp(−q) ≥ 1/255
    float k = sqrt(2.0 * log(255.0 * rgba.a));
    float ex = k * sqrt(a), ey = k * sqrt(c);
    int x0 = max(0, int(floor((mean2d.x - ex) / 16.0)));
    int x1 = min(int(u_tiles.x) - 1, int(floor((mean2d.x + ex) / 16.0)));
    int y0 = max(0, int(floor((mean2d.y - ey) / 16.0)));
    int y1 = min(int(u_tiles.y) - 1, int(floor((mean2d.y + ey) / 16.0)));
    if (x0 > x1 || y0 > y1) return;
    float det = a * c - b * b;
    vec3 conic = vec3(c, -b, a) / det;
    proj[s * 3u] = vec4(mean2d, conic.x, conic.y);
    proj[s * 3u + 1u] = vec4(conic.z, rgba.a, z, 0.0);
    proj[s * 3u + 2u] = vec4(rgba.rgb, 0.0);
    uint count = uint((x1 - x0 + 1) * (y1 - y0 + 1));
    uint off = atomicAdd(total, count);
    if (off + count > u_capacity) return;  // overflow: the host grows the buffers and runs again
    float dmax = float((1u << u_depth_bits) - 1u);
    uint dq = uint(clamp((log(z) - u_log_depth.x) * u_log_depth.y, 0.0, 1.0) * dmax);
    uint i = off;
    for (int ty = y0; ty <= y1; ty++) {
        for (int tx = x0; tx <= x1; tx++) {
            keys[i] = ((uint(ty) * u_tiles.x + uint(tx)) << u_depth_bits) | dq;
            vals[i] = s;
            i++;
        }
    }
}
#endif
