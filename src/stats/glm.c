/*
 * glm.c - the per-variant association tests of plink2 --glm: linear
 * regression with covariates (ADD) and, for binary phenotypes, a score
 * test followed by Firth regression (logistic.c) where it is nominally
 * significant.
 *
 * Everything is precomputed per sample set: the orthonormal basis Q of
 * [1, covariates] and the residualised phenotypes R = (I - QQ')Y. A
 * variant then needs only u = Q'g, g'R and g'g over its observed samples,
 * which a carrier list gives in O(carriers * (p + m)); samples with a
 * missing call are removed by downdating Q'Q = I, Q'R = 0 and R'R with
 * their rows (docs/internals/stats.md has the algebra).
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/glm_int.h"

#define CHOL_TOL 1e-10

/* ---- kernels ---- */

int pm_kern_init(pm_kern_t *K, uint32_t n, uint32_t p, uint32_t m, const double *Q,
                 const uint8_t *incl, uint32_t n_incl)
{
    memset(K, 0, sizeof *K);
    K->p = p;
    K->m = m;
    K->Q = Q;
    K->incl = incl;
    K->n_incl = n_incl;
    K->R = calloc((size_t)n * (m ? m : 1), sizeof *K->R);
    K->q1 = calloc(p ? p : 1, sizeof *K->q1);
    K->r1 = calloc(m ? m : 1, sizeof *K->r1);
    K->rss0 = calloc(m ? m : 1, sizeof *K->rss0);
    if (!K->R || !K->q1 || !K->r1 || !K->rss0) {
        pm_kern_fini(K);
        return PM_ENOMEM;
    }
    return 0;
}

void pm_kern_fini(pm_kern_t *K)
{
    if (!K)
        return;
    free(K->R);
    free(K->wh);
    free(K->q1);
    free(K->r1);
    free(K->rss0);
    free(K->QR);
    K->R = K->wh = K->q1 = K->r1 = K->rss0 = K->QR = NULL;
}

void pm_kern_finish(pm_kern_t *K, uint32_t n)
{
    uint32_t p = K->p, m = K->m;
    if (m == 0)
        return;
    double *C = malloc((size_t)p * m * sizeof *C);
    if (C) {
        /* R -= Q (Q'R), twice: the second pass removes what rounding
         * left of the first (Gram-Schmidt "twice is enough") */
        for (int pass = 0; pass < 2; pass++) {
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)p, (int)m, (int)n, 1.0, K->Q,
                        (int)p, K->R, (int)m, 0.0, C, (int)m);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)m, (int)p, -1.0,
                        K->Q, (int)p, C, (int)m, 1.0, K->R, (int)m);
        }
        free(C);
    }
    if (!K->incl && !K->wh) {
        /* the fast path's interleaved copy (a failed allocation just
         * leaves the general path) */
        size_t w = (size_t)p + m;
        K->QR = malloc((size_t)n * w * sizeof *K->QR);
        if (K->QR)
            for (uint32_t i = 0; i < n; i++) {
                memcpy(K->QR + (size_t)i * w, K->Q + (size_t)i * p, p * sizeof(double));
                memcpy(K->QR + (size_t)i * w + p, K->R + (size_t)i * m, m * sizeof(double));
            }
    }
    memset(K->q1, 0, p * sizeof *K->q1);
    memset(K->r1, 0, m * sizeof *K->r1);
    memset(K->rss0, 0, m * sizeof *K->rss0);
    K->w1 = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (K->incl && !K->incl[i])
            continue;
        double wh = K->wh ? K->wh[i] : 1.0;
        const double *Qi = K->Q + (size_t)i * p;
        const double *Ri = K->R + (size_t)i * m;
        for (uint32_t a = 0; a < p; a++)
            K->q1[a] += wh * Qi[a];
        for (uint32_t j = 0; j < m; j++) {
            K->r1[j] += wh * Ri[j];
            K->rss0[j] += Ri[j] * Ri[j];
        }
        K->w1 += wh * wh;
    }
}

/* The missing samples' rows: A = sum Q_i Q_i' (lower), b_j = sum Q_i
 * R_ij, c_j = sum R_ij^2, qm = sum wh_i Q_i, rm_j = sum wh_i R_ij (in
 * w->t as scratch), *wm = sum wh_i^2. Returns their count. */
