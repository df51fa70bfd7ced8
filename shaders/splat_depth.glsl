// Compute rasteriser, step 2: one thread per splat slot writes the depth sort's input. Slots with
// tiles (meta.w > 0) get key = view depth quantised linearly over this frame's visible range
// [zmin, zmax] (status[1..2], from splat_project.glsl) to u_depth_bits bits, front = small; the
// others get u_sentinel (all key bits set), which sorts last. Slot s goes to position n − 1 − s so
// that the stable sort puts, of splats at equal depth, the later slot in front — as back-to-front
// blending in slot order (the quads, the reference) does.
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Keys { uint keys[]; };
layout(std430, binding = 1) writeonly buffer Vals { uint vals[]; };
layout(std430, binding = 5) readonly buffer Status { uint status[]; };
layout(std430, binding = 6) readonly buffer Proj { uvec4 proj[]; };
layout(std430, binding = 7) readonly buffer Meta { uvec4 meta[]; };
uniform uint u_n;
uniform uint u_depth_bits;
uniform uint u_sentinel;

void main() {
    uint s = gl_GlobalInvocationID.x;
    if (s >= u_n) return;
    uint key = u_sentinel;
    if (meta[s].w > 0u) {
        float zmin = uintBitsToFloat(status[1]);
        float zmax = uintBitsToFloat(status[2]);
        uint dmax = (1u << u_depth_bits) - 1u;
        float scale = zmax > zmin ? float(dmax) / (zmax - zmin) : 0.0;
        float z = uintBitsToFloat(proj[s * 2u + 1u].y);
        // float(dmax) may round up to 2^depth_bits: clamp as an integer
        key = min(uint(max((z - zmin) * scale, 0.0)), dmax);
    }
    keys[u_n - 1u - s] = key;
    vals[u_n - 1u - s] = s;
}
