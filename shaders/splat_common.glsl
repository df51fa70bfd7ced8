// Shared by shaders/splat.glsl (quads) and shaders/splat_project.glsl (compute rasteriser):
// data textures, camera uniforms, unpacking and the gsplat-classic projection of one splat.
// Layouts: see the top of shaders/splat.glsl and engine/render/splat_packing.py.

uniform usampler2D u_splats;
uniform usampler2D u_anchors;
uniform usampler2D u_sh;
uniform mat4 u_view;        // world → camera (OpenCV: x right, y down, z forward); GLSL column-major
uniform vec4 u_intr;        // fx, fy, cx, cy (pixels)
uniform vec2 u_size;        // width, height (pixels)
uniform vec3 u_cam_pos;     // camera centre, world
uniform vec2 u_near_far;    // culling range of view-space z

const float C0 = 0.28209479177387814;
const float C1 = 0.4886025119029199;

uvec4 fetch(usampler2D tex, uint texel) {
    return texelFetch(tex, ivec2(int(texel & 4095u), int(texel >> 12)), 0);
}

#if (__VERSION__ >= 420 || defined(GL_ARB_shading_language_packing)) && !defined(SPLAT_MANUAL_HALF)
vec2 halves(uint bits) { return unpackHalf2x16(bits); }
#else
// GL 3.3 without the packing extension: decode IEEE half floats by hand
float half_to_float(uint h) {
    uint e = (h >> 10) & 31u;
    float m = float(h & 1023u);
    float v = e == 0u ? m * exp2(-24.0) : (e == 31u ? 65504.0 : (1.0 + m / 1024.0) * exp2(float(e) - 15.0));
    return (h & 32768u) != 0u ? -v : v;
}
vec2 halves(uint bits) { return vec2(half_to_float(bits & 65535u), half_to_float(bits >> 16)); }
#define unpackHalf2x16(b) halves(b)
#endif

vec4 unpack_quat(uint code) {
    uint big = code >> 30;
    vec3 o = vec3(float((code >> 20) & 1023u), float((code >> 10) & 1023u), float(code & 1023u));
    o = (o / 1023.0 * 2.0 - 1.0) * 0.7071067811865476;
    float l = sqrt(max(0.0, 1.0 - dot(o, o)));
    vec4 q;
    if (big == 0u) q = vec4(l, o);
    else if (big == 1u) q = vec4(o.x, l, o.y, o.z);
    else if (big == 2u) q = vec4(o.x, o.y, l, o.z);
    else q = vec4(o, l);
    return normalize(q);  // (w, x, y, z)
}

mat3 quat_to_mat(vec4 q) {
    float w = q.x, x = q.y, y = q.z, z = q.w;
    // columns
    return mat3(
        1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y + w * z), 2.0 * (x * z - w * y),
        2.0 * (x * y - w * z), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z + w * x),
        2.0 * (x * z + w * y), 2.0 * (y * z - w * x), 1.0 - 2.0 * (x * x + y * y));
}

vec3 sh_rest(uint base, uint degree, vec3 d) {
    // coefficients k = 1..K-1, rgb each, as consecutive halves starting at texel `base`;
    // every index below is a constant, so nothing is dynamically indexed
    uvec4 T[6];
    T[0] = fetch(u_sh, base);
    T[1] = fetch(u_sh, base + 1u);
    T[2] = degree >= 2u ? fetch(u_sh, base + 2u) : uvec4(0u);
    T[3] = uvec4(0u); T[4] = uvec4(0u); T[5] = uvec4(0u);
    if (degree >= 3u) {
        T[3] = fetch(u_sh, base + 3u);
        T[4] = fetch(u_sh, base + 4u);
        T[5] = fetch(u_sh, base + 5u);
    }
    #define HALF(i) unpackHalf2x16(T[(i) / 8][((i) % 8) / 2])[(i) % 2]
    #define SH(k) vec3(HALF(((k) - 1) * 3), HALF(((k) - 1) * 3 + 1), HALF(((k) - 1) * 3 + 2))
    float x = d.x, y = d.y, z = d.z;
    vec3 c = -C1 * y * SH(1) + C1 * z * SH(2) - C1 * x * SH(3);
    if (degree >= 2u) {
        float xx = x * x, yy = y * y, zz = z * z;
        c += 1.0925484305920792 * x * y * SH(4) - 1.0925484305920792 * y * z * SH(5)
            + 0.31539156525252005 * (2.0 * zz - xx - yy) * SH(6) - 1.0925484305920792 * x * z * SH(7)
            + 0.5462742152960396 * (xx - yy) * SH(8);
        if (degree >= 3u) {
            c += -0.5900435899266435 * y * (3.0 * xx - yy) * SH(9) + 2.890611442640554 * x * y * z * SH(10)
                - 0.4570457994644658 * y * (4.0 * zz - xx - yy) * SH(11)
                + 0.3731763325901154 * z * (2.0 * zz - 3.0 * xx - 3.0 * yy) * SH(12)
                - 0.4570457994644658 * x * (4.0 * zz - xx - yy) * SH(13)
                + 1.445305721320277 * z * (xx - yy) * SH(14)
                - 0.5900435899266435 * x * (xx - 3.0 * yy) * SH(15);
        }
    }
    return c;
}

