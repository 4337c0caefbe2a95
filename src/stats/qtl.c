/*
 * qtl.c - cis-QTL mapping (promise/qtl.h, docs/omics.md).
 *
 * The analysis set S is the cohort's genotyped individuals with every
 * covariate and a value of at least one feature of the BED. Per feature:
 * the chosen sample's value, the optional transform, missing values
 * replaced by the feature's mean over S (QTLtools imputePhenotypes), the
 * covariates (with an intercept) projected out, and the result scaled to
 * unit length: a row of Yn. Per variant, once: dosages over S, a missing
 * call replaced by the variant's mean dosage over S (QTLtools
 * imputeGenotypes), projected (model LM) or centred (model QTLTOOLS), and
 * scaled to unit length. The correlation of a pair is then one dot
 * product, done for every feature whose window covers the variant with
 * one dgemv; slope, SE, t and p follow from r and the two norms.
 *
 * Features are walked per contig in order of window start; a feature's
 * pairs are kept until its window is passed, then written, so the output
 * is feature-major (as QTLtools) while genotypes are read once.
 *
 * Permutations use one set of N shuffles of S shared by all features:
 * the permuted genotype vectors of a variant (N x |S|) times the active
 * features' rows gives every permuted r in one dgemm.
 */
#include <cblas.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "promise/bitset.h"
#include "promise/cohort.h"
#include "promise/genotype.h"
#include "promise/gwas.h"
#include "promise/omics.h"
#include "promise/policy.h"
#include "promise/qtl.h"
#include "promise/stats.h"

#define QT_MAX_LINE 65536
#define QT_MAX_FEATURES 1000000
#define QT_MAX_PERM 100000
#define QT_DEFAULT_SEED 15112011ULL
#define QT_PERM_CHUNK 512
/* a vector whose squared norm after projection is below QT_CONST times
 * its squared norm before is constant (up to rounding) */
#define QT_CONST 1e-12

static double qt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int qt_grow(void **p, size_t *cap, size_t need, size_t elt)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, nc * elt);
    if (!q)
        return -1;
    *p = q;
    *cap = nc;
    return 0;
}

/* ---------------------------------------------------------------- */
/* projections                                                        */

/* Orthonormal basis (m x p column-major) of [1, X] by modified
 * Gram-Schmidt, applied twice. PM_EINPUT for a (nearly) dependent column. */
static int qt_basis(pm_ctx_t *ctx, size_t m, size_t k, const double *X, double **out,
                    size_t *p_out)
{
    size_t p = k + 1;
    double *Q = malloc(m * p * sizeof *Q);
    if (!Q)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    for (size_t j = 0; j < p; j++) {
        double *q = Q + j * m, n0 = 0;
        for (size_t i = 0; i < m; i++) {
            q[i] = j ? X[(j - 1) * m + i] : 1.0;
            n0 += q[i] * q[i];
        }
        for (int pass = 0; pass < 2; pass++)
            for (size_t l = 0; l < j; l++) {
                const double *ql = Q + l * m;
                double c = 0;
                for (size_t i = 0; i < m; i++)
                    c += ql[i] * q[i];
                for (size_t i = 0; i < m; i++)
                    q[i] -= c * ql[i];
            }
        double nn = 0;
        for (size_t i = 0; i < m; i++)
            nn += q[i] * q[i];
        if (!(nn > 1e-20 * n0) || n0 == 0) {
            free(Q);
            return pm_err(ctx, PM_EINPUT,
                          j ? "covariate %zu is constant or collinear with the others"
                            : "no samples",
                          j);
        }
        nn = 1.0 / sqrt(nn);
        for (size_t i = 0; i < m; i++)
            q[i] *= nn;
    }
    *out = Q;
    *p_out = p;
    return 0;
}

/* v -= Q Q'v */
static void qt_project(const double *Q, size_t m, size_t p, double *v)
{
    for (size_t j = 0; j < p; j++) {
        const double *q = Q + j * m;
        double c = 0;
        for (size_t i = 0; i < m; i++)
            c += q[i] * v[i];
        for (size_t i = 0; i < m; i++)
            v[i] -= c * q[i];
    }
}

/* Scales v to unit length; returns the squared norm before (0: constant). */
static double qt_unit(double *v, size_t m)
{
    double ss = 0;
    for (size_t i = 0; i < m; i++)
        ss += v[i] * v[i];
    if (!(ss > 0))
        return 0;
    double s = 1.0 / sqrt(ss);
    for (size_t i = 0; i < m; i++)
        v[i] *= s;
    return ss;
}

static void qt_stat(double r, double ssy, double ssg, double df, pm_qtl_stat_t *o)
{
    o->r = r;
    o->df = df;
    double r2 = r * r;
    if (r2 > 1)
        r2 = 1;
    o->slope = r * sqrt(ssy / ssg);
    o->se = sqrt(ssy * (1 - r2) / (df * ssg));
    if (r2 >= 1) {
        o->t = r > 0 ? INFINITY : -INFINITY;
        o->p = 0;
    } else {
        o->t = r * sqrt(df / (1 - r2));
        o->p = pm_stats_t_p2(o->t, df);
    }
}

int pm_qtl_assoc(pm_ctx_t *ctx, size_t n, size_t k, const double *C, const double *y,
                 const double *g, int model, pm_qtl_stat_t *out)
{
    double *Q = NULL, *yy = malloc(n * sizeof *yy), *gg = malloc(n * sizeof *gg);
    size_t p = 0;
    int rc = 0;
    if (!yy || !gg) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    if (n < k + 3) {
        rc = pm_err(ctx, PM_EINPUT, "%zu samples for %zu covariates", n, k);
        goto out;
    }
    if ((rc = qt_basis(ctx, n, k, C, &Q, &p)) < 0)
        goto out;
    memcpy(yy, y, n * sizeof *yy);
    memcpy(gg, g, n * sizeof *gg);
    double y0 = 0, g0 = 0;
    for (size_t i = 0; i < n; i++)
        y0 += y[i] * y[i], g0 += g[i] * g[i];
    qt_project(Q, n, p, yy);
    qt_project(Q, n, model == PM_QTL_MODEL_QTLTOOLS ? 1 : p, gg);
    double ssy = qt_unit(yy, n), ssg = qt_unit(gg, n);
    if (!(ssy > QT_CONST * y0) || !(ssg > QT_CONST * g0)) {
        rc = pm_err(ctx, PM_EINPUT, "phenotype or genotype is constant");
        goto out;
    }
    double r = 0;
    for (size_t i = 0; i < n; i++)
        r += yy[i] * gg[i];
    double df = model == PM_QTL_MODEL_QTLTOOLS ? (double)n - 2 : (double)n - 2 - (double)k;
    qt_stat(r, ssy, ssg, df, out);
out:
    free(Q);
    free(yy);
    free(gg);
    return rc;
}

