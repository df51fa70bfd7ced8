// Splat pass, GPU sort input: one thread per splat slot writes its back-to-front key and slot.
// key = 0xFFFFFFFF − floatBitsToUint(view z) for splats inside [near, far] (farther → smaller key),
// 0xFFFFFFFF for free or culled slots, which the ascending radix sort puts last; the visible count
// goes into the indirect draw command's instanceCount, so the draw stops before them.
#version 430
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Keys { uint keys[]; };
layout(std430, binding = 1) writeonly buffer Vals { uint vals[]; };
layout(std430, binding = 5) buffer Indirect { uint cmd[]; };  // count, instanceCount, first, baseInstance
uniform usampler2D u_splats;
uniform usampler2D u_anchors;
uniform uint u_n;
uniform vec4 u_view_z;      // third row of the world → camera matrix
uniform vec2 u_near_far;

uvec4 fetch(usampler2D tex, uint texel) {
    return texelFetch(tex, ivec2(int(texel & 4095u), int(texel >> 12)), 0);
}

void main() {
    uint s = gl_GlobalInvocationID.x;
    if (s >= u_n) return;
    uvec4 t0 = fetch(u_splats, s * 2u);
    uint anchor = t0.w & 65535u;
    uint key = 0xFFFFFFFFu;
    if (anchor != 65535u && float(t0.w >> 16) * 255.0 >= 65535.0) {
        vec4 p = vec4(uintBitsToFloat(t0.xyz), 1.0);
        vec3 world = vec3(dot(uintBitsToFloat(fetch(u_anchors, anchor * 4u)), p),
                          dot(uintBitsToFloat(fetch(u_anchors, anchor * 4u + 1u)), p),
                          dot(uintBitsToFloat(fetch(u_anchors, anchor * 4u + 2u)), p));
        float z = dot(u_view_z, vec4(world, 1.0));
        if (z >= u_near_far.x && z <= u_near_far.y) {
            key = 0xFFFFFFFFu - floatBitsToUint(z);
            atomicAdd(cmd[1], 1u);
        }
    }
    keys[s] = key;
    vals[s] = s;
}
