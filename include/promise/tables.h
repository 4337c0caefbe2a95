/*
 * promise/tables.h - loading the population and samples tables into a
 * store (PRODUCT.md section 4; formats and policy in docs/ingest.md).
 *
 *   pm_key_t *key = NULL;                        // only for a personnummer column
 *   pm_key_load(ctx, "site.key", &key);
 *   pm_ingest_opts_t o = {.key = key};
 *   pm_ingest_result_t r;
 *   if (pm_ingest_population(st, "population.tsv", &o, &r) < 0)
 *       fprintf(stderr, "%s\n", pm_ctx_errmsg(ctx));  // "FILE:LINE:COL: ..."
 *   pm_key_free(key);
 *
 * Each call is one catalog transaction on a store opened PM_STORE_RDWR:
 * either every row is applied or, on the first bad row, nothing is and
 * the store is exactly as before. A file whose rows are all already in
 * the store changes nothing at all (not even the ingest log).
 *
 * Identities: the identity column is 'personnummer' (needs opts->key; the
 * number is pseudonymised in memory and never stored or put into a
 * message) or 'pseudonym'. The store is bound to the first key it sees
 * (meta key_fingerprint / key_tag); input under another key fails with
 * PM_EACCES.
 *
 * Errors: PM_EINPUT for a bad row or header (message "FILE:LINE:COL: what
 * (column 'name')"), PM_EUSAGE for a personnummer column without a key,
 * PM_EACCES for input keyed under another key, PM_EIO for I/O or catalog
 * failures. Errors are recorded on the store's context.
 */
#ifndef PROMISE_TABLES_H
#define PROMISE_TABLES_H

#include <stdint.h>

#include "promise/identity.h"
#include "promise/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pm_ingest_opts {
    const pm_key_t *key; /* needed for a personnummer column; borrowed, may be NULL */
    int ignore_extra;    /* skip unknown columns instead of refusing the file */
    int ref_date;        /* YYYYMMDD that decides the century of 10-digit personnummer
                          * (see pm_pnr_parse); 0 = today */
} pm_ingest_opts_t;

/* What an ingest did: data rows read, and how many of them were new,
 * changed a stored row, or matched the stored row exactly. */
typedef struct pm_ingest_result {
    int64_t rows;
    int64_t inserted;
    int64_t updated;
    int64_t unchanged;
} pm_ingest_result_t;

/* Loads a population table (identity, sex, birth_date, county,
 * death_date, emigration_date). New individuals get the next dense
 * indices in file order. o may be NULL (no key, no extras); res may be
 * NULL. */
int pm_ingest_population(pm_store_t *st, const char *path, const pm_ingest_opts_t *o,
                         pm_ingest_result_t *res);

/* Loads a samples table (sample_id, identity, source, assay, grade,
 * tissue, collection_date). Every sample's individual must already be in
 * the population; new sources and assays are recorded. */
int pm_ingest_samples(pm_store_t *st, const char *path, const pm_ingest_opts_t *o,
                      pm_ingest_result_t *res);

#ifdef __cplusplus
}
#endif
#endif