/* ---------------------------------------------------------------- */
/* beta approximation (QTLtools cis --permute)                        */

static double qt_p_of_r(double r, double df)
{
    double r2 = r * r;
    if (r2 >= 1)
        return 0;
    return pm_stats_t_p2(r * sqrt(df / (1 - r2)), df);
}

static void qt_mean_var(const double *x, size_t m, double *mean, double *var)
{
    double s = 0, v = 0;
    for (size_t i = 0; i < m; i++)
        s += x[i];
    s /= (double)m;
    for (size_t i = 0; i < m; i++)
        v += (x[i] - s) * (x[i] - s);
    *mean = s;
    *var = m > 1 ? v / (double)(m - 1) : 0;
}

/* |shape1 by moments - 1| of the permuted p-values at df */
static double qt_dof_cost(const double *r, size_t m, double df, double *pv)
{
    for (size_t i = 0; i < m; i++)
        pv[i] = qt_p_of_r(r[i], df);
    double mean, var;
    qt_mean_var(pv, m, &mean, &var);
    if (!(var > 0))
        return INFINITY;
    return fabs(mean * (mean * (1 - mean) / var - 1) - 1.0);
}

typedef struct qt_bll {
    double s0, s1, n;
} qt_bll_t;

static double qt_beta_nll(const qt_bll_t *d, double a, double b)
{
    if (a < 0.1 || a > 10 || b < 5 || b > 1e6)
        return INFINITY;
    double lnbeta = lgamma(a) + lgamma(b) - lgamma(a + b);
    return -((a - 1) * d->s0 + (b - 1) * d->s1 - d->n * lnbeta);
}

/* Nelder-Mead on the beta negative log-likelihood, from (a, b). */
static int qt_beta_ml(const qt_bll_t *d, double *a, double *b)
{
    double x[3][2] = {{*a, *b}, {*a * 1.1, *b}, {*a, *b * 1.1}}, f[3];
    for (int i = 0; i < 3; i++)
        if (!isfinite(f[i] = qt_beta_nll(d, x[i][0], x[i][1])))
            return -1;
    for (int it = 0; it < 1000; it++) {
        /* order */
        for (int i = 0; i < 3; i++)
            for (int j = i + 1; j < 3; j++)
                if (f[j] < f[i]) {
                    double t0 = x[i][0], t1 = x[i][1], tf = f[i];
                    x[i][0] = x[j][0], x[i][1] = x[j][1], f[i] = f[j];
                    x[j][0] = t0, x[j][1] = t1, f[j] = tf;
                }
        double size = fabs(x[2][0] - x[0][0]) / (fabs(x[0][0]) + 1e-300) +
                      fabs(x[2][1] - x[0][1]) / (fabs(x[0][1]) + 1e-300);
        if (size < 1e-9)
            break;
        double c0 = (x[0][0] + x[1][0]) / 2, c1 = (x[0][1] + x[1][1]) / 2;
        double r0 = 2 * c0 - x[2][0], r1 = 2 * c1 - x[2][1], fr = qt_beta_nll(d, r0, r1);
        if (fr < f[0]) {
            double e0 = 3 * c0 - 2 * x[2][0], e1 = 3 * c1 - 2 * x[2][1];
            double fe = qt_beta_nll(d, e0, e1);
            if (fe < fr)
                x[2][0] = e0, x[2][1] = e1, f[2] = fe;
            else
                x[2][0] = r0, x[2][1] = r1, f[2] = fr;
        } else if (fr < f[1]) {
            x[2][0] = r0, x[2][1] = r1, f[2] = fr;
        } else {
            double k0 = (c0 + x[2][0]) / 2, k1 = (c1 + x[2][1]) / 2, fk = qt_beta_nll(d, k0, k1);
            if (fk < f[2]) {
                x[2][0] = k0, x[2][1] = k1, f[2] = fk;
            } else {
                for (int i = 1; i < 3; i++) {
                    x[i][0] = (x[i][0] + x[0][0]) / 2;
                    x[i][1] = (x[i][1] + x[0][1]) / 2;
                    f[i] = qt_beta_nll(d, x[i][0], x[i][1]);
                }
            }
        }
    }
    int best = 0;
    for (int i = 1; i < 3; i++)
        if (f[i] < f[best])
            best = i;
    if (!isfinite(f[best]))
        return -1;
    *a = x[best][0];
    *b = x[best][1];
    return 0;
}

double pm_qtl_beta_p(double r_obs, const double *r_perm, size_t m, double df, double *df_eff,
                     double *a_out, double *b_out)
{
    double de = df, a = NAN, b = NAN, res = NAN;
    double *pv = m ? malloc(m * sizeof *pv) : NULL;
    if (!pv)
        goto out;
    /* effective df: minimise the cost over log(df) by golden section */
    double mean, var;
    for (size_t i = 0; i < m; i++)
        pv[i] = r_perm[i];
    qt_mean_var(pv, m, &mean, &var);
    if (var > 1e-20 * mean * mean) {
        double lo = log(df / 10 > 1 ? df / 10 : 1), hi = log(df * 10 + 10);
        const double gr = 0.6180339887498949;
        double x1 = hi - gr * (hi - lo), x2 = lo + gr * (hi - lo);
        double f1 = qt_dof_cost(r_perm, m, exp(x1), pv), f2 = qt_dof_cost(r_perm, m, exp(x2), pv);
        for (int it = 0; it < 40 && hi - lo > 2e-4; it++) {
            if (f1 <= f2) {
                hi = x2, x2 = x1, f2 = f1;
                x1 = hi - gr * (hi - lo);
                f1 = qt_dof_cost(r_perm, m, exp(x1), pv);
            } else {
                lo = x1, x1 = x2, f1 = f2;
                x2 = lo + gr * (hi - lo);
                f2 = qt_dof_cost(r_perm, m, exp(x2), pv);
            }
        }
        double cand = exp((lo + hi) / 2);
        if (isfinite(qt_dof_cost(r_perm, m, cand, pv)))
            de = cand;
    }
    for (size_t i = 0; i < m; i++)
        pv[i] = qt_p_of_r(r_perm[i], de);
    qt_mean_var(pv, m, &mean, &var);
    if (!(var > 1e-20 * mean * mean) || mean >= 1.0)
        goto out;
    double a0 = mean * (mean * (1 - mean) / var - 1), b0 = a0 * (1 / mean - 1);
    qt_bll_t d = {0, 0, (double)m};
    for (size_t i = 0; i < m; i++) {
        double p = pv[i] >= 1.0 ? 0.99999999 : pv[i];
        if (p <= 0)
            p = 1e-300;
        d.s0 += log(p);
        d.s1 += log1p(-p);
    }
    a = a0, b = b0;
    if (qt_beta_ml(&d, &a, &b) < 0) /* out of bounds: moment matching, as QTLtools */
        a = a0, b = b0;
    res = pm_stats_betai(a, b, qt_p_of_r(r_obs, de));
out:
    free(pv);
    if (df_eff)
        *df_eff = de;
    if (a_out)
        *a_out = a;
    if (b_out)
        *b_out = b;
    return res;
}

