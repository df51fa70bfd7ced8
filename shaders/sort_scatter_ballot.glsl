// Radix sort, pass 3 of 3, 8-bit digits: stable scatter ranked with subgroup ballots
// (GL_ARB_shader_ballot, on NVIDIA and on Mesa llvmpipe). The host prepends RADIX_BITS (8), SG (the
// subgroup size, checked to be gl_SubGroupSizeARB with lanes in invocation order), THREADS = 8·SG,
// BLOCK = 8·THREADS and INDIRECT as in sort_count.glsl.
// Subgroup w owns the block's keys [w·SG·8, (w+1)·SG·8), item i of lane l being key w·SG·8 + i·SG + l
// (loads coalesced). For each item the subgroup finds each lane's peers (lanes with its digit) by
// RADIX_BITS ballots; a key's rank in its subgroup is the subgroup's count of its digit so far plus
// its peers in lower lanes, and the peer group's last lane adds the group to that count (read and
// write split by barriers). Per-subgroup digit counts, scanned digit-major, turn ranks into
// positions in the block sorted by digit; the block is reordered in shared memory and written out
// in that order (coalesced), at the digit's global start + its row-scanned block offset.
// LOW_SHARED (host define): keys, then values, pass through one shared array that also held the
// counts (11 KiB a workgroup instead of 27: more workgroups resident per SM).
#version 430
#extension GL_ARB_shader_ballot : require
#extension GL_ARB_gpu_shader_int64 : require
layout(local_size_x = THREADS) in;
#define ITEMS 8
#define RADIX (1 << RADIX_BITS)
#define W (THREADS / SG)
#define DPT ((RADIX + THREADS - 1) / THREADS)  // digits per thread in the digit-wise steps
#define SORT_SCATTER
#include "sort_pass.inc"
#ifdef LOW_SHARED
#if W * RADIX > BLOCK
shared uint s_wcnt[W * RADIX];  // [w * RADIX + d]: subgroup w's keys of digit d (counts, then positions)
#define s_key s_wcnt
#else
shared uint s_key[BLOCK];
#define s_wcnt s_key
#endif
#else
shared uint s_key[BLOCK];
shared uint s_val[BLOCK];
shared uint s_wcnt[W * RADIX];
#endif
shared uint s_blk[RADIX];       // block's keys per digit → inclusive scan
shared uint s_glb[RADIX];       // all keys per digit → inclusive scan
shared uint s_base[RADIX];      // output position of the block's sorted key j of digit d: s_base[d] + j

uint popc64(uint64_t m) {
    uvec2 v = unpackUint2x32(m);
    return uint(bitCount(v.x) + bitCount(v.y));
}

