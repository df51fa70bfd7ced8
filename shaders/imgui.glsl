// Dear ImGui draw lists: 2D positions in display pixels, UV into a texture, packed RGBA8 colour.
// Vertex layout (ImDrawVert, 20 bytes): vec2 pos, vec2 uv, u8×4 colour (normalised).
#version 330

#if defined VERTEX_SHADER
uniform mat4 u_proj;  // display rectangle → clip space, y down
in vec2 in_pos;
in vec2 in_uv;
in vec4 in_col;
out vec2 v_uv;
out vec4 v_col;
void main() {
    v_uv = in_uv;
    v_col = in_col;
    gl_Position = u_proj * vec4(in_pos, 0.0, 1.0);
}
#elif defined FRAGMENT_SHADER
uniform sampler2D u_tex;
in vec2 v_uv;
in vec4 v_col;
out vec4 f_col;
void main() {
    f_col = v_col * texture(u_tex, v_uv);
}
#endif