/* ---------------------------------------------------------------- */
/* the features BED                                                   */

typedef struct qt_pair {
    uint32_t v;    /* variant index in the contig table */
    uint32_t n;    /* observations (value and call) */
    double r;
} qt_pair_t;

typedef struct qt_feat {
    char *id;
    char chrom[64];
    int64_t start, end; /* 1-based inclusive, as QTLtools reads BED */
    int neg;            /* strand '-' */
    int64_t ws, we;     /* window */
    long line;
    int32_t row;        /* row of Yn, -1 = no usable values */
    uint32_t n_obs;
    double ssy;
    /* during the pass */
    qt_pair_t *pairs;
    size_t n_pairs, cap_pairs;
    int64_t n_cis;
    double *pmax;       /* permutations: best |r| per shuffle */
    int done;
} qt_feat_t;

static int qt_feat_cmp(const void *a, const void *b)
{
    const qt_feat_t *x = a, *y = b;
    int c = strcmp(x->chrom, y->chrom);
    if (c)
        return c;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int qt_str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int qt_read_bed(pm_ctx_t *ctx, const char *path, int64_t W, qt_feat_t **out, size_t *nout)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f)
        return pm_err(ctx, PM_EIO, "cannot open '%s': %s", path, strerror(errno));
    char *line = malloc(QT_MAX_LINE);
    qt_feat_t *ft = NULL;
    size_t n = 0, cap = 0;
    long ln = 0;
    int rc = 0;
    if (!line) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    while (fgets(line, QT_MAX_LINE, f)) {
        ln++;
        size_t l = strlen(line);
        if (l == QT_MAX_LINE - 1 && line[l - 1] != '\n') {
            rc = pm_err(ctx, PM_EINPUT, "%s:%ld: line longer than %d bytes", path, ln,
                        QT_MAX_LINE - 1);
            goto out;
        }
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
            line[--l] = 0;
        if (!l || line[0] == '#' || !strncmp(line, "track", 5) || !strncmp(line, "browser", 7))
            continue;
        char *fld[7] = {0};
        int nf = 0;
        char *save = NULL;
        for (char *t = strtok_r(line, "\t ", &save); t && nf < 7; t = strtok_r(NULL, "\t ", &save))
            fld[nf++] = t;
        if (nf < 4) {
            rc = pm_err(ctx, PM_EINPUT, "%s:%ld: expected chrom, start, end, feature id [, strand]",
                        path, ln);
            goto out;
        }
        char *e1, *e2;
        errno = 0;
        long long s = strtoll(fld[1], &e1, 10), e = strtoll(fld[2], &e2, 10);
        if (errno || *e1 || *e2 || s < 0 || e < s + 1 || e > ((int64_t)1 << 40)) {
            rc = pm_err(ctx, PM_EINPUT, "%s:%ld: bad interval '%s %s' (0-based start < end)",
                        path, ln, fld[1], fld[2]);
            goto out;
        }
        /* strand: column 5, or column 6 of a QTLtools BED (chr start end id gid strand) */
        int neg = 0;
        const char *sd = NULL;
        if (nf == 5 || (nf > 5 && (!strcmp(fld[4], "+") || !strcmp(fld[4], "-") ||
                                   !strcmp(fld[4], "."))))
            sd = fld[4];
        else if (nf > 5)
            sd = fld[5];
        if (sd && strcmp(sd, "+") && strcmp(sd, "-") && strcmp(sd, ".")) {
            rc = pm_err(ctx, PM_EINPUT, "%s:%ld: strand must be +, - or ., not '%s'", path, ln,
                        sd);
            goto out;
        }
        neg = sd && !strcmp(sd, "-");
        if (n == QT_MAX_FEATURES) {
            rc = pm_err(ctx, PM_ELIMIT, "%s: more than %d features", path, QT_MAX_FEATURES);
            goto out;
        }
        if (qt_grow((void **)&ft, &cap, n + 1, sizeof *ft) < 0) {
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
            goto out;
        }
        qt_feat_t *q = &ft[n];
        memset(q, 0, sizeof *q);
        if (pm_contig_normalise(fld[0], q->chrom, sizeof q->chrom) < 0) {
            rc = pm_err(ctx, PM_EINPUT, "%s:%ld: bad contig '%s'", path, ln, fld[0]);
            goto out;
        }
        if (strlen(fld[3]) > 255 || !(q->id = strdup(fld[3]))) {
            rc = pm_err(ctx, strlen(fld[3]) > 255 ? PM_EINPUT : PM_ENOMEM,
                        "%s:%ld: feature id too long or out of memory", path, ln);
            goto out;
        }
        n++;
        q->start = s + 1;
        q->end = e;
        q->neg = neg;
        q->ws = q->start > W ? q->start - W : 0;
        q->we = q->end + W;
        q->line = ln;
        q->row = -1;
    }
    if (ferror(f)) {
        rc = pm_err(ctx, PM_EIO, "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    if (!n) {
        rc = pm_err(ctx, PM_EINPUT, "%s: no features", path);
        goto out;
    }
    /* duplicate ids */
    {
        char **ids = malloc(n * sizeof *ids);
        if (!ids) {
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            ids[i] = ft[i].id;
        qsort(ids, n, sizeof *ids, qt_str_cmp);
        for (size_t i = 1; i < n && rc == 0; i++)
            if (!strcmp(ids[i - 1], ids[i]))
                rc = pm_err(ctx, PM_EINPUT, "%s: feature '%s' is listed twice", path, ids[i]);
        free(ids);
        if (rc < 0)
            goto out;
    }
    qsort(ft, n, sizeof *ft, qt_feat_cmp);
out:
    free(line);
    if (f != stdin)
        fclose(f);
    if (rc < 0) {
        for (size_t i = 0; i < n; i++)
            free(ft[i].id);
        free(ft);
        return rc;
    }
    *out = ft;
    *nout = n;
    return 0;
}

/* ---------------------------------------------------------------- */
/* per-individual values                                              */

/* Values of one feature per iterator position (NaN = none). */
static int qt_feature_values(pm_store_t *st, const char *assay, const char *feature,
                             const pm_omics_choice_t *ch, const int32_t *pos_of, int64_t N,
                             uint32_t n, double *out)
{
    for (uint32_t i = 0; i < n; i++)
        out[i] = NAN;
    pm_omics_vals_t *v = NULL;
    int rc = pm_omics_values(st, assay, feature, NULL, ch, 0, &v);
    if (rc < 0)
        return rc;
    for (size_t r = 0; r < v->n; r++) {
        int64_t ind = v->individual[r];
        if (ind < 0 || ind >= N || pos_of[ind] < 0)
            continue;
        if (isnan(out[pos_of[ind]]) && !isnan(v->value[r]))
            out[pos_of[ind]] = v->value[r];
    }
    pm_omics_vals_free(v);
    return 0;
}

typedef struct qt_fill {
    double *V;               /* features x n */
    const int32_t *pos_of;
    int64_t N;
    uint32_t n;
    size_t done;
} qt_fill_t;

static int qt_fill(void *ud, size_t f, const pm_omics_vals_t *v)
{
    qt_fill_t *q = ud;
    double *out = q->V + f * q->n;
    for (uint32_t i = 0; i < q->n; i++)
        out[i] = NAN;
    for (size_t r = 0; r < v->n; r++) {
        int64_t ind = v->individual[r];
        if (ind < 0 || ind >= q->N || q->pos_of[ind] < 0)
            continue;
        if (isnan(out[q->pos_of[ind]]) && !isnan(v->value[r]))
            out[q->pos_of[ind]] = v->value[r];
    }
    q->done = f + 1;
    return 0;
}

/* --covar: age, sex, omics:ASSAY:FEATURE -> X (n x k column-major). */
static int qt_covariates(pm_store_t *st, const pm_cohort_opts_t *co, const char *list,
                         const pm_omics_choice_t *ch, const int32_t *pos_of, int64_t N,
                         uint32_t n, const int64_t *ind, double **Xo, size_t *ko, char *names,
                         size_t ncap)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    double *X = NULL, *attr = NULL;
    size_t k = 0;
    int rc = 0;
    names[0] = 0;
    *Xo = NULL;
    *ko = 0;
    if (!list || !*list)
        return 0;
    if (!(attr = malloc((size_t)(N > 0 ? N : 1) * sizeof *attr)))
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    const char *p = list;
    while (rc == 0) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && isspace((unsigned char)*p))
            p++, len--;
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        char tok[300];
        if (!len || len >= sizeof tok) {
            rc = pm_err(ctx, PM_EUSAGE, "--covar: empty or overlong item in '%s'", list);
            break;
        }
        memcpy(tok, p, len);
        tok[len] = 0;
        char key[304];
        snprintf(key, sizeof key, ",%s,", tok);
        char seen[1030];
        snprintf(seen, sizeof seen, ",%s,", names);
        if (strstr(seen, key)) {
            rc = pm_err(ctx, PM_EUSAGE, "--covar: '%s' is listed twice", tok);
            break;
        }
        double *nx = realloc(X, (k + 1) * (size_t)n * sizeof *nx);
        if (!nx) {
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
            break;
        }
        X = nx;
        double *col = X + k * n;
        if (!strcmp(tok, "age") || !strcmp(tok, "sex")) {
            if ((rc = pm_gwas_attribute(st, tok, co, attr)) < 0)
                break;
            for (uint32_t i = 0; i < n; i++)
                col[i] = attr[ind[i]];
        } else if (!strncmp(tok, "omics:", 6) && strchr(tok + 6, ':') &&
                   strchr(tok + 6, ':') > tok + 6 && strchr(tok + 6, ':')[1]) {
            char assay[256];
            const char *c = strchr(tok + 6, ':');
            snprintf(assay, sizeof assay, "%.*s", (int)(c - tok - 6), tok + 6);
            if ((rc = qt_feature_values(st, assay, c + 1, ch, pos_of, N, n, col)) < 0) {
                char msg[512];
                snprintf(msg, sizeof msg, "%s", pm_ctx_errmsg(ctx) ? pm_ctx_errmsg(ctx) : "");
                rc = pm_err(ctx, rc, "--covar '%s': %s", tok, msg);
                break;
            }
        } else {
            rc = pm_err(ctx, PM_EUSAGE,
                        "--covar: unknown covariate '%s' (age, sex, omics:ASSAY:FEATURE)", tok);
            break;
        }
        k++;
        size_t l = strlen(names);
        snprintf(names + l, ncap - l, "%s%s", l ? "," : "", tok);
        if (!e)
            break;
        p = e + 1;
    }
    free(attr);
    if (rc < 0) {
        free(X);
        return rc;
    }
    *Xo = X;
    *ko = k;
    return 0;
}