static uint32_t kern_missing(const pm_kern_t *K, pm_glm_work_t *w, const pm_gvec_t *g, double *rm,
                             double *wm)
{
    uint32_t p = K->p, m = K->m, nm = 0;
    memset(w->A, 0, (size_t)p * p * sizeof *w->A);
    memset(w->b, 0, (size_t)m * p * sizeof *w->b);
    memset(w->c, 0, m * sizeof *w->c);
    memset(w->qm, 0, p * sizeof *w->qm);
    memset(rm, 0, m * sizeof *rm);
    *wm = 0;
    for (uint32_t e = 0; e < g->n_miss; e++) {
        uint32_t i = g->miss[e];
        if (K->incl && !K->incl[i])
            continue;
        nm++;
        double wh = K->wh ? K->wh[i] : 1.0;
        const double *Qi = K->Q + (size_t)i * p;
        const double *Ri = K->R + (size_t)i * m;
        for (uint32_t a = 0; a < p; a++) {
            w->qm[a] += wh * Qi[a];
            for (uint32_t c = 0; c <= a; c++)
                w->A[a * p + c] += Qi[a] * Qi[c];
        }
        for (uint32_t j = 0; j < m; j++) {
            double r = Ri[j];
            rm[j] += wh * r;
            w->c[j] += r * r;
            double *bj = w->b + (size_t)j * p;
            for (uint32_t a = 0; a < p; a++)
                bj[a] += Qi[a] * r;
        }
        *wm += wh * wh;
    }
    return nm;
}

/* Dispatched at run time: the AVX2 clone vectorises the carrier loop
 * (not under PM_NO_CLONES: ThreadSanitizer cannot start with ifunc
 * resolvers that it instruments). */
