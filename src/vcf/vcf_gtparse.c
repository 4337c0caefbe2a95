/* vcf_gtparse.c - the fast path of VCF text ingest (see vcf_gtparse.h). */
#include "vcf/vcf_gtparse.h"

#include <stdlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <string.h>

#define GT_VECTOR_END (INT32_MIN + 1)
#define MAX_PLOIDY 64
#define MAX_ALLELE_DIGITS 6 /* larger allele indices go to htslib */

/* Next tab in [p, end), or end. */
static inline const char *next_tab(const char *p, const char *end)
{
    const char *t = memchr(p, '\t', (size_t)(end - p));
    return t ? t : end;
}

int pm_vcf_split(const char *line, size_t len, pm_vcf_cols_t *c)
{
    const char *end = line + len, *p = line, *t;
    memset(c, 0, sizeof *c);
    /* CHROM */
    t = next_tab(p, end);
    if (t == end || t == p)
        return 0;
    c->chrom = p;
    c->chrom_len = (int)(t - p);
    p = t + 1;
    /* POS: plain digits only */
    int64_t pos = 0;
    int nd = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (++nd > 15)
            return 0;
        pos = pos * 10 + (*p++ - '0');
    }
    if (nd == 0 || p == end || *p != '\t')
        return 0;
    c->pos = pos;
    p++;
    /* ID */
    t = next_tab(p, end);
    if (t == end || t == p)
        return 0;
    c->id = p;
    c->id_len = (int)(t - p);
    p = t + 1;
    /* REF */
    t = next_tab(p, end);
    if (t == end || t == p)
        return 0;
    c->ref = p;
    c->ref_len = (int)(t - p);
    for (const char *q = p; q < t; q++)
        if (*q == ',' || *q == ' ')
            return 0;
    p = t + 1;
    /* ALT: "." or non-empty alleles separated by commas */
    t = next_tab(p, end);
    if (t == end || t == p)
        return 0;
    c->alt = p;
    c->alt_len = (int)(t - p);
    if (c->alt_len == 1 && *p == '.') {
        c->n_allele = 1;
    } else {
        int n = 2;
        const char *a = p;
        for (const char *q = p; q < t; q++) {
            if (*q == ',') {
                if (q == a || (q - a == 1 && *a == '.'))
                    return 0;
                n++;
                a = q + 1;
            } else if (*q == ' ') {
                return 0;
            }
        }
        if (a == t || (t - a == 1 && *a == '.' && n > 2))
            return 0;
        c->n_allele = n;
    }
    p = t + 1;
    /* QUAL, FILTER, INFO: not needed here */
    for (int k = 0; k < 3; k++) {
        t = next_tab(p, end);
        if (t == p)
            return 0;
        if (t == end) {
            if (k < 2)
                return 0;
            return 1; /* 8 columns: no FORMAT, no samples */
        }
        p = t + 1;
    }
    /* FORMAT */
    t = next_tab(p, end);
    if (t == p)
        return 0;
    c->format = p;
    c->format_len = (int)(t - p);
    c->gt_first = c->format_len >= 2 && p[0] == 'G' && p[1] == 'T' &&
                  (c->format_len == 2 || p[2] == ':');
    c->gt_only = c->format_len == 2 && c->gt_first;
    c->n_fmt = 1;
    for (const char *q = p; q < t; q++)
        c->n_fmt += *q == ':';
    c->samples = t == end ? NULL : t + 1;
    return 1;
}

/* Parses one GT sub-field at *pp into x[0..stride); returns the number of
 * alleles, 0 when unrecognised, or -(n) when more than stride alleles. */
static inline int parse_one(const char **pp, const char *end, int32_t *x, int stride)
{
    const char *p = *pp;
    int l = 0;
    int32_t phased = 0;
    for (;;) {
        int32_t v;
        if (p == end)
            return 0;
        char ch = *p;
        if (ch == '.') {
            v = phased;
            p++;
        } else if (ch >= '0' && ch <= '9') {
            uint32_t n = (uint32_t)(ch - '0');
            int nd = 1;
            p++;
            while (p < end && *p >= '0' && *p <= '9') {
                if (++nd > MAX_ALLELE_DIGITS)
                    return 0;
                n = n * 10 + (uint32_t)(*p++ - '0');
            }
            v = (int32_t)((n + 1) << 1) | phased;
        } else {
            return 0;
        }
        if (l < stride)
            x[l] = v;
        l++;
        if (p < end && (*p == '/' || *p == '|')) {
            phased = *p == '|';
            p++;
            continue;
        }
        break;
    }
    if (p < end && *p != '\t' && *p != ':')
        return 0;
    *pp = p;
    return l > stride ? -l : l;
}

/* Skips the rest of a sample column after GT (p at ':'); NULL when it has
 * more sub-fields than FORMAT has keys (htslib refuses such lines). */
static inline const char *skip_rest(const char *p, const char *end, int n_fmt)
{
    int fields = 1;
    while (p < end && *p != '\t') {
        if (*p == ':' && ++fields > n_fmt)
            return NULL;
        p++;
    }
    return p;
}

