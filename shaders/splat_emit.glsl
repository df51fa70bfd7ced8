// Compute rasteriser, step 3: one thread per splat slot writes its (key, slot) pairs, one per tile
// of its rectangle, at its exclusive prefix offset (scanned workgroup sums + an in-workgroup scan),
// mirrored (pair i goes to total − 1 − i), so pairs come out in descending slot order and the stable
// sort that follows is deterministic and puts, of splats at equal depth, the later slot in front —
// as back-to-front blending in slot order (the quads, the reference) does.
// key = tile << depth_bits | depth quantised linearly over this frame's visible range [zmin, zmax];
// one ascending radix sort then orders pairs by tile, then front to back. Pairs past the capacity
// are dropped (status[3] reports the total; the host grows the buffers). Tiles are those of the
// splat's rectangle that tile_hit keeps (splat_common.glsl, same floats as splat_project.glsl); should
// the two ever disagree, at most `count` pairs are written and missing ones get a key whose tile is
// past the last (u_sentinel), which the range pass ignores.
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Keys { uint keys[]; };
layout(std430, binding = 1) writeonly buffer Vals { uint vals[]; };
layout(std430, binding = 5) readonly buffer Status { uint status[]; };
layout(std430, binding = 6) readonly buffer Proj { uvec4 proj[]; };
layout(std430, binding = 7) readonly buffer Meta { uvec4 meta[]; };
layout(std430, binding = 8) readonly buffer BlockSums { uint bsum[]; };
uniform uint u_n;
uniform uint u_capacity;
uniform uint u_tiles_x;
uniform uint u_depth_bits;
uniform uint u_sentinel;
shared uint s_scan[256];

void main() {
    uint s = gl_GlobalInvocationID.x;
    uint lid = gl_LocalInvocationIndex;
    uvec4 m = s < u_n ? meta[s] : uvec4(0u);
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
    uint off = bsum[gl_WorkGroupID.x] + s_scan[lid] - count;
    uint total = status[3];
    float zmin = uintBitsToFloat(status[1]);
    float zmax = uintBitsToFloat(status[2]);
    uint dmax = (1u << u_depth_bits) - 1u;
    float scale = zmax > zmin ? float(dmax) / (zmax - zmin) : 0.0;
    // float(dmax) may round up to 2^depth_bits: clamp as an integer, or it spills into the tile bits
    uvec4 r0 = proj[s * 2u];
    vec2 mean = uintBitsToFloat(r0.xy);
    vec3 conic = vec3(uintBitsToFloat(r0.zw), uintBitsToFloat(proj[s * 2u + 1u].x));
    float z = uintBitsToFloat(proj[s * 2u + 1u].y);
    float thr = uintBitsToFloat(m.z);
    uint dq = min(uint(max((z - zmin) * scale, 0.0)), dmax);
    uint x0 = m.x & 65535u, y0 = m.x >> 16, x1 = m.y & 65535u, y1 = m.y >> 16;
    uint i = total - 1u - off;  // counts down; positions ≥ capacity are dropped
    uint left = count;
    for (uint ty = y0; ty <= y1 && left > 0u; ty++) {
        for (uint tx = x0; tx <= x1 && left > 0u; tx++) {
            if (!tile_hit(mean, conic, thr, tx, ty)) continue;
            if (i < u_capacity) {
                keys[i] = ((ty * u_tiles_x + tx) << u_depth_bits) | dq;
                vals[i] = s;
            }
            i--;
            left--;
        }
    }
    for (; left > 0u; left--, i--) {
        if (i < u_capacity) {
            keys[i] = u_sentinel;
            vals[i] = s;
        }
    }
}
