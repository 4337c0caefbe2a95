/*
 * vcf_query.c - freq, view and carriers over the union of batches (see
 * promise/genotype.h).
 *
 * A query walks the contigs in catalog order. Per contig it opens, for
 * each batch, only the segments that overlap the region (their contig and
 * position range are in the catalog) and merges the batches' record
 * streams by position (a k-way merge). All records at one position form a
 * group; within a group, sites are keyed by (REF, ALT) for freq and by
 * (REF, ALT list) for view, sorted, and every key is answered from the
 * batches that have it, plus hom-ref for the samples of batches whose
 * callable regions cover the position.
 *
 * freq counts with pm_gtr_count (sample masks, no per-sample decode). When
 * batches that share individuals meet at one position, an individual could
 * be counted twice; such groups are counted per individual from decoded
 * genotypes instead (earliest batch wins).
 */
#include <errno.h>
#include <htslib/hts.h>
#include <htslib/kstring.h>
#include <htslib/vcf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/cat_genotype.h"
#include "core/fileio.h"
#include "genotype/gtstore.h"
#include "promise/cohort.h"
#include "promise/genotype.h"
#include "promise/promise.h"
#include "vcf/vcf_internal.h"

enum { Q_FREQ, Q_VIEW };

typedef struct qbatch {
    const pm_catgt_batch_t *cb;
    uint64_t *mask;     /* freq: counted columns */
    int64_t n_mask;
    int16_t *stratum;   /* freq --by: stratum per column, -1 = not counted */
    int64_t *stratum_n; /* counted columns per stratum */
    int *out_col;       /* view: output column per column, -1 = not shown */
    int n_shown;        /* view: columns shown */
    /* per contig */
    int64_t *iv;        /* callable intervals (pairs, 0-based half-open) */
    size_t n_iv, iv_cur;
    pm_catgt_seg_t *segs;
    size_t n_segs, seg_i;
    pm_gtr_t *r;
    pm_gtr_rec_t rec;
    int has;
    int covered;        /* callable covers the current position */
} qbatch_t;

/* One record of a position group. Strings are offsets into q->arena. */
typedef struct entry {
    int b;              /* batch index */
    size_t id, ref, alts; /* alts: n_alt NUL-terminated strings in a row */
    size_t altjoin;     /* view: the ALT list joined by ',' */
    int n_alt;
    size_t counts;      /* freq fast: offset into q->counts (n_alt * n_strata) */
    size_t gt;          /* decoded genotypes: offset into q->gts */
    int ploidy;
} entry_t;

typedef struct key {
    int e;  /* entry */
    int a;  /* ALT index (0-based) for freq */
} gkey_t;

typedef struct query {
    pm_store_t *st;
    pm_ctx_t *ctx;
    int kind;
    const pm_gt_query_opts_t *o;
    pm_catgt_t *cat;
    qbatch_t *b;
    int nb;
    pm_bitset_t *cohort;
    /* region */
    int has_region;
    char chrom[256];
    int64_t beg, end;
    /* freq strata */
    int by; /* 0 none, 1 sex, 2 county, 3 source */
    int n_strata;
    char **strata;
    int show_na;
    /* batches sharing individuals: overlap[i * nb + j] */
    uint8_t *overlap;
    int any_overlap;
    /* per-individual scratch for the exact path */
    uint8_t *taken;
    int64_t n_ind;
    int64_t *touched;
    size_t n_touched, cap_touched;
    /* group */
    entry_t *ent;
    int n_ent;
    size_t cap_ent;
    gkey_t *keys;
    size_t cap_keys;
    int *order;
    size_t cap_order;
    kstring_t arena;
    pm_gt_counts_t *counts;
    size_t n_counts, cap_counts;
    int32_t *gts;
    size_t n_gts, cap_gts;
    int32_t *dec;
    size_t dec_cap;
    /* freq output */
    FILE *out;
    char *obuf;
    size_t olen, ocap;
    pm_gt_counts_t *acc; /* n_strata (+1 totals) */
    /* view output */
    htsFile *vfp;
    bcf_hdr_t *vhdr;
    bcf1_t *vrec;
    int n_out;
    int32_t *vgt;
    size_t vgt_cap;
    uint32_t *filled;
    uint32_t stamp;
    const char **alleles;
    size_t alleles_cap;
} query_t;

#define ARENA(q, off) ((q)->arena.s + (off))

/* ---- small helpers ---- */

static int oom(query_t *q) { return pm_err(q->ctx, PM_ENOMEM, "out of memory"); }

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *np = realloc(*p, n * size);
    if (!np)
        return -1;
    *p = np;
    *cap = n;
    return 0;
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- setup ---- */

static int stratum_index(query_t *q, const char *v)
{
    if (!v)
        return q->n_strata - 1; /* NA is last */
    for (int s = 0; s < q->n_strata - 1; s++)
        if (strcmp(q->strata[s], v) == 0)
            return s;
    return q->n_strata - 1;
}

static const char *col_value(const query_t *q, const pm_catgt_col_t *c, char *sexbuf)
{
    switch (q->by) {
    case 1:
        if (c->sex != 'M' && c->sex != 'F')
            return NULL;
        sexbuf[0] = c->sex;
        sexbuf[1] = '\0';
        return sexbuf;
    case 2:
        return c->county;
    default:
        return c->source;
    }
}

static int col_in_cohort(const query_t *q, const pm_catgt_col_t *c)
{
    if (c->withdrawn || c->individual < 0 || (size_t)c->individual >= q->cohort->n)
        return 0;
    return pm_bitset_get(q->cohort, (size_t)c->individual);
}

