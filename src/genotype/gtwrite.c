/*
 * gtwrite.c - the genotype segment writer (see gtstore.h for the API and
 * docs/internals/genotype.md for the layout).
 *
 * Each record is classified sample by sample: "regular" calls (diploid
 * 0/0, 0/a, a/a, ./. in the record's phase mode; haploid a and its
 * half-missing spelling a/. as "H" samples) go into per-ALT het and hom
 * sets plus a record-level missing set; anything else is an exception
 * stored verbatim. Sets are Elias-Fano lists or bitmaps, whichever is
 * smaller.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "genotype/gtcodec.h"
#include "genotype/gtformat.h"
#include "genotype/gtstore.h"

typedef struct gt_buf {
    uint8_t *p;
    size_t n, cap;
} gt_buf_t;

static int buf_reserve(gt_buf_t *b, size_t more)
{
    if (b->cap - b->n >= more + PM_GT_PAD)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->n < more + PM_GT_PAD) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static void buf_put(gt_buf_t *b, const void *d, size_t n)
{
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void buf_varint(gt_buf_t *b, uint64_t v) { b->n += gt_put_varint(b->p + b->n, v); }

static void le32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void le64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Appends varint k and the set body; needs 10 + body bytes reserved. */
static void buf_set(gt_buf_t *b, uint32_t n, const uint32_t *x, uint32_t k)
{
    buf_varint(b, k);
    size_t len = gt_set_body_bytes(n, k);
    memset(b->p + b->n, 0, len);
    gt_set_encode(b->p + b->n, n, x, k);
    b->n += len;
}

typedef struct gt_ientry {
    int64_t first_pos, last_pos;
    uint64_t offset;
    uint32_t payload_len, crc, n_records, n_variants;
    uint64_t first_record;
} gt_ientry_t;

struct pm_gtw {
    pm_ctx_t *ctx;
    pm_afile_t *f;
    char *path;
    uint32_t n;
    int failed;
    pm_gtw_stats_t st;
    int have_last;
    int64_t last_pos;

    /* current block */
    gt_buf_t site, gt;
    uint32_t b_records, b_variants;
    int64_t b_first, b_last;
    long prev_h_off; /* gt offset of the record holding the last explicit H set, -1 none */

    gt_ientry_t *idx;
    size_t n_idx, cap_idx;

    /* per-record scratch, n_samples each */
    uint8_t *val, *ph; /* carrier values (by carrier), phase bits (by sample) */
    uint8_t *flag;     /* not hom-ref (by sample), n + 8 */
    uint32_t *alt;     /* carrier ALTs (by carrier) */
    uint32_t *het, *hom, *miss, *hset, *exc, *prevh;
    uint32_t n_prevh;
    uint64_t *prevh_bm;
    uint32_t *cnt; /* 2 * (GT_MAX_ALT + 1) + 1 bucket counters */
    size_t nw;
    uint64_t *ring; /* GT_RING slots of het and hom bitmaps, 2 * nw words each */
    int64_t ring_ord[GT_RING];
    uint32_t *d1, *d2;
    gt_buf_t excv;
};

static int gtw_oom(pm_gtw_t *w) { return pm_err(w->ctx, PM_ENOMEM, "out of memory writing '%s'", w->path); }

static int write_header(pm_gtw_t *w, const char *chrom)
{
    size_t cl = strlen(chrom);
    uint8_t hdr[GT_HEADER_FIXED + GT_MAX_CHROM + 8];
    memset(hdr, 0, sizeof hdr);
    memcpy(hdr, GT_MAGIC, 8);
    le32(hdr + 8, GT_VERSION);
    le32(hdr + 12, w->n);
    le32(hdr + 16, (uint32_t)cl);
    memcpy(hdr + GT_HEADER_FIXED, chrom, cl);
    uint32_t crc = pm_gt_crc32c(0, hdr, 20);
    crc = pm_gt_crc32c(crc, hdr + GT_HEADER_FIXED, cl);
    le32(hdr + 20, crc);
    size_t len = (GT_HEADER_FIXED + cl + 7) & ~(size_t)7;
    return pm_afile_write(w->f, hdr, len);
}

