/*
 * om_query.c - values of a feature for a cohort, with the sample choice
 * for longitudinal data, and the cohort-language threshold (see
 * promise/omics.h). A feature costs one block read per batch that
 * measured it; the catalog supplies each batch's columns (sample,
 * individual, collection date).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/cat_omics.h"
#include "core/fileio.h"
#include "omics/om_int.h"
#include "promise/omics.h"

int pm_omics_choice_parse(const char *s, pm_omics_choice_t *out)
{
    memset(out, 0, sizeof *out);
    if (!s || strcmp(s, "all") == 0)
        out->mode = PM_OMICS_ALL;
    else if (strcmp(s, "first") == 0)
        out->mode = PM_OMICS_FIRST;
    else if (strcmp(s, "last") == 0)
        out->mode = PM_OMICS_LAST;
    else if (strncmp(s, "nearest:", 8) == 0) {
        const char *d = s + 8;
        int y, m, dd;
        char tail;
        static const int md[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        if (strlen(d) != 10 || sscanf(d, "%4d-%2d-%2d%c", &y, &m, &dd, &tail) != 3 || y < 1000 ||
            m < 1 || m > 12 || dd < 1 || dd > md[m - 1] ||
            (m == 2 && dd == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
            return PM_EUSAGE;
        out->mode = PM_OMICS_NEAREST;
        out->date = y * 10000 + m * 100 + dd;
    } else
        return PM_EUSAGE;
    return 0;
}

typedef struct cand {
    int64_t individual, sample;
    int32_t date;
    float v;
    uint8_t fl;
    const char *sid, *pseudo; /* borrowed from the column lists */
} cand_t;

static int cmp_cand(const void *a, const void *b)
{
    const cand_t *x = a, *y = b;
    if (x->individual != y->individual)
        return x->individual < y->individual ? -1 : 1;
    /* dated before undated, then by date, then by sample */
    int xu = x->date == 0, yu = y->date == 0;
    if (xu != yu)
        return xu - yu;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return (x->sample > y->sample) - (x->sample < y->sample);
}

void pm_omics_vals_free(pm_omics_vals_t *v)
{
    if (!v)
        return;
    free(v->individual);
    free(v->sample);
    free(v->date);
    free(v->value);
    free(v->flags);
    if (v->sample_id)
        for (size_t i = 0; i < v->n; i++)
            free((char *)v->sample_id[i]);
    if (v->pseudonym)
        for (size_t i = 0; i < v->n; i++)
            free((char *)v->pseudonym[i]);
    free(v->sample_id);
    free(v->pseudonym);
    free(v->assay);
    free(v->feature_id);
    free(v->feature_name);
    free(v);
}

/* Picks per individual group c[lo..hi) the index of the chosen sample,
 * or -1 when none qualifies. The group is sorted as cmp_cand. */
static int64_t choose(const cand_t *c, size_t lo, size_t hi, const pm_omics_choice_t *ch)
{
    int64_t best = -1;
    int64_t bestd = INT64_MAX;
    for (size_t i = lo; i < hi; i++) {
        if (c[i].fl & PM_OMICS_MISSING)
            continue;
        switch (ch->mode) {
        case PM_OMICS_FIRST:
            if (best < 0)
                best = (int64_t)i; /* sorted: dated first, earliest first */
            break;
        case PM_OMICS_LAST:
            /* the latest dated one; undated only when nothing is dated */
            if (best < 0 || c[i].date != 0 || c[best].date == 0)
                best = (int64_t)i;
            break;
        case PM_OMICS_NEAREST: {
            if (!c[i].date)
                break;
            int64_t d = pm_om_days(c[i].date) - pm_om_days(ch->date);
            if (d < 0)
                d = -d;
            if (d < bestd) { /* strict: ties keep the earlier */
                bestd = d;
                best = (int64_t)i;
            }
            break;
        }
        default:
            break;
        }
    }
    return best;
}

/* Column lists of batches kept across features (pm_omics_values_each). */
typedef struct colcache {
    int64_t *batch;
    pm_catom_col_t **cl;
    size_t *ncl;
    size_t n, cap;
} colcache_t;