#if defined(__x86_64__) && !defined(PM_NO_CLONES)
__attribute__((target_clones("avx2", "default")))
#endif
int pm_kern_eval(const pm_kern_t *K, uint32_t n, pm_glm_work_t *w, const pm_gvec_t *g,
                 pm_kern_out_t *o)
{
    uint32_t p = K->p, m = K->m;
    double *u = w->u, *gr = w->gr;
    double *rm = w->rm, wm = 0;
    uint32_t nm = kern_missing(K, w, g, rm, &wm);
    double gg = 0, gsum = 0, g2 = 0;
    uint32_t obs = K->n_incl - nm;

    memset(u, 0, p * sizeof *u);
    memset(gr, 0, m * sizeof *gr);
    if (g->dense) {
        /* dense: h = wh * g over the observed samples, then two GEMVs */
        for (uint32_t e = 0; e < g->n_miss; e++)
            w->missflag[g->miss[e]] = 1;
        double *h = w->h;
        for (uint32_t i = 0; i < n; i++) {
            if ((K->incl && !K->incl[i]) || w->missflag[i]) {
                h[i] = 0;
                continue;
            }
            double v = g->dense[i], wh = K->wh ? K->wh[i] : 1.0;
            gsum += v;
            g2 += v * v;
            h[i] = wh * v;
            gg += h[i] * h[i];
        }
        for (uint32_t e = 0; e < g->n_miss; e++)
            w->missflag[g->miss[e]] = 0;
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)p, 1.0, K->Q, (int)p, h, 1, 0.0, u, 1);
        if (m)
            cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)m, 1.0, K->R, (int)m, h, 1, 0.0, gr,
                        1);
    } else {
        /* sparse: the listed samples differ from `fill` by d = val - fill */
        double fill = g->fill;
        if (K->QR) {
            /* the common case: everyone, unweighted */
            /* rows [Q_i, R_i] are contiguous in K->QR: a few cache
             * lines per carrier, fetched a few carriers ahead */
            const double *restrict QR = K->QR;
            const uint32_t *restrict ix = g->idx;
            const double *restrict vals = g->val;
            uint32_t p1 = p + m, nnz = g->nnz;
            double g1 = 0, g2a = 0;
            if (p1 <= 32) {
                /* accumulate [u, g'R] in a local row: no aliasing with QR,
                 * so the loop runs at load/FMA throughput */
                double acc[32] = {0};
                for (uint32_t e = 0; e < nnz; e++) {
                    if (e + 8 < nnz) {
                        const double *f = QR + (size_t)ix[e + 8] * p1;
                        __builtin_prefetch(f);
                        __builtin_prefetch(f + p1 - 1);
                    }
                    double v = vals[e], d = v - fill;
                    const double *restrict Qi = QR + (size_t)ix[e] * p1;
                    g1 += d;
                    g2a += v * v - fill * fill;
                    for (uint32_t a = 0; a < p1; a++)
                        acc[a] += d * Qi[a];
                }
                memcpy(u, acc, p * sizeof *u);
                memcpy(gr, acc + p, m * sizeof *gr);
            } else {
                for (uint32_t e = 0; e < nnz; e++) {
                    double v = vals[e], d = v - fill;
                    const double *Qi = QR + (size_t)ix[e] * p1;
                    g1 += d;
                    g2a += v * v - fill * fill;
                    for (uint32_t a = 0; a < p; a++)
                        u[a] += d * Qi[a];
                    for (uint32_t j = 0; j < m; j++)
                        gr[j] += d * Qi[p + j];
                }
            }
            gsum = g1;
            g2 = g2a;
            gg = g2a;
        } else {
            for (uint32_t e = 0; e < g->nnz; e++) {
                uint32_t i = g->idx[e];
                if (K->incl && !K->incl[i])
                    continue;
                double v = g->val[e], d = v - fill, wh = K->wh ? K->wh[i] : 1.0;
                double hd = wh * d, sq = v * v - fill * fill;
                gsum += d;
                g2 += sq;
                gg += wh * wh * sq;
                if (hd != 0) {
                    const double *Qi = K->Q + (size_t)i * p;
                    const double *Ri = K->R + (size_t)i * m;
                    for (uint32_t a = 0; a < p; a++)
                        u[a] += hd * Qi[a];
                    for (uint32_t j = 0; j < m; j++)
                        gr[j] += hd * Ri[j];
                }
            }
        }
        if (fill != 0) {
            for (uint32_t a = 0; a < p; a++)
                u[a] += fill * (K->q1[a] - w->qm[a]);
            for (uint32_t j = 0; j < m; j++)
                gr[j] += fill * (K->r1[j] - rm[j]);
            gg += fill * fill * (K->w1 - wm);
            gsum += fill * obs;
            g2 += fill * fill * obs;
        }
    }

    o->obs = obs;
    o->gsum = gsum;
    o->g2 = g2;
    o->singular = 0;
    double *t = o->t, *rss = o->rss;
    if (nm == 0) {
        double uu = 0;
        for (uint32_t a = 0; a < p; a++)
            uu += u[a] * u[a];
        o->s = gg - uu;
        for (uint32_t j = 0; j < m; j++) {
            t[j] = gr[j];
            rss[j] = K->rss0[j] - (o->s > 0 ? gr[j] * gr[j] / o->s : 0);
        }
        return 0;
    }
    /* A := I - sum_M Q_i Q_i' (lower triangle), then Cholesky */
    for (uint32_t a = 0; a < p; a++) {
        for (uint32_t c = 0; c < a; c++)
            w->A[a * p + c] = -w->A[a * p + c];
        w->A[a * p + a] = 1.0 - w->A[a * p + a];
    }
    if (pm_chol(w->A, p, CHOL_TOL) < 0) {
        o->singular = 1;
        o->s = NAN;
        for (uint32_t j = 0; j < m; j++)
            t[j] = rss[j] = NAN;
        return 0;
    }
    memcpy(w->yu, u, p * sizeof *u);
    pm_fsolve(w->A, p, w->yu);
    double uu = 0;
    for (uint32_t a = 0; a < p; a++)
        uu += w->yu[a] * w->yu[a];
    o->s = gg - uu;
    for (uint32_t j = 0; j < m; j++) {
        /* Q_r'r_r = -b_j; r_r'r_r = rss0 - c_j */
        double *yb = w->yb + (size_t)j * p;
        for (uint32_t a = 0; a < p; a++)
            yb[a] = -w->b[(size_t)j * p + a];
        pm_fsolve(w->A, p, yb);
        double ub = 0, bb = 0;
        for (uint32_t a = 0; a < p; a++) {
            ub += w->yu[a] * yb[a];
            bb += yb[a] * yb[a];
        }
        t[j] = gr[j] - ub;
        double r0 = K->rss0[j] - w->c[j] - bb;
        rss[j] = r0 - (o->s > 0 ? t[j] * t[j] / o->s : 0);
    }
    return 0;
}

