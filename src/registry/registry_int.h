/*
 * registry_int.h - shared internals of src/registry: code ranges of query
 * terms, date helpers, and the identity resolver used by the event and
 * consent ingests.
 */
#ifndef PM_REGISTRY_INT_H
#define PM_REGISTRY_INT_H

#include <stdint.h>

#include "catalog/individual.h"
#include "core/tsv.h"
#include "promise/registry.h"

/* One index range of a term: domain and lo <= code < hi (hi "" = none). */
typedef struct pm_code_range {
    int domain;
    char lo[PM_CODE_MAX], hi[PM_CODE_MAX];
} pm_code_range_t;

#define PM_TERM_MAX_RANGES 3

/* The ranges (at most cap, PM_TERM_MAX_RANGES suffices) that term:code
 * covers; returns how many, or <0 with the message on ctx. */
int pm_registry_term_ranges(pm_ctx_t *ctx, const char *term, const char *code,
                            pm_code_range_t *r, int cap);

int pm_registry_month_days(int y, int m);
/* Splits YYYY-MM-DD or YYYYMMDD without range checks (00 allowed). */
int pm_registry_date_split(const char *s, int *y, int *m, int *d);

/* 1 when a field is missing: empty, blanks only, or NA. */
int pm_registry_missing(const char *s);

/* ---- identity resolution for an ingest ---- */

typedef struct pm_idmap pm_idmap_t;

typedef struct pm_resolver {
    pm_idcol_t ic;
    pm_idmap_t *map;
} pm_resolver_t;

/* Finds the identity column (o->id_column, or 'pseudonym'/'personnummer'),
 * checks the key against the store and loads pseudonym -> idx. Must run
 * inside the ingest transaction. *col receives the column index. */
int pm_resolver_init(pm_resolver_t *r, pm_store_t *st, pm_tsv_t *t,
                     const pm_registry_opts_t *o, int *col);
/* The current row's individual: 1 found (*idx, *withdrawn), 0 not in the
 * population, <0 bad identity (FILE:LINE:COL on ctx). */
int pm_resolver_get(pm_resolver_t *r, int64_t *idx, int *withdrawn);
void pm_resolver_free(pm_resolver_t *r);

/* Case-insensitive column lookup; -1 when absent. */
int pm_registry_findcol(pm_tsv_t *t, const char *name);

#endif