int pm_vcf_parse_gt(const char *samples, const char *end, int n_in, const int *col_map, int n_out,
                    int n_fmt, int32_t **gt, size_t *cap, int *ploidy)
{
    int stride = *ploidy > 0 ? *ploidy : 2;
    if (!samples || n_in <= 0)
        return 0;
restart:
    if (stride > MAX_PLOIDY)
        return 0;
    if ((size_t)n_out * (size_t)stride > *cap) {
        size_t ncap = (size_t)n_out * (size_t)stride;
        int32_t *ng = realloc(*gt, ncap * sizeof *ng);
        if (!ng)
            return 0;
        *gt = ng;
        *cap = ncap;
    }
    int32_t *buf = *gt;
    const char *p = samples;
    int maxl = 0;
    /* GT-only diploid columns "d/d<TAB>" or "d|d<TAB>" are checked as
     * four bytes at once */
    const int fast4 = stride == 2 && n_fmt == 1;
    for (int i = 0; i < n_in; i++) {
        if (i > 0) {
            if (p == end || *p != '\t')
                return 0; /* too few columns */
            p++;
        }
#ifdef __SSE2__
        /* four such columns (16 bytes, the tab after the fourth included)
         * at once; the tab is left for the next iteration */
        if (fast4 && i + 4 < n_in && end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
            unsigned dig = (unsigned)_mm_movemask_epi8(
                _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
            unsigned tab = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')));
            unsigned pipe = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('|')));
            unsigned sep = pipe | (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('/')));
            int o0 = col_map ? col_map[i] : i, o1 = col_map ? col_map[i + 1] : i + 1;
            int o2 = col_map ? col_map[i + 2] : i + 2, o3 = col_map ? col_map[i + 3] : i + 3;
            if ((dig & 0x5555u) == 0x5555u && (tab & 0x8888u) == 0x8888u &&
                (sep & 0x2222u) == 0x2222u && (o0 | o1 | o2 | o3) >= 0) {
                const int os[4] = {o0, o1, o2, o3};
                for (int k = 0; k < 4; k++) {
                    int32_t *x = buf + (size_t)os[k] * 2;
                    x[0] = (int32_t)((p[4 * k] - '0' + 1) << 1);
                    x[1] = (int32_t)((p[4 * k + 2] - '0' + 1) << 1) | (int32_t)(pipe >> (4 * k + 1) & 1);
                }
                maxl = 2;
                p += 15;
                i += 3;
                continue;
            }
        }
#endif
        int o = col_map ? col_map[i] : i;
        if (o < 0) {
            p = next_tab(p, end);
            continue;
        }
        int32_t *x = buf + (size_t)o * (size_t)stride;
        if (fast4 && end - p >= 4) {
            uint32_t u;
            memcpy(&u, p, 4);
            uint32_t a0 = (u & 0xff) - '0', a1 = ((u >> 16) & 0xff) - '0', sep = (u >> 8) & 0xff;
            if (!((a0 >= 10) | (a1 >= 10) | ((sep != '/') & (sep != '|')) | ((u >> 24) != '\t'))) {
                x[0] = (int32_t)((a0 + 1) << 1);
                x[1] = (int32_t)((a1 + 1) << 1) | (sep == '|');
                maxl = 2; /* the largest possible: stride is 2 */
                p += 3;
                continue;
            }
        }
        /* the usual diploid case, e.g. "0|1" followed by tab or end */
        if (stride == 2 && end - p >= 3 && (unsigned)(p[0] - '0') < 10 &&
            (p[1] == '/' || p[1] == '|') && (unsigned)(p[2] - '0') < 10 &&
            (end - p == 3 || p[3] == '\t' || p[3] == ':')) {
            x[0] = (int32_t)((p[0] - '0' + 1) << 1);
            x[1] = (int32_t)((p[2] - '0' + 1) << 1) | (p[1] == '|');
            p += 3;
            if (p < end && *p == ':' && !(p = skip_rest(p, end, n_fmt)))
                return 0;
            if (maxl < 2)
                maxl = 2;
            continue;
        }
        int l = parse_one(&p, end, x, stride);
        if (l == 0)
            return 0;
        if (l < 0) {
            stride = -l > stride * 2 ? -l : stride * 2;
            goto restart;
        }
        for (int k = l; k < stride; k++)
            x[k] = GT_VECTOR_END;
        if (l > maxl)
            maxl = l;
        if (p < end && *p == ':' && !(p = skip_rest(p, end, n_fmt)))
            return 0;
    }
    if (p != end)
        return 0; /* more columns than samples */
    if (maxl < stride) {
        /* compact to the record's real ploidy, as htslib sizes it */
        for (int o = 0; o < n_out; o++)
            memmove(buf + (size_t)o * (size_t)maxl, buf + (size_t)o * (size_t)stride,
                    (size_t)maxl * sizeof *buf);
    }
    *ploidy = maxl;
    return 1;
}