/* ---------------------------------------------------------------- */
/* the pass                                                           */

typedef struct qt_var {
    int64_t pos, end;
    size_t s_id, s_ref, s_alt;
    uint32_t carriers; /* in S */
    double ssg;        /* 0: constant over S */
} qt_var_t;

typedef struct qt_run {
    pm_ctx_t *ctx;
    const pm_qtl_opts_t *o;
    qt_feat_t *ft;
    size_t nf;
    size_t m, k;
    double df;
    int perm;
    FILE *fn, *fb;
    pm_policy_t pol;
    int withhold;
    const char *chrom;
    qt_var_t *var;
    size_t n_var, cap_var;
    char *str;
    size_t n_str, cap_str;
    pm_qtl_summary_t *sum;
    /* permutations: unit genotype rows of variants gbase.. (m each) */
    float *G;                  /* single precision, as QTLtools: only maxima are kept */
    size_t gbase, n_g, cap_g;
    const uint32_t *shuf;      /* N x m shuffles of S */
    float *Yp, *Cp;            /* N x m, N x QT_PERM_CHUNK */
    const double *Yn;
} qt_run_t;

static void qt_num(FILE *f, double v)
{
    if (isnan(v))
        fputs("\tNA", f);
    else
        fprintf(f, "\t%.10g", v);
}