static int setup_freq(query_t *q)
{
    int nb = q->nb;
    /* strata names: sex M, F; county and source: the values present */
    if (q->by) {
        size_t cap = 0, n = 0;
        char **v = NULL;
        int na = 0;
        char sb[2];
        if (q->by == 1) {
            v = malloc(3 * sizeof *v);
            if (!v)
                return oom(q);
            v[n++] = "M";
            v[n++] = "F";
            cap = 3;
        }
        for (int i = 0; i < nb; i++) {
            const pm_catgt_batch_t *cb = q->b[i].cb;
            for (int c = 0; c < cb->n_samples; c++) {
                if (!col_in_cohort(q, &cb->cols[c]))
                    continue;
                const char *val = col_value(q, &cb->cols[c], sb);
                if (!val) {
                    na = 1;
                    continue;
                }
                if (q->by == 1)
                    continue;
                size_t k;
                for (k = 0; k < n; k++)
                    if (strcmp(v[k], val) == 0)
                        break;
                if (k < n)
                    continue;
                if (grow((void **)&v, &cap, n + 2, sizeof *v) < 0) {
                    free(v);
                    return oom(q);
                }
                v[n++] = (char *)val;
            }
        }
        if (q->by != 1)
            qsort(v, n, sizeof *v, cmp_strp);
        if (n > 30000) {
            free(v);
            return pm_err(q->ctx, PM_ELIMIT, "too many strata");
        }
        v[n] = "NA";
        q->strata = v;
        q->n_strata = (int)n + 1;
        q->show_na = na;
    } else {
        q->n_strata = 1;
    }
    q->acc = calloc((size_t)q->n_strata + 1, sizeof *q->acc);
    if (!q->acc)
        return oom(q);
    /* masks: cohort, not withdrawn, each individual once per batch */
    q->n_ind = (int64_t)q->cohort->n;
    q->taken = calloc((size_t)q->n_ind + 1, 1);
    if (!q->taken)
        return oom(q);
    uint64_t *bm = nb <= 64 ? calloc((size_t)q->n_ind + 1, sizeof *bm) : NULL;
    if (nb <= 64 && !bm)
        return oom(q);
    for (int i = 0; i < nb; i++) {
        qbatch_t *qb = &q->b[i];
        const pm_catgt_batch_t *cb = qb->cb;
        size_t words = ((size_t)cb->n_samples + 63) / 64 + 1;
        qb->mask = calloc(words, sizeof *qb->mask);
        qb->stratum = malloc(((size_t)cb->n_samples + 1) * sizeof *qb->stratum);
        qb->stratum_n = calloc((size_t)q->n_strata, sizeof *qb->stratum_n);
        if (!qb->mask || !qb->stratum || !qb->stratum_n) {
            free(bm);
            return oom(q);
        }
        char sb[2];
        for (int c = 0; c < cb->n_samples; c++) {
            const pm_catgt_col_t *col = &cb->cols[c];
            qb->stratum[c] = -1;
            if (!col_in_cohort(q, col) || q->taken[col->individual])
                continue;
            q->taken[col->individual] = 1;
            qb->mask[c >> 6] |= (uint64_t)1 << (c & 63);
            qb->n_mask++;
            int s = q->by ? stratum_index(q, col_value(q, col, sb)) : 0;
            qb->stratum[c] = (int16_t)s;
            qb->stratum_n[s]++;
            if (bm)
                bm[col->individual] |= (uint64_t)1 << i;
        }
        for (int c = 0; c < cb->n_samples; c++)
            if (qb->stratum[c] >= 0)
                q->taken[cb->cols[c].individual] = 0;
    }
    q->overlap = calloc((size_t)nb * (size_t)nb + 1, 1);
    if (!q->overlap) {
        free(bm);
        return oom(q);
    }
    if (bm) {
        for (int64_t i = 0; i < q->n_ind; i++) {
            uint64_t m = bm[i];
            if (!(m & (m - 1)))
                continue;
            q->any_overlap = 1;
            for (int x = 0; x < nb; x++)
                if (m >> x & 1)
                    for (int y = 0; y < nb; y++)
                        if (y != x && (m >> y & 1))
                            q->overlap[x * nb + y] = 1;
        }
        free(bm);
    } else {
        memset(q->overlap, 1, (size_t)nb * (size_t)nb);
        q->any_overlap = 1;
    }
    return 0;
}

/* Simple open-addressing map from sample row id to output column. */
static int setup_view(query_t *q)
{
    size_t total = 0;
    for (int i = 0; i < q->nb; i++)
        total += (size_t)q->b[i].cb->n_samples;
    size_t hcap = 16;
    while (hcap < 2 * total + 2)
        hcap *= 2;
    int64_t *hk = malloc(hcap * sizeof *hk);
    int *hv = malloc(hcap * sizeof *hv);
    if (!hk || !hv) {
        free(hk);
        free(hv);
        return oom(q);
    }
    for (size_t i = 0; i < hcap; i++)
        hk[i] = -1;
    int rc = 0;
    for (int i = 0; i < q->nb && rc == 0; i++) {
        qbatch_t *qb = &q->b[i];
        const pm_catgt_batch_t *cb = qb->cb;
        qb->out_col = malloc(((size_t)cb->n_samples + 1) * sizeof *qb->out_col);
        if (!qb->out_col) {
            rc = oom(q);
            break;
        }
        for (int c = 0; c < cb->n_samples; c++) {
            const pm_catgt_col_t *col = &cb->cols[c];
            qb->out_col[c] = -1;
            if (!col_in_cohort(q, col))
                continue;
            size_t h = ((uint64_t)col->sample * 0x9E3779B97F4A7C15ull) & (hcap - 1);
            while (hk[h] >= 0 && hk[h] != col->sample)
                h = (h + 1) & (hcap - 1);
            if (hk[h] < 0) {
                hk[h] = col->sample;
                hv[h] = q->n_out++;
                if (bcf_hdr_add_sample(q->vhdr, col->sample_id) < 0) {
                    rc = pm_err(q->ctx, PM_EINTERNAL, "cannot add sample '%s' to the header",
                                col->sample_id);
                    break;
                }
            }
            qb->out_col[c] = hv[h];
            qb->n_shown++;
        }
    }
    free(hk);
    free(hv);
    if (rc < 0)
        return rc;
    if (bcf_hdr_sync(q->vhdr) < 0)
        return pm_err(q->ctx, PM_EINTERNAL, "cannot build the VCF header");
    q->filled = calloc((size_t)q->n_out + 1, sizeof *q->filled);
    return q->filled ? 0 : oom(q);
}

