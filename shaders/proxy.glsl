// Proxy pass: flat-shaded low-poly shapes, one instanced draw per mesh.
// Per vertex: position and face normal in the unit shape. Per instance: the 4x4 model matrix
// (anchor transform x half-extent scale, column-major) and the material's linear colour.
// Lighting: a sun plus a sky/ground hemisphere term, in linear colour, gamma-encoded at the end.
#version 330

#if defined VERTEX_SHADER
uniform mat4 u_view_proj;
in vec3 in_pos;
in vec3 in_nrm;
in mat4 i_model;
in vec3 i_col;
out vec3 v_nrm;
out vec3 v_col;
out vec3 v_world;
void main() {
    vec4 w = i_model * vec4(in_pos, 1.0);
    v_world = w.xyz;
    v_nrm = transpose(inverse(mat3(i_model))) * in_nrm;
    v_col = i_col;
    gl_Position = u_view_proj * w;
}
#elif defined FRAGMENT_SHADER
uniform vec3 u_sun_dir;    // unit, towards the sun
uniform vec3 u_eye;
uniform vec3 u_fog_col;
uniform float u_fog_dist;  // metres at which fog is full
in vec3 v_nrm;
in vec3 v_col;
in vec3 v_world;
out vec4 f_col;
void main() {
    vec3 n = normalize(v_nrm);
    float sun = max(dot(n, u_sun_dir), 0.0);
    float hemi = 0.5 + 0.5 * n.y;
    vec3 lit = v_col * (0.95 * sun + mix(0.18, 0.42, hemi));
    float fog = clamp(length(v_world - u_eye) / u_fog_dist, 0.0, 1.0);
    lit = mix(lit, u_fog_col, fog * fog);
    f_col = vec4(pow(lit, vec3(1.0 / 2.2)), 1.0);
}
#endif
