/*
 * promise/qtl.h - cis-QTL mapping of an omics assay: every feature of a
 * BED file against every variant within a window of its position, on the
 * individuals that have both genotypes and a value of the assay. The
 * model, the handling of missing values and the permutation scheme follow
 * QTLtools `cis` (docs/omics.md, section "cis-QTL mapping").
 *
 *   pm_qtl_opts_t o = {.assay = "olink", .features_bed = "prot.bed",
 *                      .window = 1000000, .covar = "age,sex",
 *                      .prefix = "out/pqtl", .tier = PM_TIER_STEWARD};
 *   pm_qtl_summary_t s;
 *   if (pm_qtl_run(st, &o, &s) < 0) ... pm_ctx_errmsg(pm_store_ctx(st));
 *
 * The library writes PREFIX.nominal.tsv and PREFIX.best.tsv and never
 * prints. Genotypes of a window are decoded once and shared by every
 * feature whose window covers them; covariates are projected out once.
 */
#ifndef PROMISE_QTL_H
#define PROMISE_QTL_H

#include <stddef.h>
#include <stdint.h>

#include "promise/error.h"
#include "promise/store.h"

#ifdef __cplusplus
extern "C" {
#endif

enum pm_qtl_norm {
    PM_QTL_NORM_NONE = 0,
    PM_QTL_NORM_INT = 1,  /* rank-based inverse normal (pm_omics_int) */
    PM_QTL_NORM_LOG2 = 2, /* log2; values <= 0 become missing */
};

enum pm_qtl_model {
    /* y ~ 1 + covariates + g, fitted exactly: covariates are projected out
     * of the phenotype and of the genotype; df = n - 2 - k (as R lm,
     * FastQTL and tensorQTL). */
    PM_QTL_MODEL_LM = 0,
    /* QTLtools 1.3.1 `cis`: covariates are projected out of the phenotype
     * only, the genotype is only centred; df = n - 2. Identical to
     * PM_QTL_MODEL_LM without covariates. */
    PM_QTL_MODEL_QTLTOOLS = 1,
};

typedef struct pm_qtl_opts {
    const char *assay;        /* required */
    const char *features_bed; /* required: chr, start, end, feature id [, strand] */
    int64_t window;           /* cis window in bp; 0 = 1000000, -1 = 0 bp (overlap only) */
    const char *covar;        /* comma list: age, sex, omics:ASSAY:FEATURE; NULL = none */
    const char *cohort;       /* NULL or "" = everyone */
    int sample_mode;          /* enum pm_omics_choice_mode (not PM_OMICS_ALL); 0 = first */
    int sample_date;          /* YYYYMMDD for PM_OMICS_NEAREST */
    int normalize;            /* enum pm_qtl_norm */
    int model;                /* enum pm_qtl_model */
    int permutations;         /* 0 = no permutation pass */
    uint64_t seed;            /* permutation seed (0 = a fixed default) */
    const char *prefix;       /* output prefix (required) */
    int tier;                 /* pm_tier_t whose release rules apply */
    int ref_date;             /* YYYYMMDD for ages; 0 = as pm_cohort_opts_t */
    /* Consent purpose ("commercial", "research"): who opted out of it is
     * left out like the withdrawn (pm_cohort_opts_t.purpose); NULL = none. */
    const char *purpose;
} pm_qtl_opts_t;

typedef struct pm_qtl_summary {
    int64_t n_features;       /* BED rows */
    int64_t n_tested;         /* features with at least one variant in cis */
    int64_t n_samples;        /* individuals in the analysis */
    int64_t n_cohort;         /* genotyped individuals of the cohort */
    int64_t n_variants;       /* variants (site x ALT) read */
    int64_t n_pairs;          /* variant-feature pairs tested */
    int64_t n_withheld;       /* pairs withheld by the release policy */
    int k;                    /* policy threshold applied (0 = none) */
    char covar_names[512];
    double seconds;           /* wall time of the genotype pass */
} pm_qtl_summary_t;

/*
 * Runs the mapping and writes PREFIX.nominal.tsv and PREFIX.best.tsv
 * (columns in docs/omics.md). out may be NULL. Errors: PM_EUSAGE (bad
 * options or --covar), PM_EINPUT (a bad BED line, as FILE:LINE: ...;
 * collinear covariates; no individual with genotypes and values),
 * PM_ENOTFOUND (unknown assay or feature), PM_EACCES, PM_EIO, PM_ENOMEM.
 */
int pm_qtl_run(pm_store_t *st, const pm_qtl_opts_t *o, pm_qtl_summary_t *out);

/* One association, as the engine computes it. */
typedef struct pm_qtl_stat {
    double r;      /* correlation of the projected genotype and phenotype */
    double slope;  /* per ALT copy */
    double se;
    double t;
    double p;      /* two-sided, Student t with df */
    double df;
} pm_qtl_stat_t;

/*
 * The engine's statistic for one phenotype y and one genotype g over n
 * samples (no missing values), with k covariates C (column-major n x k,
 * an intercept is added) under `model`. For tests and small uses; the
 * mapping itself shares the projections between pairs. PM_EINPUT when
 * the covariates are collinear or y or g is constant after projection.
 */
int pm_qtl_assoc(pm_ctx_t *ctx, size_t n, size_t k, const double *C, const double *y,
                 const double *g, int model, pm_qtl_stat_t *out);

/*
 * Beta approximation of a permutation p-value, as QTLtools `cis --permute`
 * does: from the best |r| of each of m permutations, learn the effective
 * degrees of freedom (the df that gives the permuted best p-values a
 * beta(1, b)-like first shape), fit beta(a, b) to those p-values by
 * maximum likelihood, and return pbeta(p(r_obs, df_eff), a, b). Fills
 * *df_eff, *a, *b (may be NULL). Returns NaN when the permuted p-values
 * have no variance.
 */
double pm_qtl_beta_p(double r_obs, const double *r_perm, size_t m, double df, double *df_eff,
                     double *a, double *b);

#ifdef __cplusplus
}
#endif
#endif