/* ---- results ---- */

static void res_na(pm_glm_result_t *r, int test, int err, uint32_t obs)
{
    r->beta = r->se = r->stat = r->p = NAN;
    r->score_p = NAN;
    r->obs_ct = obs;
    r->test = test;
    r->err = err;
    r->firth_iter = 0;
}

/* The genotype checks every test shares: enough samples, not constant,
 * not collinear with the covariates (plink2's --vif). */
static int geno_check(const pm_glm_t *m, const pm_kern_out_t *o, int weighted)
{
    if (o->singular)
        return PM_GLM_ESINGULAR;
    if (o->obs < m->p + 2)
        return PM_GLM_EFEW;
    double var = o->g2 - o->gsum * o->gsum / o->obs;
    if (!(var > 1e-10 * (o->g2 > 1 ? o->g2 : 1)))
        return PM_GLM_ECONST;
    if (!weighted) {
        if (!(o->s * m->opts.max_vif > var))
            return PM_GLM_EVIF;
    } else if (!(o->s > 0)) {
        return PM_GLM_EVIF;
    }
    return PM_GLM_OK;
}

static void res_linear(const pm_glm_t *m, const pm_kern_out_t *o, uint32_t j,
                       pm_glm_result_t *r)
{
    int err = geno_check(m, o, 0);
    if (err) {
        res_na(r, PM_GLM_ADD, err, o->obs);
        return;
    }
    double df = (double)o->obs - m->p - 1;
    double rss = o->rss[j] > 0 ? o->rss[j] : 0;
    r->beta = o->t[j] / o->s;
    r->se = sqrt(rss / df / o->s);
    r->stat = r->beta / r->se;
    r->p = pm_stats_t_p2(r->stat, df);
    r->score_p = NAN;
    r->obs_ct = o->obs;
    r->test = PM_GLM_ADD;
    r->err = PM_GLM_OK;
    r->firth_iter = 0;
}

static void res_score(const pm_glm_t *m, const pm_kern_out_t *o, pm_glm_result_t *r)
{
    int err = geno_check(m, o, 1);
    if (err) {
        res_na(r, PM_GLM_SCORE, err, o->obs);
        return;
    }
    double sq = sqrt(o->s);
    r->beta = o->t[0] / o->s;
    r->se = 1 / sq;
    r->stat = o->t[0] / sq;
    r->p = pm_stats_norm_p2(r->stat);
    r->score_p = r->p;
    r->obs_ct = o->obs;
    r->test = PM_GLM_SCORE;
    r->err = PM_GLM_OK;
    r->firth_iter = 0;
}

int pm_glm_test(const pm_glm_t *m, pm_glm_work_t *w, const pm_gvec_t *g, pm_glm_result_t *res)
{
    if (!m || !w || !g || !res)
        return PM_EUSAGE;
    for (uint32_t e = 0; e < g->n_miss; e++)
        if (g->miss[e] >= m->n)
            return PM_EUSAGE;
    if (!g->dense) {
        if (g->nnz && (!g->idx || !g->val))
            return PM_EUSAGE;
        for (uint32_t e = 0; e < g->nnz; e++)
            if (g->idx[e] >= m->n)
                return PM_EUSAGE;
    }
    pm_kern_out_t o = {.t = w->t, .rss = w->rss};
    for (uint32_t gi = 0; gi < m->n_groups; gi++) {
        const pm_group_t *G = &m->groups[gi];
        if (G->lin.m == 0)
            continue;
        pm_kern_eval(&G->lin, m->n, w, g, &o);
        for (uint32_t j = 0; j < G->lin.m; j++)
            res_linear(m, &o, j, &res[G->lin_idx[j]]);
    }
    for (uint32_t bi = 0; bi < m->n_bin; bi++) {
        const pm_bin_t *b = &m->bins[bi];
        pm_glm_result_t *r = &res[b->pheno];
        pm_kern_eval(&b->score, m->n, w, g, &o);
        res_score(m, &o, r);
        if (r->err == PM_GLM_OK && (r->p < m->opts.firth_p || m->opts.firth_p >= 1)) {
            double sp = r->p;
            pm_firth(m, b, w, g, r);
            r->score_p = sp;
        }
    }
    return 0;
}