static int query_open(query_t *q, pm_store_t *st, int kind, const pm_gt_query_opts_t *o)
{
    static const pm_gt_query_opts_t none;
    memset(q, 0, sizeof *q);
    q->st = st;
    q->ctx = pm_store_ctx(st);
    q->kind = kind;
    q->o = o ? o : &none;
    pm_vcf_quiet_htslib();
    int rc;
    if (q->o->region) {
        if ((rc = pm_vcf_parse_region(q->ctx, q->o->region, q->chrom, sizeof q->chrom, &q->beg,
                                      &q->end)) < 0)
            return rc;
        q->has_region = 1;
    }
    if (kind == Q_FREQ && q->o->by && *q->o->by) {
        static const char *const names[] = {"sex", "county", "source"};
        for (int i = 0; i < 3; i++)
            if (strcmp(q->o->by, names[i]) == 0)
                q->by = i + 1;
        if (!q->by)
            return pm_err(q->ctx, PM_EUSAGE, "cannot stratify by '%s' (sex, county or source)",
                          q->o->by);
    }
    if ((rc = pm_catgt_load(st, kind == Q_VIEW, &q->cat)) < 0)
        return rc;
    if (q->o->cohort && *q->o->cohort) {
        if ((rc = pm_cohort_eval(st, q->o->cohort, &q->cohort)) < 0)
            return rc;
    } else {
        /* everyone: no need to evaluate anything (withdrawn are dropped per column) */
        int64_t max = -1;
        for (int i = 0; i < q->cat->n_batches; i++)
            for (int c = 0; c < q->cat->batch[i].n_samples; c++)
                if (q->cat->batch[i].cols[c].individual > max)
                    max = q->cat->batch[i].cols[c].individual;
        if (!(q->cohort = pm_bitset_new((size_t)(max + 1))))
            return oom(q);
        pm_bitset_fill(q->cohort);
    }
    q->nb = q->cat->n_batches;
    q->b = calloc((size_t)q->nb + 1, sizeof *q->b);
    if (!q->b)
        return oom(q);
    for (int i = 0; i < q->nb; i++)
        q->b[i].cb = &q->cat->batch[i];
    return 0;
}

static void streams_close(query_t *q)
{
    for (int i = 0; i < q->nb; i++) {
        qbatch_t *qb = &q->b[i];
        pm_gtr_close(qb->r);
        qb->r = NULL;
        qb->has = 0;
        free(qb->iv);
        qb->iv = NULL;
        qb->n_iv = qb->iv_cur = 0;
        qb->segs = NULL;
        qb->n_segs = qb->seg_i = 0;
    }
}

static void query_close(query_t *q)
{
    streams_close(q);
    for (int i = 0; i < q->nb; i++) {
        free(q->b[i].mask);
        free(q->b[i].stratum);
        free(q->b[i].stratum_n);
        free(q->b[i].out_col);
    }
    free(q->b);
    pm_catgt_free(q->cat);
    pm_bitset_free(q->cohort);
    free(q->strata);
    free(q->overlap);
    free(q->taken);
    free(q->touched);
    free(q->ent);
    free(q->keys);
    free(q->order);
    free(q->arena.s);
    free(q->counts);
    free(q->gts);
    free(q->dec);
    free(q->obuf);
    free(q->acc);
    free(q->vgt);
    free(q->filled);
    free(q->alleles);
    if (q->vrec)
        bcf_destroy(q->vrec);
}

/* ---- streams ---- */

static int stream_next(query_t *q, qbatch_t *qb)
{
    for (;;) {
        if (!qb->r) {
            if (qb->seg_i >= qb->n_segs) {
                qb->has = 0;
                return 0;
            }
            char p[PATH_MAX];
            int rc = pm_path(q->ctx, p, sizeof p, "%s/gt/%s", pm_store_path(q->st),
                             qb->segs[qb->seg_i++].file);
            if (rc < 0 || (rc = pm_gtr_open(q->ctx, p, &qb->r)) < 0)
                return rc;
            if ((uint32_t)qb->cb->n_samples != pm_gtr_n_samples(qb->r))
                return pm_err(q->ctx, PM_ECORRUPT, "segment '%s' has %u samples, its batch %d",
                              p, pm_gtr_n_samples(qb->r), qb->cb->n_samples);
            if (q->has_region && (rc = pm_gtr_seek(qb->r, q->beg, q->end)) < 0)
                return rc;
            /* the masks stay the same for the whole query */
            if (q->kind == Q_FREQ && qb->mask &&
                (rc = q->by ? pm_gtr_set_strata(qb->r, qb->stratum, q->n_strata)
                            : pm_gtr_set_mask(qb->r, qb->mask)) < 0)
                return rc;
        }
        int rc = pm_gtr_next(qb->r, &qb->rec);
        if (rc == 1) {
            qb->has = 1;
            return 1;
        }
        if (rc < 0)
            return rc;
        pm_gtr_close(qb->r);
        qb->r = NULL;
    }
}

/* Is position pos (1-based) in the batch's callable regions? Positions
 * only grow within a contig, so the cursor moves forward. */
static int covered(qbatch_t *qb, int64_t pos)
{
    int64_t p0 = pos - 1;
    while (qb->iv_cur < qb->n_iv && qb->iv[2 * qb->iv_cur + 1] <= p0)
        qb->iv_cur++;
    return qb->iv_cur < qb->n_iv && qb->iv[2 * qb->iv_cur] <= p0;
}

/* ---- groups ---- */

static int arena_put(query_t *q, const char *s, size_t *off)
{
    *off = q->arena.l;
    if (kputs(s, &q->arena) < 0 || kputc('\0', &q->arena) < 0)
        return oom(q);
    return 0;
}