int pm_gtw_open(pm_ctx_t *ctx, const char *path, const char *chrom, uint32_t n_samples, pm_gtw_t **out)
{
    *out = NULL;
    if (!path || !chrom || !*chrom)
        return pm_err(ctx, PM_EUSAGE, "genotype segment needs a path and a contig name");
    if (strlen(chrom) > GT_MAX_CHROM)
        return pm_err(ctx, PM_ELIMIT, "contig name longer than %d bytes", GT_MAX_CHROM);
    if (n_samples > (UINT32_MAX >> 4))
        return pm_err(ctx, PM_ELIMIT, "too many samples (%u)", n_samples);
    pm_gtw_t *w = calloc(1, sizeof *w);
    if (!w)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    w->ctx = ctx;
    w->n = n_samples;
    w->prev_h_off = -1;
    w->st.first_pos = w->st.last_pos = -1;
    size_t n1 = n_samples ? n_samples : 1;
    w->path = strdup(path);
    w->val = malloc(n1);
    w->ph = malloc(n1);
    w->flag = calloc(n1 + 8, 1);
    w->alt = malloc(n1 * sizeof *w->alt);
    w->het = malloc(n1 * sizeof(uint32_t));
    w->hom = malloc(n1 * sizeof(uint32_t));
    w->miss = malloc(n1 * sizeof(uint32_t));
    w->hset = malloc(n1 * sizeof(uint32_t));
    w->exc = malloc(n1 * sizeof(uint32_t));
    w->prevh = malloc(n1 * sizeof(uint32_t));
    w->prevh_bm = calloc((n1 + 63) / 64, sizeof(uint64_t));
    w->cnt = malloc((2 * (GT_MAX_ALT + 1) + 1) * sizeof(uint32_t));
    w->nw = (n_samples + 63) / 64;
    w->ring = malloc(GT_RING * 2 * (w->nw ? w->nw : 1) * sizeof(uint64_t));
    w->d1 = malloc(n1 * sizeof(uint32_t));
    w->d2 = malloc(n1 * sizeof(uint32_t));
    for (int i = 0; i < GT_RING; i++)
        w->ring_ord[i] = -1;
    if (!w->ring || !w->d1 || !w->d2 || !w->path || !w->val || !w->ph || !w->flag || !w->alt || !w->het || !w->hom || !w->miss ||
        !w->hset || !w->exc || !w->prevh || !w->prevh_bm || !w->cnt) {
        pm_gtw_abort(w);
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    }
    int rc = pm_afile_open(ctx, path, 0644, &w->f);
    if (rc < 0) {
        pm_gtw_abort(w);
        return rc;
    }
    if ((rc = write_header(w, chrom)) < 0) {
        pm_gtw_abort(w);
        return rc;
    }
    *out = w;
    return 0;
}

static int flush_block(pm_gtw_t *w)
{
    if (w->b_records == 0)
        return 0;
    if (w->n_idx == w->cap_idx) {
        size_t cap = w->cap_idx ? 2 * w->cap_idx : 64;
        gt_ientry_t *p = realloc(w->idx, cap * sizeof *p);
        if (!p)
            return gtw_oom(w);
        w->idx = p;
        w->cap_idx = cap;
    }
    size_t payload = GT_PAYLOAD_HEADER + w->site.n + w->gt.n;
    if (payload > GT_MAX_PAYLOAD)
        return pm_err(w->ctx, PM_ELIMIT, "'%s': genotype block larger than %u bytes", w->path, GT_MAX_PAYLOAD);
    uint8_t ph[GT_PAYLOAD_HEADER] = {0};
    le32(ph, w->b_records);
    le32(ph + 4, w->b_variants);
    le64(ph + 8, (uint64_t)w->b_first);
    le32(ph + 16, (uint32_t)w->site.n);
    uint32_t crc = pm_gt_crc32c(0, ph, sizeof ph);
    crc = pm_gt_crc32c(crc, w->site.p, w->site.n);
    crc = pm_gt_crc32c(crc, w->gt.p, w->gt.n);

    uint8_t bh[GT_BLOCK_HEADER];
    le32(bh, GT_BLOCK_MAGIC);
    le32(bh + 4, (uint32_t)payload);
    le32(bh + 8, crc);
    le32(bh + 12, w->b_records);
    gt_ientry_t *e = &w->idx[w->n_idx];
    e->first_pos = w->b_first;
    e->last_pos = w->b_last;
    e->offset = pm_afile_size(w->f);
    e->payload_len = (uint32_t)payload;
    e->crc = crc;
    e->n_records = w->b_records;
    e->n_variants = w->b_variants;
    e->first_record = w->st.records - w->b_records;
    static const uint8_t zero[8];
    size_t pad = (8 - (GT_BLOCK_HEADER + payload) % 8) % 8;
    int rc;
    if ((rc = pm_afile_write(w->f, bh, sizeof bh)) < 0 || (rc = pm_afile_write(w->f, ph, sizeof ph)) < 0 ||
        (rc = pm_afile_write(w->f, w->site.p, w->site.n)) < 0 ||
        (rc = pm_afile_write(w->f, w->gt.p, w->gt.n)) < 0 || (rc = pm_afile_write(w->f, zero, pad)) < 0)
        return rc;
    w->n_idx++;
    w->site.n = w->gt.n = 0;
    w->b_records = w->b_variants = 0;
    w->prev_h_off = -1;
    for (int i = 0; i < GT_RING; i++)
        w->ring_ord[i] = -1;
    return 0;
}

