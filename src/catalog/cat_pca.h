/*
 * cat_pca.h - the catalog tables of principal-component runs. Internal to
 * libpromise: src/stats/pca.c reaches SQLite only through these functions.
 *
 * Tables (schema part pm_schema_pca_v1 in cat_pca.c):
 *   pca_run(id, at, cohort, params, k, n_individuals, n_variants, eigenvalues)
 *       one row per saved run; eigenvalues a blob of k doubles
 *   pca_score(run, individual, pcs)
 *       the run's components of one individual: a blob of k doubles
 *
 * pm_catpca_save is one transaction of its own: a run is visible whole or
 * not at all. Readers take the run with the highest id.
 */
#ifndef PM_CATALOG_CAT_PCA_H
#define PM_CATALOG_CAT_PCA_H

#include <stddef.h>
#include <stdint.h>

#include "promise/store.h"

typedef struct pm_catpca_run {
    const char *cohort, *params;
    int k;
    uint32_t n;
    const int64_t *individual; /* n */
    const double *vec;         /* n x k column-major */
    const double *eigval;      /* k */
    int64_t n_variants;
} pm_catpca_run_t;

/* Inserts the run (own transaction; store open RDWR); *id its id. */
int pm_catpca_save(pm_store_t *st, const pm_catpca_run_t *r, int64_t *id);

/* The latest run: 0 when there is none, 1 when found. The arrays are
 * malloc'd and handed to the caller (free()); withdrawn individuals are
 * left out. */
typedef struct pm_catpca_loaded {
    int64_t id;
    int k;
    uint32_t n;
    int64_t *individual;
    double *vec;    /* n x k column-major */
    double *eigval; /* k */
    int64_t n_variants;
    char *cohort;
} pm_catpca_loaded_t;
int pm_catpca_load_latest(pm_store_t *st, pm_catpca_loaded_t *out);

/* The pseudonyms of n individuals: entry i at buf + i * cap ("" when the
 * index is unknown). */
int pm_catpca_pseudonyms(pm_store_t *st, uint32_t n, const int64_t *idx, char *buf, size_t cap);

#endif
