// Splat pass: one instanced triangle strip (4 vertices) per splat, instances in back-to-front
// order through the per-instance attribute a_index (the sorted splat slot). Vertex and fragment
// stages share this file, split by VERTEX_SHADER / FRAGMENT_SHADER; the loader prepends
// "#version 330 core", GL_ARB_shading_language_packing when present (else halves are decoded by
// hand) and splat_common.glsl.
//
// Data (layouts documented in engine/render/splat_packing.py, which packs them):
//   u_splats  RGBA32UI, 4096 texels wide, 2 texels (32 bytes) per splat, anchor-local:
//             t0 = (mean.xyz f32 bits, anchor | opacity unorm16 << 16)
//             t1 = (half scale.xy, half scale.z | half base.r, half base.gb, quat smallest-three)
//   u_anchors RGBA32UI, 4096 texels wide, 4 texels per anchor slot: rows 0..2 of the 3×4
//             local→world affine (f32 bits), then (first splat, first SH texel, SH degree, 0)
//   u_sh      RGBA32UI, 4096 texels wide, higher SH (k ≥ 1) as halves, SH_TEXELS[degree] per splat
//
// Math is gsplat "classic" (see DESIGN.md): EWA Jacobian with the 1.3×FOV tan-space clamp, +0.3 on
// the 2D covariance diagonal, alpha = min(0.99, o·exp(−q)), alpha < 1/255 discarded, pixel centres
// at +0.5, near plane culling. The quad covers exactly the ellipse where o·exp(−q) ≥ 1/255.

#if defined VERTEX_SHADER

uniform vec2 u_depth_ab;    // NDC depth of view z: (a, b) with ndc = a + b / z (matches the GL projection)

in uint a_index;            // per instance: splat slot

out vec2 v_offset;          // pixel position − projected mean (pixels)
flat out vec3 v_conic;      // inverse 2D covariance (a, b, c)
flat out vec4 v_color;      // rgb (clamped ≥ 0), opacity

void cull() {
    gl_Position = vec4(0.0, 0.0, 2.0, 1.0);  // outside the clip volume: the strip is dropped
    v_offset = vec2(0.0);
    v_conic = vec3(0.0);
    v_color = vec4(0.0);
}

#if defined PREPASS
// GL 4.3: everything but the corner was computed once per splat by shaders/splat_prepass.glsl
layout(std430, binding = 6) readonly buffer Quads { vec4 quads[]; };

void main() {
    uint s = a_index;
    vec4 q2 = quads[s * 4u + 2u];
    if (!(q2.y > 0.0)) { cull(); return; }
    vec4 q0 = quads[s * 4u];
    vec4 q1 = quads[s * 4u + 1u];
    vec2 corner = vec2(float(gl_VertexID & 1), float(gl_VertexID >> 1)) * 2.0 - 1.0;
    vec2 d = corner.x * q0.zw + corner.y * q1.xy;
    vec2 pix = q0.xy + d;
    gl_Position = vec4(pix.x / u_size.x * 2.0 - 1.0, 1.0 - pix.y / u_size.y * 2.0, q2.z, 1.0);
    v_offset = d;
    v_conic = vec3(q1.zw, q2.x);
    v_color = vec4(quads[s * 4u + 3u].rgb, q2.y);
}
#else
void main() {
    uint s = a_index;
    vec2 mean2d;
    vec3 cov2d;
    float z;
    vec4 rgba;
    if (!project_splat(s, mean2d, cov2d, z, rgba)) { cull(); return; }
    float a = cov2d.x, b = cov2d.y, c = cov2d.z;
    float det = a * c - b * b;
    float opacity = rgba.a;
    // ellipse where o·exp(−q) ≥ 1/255:  dᵀ Σ⁻¹ d ≤ 2 ln(255 o)
    float k = sqrt(2.0 * log(255.0 * opacity));
    float mid = 0.5 * (a + c);
    float rad = sqrt(max(0.25 * (a - c) * (a - c) + b * b, 0.0));
    float l1 = mid + rad;
    float l2 = max(mid - rad, 1e-12);
    vec2 v1 = abs(b) > 1e-12 * (a + c) ? normalize(vec2(b, l1 - a)) : (a >= c ? vec2(1.0, 0.0) : vec2(0.0, 1.0));
    vec2 v2 = vec2(-v1.y, v1.x);
    vec2 corner = vec2(float(gl_VertexID & 1), float(gl_VertexID >> 1)) * 2.0 - 1.0;
    vec2 d = corner.x * k * sqrt(l1) * v1 + corner.y * k * sqrt(l2) * v2;
    vec2 pix = mean2d + d;

    gl_Position = vec4(pix.x / u_size.x * 2.0 - 1.0, 1.0 - pix.y / u_size.y * 2.0, u_depth_ab.x + u_depth_ab.y / z, 1.0);
    v_offset = d;
    v_conic = vec3(c, -b, a) / det;
    v_color = rgba;
}
#endif

#elif defined FRAGMENT_SHADER

in vec2 v_offset;
flat in vec3 v_conic;
flat in vec4 v_color;
out vec4 f_color;

void main() {
    vec2 d = v_offset;
    float q = 0.5 * (v_conic.x * d.x * d.x + v_conic.z * d.y * d.y) + v_conic.y * d.x * d.y;
    float alpha = min(0.99, v_color.a * exp(-q));
    if (q < 0.0 || alpha < 1.0 / 255.0) discard;
    f_color = vec4(v_color.rgb * alpha, alpha);  // premultiplied; blend ONE, ONE_MINUS_SRC_ALPHA
}

#endif