static int bad(pm_gtw_t *w, const pm_gt_record_t *rec, const char *what)
{
    return pm_err(w->ctx, PM_EINPUT, "'%s': record at position %lld: %s", w->path, (long long)rec->pos, what);
}

/* Second-entry code of a haploid-form call, or -1 when y is an allele. */
static int hcode(int32_t y)
{
    if (y == PM_GT_VECTOR_END)
        return GT_HFORM_END;
    if (y == 0)
        return GT_HFORM_MISS;
    if (y == 1)
        return GT_HFORM_MISSP;
    return -1;
}

/* The lists one record's samples fall into. */
typedef struct gt_lists {
    int pmode, hform;
    uint32_t nmiss, nh, nexc, ncar; /* ncar: carriers (val 1 or 2) */
} gt_lists_t;

/* Checks every entry: vector_end, or >= 0 with an allele index <= A.
 * Branch-free on unsigned values (a negative entry is a huge one) so that
 * it vectorises: this runs over every genotype of the file. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("O3")))
#endif
static int entries_valid(const int32_t *gt, size_t len, int A)
{
    const uint32_t lim = 2u * (uint32_t)A + 3u, ve = (uint32_t)PM_GT_VECTOR_END;
    uint32_t bad = 0;
    for (size_t j = 0; j < len; j++) {
        uint32_t u = (uint32_t)gt[j];
        bad |= (uint32_t)(u > lim) & (uint32_t)(u != ve);
    }
    return !bad;
}

/* Diploid phase vote over the samples whose second entry is an allele,
 * branch-free (vectorises). Returns 1 when some sample's second entry is
 * not an allele (vector_end or missing: the haploid-form vote is needed). */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("O3")))
#endif
static int phase_vote2(const int32_t *gt, uint32_t n, uint32_t *hv, uint32_t *ph_yes,
                       uint32_t *ph_all)
{
    uint32_t yes = 0, all = 0;
    for (uint32_t i = 0; i < n; i++) {
        int32_t y = gt[2 * (size_t)i + 1];
        uint32_t c = (uint32_t)(y != PM_GT_VECTOR_END) & (uint32_t)((y >> 1) != 0);
        all += c;
        yes += c & (uint32_t)y;
    }
    *ph_yes = yes;
    *ph_all = all;
    if (all == n)
        return 0;
    /* haploid-form vote over the others (second entry vector_end, 0 or 1)
     * for a first entry that is an unphased allele, or missing with
     * vector_end; few samples get past the first test */
    for (uint32_t i = 0; i < n; i++) {
        int32_t x = gt[2 * (size_t)i], y = gt[2 * (size_t)i + 1];
        if (y != PM_GT_VECTOR_END && (y >> 1) != 0)
            continue;
        int hc = hcode(y);
        if (x < 0 || (x & 1) || (x == 0 && hc != GT_HFORM_END))
            continue;
        hv[hc]++;
    }
    return 1;
}

/* flag[i] = 0 for a hom-ref diploid call (2, refy), 1 otherwise. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("O3")))
#endif
static void homref_flags(const int32_t *gt, uint32_t n, int32_t refy, uint8_t *flag)
{
    for (uint32_t i = 0; i < n; i++)
        flag[i] = (uint8_t)((gt[2 * (size_t)i] != 2) | (gt[2 * (size_t)i + 1] != refy));
}

/* Adds sample i as a carrier of ALT b (1-based) with value val (1 het, 2
 * hom) and phase bit ph. */
