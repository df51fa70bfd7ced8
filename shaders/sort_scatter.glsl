// Radix sort, pass 3 of 3: stable scatter of one digit (RADIX_BITS 4 or 5; THREADS 256, BLOCK 2048,
// INDIRECT as in sort_count). sort_scatter_ballot.glsl is the 8-bit variant.
// Keys are staged in shared memory coalesced; thread t then owns the 8 consecutive keys
// [t*8, t*8+8) of the block, so its rank is (keys of its digit in earlier threads) + (earlier
// keys of its own). Per-thread digit counts live in s_cnt[digit*256 + t] (bank-conflict free);
// their digit-major exclusive scan is each key's position in the block sorted by digit. The block
// is then reordered in shared memory (values in s_cnt, free by then) and written out in that
// order, so neighbouring threads write neighbouring addresses (coalesced).
#version 430
layout(local_size_x = 256) in;
#define ITEMS 8u
#if THREADS != 256 || BLOCK != 2048
#error sort_scatter.glsl needs THREADS 256 and BLOCK 2048
#endif
#define RADIX (1u << RADIX_BITS)
#define SORT_SCATTER
#include "sort_pass.inc"
shared uint s_key[BLOCK];
// s_cnt is padded by one entry per 32 so the flat scan's per-thread runs hit distinct banks
#define PAD(e) ((e) + ((e) >> 5))
shared uint s_cnt[RADIX * 264u];
shared uint s_sum[256];
shared uint s_base[RADIX];  // output position of the block's key j of digit d: s_base[d] + j
shared uint s_total[RADIX];

void main() {
    SORT_SIZES
    uint t = gl_LocalInvocationID.x;
    uint b = gl_WorkGroupID.x;
    uint start = b * BLOCK;
    for (uint i = 0u; i < ITEMS; i++) {
        uint j = i * 256u + t;
        uint idx = start + j;
        s_key[j] = idx < n ? keys_in[idx] : 0u;
    }
    for (uint d = 0u; d < RADIX; d++) s_cnt[PAD(d * 256u + t)] = 0u;
    if (t < RADIX) s_total[t] = totals[t];
    barrier();
    uint first = t * ITEMS;
    uint valid = start + first < n ? min(ITEMS, n - start - first) : 0u;
    for (uint i = 0u; i < valid; i++) {
        uint d = DIGIT(s_key[first + i]);
        s_cnt[PAD(d * 256u + t)] += 1u;
    }
    barrier();
    // flat exclusive scan of s_cnt (digit-major): thread t owns entries [t*RADIX, t*RADIX+RADIX)
    uint sum = 0u;
    for (uint i = 0u; i < RADIX; i++) sum += s_cnt[PAD(t * RADIX + i)];
    s_sum[t] = sum;
    barrier();
    for (uint off = 1u; off < 256u; off <<= 1) {
        uint v = t >= off ? s_sum[t - off] : 0u;
        barrier();
        s_sum[t] += v;
        barrier();
    }
    uint run = s_sum[t] - sum;
    for (uint i = 0u; i < RADIX; i++) {
        uint c = s_cnt[PAD(t * RADIX + i)];
        s_cnt[PAD(t * RADIX + i)] = run;
        run += c;
    }
    barrier();
    if (t < RADIX) {
        uint digit_start = 0u;  // exclusive scan of the digit totals (RADIX is small)
        for (uint d = 0u; d < t; d++) digit_start += s_total[d];
        s_base[t] = digit_start + offsets[t * num_blocks + b] - s_cnt[PAD(t * 256u)];
    }
    barrier();
    uint k[ITEMS];
    uint v[ITEMS];
    uint pos[ITEMS];
    for (uint i = 0u; i < ITEMS; i++) {
        if (i < valid) {
            k[i] = s_key[first + i];
            v[i] = vals_in[start + first + i];
            uint slot = PAD(DIGIT(k[i]) * 256u + t);
            pos[i] = s_cnt[slot];
            s_cnt[slot] += 1u;
        }
    }
    barrier();
    for (uint i = 0u; i < ITEMS; i++) {
        if (i < valid) {
            s_key[pos[i]] = k[i];
            s_cnt[pos[i]] = v[i];
        }
    }
    barrier();
    uint block_n = min(uint(BLOCK), n - min(n, start));
    for (uint i = 0u; i < ITEMS; i++) {
        uint j = i * 256u + t;
        if (j < block_n) {
            uint key = s_key[j];
            uint d = DIGIT(key);
            uint dst = s_base[d] + j;
            keys_out[dst] = key;
            vals_out[dst] = s_cnt[j];
        }
    }
}