void main() {
    SORT_SIZES
    uint t = gl_LocalInvocationID.x;
    uint b = gl_WorkGroupID.x;
    uint start = b * uint(BLOCK);
    uint lane = t % uint(SG);
    uint w = t / uint(SG);
    for (uint i = t; i < uint(W * RADIX); i += uint(THREADS)) s_wcnt[i] = 0u;
    barrier();
    uint64_t lt = gl_SubGroupLtMaskARB;
    uint k[ITEMS];
    uint v[ITEMS];
    uint r[ITEMS];
    for (int i = 0; i < ITEMS; i++) {
        uint idx = start + w * uint(SG * ITEMS) + uint(i * SG) + lane;
        bool valid = idx < n;
        k[i] = 0u;
        v[i] = 0u;
        if (valid) {
            k[i] = keys_in[idx];
            v[i] = vals_in[idx];
        }
        uint d = DIGIT(k[i]);
        uint64_t peers = ballotARB(valid);
        for (int bit = 0; bit < RADIX_BITS; bit++) {
            bool set = ((d >> uint(bit)) & 1u) != 0u;
            uint64_t m = ballotARB(set);
            peers &= set ? m : ~m;
        }
        uint c = valid ? s_wcnt[w * uint(RADIX) + d] : 0u;
        uint below = popc64(peers & lt);
        r[i] = c + below;
        barrier();
        uint group = popc64(peers);
        if (valid && below + 1u == group) s_wcnt[w * uint(RADIX) + d] = c + group;
        barrier();
    }
    // digit totals of the block and of all keys, inclusive scans (Hillis-Steele, DPT digits a thread)
    for (int e = 0; e < DPT; e++) {
        uint d = t + uint(e * THREADS);
        if (d < uint(RADIX)) {
            uint sum = 0u;
            for (int q = 0; q < W; q++) sum += s_wcnt[uint(q * RADIX) + d];
            s_blk[d] = sum;
            s_glb[d] = totals[d];
        }
    }
    barrier();
    for (uint off = 1u; off < uint(RADIX); off <<= 1) {
        uint xb[DPT];
        uint xg[DPT];
        for (int e = 0; e < DPT; e++) {
            uint d = t + uint(e * THREADS);
            bool ok = d < uint(RADIX) && d >= off;
            xb[e] = ok ? s_blk[d - off] : 0u;
            xg[e] = ok ? s_glb[d - off] : 0u;
        }
        barrier();
        for (int e = 0; e < DPT; e++) {
            uint d = t + uint(e * THREADS);
            if (d < uint(RADIX)) {
                s_blk[d] += xb[e];
                s_glb[d] += xg[e];
            }
        }
        barrier();
    }
    for (int e = 0; e < DPT; e++) {
        uint d = t + uint(e * THREADS);
        if (d < uint(RADIX)) {
            uint run = d > 0u ? s_blk[d - 1u] : 0u;  // block-local start of digit d
            uint gstart = d > 0u ? s_glb[d - 1u] : 0u;
            s_base[d] = gstart + offsets[d * num_blocks + b] - run;
            for (int q = 0; q < W; q++) {
                uint c = s_wcnt[uint(q * RADIX) + d];
                s_wcnt[uint(q * RADIX) + d] = run;
                run += c;
            }
        }
    }
    barrier();
    uint block_n = min(uint(BLOCK), n - min(n, start));
#ifdef LOW_SHARED
    for (int i = 0; i < ITEMS; i++) r[i] += s_wcnt[w * uint(RADIX) + DIGIT(k[i])];  // position in the block
    barrier();  // counts read: the array now holds keys, then values
    for (int i = 0; i < ITEMS; i++) {
        if (start + w * uint(SG * ITEMS) + uint(i * SG) + lane < n) s_key[r[i]] = k[i];
    }
    barrier();
    uint dst[ITEMS];
    for (int m = 0; m < ITEMS; m++) {
        uint j = t + uint(m * THREADS);
        if (j < block_n) {
            uint key = s_key[j];
            dst[m] = s_base[DIGIT(key)] + j;
            keys_out[dst[m]] = key;
        }
    }
    barrier();
    for (int i = 0; i < ITEMS; i++) {
        if (start + w * uint(SG * ITEMS) + uint(i * SG) + lane < n) s_key[r[i]] = v[i];
    }
    barrier();
    for (int m = 0; m < ITEMS; m++) {
        uint j = t + uint(m * THREADS);
        if (j < block_n) vals_out[dst[m]] = s_key[j];
    }
#else
    for (int i = 0; i < ITEMS; i++) {
        uint idx = start + w * uint(SG * ITEMS) + uint(i * SG) + lane;
        if (idx < n) {
            uint pos = s_wcnt[w * uint(RADIX) + DIGIT(k[i])] + r[i];
            s_key[pos] = k[i];
            s_val[pos] = v[i];
        }
    }
    barrier();
    for (uint j = t; j < block_n; j += uint(THREADS)) {
        uint key = s_key[j];
        uint dst = s_base[DIGIT(key)] + j;
        keys_out[dst] = key;
        vals_out[dst] = s_val[j];
    }
#endif
}