static inline void add_carrier(pm_gtw_t *w, gt_lists_t *L, uint32_t i, int val, int b, int ph)
{
    w->het[L->ncar] = i;
    w->val[L->ncar] = (uint8_t)val;
    w->alt[L->ncar] = (uint32_t)b;
    w->ph[i] = (uint8_t)ph;
    L->ncar++;
}

/* Classifies every sample of rec: missing, haploid-form and exception
 * lists, exception vectors in w->excv, and carriers in w->het/val/alt
 * (sample order). */
static int classify(pm_gtw_t *w, const pm_gt_record_t *rec, gt_lists_t *L)
{
    const uint32_t n = w->n;
    const int P = rec->ploidy, A = rec->n_alt;
    const int32_t *gt = rec->gt;
    memset(L, 0, sizeof *L);
    L->hform = -1;
    if (!entries_valid(gt, (size_t)n * P, A)) {
        for (size_t j = 0; j < (size_t)n * P; j++) {
            int32_t v = gt[j];
            if (v != PM_GT_VECTOR_END && v < 0)
                return bad(w, rec, "invalid genotype encoding");
        }
        return bad(w, rec, "genotype allele index out of range");
    }
    /* votes: the phase of diploid calls, the spelling of haploid ones */
    if (P == 2) {
        uint32_t ph_yes, ph_all, hv[4] = {0, 0, 0, 0};
        phase_vote2(gt, n, hv, &ph_yes, &ph_all);
        L->pmode = ph_yes * 2 > ph_all;
        if (hv[0] | hv[1] | hv[2]) {
            L->hform = 0;
            for (int c = 1; c < 3; c++)
                if (hv[c] > hv[L->hform])
                    L->hform = c;
        }
    } else if (P > 2) {
        uint32_t ph_yes = 0, ph_all = 0, hv[4] = {0, 0, 0, 0};
        for (uint32_t i = 0; i < n; i++) {
            const int32_t *e = gt + (size_t)i * P;
            int32_t x = e[0], y = e[1];
            if (y != PM_GT_VECTOR_END && (y >> 1) != 0) {
                ph_all++;
                ph_yes += (uint32_t)(y & 1);
                continue;
            }
            int hc = hcode(y);
            if (x < 0 || (x & 1) || (x == 0 && hc != GT_HFORM_END))
                continue;
            int tail = 1;
            for (int j = 2; j < P; j++)
                tail &= e[j] == PM_GT_VECTOR_END;
            hv[hc] += (uint32_t)tail;
        }
        L->pmode = ph_yes * 2 > ph_all;
        if (hv[0] | hv[1] | hv[2]) {
            L->hform = 0;
            for (int c = 1; c < 3; c++)
                if (hv[c] > hv[L->hform])
                    L->hform = c;
        }
    }
    const int pmode = L->pmode, hform = L->hform;
    const int32_t refy = 2 | pmode;
    w->excv.n = 0;
    if (P == 2 && n >= 64) /* hom-ref calls are skipped eight at a time */
        homref_flags(gt, n, refy, w->flag);
    const int skip = P == 2 && n >= 64;
    for (uint32_t i = 0; i < n; i++) {
        if (skip) {
            if (!(i & 7) && i + 8 <= n) {
                uint64_t f;
                memcpy(&f, w->flag + i, 8);
                if (!f) {
                    i += 7;
                    continue;
                }
            }
            if (!w->flag[i])
                continue;
        }
        const int32_t *e = gt + (size_t)i * P;
        int32_t x = e[0];
        if (P == 1) {
            if (x == 2)
                continue;
            if (x == 0) {
                w->miss[L->nmiss++] = i;
                continue;
            }
            if (x > 2 && !(x & 1)) {
                add_carrier(w, L, i, 1, (x >> 1) - 1, 0);
                continue;
            }
            goto exception;
        }
        int32_t y = e[1];
        if (P > 2) {
            int tail = 1;
            for (int j = 2; j < P; j++)
                tail &= e[j] == PM_GT_VECTOR_END;
            if (!tail)
                goto exception;
        }
        if (x == 2 && y == refy) /* hom-ref, by far the most common call */
            continue;
        if (x < 0 || (x & 1))
            goto exception;
        int hc = hcode(y);
        if (hc >= 0) {
            int is_h = hform >= 0 && hc == hform;
            if (x == 0) {
                if (y != PM_GT_VECTOR_END && y == pmode) {
                    /* ./. : diploid missing, or missing in haploid form;
                     * either decodes the same, so follow the previous set */
                    if (is_h && ((w->prevh_bm[i >> 6] >> (i & 63)) & 1))
                        w->hset[L->nh++] = i;
                    w->miss[L->nmiss++] = i;
                    continue;
                }
                if (is_h) {
                    w->hset[L->nh++] = i;
                    w->miss[L->nmiss++] = i;
                    continue;
                }
                goto exception;
            }
            if (!is_h)
                goto exception;
            w->hset[L->nh++] = i;
            if (x > 2)
                add_carrier(w, L, i, 1, (x >> 1) - 1, 0);
            continue;
        }
        if ((y & 1) != pmode || x == 0)
            goto exception;
        int bx = (x >> 1) - 1, by = (y >> 1) - 1;
        if (bx == by) {
            add_carrier(w, L, i, 2, bx, 0); /* bx == 0 was the fast path */
            continue;
        }
        if (bx == 0) {
            add_carrier(w, L, i, 1, by, 0);
            continue;
        }
        if (by == 0 && pmode) {
            add_carrier(w, L, i, 1, bx, 1);
            continue;
        }
    exception:
        w->exc[L->nexc++] = i;
        if (buf_reserve(&w->excv, (size_t)P * 10) < 0)
            return gtw_oom(w);
        for (int j = 0; j < P; j++)
            buf_varint(&w->excv, e[j] == PM_GT_VECTOR_END ? 0 : (uint64_t)e[j] + 1);
    }
    return 0;
}

