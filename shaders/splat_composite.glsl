// Compute rasteriser, step 5: blend its premultiplied image over the framebuffer (one triangle).
#if defined VERTEX_SHADER
void main() {
    vec2 v = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    gl_Position = vec4(v * 2.0 - 1.0, 0.0, 1.0);
}
#elif defined FRAGMENT_SHADER
uniform sampler2D u_image;
out vec4 f_color;
void main() { f_color = texelFetch(u_image, ivec2(gl_FragCoord.xy), 0); }
#endif