/* Adds the stream's current record to the group. */
static int group_add(query_t *q, int bi, int exact)
{
    qbatch_t *qb = &q->b[bi];
    const pm_gtr_rec_t *r = &qb->rec;
    if (grow((void **)&q->ent, &q->cap_ent, (size_t)q->n_ent + 1, sizeof *q->ent) < 0)
        return oom(q);
    entry_t *e = &q->ent[q->n_ent];
    memset(e, 0, sizeof *e);
    e->b = bi;
    e->n_alt = r->n_alt;
    int rc;
    if ((rc = arena_put(q, r->id ? r->id : ".", &e->id)) < 0 ||
        (rc = arena_put(q, r->ref, &e->ref)) < 0)
        return rc;
    e->alts = q->arena.l;
    for (int a = 0; a < r->n_alt; a++) {
        size_t off;
        if ((rc = arena_put(q, r->alt[a], &off)) < 0)
            return rc;
    }
    if (q->kind == Q_VIEW) {
        e->altjoin = q->arena.l;
        for (int a = 0; a < r->n_alt; a++)
            if ((a && kputc(',', &q->arena) < 0) || kputs(r->alt[a], &q->arena) < 0)
                return oom(q);
        if (kputc('\0', &q->arena) < 0)
            return oom(q);
    }
    if (q->kind == Q_FREQ && !exact) {
        size_t need = (size_t)r->n_alt * (size_t)q->n_strata;
        if (grow((void **)&q->counts, &q->cap_counts, q->n_counts + need, sizeof *q->counts) < 0)
            return oom(q);
        e->counts = q->n_counts;
        if (q->by)
            rc = pm_gtr_count_strata(qb->r, qb->stratum, q->n_strata, q->counts + q->n_counts);
        else
            rc = pm_gtr_count(qb->r, qb->mask, q->counts + q->n_counts);
        if (rc < 0)
            return rc;
        q->n_counts += need;
    } else {
        int ploidy = 0;
        if ((rc = pm_gtr_decode(qb->r, &q->dec, &q->dec_cap, &ploidy)) < 0)
            return rc;
        size_t n = (size_t)qb->cb->n_samples * (size_t)ploidy;
        if (grow((void **)&q->gts, &q->cap_gts, q->n_gts + n + 1, sizeof *q->gts) < 0)
            return oom(q);
        memcpy(q->gts + q->n_gts, q->dec, n * sizeof *q->gts);
        e->gt = q->n_gts;
        e->ploidy = ploidy;
        q->n_gts += n;
    }
    q->n_ent++;
    return 0;
}

static query_t *g_sort_q; /* qsort has no context argument in C17 */

static int cmp_key_freq(const void *x, const void *y)
{
    const gkey_t *a = x, *b = y;
    const query_t *q = g_sort_q;
    const entry_t *ea = &q->ent[a->e], *eb = &q->ent[b->e];
    int c = strcmp(ARENA(q, ea->ref), ARENA(q, eb->ref));
    if (c)
        return c;
    const char *aa = ARENA(q, ea->alts), *ab = ARENA(q, eb->alts);
    for (int i = 0; i < a->a; i++)
        aa += strlen(aa) + 1;
    for (int i = 0; i < b->a; i++)
        ab += strlen(ab) + 1;
    if ((c = strcmp(aa, ab)))
        return c;
    return ea->b - eb->b;
}

static const char *alt_of(const query_t *q, const entry_t *e, int a)
{
    const char *s = ARENA(q, e->alts);
    for (int i = 0; i < a; i++)
        s += strlen(s) + 1;
    return s;
}

/* ---- freq output ---- */

static int out_flush(query_t *q)
{
    if (q->olen && fwrite(q->obuf, 1, q->olen, q->out) != q->olen)
        return pm_err(q->ctx, PM_EIO, "cannot write the output: %s", strerror(errno));
    q->olen = 0;
    return 0;
}

static inline void out_str(query_t *q, const char *s)
{
    size_t l = strlen(s);
    if (q->olen + l + 64 > q->ocap) {
        if (out_flush(q) < 0)
            return;
        if (l + 64 > q->ocap) {
            fwrite(s, 1, l, q->out);
            return;
        }
    }
    memcpy(q->obuf + q->olen, s, l);
    q->olen += l;
}

static inline void out_ch(query_t *q, char c)
{
    if (q->olen + 1 > q->ocap)
        out_flush(q);
    q->obuf[q->olen++] = c;
}

static inline void out_int(query_t *q, int64_t v)
{
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (q->olen + 24 > q->ocap)
        out_flush(q);
    if (v < 0)
        q->obuf[q->olen++] = '-';
    while (n)
        q->obuf[q->olen++] = tmp[--n];
}

static void out_af(query_t *q, int64_t ac, int64_t an)
{
    if (an <= 0) {
        out_ch(q, '.');
        return;
    }
    if (ac == 0) {
        out_ch(q, '0');
        return;
    }
    if (ac == an) {
        out_ch(q, '1');
        return;
    }
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%.6g", (double)ac / (double)an);
    out_str(q, tmp);
}