/* Maximum bytes a record's genotype data can take, for reservations. */
static size_t record_bound(uint32_t n, int P, int A, size_t excv)
{
    /* a set body is at most twice a bitmap (see gt_set_is_bitmap) */
    size_t set = 10 + 2 * gt_bm_bytes(n) + 16;
    size_t b = 32 + 3 * set + excv + 10;
    b += (size_t)A * (2 * set + n / 8 + 24);
    (void)P;
    return b;
}

static size_t set_cost(uint32_t n, uint32_t k) { return gt_varint_len(k) + gt_set_body_bytes(n, k); }

/* Lists the set bits of a[] ^ b[] into out; returns how many. */
static uint32_t xor_list(const uint64_t *a, const uint64_t *b, size_t nw, uint32_t *out)
{
    uint32_t k = 0;
    for (size_t i = 0; i < nw; i++) {
        uint64_t x = a[i] ^ b[i];
        while (x) {
            out[k++] = (uint32_t)(i * 64 + (unsigned)__builtin_ctzll(x));
            x &= x - 1;
        }
    }
    return k;
}

#if defined(__x86_64__) && !defined(PM_NO_CLONES)
__attribute__((target_clones("popcnt", "default")))
#endif
static uint32_t xor_count(const uint64_t *a, const uint64_t *b, size_t nw)
{
    uint32_t k = 0;
    for (size_t i = 0; i < nw; i++)
        k += (uint32_t)__builtin_popcountll(a[i] ^ b[i]);
    return k;
}

/* Appends one split (ALT) of the current record: either plain
 * (varint 0, het set, hom set) or LD coded against split ord - d
 * (varint d, het XOR set, hom XOR set), then the phase bits of its hets. */
