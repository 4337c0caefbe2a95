/*
 * promise/stats.h - the statistics kernels of association testing: the
 * per-variant tests of plink2 `--glm` (linear with covariates; logistic as
 * a score test with Firth-penalised regression where the score test is
 * nominally significant), distribution tails, and genomic control.
 *
 * The API is independent of storage: the caller hands in each variant's
 * dosages, either dense (n values) or sparse (the samples whose dosage is
 * not `fill`), plus the list of samples whose call is missing. A model is
 * fitted once for a covariate matrix and a matrix of phenotypes; then
 * every variant is tested against all phenotypes in one call, so that
 * genotypes are read once.
 *
 *   pm_glm_t *m;
 *   pm_glm_new(ctx, n, k, covar, n_pheno, pheno, binary, NULL, &m);
 *   pm_glm_work_t *w = pm_glm_work_new(m);
 *   pm_gvec_t g = {.idx = carriers, .val = dosages, .nnz = c,
 *                  .miss = missing, .n_miss = nm};
 *   pm_glm_result_t res[n_pheno];
 *   pm_glm_test(m, w, &g, res);
 *   ...
 *   pm_glm_work_free(w);
 *   pm_glm_free(m);
 *
 * Samples whose genotype call is missing are dropped for that variant, as
 * plink2 does, without refitting: the precomputed cross-products are
 * downdated by the missing samples' rows (docs/internals/stats.md), so the
 * cost per variant is O(carriers * p + missing * p^2 + p^3) for p =
 * covariates + 1, and O(carriers) per additional quantitative phenotype.
 *
 * Threading: a pm_glm_t is read-only after pm_glm_new() and may be shared
 * by threads; each thread needs its own pm_glm_work_t.
 */
#ifndef PROMISE_STATS_H
#define PROMISE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "promise/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- distribution tails (all return a probability in [0, 1], NaN for
 * invalid arguments; accurate to ~1e-12 relative down to the smallest
 * normal double, 0 below) ---- */

/* Regularised incomplete beta I_x(a, b), a, b > 0, 0 <= x <= 1. */
double pm_stats_betai(double a, double b, double x);
/* Regularised upper incomplete gamma Q(a, x), a > 0, x >= 0. */
double pm_stats_gammaq(double a, double x);
/* Two-sided Student t tail P(|T| >= |t|) with df > 0 degrees of freedom. */
double pm_stats_t_p2(double t, double df);
/* Two-sided normal tail P(|Z| >= |z|). */
double pm_stats_norm_p2(double z);
/* Chi-square upper tail P(X >= x) with df > 0 degrees of freedom. */
double pm_stats_chi2_p(double x, double df);
/* Upper normal quantile: z with P(Z >= z) = p, 0 < p < 1. */
double pm_stats_norm_qupper(double p);

/* Genomic-control lambda: median 1-df chi-square of the p-values divided
 * by its expectation under the null (qchisq(0.5, 1) = 0.4549364). NaN
 * p-values are ignored; returns NaN when none is left. p is not
 * modified. */
double pm_stats_gc_lambda(const double *p, size_t n);

/* ---- per-variant association ---- */

/* One variant's dosages over the model's n samples, in one of two forms.
 *  dense:  `dense` holds n dosages (entries of missing samples ignored).
 *  sparse: `dense` is NULL; samples idx[0..nnz) have dosage val[.], every
 *          other non-missing sample has dosage `fill` (0 for a carrier
 *          list; the commonest genotype makes common variants cheap too).
 * miss[0..n_miss) lists the samples whose call is missing (each at most
 * once, disjoint from idx). Indices are < n; order is free. */
typedef struct pm_gvec {
    const double *dense;
    const uint32_t *idx;
    const double *val;
    uint32_t nnz;
    double fill;
    const uint32_t *miss;
    uint32_t n_miss;
} pm_gvec_t;

/* Which test produced a result row (the TEST column). */
enum { PM_GLM_ADD = 0, PM_GLM_SCORE = 1, PM_GLM_FIRTH = 2 };

