/*
 * cat_registry.h - the catalog tables of registry events and consent.
 * Internal to libpromise: src/registry reaches SQLite only through these
 * functions.
 *
 * Tables (schema part pm_schema_registry_v1 in cat_registry.c):
 *   event_domain(id, register, system)      names of enum pm_domain
 *   event(domain, code, individual, date, position, occurrence, value, ingest)
 *       WITHOUT ROWID, primary key (domain, code, individual, date,
 *       position, occurrence): a code prefix is one contiguous key range,
 *       and the rows of a range come out grouped by individual and date.
 *   consent(individual, purpose, status, date, ingest)
 *
 * Writers run inside the caller's pm_catalog_begin() transaction.
 */
#ifndef PM_CATALOG_CAT_REGISTRY_H
#define PM_CATALOG_CAT_REGISTRY_H

#include <stdint.h>

#include "promise/bitset.h"
#include "promise/registry.h"
#include "promise/store.h"

/* An event to store. */
typedef struct pm_catreg_event {
    int64_t individual;
    int32_t date;      /* YYYYMMDD */
    uint8_t domain;
    uint8_t position;
    uint8_t has_value;
    double value;
    char code[PM_CODE_MAX];
} pm_catreg_event_t;

/* ---- ingest bookkeeping ---- */

/* Inserts an ingest row (kind, file, rows 0) and returns its id in *id. */
int pm_catreg_ingest_begin(pm_store_t *st, const char *kind, const char *file, int64_t *id);
/* Records the row count, or deletes the ingest row when the ingest
 * changed nothing (so that a repeated load leaves the store unchanged). */
int pm_catreg_ingest_end(pm_store_t *st, int64_t id, int64_t rows, int changed);

/* ---- individuals ---- */

/* Calls fn for every individual (idx order); fn returning <0 stops and
 * its value is returned. */
int pm_catreg_individuals_each(pm_store_t *st,
                               int (*fn)(void *ud, int64_t idx, const char *pseudonym,
                                         int withdrawn),
                               void *ud);
/* Sex ('M', 'F', 0), birth date (YYYYMMDD or 0) and withdrawn flag per
 * individual; arrays of pm_store_n_individuals() entries, any may be NULL. */
int pm_catreg_individual_attrs(pm_store_t *st, size_t n, char *sex, int *birth,
                               uint8_t *withdrawn);
/* Test-only helper: inserts an individual with the next idx. */
int pm_catreg_test_add_individual(pm_store_t *st, const char *pseudonym, char sex,
                                  const char *birth_date);

/* ---- events ---- */

typedef struct pm_catreg_writer pm_catreg_writer_t;

/* Prepared statements for one ingest; free with pm_catreg_writer_free. */
int pm_catreg_writer_new(pm_store_t *st, int64_t ingest_id, pm_catreg_writer_t **out);
/* Stores ev; *inserted = 1 when new, 0 when an earlier ingest already
 * holds the identical event. Identical events within one ingest are kept
 * apart by the occurrence column. */
int pm_catreg_writer_put(pm_catreg_writer_t *w, const pm_catreg_event_t *ev, int *inserted);
void pm_catreg_writer_free(pm_catreg_writer_t *w);

/* Iterator over the events of one domain with lo <= code < hi (hi "" = no
 * upper bound). */
typedef struct pm_catreg_iter pm_catreg_iter_t;
int pm_catreg_iter_open(pm_store_t *st, int domain, const char *lo, const char *hi,
                        pm_catreg_iter_t **out);
/* 0 = row, -1 = end, < -1 error. */
int pm_catreg_iter_next(pm_catreg_iter_t *it, pm_event_t *ev);
void pm_catreg_iter_close(pm_catreg_iter_t *it);

/* ORs into out the individuals with an event of domain in [lo, hi). */
int pm_catreg_range_individuals(pm_store_t *st, int domain, const char *lo, const char *hi,
                                pm_bitset_t *out);

/* ---- consent ---- */

/* Upserts the consent of (individual, purpose): the later date wins, on
 * the same date 'withdrawn' wins, and 'withdrawn' is never replaced.
 * *changed = 1 when the table changed. */
int pm_catreg_consent_put(pm_store_t *st, int64_t individual, const char *purpose,
                          const char *status, const char *date, int64_t ingest_id,
                          int *changed);
/* Sets individual.withdrawn = 1; *changed = 1 when it was 0. */
int pm_catreg_set_withdrawn(pm_store_t *st, int64_t individual, int *changed);
/* ORs into out the individuals opted out of purpose or "all", or
 * withdrawn. */
int pm_catreg_consent_excluded(pm_store_t *st, const char *purpose, pm_bitset_t *out);

#endif