static void encode_split(pm_gtw_t *w, int64_t ord, const uint32_t *het, uint32_t kh, const uint32_t *hom,
                         uint32_t km, int pmode)
{
    const uint32_t n = w->n;
    const size_t nw = w->nw;
    uint64_t *hb = w->ring + (size_t)(ord % GT_RING) * 2 * nw, *mb = hb + nw;
    memset(hb, 0, 2 * nw * sizeof *hb);
    for (uint32_t j = 0; j < kh; j++)
        hb[het[j] >> 6] |= (uint64_t)1 << (het[j] & 63);
    for (uint32_t j = 0; j < km; j++)
        mb[hom[j] >> 6] |= (uint64_t)1 << (hom[j] & 63);
    w->ring_ord[ord % GT_RING] = ord;

    size_t plain = set_cost(n, kh) + set_cost(n, km);
    int best_d = 0;
    size_t best = plain;
    if (plain >= GT_LD_MIN_BYTES) {
        for (int d = 1; d <= GT_LD_WINDOW && d <= ord; d++) {
            int64_t u = ord - d;
            if (w->ring_ord[u % GT_RING] != u)
                continue;
            const uint64_t *uh = w->ring + (size_t)(u % GT_RING) * 2 * nw, *um = uh + nw;
            size_t c = 1 + set_cost(n, xor_count(hb, uh, nw)) + set_cost(n, xor_count(mb, um, nw));
            if (pmode)
                c += gt_varint_len(kh);
            if (c < best) {
                best = c;
                best_d = d;
            }
        }
        if (best * 4 > plain * 3) /* not worth the materialisation */
            best_d = 0;
    }
    if (best_d) {
        int64_t u = ord - best_d;
        const uint64_t *uh = w->ring + (size_t)(u % GT_RING) * 2 * nw, *um = uh + nw;
        uint32_t k1 = xor_list(hb, uh, nw, w->d1), k2 = xor_list(mb, um, nw, w->d2);
        buf_varint(&w->gt, (uint64_t)best_d);
        buf_set(&w->gt, n, w->d1, k1);
        buf_set(&w->gt, n, w->d2, k2);
        if (pmode)
            buf_varint(&w->gt, kh);
    } else {
        buf_varint(&w->gt, 0);
        buf_set(&w->gt, n, het, kh);
        buf_set(&w->gt, n, hom, km);
    }
    if (pmode && kh) {
        size_t nb = (kh + 7) / 8;
        uint8_t *pb = w->gt.p + w->gt.n;
        memset(pb, 0, nb);
        for (uint32_t j = 0; j < kh; j++)
            if (w->ph[het[j]])
                pb[j >> 3] |= (uint8_t)(1u << (j & 7));
        w->gt.n += nb;
    }
}

static int encode_genotypes(pm_gtw_t *w, const pm_gt_record_t *rec)
{
    const uint32_t n = w->n;
    const int P = rec->ploidy, A = rec->n_alt;
    size_t rec_off = w->gt.n;
    int rc;
    gt_lists_t L;
    memset(&L, 0, sizeof L);
    L.hform = -1;
    w->excv.n = 0;
    if (P > 0 && n > 0 && (rc = classify(w, rec, &L)) < 0)
        return rc;
    const uint32_t nmiss = L.nmiss, nh = L.nh, nexc = L.nexc;
    int hkind = GT_H_NONE;
    if (P == 1)
        hkind = GT_H_ALL;
    else if (nh > 0) {
        hkind = GT_H_EXPLICIT;
        if (w->prev_h_off >= 0 && nh == w->n_prevh && memcmp(w->hset, w->prevh, nh * sizeof(uint32_t)) == 0)
            hkind = GT_H_REF;
    }
    if (buf_reserve(&w->gt, record_bound(n, P, A, w->excv.n)) < 0)
        return gtw_oom(w);
    uint8_t flags = (uint8_t)((L.pmode ? GT_F_PHASED : 0) | (hkind << GT_F_H_SHIFT) | (nexc ? GT_F_EXC : 0));
    w->gt.p[w->gt.n++] = flags;
    buf_varint(&w->gt, (uint64_t)P);
    if (P == 0) {
        for (int a = 0; a < A; a++) {
            int64_t ord = (int64_t)w->b_variants + a;
            uint64_t *hb = w->ring + (size_t)(ord % GT_RING) * 2 * w->nw;
            memset(hb, 0, 2 * w->nw * sizeof *hb);
            w->ring_ord[ord % GT_RING] = ord;
        }
        return 0;
    }
    if (hkind == GT_H_EXPLICIT || hkind == GT_H_REF)
        w->gt.p[w->gt.n++] = (uint8_t)L.hform;
    if (hkind == GT_H_EXPLICIT) {
        buf_set(&w->gt, n, w->hset, nh);
        /* remember for later records (and for classifying ./. calls) */
        for (uint32_t j = 0; j < w->n_prevh; j++)
            w->prevh_bm[w->prevh[j] >> 6] = 0;
        memcpy(w->prevh, w->hset, nh * sizeof(uint32_t));
        w->n_prevh = nh;
        for (uint32_t j = 0; j < nh; j++)
            w->prevh_bm[w->prevh[j] >> 6] |= (uint64_t)1 << (w->prevh[j] & 63);
        w->prev_h_off = (long)rec_off;
    } else if (hkind == GT_H_REF) {
        buf_varint(&w->gt, rec_off - (size_t)w->prev_h_off);
    }
    buf_set(&w->gt, n, w->miss, nmiss);
    if (nexc) {
        buf_set(&w->gt, n, w->exc, nexc);
        buf_varint(&w->gt, w->excv.n);
        buf_put(&w->gt, w->excv.p, w->excv.n);
    }

    /* per-ALT het and hom lists from the carriers (in sample order): a
     * counting sort by ALT and value; slot 2 * b + (val - 1) */
    const uint32_t nc = L.ncar;
    uint32_t *cnt = w->cnt; /* 2 * (A + 1) + 1 buckets */
    const int nbk = 2 * (A + 1);
    memset(cnt, 0, (size_t)(nbk + 1) * sizeof *cnt);
    for (uint32_t j = 0; j < nc; j++)
        cnt[2 * w->alt[j] + w->val[j] - 1 + 1]++;
    for (int k = 1; k <= nbk; k++)
        cnt[k] += cnt[k - 1];
    uint32_t *sorted = w->hom; /* the carriers, grouped by bucket */
    for (uint32_t j = 0; j < nc; j++)
        sorted[cnt[2 * w->alt[j] + w->val[j] - 1]++] = w->het[j];
    /* cnt[k] is now the end of bucket k */
    for (int a = 1; a <= A; a++) {
        uint32_t hs = cnt[2 * a - 1], he = cnt[2 * a], me = cnt[2 * a + 1];
        encode_split(w, (int64_t)w->b_variants + a - 1, sorted + hs, he - hs, sorted + he, me - he, L.pmode);
    }
    return 0;
}