// Projects splat slot s (gsplat classic). False when culled. cov2 = (a, b, c) of the blurred 2D
// covariance, mean2d in pixels, z view depth, rgb ≥ 0, opacity in (0, 1].
bool project_splat(uint s, out vec2 mean2d, out vec3 cov2d, out float z, out vec4 rgba) {
    uvec4 t0 = fetch(u_splats, s * 2u);
    uint anchor = t0.w & 65535u;
    if (anchor == 65535u) return false;
    float opacity = float(t0.w >> 16) / 65535.0;
    if (opacity * 255.0 < 1.0) return false;
    uvec4 t1 = fetch(u_splats, s * 2u + 1u);
    vec3 p = uintBitsToFloat(t0.xyz);

    uvec4 r0 = fetch(u_anchors, anchor * 4u);
    uvec4 r1 = fetch(u_anchors, anchor * 4u + 1u);
    uvec4 r2 = fetch(u_anchors, anchor * 4u + 2u);
    uvec4 info = fetch(u_anchors, anchor * 4u + 3u);
    mat3 A = transpose(mat3(uintBitsToFloat(r0.xyz), uintBitsToFloat(r1.xyz), uintBitsToFloat(r2.xyz)));
    vec3 tr = vec3(uintBitsToFloat(r0.w), uintBitsToFloat(r1.w), uintBitsToFloat(r2.w));
    vec3 world = A * p + tr;

    vec3 cam = (u_view * vec4(world, 1.0)).xyz;
    z = cam.z;
    if (z < u_near_far.x || z > u_near_far.y) return false;

    vec2 sxy = halves(t1.x);
    vec2 szr = halves(t1.y);
    vec2 bgb = halves(t1.z);
    vec3 scale = vec3(sxy, szr.x);
    vec3 base = vec3(szr.y, bgb);
    mat3 W = mat3(u_view);
    mat3 M = W * A * quat_to_mat(unpack_quat(t1.w)) * mat3(scale.x, 0, 0, 0, scale.y, 0, 0, 0, scale.z);
    mat3 cov = M * transpose(M);

    float fx = u_intr.x, fy = u_intr.y, cx = u_intr.z, cy = u_intr.w;
    float tan_fovx = 0.5 * u_size.x / fx;
    float tan_fovy = 0.5 * u_size.y / fy;
    float lim_x_pos = (u_size.x - cx) / fx + 0.3 * tan_fovx;
    float lim_x_neg = cx / fx + 0.3 * tan_fovx;
    float lim_y_pos = (u_size.y - cy) / fy + 0.3 * tan_fovy;
    float lim_y_neg = cy / fy + 0.3 * tan_fovy;
    float rz = 1.0 / z;
    float rz2 = rz * rz;
    float tx = z * min(lim_x_pos, max(-lim_x_neg, cam.x * rz));
    float ty = z * min(lim_y_pos, max(-lim_y_neg, cam.y * rz));
    // J is 2×3; GLSL mat3x2 = 3 columns of vec2
    mat3x2 J = mat3x2(fx * rz, 0.0, 0.0, fy * rz, -fx * tx * rz2, -fy * ty * rz2);
    mat2 cov2 = J * cov * transpose(J);
    float a = cov2[0][0] + 0.3;
    float b = cov2[0][1];
    float c = cov2[1][1] + 0.3;
    float det = a * c - b * b;
    if (!(det > 0.0)) return false;
    mean2d = vec2(fx * cam.x * rz + cx, fy * cam.y * rz + cy);

    cov2d = vec3(a, b, c);
    vec3 rgb = base;
    uint degree = info.z;
    if (degree > 0u) {
        vec3 dir = normalize(transpose(A) * (world - u_cam_pos));
        rgb += sh_rest(info.y + (s - info.x) * (degree == 1u ? 2u : (degree == 2u ? 3u : 6u)), degree, dir);
    }

    rgba = vec4(max(rgb, vec3(0.0)), opacity);
    return true;
}

// Compute rasteriser: whether a splat reaches a pixel centre of 16×16 tile (tx, ty), i.e. the minimum
// of q = 0.5·(a·dx² + c·dy²) + b·dx·dy over the tile's pixel centres is ≤ thr = ln(255·o) (+ slack).
// conic = (a, b, c). Exact for a positive definite conic: 0 when the centre is inside, else the least
// of the four edges' 1-D minima (stationary point clamped to the edge). splat_project.glsl counts and
// splat_emit.glsl writes with this same function on the same stored floats (precise: no contraction).
#if __VERSION__ >= 430
bool tile_hit(vec2 mean, vec3 conic, float thr, uint tx, uint ty) {
    precise vec2 lo = vec2(float(tx), float(ty)) * 16.0 + 0.5 - mean;
    precise vec2 hi = lo + 15.0;
    if (lo.x <= 0.0 && hi.x >= 0.0 && lo.y <= 0.0 && hi.y >= 0.0) return true;
    precise float best = 3.4e38;
    for (int e = 0; e < 2; e++) {
        precise float dx = e == 0 ? lo.x : hi.x;
        precise float dy = clamp(-conic.y * dx / conic.z, lo.y, hi.y);
        precise float q = 0.5 * (conic.x * dx * dx + conic.z * dy * dy) + conic.y * dx * dy;
        best = min(best, q);
        precise float dy2 = e == 0 ? lo.y : hi.y;
        precise float dx2 = clamp(-conic.y * dy2 / conic.x, lo.x, hi.x);
        precise float q2 = 0.5 * (conic.x * dx2 * dx2 + conic.z * dy2 * dy2) + conic.y * dx2 * dy2;
        best = min(best, q2);
    }
    return best <= thr;
}
#endif
