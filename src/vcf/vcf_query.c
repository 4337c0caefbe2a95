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
#include "catalog/catalog.h"
#include "core/fileio.h"
#include "genotype/gtstore.h"
#include "promise/cohort.h"
#include "promise/genotype.h"
#include "promise/promise.h"
#include "vcf/vcf_internal.h"

enum { Q_FREQ, Q_VIEW, Q_ITER };

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
    size_t sp, spv;     /* iterator: listed columns at q->spc + sp, their calls at q->spv + spv */
    uint32_t sp_n;
    int pmode;          /* iterator: phase bit of the default call */
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
    /* iterator: the group's records in sparse form (pm_gtr_decode_sparse) */
    pm_gtr_sparse_t sdec;
    uint32_t *spc;
    size_t n_spc, cap_spc;
    int32_t *spv;
    size_t n_spv, cap_spv;
    int dense_ready; /* q->gts holds the group's records */
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
    /* merge state of the open contig */
    pm_catgt_seg_t *segs;
    size_t nsegs;
    int ncallable;
    int *cov, *at;
    int ncov_all;
    int64_t rid;
    uint64_t nrec;
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

/* ---- the handle's copy of the whole-store frequency set-up ----
 *
 * A frequency query over everyone (no cohort, no strata, no consent
 * purpose) builds the same per-batch masks every time, at a cost linear
 * in the samples: a server answering point lookups keeps one copy per
 * store handle and catalog generation and hands out copies of it. */
typedef struct fsetup {
    uint64_t gen;
    const void *cat; /* the genotype catalog the masks were made for */
    int nb;
    size_t n_ind;
    struct fsetup_b {
        uint64_t *mask;
        size_t words;
        int64_t n_mask;
        int16_t *stratum;
        size_t n_samples;
    } *b;
    uint8_t *overlap;
    int any_overlap;
} fsetup_t;

static void fsetup_free(void *p)
{
    fsetup_t *f = p;
    if (!f)
        return;
    for (int i = 0; f->b && i < f->nb; i++) {
        free(f->b[i].mask);
        free(f->b[i].stratum);
    }
    free(f->b);
    free(f->overlap);
    free(f);
}

static int everyone_freq(const query_t *q)
{
    return q->kind == Q_FREQ && !q->by && !(q->o->cohort && *q->o->cohort) &&
           !(q->o->purpose && *q->o->purpose);
}

/* The cohort size the handle's copy was made for, when it is the copy for
 * q's genotype catalog (saves the walk over every column); else 0. */
static int64_t fsetup_known_n(const query_t *q)
{
    void **slot = pm_store_module_slot(q->st, PM_SLOT_FREQ, fsetup_free);
    const fsetup_t *f = *slot;
    uint64_t gen = pm_catalog_generation(q->st);
    return f && gen && f->gen == gen && f->cat == (const void *)q->cat ? (int64_t)f->n_ind : 0;
}

/* Fills q's set-up from the handle's copy: 1 when there was one. */
static int fsetup_take(query_t *q)
{
    void **slot = pm_store_module_slot(q->st, PM_SLOT_FREQ, fsetup_free);
    fsetup_t *f = *slot;
    uint64_t gen = pm_catalog_generation(q->st);
    if (!f || !gen || f->gen != gen || f->cat != (const void *)q->cat || f->nb != q->nb ||
        f->n_ind != q->cohort->n)
        return 0;
    q->n_strata = 1;
    q->n_ind = (int64_t)q->cohort->n;
    q->acc = calloc(2, sizeof *q->acc);
    q->taken = calloc((size_t)q->n_ind + 1, 1);
    q->overlap = malloc((size_t)q->nb * (size_t)q->nb + 1);
    if (!q->acc || !q->taken || !q->overlap)
        return oom(q);
    memcpy(q->overlap, f->overlap, (size_t)q->nb * (size_t)q->nb + 1);
    q->any_overlap = f->any_overlap;
    for (int i = 0; i < q->nb; i++) {
        qbatch_t *qb = &q->b[i];
        const struct fsetup_b *fb = &f->b[i];
        qb->mask = malloc(fb->words * sizeof *qb->mask);
        qb->stratum = malloc((fb->n_samples + 1) * sizeof *qb->stratum);
        qb->stratum_n = calloc(1, sizeof *qb->stratum_n);
        if (!qb->mask || !qb->stratum || !qb->stratum_n)
            return oom(q);
        memcpy(qb->mask, fb->mask, fb->words * sizeof *qb->mask);
        memcpy(qb->stratum, fb->stratum, (fb->n_samples + 1) * sizeof *qb->stratum);
        qb->n_mask = fb->n_mask;
        qb->stratum_n[0] = fb->n_mask;
    }
    return 1;
}