static int check_string(pm_gtw_t *w, const pm_gt_record_t *rec, const char *s, const char *what)
{
    if (!s)
        return bad(w, rec, what);
    if (strlen(s) > GT_MAX_STRING)
        return pm_err(w->ctx, PM_ELIMIT, "'%s': record at position %lld: %s longer than %u bytes", w->path,
                      (long long)rec->pos, what, GT_MAX_STRING);
    return 0;
}

int pm_gtw_add(pm_gtw_t *w, const pm_gt_record_t *rec)
{
    int rc;
    if (w->failed)
        return pm_err(w->ctx, PM_EUSAGE, "'%s': writer failed earlier", w->path);
    if (rec->n_alt < 1 || rec->n_alt > GT_MAX_ALT)
        return pm_err(w->ctx, rec->n_alt < 1 ? PM_EINPUT : PM_ELIMIT,
                      "'%s': record at position %lld: %d ALT alleles (1 to %d allowed)", w->path,
                      (long long)rec->pos, rec->n_alt, GT_MAX_ALT);
    if (rec->ploidy < 0 || rec->ploidy > GT_MAX_PLOIDY)
        return pm_err(w->ctx, PM_ELIMIT, "'%s': record at position %lld: ploidy %d (0 to %d allowed)", w->path,
                      (long long)rec->pos, rec->ploidy, GT_MAX_PLOIDY);
    if (rec->ploidy > 0 && w->n > 0 && !rec->gt)
        return bad(w, rec, "no genotypes given");
    if (rec->pos < 0)
        return bad(w, rec, "negative position");
    if (w->have_last && rec->pos < w->last_pos)
        return pm_err(w->ctx, PM_EINPUT, "'%s': record at position %lld comes after position %lld (not sorted)",
                      w->path, (long long)rec->pos, (long long)w->last_pos);
    if ((rc = check_string(w, rec, rec->id ? rec->id : ".", "ID")) < 0 ||
        (rc = check_string(w, rec, rec->ref, "REF")) < 0)
        return rc;
    if (!rec->alt)
        return bad(w, rec, "no ALT alleles given");
    for (int a = 0; a < rec->n_alt; a++)
        if ((rc = check_string(w, rec, rec->alt[a], "ALT")) < 0)
            return rc;

    if (w->b_records >= GT_BLOCK_RECORDS || w->site.n + w->gt.n >= GT_BLOCK_BYTES) {
        if ((rc = flush_block(w)) < 0) {
            w->failed = 1;
            return rc;
        }
    }
    size_t site0 = w->site.n, gt0 = w->gt.n;
    long prev_h0 = w->prev_h_off;
    if ((rc = encode_genotypes(w, rec)) < 0) {
        w->gt.n = gt0;
        if (w->prev_h_off != prev_h0)
            w->failed = 1; /* the remembered H set changed: cannot roll back cheaply */
        return rc;
    }
    const char *id = rec->id ? rec->id : ".";
    size_t need = 60 + strlen(id) + strlen(rec->ref);
    for (int a = 0; a < rec->n_alt; a++)
        need += 10 + strlen(rec->alt[a]);
    if (buf_reserve(&w->site, need) < 0) {
        w->gt.n = gt0;
        w->failed = 1;
        return gtw_oom(w);
    }
    if (w->b_records == 0)
        w->b_first = w->b_last = rec->pos;
    buf_varint(&w->site, (uint64_t)(rec->pos - w->b_last));
    size_t l = strlen(id);
    buf_varint(&w->site, l);
    buf_put(&w->site, id, l);
    l = strlen(rec->ref);
    buf_varint(&w->site, l);
    buf_put(&w->site, rec->ref, l);
    buf_varint(&w->site, (uint64_t)rec->n_alt);
    for (int a = 0; a < rec->n_alt; a++) {
        l = strlen(rec->alt[a]);
        buf_varint(&w->site, l);
        buf_put(&w->site, rec->alt[a], l);
    }
    buf_varint(&w->site, w->gt.n - gt0);
    (void)site0;
    w->b_last = rec->pos;
    w->b_records++;
    w->b_variants += (uint32_t)rec->n_alt;
    w->st.records++;
    w->st.variants += (uint64_t)rec->n_alt;
    if (!w->have_last)
        w->st.first_pos = rec->pos;
    w->st.last_pos = rec->pos;
    w->have_last = 1;
    w->last_pos = rec->pos;
    return 0;
}

