/*
 * promise/pca.h - principal components of the genotypes, as plink2
 * `--indep-pairwise` followed by `--pca approx` do: common biallelic
 * autosomal SNPs of a cohort, LD-pruned in sliding windows, standardised
 * (plink2's (g - 2p) / sqrt(2p(1 - p)), missing calls mean-imputed), then
 * the top k eigenvectors of the genetic relationship matrix X X' / M by a
 * randomized block Krylov method (or exactly, for small cohorts).
 *
 *   pm_pca_opts_t o = {.cohort = "source:SCAPIS", .k = 10};
 *   pm_pca_t *p;
 *   if (pm_pca_run(st, &o, &p) < 0) ... pm_ctx_errmsg(pm_store_ctx(st));
 *   pm_pca_save(st, p, &o, NULL);          // st open PM_STORE_RDWR
 *   pm_pca_free(p);
 *
 * The saved run is what `--covar pc1,...` of promise gwas and phewas use:
 * the latest run, by individual index (pm_pca_load). Saving is one catalog
 * transaction: a run is there whole or not at all. docs/gwas.md describes
 * the behaviour; the library never prints (progress goes to the context's
 * progress callback).
 */
#ifndef PROMISE_PCA_H
#define PROMISE_PCA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "promise/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PM_PCA_MAX_K 100

typedef struct pm_pca_opts {
    const char *cohort; /* NULL or "" = everyone genotyped */
    int k;              /* components (default 10; 1..PM_PCA_MAX_K) */
    double maf;         /* minimum minor allele frequency (default 0.01; < 0: 0) */
    int ld_window;      /* pruning window in variants (default 50; < 0: no pruning) */
    int ld_step;        /* accepted for plink2 compatibility (default 5), see docs */
    double ld_r2;       /* prune pairs with r^2 above this (default 0.2) */
    int exact;          /* full eigendecomposition of the n x n matrix instead */
    uint64_t seed;      /* random start of the approximate method (0 = fixed default) */
    int keep_variants;  /* fill pm_pca_t.variant with the variants used */
    /* Consent purpose ("commercial", "research"): who opted out of it is
     * left out like the withdrawn (pm_cohort_opts_t.purpose); NULL = none. */
    const char *purpose;
} pm_pca_opts_t;

typedef struct pm_pca {
    int k;
    uint32_t n;            /* individuals */
    int64_t *individual;   /* n individual indices, increasing */
    double *vec;           /* n x k column-major: component j of individual i at [j*n + i] */
    double *eigval;        /* k eigenvalues of X X' / M, decreasing */
    int64_t n_candidates;  /* common biallelic autosomal SNPs before pruning */
    int64_t n_variants;    /* M: variants used */
    char **variant;        /* with keep_variants: n_variants "CHR:POS:REF:ALT" */
    int64_t run;           /* catalog id once saved or loaded, else 0 */
    char *cohort;          /* as given ("" = everyone) */
    double seconds;        /* wall time */
} pm_pca_t;

/* Computes the components (reads the store only). *out is the caller's
 * (pm_pca_free). Errors: PM_EUSAGE (bad options), PM_EINPUT (fewer than
 * k + 1 individuals, or fewer variants than components left after
 * filtering), PM_ENOMEM, and the cohort's and iterator's errors. */
int pm_pca_run(pm_store_t *st, const pm_pca_opts_t *o, pm_pca_t **out);
/* NULL is a no-op. */
void pm_pca_free(pm_pca_t *p);

/* Saves p as a new run (one transaction) and sets p->run; o records the
 * parameters (may be NULL). The store must be open PM_STORE_RDWR. */
int pm_pca_save(pm_store_t *st, pm_pca_t *p, const pm_pca_opts_t *o);

/* The latest saved run into *out (pm_pca_free); 0 and *out = NULL when
 * the store has none. Withdrawn individuals are left out. */
int pm_pca_load(pm_store_t *st, pm_pca_t **out);

/* Per-individual column of component j (1-based) of p: out has
 * pm_store_n_individuals(st) entries, NaN for individuals not in p.
 * PM_EUSAGE when j > p->k. */
int pm_pca_component(pm_store_t *st, const pm_pca_t *p, int j, double *out);

/* Writes plink2-style PREFIX.eigenvec ("#IID PC1 .. PCk", IID the store
 * pseudonym) and PREFIX.eigenval; PREFIX.variants lists the variants when
 * p->variant is set. Individual-level: the caller must have checked the
 * tier (steward or project). */
int pm_pca_write(pm_store_t *st, const pm_pca_t *p, const char *prefix);

#ifdef __cplusplus
}
#endif
#endif
