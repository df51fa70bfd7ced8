// Radix sort, pass 3 of 3: stable scatter of one 4-bit digit.
// Keys are staged in shared memory coalesced; thread t then owns the 8 consecutive keys
// [t*8, t*8+8) of the block, so its rank is (keys of its digit in earlier threads) + (earlier
// keys of its own). Per-thread digit counts live in s_cnt[digit*256 + t] (bank-conflict free).
#version 430
layout(local_size_x = 256) in;
#define ITEMS 8u
#define BLOCK 2048u
layout(std430, binding = 0) readonly buffer KeysIn { uint keys_in[]; };
layout(std430, binding = 1) readonly buffer ValsIn { uint vals_in[]; };
layout(std430, binding = 2) writeonly buffer KeysOut { uint keys_out[]; };
layout(std430, binding = 3) writeonly buffer ValsOut { uint vals_out[]; };
layout(std430, binding = 4) readonly buffer Offsets { uint offsets[]; };
uniform uint u_n;
uniform uint u_shift;
uniform uint u_num_blocks;
shared uint s_key[BLOCK];
shared uint s_cnt[16u * 256u];
shared uint s_sum[256];
shared uint s_dstart[16];

void main() {
    uint t = gl_LocalInvocationID.x;
    uint b = gl_WorkGroupID.x;
    uint start = b * BLOCK;
    for (uint i = 0u; i < ITEMS; i++) {
        uint j = i * 256u + t;
        uint idx = start + j;
        s_key[j] = idx < u_n ? keys_in[idx] : 0u;
    }
    for (uint d = 0u; d < 16u; d++) s_cnt[d * 256u + t] = 0u;
    barrier();
    uint first = t * ITEMS;
    uint valid = start + first < u_n ? min(ITEMS, u_n - start - first) : 0u;
    for (uint i = 0u; i < valid; i++) {
        uint d = (s_key[first + i] >> u_shift) & 15u;
        s_cnt[d * 256u + t] += 1u;
    }
    barrier();
    // flat exclusive scan of s_cnt (digit-major): thread t owns entries [t*16, t*16+16)
    uint sum = 0u;
    for (uint i = 0u; i < 16u; i++) sum += s_cnt[t * 16u + i];
    s_sum[t] = sum;
    barrier();
    for (uint off = 1u; off < 256u; off <<= 1) {
        uint v = t >= off ? s_sum[t - off] : 0u;
        barrier();
        s_sum[t] += v;
        barrier();
    }
    uint run = s_sum[t] - sum;
    for (uint i = 0u; i < 16u; i++) {
        uint c = s_cnt[t * 16u + i];
        s_cnt[t * 16u + i] = run;
        run += c;
    }
    barrier();
    if (t < 16u) s_dstart[t] = s_cnt[t * 256u];
    barrier();
    for (uint i = 0u; i < valid; i++) {
        uint key = s_key[first + i];
        uint d = (key >> u_shift) & 15u;
        uint slot = d * 256u + t;
        uint dst = offsets[d * u_num_blocks + b] + s_cnt[slot] - s_dstart[d];
        s_cnt[slot] += 1u;
        keys_out[dst] = key;
        vals_out[dst] = vals_in[start + first + i];
    }
}