/* Exact per-individual counts of key k (entries run[0..n)) into q->acc. */
static void count_exact(query_t *q, const gkey_t *run, int n, int ng_cov, const int *cov)
{
    q->n_touched = 0;
    for (int i = 0; i < n; i++) {
        const entry_t *e = &q->ent[run[i].e];
        const qbatch_t *qb = &q->b[e->b];
        int32_t want = run[i].a + 1;
        for (int c = 0; c < qb->cb->n_samples; c++) {
            int s = qb->stratum[c];
            if (s < 0)
                continue;
            int64_t ind = qb->cb->cols[c].individual;
            if (q->taken[ind])
                continue;
            q->taken[ind] = 1;
            if (q->n_touched < q->cap_touched ||
                grow((void **)&q->touched, &q->cap_touched, q->n_touched + 1,
                     sizeof *q->touched) == 0)
                q->touched[q->n_touched++] = ind;
            const int32_t *g = q->gts + e->gt + (size_t)c * (size_t)e->ploidy;
            int an = 0, ac = 0, np = 0;
            for (int k = 0; k < e->ploidy; k++) {
                if (g[k] == PM_GT_VECTOR_END)
                    break;
                np++;
                if ((g[k] >> 1) == 0)
                    continue;
                an++;
                if ((g[k] >> 1) - 1 == want)
                    ac++;
            }
            pm_gt_counts_t *a = &q->acc[s];
            a->an += an;
            a->ac += ac;
            if (np >= 2 && an == np && ac == np)
                a->nhomalt++;
        }
    }
    for (int j = 0; j < ng_cov; j++) {
        const qbatch_t *qb = &q->b[cov[j]];
        for (int c = 0; c < qb->cb->n_samples; c++) {
            int s = qb->stratum[c];
            if (s < 0)
                continue;
            int64_t ind = qb->cb->cols[c].individual;
            if (q->taken[ind])
                continue;
            q->taken[ind] = 1;
            if (q->n_touched < q->cap_touched ||
                grow((void **)&q->touched, &q->cap_touched, q->n_touched + 1,
                     sizeof *q->touched) == 0)
                q->touched[q->n_touched++] = ind;
            q->acc[s].an += 2;
        }
    }
    for (size_t i = 0; i < q->n_touched; i++)
        q->taken[q->touched[i]] = 0;
}

static int freq_group(query_t *q, const char *chrom, int64_t pos, int exact, const int *cov_all,
                      int n_cov_all)
{
    int nk = 0;
    for (int i = 0; i < q->n_ent; i++)
        nk += q->ent[i].n_alt;
    if (grow((void **)&q->keys, &q->cap_keys, (size_t)nk + 1, sizeof *q->keys) < 0)
        return oom(q);
    nk = 0;
    for (int i = 0; i < q->n_ent; i++)
        for (int a = 0; a < q->ent[i].n_alt; a++)
            if (strcmp(alt_of(q, &q->ent[i], a), ".") != 0)
                q->keys[nk++] = (gkey_t){i, a};
    g_sort_q = q;
    if (nk > 1)
        qsort(q->keys, (size_t)nk, sizeof *q->keys, cmp_key_freq);
    int S = q->n_strata;
    int cov[64], *covp = n_cov_all <= 64 ? cov : malloc((size_t)n_cov_all * sizeof *covp);
    if (!covp)
        return oom(q);
    for (int k = 0; k < nk;) {
        /* run of equal (REF, ALT) */
        const entry_t *e0 = &q->ent[q->keys[k].e];
        const char *ref0 = ARENA(q, e0->ref), *alt0 = alt_of(q, e0, q->keys[k].a);
        int j = k + 1;
        while (j < nk) {
            const entry_t *ej = &q->ent[q->keys[j].e];
            if (strcmp(ARENA(q, ej->ref), ref0) || strcmp(alt_of(q, ej, q->keys[j].a), alt0))
                break;
            j++;
        }
        /* callable batches that lack this key */
        int ncov = 0;
        for (int c = 0; c < n_cov_all; c++) {
            int present = 0;
            for (int t = k; t < j; t++)
                if (q->ent[q->keys[t].e].b == cov_all[c])
                    present = 1;
            if (!present)
                covp[ncov++] = cov_all[c];
        }
        memset(q->acc, 0, (size_t)(S + 1) * sizeof *q->acc);
        if (exact) {
            count_exact(q, q->keys + k, j - k, ncov, covp);
        } else {
            for (int t = k; t < j; t++) {
                const entry_t *e = &q->ent[q->keys[t].e];
                const pm_gt_counts_t *c = q->counts + e->counts + (size_t)q->keys[t].a * (size_t)S;
                for (int s = 0; s < S; s++) {
                    q->acc[s].ac += c[s].ac;
                    q->acc[s].an += c[s].an;
                    q->acc[s].nhomalt += c[s].nhomalt;
                }
            }
            for (int c = 0; c < ncov; c++)
                for (int s = 0; s < S; s++)
                    q->acc[s].an += 2 * (q->by ? q->b[covp[c]].stratum_n[s] : q->b[covp[c]].n_mask);
        }
        pm_gt_counts_t tot = {0, 0, 0};
        for (int s = 0; s < S; s++) {
            tot.ac += q->acc[s].ac;
            tot.an += q->acc[s].an;
            tot.nhomalt += q->acc[s].nhomalt;
        }
        out_str(q, chrom);
        out_ch(q, '\t');
        out_int(q, pos);
        out_ch(q, '\t');
        out_str(q, ARENA(q, e0->id));
        out_ch(q, '\t');
        out_str(q, ref0);
        out_ch(q, '\t');
        out_str(q, alt0);
        out_ch(q, '\t');
        out_int(q, tot.ac);
        out_ch(q, '\t');
        out_int(q, tot.an);
        out_ch(q, '\t');
        out_af(q, tot.ac, tot.an);
        out_ch(q, '\t');
        out_int(q, tot.nhomalt);
        if (q->by) {
            int shown = q->show_na ? S : S - 1;
            for (int s = 0; s < shown; s++) {
                out_ch(q, '\t');
                out_int(q, q->acc[s].ac);
                out_ch(q, '\t');
                out_int(q, q->acc[s].an);
            }
        }
        out_ch(q, '\n');
        k = j;
    }
    if (covp != cov)
        free(covp);
    return 0;
}

/* ---- view output ---- */

