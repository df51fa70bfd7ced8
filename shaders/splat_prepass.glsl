// Quad rasteriser, GL 4.3 pre-pass: project each splat slot once (instead of once per quad corner)
// into a 64-byte record the vertex shader only has to read, and — with the GPU sort — write its
// back-to-front key (as shaders/splat_keys.glsl does) and count it into the indirect draw.
// Record per slot, 4 vec4: (mean.xy, axis1.xy), (axis2.xy, conic.a, conic.b),
// (conic.c, opacity, NDC depth, 0), (rgb, 0); opacity 0 marks a culled slot.
#if defined COMPUTE_SHADER
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Keys { uint keys[]; };
layout(std430, binding = 1) writeonly buffer Vals { uint vals[]; };
layout(std430, binding = 5) buffer Indirect { uint cmd[]; };
layout(std430, binding = 6) writeonly buffer Quads { vec4 quads[]; };
uniform uint u_n;
uniform uint u_write_keys;
uniform vec2 u_depth_ab;    // NDC depth of view z: a + b / z

void main() {
    uint s = gl_GlobalInvocationID.x;
    if (s >= u_n) return;
    vec2 mean2d;
    vec3 cov2d;
    float z;
    vec4 rgba;
    uint key = 0xFFFFFFFFu;
    if (project_splat(s, mean2d, cov2d, z, rgba)) {
        float a = cov2d.x, b = cov2d.y, c = cov2d.z;
        float det = a * c - b * b;
        // ellipse where o·exp(−q) ≥ 1/255:  dᵀ Σ⁻¹ d ≤ 2 ln(255 o)
        float k = sqrt(2.0 * log(255.0 * rgba.a));
        float mid = 0.5 * (a + c);
        float rad = sqrt(max(0.25 * (a - c) * (a - c) + b * b, 0.0));
        float l1 = mid + rad;
        float l2 = max(mid - rad, 1e-12);
        vec2 v1 = abs(b) > 1e-12 * (a + c) ? normalize(vec2(b, l1 - a)) : (a >= c ? vec2(1.0, 0.0) : vec2(0.0, 1.0));
        vec2 v2 = vec2(-v1.y, v1.x);
        vec3 conic = vec3(c, -b, a) / det;
        quads[s * 4u] = vec4(mean2d, k * sqrt(l1) * v1);
        quads[s * 4u + 1u] = vec4(k * sqrt(l2) * v2, conic.x, conic.y);
        quads[s * 4u + 2u] = vec4(conic.z, rgba.a, u_depth_ab.x + u_depth_ab.y / z, 0.0);
        quads[s * 4u + 3u] = vec4(rgba.rgb, 0.0);
        key = 0xFFFFFFFFu - floatBitsToUint(z);
        if (u_write_keys != 0u) atomicAdd(cmd[1], 1u);
    } else {
        quads[s * 4u + 2u] = vec4(0.0);
    }
    if (u_write_keys != 0u) {
        keys[s] = key;
        vals[s] = s;
    }
}
#endif