/* ---- model ---- */

static void group_fini(pm_group_t *G)
{
    pm_kern_fini(&G->lin);
    free(G->incl);
    free(G->Q);
    free(G->lin_idx);
}

void pm_glm_free(pm_glm_t *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < m->n_groups; i++)
        group_fini(&m->groups[i]);
    for (uint32_t i = 0; i < m->n_bin; i++)
        pm_bin_fini(&m->bins[i]);
    free(m->groups);
    free(m->bins);
    free(m->n_obs);
    free(m);
}

/* QR of [1, covariates] over the group's samples into G->Q (n x p
 * row-major, zero rows outside). */
static int group_qr(pm_ctx_t *ctx, pm_glm_t *m, pm_group_t *G, const double *covar)
{
    uint32_t n = m->n, p = m->p, N = G->n_incl;
    if (N < p + 2)
        return pm_err(ctx, PM_EINPUT, "only %u samples with a phenotype and all covariates", N);
    double *X = malloc((size_t)N * p * sizeof *X);
    G->Q = calloc((size_t)n * p, sizeof *G->Q);
    if (!X || !G->Q) {
        free(X);
        return pm_err(ctx, PM_ENOMEM, "out of memory for the covariate matrix");
    }
    uint32_t r = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (G->incl && !G->incl[i])
            continue;
        X[r] = 1.0;
        for (uint32_t c = 0; c < m->k; c++)
            X[(size_t)(c + 1) * N + r] = covar[(size_t)c * n + i];
        r++;
    }
    uint32_t bad = 0;
    int rc = pm_qr_thin(X, N, p, &bad);
    if (rc == -1) {
        free(X);
        if (bad == 0)
            return pm_err(ctx, PM_EINPUT, "the intercept column is degenerate");
        return pm_err(ctx, PM_EINPUT,
                      "covariate %u is constant or collinear with the earlier covariates", bad);
    }
    if (rc < 0) {
        free(X);
        return pm_err(ctx, PM_EINTERNAL, "QR of the covariate matrix failed");
    }
    r = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (G->incl && !G->incl[i])
            continue;
        for (uint32_t c = 0; c < p; c++)
            G->Q[(size_t)i * p + c] = X[(size_t)c * N + r];
        r++;
    }
    free(X);
    return 0;
}