static int view_group(query_t *q, int64_t contig_rid, int64_t pos, const int *cov_all,
                      int n_cov_all)
{
    /* records come out in the order the earliest batch has them (so that a
     * single file round-trips exactly); one output record per (REF, ALT
     * list), its entries in batch order */
    int nk = q->n_ent;
    if (grow((void **)&q->keys, &q->cap_keys, (size_t)nk + 1, sizeof *q->keys) < 0 ||
        grow((void **)&q->order, &q->cap_order, (size_t)nk + 1, sizeof *q->order) < 0)
        return oom(q);
    for (int i = 0; i < nk; i++)
        q->keys[i] = (gkey_t){i, 0}; /* .a = 1 marks an entry already placed */
    int no = 0;
    for (int i = 0; i < nk; i++) {
        if (q->keys[i].a)
            continue;
        const entry_t *ei = &q->ent[i];
        q->keys[i].a = 1;
        q->order[no++] = i;
        for (int t = i + 1; t < nk; t++) {
            const entry_t *et = &q->ent[t];
            if (!q->keys[t].a && strcmp(ARENA(q, et->ref), ARENA(q, ei->ref)) == 0 &&
                strcmp(ARENA(q, et->altjoin), ARENA(q, ei->altjoin)) == 0) {
                q->keys[t].a = 1;
                q->order[no++] = t;
            }
        }
    }
    for (int i = 0; i < nk; i++)
        q->keys[i] = (gkey_t){q->order[i], 0};
    for (int k = 0; k < nk;) {
        const entry_t *e0 = &q->ent[q->keys[k].e];
        int j = k + 1;
        while (j < nk) {
            const entry_t *ej = &q->ent[q->keys[j].e];
            if (strcmp(ARENA(q, ej->ref), ARENA(q, e0->ref)) ||
                strcmp(ARENA(q, ej->altjoin), ARENA(q, e0->altjoin)))
                break;
            j++;
        }
        /* ploidy: the records' largest; 2 when filling for other batches */
        int P = 0, present_all = 1;
        for (int t = k; t < j; t++)
            if (q->ent[q->keys[t].e].ploidy > P)
                P = q->ent[q->keys[t].e].ploidy;
        {
            /* do all shown samples come from batches that have the record? */
            for (int bi = 0; bi < q->nb && present_all; bi++) {
                int has = 0;
                for (int t = k; t < j; t++)
                    if (q->ent[q->keys[t].e].b == bi)
                        has = 1;
                if (!has && q->b[bi].n_shown)
                    present_all = 0;
            }
        }
        if (!present_all && P < 2)
            P = 2;
        if (P < 1)
            P = 1;
        size_t n = (size_t)q->n_out * (size_t)P;
        if (grow((void **)&q->vgt, &q->vgt_cap, n + 1, sizeof *q->vgt) < 0)
            return oom(q);
        if (++q->stamp == 0) {
            memset(q->filled, 0, (size_t)q->n_out * sizeof *q->filled);
            q->stamp = 1;
        }
        for (int t = k; t < j; t++) {
            const entry_t *e = &q->ent[q->keys[t].e];
            const qbatch_t *qb = &q->b[e->b];
            for (int c = 0; c < qb->cb->n_samples; c++) {
                int o = qb->out_col[c];
                if (o < 0 || q->filled[o] == q->stamp)
                    continue;
                q->filled[o] = q->stamp;
                int32_t *d = q->vgt + (size_t)o * (size_t)P;
                const int32_t *g = q->gts + e->gt + (size_t)c * (size_t)e->ploidy;
                int l = 0;
                for (; l < e->ploidy; l++)
                    d[l] = g[l];
                for (; l < P; l++)
                    d[l] = PM_GT_VECTOR_END;
            }
        }
        /* callable batches lacking the record: 0/0 */
        for (int cI = 0; cI < n_cov_all; cI++) {
            const qbatch_t *qb = &q->b[cov_all[cI]];
            for (int c = 0; c < qb->cb->n_samples; c++) {
                int o = qb->out_col[c];
                if (o < 0 || q->filled[o] == q->stamp)
                    continue;
                q->filled[o] = q->stamp;
                int32_t *d = q->vgt + (size_t)o * (size_t)P;
                d[0] = bcf_gt_unphased(0);
                d[1] = bcf_gt_unphased(0);
                for (int l = 2; l < P; l++)
                    d[l] = PM_GT_VECTOR_END;
            }
        }
        /* the rest: ./. */
        for (int o = 0; o < q->n_out; o++) {
            if (q->filled[o] == q->stamp)
                continue;
            int32_t *d = q->vgt + (size_t)o * (size_t)P;
            d[0] = bcf_gt_missing;
            d[1] = bcf_gt_missing;
            for (int l = 2; l < P; l++)
                d[l] = PM_GT_VECTOR_END;
        }
        /* the record */
        bcf1_t *v = q->vrec;
        bcf_clear1(v);
        v->rid = (int32_t)contig_rid;
        v->pos = pos - 1;
        bcf_float_set_missing(v->qual);
        const char *id = ARENA(q, e0->id);
        bcf_update_id(q->vhdr, v, strcmp(id, ".") != 0 ? id : NULL);
        int na = 1 + e0->n_alt;
        if (grow((void **)&q->alleles, &q->alleles_cap, (size_t)na + 1,
                 sizeof *q->alleles) < 0)
            return oom(q);
        q->alleles[0] = ARENA(q, e0->ref);
        for (int a = 0; a < e0->n_alt; a++)
            q->alleles[1 + a] = alt_of(q, e0, a);
        if (e0->n_alt == 1 && strcmp(q->alleles[1], ".") == 0)
            na = 1; /* a record without ALT */
        if (bcf_update_alleles(q->vhdr, v, q->alleles, na) < 0)
            return pm_err(q->ctx, PM_EINTERNAL, "cannot build a record at %lld", (long long)pos);
        if (q->n_out && bcf_update_genotypes(q->vhdr, v, q->vgt, (int)n) < 0)
            return pm_err(q->ctx, PM_EINTERNAL, "cannot store genotypes at %lld",
                          (long long)pos);
        if (bcf_write(q->vfp, q->vhdr, v) < 0)
            return pm_err(q->ctx, PM_EIO, "cannot write the output: %s", strerror(errno));
        k = j;
    }
    return 0;
}

/* ---- the merge ---- */

