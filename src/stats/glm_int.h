/*
 * glm_int.h - internals of the association kernels (src/stats/glm.c,
 * logistic.c, linalg.c). See docs/internals/stats.md for the algebra.
 *
 * A "kernel" is one projected regression: an orthonormal basis Q of the
 * covariate space over one sample set, m responses already residualised
 * on Q, and optionally a per-sample factor `wh` applied to the genotype
 * (sqrt of the IRLS weights for a logistic score test). Everything a
 * variant needs is then g'Q, g'R and g'g over the non-missing samples,
 * with the missing samples' rows subtracted from Q'Q = I, Q'R = 0 and R'R.
 */
#ifndef PM_STATS_GLM_INT_H
#define PM_STATS_GLM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "promise/stats.h"

typedef struct pm_kern {
    uint32_t p;          /* basis columns (covariates + intercept) */
    uint32_t m;          /* responses */
    const double *Q;     /* n x p row-major; zero rows outside the sample set */
    double *R;           /* n x m row-major residualised responses; zero rows outside */
    double *wh;          /* n genotype factors (NULL = 1); zero outside */
    const uint8_t *incl; /* n flags of the sample set (NULL = every sample) */
    uint32_t n_incl;
    double *q1;   /* p: sum_i wh_i Q_i */
    double *r1;   /* m: sum_i wh_i R_i */
    double w1;    /* sum_i wh_i^2 */
    double *rss0; /* m: sum_i R_ij^2 */
    double *QR;   /* NULL, or n x (p + m) rows [Q_i, R_i] when no wh, every sample */
} pm_kern_t;

/* What a kernel gives for one variant. */
typedef struct pm_kern_out {
    uint32_t obs;   /* samples in the set with a non-missing call */
    int singular;   /* Q'Q over those samples is singular */
    double s;       /* g'(I - H)g over the observed samples (weighted) */
    double gsum;    /* unweighted sum of g over the observed samples */
    double g2;      /* unweighted sum of g^2 */
    double *t;      /* m: g'(I - H)r */
    double *rss;    /* m: r'(I - H)r, H the projection on the covariates */
} pm_kern_out_t;

typedef struct pm_bin pm_bin_t;

/* A sample set shared by the phenotypes that use exactly those samples. */
typedef struct pm_group {
    uint8_t *incl;  /* n flags, or NULL for every sample */
    uint32_t n_incl;
    double *Q;      /* n x p: orthonormal basis of [1, covariates] over the set */
    pm_kern_t lin;  /* the quantitative phenotypes of the group (lin.m may be 0) */
    uint32_t *lin_idx; /* lin.m phenotype indices */
} pm_group_t;

/* A binary phenotype: the logistic null model and its score kernel. */
struct pm_bin {
    uint32_t pheno;     /* phenotype index */
    uint32_t group;
    uint8_t *y;         /* n: 0/1 (meaningful inside the group's set) */
    double *beta0;      /* p: null coefficients on sqrt(n_incl) * Q */
    double *Qw;         /* n x p: orthonormal basis of W^(1/2) [1, covariates] */
    pm_kern_t score;    /* m = 1: d = (y - mu) / sqrt(w), wh = sqrt(w) */
};

struct pm_glm {
    uint32_t n, k, p, n_pheno;
    pm_glm_opts_t opts;
    uint32_t n_groups, n_bin;
    pm_group_t *groups;
    pm_bin_t *bins;
    uint32_t *n_obs;   /* per phenotype */
    uint32_t max_m;    /* largest kernel m */
};

struct pm_glm_work {
    uint32_t n, p, P;
    uint8_t *missflag; /* n, all zero between calls */
    double *h;         /* n: dense weighted genotype */
    double *u, *A, *yu, *qm; /* p, p*p, p, p */
    double *gr, *b, *c, *yb; /* m, m*p, m, m*p */
    double *t, *rss, *rm; /* m */
    /* Firth scratch: N x P design, responses, weights, ... */
    double *X, *Xw, *y, *mu, *lev, *eta;
    double *FI, *L, *beta, *beta_new, *delta, *U;
    uint32_t *obs_idx;
};

/* ---- linalg.c: small dense helpers (row-major, lower Cholesky) ---- */

/* In-place Cholesky A = L L' of a p x p SPD matrix (lower triangle used
 * and overwritten, upper zeroed). Returns -1 when a pivot is not above
 * rel_tol times the original diagonal entry. */
int pm_chol(double *A, uint32_t p, double rel_tol);
/* Solves L x = b in place (L lower, p x p). */
void pm_fsolve(const double *L, uint32_t p, double *b);
/* Solves L' x = b in place. */
void pm_bsolve(const double *L, uint32_t p, double *b);
/* Thin QR of the N x p column-major matrix X (overwritten by Q). Returns
 * -1 when column j is numerically dependent on the earlier ones (j in
 * *bad_col), < -1 on allocation failure. */
int pm_qr_thin(double *X, uint32_t N, uint32_t p, uint32_t *bad_col);

/* ---- glm.c ---- */
int pm_kern_eval(const pm_kern_t *K, uint32_t n, pm_glm_work_t *w, const pm_gvec_t *g,
                 pm_kern_out_t *o);
int pm_kern_init(pm_kern_t *K, uint32_t n, uint32_t p, uint32_t m, const double *Q,
                 const uint8_t *incl, uint32_t n_incl);
void pm_kern_fini(pm_kern_t *K);
void pm_kern_finish(pm_kern_t *K, uint32_t n); /* residualises R, fills sums */

/* ---- logistic.c ---- */
/* Fits the null model of binary phenotype b (pheno column y01 over the
 * group's set) and builds its score kernel. */
int pm_bin_fit(pm_ctx_t *ctx, pm_glm_t *m, pm_bin_t *b, const double *y01);
void pm_bin_fini(pm_bin_t *b);
/* Firth-penalised logistic regression of binary phenotype b on
 * [covariates, g] over the observed samples; fills res (test FIRTH). */
void pm_firth(const pm_glm_t *m, const pm_bin_t *b, pm_glm_work_t *w, const pm_gvec_t *g,
              pm_glm_result_t *res);

#endif
