// Compute rasteriser, step 4: tile pairs per workgroup of 256 consecutive entries of the depth
// order (order[i] = slot, from the depth sort), into bsum[workgroup]; splat_scan.glsl scans them
// and splat_emit.glsl writes each entry's pairs at its prefix offset, so pairs come out in depth
// order, front to back.
layout(local_size_x = 256) in;
layout(std430, binding = 3) readonly buffer Order { uint order[]; };
layout(std430, binding = 7) readonly buffer Meta { uvec4 meta[]; };
layout(std430, binding = 8) writeonly buffer BlockSums { uint bsum[]; };
uniform uint u_n;
shared uint s_total;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (gl_LocalInvocationIndex == 0u) s_total = 0u;
    barrier();
    uint count = i < u_n ? meta[order[i]].w : 0u;
    if (count > 0u) atomicAdd(s_total, count);
    barrier();
    if (gl_LocalInvocationIndex == 0u) bsum[gl_WorkGroupID.x] = s_total;
}
