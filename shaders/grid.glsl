// Editor ground grid and axis lines: GL_LINES in world space, faded with distance from the eye.
#version 330

#if defined VERTEX_SHADER
uniform mat4 u_view_proj;
in vec3 in_pos;
in vec4 in_col;
out vec4 v_col;
out vec3 v_world;
void main() {
    v_col = in_col;
    v_world = in_pos;
    gl_Position = u_view_proj * vec4(in_pos, 1.0);
}
#elif defined FRAGMENT_SHADER
uniform vec3 u_eye;
uniform float u_fade;  // metres at which the grid has faded out
in vec4 v_col;
in vec3 v_world;
out vec4 f_col;
void main() {
    float d = length(v_world - u_eye);
    f_col = vec4(v_col.rgb, v_col.a * clamp(1.0 - d / u_fade, 0.0, 1.0));
}
#endif
