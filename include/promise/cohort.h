/*
 * promise/cohort.h - cohort expressions (PRODUCT.md section 6, grammar in
 * docs/cohort.md) evaluated to sets of individuals.
 *
 *   pm_bitset_t *set;
 *   if (pm_cohort_eval(st, "sex=F and not source:SCAPIS", &set) < 0) ...
 *   size_t n = pm_bitset_count(set);
 *   pm_bitset_free(set);
 *
 * The set has one bit per individual of the store (pm_store_n_individuals)
 * and never contains withdrawn individuals. "not X" is taken relative to
 * the whole population. A syntax error fails with PM_EINPUT and a message
 * that names the 1-based character column ("column 12: expected ')'").
 *
 * Terms backed by data another module owns are answered by that module:
 * icd10:, icd9:, atc:, kva:, icdo3:, death:, endpoint: by the registry
 * (promise/registry.h), carrier(...) by the genotype store; on a store
 * without such data they match no one. omics: parses but fails with
 * PM_EINPUT ("column N: term 'omics:' needs omics data ...") until the
 * omics module provides it.
 *
 * Handles are not thread-safe; distinct handles may be used from distinct
 * threads. Errors are recorded on the store's context (or the ctx given).
 */
#ifndef PROMISE_COHORT_H
#define PROMISE_COHORT_H

#include <stddef.h>
#include <stdint.h>

#include "promise/bitset.h"
#include "promise/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Evaluates expr (NULL or "" = everyone) on the store; *out is a new
 * bitset owned by the caller. Ages and "alive" are taken at the default
 * reference date (see pm_cohort_opts_t). */
int pm_cohort_eval(pm_store_t *st, const char *expr, pm_bitset_t **out);

/* Called once per warning (e.g. "source 'SCAPSI' is not in this store"),
 * in expression order. msg is valid during the call only. */
typedef void (*pm_cohort_warn_fn)(void *ud, const char *msg);

typedef struct pm_cohort_opts {
    /* Date at which ages, "alive" and "born" are judged, as YYYYMMDD
     * (e.g. 20260101). 0 = the store setting "reference_date" when set
     * (same format, or YYYY-MM-DD), else today in local time. */
    int ref_date;
    pm_cohort_warn_fn warn; /* may be NULL: warnings are dropped */
    void *warn_ud;
    /* When set (e.g. "research"), individuals who opted out of this
     * purpose (or of "all") are left out like the withdrawn; see
     * pm_consent_excluded in promise/registry.h. NULL = no purpose. */
    const char *purpose;
} pm_cohort_opts_t;

/* pm_cohort_eval with options; o may be NULL (defaults). */
int pm_cohort_eval_opts(pm_store_t *st, const char *expr, const pm_cohort_opts_t *o,
                        pm_bitset_t **out);

/* The reference date (YYYYMMDD) an evaluation with options o uses. */
int pm_cohort_ref_date(pm_store_t *st, const pm_cohort_opts_t *o);

/* ---- parsed expressions ----
 * A parsed expression can be evaluated many times, printed in a
 * normalised spelling (lowercase keywords, single spaces, parentheses
 * only where precedence needs them: parsing the printed text gives the
 * same tree), and inspected for its terms. */
typedef struct pm_cohort pm_cohort_t;

/* Parses expr (NULL or blank = everyone). Free with pm_cohort_free().
 * Errors go to ctx (may be NULL). */
int pm_cohort_parse(pm_ctx_t *ctx, const char *expr, pm_cohort_t **out);
void pm_cohort_free(pm_cohort_t *c);
/* Writes the normalised spelling into buf (always NUL-terminated when
 * cap > 0) and returns its length, like snprintf: a result >= cap means
 * buf was too small. Everyone prints as "". */
size_t pm_cohort_format(const pm_cohort_t *c, char *buf, size_t cap);
int pm_cohort_eval_parsed(pm_store_t *st, const pm_cohort_t *c, const pm_cohort_opts_t *o,
                          pm_bitset_t **out);

/* ---- breakdowns ("count --by") ----
 * A table of exact counts of a set by one or two fields, margins
 * included. It holds raw counts: release it only through the policy
 * module (promise/policy.h), which applies disclosure control. */
enum { PM_COHORT_MAX_DIMS = 2 };

typedef struct pm_cohort_table {
    int ndim;                            /* 0 (just the total), 1 or 2 */
    char *field[PM_COHORT_MAX_DIMS];     /* "sex", "county", "source", "assay", "age-band" */
    size_t nlab[PM_COHORT_MAX_DIMS];     /* categories per dimension */
    char **lab[PM_COHORT_MAX_DIMS];      /* their labels ("F", "01", "NA", ...) */
    /* 1 when the categories partition the set, so that a line of cells
     * sums to its margin; 0 when an individual can fall into several
     * categories (source, assay) or into none. */
    int additive[PM_COHORT_MAX_DIMS];
    /* Counts with margins, row-major over (nlab[0]+1) x (nlab[1]+1)
     * (nlab[1] taken as 0 for one dimension): index nlab[d] along a
     * dimension is its margin, and the last cell is the total (distinct
     * individuals of the set). */
    int64_t *cell;
} pm_cohort_table_t;

/* Number of cells in t->cell. */
size_t pm_cohort_table_ncells(const pm_cohort_table_t *t);

/* Counts `set` by `fields`, a comma-separated list of at most two of
 * sex, county, source, assay, age-band (NULL or "" = the total only).
 * Categories are those present in the population (so the table's shape
 * does not depend on the cohort); sex, county and age-band include "NA"
 * for unknown values when anyone has one. Age bands are 10-year bands
 * at the reference date of o: "0-9", "10-19", ..., "90-99", "100+".
 * Fails with PM_EUSAGE for an unknown or repeated field. Free the table
 * with pm_cohort_table_free(). */
int pm_cohort_tabulate(pm_store_t *st, const pm_bitset_t *set, const char *fields,
                       const pm_cohort_opts_t *o, pm_cohort_table_t **out);
void pm_cohort_table_free(pm_cohort_table_t *t);

#ifdef __cplusplus
}
#endif
#endif
