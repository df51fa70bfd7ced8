#version 330
// The teacher pass: one procedural asset (teacher mesh layout, see meshes.py) drawn from one camera.
// Appearance states are uniforms applied here as smooth functions, so one mesh serves every state:
//   damage  — detail pieces shrink away (per-piece threshold), cracks widen, dark patches;
//   wetness — darker, more saturated, a small specular highlight;
//   snow    — white cover on upward-facing surfaces, spreading down the sides as it grows;
//   burn    — charring to black with glowing embers; grass and leaves shrink away.
// Outputs: location 0 = linear RGB with alpha 1 (background stays 0), location 1 = view-space z.

#if defined VERTEX_SHADER

uniform mat4 u_view;       // world -> camera, OpenGL convention
uniform mat4 u_proj;
uniform vec4 u_state;      // damage, wetness, snow, burn
uniform float u_flammable; // detail pieces burn away (grass, foliage)
uniform float u_bury;      // detail pieces are buried by snow (grass)

in vec3 in_pos;
in vec3 in_nrm;
in vec3 in_alb;
in vec3 in_ctr;
in vec2 in_inst;           // removal threshold u (< 0: base surface), thin (two-sided card)

out vec3 v_obj;
out vec3 v_nrm;
out vec3 v_alb;
out float v_thin;
out float v_u;
out float v_z;

void main() {
    float u = in_inst.x;
    float keep = 1.0;
    if (u >= 0.0) {
        // Each piece has its own threshold u; linear ramps 0.4 wide keep the change gradual.
        keep *= 1.0 - clamp((u_state.x * 0.84 - u) / 0.4, 0.0, 1.0);
        keep *= 1.0 - u_flammable * clamp((u_state.w * 1.4 - u) / 0.4, 0.0, 1.0);
        keep *= 1.0 - u_bury * 0.7 * u_state.z;
    }
    vec3 p = in_ctr + (in_pos - in_ctr) * keep;
    vec4 vp = u_view * vec4(p, 1.0);
    gl_Position = u_proj * vp;
    v_obj = p;
    v_nrm = in_nrm;
    v_alb = in_alb;
    v_thin = in_inst.y;
    v_u = u;
    v_z = -vp.z;
}

#elif defined FRAGMENT_SHADER

uniform vec4 u_state;
uniform vec3 u_offset;     // the style seed's window into the fixed noise field
uniform vec3 u_eye;        // camera position (object frame), for the small wet/water highlight
uniform vec2 u_mottle;     // frequency, amount of the material's colour mottling
uniform float u_water;     // 1 for water: glossy with a sky tint
uniform float u_reveal;    // plaster: damage reveals brick underneath
uniform float u_cracks;    // baseline crack strength of the material
uniform float u_grain;     // wood grain strength: streaks along the plank direction
uniform vec3 u_tint_a;     // albedo multiplier where the style field's tone is 0
uniform vec3 u_tint_b;     // ... and where it is 1
uniform vec4 u_patch;      // rgb of the material's secondary patches (moss, rust, soot), amount
// The style field (worldmodel/style.py): STYLE_K shared frequencies, per-channel sin/cos weights.
uniform vec3 u_sfreq[12];  // cycles per metre
uniform vec4 u_ssin[12];   // channels: tone, patch, growth, wear
uniform vec4 u_scos[12];

in vec3 v_obj;
in vec3 v_nrm;
in vec3 v_alb;
in float v_thin;
in float v_u;
in float v_z;

layout(location = 0) out vec4 f_rgba;
layout(location = 1) out float f_depth;

uint hash3(uvec3 x) {
    x = x * 1664525u + 1013904223u;
    x.x += x.y * x.z; x.y += x.z * x.x; x.z += x.x * x.y;
    x ^= x >> 16u;
    x.x += x.y * x.z; x.y += x.z * x.x; x.z += x.x * x.y;
    return x.x ^ x.y ^ x.z;
}

float lattice(ivec3 i) { return float(hash3(uvec3(i)) & 0xFFFFFFu) / 16777216.0; }

float vnoise(vec3 p) {
    vec3 f = floor(p);
    ivec3 i = ivec3(f);
    vec3 w = p - f;
    w = w * w * (3.0 - 2.0 * w);
    float x00 = mix(lattice(i), lattice(i + ivec3(1, 0, 0)), w.x);
    float x10 = mix(lattice(i + ivec3(0, 1, 0)), lattice(i + ivec3(1, 1, 0)), w.x);
    float x01 = mix(lattice(i + ivec3(0, 0, 1)), lattice(i + ivec3(1, 0, 1)), w.x);
    float x11 = mix(lattice(i + ivec3(0, 1, 1)), lattice(i + ivec3(1, 1, 1)), w.x);
    return mix(mix(x00, x10, w.y), mix(x01, x11, w.y), w.z);
}

float fbm(vec3 p) {
    return (vnoise(p) + 0.5 * vnoise(p * 2.03 + 17.0) + 0.25 * vnoise(p * 4.01 + 31.0)) / 1.75;
}

// The style field at noise-space point q, 4 channels in (0, 1): the twin of worldmodel.style.style_field.
// Phases are reduced to one cycle before sin/cos (the GPU's sin is only accurate near 0).
vec4 style_at(vec3 q) {
    vec4 s = vec4(0.0);
    for (int k = 0; k < 12; ++k) {
        float th = 6.283185307179586 * fract(dot(q, u_sfreq[k]));
        s += sin(th) * u_ssin[k] + cos(th) * u_scos[k];
    }
    return 0.5 + 0.5 * tanh(1.6 * s);
}