static void gtw_free(pm_gtw_t *w)
{
    free(w->path);
    free(w->site.p);
    free(w->gt.p);
    free(w->idx);
    free(w->val);
    free(w->ph);
    free(w->flag);
    free(w->alt);
    free(w->het);
    free(w->hom);
    free(w->miss);
    free(w->hset);
    free(w->exc);
    free(w->prevh);
    free(w->prevh_bm);
    free(w->cnt);
    free(w->ring);
    free(w->d1);
    free(w->d2);
    free(w->excv.p);
    free(w);
}

int pm_gtw_commit(pm_gtw_t *w, pm_gtw_stats_t *stats)
{
    int rc;
    if (w->failed) {
        rc = pm_err(w->ctx, PM_EUSAGE, "'%s': writer failed earlier; not committed", w->path);
        pm_gtw_abort(w);
        return rc;
    }
    if ((rc = flush_block(w)) < 0) {
        pm_gtw_abort(w);
        return rc;
    }
    size_t ilen = 8 + w->n_idx * GT_INDEX_ENTRY;
    uint8_t *ib = calloc(1, ilen);
    if (!ib) {
        rc = gtw_oom(w);
        pm_gtw_abort(w);
        return rc;
    }
    le32(ib, (uint32_t)w->n_idx);
    for (size_t b = 0; b < w->n_idx; b++) {
        uint8_t *p = ib + 8 + b * GT_INDEX_ENTRY;
        const gt_ientry_t *e = &w->idx[b];
        le64(p, (uint64_t)e->first_pos);
        le64(p + 8, (uint64_t)e->last_pos);
        le64(p + 16, e->offset);
        le32(p + 24, e->payload_len);
        le32(p + 28, e->crc);
        le32(p + 32, e->n_records);
        le32(p + 36, e->n_variants);
        le64(p + 40, e->first_record);
    }
    uint8_t tr[GT_TRAILER];
    le64(tr, pm_afile_size(w->f));
    le64(tr + 8, ilen);
    le32(tr + 16, pm_gt_crc32c(0, ib, ilen));
    le32(tr + 20, pm_gt_crc32c(0, tr, 20));
    memcpy(tr + 24, GT_TRAILER_MAGIC, 8);
    rc = pm_afile_write(w->f, ib, ilen);
    free(ib);
    if (rc >= 0)
        rc = pm_afile_write(w->f, tr, sizeof tr);
    if (rc < 0) {
        pm_gtw_abort(w);
        return rc;
    }
    w->st.bytes = pm_afile_size(w->f);
    pm_gtw_stats_t st = w->st;
    rc = pm_afile_commit(w->f);
    w->f = NULL;
    gtw_free(w);
    if (rc < 0)
        return rc;
    if (stats)
        *stats = st;
    return 0;
}

void pm_gtw_abort(pm_gtw_t *w)
{
    if (!w)
        return;
    pm_afile_abort(w->f);
    gtw_free(w);
}