static int run_contig(query_t *q, int ci)
{
    int64_t cid = q->cat->contig_id[ci];
    const char *chrom = q->cat->contig[ci];
    pm_catgt_seg_t *segs = NULL;
    size_t nsegs = 0;
    int rc = pm_catgt_segments(q->st, cid, q->has_region ? q->beg : INT64_MIN,
                               q->has_region ? q->end : -1, &segs, &nsegs);
    if (rc < 0)
        return rc;
    streams_close(q);
    size_t k = 0;
    int ncallable = 0;
    for (int i = 0; i < q->nb && rc == 0; i++) {
        qbatch_t *qb = &q->b[i];
        size_t s0 = k;
        while (k < nsegs && segs[k].batch == qb->cb->id)
            k++;
        qb->segs = segs + s0;
        qb->n_segs = k - s0;
        if (qb->cb->callable) {
            rc = pm_catgt_callable(q->st, qb->cb->id, cid, &qb->iv, &qb->n_iv);
            ncallable += qb->n_iv > 0;
        }
        if (rc == 0 && qb->n_segs)
            rc = stream_next(q, qb);
        if (rc > 0)
            rc = 0;
    }
    int64_t rid = -1;
    if (rc == 0 && q->kind == Q_VIEW && (rid = bcf_hdr_name2id(q->vhdr, chrom)) < 0)
        rc = pm_err(q->ctx, PM_EINTERNAL, "contig '%s' missing from the output header", chrom);
    int *cov = malloc(((size_t)q->nb + 1) * sizeof *cov);
    int *at = malloc(((size_t)q->nb + 1) * sizeof *at);
    if (rc == 0 && (!cov || !at))
        rc = oom(q);
    uint64_t nrec = 0;
    while (rc == 0) {
        int64_t P = INT64_MAX;
        for (int i = 0; i < q->nb; i++)
            if (q->b[i].has && q->b[i].rec.pos < P)
                P = q->b[i].rec.pos;
        if (P == INT64_MAX)
            break;
        int nat = 0, ncov = 0;
        for (int i = 0; i < q->nb; i++) {
            qbatch_t *qb = &q->b[i];
            if (qb->has && qb->rec.pos == P)
                at[nat++] = i;
            else if (ncallable && qb->n_iv && covered(qb, P))
                cov[ncov++] = i;
        }
        /* callable batches that do have records here may still lack a key */
        int ncov_all = ncov;
        if (ncallable)
            for (int t = 0; t < nat; t++)
                if (q->b[at[t]].n_iv && covered(&q->b[at[t]], P))
                    cov[ncov_all++] = at[t];
        int exact = 0;
        if (q->kind == Q_FREQ && q->any_overlap && nat + ncov_all > 1) {
            for (int x = 0; x < nat && !exact; x++) {
                for (int y = x + 1; y < nat && !exact; y++)
                    exact = q->overlap[at[x] * q->nb + at[y]];
                for (int y = 0; y < ncov && !exact; y++)
                    exact = q->overlap[at[x] * q->nb + cov[y]];
            }
            for (int x = 0; x < ncov && !exact; x++)
                for (int y = x + 1; y < ncov && !exact; y++)
                    exact = q->overlap[cov[x] * q->nb + cov[y]];
        }
        q->n_ent = 0;
        q->arena.l = 0;
        q->n_counts = 0;
        q->n_gts = 0;
        for (int t = 0; t < nat && rc == 0; t++) {
            qbatch_t *qb = &q->b[at[t]];
            while (rc == 0 && qb->has && qb->rec.pos == P) {
                if ((rc = group_add(q, at[t], exact)) < 0)
                    break;
                rc = stream_next(q, qb);
                if (rc > 0)
                    rc = 0;
                nrec++;
            }
        }
        if (rc < 0)
            break;
        /* positions of a batch only grow; a smaller one means a corrupt segment */
        if (q->kind == Q_FREQ)
            rc = freq_group(q, chrom, P, exact, cov, ncov_all);
        else
            rc = view_group(q, rid, P, cov, ncov_all);
        if ((nrec & 0xfffff) == 0)
            pm_progress(q->ctx, "records", nrec, 0);
    }
    free(cov);
    free(at);
    streams_close(q);
    pm_catgt_segs_free(segs, nsegs);
    return rc;
}

static int run_all(query_t *q)
{
    int rc = 0;
    for (int ci = 0; ci < q->cat->n_contigs && rc == 0; ci++) {
        if (q->has_region && strcmp(q->cat->contig[ci], q->chrom) != 0)
            continue;
        rc = run_contig(q, ci);
    }
    return rc;
}

int pm_freq(pm_store_t *st, const pm_gt_query_opts_t *opts, FILE *out)
{
    query_t q;
    int rc = query_open(&q, st, Q_FREQ, opts);
    if (rc == 0)
        rc = setup_freq(&q);
    if (rc == 0) {
        q.out = out;
        q.ocap = (size_t)1 << 20;
        q.obuf = malloc(q.ocap);
        if (!q.obuf)
            rc = oom(&q);
    }
    if (rc == 0) {
        out_str(&q, "#CHROM\tPOS\tID\tREF\tALT\tAC\tAN\tAF\tNHOMALT");
        if (q.by) {
            int shown = q.show_na ? q.n_strata : q.n_strata - 1;
            for (int s = 0; s < shown; s++) {
                out_str(&q, "\tAC_");
                out_str(&q, q.strata[s]);
                out_str(&q, "\tAN_");
                out_str(&q, q.strata[s]);
            }
        }
        out_ch(&q, '\n');
        rc = run_all(&q);
    }
    if (rc == 0)
        rc = out_flush(&q);
    if (rc == 0 && fflush(out) != 0)
        rc = pm_err(q.ctx, PM_EIO, "cannot write the output: %s", strerror(errno));
    query_close(&q);
    return rc;
}