int pm_glm_new(pm_ctx_t *ctx, uint32_t n, uint32_t k, const double *covar, uint32_t n_pheno,
               const double *pheno, const uint8_t *binary, const pm_glm_opts_t *opts,
               pm_glm_t **out)
{
    if (!out || n == 0 || n_pheno == 0 || !pheno || (k && !covar))
        return pm_err(ctx, PM_EUSAGE, "pm_glm_new: bad arguments");
    *out = NULL;
    if (k > 1000)
        return pm_err(ctx, PM_ELIMIT, "%u covariates (at most 1000)", k);
    pm_glm_t *m = calloc(1, sizeof *m);
    uint8_t *covok = malloc(n);
    uint8_t *mask = malloc(n);
    int rc = 0;
    if (!m || !covok || !mask) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto fail;
    }
    m->n = n;
    m->k = k;
    m->p = k + 1;
    m->n_pheno = n_pheno;
    m->opts.firth_p = 0.05;
    m->opts.max_vif = 50;
    m->opts.firth_maxit = 100;
    m->opts.firth_tol = 1e-10;
    if (opts) {
        if (opts->firth_p != 0)
            m->opts.firth_p = opts->firth_p;
        if (opts->max_vif > 0)
            m->opts.max_vif = opts->max_vif;
        if (opts->firth_maxit > 0)
            m->opts.firth_maxit = opts->firth_maxit;
        if (opts->firth_tol > 0)
            m->opts.firth_tol = opts->firth_tol;
    }
    m->groups = calloc(n_pheno, sizeof *m->groups);
    m->bins = calloc(n_pheno, sizeof *m->bins);
    m->n_obs = calloc(n_pheno, sizeof *m->n_obs);
    uint32_t *grp_of = calloc(n_pheno, sizeof *grp_of);
    if (!m->groups || !m->bins || !m->n_obs || !grp_of) {
        free(grp_of);
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        covok[i] = 1;
        for (uint32_t c = 0; c < k; c++)
            if (!isfinite(covar[(size_t)c * n + i]))
                covok[i] = 0;
    }
    /* group the phenotypes by their sample sets */
    for (uint32_t j = 0; j < n_pheno; j++) {
        const double *y = pheno + (size_t)j * n;
        uint32_t cnt = 0;
        for (uint32_t i = 0; i < n; i++) {
            mask[i] = covok[i] && isfinite(y[i]);
            cnt += mask[i];
            if (mask[i] && binary && binary[j] && y[i] != 0 && y[i] != 1) {
                free(grp_of);
                rc = pm_err(ctx, PM_EINPUT, "binary phenotype %u: value %g is not 0 or 1", j + 1,
                            y[i]);
                goto fail;
            }
        }
        m->n_obs[j] = cnt;
        uint32_t gi;
        for (gi = 0; gi < m->n_groups; gi++) {
            pm_group_t *G = &m->groups[gi];
            if (G->n_incl != cnt)
                continue;
            if (G->incl ? memcmp(G->incl, mask, n) == 0 : cnt == n)
                break;
        }
        if (gi == m->n_groups) {
            pm_group_t *G = &m->groups[m->n_groups++];
            G->n_incl = cnt;
            if (cnt < n) {
                G->incl = malloc(n);
                if (!G->incl) {
                    free(grp_of);
                    rc = pm_err(ctx, PM_ENOMEM, "out of memory");
                    goto fail;
                }
                memcpy(G->incl, mask, n);
            }
            if ((rc = group_qr(ctx, m, G, covar)) < 0) {
                free(grp_of);
                goto fail;
            }
        }
        grp_of[j] = gi;
    }
    /* quantitative phenotypes: one kernel per group */
    for (uint32_t gi = 0; gi < m->n_groups; gi++) {
        pm_group_t *G = &m->groups[gi];
        uint32_t cnt = 0;
        for (uint32_t j = 0; j < n_pheno; j++)
            cnt += grp_of[j] == gi && !(binary && binary[j]);
        if ((rc = pm_kern_init(&G->lin, n, m->p, cnt, G->Q, G->incl, G->n_incl)) < 0) {
            free(grp_of);
            pm_err(ctx, rc, "out of memory");
            goto fail;
        }
        G->lin_idx = calloc(cnt ? cnt : 1, sizeof *G->lin_idx);
        if (!G->lin_idx) {
            free(grp_of);
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
            goto fail;
        }
        uint32_t c = 0;
        for (uint32_t j = 0; j < n_pheno; j++) {
            if (grp_of[j] != gi || (binary && binary[j]))
                continue;
            G->lin_idx[c] = j;
            const double *y = pheno + (size_t)j * n;
            for (uint32_t i = 0; i < n; i++)
                if (!G->incl || G->incl[i])
                    G->lin.R[(size_t)i * cnt + c] = y[i];
            c++;
        }
        pm_kern_finish(&G->lin, n);
        if (cnt > m->max_m)
            m->max_m = cnt;
    }
    if (m->max_m < 1)
        m->max_m = 1;
    /* binary phenotypes: logistic null models */
    for (uint32_t j = 0; j < n_pheno; j++) {
        if (!(binary && binary[j]))
            continue;
        pm_bin_t *b = &m->bins[m->n_bin++];
        b->pheno = j;
        b->group = grp_of[j];
        if ((rc = pm_bin_fit(ctx, m, b, pheno + (size_t)j * n)) < 0) {
            free(grp_of);
            goto fail;
        }
    }
    free(grp_of);
    free(covok);
    free(mask);
    *out = m;
    return 0;