/* Why a row has no statistics (plink2's ERRCODE, roughly). */
enum {
    PM_GLM_OK = 0,
    PM_GLM_ECONST = 1,     /* genotype constant among the observed samples */
    PM_GLM_EVIF = 2,       /* genotype (nearly) collinear with the covariates */
    PM_GLM_EFEW = 3,       /* too few observations for the parameters */
    PM_GLM_ESINGULAR = 4,  /* covariates singular after dropping missing samples */
    PM_GLM_ENOCONV = 5     /* Firth iterations did not converge */
};

typedef struct pm_glm_result {
    double beta; /* per ALT dosage; log-odds for binary phenotypes */
    double se;
    double stat; /* T (linear) or Z (score, Firth) */
    double p;
    double score_p; /* binary: the score test's p (also when Firth ran); else NaN */
    uint32_t obs_ct;
    int test; /* PM_GLM_ADD / PM_GLM_SCORE / PM_GLM_FIRTH */
    int err;  /* PM_GLM_OK or a PM_GLM_E* reason (then beta..p are NaN) */
    int firth_iter; /* iterations Firth needed (0 when it did not run) */
} pm_glm_result_t;

typedef struct pm_glm_opts {
    double firth_p;  /* Firth where score p < firth_p (0: default 0.05; >= 1: always; < 0: never) */
    double max_vif;  /* genotype VIF above which the row is PM_GLM_EVIF (default 50, as plink2) */
    int firth_maxit; /* Firth Newton iterations (default 25) */
    double firth_tol; /* convergence: max |Newton step| (default 1e-10) */
} pm_glm_opts_t;

typedef struct pm_glm pm_glm_t;
typedef struct pm_glm_work pm_glm_work_t;

/*
 * Fits the null models: for each phenotype, the QR of [1, covariates] over
 * its samples and the residualised phenotype (quantitative), or the
 * logistic null model by IRLS (binary). covar is n x k column-major (k may
 * be 0; an intercept is always added), pheno n x n_pheno column-major.
 * binary[j] != 0 marks phenotype j as binary (values 0/1); binary may be
 * NULL (all quantitative). A sample is used for phenotype j when its
 * phenotype value and all its covariates are finite (NaN = excluded).
 * Phenotypes with the same sample set share their covariate QR. opts may
 * be NULL. Free with pm_glm_free(). Errors (PM_EINPUT: a non-0/1 binary
 * value, collinear covariates, a phenotype without cases or controls, a
 * null model that does not converge) are named on ctx.
 */
int pm_glm_new(pm_ctx_t *ctx, uint32_t n, uint32_t k, const double *covar, uint32_t n_pheno,
               const double *pheno, const uint8_t *binary, const pm_glm_opts_t *opts,
               pm_glm_t **out);
/* NULL is a no-op. */
void pm_glm_free(pm_glm_t *m);

uint32_t pm_glm_n_samples(const pm_glm_t *m);
uint32_t pm_glm_n_pheno(const pm_glm_t *m);
/* Samples used for phenotype j (before dropping missing genotype calls). */
uint32_t pm_glm_n_obs(const pm_glm_t *m, uint32_t j);

/* Per-thread scratch for pm_glm_test(); NULL on OOM. Free with
 * pm_glm_work_free() (NULL is a no-op). */
pm_glm_work_t *pm_glm_work_new(const pm_glm_t *m);
void pm_glm_work_free(pm_glm_work_t *w);

/*
 * Tests one variant against every phenotype: res[j] for phenotype j.
 * Returns 0, or PM_EUSAGE for an index out of range (nothing else fails;
 * a row that cannot be computed carries res[j].err).
 */
int pm_glm_test(const pm_glm_t *m, pm_glm_work_t *w, const pm_gvec_t *g, pm_glm_result_t *res);

/* Short name of a test ("ADD", "SCORE", "FIRTH") and of an error code
 * ("CONST", "VIF", ...); never NULL. */
const char *pm_glm_test_name(int test);
const char *pm_glm_err_name(int err);

#ifdef __cplusplus
}
#endif
#endif
