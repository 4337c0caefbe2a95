/*
 * promise/phewas.h - one variant against every endpoint of the endpoint
 * library (promise/registry.h): for each endpoint with enough cases in
 * the analysis cohort, logistic regression of case status on the
 * variant's ALT dosage and the covariates (unpenalised, with Firth's
 * penalty where that does not converge, as plink2's firth-fallback; or
 * Firth on every row, through the kernels of promise/stats.h that
 * `promise gwas` uses), one table grouped by
 * ICD-10 chapter and an SVG PheWAS plot. docs/gwas.md describes it.
 *
 *   pm_phewas_opts_t o = {.variant = "22:16050075:A:G", .covar = "age,sex,pc1,pc2",
 *                         .prefix = "out/rs1", .tier = PM_TIER_STEWARD};
 *   pm_phewas_summary_t s;
 *   if (pm_phewas_run(st, &o, &s) < 0) ... pm_ctx_errmsg(pm_store_ctx(st));
 *
 * The library writes PREFIX.tsv and PREFIX.svg and never prints.
 */
#ifndef PROMISE_PHEWAS_H
#define PROMISE_PHEWAS_H

#include <stddef.h>
#include <stdint.h>

#include "promise/registry.h"
#include "promise/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pm_phewas_opts {
    const char *variant;  /* "CHR:POS:REF:ALT" (contig as in pm_contig_normalise) */
    const char *covar;    /* as pm_gwas_opts_t.covar; NULL = none */
    const char *cohort;   /* NULL or "" = everyone genotyped */
    const pm_endpoint_lib_t *lib; /* NULL = the built-in library */
    int min_cases;        /* endpoints with fewer cases (and controls) are skipped; 0 = 20 */
    const char *prefix;   /* output prefix (required) */
    int tier;             /* pm_tier_t whose release rules apply */
    int ref_date;         /* YYYYMMDD for ages; 0 = as pm_cohort_opts_t */
    int no_plot;
    int firth;            /* 1: Firth on every row; 0: unpenalised logistic regression
                           * (Wald test, as R's glm), Firth where it does not converge */
    /* Consent purpose ("commercial", "research"): who opted out of it is
     * left out like the withdrawn (pm_cohort_opts_t.purpose); NULL = none. */
    const char *purpose;
} pm_phewas_opts_t;

typedef struct pm_phewas_summary {
    int64_t n_cohort;     /* genotyped individuals of the cohort */
    int64_t n_analysis;   /* with a call at the variant and every covariate */
    int64_t n_carriers;   /* of them with at least one ALT copy */
    size_t n_endpoints;   /* in the library */
    size_t n_tested;      /* with enough cases: rows written or withheld */
    size_t n_withheld;    /* rows withheld by the release policy */
    size_t n_error;       /* rows without statistics (NA) */
    int k;                /* policy threshold applied (0 at project tier and above) */
    double best_p;        /* smallest p (NaN when none) */
    char best[64];        /* its endpoint */
    char covar_names[512];
} pm_phewas_summary_t;

/* Runs the PheWAS. Errors: PM_EUSAGE (bad variant syntax or options),
 * PM_ENOTFOUND (the variant is not in the store), PM_EINPUT (no
 * individual left), PM_EACCES (a tier without aggregate statistics),
 * PM_EIO. s may be NULL. */
int pm_phewas_run(pm_store_t *st, const pm_phewas_opts_t *o, pm_phewas_summary_t *s);

/* The ICD-10 chapter (Roman numeral, "I" .. "XXII") of a code such as
 * "I21.9" or "C50", or NULL when the code is not ICD-10 shaped. */
const char *pm_icd10_chapter(const char *code);

#ifdef __cplusplus
}
#endif
#endif