static int64_t qt_distance(const qt_feat_t *f, const qt_var_t *v)
{
    int64_t d;
    if (v->pos <= f->end && f->start <= v->end)
        d = 0;
    else if (v->end < f->start)
        d = v->end - f->start;
    else
        d = v->pos - f->end;
    return f->neg ? -d : d;
}

static int qt_small(const qt_run_t *R, uint32_t carriers)
{
    return R->withhold && pm_policy_release_count(&R->pol, carriers).state != PM_CELL_EXACT;
}

/* Writes feature f's pairs and its best row, and frees them. */
/* Best |r| per shuffle over f's cis variants: the shuffled phenotypes
 * (N x m) times the variants' unit genotype rows, one dgemm per chunk. */
static int qt_permute(qt_run_t *R, qt_feat_t *f)
{
    const size_t m = R->m, N = (size_t)R->perm;
    if (!f->n_pairs || f->row < 0)
        return 0;
    if (!(f->pmax = calloc(N, sizeof *f->pmax)))
        return pm_err(R->ctx, PM_ENOMEM, "out of memory");
    const double *y = R->Yn + (size_t)f->row * m;
    for (size_t j = 0; j < N; j++) {
        const uint32_t *pj = R->shuf + j * m;
        float *yj = R->Yp + j * m;
        for (size_t i = 0; i < m; i++)
            yj[i] = (float)y[pj[i]];
    }
    size_t v0 = f->pairs[0].v, v1 = f->pairs[f->n_pairs - 1].v + 1;
    for (size_t c = v0; c < v1; c += QT_PERM_CHUNK) {
        size_t nv = v1 - c < QT_PERM_CHUNK ? v1 - c : QT_PERM_CHUNK;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)nv, (int)m, 1.0f, R->Yp,
                    (int)m, R->G + (c - R->gbase) * m, (int)m, 0.0f, R->Cp, (int)nv);
        for (size_t j = 0; j < N; j++) {
            const float *cj = R->Cp + j * nv;
            double mx = f->pmax[j];
            for (size_t v = 0; v < nv; v++)
                if (fabs(cj[v]) > mx)
                    mx = fabs(cj[v]);
            f->pmax[j] = mx;
        }
    }
    return 0;
}

static int qt_flush(qt_run_t *R, qt_feat_t *f)
{
    FILE *fn = R->fn, *fb = R->fb;
    if (R->perm) {
        int rc = qt_permute(R, f);
        if (rc < 0)
            return rc;
    }
    const char *s = R->str;
    long best = -1;
    int64_t bestd = 0;
    for (size_t i = 0; i < f->n_pairs; i++) {
        const qt_pair_t *q = &f->pairs[i];
        const qt_var_t *v = &R->var[q->v];
        int64_t d = qt_distance(f, v);
        if (qt_small(R, v->carriers)) {
            R->sum->n_withheld++;
            continue;
        }
        pm_qtl_stat_t st = {NAN, NAN, NAN, NAN, NAN, NAN};
        if (!isnan(q->r) && v->ssg > 0)
            qt_stat(q->r, f->ssy, v->ssg, R->df, &st);
        fprintf(fn, "%s\t%s\t%s\t%" PRId64 "\t%s\t%s\t%" PRId64 "\t%u", f->id, s + v->s_id,
                R->chrom, v->pos, s + v->s_ref, s + v->s_alt, d, q->n);
        qt_num(fn, st.slope);
        qt_num(fn, st.se);
        qt_num(fn, st.t);
        qt_num(fn, st.p);
        fputc('\n', fn);
        if (!isnan(q->r) &&
            (best < 0 || fabs(q->r) > fabs(f->pairs[best].r) ||
             (fabs(q->r) == fabs(f->pairs[best].r) && llabs(d) < llabs(bestd)))) {
            best = (long)i;
            bestd = d;
        }
    }
    fprintf(fb, "%s\t%s\t%" PRId64 "\t%" PRId64 "\t%c\t%" PRId64, f->id, f->chrom, f->start,
            f->end, f->neg ? '-' : '+', f->n_cis);
    if (best < 0) {
        fputs("\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA", fb);
        fprintf(fb, "\t%d\tNA\tNA\tNA\tNA\tNA\n", R->perm);
    } else {
        const qt_pair_t *q = &f->pairs[best];
        const qt_var_t *v = &R->var[q->v];
        pm_qtl_stat_t st;
        qt_stat(q->r, f->ssy, v->ssg, R->df, &st);
        fprintf(fb, "\t%s\t%s\t%" PRId64 "\t%s\t%s\t%" PRId64 "\t%u", s + v->s_id, R->chrom,
                v->pos, s + v->s_ref, s + v->s_alt, bestd, q->n);
        qt_num(fb, st.slope);
        qt_num(fb, st.se);
        qt_num(fb, st.t);
        qt_num(fb, st.p);
        fprintf(fb, "\t%d", R->perm);
        if (R->perm && f->pmax) {
            double de, a, b;
            double pb = pm_qtl_beta_p(q->r, f->pmax, (size_t)R->perm, R->df, &de, &a, &b);
            size_t ge = 0;
            for (int j = 0; j < R->perm; j++)
                ge += f->pmax[j] >= fabs(q->r);
            qt_num(fb, de);
            qt_num(fb, a);
            qt_num(fb, b);
            qt_num(fb, (double)(ge + 1) / (double)(R->perm + 1));
            qt_num(fb, pb);
            fputc('\n', fb);
        } else {
            fputs("\tNA\tNA\tNA\tNA\tNA\n", fb);
        }
    }
    free(f->pairs);
    free(f->pmax);
    f->pairs = NULL;
    f->pmax = NULL;
    f->n_pairs = f->cap_pairs = 0;
    f->done = 1;
    return ferror(fn) || ferror(fb) ? pm_err(R->ctx, PM_EIO, "cannot write the output: %s",
                                             strerror(errno))
                                    : 0;
}

static size_t qt_str(qt_run_t *R, const char *s, int *oom)
{
    size_t l = strlen(s) + 1, at = R->n_str;
    if (qt_grow((void **)&R->str, &R->cap_str, R->n_str + l, 1) < 0) {
        *oom = 1;
        return 0;
    }
    memcpy(R->str + at, s, l);
    R->n_str += l;
    return at;
}

