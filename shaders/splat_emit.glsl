// Compute rasteriser, step 6: one thread per entry i of the depth order (order[i] = slot, front to
// back) writes its splat's (tile, slot) pairs, one per tile of its rectangle that tile_hit keeps
// (splat_common.glsl, same floats as splat_project.glsl), at its exclusive prefix offset (scanned
// workgroup sums from splat_emit_count.glsl + an in-workgroup scan). Pairs are thus in depth order
// and a stable sort by tile alone (GpuRadixSort, tile bits only) leaves each tile's splats front to
// back. Pairs past the capacity are dropped (status[3] reports the total; the host grows the
// buffers). Should count and emit ever disagree on tile_hit, at most `count` pairs are written and
// missing ones get the key u_sentinel, a tile past the last, which the range pass ignores.
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Keys { uint keys[]; };
layout(std430, binding = 1) writeonly buffer Vals { uint vals[]; };
layout(std430, binding = 3) readonly buffer Order { uint order[]; };
layout(std430, binding = 6) readonly buffer Proj { uvec4 proj[]; };
layout(std430, binding = 7) readonly buffer Meta { uvec4 meta[]; };
layout(std430, binding = 8) readonly buffer BlockSums { uint bsum[]; };
uniform uint u_n;
uniform uint u_capacity;
uniform uint u_tiles_x;
uniform uint u_sentinel;
shared uint s_scan[256];

void main() {
    uint i = gl_GlobalInvocationID.x;
    uint lid = gl_LocalInvocationIndex;
    uint s = i < u_n ? order[i] : 0u;
    uvec4 m = i < u_n ? meta[s] : uvec4(0u);
    s_scan[lid] = m.w;
    barrier();
    for (uint off = 1u; off < 256u; off <<= 1) {
        uint v = lid >= off ? s_scan[lid - off] : 0u;
        barrier();
        s_scan[lid] += v;
        barrier();
    }
    uint count = m.w;
    if (count == 0u) return;
    uint pos = bsum[gl_WorkGroupID.x] + s_scan[lid] - count;
    uvec4 r0 = proj[s * 2u];
    vec2 mean = uintBitsToFloat(r0.xy);
    vec3 conic = vec3(uintBitsToFloat(r0.zw), uintBitsToFloat(proj[s * 2u + 1u].x));
    float thr = uintBitsToFloat(m.z);
    uint x0 = m.x & 65535u, y0 = m.x >> 16, x1 = m.y & 65535u, y1 = m.y >> 16;
    uint left = count;
    for (uint ty = y0; ty <= y1 && left > 0u; ty++) {
        for (uint tx = x0; tx <= x1 && left > 0u; tx++) {
            if (!tile_hit(mean, conic, thr, tx, ty)) continue;
            if (pos < u_capacity) {
                keys[pos] = ty * u_tiles_x + tx;
                vals[pos] = s;
            }
            pos++;
            left--;
        }
    }
    for (; left > 0u; left--, pos++) {
        if (pos < u_capacity) {
            keys[pos] = u_sentinel;
            vals[pos] = s;
        }
    }
}
