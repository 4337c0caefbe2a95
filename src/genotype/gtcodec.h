/*
 * gtcodec.h - the small codecs under the genotype segment format: LEB128
 * varints, CRC-32C, and sample sets stored either as Elias-Fano coded
 * sorted lists or as bitmaps (whichever is smaller, decided from the set
 * size alone so no tag byte is needed). Internal to src/genotype.
 *
 * Decoders read up to 8 bytes past the end of a structure (unaligned
 * 64-bit loads), so every buffer they read must carry PM_GT_PAD bytes of
 * slack. Bounds are still checked against the logical end.
 */
#ifndef PM_GENOTYPE_GTCODEC_H
#define PM_GENOTYPE_GTCODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PM_GT_PAD 16

static inline uint64_t gt_load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v; /* little-endian hosts only (checked in gtstore.c) */
}

static inline void gt_store64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* ---- varints ---- */

/* Decodes a varint from [*p, end); returns 0 on success, -1 when truncated
 * or longer than 10 bytes. */
static inline int gt_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    const uint8_t *q = *p;
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (q >= end)
            return -1;
        uint8_t b = *q++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *p = q;
            *out = v;
            return 0;
        }
    }
    return -1;
}

static inline size_t gt_varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline size_t gt_put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* ---- sample sets ---- */

/* Bits of each Elias-Fano low part for k elements below n (k >= 1). */
static inline unsigned gt_ef_l(uint32_t n, uint32_t k)
{
    uint32_t q = n / k;
    return q > 1 ? 31u - (unsigned)__builtin_clz(q) : 0u;
}

static inline size_t gt_ef_low_bytes(uint32_t n, uint32_t k)
{
    return ((uint64_t)k * gt_ef_l(n, k) + 7) / 8;
}

static inline size_t gt_ef_high_bits(uint32_t n, uint32_t k)
{
    return (size_t)k + ((n - 1) >> gt_ef_l(n, k)) + 1;
}

static inline size_t gt_ef_bytes(uint32_t n, uint32_t k)
{
    return gt_ef_low_bytes(n, k) + (gt_ef_high_bits(n, k) + 7) / 8;
}

/* Bitmaps are whole 64-bit words so that they can be ANDed with masks. */
static inline size_t gt_bm_bytes(uint32_t n) { return (size_t)((n + 63) / 64) * 8; }

/* The encoding a set of k elements of [0, n) uses: 1 = bitmap, 0 = EF.
 * Bitmaps win on size past about n/4 elements; GT_BM_BIAS makes them win
 * earlier, because counting over a bitmap costs per word, not per
 * element (see docs/internals/genotype.md). */
#ifndef GT_BM_BIAS
#define GT_BM_BIAS 6
#endif
static inline int gt_set_is_bitmap(uint32_t n, uint32_t k)
{
    return k > 0 && gt_ef_bytes(n, k) * GT_BM_BIAS > gt_bm_bytes(n) * 2;
}

/* Bytes of the set body after its varint k. */
static inline size_t gt_set_body_bytes(uint32_t n, uint32_t k)
{
    if (k == 0)
        return 0;
    return gt_set_is_bitmap(n, k) ? gt_bm_bytes(n) : gt_ef_bytes(n, k);
}

/* Writes the body of a set of k sorted distinct elements of [0, n) into
 * out, which must hold gt_set_body_bytes(n, k) zeroed bytes. */
static inline void gt_set_encode(uint8_t *out, uint32_t n, const uint32_t *x, uint32_t k)
{
    if (k == 0)
        return;
    if (gt_set_is_bitmap(n, k)) {
        for (uint32_t i = 0; i < k; i++)
            out[x[i] >> 3] |= (uint8_t)(1u << (x[i] & 7));
        return;
    }
    unsigned l = gt_ef_l(n, k);
    uint8_t *lo = out, *hi = out + gt_ef_low_bytes(n, k);
    for (uint32_t i = 0; i < k; i++) {
        if (l) {
            uint64_t bit = (uint64_t)i * l;
            uint64_t low = x[i] & ((1u << l) - 1);
            for (unsigned b = 0; b < l; b++, bit++)
                if (low >> b & 1)
                    lo[bit >> 3] |= (uint8_t)(1u << (bit & 7));
        }
        uint64_t h = (uint64_t)(x[i] >> l) + i;
        hi[h >> 3] |= (uint8_t)(1u << (h & 7));
    }
}

/* A set as found in a buffer. */
typedef struct gt_set {
    const uint8_t *p; /* body */
    uint32_t k;
    uint8_t bitmap;
} gt_set_t;