// Where an effect settles first: mostly the style field's wear channel (smooth, seed-driven),
// with a little fine noise so its fringe is ragged. Spread over [0, 1].
float wear_threshold(float wear, vec3 p) { return clamp(0.5 + 1.6 * (0.75 * (wear - 0.5) + 0.25 * (fbm(p) - 0.5)), 0.0, 1.0); }

// A threshold field spread over [0, 1]: an effect covers a point once its state passes the threshold,
// so the covered fraction grows steadily with the state instead of all at once.
float threshold(vec3 p) { return clamp(0.5 + 1.6 * (fbm(p) - 0.5), 0.0, 1.0); }

// A linear ramp as wide as possible keeps a 0.05 step in the state a small change in the picture.
float cover_at(float t, float s) { return clamp((s * 1.8 - t) / 0.8, 0.0, 1.0); }

void main() {
    float damage = u_state.x, wet = u_state.y, snow = u_state.z, burn = u_state.w;
    vec3 n = normalize(v_nrm);
    vec3 q = v_obj + u_offset;
    vec4 sty = style_at(q);
    vec3 alb = v_alb * (1.0 - u_mottle.y + 2.0 * u_mottle.y * fbm(q * u_mottle.x));
    alb *= mix(u_tint_a, u_tint_b, sty.x);
    alb = mix(alb, u_patch.rgb * (0.8 + 0.4 * fbm(q * 9.0 + 3.0)), u_patch.a * smoothstep(0.55, 0.75, sty.y));
    if (u_grain > 0.0) {
        // Planks run along the surface's horizontal tangent (cross(up, n)), x on top faces.
        vec3 g = abs(n.y) < 0.9 ? normalize(cross(vec3(0.0, 1.0, 0.0), n)) : vec3(1.0, 0.0, 0.0);
        float along = dot(q, g);
        vec3 across = q - g * along;
        alb *= 1.0 - u_grain + 2.0 * u_grain * fbm(across * 40.0 + g * along * 1.5);
    }

    // Each effect is skipped when it cannot show (state 0): uniform branches, same pixels either way.
    // Damage: cracks (ridged noise lines that widen), plaster falling off to brick, dark patches.
    bool base = v_u < 0.0;
    if (u_cracks > 0.0 || damage > 0.0) {
        float ridge = abs(fbm(q * 3.0 + 5.0) - 0.5);
        float crack_w = (u_cracks * 0.012 + 0.05 * damage) * (base ? 1.0 : 0.5);
        float crack = 1.0 - smoothstep(0.0, crack_w + 1e-4, ridge);
        alb *= 1.0 - 0.75 * crack * min(1.0, u_cracks + 3.0 * damage);
    }
    if (damage > 0.0) {
        float patches = cover_at(wear_threshold(sty.w, q * 1.7 + 11.0), damage * 0.6);
        if (u_reveal > 0.0 && base) {
            alb = mix(alb, vec3(0.40, 0.15, 0.09) * (0.7 + 0.6 * vnoise(q * 40.0)), patches);
        } else {
            alb *= 1.0 - 0.45 * patches;
        }
    }

    // Burn: char to black, embers glow on the fringe of the char.
    float char_ = 0.0, ember = 0.0;
    if (burn > 0.0) {
        char_ = cover_at(wear_threshold(sty.w, q * 2.3 + 23.0), burn);
        alb = mix(alb, vec3(0.025, 0.022, 0.02), char_);
        ember = char_ * (1.0 - char_) * 4.0 * smoothstep(0.6, 0.85, fbm(q * 9.0 + 41.0)) * burn;
    }

    // Wetness: darker and more saturated.
    float lum = dot(alb, vec3(0.2126, 0.7152, 0.0722));
    alb = max(mix(vec3(lum), alb, 1.0 + 0.5 * wet), 0.0) * (1.0 - 0.45 * wet);

    // Snow: settles on upward-facing surfaces first, spreads down the sides as it grows.
    float cover = 0.0;
    if (snow > 0.0) {
        float slope = v_thin > 0.5 ? 0.5 : clamp(1.0 - n.y, 0.0, 1.0);
        cover = cover_at(0.45 * wear_threshold(1.0 - sty.w, q * 4.0 + 57.0) + 0.55 * slope, snow);
        alb = mix(alb, vec3(0.86, 0.88, 0.92), cover);
    }

    // Light: a fixed sun plus sky ambient; two-sided cards take |n.l|.
    vec3 l = normalize(vec3(0.35, 0.85, 0.40));
    float ndl = v_thin > 0.5 ? abs(dot(n, l)) : max(dot(n, l), 0.0);
    float ambient = 0.28 + 0.08 * (v_thin > 0.5 ? 1.0 : n.y);
    vec3 col = alb * (ambient + 0.8 * ndl);
    float gloss = (1.0 - cover) * (1.0 - char_) * max(0.3 * wet, 0.45 * u_water);
    vec3 vdir = normalize(u_eye - v_obj);
    float spec = pow(max(dot(reflect(-l, n), vdir), 0.0), 24.0);
    col += gloss * (0.35 * spec + 0.06 * u_water) * vec3(0.9, 0.95, 1.0);
    col += ember * vec3(1.0, 0.32, 0.05) * 0.5;
    f_rgba = vec4(col, 1.0);
    f_depth = v_z;
}
#endif