static void colcache_free(colcache_t *cc)
{
    for (size_t i = 0; i < cc->n; i++)
        pm_catom_cols_free(cc->cl[i], cc->ncl[i]);
    free(cc->batch);
    free(cc->cl);
    free(cc->ncl);
}

/* The columns of batch b, from the cache or the catalog (then cached). */
static int colcache_get(pm_store_t *st, colcache_t *cc, int64_t b, int want_names,
                        pm_catom_col_t **cl, size_t *ncl)
{
    for (size_t i = 0; i < cc->n; i++)
        if (cc->batch[i] == b) {
            *cl = cc->cl[i];
            *ncl = cc->ncl[i];
            return 0;
        }
    if (cc->n == cc->cap) {
        size_t nc = cc->cap ? 2 * cc->cap : 8;
        int64_t *nb = realloc(cc->batch, nc * sizeof *nb);
        if (nb)
            cc->batch = nb;
        pm_catom_col_t **ncl2 = realloc(cc->cl, nc * sizeof *ncl2);
        if (ncl2)
            cc->cl = ncl2;
        size_t *nn = realloc(cc->ncl, nc * sizeof *nn);
        if (nn)
            cc->ncl = nn;
        if (!nb || !ncl2 || !nn)
            return pm_err(pm_store_ctx(st), PM_ENOMEM, "out of memory");
        cc->cap = nc;
    }
    int rc = pm_catom_columns(st, b, want_names, cl, ncl);
    if (rc < 0)
        return rc;
    cc->batch[cc->n] = b;
    cc->cl[cc->n] = *cl;
    cc->ncl[cc->n++] = *ncl;
    return 0;
}

/* Gathers the candidate values of feature fid. With a cache the column
 * lists are borrowed from it (and *cols_keep entries are not to be freed). */
static int gather(pm_store_t *st, int64_t fid, const pm_bitset_t *cohort, int want_names,
                  colcache_t *cache, cand_t **out, size_t *nout, pm_catom_col_t ***cols_keep,
                  size_t **ncols_keep, size_t *nbatches)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    pm_catom_block_t *blk = NULL;
    size_t nb = 0;
    int rc = pm_catom_blocks(st, fid, &blk, &nb);
    if (rc < 0)
        return rc;
    pm_catom_col_t **cl = calloc(nb ? nb : 1, sizeof *cl);
    size_t *ncl = calloc(nb ? nb : 1, sizeof *ncl);
    cand_t *c = NULL;
    size_t n = 0, cap = 0;
    float *val = NULL;
    uint8_t *fl = NULL;
    if (!cl || !ncl)
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
    for (size_t b = 0; b < nb && rc == 0; b++) {
        const pm_catom_block_t *k = &blk[b];
        if (k->n_samples < 0 || k->n_samples > UINT32_MAX || k->n_features <= 0 ||
            k->n_features > UINT32_MAX || k->block < 0 || k->block >= k->n_features) {
            rc = pm_err(ctx, PM_ECORRUPT, "catalog of '%s': omics batch %lld is inconsistent",
                        pm_store_path(st), (long long)k->batch);
            break;
        }
        if ((rc = cache ? colcache_get(st, cache, k->batch, want_names, &cl[b], &ncl[b])
                        : pm_catom_columns(st, k->batch, want_names, &cl[b], &ncl[b])) < 0)
            break;
        if ((int64_t)ncl[b] != k->n_samples) {
            rc = pm_err(ctx, PM_ECORRUPT, "catalog of '%s': omics batch %lld has %zu of %lld columns",
                        pm_store_path(st), (long long)k->batch, ncl[b], (long long)k->n_samples);
            break;
        }
        size_t ns = (size_t)k->n_samples;
        float *nv = realloc(val, (ns ? ns : 1) * sizeof *nv);
        if (nv)
            val = nv;
        uint8_t *nf = realloc(fl, ns ? ns : 1);
        if (nf)
            fl = nf;
        if (!nv || !nf) {
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
            break;
        }
        char path[PATH_MAX];
        if ((rc = pm_path(ctx, path, sizeof path, "%s/omics/%s", pm_store_path(st), k->file)) < 0)
            break;
        if ((rc = pm_om_read_block(ctx, path, (uint32_t)ns, (uint32_t)k->n_features,
                                   (uint32_t)k->block, val, fl)) < 0)
            break;
        for (size_t j = 0; j < ns; j++) {
            const pm_catom_col_t *col = &cl[b][j];
            if (col->withdrawn || col->individual < 0)
                continue;
            if (cohort && ((uint64_t)col->individual >= cohort->n ||
                           !pm_bitset_get(cohort, (size_t)col->individual)))
                continue;
            if (n == cap) {
                size_t ncap = cap ? 2 * cap : 256;
                cand_t *p = realloc(c, ncap * sizeof *p);
                if (!p) {
                    rc = pm_err(ctx, PM_ENOMEM, "out of memory");
                    break;
                }
                c = p;
                cap = ncap;
            }
            uint8_t f = fl[j];
            float v = val[j];
            if (isnan(v))
                f |= PM_OMICS_MISSING;
            if (f & PM_OMICS_MISSING)
                v = NAN;
            c[n++] = (cand_t){col->individual, col->sample, col->date, v, f, col->sample_id,
                              col->pseudonym};
        }
    }
    free(val);
    free(fl);
    pm_catom_blocks_free(blk, nb);
    if (rc < 0) {
        free(c);
        for (size_t b = 0; b < nb && cl && !cache; b++)
            pm_catom_cols_free(cl[b], ncl[b]);
        free(cl);
        free(ncl);
        return rc;
    }
    *out = c;
    *nout = n;
    *cols_keep = cl;
    *ncols_keep = ncl;
    *nbatches = nb;
    return 0;
}