static uint64_t qt_rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int pm_qtl_run(pm_store_t *st, const pm_qtl_opts_t *o, pm_qtl_summary_t *out)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    pm_qtl_summary_t sum = {0};
    if (out)
        memset(out, 0, sizeof *out);
    if (!o || !o->prefix || !*o->prefix)
        return pm_err(ctx, PM_EUSAGE, "qtl: an output prefix is required");
    if (!o->assay || !*o->assay)
        return pm_err(ctx, PM_EUSAGE, "qtl: an assay is required");
    if (!o->features_bed || !*o->features_bed)
        return pm_err(ctx, PM_EUSAGE, "qtl: a features BED is required");
    if (o->window < -1 || o->window > ((int64_t)1 << 32))
        return pm_err(ctx, PM_EUSAGE, "qtl: cis window out of range");
    if (o->permutations < 0 || o->permutations > QT_MAX_PERM)
        return pm_err(ctx, PM_EUSAGE, "qtl: permutations must be 0..%d", QT_MAX_PERM);
    if (o->model != PM_QTL_MODEL_LM && o->model != PM_QTL_MODEL_QTLTOOLS)
        return pm_err(ctx, PM_EUSAGE, "qtl: unknown model");
    if (o->normalize < PM_QTL_NORM_NONE || o->normalize > PM_QTL_NORM_LOG2)
        return pm_err(ctx, PM_EUSAGE, "qtl: unknown normalisation");
    int64_t W = o->window > 0 ? o->window : o->window < 0 ? 0 : 1000000;
    pm_omics_choice_t ch = {o->sample_mode ? o->sample_mode : PM_OMICS_FIRST, o->sample_date};
    if (ch.mode == PM_OMICS_ALL)
        return pm_err(ctx, PM_EUSAGE, "qtl: one sample per individual is needed "
                                      "(first, last or nearest:DATE)");
    int rc, blas_threads = 0;
    qt_run_t R = {.ctx = ctx, .o = o, .perm = o->permutations, .sum = &sum};
    if ((rc = pm_policy_for_store(st, o->tier, &R.pol)) < 0)
        return rc;
    if ((rc = pm_policy_allows(ctx, &R.pol, PM_RELEASE_COUNT)) < 0)
        return rc;
    R.withhold = R.pol.tier < PM_TIER_PROJECT && R.pol.k > 1;
    sum.k = R.withhold ? R.pol.k : 0;

    qt_feat_t *ft = NULL;
    size_t nf = 0;
    pm_gt_iter_t *it = NULL;
    int64_t *ind = NULL;
    int32_t *pos_of = NULL, *sidx = NULL;
    double *X = NULL, *V = NULL, *Xs = NULL, *Q = NULL, *Yn = NULL, *g = NULL, *r = NULL;
    uint8_t *obs = NULL;
    uint32_t *perm = NULL, *msl = NULL;
    int32_t *rowfeat = NULL;
    size_t k = 0, p = 0, m = 0;
    char *path = NULL;
    if ((rc = qt_read_bed(ctx, o->features_bed, W, &ft, &nf)) < 0)
        return rc;
    R.ft = ft;
    R.nf = nf;
    sum.n_features = (int64_t)nf;

    pm_cohort_opts_t co = {.ref_date = o->ref_date, .purpose = o->purpose};
    pm_gt_query_opts_t q = {.region = NULL, .cohort = o->cohort, .purpose = o->purpose};
    if ((rc = pm_gt_iter_open(st, &q, &it)) < 0)
        goto done;
    const uint32_t n = pm_gt_iter_n(it);
    sum.n_cohort = n;
    int64_t N = pm_store_n_individuals(st);
    if (N < 0) {
        rc = (int)N;
        goto done;
    }
    if (n == 0) {
        rc = pm_err(ctx, PM_EINPUT, "no genotyped individuals in the cohort");
        goto done;
    }
    ind = malloc((size_t)n * sizeof *ind);
    pos_of = malloc((size_t)(N > 0 ? N : 1) * sizeof *pos_of);
    sidx = malloc((size_t)n * sizeof *sidx);
    if (!ind || !pos_of || !sidx) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(ind, pm_gt_iter_individuals(it), (size_t)n * sizeof *ind);
    pm_gt_iter_close(it);
    it = NULL;
    for (int64_t i = 0; i < N; i++)
        pos_of[i] = -1;
    for (uint32_t i = 0; i < n; i++)
        pos_of[ind[i]] = (int32_t)i;

    if ((rc = qt_covariates(st, &co, o->covar, &ch, pos_of, N, n, ind, &X, &k, sum.covar_names,
                            sizeof sum.covar_names)) < 0)
        goto done;
    R.k = k;
    if ((uint64_t)nf * n > ((uint64_t)1 << 31)) {
        rc = pm_err(ctx, PM_ELIMIT, "%zu features x %u individuals is more than this "
                                    "version holds in memory (2^31 values)",
                    nf, n);
        goto done;
    }
    V = malloc(nf * (size_t)n * sizeof *V);
    if (!V) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto done;
    }
    {
        const char **ids = malloc(nf * sizeof *ids);
        if (!ids) {
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
            goto done;
        }
        for (size_t f = 0; f < nf; f++)
            ids[f] = ft[f].id;
        qt_fill_t fill = {.V = V, .pos_of = pos_of, .N = N, .n = n};
        rc = pm_omics_values_each(st, o->assay, ids, nf, NULL, &ch, qt_fill, &fill);
        free(ids);
        if (rc < 0) {
            char msg[512];
            size_t f = fill.done < nf ? fill.done : nf - 1;
            snprintf(msg, sizeof msg, "%s", pm_ctx_errmsg(ctx) ? pm_ctx_errmsg(ctx) : "");
            rc = pm_err(ctx, rc, "%s:%ld: feature '%s': %s", o->features_bed, ft[f].line,
                        ft[f].id, msg);
            goto done;
        }
    }
    /* S: every covariate and at least one value */
    for (uint32_t i = 0; i < n; i++) {
        int in = 1;
        for (size_t c = 0; c < k && in; c++)
            in = !isnan(X[c * n + i]);
        int any = 0;
        for (size_t f = 0; f < nf && in && !any; f++)
            any = !isnan(V[f * n + i]);
        sidx[i] = in && any ? (int32_t)m++ : -1;
    }
    sum.n_samples = (int64_t)m;
    if (m < k + 3) {
        rc = pm_err(ctx, PM_EINPUT, "%zu individuals have genotypes, every covariate and a value "
                                    "of the assay; too few for %zu covariates",
                    m, k);
        goto done;
    }
    Xs = malloc((k ? k : 1) * m * sizeof *Xs);
    if (!Xs) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t c = 0; c < k; c++)
        for (uint32_t i = 0; i < n; i++)
            if (sidx[i] >= 0)
                Xs[c * m + (size_t)sidx[i]] = X[c * n + i];
    if ((rc = qt_basis(ctx, m, k, Xs, &Q, &p)) < 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", pm_ctx_errmsg(ctx) ? pm_ctx_errmsg(ctx) : "");
        rc = pm_err(ctx, rc, "--covar '%s': %s", sum.covar_names, msg);
        goto done;
    }
    R.m = m;
    R.df = o->model == PM_QTL_MODEL_QTLTOOLS ? (double)m - 2 : (double)m - 2 - (double)k;

    /* Yn: one unit row per usable feature, in sorted feature order */
    R.Yn = Yn = malloc(nf * m * sizeof *Yn);
    obs = malloc(nf * m);
    rowfeat = malloc(nf * sizeof *rowfeat);
    g = malloc(m * sizeof *g);
    r = malloc(nf * sizeof *r);
    msl = malloc(m * sizeof *msl);
    if (!Yn || !obs || !rowfeat || !g || !r || !msl) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto done;
    }
    size_t nrow = 0;
    for (size_t f = 0; f < nf; f++) {
        double *y = Yn + nrow * m;
        uint8_t *ob = obs + nrow * m;
        for (uint32_t i = 0; i < n; i++)
            if (sidx[i] >= 0)
                y[sidx[i]] = V[f * n + i];
        if (o->normalize == PM_QTL_NORM_INT)
            pm_omics_int(y, m, y);
        else if (o->normalize == PM_QTL_NORM_LOG2)
            pm_omics_log2(y, m, y);
        double s = 0;
        uint32_t c = 0;
        for (size_t i = 0; i < m; i++) {
            ob[i] = !isnan(y[i]);
            if (ob[i])
                s += y[i], c++;
        }
        ft[f].n_obs = c;
        if (c < 3)
            continue;
        s /= c;
        for (size_t i = 0; i < m; i++)
            if (!ob[i])
                y[i] = s;
        double y0 = 0;
        for (size_t i = 0; i < m; i++)
            y0 += y[i] * y[i];
        qt_project(Q, m, p, y);
        ft[f].ssy = qt_unit(y, m);
        if (!(ft[f].ssy > QT_CONST * y0))
            continue;
        ft[f].row = (int32_t)nrow;
        rowfeat[nrow++] = (int32_t)f;
    }
    free(V);
    V = NULL;

    if (R.perm) {
        perm = malloc((size_t)R.perm * m * sizeof *perm);
        R.Yp = malloc((size_t)R.perm * m * sizeof *R.Yp);
        R.Cp = malloc((size_t)R.perm * QT_PERM_CHUNK * sizeof *R.Cp);
        R.shuf = perm;
        if (!perm || !R.Yp || !R.Cp) {
            rc = pm_err(ctx, PM_ENOMEM, "out of memory for %d permutations", R.perm);
            goto done;
        }
        uint64_t seed = o->seed ? o->seed : QT_DEFAULT_SEED;
        for (int j = 0; j < R.perm; j++) {
            uint32_t *pj = perm + (size_t)j * m;
            for (size_t i = 0; i < m; i++)
                pj[i] = (uint32_t)i;
            for (size_t i = m - 1; i > 0; i--) {
                size_t u = (size_t)(qt_rng(&seed) % (i + 1));
                uint32_t t = pj[i];
                pj[i] = pj[u];
                pj[u] = t;
            }
        }
    }

    size_t pl = strlen(o->prefix) + 16;
    if (!(path = malloc(pl))) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto done;
    }
    snprintf(path, pl, "%s.nominal.tsv", o->prefix);
    if (!(R.fn = fopen(path, "w"))) {
        rc = pm_err(ctx, PM_EIO, "cannot open '%s' for writing: %s", path, strerror(errno));
        goto done;
    }
    snprintf(path, pl, "%s.best.tsv", o->prefix);
    if (!(R.fb = fopen(path, "w"))) {
        rc = pm_err(ctx, PM_EIO, "cannot open '%s' for writing: %s", path, strerror(errno));
        goto done;
    }
    fputs("#feature\tvariant\tchrom\tpos\tref\talt\tdistance\tn\tslope\tse\tt\tp\n", R.fn);
    fputs("#feature\tchrom\tstart\tend\tstrand\tn_cis\tvariant\tvariant_chrom\tpos\tref\talt\t"
          "distance\tn\tslope\tse\tt\tp\tn_perm\tdf_eff\tbeta1\tbeta2\tp_emp\tp_beta\n",
          R.fb);

    /* the products are small (a few features, N shuffles): OpenBLAS's own
     * threads only spin on them, as gwas.c found */
    blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    double t0 = qt_now();
    for (size_t a = 0; a < nf;) {
        size_t b = a;
        int64_t lo = INT64_MAX, hi = 0;
        while (b < nf && !strcmp(ft[b].chrom, ft[a].chrom)) {
            lo = ft[b].ws < lo ? ft[b].ws : lo;
            hi = ft[b].we > hi ? ft[b].we : hi;
            b++;
        }
        R.chrom = ft[a].chrom;
        R.n_var = R.n_str = 0;
        R.gbase = R.n_g = 0;
        char region[128];
        snprintf(region, sizeof region, "%s:%" PRId64 "-%" PRId64, ft[a].chrom, lo > 0 ? lo : 1,
                 hi);
        q.region = region;
        if ((rc = pm_gt_iter_open(st, &q, &it)) < 0)
            goto done;
        if (pm_gt_iter_n(it) != n) {
            rc = pm_err(ctx, PM_EINTERNAL, "qtl: the cohort changed during the run");
            goto done;
        }
        size_t flo = a, fhi = a;
        pm_gt_site_t s;
        int more;
        while ((more = pm_gt_iter_next(it, &s)) > 0) {
            sum.n_variants++;
            int64_t gend = s.pos + (int64_t)strlen(s.ref) - 1;
            while (fhi < b && ft[fhi].ws <= gend)
                fhi++;
            while (flo < fhi && ft[flo].we < s.pos) {
                if ((rc = qt_flush(&R, &ft[flo])) < 0)
                    goto done;
                flo++;
            }
            if (R.perm) { /* drop genotype rows no open feature needs */
                size_t need = R.n_var;
                for (size_t f = flo; f < fhi; f++)
                    if (!ft[f].done && ft[f].n_pairs && ft[f].pairs[0].v < need)
                        need = ft[f].pairs[0].v;
                size_t drop = need - R.gbase;
                if (drop > 256 && drop * 2 > R.n_g) {
                    memmove(R.G, R.G + drop * m, (R.n_g - drop) * m * sizeof *R.G);
                    R.n_g -= drop;
                    R.gbase = need;
                }
            }
            /* rows of the candidate features */
            int32_t r0 = -1, r1 = -1;
            for (size_t f = flo; f < fhi; f++)
                if (ft[f].row >= 0 && ft[f].we >= s.pos && !ft[f].done) {
                    if (r0 < 0)
                        r0 = ft[f].row;
                    r1 = ft[f].row + 1;
                }
            if (r0 < 0)
                continue;
            /* dosages over S, missing calls mean-imputed */
            memset(g, 0, m * sizeof *g);
            uint32_t nms = 0, carriers = 0;
            double gs = 0;
            for (uint32_t c = 0; c < s.n_carrier; c++) {
                int32_t j = sidx[s.carrier[c]];
                if (j >= 0) {
                    g[j] = s.dosage[c];
                    gs += s.dosage[c];
                    carriers++;
                }
            }
            for (uint32_t c = 0; c < s.n_missing; c++) {
                int32_t j = sidx[s.missing[c]];
                if (j >= 0)
                    msl[nms++] = (uint32_t)j;
            }
            double mean = m > nms ? gs / (double)(m - nms) : 0;
            for (uint32_t c = 0; c < nms; c++)
                g[msl[c]] = mean;
            double g0 = 0;
            for (size_t i = 0; i < m; i++)
                g0 += g[i] * g[i];
            if (o->model == PM_QTL_MODEL_QTLTOOLS) {
                double mu = 0;
                for (size_t i = 0; i < m; i++)
                    mu += g[i];
                mu /= (double)m;
                for (size_t i = 0; i < m; i++)
                    g[i] -= mu;
            } else {
                qt_project(Q, m, p, g);
            }
            double ssg = qt_unit(g, m);
            if (!(ssg > QT_CONST * g0))
                ssg = 0;
            int oom = 0;
            if (qt_grow((void **)&R.var, &R.cap_var, R.n_var + 1, sizeof *R.var) < 0)
                oom = 1;
            qt_var_t *v = oom ? NULL : &R.var[R.n_var];
            if (v) {
                char idb[512];
                const char *id = s.id;
                if (!id || !*id || !strcmp(id, ".")) {
                    snprintf(idb, sizeof idb, "%s:%" PRId64 ":%s:%s", s.chrom, s.pos, s.ref, s.alt);
                    id = idb;
                }
                v->pos = s.pos;
                v->end = gend;
                v->carriers = carriers;
                v->ssg = ssg;
                v->s_id = qt_str(&R, id, &oom);
                v->s_ref = qt_str(&R, s.ref, &oom);
                v->s_alt = qt_str(&R, s.alt, &oom);
            }
            if (oom) {
                rc = pm_err(ctx, PM_ENOMEM, "out of memory");
                goto done;
            }
            uint32_t vi = (uint32_t)R.n_var++;
            size_t nr = (size_t)(r1 - r0);
            if (ssg > 0)
                cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)nr, (int)m, 1.0,
                            Yn + (size_t)r0 * m, (int)m, g, 1, 0.0, r, 1);
            if (R.perm) { /* keep the unit genotype row (zeros when constant) */
                if (qt_grow((void **)&R.G, &R.cap_g, (R.n_g + 1) * m, sizeof *R.G) < 0) {
                    rc = pm_err(ctx, PM_ENOMEM, "out of memory");
                    goto done;
                }
                float *gr = R.G + R.n_g * m;
                for (size_t i = 0; i < m; i++)
                    gr[i] = ssg > 0 ? (float)g[i] : 0.0f;
                R.n_g++;
            }
            for (size_t f = flo; f < fhi; f++) {
                qt_feat_t *F = &ft[f];
                if (F->row < 0 || F->we < s.pos || F->done)
                    continue;
                if (qt_grow((void **)&F->pairs, &F->cap_pairs, F->n_pairs + 1,
                            sizeof *F->pairs) < 0) {
                    rc = pm_err(ctx, PM_ENOMEM, "out of memory");
                    goto done;
                }
                const uint8_t *ob = obs + (size_t)F->row * m;
                uint32_t nobs = F->n_obs;
                for (uint32_t c = 0; c < nms; c++)
                    nobs -= ob[msl[c]];
                qt_pair_t *pp = &F->pairs[F->n_pairs++];
                pp->v = vi;
                pp->n = nobs;
                pp->r = ssg > 0 ? r[F->row - r0] : NAN;
                F->n_cis++;
                sum.n_pairs++;
            }
            if ((sum.n_variants & 0xfff) == 0)
                pm_progress(ctx, "qtl: variants", (uint64_t)sum.n_variants, 0);
        }
        if (more < 0) {
            rc = more;
            goto done;
        }
        pm_gt_iter_close(it);
        it = NULL;
        for (size_t f = flo; f < b; f++)
            if (!ft[f].done && (rc = qt_flush(&R, &ft[f])) < 0)
                goto done;
        a = b;
    }
    sum.seconds = qt_now() - t0;
    openblas_set_num_threads(blas_threads);
    blas_threads = 0;
    for (size_t f = 0; f < nf; f++)
        sum.n_tested += ft[f].n_cis > 0;
    {
        FILE *f1 = R.fn, *f2 = R.fb;
        R.fn = R.fb = NULL;
        int e1 = fclose(f1), e2 = fclose(f2);
        if (e1 || e2)
            rc = pm_err(ctx, PM_EIO, "cannot write '%s.*.tsv': %s", o->prefix, strerror(errno));
    }

done:
    if (blas_threads > 0)
        openblas_set_num_threads(blas_threads);
    if (R.fn)
        fclose(R.fn);
    if (R.fb)
        fclose(R.fb);
    if (it)
        pm_gt_iter_close(it);
    for (size_t f = 0; f < nf; f++) {
        free(ft[f].id);
        free(ft[f].pairs);
        free(ft[f].pmax);
    }
    free(ft);
    free(R.var);
    free(R.str);
    free(path);
    free(ind);
    free(pos_of);
    free(sidx);
    free(X);
    free(V);
    free(Xs);
    free(Q);
    free(Yn);
    free(obs);
    free(rowfeat);
    free(g);
    free(r);
    free(msl);
    free(perm);
    free(R.Yp);
    free(R.Cp);
    free(R.G);
    if (out)
        *out = sum;
    return rc < 0 ? rc : 0;
}