/* Keeps a copy of q's fresh set-up on the handle (best effort). */
static void fsetup_keep(query_t *q)
{
    uint64_t gen = pm_catalog_generation(q->st);
    if (!gen)
        return;
    fsetup_t *f = calloc(1, sizeof *f);
    if (!f)
        return;
    f->gen = gen;
    f->cat = q->cat;
    f->nb = q->nb;
    f->n_ind = q->cohort->n;
    f->any_overlap = q->any_overlap;
    f->b = calloc((size_t)q->nb + 1, sizeof *f->b);
    f->overlap = malloc((size_t)q->nb * (size_t)q->nb + 1);
    int ok = f->b && f->overlap;
    if (ok)
        memcpy(f->overlap, q->overlap, (size_t)q->nb * (size_t)q->nb + 1);
    for (int i = 0; ok && i < q->nb; i++) {
        const qbatch_t *qb = &q->b[i];
        struct fsetup_b *fb = &f->b[i];
        fb->n_samples = (size_t)qb->cb->n_samples;
        fb->words = (fb->n_samples + 63) / 64 + 1; /* as setup_freq allocates */
        fb->n_mask = qb->n_mask;
        fb->mask = malloc(fb->words * sizeof *fb->mask);
        fb->stratum = malloc((fb->n_samples + 1) * sizeof *fb->stratum);
        if (!fb->mask || !fb->stratum) {
            ok = 0;
            break;
        }
        memcpy(fb->mask, qb->mask, fb->words * sizeof *fb->mask);
        memcpy(fb->stratum, qb->stratum, (fb->n_samples + 1) * sizeof *fb->stratum);
    }
    if (!ok) {
        fsetup_free(f);
        return;
    }
    void **slot = pm_store_module_slot(q->st, PM_SLOT_FREQ, fsetup_free);
    fsetup_free(*slot);
    *slot = f;
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
    /* batches sharing individuals (one batch: none; no per-individual work) */
    uint64_t *bm = nb > 1 && nb <= 64 ? calloc((size_t)q->n_ind + 1, sizeof *bm) : NULL;
    if (nb > 1 && nb <= 64 && !bm)
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
    } else if (nb > 64) {
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
    int has_purpose = q->o->purpose && *q->o->purpose;
    if ((q->o->cohort && *q->o->cohort) || has_purpose) {
        /* a consent purpose drops the opted-out even from "everyone" */
        pm_cohort_opts_t co = {.purpose = has_purpose ? q->o->purpose : NULL};
        if ((rc = pm_cohort_eval_opts(st, q->o->cohort, &co, &q->cohort)) < 0)
            return rc;
    } else {
        /* everyone: no need to evaluate anything (withdrawn are dropped per column) */
        int64_t known = fsetup_known_n(q), max = known - 1;
        for (int i = 0; !known && i < q->cat->n_batches; i++)
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
        pm_gtr_put(q->st, qb->r);
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
    free(q->sdec.cols);
    free(q->sdec.vecs);
    free(q->spc);
    free(q->spv);
    free(q->obuf);
    free(q->acc);
    free(q->vgt);
    free(q->filled);
    free(q->alleles);
    free(q->cov);
    free(q->at);
    pm_catgt_segs_free(q->segs, q->nsegs);
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
            const char *file = qb->segs[qb->seg_i++].file;
            int rc = pm_gtr_get(q->st, file, &qb->r);
            if (rc < 0)
                return rc;
            if ((uint32_t)qb->cb->n_samples != pm_gtr_n_samples(qb->r))
                return pm_err(q->ctx, PM_ECORRUPT, "segment '%s' has %u samples, its batch %d",
                              file, pm_gtr_n_samples(qb->r), qb->cb->n_samples);
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
        pm_gtr_put(q->st, qb->r);
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
    } else if (q->kind == Q_ITER) {
        /* only the columns that differ from the default call */
        pm_gtr_sparse_t *d = &q->sdec;
        if ((rc = pm_gtr_decode_sparse(qb->r, d)) < 0)
            return rc;
        size_t nv = (size_t)d->n * (size_t)d->ploidy;
        if (grow((void **)&q->spc, &q->cap_spc, q->n_spc + d->n + 1, sizeof *q->spc) < 0 ||
            grow((void **)&q->spv, &q->cap_spv, q->n_spv + nv + 1, sizeof *q->spv) < 0)
            return oom(q);
        e->sp = q->n_spc;
        e->spv = q->n_spv;
        e->sp_n = d->n;
        e->ploidy = d->ploidy;
        e->pmode = d->pmode;
        memcpy(q->spc + q->n_spc, d->cols, (size_t)d->n * sizeof *q->spc);
        memcpy(q->spv + q->n_spv, d->vecs, nv * sizeof *q->spv);
        q->n_spc += d->n;
        q->n_spv += nv;
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

/* qsort has no context argument in C17: the query being sorted, per
 * thread (the server runs queries on several threads at once) */
static _Thread_local query_t *g_sort_q;

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

/* ac/an formatted as printf's "%.6g" would, with integer arithmetic: the
 * rational is rounded to 6 significant digits; only an exact decimal tie
 * (where the double's binary value decides) goes to snprintf. */
static int fmt_af(char *buf, size_t cap, int64_t ac, int64_t an)
{
    if (ac <= 0 || an <= 0 || ac >= an || an > 100000000)
        return snprintf(buf, cap, "%.6g", (double)ac / (double)an);
    uint64_t t = (uint64_t)ac, d = (uint64_t)an;
    int e = 0;
    while (t < d) { /* afterwards 10^e <= ac/an < 10^(e+1) */
        t *= 10;
        e--;
    }
    if (e < -10)
        return snprintf(buf, cap, "%.6g", (double)ac / (double)an);
    uint64_t num = (uint64_t)ac;
    for (int i = 0; i < 5 - e; i++)
        num *= 10; /* < 1e8 * 1e15: fits */
    uint64_t m = num / d, rem = num % d;
    if (2 * rem == d)
        return snprintf(buf, cap, "%.6g", (double)ac / (double)an);
    if (2 * rem > d)
        m++;
    if (m >= 1000000) {
        m /= 10;
        e++;
    }
    if (e >= 0)
        return snprintf(buf, cap, "1");
    char dig[8];
    for (int i = 5; i >= 0; i--) {
        dig[i] = (char)('0' + m % 10);
        m /= 10;
    }
    int nd = 6;
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    size_t o = 0;
    if (e < -4) {
        buf[o++] = dig[0];
        if (nd > 1) {
            buf[o++] = '.';
            for (int i = 1; i < nd; i++)
                buf[o++] = dig[i];
        }
        buf[o++] = 'e';
        buf[o++] = '-';
        int x = -e;
        if (x >= 100)
            buf[o++] = (char)('0' + x / 100);
        buf[o++] = (char)('0' + x / 10 % 10);
        buf[o++] = (char)('0' + x % 10);
    } else {
        buf[o++] = '0';
        buf[o++] = '.';
        for (int i = 0; i < -e - 1; i++)
            buf[o++] = '0';
        for (int i = 0; i < nd; i++)
            buf[o++] = dig[i];
    }
    buf[o] = '\0';
    (void)cap;
    return (int)o;
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
    if (q->olen + 32 > q->ocap && out_flush(q) < 0)
        return;
    q->olen += (size_t)fmt_af(q->obuf + q->olen, 32, ac, an);
}

#ifdef PM_VCF_AF_SELFTEST
int pm_vcf_af_selftest(void);
int pm_vcf_af_selftest(void)
{
    char a[64], b[64];
    int bad = 0;
    for (int64_t an = 1; an <= 3000; an++)
        for (int64_t ac = 1; ac < an; ac++) {
            fmt_af(a, sizeof a, ac, an);
            snprintf(b, sizeof b, "%.6g", (double)ac / (double)an);
            if (strcmp(a, b) && bad++ < 10)
                fprintf(stderr, "%lld/%lld: %s vs %s\n", (long long)ac, (long long)an, a, b);
        }
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 3000000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t an = (int64_t)(x % 100000000) + 2, ac = (int64_t)((x >> 20) % (uint64_t)an);
        if (i & 1)
            ac = ac % 50 + 1;
        if (ac == 0 || ac >= an)
            continue;
        fmt_af(a, sizeof a, ac, an);
        snprintf(b, sizeof b, "%.6g", (double)ac / (double)an);
        if (strcmp(a, b) && bad++ < 10)
            fprintf(stderr, "%lld/%lld: %s vs %s\n", (long long)ac, (long long)an, a, b);
    }
    return bad;
}
#endif

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
            /* a missing call leaves the individual to a later batch (a
             * non-missing call, or hom-ref in callable regions) */
            if (an == 0)
                continue;
            q->taken[ind] = 1;
            if (q->n_touched < q->cap_touched ||
                grow((void **)&q->touched, &q->cap_touched, q->n_touched + 1,
                     sizeof *q->touched) == 0)
                q->touched[q->n_touched++] = ind;
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
        /* a sample in several batches: the first non-missing call (batch
         * order), else hom-ref from a callable batch lacking the record,
         * else its first missing call as stored */
        for (int pass = 0; pass < 2; pass++) {
            for (int t = k; t < j; t++) {
                const entry_t *e = &q->ent[q->keys[t].e];
                const qbatch_t *qb = &q->b[e->b];
                for (int c = 0; c < qb->cb->n_samples; c++) {
                    int o = qb->out_col[c];
                    if (o < 0 || q->filled[o] == q->stamp)
                        continue;
                    const int32_t *g = q->gts + e->gt + (size_t)c * (size_t)e->ploidy;
                    int l = 0, called = 0;
                    for (; l < e->ploidy && g[l] != PM_GT_VECTOR_END; l++)
                        called |= (g[l] >> 1) != 0;
                    if (pass == 0 && !called)
                        continue;
                    q->filled[o] = q->stamp;
                    int32_t *d = q->vgt + (size_t)o * (size_t)P;
                    for (l = 0; l < e->ploidy; l++)
                        d[l] = g[l];
                    for (; l < P; l++)
                        d[l] = PM_GT_VECTOR_END;
                }
            }
            if (pass == 1)
                break;
            /* callable batches lacking the record: 0/0 */
            for (int cI = 0; cI < n_cov_all; cI++) {
                int present = 0;
                for (int t = k; t < j && !present; t++)
                    present = q->ent[q->keys[t].e].b == cov_all[cI];
                if (present)
                    continue;
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

/* Opens the streams of contig ci (segments overlapping the region, callable
 * intervals) for group_read(). */
static int contig_begin(query_t *q, int ci)
{
    int64_t cid = q->cat->contig_id[ci];
    const char *chrom = q->cat->contig[ci];
    streams_close(q);
    pm_catgt_segs_free(q->segs, q->nsegs);
    q->segs = NULL;
    q->nsegs = 0;
    int rc = pm_catgt_segments(q->st, cid, q->has_region ? q->beg : INT64_MIN,
                               q->has_region ? q->end : -1, &q->segs, &q->nsegs);
    if (rc < 0)
        return rc;
    size_t k = 0;
    q->ncallable = 0;
    for (int i = 0; i < q->nb && rc == 0; i++) {
        qbatch_t *qb = &q->b[i];
        size_t s0 = k;
        while (k < q->nsegs && q->segs[k].batch == qb->cb->id)
            k++;
        qb->segs = q->segs + s0;
        qb->n_segs = k - s0;
        if (qb->cb->callable) {
            rc = pm_catgt_callable(q->st, qb->cb->id, cid, &qb->iv, &qb->n_iv);
            q->ncallable += qb->n_iv > 0;
        }
        if (rc == 0 && qb->n_segs)
            rc = stream_next(q, qb);
        if (rc > 0)
            rc = 0;
    }
    q->rid = -1;
    if (rc == 0 && q->kind == Q_VIEW && (q->rid = bcf_hdr_name2id(q->vhdr, chrom)) < 0)
        rc = pm_err(q->ctx, PM_EINTERNAL, "contig '%s' missing from the output header", chrom);
    if (rc == 0 && !q->cov) {
        q->cov = malloc(((size_t)q->nb + 1) * sizeof *q->cov);
        q->at = malloc(((size_t)q->nb + 1) * sizeof *q->at);
        if (!q->cov || !q->at)
            rc = oom(q);
    }
    return rc;
}

static void contig_end(query_t *q)
{
    streams_close(q);
    pm_catgt_segs_free(q->segs, q->nsegs);
    q->segs = NULL;
    q->nsegs = 0;
}

/* Reads the next position group of the open contig into q->ent: 1 = a
 * group at *pos (q->ncov_all callable batches in q->cov, *exact set when
 * per-individual counting is needed), 0 = contig done, < 0 error. With
 * force_exact the genotypes are always decoded. */
static int group_read(query_t *q, int force_exact, int64_t *pos, int *exact_out)
{
    int64_t P = INT64_MAX;
    for (int i = 0; i < q->nb; i++)
        if (q->b[i].has && q->b[i].rec.pos < P)
            P = q->b[i].rec.pos;
    if (P == INT64_MAX)
        return 0;
    int *at = q->at, *cov = q->cov;
    int nat = 0, ncov = 0;
    for (int i = 0; i < q->nb; i++) {
        qbatch_t *qb = &q->b[i];
        if (qb->has && qb->rec.pos == P)
            at[nat++] = i;
        else if (q->ncallable && qb->n_iv && covered(qb, P))
            cov[ncov++] = i;
    }
    /* callable batches that do have records here may still lack a key */
    int ncov_all = ncov;
    if (q->ncallable)
        for (int t = 0; t < nat; t++)
            if (q->b[at[t]].n_iv && covered(&q->b[at[t]], P))
                cov[ncov_all++] = at[t];
    int exact = force_exact;
    if (!exact && q->kind == Q_FREQ && q->any_overlap && nat + ncov_all > 1) {
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
    q->n_spc = 0;
    q->n_spv = 0;
    q->dense_ready = 0;
    int rc = 0;
    for (int t = 0; t < nat && rc == 0; t++) {
        qbatch_t *qb = &q->b[at[t]];
        while (rc == 0 && qb->has && qb->rec.pos == P) {
            if ((rc = group_add(q, at[t], exact)) < 0)
                break;
            rc = stream_next(q, qb);
            if (rc > 0)
                rc = 0;
            q->nrec++;
        }
    }
    if (rc < 0)
        return rc;
    if ((q->nrec & 0xfffff) == 0)
        pm_progress(q->ctx, "records", q->nrec, 0);
    q->ncov_all = ncov_all;
    *pos = P;
    *exact_out = exact;
    return 1;
}

static int run_contig(query_t *q, int ci)
{
    const char *chrom = q->cat->contig[ci];
    int rc = contig_begin(q, ci);
    while (rc == 0) {
        int64_t P;
        int exact;
        rc = group_read(q, 0, &P, &exact);
        if (rc <= 0)
            break;
        if (q->kind == Q_FREQ)
            rc = freq_group(q, chrom, P, exact, q->cov, q->ncov_all);
        else
            rc = view_group(q, q->rid, P, q->cov, q->ncov_all);
    }
    contig_end(q);
    return rc < 0 ? rc : 0;
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
    if (rc == 0 && everyone_freq(&q)) {
        if ((rc = fsetup_take(&q)) == 0 && (rc = setup_freq(&q)) == 0)
            fsetup_keep(&q);
        else if (rc == 1)
            rc = 0;
    } else if (rc == 0) {
        rc = setup_freq(&q);
    }
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
        pm_gtr_t *r = NULL;
        if ((rc = pm_gtr_get(st, segs[s].file, &r)) < 0 || (rc = pm_gtr_seek(r, pos, pos)) < 0) {
            pm_gtr_put(st, r);
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
        if (rc < 0)
            pm_gtr_close(r);
        else
            pm_gtr_put(st, r);
        if (rc > 0)
            rc = 0;
    }
    free(mask);
    pm_catgt_segs_free(segs, nsegs);
    pm_catgt_free(cat);
    return rc < 0 ? rc : found;
}

/* ---- site iterator ----
 *
 * The same merge as pm_freq, pulled one (REF, ALT) key at a time. Every
 * group is decoded and counted per individual with the rules of
 * count_exact(): per batch the individual's first counted column, across
 * batches the first non-missing call in batch order, else hom-ref from a
 * callable batch lacking the record, else missing. */

struct pm_gt_iter {
    query_t q;
    uint32_t n;           /* cohort positions */
    int64_t *ind;         /* individual per position */
    int32_t **colpos;     /* per batch: cohort position per column, -1 = not counted */
    uint32_t **bpos;      /* per batch: its positions, increasing */
    uint32_t *n_bpos;
    uint32_t *seen, *mst; /* stamps per position */
    uint32_t stamp;
    /* absent: positions in no batch of the participating set */
    uint8_t *part, *part_prev;
    int part_valid;
    uint32_t *absent;
    uint32_t n_absent;
    uint32_t *mark; /* stamps for the absent computation */
    uint32_t mstamp;
    /* output */
    uint64_t *car;  /* pos << 8 | dosage */
    size_t n_car, cap_car;
    uint32_t *carrier;
    uint8_t *dosage;
    size_t cap_out;
    uint32_t *cand; /* explicit missing candidates */
    size_t n_cand, cap_cand;
    uint32_t *miss;
    size_t cap_miss;
    /* position in the walk */
    int ci;         /* contig index; -1 before the first */
    int open;       /* contig streams open */
    int64_t P;
    int nk, k;      /* keys of the current group */
    int *covp;
    int done;
};

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void pm_gt_iter_close(pm_gt_iter_t *it)
{
    if (!it)
        return;
    query_t *q = &it->q;
    for (int i = 0; i < q->nb; i++) {
        if (it->colpos)
            free(it->colpos[i]);
        if (it->bpos)
            free(it->bpos[i]);
    }
    free(it->colpos);
    free(it->bpos);
    free(it->n_bpos);
    free(it->ind);
    free(it->seen);
    free(it->mst);
    free(it->part);
    free(it->part_prev);
    free(it->absent);
    free(it->mark);
    free(it->car);
    free(it->carrier);
    free(it->dosage);
    free(it->cand);
    free(it->miss);
    free(it->covp);
    query_close(q);
    free(it);
}

int pm_gt_iter_open(pm_store_t *st, const pm_gt_query_opts_t *opts, pm_gt_iter_t **out)
{
    *out = NULL;
    pm_gt_iter_t *it = calloc(1, sizeof *it);
    if (!it)
        return pm_err(pm_store_ctx(st), PM_ENOMEM, "out of memory");
    pm_gt_query_opts_t o = {0};
    if (opts) {
        o.region = opts->region;
        o.cohort = opts->cohort;
        o.purpose = opts->purpose;
    }
    query_t *q = &it->q;
    int rc = query_open(q, st, Q_ITER, &o);
    q->o = NULL; /* o is local; query_open copied what it needs */
    if (rc == 0)
        rc = setup_freq(q);
    int nb = q->nb;
    int32_t *posmap = NULL;
    if (rc == 0) {
        it->colpos = calloc((size_t)nb + 1, sizeof *it->colpos);
        it->bpos = calloc((size_t)nb + 1, sizeof *it->bpos);
        it->n_bpos = calloc((size_t)nb + 1, sizeof *it->n_bpos);
        it->part = calloc((size_t)nb + 1, 1);
        it->part_prev = calloc((size_t)nb + 1, 1);
        it->covp = malloc(((size_t)nb + 1) * sizeof *it->covp);
        posmap = malloc(((size_t)q->n_ind + 1) * sizeof *posmap);
        if (!it->colpos || !it->bpos || !it->n_bpos || !it->part || !it->part_prev ||
            !it->covp || !posmap)
            rc = oom(q);
    }
    if (rc == 0) {
        /* cohort positions: individuals with a counted column, in index order */
        for (int64_t i = 0; i < q->n_ind; i++)
            posmap[i] = -1;
        for (int b = 0; b < nb; b++)
            for (int c = 0; c < q->b[b].cb->n_samples; c++)
                if (q->b[b].stratum[c] >= 0)
                    posmap[q->b[b].cb->cols[c].individual] = 0;
        uint32_t n = 0;
        for (int64_t i = 0; i < q->n_ind; i++)
            if (posmap[i] == 0)
                n++;
        it->n = n;
        it->ind = malloc(((size_t)n + 1) * sizeof *it->ind);
        it->seen = calloc((size_t)n + 1, sizeof *it->seen);
        it->mst = calloc((size_t)n + 1, sizeof *it->mst);
        it->mark = calloc((size_t)n + 1, sizeof *it->mark);
        if (!it->ind || !it->seen || !it->mst || !it->mark)
            rc = oom(q);
        n = 0;
        for (int64_t i = 0; i < q->n_ind && rc == 0; i++)
            if (posmap[i] == 0) {
                it->ind[n] = i;
                posmap[i] = (int32_t)n++;
            }
    }
    for (int b = 0; b < nb && rc == 0; b++) {
        const qbatch_t *qb = &q->b[b];
        int ns = qb->cb->n_samples;
        it->colpos[b] = malloc(((size_t)ns + 1) * sizeof **it->colpos);
        it->bpos[b] = malloc(((size_t)qb->n_mask + 1) * sizeof **it->bpos);
        if (!it->colpos[b] || !it->bpos[b]) {
            rc = oom(q);
            break;
        }
        uint32_t m = 0;
        int sorted = 1;
        for (int c = 0; c < ns; c++) {
            int32_t p = qb->stratum[c] >= 0 ? posmap[qb->cb->cols[c].individual] : -1;
            it->colpos[b][c] = p;
            if (p >= 0) {
                if (m && it->bpos[b][m - 1] > (uint32_t)p)
                    sorted = 0;
                it->bpos[b][m++] = (uint32_t)p;
            }
        }
        if (!sorted)
            qsort(it->bpos[b], m, sizeof **it->bpos, cmp_u32);
        it->n_bpos[b] = m;
    }
    free(posmap);
    if (rc == 0) {
        it->cap_out = 0;
        it->ci = -1;
        *out = it;
        return 0;
    }
    pm_gt_iter_close(it);
    return rc;
}

uint32_t pm_gt_iter_n(const pm_gt_iter_t *it) { return it->n; }

const int64_t *pm_gt_iter_individuals(const pm_gt_iter_t *it) { return it->ind; }

/* Positions in no participating batch, cached while the set is unchanged. */
static int iter_absent(pm_gt_iter_t *it)
{
    query_t *q = &it->q;
    if (it->part_valid && memcmp(it->part, it->part_prev, (size_t)q->nb) == 0)
        return 0;
    memcpy(it->part_prev, it->part, (size_t)q->nb);
    it->part_valid = 1;
    if (++it->mstamp == 0) {
        memset(it->mark, 0, (size_t)it->n * sizeof *it->mark);
        it->mstamp = 1;
    }
    uint32_t covered_n = 0;
    for (int b = 0; b < q->nb; b++)
        if (it->part[b])
            for (uint32_t i = 0; i < it->n_bpos[b]; i++) {
                uint32_t p = it->bpos[b][i];
                covered_n += it->mark[p] != it->mstamp;
                it->mark[p] = it->mstamp;
            }
    if (!it->absent) {
        it->absent = malloc(((size_t)it->n + 1) * sizeof *it->absent);
        if (!it->absent)
            return oom(q);
    }
    it->n_absent = 0;
    if (covered_n == it->n)
        return 0;
    for (uint32_t p = 0; p < it->n; p++)
        if (it->mark[p] != it->mstamp)
            it->absent[it->n_absent++] = p;
    return 0;
}

/* Expands the group's sparse records into q->gts, once per group, for the
 * per-sample path: every column the default call, then the listed ones. */
static int iter_dense(query_t *q)
{
    if (q->dense_ready)
        return 0;
    q->n_gts = 0;
    for (int i = 0; i < q->n_ent; i++) {
        entry_t *e = &q->ent[i];
        const int P = e->ploidy;
        const size_t ns = (size_t)q->b[e->b].cb->n_samples, n = ns * (size_t)P;
        if (grow((void **)&q->gts, &q->cap_gts, q->n_gts + n + 1, sizeof *q->gts) < 0)
            return oom(q);
        int32_t *o = q->gts + q->n_gts;
        for (size_t c = 0; c < ns && P > 0; c++) {
            int32_t *v = o + c * (size_t)P;
            v[0] = 2;
            if (P >= 2) {
                v[1] = 2 | e->pmode;
                for (int l = 2; l < P; l++)
                    v[l] = PM_GT_VECTOR_END;
            }
        }
        const uint32_t *cols = q->spc + e->sp;
        const int32_t *vec = q->spv + e->spv;
        for (uint32_t x = 0; x < e->sp_n; x++)
            memcpy(o + (size_t)cols[x] * (size_t)P, vec + (size_t)x * (size_t)P,
                   (size_t)P * sizeof *o);
        e->gt = q->n_gts;
        q->n_gts += n;
    }
    q->dense_ready = 1;
    return 0;
}

/* Can key run [k, j) be answered from the listed columns alone? Yes when
 * its records come from distinct batches and no two batches involved
 * (those records' and the callable ones lacking the key) share a counted
 * individual: then every cohort position is answered by at most one
 * batch, and a batch's unlisted counted columns all hold the default. */
static int iter_sparse_ok(const pm_gt_iter_t *it, int k, int j)
{
    const query_t *q = &it->q;
    for (int t = k; t < j; t++)
        for (int u = k; u < t; u++)
            if (q->ent[q->keys[t].e].b == q->ent[q->keys[u].e].b)
                return 0;
    if (!q->any_overlap)
        return 1;
    const int nb = q->nb;
    for (int t = k; t < j; t++) {
        int bt = q->ent[q->keys[t].e].b;
        for (int u = k; u < t; u++)
            if (q->overlap[bt * nb + q->ent[q->keys[u].e].b])
                return 0;
        for (int c = 0; c < q->ncov_all; c++)
            if (q->cov[c] != bt && q->overlap[bt * nb + q->cov[c]])
                return 0;
    }
    for (int c = 0; c < q->ncov_all; c++)
        for (int d = 0; d < c; d++)
            if (q->cov[c] != q->cov[d] && q->overlap[q->cov[c] * nb + q->cov[d]])
                return 0;
    return 1;
}

/* The counts of one call for ALT want (1-based), as the per-sample loop of
 * iter_site() takes them: *an non-missing alleles (0 = missing), *ac
 * copies of want, *hom whether every one of >= 2 alleles is want. */
static inline void iter_call(const int32_t *g, int ploidy, int32_t want, int *an_o, int *ac_o,
                             int *hom_o)
{
    if (ploidy == 2 && g[0] != PM_GT_VECTOR_END && g[1] != PM_GT_VECTOR_END) {
        /* two entries: the loop below unrolled (want >= 1, so a match is never '.') */
        int x0 = g[0] >> 1, x1 = g[1] >> 1;
        int an = (x0 != 0) + (x1 != 0), ac = (x0 - 1 == want) + (x1 - 1 == want);
        *an_o = an;
        *ac_o = ac;
        *hom_o = an == 2 && ac == 2;
        return;
    }
    int an = 0, ac = 0, np = 0;
    for (int l = 0; l < ploidy; l++) {
        if (g[l] == PM_GT_VECTOR_END)
            break;
        np++;
        if ((g[l] >> 1) == 0)
            continue;
        an++;
        if ((g[l] >> 1) - 1 == want)
            ac++;
    }
    *an_o = an;
    *ac_o = ac;
    *hom_o = np >= 2 && an == np && ac == np;
}

/* Key run [k, j) from the listed columns (iter_sparse_ok() holds). */
static int iter_sparse(pm_gt_iter_t *it, int k, int j, int64_t *ac_t, int64_t *an_t,
                       int64_t *hom_t)
{
    query_t *q = &it->q;
    for (int t = k; t < j; t++) {
        const entry_t *e = &q->ent[q->keys[t].e];
        const int32_t *cp = it->colpos[e->b];
        const int32_t want = q->keys[t].a + 1;
        const int P = e->ploidy;
        it->part[e->b] = 1;
        if (P == 0) {
            /* no genotypes: everyone counted here is missing */
            uint32_t m = it->n_bpos[e->b];
            if (grow((void **)&it->cand, &it->cap_cand, it->n_cand + m + 1, sizeof *it->cand) < 0)
                return oom(q);
            memcpy(it->cand + it->n_cand, it->bpos[e->b], (size_t)m * sizeof *it->cand);
            it->n_cand += m;
            continue;
        }
        const uint32_t *cols = q->spc + e->sp;
        const int32_t *vec = q->spv + e->spv;
        uint32_t listed = 0;
        for (uint32_t x = 0; x < e->sp_n; x++) {
            int32_t p = cp[cols[x]];
            if (p < 0)
                continue;
            listed++;
            int an, ac, hom;
            iter_call(vec + (size_t)x * (size_t)P, P, want, &an, &ac, &hom);
            if (an == 0) {
                if (grow((void **)&it->cand, &it->cap_cand, it->n_cand + 1, sizeof *it->cand) < 0)
                    return oom(q);
                it->cand[it->n_cand++] = (uint32_t)p;
                continue;
            }
            *an_t += an;
            *ac_t += ac;
            *hom_t += hom;
            if (ac) {
                if (grow((void **)&it->car, &it->cap_car, it->n_car + 1, sizeof *it->car) < 0)
                    return oom(q);
                it->car[it->n_car++] = (uint64_t)p << 8 | (uint64_t)(ac > 255 ? 255 : ac);
            }
        }
        /* the unlisted counted columns: the default call, non-missing */
        *an_t += (int64_t)(P == 1 ? 1 : 2) * (int64_t)(it->n_bpos[e->b] - listed);
    }
    /* callable batches lacking this key: hom-ref, nobody else answers them */
    for (int c = 0; c < q->ncov_all; c++) {
        int b = q->cov[c];
        if (it->part[b])
            continue;
        it->part[b] = 1;
        *an_t += 2 * (int64_t)it->n_bpos[b];
    }
    return 0;
}

/* Fills *site from key run [k, j) of the current group. */
static int iter_site(pm_gt_iter_t *it, int k, int j, pm_gt_site_t *site)
{
    query_t *q = &it->q;
    if (++it->stamp == 0) {
        memset(it->seen, 0, (size_t)it->n * sizeof *it->seen);
        memset(it->mst, 0, (size_t)it->n * sizeof *it->mst);
        it->stamp = 1;
    }
    uint32_t stamp = it->stamp;
    int64_t ac_t = 0, an_t = 0, hom_t = 0;
    it->n_car = 0;
    it->n_cand = 0;
    memset(it->part, 0, (size_t)q->nb);
    int sparse = iter_sparse_ok(it, k, j);
    if (sparse) {
        int rc = iter_sparse(it, k, j, &ac_t, &an_t, &hom_t);
        if (rc < 0)
            return rc;
    } else {
        int rc = iter_dense(q);
        if (rc < 0)
            return rc;
    }
    for (int t = k; t < j && !sparse; t++) {
        const entry_t *e = &q->ent[q->keys[t].e];
        const int32_t *cp = it->colpos[e->b];
        int32_t want = q->keys[t].a + 1;
        int ns = q->b[e->b].cb->n_samples;
        it->part[e->b] = 1;
        for (int c = 0; c < ns; c++) {
            int32_t p = cp[c];
            if (p < 0 || it->seen[p] == stamp)
                continue;
            const int32_t *g = q->gts + e->gt + (size_t)c * (size_t)e->ploidy;
            if (e->ploidy == 2 && g[0] == 2 && (g[1] >> 1) == 1) {
                /* diploid hom-ref, the usual call */
                it->seen[p] = stamp;
                an_t += 2;
                continue;
            }
            int an = 0, ac = 0, np = 0;
            for (int l = 0; l < e->ploidy; l++) {
                if (g[l] == PM_GT_VECTOR_END)
                    break;
                np++;
                if ((g[l] >> 1) == 0)
                    continue;
                an++;
                if ((g[l] >> 1) - 1 == want)
                    ac++;
            }
            if (an == 0) {
                if (it->mst[p] != stamp) {
                    it->mst[p] = stamp;
                    if (grow((void **)&it->cand, &it->cap_cand, it->n_cand + 1,
                             sizeof *it->cand) < 0)
                        return oom(q);
                    it->cand[it->n_cand++] = (uint32_t)p;
                }
                continue;
            }
            it->seen[p] = stamp;
            an_t += an;
            ac_t += ac;
            if (np >= 2 && an == np && ac == np)
                hom_t++;
            if (ac) {
                if (grow((void **)&it->car, &it->cap_car, it->n_car + 1, sizeof *it->car) < 0)
                    return oom(q);
                it->car[it->n_car++] = (uint64_t)p << 8 | (uint64_t)(ac > 255 ? 255 : ac);
            }
        }
    }
    /* callable batches lacking this key: hom-ref */
    for (int c = 0; c < q->ncov_all && !sparse; c++) {
        int b = q->cov[c];
        if (it->part[b])
            continue;
        it->part[b] = 1;
        const int32_t *cp = it->colpos[b];
        int ns = q->b[b].cb->n_samples;
        for (int s = 0; s < ns; s++) {
            int32_t p = cp[s];
            if (p < 0 || it->seen[p] == stamp)
                continue;
            it->seen[p] = stamp;
            an_t += 2;
        }
    }
    int rc = iter_absent(it);
    if (rc < 0)
        return rc;
    /* missing: explicit missing calls nobody else answered, plus absent */
    size_t nm = 0;
    for (size_t i = 0; i < it->n_cand; i++)
        if (it->seen[it->cand[i]] != stamp)
            it->cand[nm++] = it->cand[i];
    int sorted = 1;
    for (size_t i = 1; i < nm && sorted; i++)
        sorted = it->cand[i - 1] < it->cand[i];
    if (!sorted)
        qsort(it->cand, nm, sizeof *it->cand, cmp_u32);
    size_t need = nm + it->n_absent + 1;
    if (grow((void **)&it->miss, &it->cap_miss, need, sizeof *it->miss) < 0)
        return oom(q);
    size_t a = 0, b = 0, o = 0;
    while (a < nm || b < it->n_absent) {
        if (b >= it->n_absent || (a < nm && it->cand[a] < it->absent[b]))
            it->miss[o++] = it->cand[a++];
        else
            it->miss[o++] = it->absent[b++];
    }
    /* carriers, increasing */
    sorted = 1;
    for (size_t i = 1; i < it->n_car && sorted; i++)
        sorted = it->car[i - 1] < it->car[i];
    if (!sorted)
        qsort(it->car, it->n_car, sizeof *it->car, cmp_u64);
    if (it->n_car + 1 > it->cap_out) {
        size_t cap = it->cap_out ? it->cap_out : 64;
        while (cap < it->n_car + 1)
            cap *= 2;
        uint32_t *nc = realloc(it->carrier, cap * sizeof *nc);
        if (!nc)
            return oom(q);
        it->carrier = nc;
        uint8_t *nd = realloc(it->dosage, cap);
        if (!nd)
            return oom(q);
        it->dosage = nd;
        it->cap_out = cap;
    }
    for (size_t i = 0; i < it->n_car; i++) {
        it->carrier[i] = (uint32_t)(it->car[i] >> 8);
        it->dosage[i] = (uint8_t)(it->car[i] & 0xff);
    }
    const entry_t *e0 = &q->ent[q->keys[k].e];
    site->chrom = q->cat->contig[it->ci];
    site->pos = it->P;
    site->id = ARENA(q, e0->id);
    site->ref = ARENA(q, e0->ref);
    site->alt = alt_of(q, e0, q->keys[k].a);
    site->allele = q->keys[k].a + 1;
    site->ac = ac_t;
    site->an = an_t;
    site->nhomalt = hom_t;
    site->carrier = it->carrier;
    site->dosage = it->dosage;
    site->n_carrier = (uint32_t)it->n_car;
    site->missing = it->miss;
    site->n_missing = (uint32_t)o;
    return 0;
}

int pm_gt_iter_next(pm_gt_iter_t *it, pm_gt_site_t *site)
{
    query_t *q = &it->q;
    for (;;) {
        if (it->done)
            return 0;
        if (it->k < it->nk) {
            /* run of equal (REF, ALT) */
            int k = it->k, j = k + 1;
            const entry_t *e0 = &q->ent[q->keys[k].e];
            const char *ref0 = ARENA(q, e0->ref), *alt0 = alt_of(q, e0, q->keys[k].a);
            while (j < it->nk) {
                const entry_t *ej = &q->ent[q->keys[j].e];
                if (strcmp(ARENA(q, ej->ref), ref0) ||
                    strcmp(alt_of(q, ej, q->keys[j].a), alt0))
                    break;
                j++;
            }
            it->k = j;
            int rc = iter_site(it, k, j, site);
            if (rc < 0) {
                it->done = 1;
                return rc;
            }
            return 1;
        }
        if (!it->open) {
            int ci = it->ci + 1;
            while (ci < q->cat->n_contigs && q->has_region &&
                   strcmp(q->cat->contig[ci], q->chrom) != 0)
                ci++;
            if (ci >= q->cat->n_contigs) {
                it->done = 1;
                contig_end(q);
                return 0;
            }
            it->ci = ci;
            int rc = contig_begin(q, ci);
            if (rc < 0) {
                it->done = 1;
                return rc;
            }
            it->open = 1;
        }
        int exact;
        int rc = group_read(q, 1, &it->P, &exact);
        if (rc < 0) {
            it->done = 1;
            return rc;
        }
        if (rc == 0) {
            contig_end(q);
            it->open = 0;
            continue;
        }
        /* keys (REF, ALT) sorted as pm_freq sorts them */
        int nk = 0;
        for (int i = 0; i < q->n_ent; i++)
            nk += q->ent[i].n_alt;
        if (grow((void **)&q->keys, &q->cap_keys, (size_t)nk + 1, sizeof *q->keys) < 0) {
            it->done = 1;
            return oom(q);
        }
        nk = 0;
        for (int i = 0; i < q->n_ent; i++)
            for (int a = 0; a < q->ent[i].n_alt; a++)
                if (strcmp(alt_of(q, &q->ent[i], a), ".") != 0)
                    q->keys[nk++] = (gkey_t){i, a};
        g_sort_q = q;
        if (nk > 1)
            qsort(q->keys, (size_t)nk, sizeof *q->keys, cmp_key_freq);
        it->nk = nk;
        it->k = 0;
    }
}