int pm_view(pm_store_t *st, const pm_gt_query_opts_t *opts, const char *out_path)
{
    query_t q;
    int rc = query_open(&q, st, Q_VIEW, opts);
    char mode[4] = "w";
    int fmt = q.o->format ? q.o->format : 'v';
    if (rc == 0) {
        if (fmt == 'z')
            mode[1] = 'z';
        else if (fmt == 'b')
            mode[1] = 'b';
        else if (fmt != 'v')
            rc = pm_err(q.ctx, PM_EUSAGE, "unknown output format '%c' (v, z or b)", fmt);
    }
    if (rc == 0) {
        q.vhdr = bcf_hdr_init("w");
        q.vrec = bcf_init();
        if (!q.vhdr || !q.vrec)
            rc = oom(&q);
    }
    if (rc == 0) {
        kstring_t l = {0, 0, NULL};
        char build[64] = "";
        if (pm_store_setting(st, "reference_build", build, sizeof build) == 1 && build[0] &&
            strcmp(build, "unknown") != 0) {
            ksprintf(&l, "##reference=%s", build);
            bcf_hdr_append(q.vhdr, l.s);
        }
        for (int i = 0; i < q.cat->n_contigs && rc == 0; i++) {
            l.l = 0;
            if (q.cat->contig_len[i] > 0)
                ksprintf(&l, "##contig=<ID=%s,length=%lld>", q.cat->contig[i],
                         (long long)q.cat->contig_len[i]);
            else
                ksprintf(&l, "##contig=<ID=%s>", q.cat->contig[i]);
            if (bcf_hdr_append(q.vhdr, l.s) < 0)
                rc = pm_err(q.ctx, PM_EINTERNAL, "cannot add contig '%s' to the header",
                            q.cat->contig[i]);
        }
        if (rc == 0 &&
            bcf_hdr_append(q.vhdr,
                           "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">") < 0)
            rc = pm_err(q.ctx, PM_EINTERNAL, "cannot build the VCF header");
        l.l = 0;
        ksprintf(&l, "##source=promise %s", pm_version());
        bcf_hdr_append(q.vhdr, l.s);
        free(l.s);
    }
    if (rc == 0)
        rc = setup_view(&q);
    if (rc == 0) {
        q.vfp = hts_open(out_path ? out_path : "-", mode);
        if (!q.vfp)
            rc = pm_err(q.ctx, PM_EIO, "cannot open '%s' for writing: %s",
                        out_path ? out_path : "-", strerror(errno));
        else if (pm_ctx_threads(q.ctx) > 1 && fmt != 'v')
            hts_set_threads(q.vfp, pm_ctx_threads(q.ctx));
    }
    if (rc == 0 && bcf_hdr_write(q.vfp, q.vhdr) < 0)
        rc = pm_err(q.ctx, PM_EIO, "cannot write the output header");
    if (rc == 0)
        rc = run_all(&q);
    if (q.vfp && hts_close(q.vfp) < 0 && rc == 0)
        rc = pm_err(q.ctx, PM_EIO, "cannot write '%s'", out_path ? out_path : "-");
    q.vfp = NULL;
    if (q.vhdr)
        bcf_hdr_destroy(q.vhdr);
    query_close(&q);
    return rc;
}

int pm_genotype_carriers(pm_store_t *st, const char *chrom, int64_t pos, const char *ref,
                         const char *alt, pm_bitset_t *out)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    char norm[256];
    if (pm_contig_normalise(chrom, norm, sizeof norm) < 0)
        return pm_err(ctx, PM_EINPUT, "contig name too long");
    pm_catgt_t *cat;
    int rc = pm_catgt_load(st, 0, &cat);
    if (rc < 0)
        return rc;
    int ci = -1;
    for (int i = 0; i < cat->n_contigs; i++)
        if (strcmp(cat->contig[i], norm) == 0)
            ci = i;
    int found = 0;
    pm_catgt_seg_t *segs = NULL;
    size_t nsegs = 0;
    uint64_t *mask = NULL;
    size_t mcap = 0;
    if (ci >= 0)
        rc = pm_catgt_segments(st, cat->contig_id[ci], pos, pos, &segs, &nsegs);
    for (size_t s = 0; s < nsegs && rc == 0; s++) {
        const pm_catgt_batch_t *cb = NULL;
        for (int i = 0; i < cat->n_batches; i++)
            if (cat->batch[i].id == segs[s].batch)
                cb = &cat->batch[i];
        if (!cb)
            continue;
        char p[PATH_MAX];
        pm_gtr_t *r = NULL;
        if ((rc = pm_path(ctx, p, sizeof p, "%s/gt/%s", pm_store_path(st), segs[s].file)) < 0 ||
            (rc = pm_gtr_open(ctx, p, &r)) < 0 || (rc = pm_gtr_seek(r, pos, pos)) < 0) {
            pm_gtr_close(r);
            break;
        }
        pm_gtr_rec_t rec;
        while ((rc = pm_gtr_next(r, &rec)) == 1) {
            if (rec.pos != pos || strcmp(rec.ref, ref) != 0)
                continue;
            for (int a = 0; a < rec.n_alt; a++) {
                if (strcmp(rec.alt[a], alt) != 0)
                    continue;
                size_t words = ((size_t)cb->n_samples + 63) / 64 + 1;
                if (grow((void **)&mask, &mcap, words, sizeof *mask) < 0) {
                    rc = pm_err(ctx, PM_ENOMEM, "out of memory");
                    break;
                }
                memset(mask, 0, words * sizeof *mask);
                if ((rc = pm_gtr_carriers(r, a + 1, mask)) < 0)
                    break;
                for (int c = 0; c < cb->n_samples; c++)
                    if (mask[c >> 6] >> (c & 63) & 1) {
                        int64_t ind = cb->cols[c].individual;
                        if (ind >= 0 && (size_t)ind < out->n)
                            pm_bitset_set(out, (size_t)ind);
                    }
                found++;
            }
            if (rc < 0)
                break;
        }
        pm_gtr_close(r);
        if (rc > 0)
            rc = 0;
    }
    free(mask);
    pm_catgt_segs_free(segs, nsegs);
    pm_catgt_free(cat);
    return rc < 0 ? rc : found;
}
