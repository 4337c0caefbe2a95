/*
 * promise/gwas.h - genome-wide association over a store: phenotypes and
 * covariates from the cohort, registry and omics modules, one pass of the
 * genotype site iterator (promise/genotype.h) through the kernels of
 * promise/stats.h, summary statistics released through the policy layer,
 * Manhattan and QQ plots. docs/gwas.md describes the behaviour.
 *
 *   const char *ph[] = {"endpoint:I9_MI", "omics:olink:IL6"};
 *   pm_gwas_opts_t o = {.pheno = ph, .n_pheno = 2, .covar = "age,sex",
 *                       .prefix = "out/mi", .tier = PM_TIER_STEWARD};
 *   pm_gwas_summary_t *s;
 *   if (pm_gwas_run(st, &o, &s) < 0) ... pm_ctx_errmsg(pm_store_ctx(st));
 *   ... s->pheno[j].lambda ...
 *   pm_gwas_summary_free(s);
 *
 * The library writes the files below PREFIX and never prints.
 */
#ifndef PROMISE_GWAS_H
#define PROMISE_GWAS_H

#include <stddef.h>
#include <stdint.h>

#include "promise/cohort.h"
#include "promise/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pm_gwas_opts {
    /* Phenotypes: a cohort expression or "endpoint:NAME" (binary: cases
     * are the analysis cohort's members matching it, controls the rest)
     * or "omics:ASSAY:FEATURE" (quantitative: the earliest sample's
     * value). */
    const char *const *pheno;
    size_t n_pheno;
    const char *covar;  /* comma list: age, sex, source, pcN, omics:ASSAY:FEATURE; NULL = none */
    const char *cohort; /* NULL or "" = everyone */
    const char *region; /* as pm_freq; NULL = all */
    const char *prefix; /* output prefix (required) */
    int threads;        /* 0 = pm_ctx_threads() */
    int tier;           /* pm_tier_t whose release rules apply (PM_TIER_STEWARD: all rows) */
    int ref_date;       /* YYYYMMDD for ages; 0 = as pm_cohort_opts_t */
    int no_plots;       /* skip the SVG plots */
    /* Consent purpose ("commercial", "research"): who opted out of it is
     * left out like the withdrawn (pm_cohort_opts_t.purpose); NULL = none. */
    const char *purpose;
} pm_gwas_opts_t;

typedef struct pm_gwas_pheno_summary {
    char *spec;         /* as given */
    char *name;         /* file tag (see docs/gwas.md) */
    char *path;         /* the .tsv written */
    int binary;
    int64_t n_obs;      /* samples in the null model */
    int64_t n_cases;    /* binary: cases among them; else -1 */
    int64_t n_rows;     /* rows written */
    int64_t n_firth;    /* binary: rows with TEST FIRTH */
    int64_t n_error;    /* rows without statistics (NA) */
    int64_t n_withheld; /* rows withheld by the release policy */
    double lambda;      /* genomic-control lambda over all tested rows (NaN when none) */
} pm_gwas_pheno_summary_t;

typedef struct pm_gwas_summary {
    size_t n_pheno;
    pm_gwas_pheno_summary_t *pheno;
    int64_t n_cohort;   /* individuals the iterator walks */
    int64_t n_analysis; /* of them with every covariate */
    int64_t n_variants; /* sites x ALT tested */
    int k;              /* policy threshold applied (0 at project tier and above) */
    char covar_names[512]; /* covariate columns after expansion, comma-separated */
    double seconds;     /* wall time of the genotype pass */
} pm_gwas_summary_t;

/* Runs the analysis and writes PREFIX.tsv (one phenotype) or
 * PREFIX.NAME.tsv per phenotype, plus .manhattan.svg and .qq.svg. *out
 * may be NULL. Errors: PM_EUSAGE (bad --covar / --pheno syntax, pcN
 * before PCA exists), PM_ENOTFOUND (unknown endpoint, omics feature),
 * PM_EINPUT (a phenotype without cases or controls, collinear
 * covariates), PM_EACCES (a tier without aggregate statistics), PM_EIO. */
int pm_gwas_run(pm_store_t *st, const pm_gwas_opts_t *o, pm_gwas_summary_t **out);
void pm_gwas_summary_free(pm_gwas_summary_t *s);

/* Per-individual attribute built from public cohort terms: "age" (whole
 * years at the reference date of co, NaN when unknown), "sex" (1 = M,
 * 0 = F, NaN unknown). out has pm_store_n_individuals(st) entries. */
int pm_gwas_attribute(pm_store_t *st, const char *name, const pm_cohort_opts_t *co,
                      double *out);

/* The file tag of a phenotype spec, as used in PREFIX.NAME.tsv: the
 * endpoint name, ASSAY_FEATURE for omics, "phenoI" (1-based i) for a
 * cohort expression; characters other than [A-Za-z0-9_.-] become '_'. */
void pm_gwas_pheno_tag(const char *spec, size_t i, char *buf, size_t cap);

/* The covariate columns of a --covar list (as pm_gwas_opts_t.covar; pcN
 * from the latest `promise pca` run) over n individuals with individual
 * indices ind[]: *x is n x *k column-major, malloc'd for the caller
 * (free()), NaN where an individual lacks a value; the expanded column
 * names go comma-separated into names (may be NULL). ref_date as
 * pm_gwas_opts_t. Source levels are those present among the n. */
int pm_gwas_covariates(pm_store_t *st, const char *list, int ref_date, uint32_t n,
                       const int64_t *ind, double **x, uint32_t *k, char *names, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
