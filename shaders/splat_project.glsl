// Compute rasteriser, step 1 (GL 4.3): one thread per splat slot projects it once (same
// project_splat as the quad path), writes its 32-byte record and its tile rectangle and count, and
// reduces the visible depth range per workgroup of 256 into status[1..2] (one atomic per
// workgroup; float bits of z > 0 order as uints). Nothing is read back; slots off screen get a
// count of 0.
// Record per slot, 2 uvec4: (mean.x, mean.y, conic.a, conic.b) as float bits,
// (conic.c, z as float bits, half(r, g), half(b, opacity)).
// Meta per slot, uvec4: (x0 | y0 << 16, x1 | y1 << 16, thr as float bits, tile count), the
// rectangle bounding the ellipse q ≤ thr = ln(255·o) + slack and the count of its tiles that
// tile_hit (splat_common.glsl) keeps — the ellipse, not its bounding box.
#if defined COMPUTE_SHADER
layout(local_size_x = 256) in;
layout(std430, binding = 5) buffer Status { uint status[]; };
layout(std430, binding = 6) writeonly buffer Proj { uvec4 proj[]; };
layout(std430, binding = 7) writeonly buffer Meta { uvec4 meta[]; };
uniform uint u_n;
uniform uvec2 u_tiles;
shared uint s_total;
shared uint s_zmin;
shared uint s_zmax;

void main() {
    uint s = gl_GlobalInvocationID.x;
    if (gl_LocalInvocationIndex == 0u) {
        s_total = 0u;
        s_zmin = 0xFFFFFFFFu;
        s_zmax = 0u;
    }
    barrier();
    uint count = 0u;
    if (s < u_n) {
        vec2 mean2d;
        vec3 cov2d;
        float z;
        vec4 rgba;
        uvec4 m = uvec4(0u);
        if (project_splat(s, mean2d, cov2d, z, rgba)) {
            float a = cov2d.x, b = cov2d.y, c = cov2d.z;
            // opacity as stored (half) so the raster's 1/255 test and this one agree; the slack
            // covers exp() rounding: a tile kept in excess only costs time
            float o = unpackHalf2x16(packHalf2x16(vec2(rgba.b, rgba.a))).y;
            float thr = log(255.0 * o) + 1e-3;
            // axis-aligned box of the ellipse q ≤ thr
            float k = sqrt(2.0 * thr);
            float ex = k * sqrt(a), ey = k * sqrt(c);
            int x0 = max(0, int(floor((mean2d.x - ex) / 16.0)));
            int x1 = min(int(u_tiles.x) - 1, int(floor((mean2d.x + ex) / 16.0)));
            int y0 = max(0, int(floor((mean2d.y - ey) / 16.0)));
            int y1 = min(int(u_tiles.y) - 1, int(floor((mean2d.y + ey) / 16.0)));
            if (x0 <= x1 && y0 <= y1) {
                float det = a * c - b * b;
                vec3 conic = vec3(c, -b, a) / det;
                proj[s * 2u] = floatBitsToUint(vec4(mean2d, conic.x, conic.y));
                proj[s * 2u + 1u] = uvec4(floatBitsToUint(conic.z), floatBitsToUint(z),
                                          packHalf2x16(rgba.rg), packHalf2x16(vec2(rgba.b, rgba.a)));
                for (int ty = y0; ty <= y1; ty++) {
                    for (int tx = x0; tx <= x1; tx++) {
                        if (tile_hit(mean2d, conic, thr, uint(tx), uint(ty))) count++;
                    }
                }
                if (count > 0u) {
                    m = uvec4(uint(x0) | (uint(y0) << 16), uint(x1) | (uint(y1) << 16), floatBitsToUint(thr), count);
                    atomicAdd(s_total, count);
                    atomicMin(s_zmin, floatBitsToUint(z));
                    atomicMax(s_zmax, floatBitsToUint(z));
                }
            }
        }
        meta[s] = m;
    }
    barrier();
    if (gl_LocalInvocationIndex == 0u) {
        if (s_total > 0u) {
            atomicMin(status[1], s_zmin);
            atomicMax(status[2], s_zmax);
        }
    }
}
#endif