/* Reads a set header and body reference from [*p, end). Returns 0, or -1
 * if it does not fit or k > n. */
static inline int gt_set_read(const uint8_t **p, const uint8_t *end, uint32_t n, gt_set_t *s)
{
    uint64_t k;
    if (gt_get_varint(p, end, &k) < 0 || k > n)
        return -1;
    s->k = (uint32_t)k;
    s->bitmap = (uint8_t)gt_set_is_bitmap(n, s->k);
    size_t len = gt_set_body_bytes(n, s->k);
    if ((size_t)(end - *p) < len)
        return -1;
    s->p = *p;
    *p += len;
    return 0;
}

/* Decodes an EF set into out[k]. Returns 0, or -1 on a malformed body
 * (element >= n or too few elements). */
static inline int gt_ef_decode(const gt_set_t *s, uint32_t n, uint32_t *out)
{
    uint32_t k = s->k;
    if (k == 0)
        return 0;
    unsigned l = gt_ef_l(n, k);
    const uint8_t *lo = s->p, *hi = s->p + gt_ef_low_bytes(n, k);
    size_t hbits = gt_ef_high_bits(n, k);
    uint64_t lmask = ((uint64_t)1 << l) - 1;
    uint32_t i = 0;
    for (size_t w = 0; w * 64 < hbits; w++) {
        uint64_t word = gt_load64(hi + w * 8);
        if ((w + 1) * 64 > hbits)
            word &= ((uint64_t)1 << (hbits - w * 64)) - 1;
        while (word) {
            uint64_t pos = w * 64 + (unsigned)__builtin_ctzll(word);
            word &= word - 1;
            uint64_t bit = (uint64_t)i * l;
            uint64_t low = (gt_load64(lo + (bit >> 3)) >> (bit & 7)) & lmask;
            uint64_t v = ((pos - i) << l) | low;
            if (v >= n)
                return -1;
            out[i++] = (uint32_t)v;
            if (i == k)
                return 0;
        }
    }
    return -1;
}

/* Counts the elements of an EF set whose bit is set in m (n bits).
 * Returns the count, or -1 on a malformed body. */
static inline int64_t gt_ef_count_mask(const gt_set_t *s, uint32_t n, const uint64_t *m)
{
    const uint32_t k = s->k;
    if (k == 0)
        return 0;
    const unsigned l = gt_ef_l(n, k);
    const uint8_t *lo = s->p, *hi = s->p + gt_ef_low_bytes(n, k);
    const size_t hbits = gt_ef_high_bits(n, k);
    const uint64_t lmask = ((uint64_t)1 << l) - 1;
    uint64_t i = 0, bitpos = 0;
    int64_t c = 0;
    for (size_t w = 0; w * 64 < hbits; w++) {
        uint64_t word = gt_load64(hi + w * 8);
        if ((w + 1) * 64 > hbits)
            word &= ((uint64_t)1 << (hbits - w * 64)) - 1;
        uint64_t base = w * 64;
        while (word) {
            uint64_t pos = base + (unsigned)__builtin_ctzll(word);
            word &= word - 1;
            uint64_t low = (gt_load64(lo + (bitpos >> 3)) >> (bitpos & 7)) & lmask;
            bitpos += l;
            uint64_t v = ((pos - i) << l) | low;
            if (v >= n)
                return -1;
            c += (int64_t)((m[v >> 6] >> (v & 63)) & 1);
            if (++i == k)
                return c;
        }
    }
    return -1;
}

/* Decodes any set into out[k] (sorted sample indices). */
static inline int gt_set_decode(const gt_set_t *s, uint32_t n, uint32_t *out)
{
    if (!s->bitmap)
        return gt_ef_decode(s, n, out);
    uint32_t i = 0;
    size_t nw = (n + 63) / 64;
    for (size_t w = 0; w < nw; w++) {
        uint64_t word = gt_load64(s->p + w * 8);
        if ((w + 1) * 64 > n)
            word &= ((uint64_t)1 << (n - w * 64)) - 1;
        while (word) {
            if (i == s->k)
                return -1;
            out[i++] = (uint32_t)(w * 64 + (unsigned)__builtin_ctzll(word));
            word &= word - 1;
        }
    }
    return i == s->k ? 0 : -1;
}

/* ---- CRC-32C (Castagnoli), hardware-accelerated when available ---- */
uint32_t pm_gt_crc32c(uint32_t crc, const void *data, size_t len);

#endif