fail:
    free(covok);
    free(mask);
    pm_glm_free(m);
    return rc < 0 ? rc : PM_EINTERNAL;
}

uint32_t pm_glm_n_samples(const pm_glm_t *m) { return m ? m->n : 0; }
uint32_t pm_glm_n_pheno(const pm_glm_t *m) { return m ? m->n_pheno : 0; }
uint32_t pm_glm_n_obs(const pm_glm_t *m, uint32_t j)
{
    return m && j < m->n_pheno ? m->n_obs[j] : 0;
}

void pm_glm_work_free(pm_glm_work_t *w)
{
    if (!w)
        return;
    free(w->missflag);
    free(w->h);
    free(w->u);
    free(w->A);
    free(w->yu);
    free(w->qm);
    free(w->gr);
    free(w->b);
    free(w->c);
    free(w->yb);
    free(w->t);
    free(w->rss);
    free(w->rm);
    free(w->X);
    free(w->Xw);
    free(w->y);
    free(w->mu);
    free(w->lev);
    free(w->eta);
    free(w->FI);
    free(w->L);
    free(w->beta);
    free(w->beta_new);
    free(w->delta);
    free(w->U);
    free(w->obs_idx);
    free(w);
}

pm_glm_work_t *pm_glm_work_new(const pm_glm_t *m)
{
    if (!m)
        return NULL;
    pm_glm_work_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    size_t n = m->n, p = m->p, P = p + 1, mm = m->max_m;
    w->n = m->n;
    w->p = m->p;
    w->P = (uint32_t)P;
    w->missflag = calloc(n, 1);
    w->h = calloc(n, sizeof(double));
    w->u = calloc(p, sizeof(double));
    w->A = calloc(p * p, sizeof(double));
    w->yu = calloc(p, sizeof(double));
    w->qm = calloc(p, sizeof(double));
    w->gr = calloc(mm, sizeof(double));
    w->b = calloc(mm * p, sizeof(double));
    w->c = calloc(mm, sizeof(double));
    w->yb = calloc(mm * p, sizeof(double));
    w->t = calloc(mm, sizeof(double));
    w->rss = calloc(mm, sizeof(double));
    w->rm = calloc(mm, sizeof(double));
    int ok = w->missflag && w->h && w->u && w->A && w->yu && w->qm && w->gr && w->b && w->c &&
             w->yb && w->t && w->rss && w->rm;
    if (ok && m->n_bin) {
        w->X = malloc(n * P * sizeof(double));
        w->Xw = malloc(n * P * sizeof(double));
        w->y = malloc(n * sizeof(double));
        w->mu = malloc(n * sizeof(double));
        w->lev = malloc(n * sizeof(double));
        w->eta = malloc(n * sizeof(double));
        w->FI = malloc(P * P * sizeof(double));
        w->L = malloc(P * P * sizeof(double));
        w->beta = malloc(P * sizeof(double));
        w->beta_new = malloc(P * sizeof(double));
        w->delta = malloc(P * sizeof(double));
        w->U = malloc(P * sizeof(double));
        w->obs_idx = malloc(n * sizeof(uint32_t));
        ok = w->X && w->Xw && w->y && w->mu && w->lev && w->eta && w->FI && w->L && w->beta &&
             w->beta_new && w->delta && w->U && w->obs_idx;
    }
    if (!ok) {
        pm_glm_work_free(w);
        return NULL;
    }
    return w;
}

const char *pm_glm_test_name(int test)
{
    switch (test) {
    case PM_GLM_ADD: return "ADD";
    case PM_GLM_SCORE: return "SCORE";
    case PM_GLM_FIRTH: return "FIRTH";
    default: return "?";
    }
}

const char *pm_glm_err_name(int err)
{
    switch (err) {
    case PM_GLM_OK: return ".";
    case PM_GLM_ECONST: return "CONST_ALLELE";
    case PM_GLM_EVIF: return "VIF_INFINITE";
    case PM_GLM_EFEW: return "TOO_FEW_OBS";
    case PM_GLM_ESINGULAR: return "SINGULAR";
    case PM_GLM_ENOCONV: return "FIRTH_CONVERGE_FAIL";
    default: return "?";
    }
}