static int resolve(pm_store_t *st, const char *assay, const char *feature, int64_t *fid,
                   char *canon, size_t cap, char **fidname, char **fname)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    if (!assay || !*assay || !feature || !*feature)
        return pm_err(ctx, PM_EUSAGE, "an omics query needs an assay and a feature");
    int64_t aid;
    int rc = pm_catom_assay(st, assay, &aid, canon, cap);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return pm_err(ctx, PM_ENOTFOUND, "assay '%s' is not in this store", assay);
    rc = pm_catom_feature_find(st, aid, feature, fid, fidname, fname);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return pm_err(ctx, PM_ENOTFOUND, "feature '%s' of assay '%s' is not in this store",
                      feature, canon);
    return 0;
}

static int values(pm_store_t *st, const char *assay, const char *feature,
                  const pm_bitset_t *cohort, const pm_omics_choice_t *choice, int want_names,
                  colcache_t *cache, pm_omics_vals_t **out)
{
    *out = NULL;
    pm_ctx_t *ctx = pm_store_ctx(st);
    pm_omics_choice_t all = {PM_OMICS_ALL, 0};
    if (!choice)
        choice = &all;
    char canon[PM_OMICS_MAX_NAME];
    char *fidname = NULL, *fname = NULL;
    int64_t fid;
    int rc = resolve(st, assay, feature, &fid, canon, sizeof canon, &fidname, &fname);
    if (rc < 0)
        return rc;
    cand_t *c = NULL;
    size_t n = 0, nb = 0;
    pm_catom_col_t **cl = NULL;
    size_t *ncl = NULL;
    pm_omics_vals_t *v = NULL;
    if ((rc = gather(st, fid, cohort, want_names, cache, &c, &n, &cl, &ncl, &nb)) < 0)
        goto out;
    if (n > 1)
        qsort(c, n, sizeof *c, cmp_cand);
    /* keep[] marks the chosen candidates */
    uint8_t *keep = malloc(n ? n : 1);
    v = calloc(1, sizeof *v);
    if (!keep || !v) {
        free(keep);
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    size_t m = 0;
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo + 1;
        while (hi < n && c[hi].individual == c[lo].individual)
            hi++;
        if (choice->mode == PM_OMICS_ALL) {
            for (size_t i = lo; i < hi; i++)
                keep[i] = 1;
            m += hi - lo;
        } else {
            int64_t b = choose(c, lo, hi, choice);
            for (size_t i = lo; i < hi; i++)
                keep[i] = (int64_t)i == b;
            m += b >= 0;
        }
        lo = hi;
    }
    size_t mm = m ? m : 1;
    v->individual = malloc(mm * sizeof *v->individual);
    v->sample = malloc(mm * sizeof *v->sample);
    v->date = malloc(mm * sizeof *v->date);
    v->value = malloc(mm * sizeof *v->value);
    v->flags = malloc(mm);
    v->assay = strdup(canon);
    v->feature_id = fidname;
    v->feature_name = fname;
    fidname = fname = NULL;
    if (want_names) {
        v->sample_id = calloc(mm, sizeof *v->sample_id);
        v->pseudonym = calloc(mm, sizeof *v->pseudonym);
    }
    if (!v->individual || !v->sample || !v->date || !v->value || !v->flags || !v->assay ||
        (want_names && (!v->sample_id || !v->pseudonym))) {
        free(keep);
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        size_t k = v->n;
        v->individual[k] = c[i].individual;
        v->sample[k] = c[i].sample;
        v->date[k] = c[i].date;
        v->value[k] = c[i].v;
        v->flags[k] = c[i].fl;
        if (want_names) {
            v->sample_id[k] = strdup(c[i].sid ? c[i].sid : "");
            v->pseudonym[k] = strdup(c[i].pseudo ? c[i].pseudo : "");
        }
        v->n++;
        if (want_names && (!v->sample_id[k] || !v->pseudonym[k])) {
            free(keep);
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
            goto out;
        }
    }
    free(keep);
out:
    free(c);
    for (size_t b = 0; b < nb && cl && !cache; b++)
        pm_catom_cols_free(cl[b], ncl[b]);
    free(cl);
    free(ncl);
    free(fidname);
    free(fname);
    if (rc < 0) {
        pm_omics_vals_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

int pm_omics_values(pm_store_t *st, const char *assay, const char *feature,
                    const pm_bitset_t *cohort, const pm_omics_choice_t *choice, int want_names,
                    pm_omics_vals_t **out)
{
    return values(st, assay, feature, cohort, choice, want_names, NULL, out);
}

int pm_omics_values_each(pm_store_t *st, const char *assay, const char *const *features,
                         size_t n, const pm_bitset_t *cohort, const pm_omics_choice_t *choice,
                         int (*fn)(void *ud, size_t i, const pm_omics_vals_t *v), void *ud)
{
    colcache_t cc = {0};
    int rc = 0;
    for (size_t i = 0; i < n && rc >= 0; i++) {
        pm_omics_vals_t *v = NULL;
        if ((rc = values(st, assay, features[i], cohort, choice, 0, &cc, &v)) < 0)
            break;
        rc = fn(ud, i, v);
        pm_omics_vals_free(v);
    }
    colcache_free(&cc);
    return rc < 0 ? rc : 0;
}

/* pm_omics_threshold and the cohort term provider live in om_cohort.c. A
 * member of a static library is linked only when something it defines is
 * needed, and the weak default provider in src/cohort satisfies the
 * evaluator on its own; this reference makes every program that uses the
 * omics queries link om_cohort.o, whose strong pm_cohort_provide_omics
 * then replaces the default. */
__attribute__((used)) static int64_t (*const om_link_cohort)(pm_store_t *, const char *,
                                                            const char *, int, double,
                                                            const pm_omics_choice_t *,
                                                            pm_bitset_t *) = pm_omics_threshold;

typedef struct feat_cb {
    int (*fn)(void *ud, const pm_omics_feature_t *f);
    void *ud;
} feat_cb_t;

static int feat_tramp(void *ud, const pm_catom_feature_t *f)
{
    const feat_cb_t *cb = ud;
    pm_omics_feature_t o = {f->feature_id, f->name, f->uniprot, f->panel, f->chrom,
                            f->pos,        f->batches, f->samples};
    return cb->fn(cb->ud, &o);
}

int pm_omics_features_each(pm_store_t *st, const char *assay,
                           int (*fn)(void *ud, const pm_omics_feature_t *f), void *ud)
{
    int64_t aid;
    int rc = pm_catom_assay(st, assay, &aid, NULL, 0);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return pm_err(pm_store_ctx(st), PM_ENOTFOUND, "assay '%s' is not in this store", assay);
    feat_cb_t cb = {fn, ud};
    return pm_catom_features_each(st, aid, feat_tramp, &cb);
}
