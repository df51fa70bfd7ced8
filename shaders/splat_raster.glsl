// Compute rasteriser, step 9: one 16×16 workgroup per tile composites its splats front to back
// (gsplat classic: alpha = min(0.99, o·exp(−q)), skip alpha < 1/255, stop once T would fall to
// 1e-4), batches of 256 projected splats staged in shared memory, the whole workgroup leaving as
// soon as every pixel is done. A splat behind the framebuffer's depth at that pixel (the proxy
// pass) ends the pixel, as the sort is front to back. Rows are written bottom-up (GL).
// BLEND: the image is the framebuffer's own RGBA16F/RGBA32F colour texture, blended in place as
// ONE, ONE_MINUS_SRC_ALPHA would (premultiplied C + T·dst, alpha 1 − T + T·dst.a); FILL: that
// texture is overwritten with (C + T·u_background, 1 − T) at every pixel, so it needs no clear
// first (a full-screen clear goes through the graphics units, few on data-centre GPUs); otherwise
// a private image receives (C, 1 − T) and splat_composite.glsl blends it.
// The host prepends OUT_FORMAT (rgba16f or rgba32f) and BLEND or FILL for the framebuffer's texture.
layout(local_size_x = 16, local_size_y = 16) in;
layout(std430, binding = 1) readonly buffer Vals { uint vals[]; };
layout(std430, binding = 6) readonly buffer Proj { uvec4 proj[]; };
layout(std430, binding = 7) readonly buffer Ranges { uvec2 ranges[]; };
#ifdef BLEND
layout(OUT_FORMAT, binding = 0) uniform image2D u_out;
#else
layout(OUT_FORMAT, binding = 0) uniform writeonly image2D u_out;
#endif
uniform sampler2D u_depth;
uniform int u_has_depth;
uniform vec2 u_depth_ab;    // ndc depth = a + b / z
uniform uvec2 u_tiles;
uniform ivec2 u_size;
#ifdef FILL
uniform vec3 u_background;
#endif
shared vec4 s_a[256];       // mean.xy, conic.a, conic.b
shared vec4 s_b[256];       // conic.c, opacity, z
shared vec3 s_c[256];       // rgb
shared uint s_done;

void main() {
    uint lid = gl_LocalInvocationIndex;
    ivec2 px = ivec2(gl_GlobalInvocationID.xy);
    bool inside = px.x < u_size.x && px.y < u_size.y;
    uvec2 range = ranges[gl_WorkGroupID.y * u_tiles.x + gl_WorkGroupID.x];
    vec2 p = vec2(px) + 0.5;
    ivec2 out_px = ivec2(px.x, u_size.y - 1 - px.y);
    float zlimit = 3.4e38;
    if (u_has_depth != 0 && inside) {
        float d = texelFetch(u_depth, out_px, 0).r;
        if (d < 1.0) zlimit = u_depth_ab.y / (2.0 * d - 1.0 - u_depth_ab.x);
    }
    if (lid == 0u) s_done = 0u;
    barrier();
    float T = 1.0;
    vec3 C = vec3(0.0);
    bool done = !inside;
    if (done) atomicAdd(s_done, 1u);
    for (uint start = range.x; start < range.y; start += 256u) {
        barrier();
        if (s_done >= 256u) break;
        uint idx = start + lid;
        if (idx < range.y) {
            uint s = vals[idx];
            uvec4 r0 = proj[s * 2u];
            uvec4 r1 = proj[s * 2u + 1u];
            vec2 rg = unpackHalf2x16(r1.z);
            vec2 bo = unpackHalf2x16(r1.w);
            s_a[lid] = uintBitsToFloat(r0);
            s_b[lid] = vec4(uintBitsToFloat(r1.x), bo.y, uintBitsToFloat(r1.y), 0.0);
            s_c[lid] = vec3(rg, bo.x);
        }
        barrier();
        uint cnt = min(256u, range.y - start);
        for (uint j = 0u; j < cnt && !done; j++) {
            vec4 A = s_a[j];
            vec4 B = s_b[j];
            if (B.z > zlimit) { done = true; atomicAdd(s_done, 1u); break; }
            vec2 d = A.xy - p;
            float q = 0.5 * (A.z * d.x * d.x + B.x * d.y * d.y) + A.w * d.x * d.y;
            float alpha = min(0.99, B.y * exp(-q));
            if (q < 0.0 || alpha < 1.0 / 255.0) continue;
            float next_t = T * (1.0 - alpha);
            if (next_t <= 1e-4) { done = true; atomicAdd(s_done, 1u); break; }
            C += s_c[j] * (alpha * T);
            T = next_t;
        }
    }
    if (!inside) return;
#ifdef BLEND
    if (T < 1.0) {
        vec4 dst = imageLoad(u_out, out_px);
        imageStore(u_out, out_px, vec4(C + T * dst.rgb, 1.0 - T + T * dst.a));
    }
#elif defined FILL
    imageStore(u_out, out_px, vec4(C + T * u_background, 1.0 - T));
#else
    imageStore(u_out, out_px, vec4(C, 1.0 - T));
#endif
}
