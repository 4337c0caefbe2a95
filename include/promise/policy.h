/*
 * promise/policy.h - access tiers and disclosure control (PRODUCT.md
 * section 7; rules in docs/cohort.md). Every count that leaves the engine
 * passes through here; front ends (CLI, HTTP server) only format what
 * this module releases.
 *
 *   pm_policy_t pol;
 *   pm_policy_for_store(st, PM_TIER_REGISTERED, &pol);     // k from the store
 *   pm_cell_t c = pm_policy_release_count(&pol, n);         // "<5", or exact
 *
 *   pm_cohort_table_t *raw;  pm_cohort_tabulate(st, set, "sex,county", NULL, &raw);
 *   pm_released_t *rel;      pm_policy_release_table(ctx, &pol, raw, &rel);
 *   pm_cohort_table_free(raw);   // rel keeps its own labels, no raw counts
 *   ... format rel ...
 *   pm_released_free(rel);
 *
 * Rules: the steward sees exact counts. Lower tiers get no count in
 * 1..k-1 (released as "<k"; 0 stays 0); a breakdown additionally gets
 * complementary suppression so that no suppressed cell can be derived
 * exactly from the released cells and margins. Releases are deterministic
 * functions of the counts: the same set gets the same answer however its
 * expression is spelled. Differencing across queries is the query
 * budget's job, not this table-level rule's.
 */
#ifndef PROMISE_POLICY_H
#define PROMISE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "promise/cohort.h"
#include "promise/error.h"
#include "promise/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Tiers in increasing order of what they may see. */
typedef enum pm_tier {
    PM_TIER_PUBLIC = 0,     /* frequencies, Beacon answers; aggregates as registered */
    PM_TIER_REGISTERED = 1, /* aggregate counts with small-cell suppression */
    PM_TIER_PROJECT = 2,    /* individual-level data within a project grant */
    PM_TIER_STEWARD = 3,    /* administration: exact everything */
} pm_tier_t;

/* "public", "registered", "project", "steward" (case-insensitive) -> tier,
 * or PM_EUSAGE. */
int pm_tier_parse(const char *name);
/* Lowercase name of a tier; "?" for an invalid value. */
const char *pm_tier_name(int tier);

/* The tier of whoever runs the local CLI on a store directory: holding the
 * files, they are the steward. */
int pm_policy_local_tier(void);

/* Checks a request to act as tier `want` by someone holding tier `have`:
 * returns want, or PM_EACCES (with a message on ctx) when it would raise
 * the tier. */
int pm_policy_as_tier(pm_ctx_t *ctx, int have, int want);

/* A policy decision context: the tier answered and the threshold k. */
typedef struct pm_policy {
    int tier;
    int k; /* counts 1..k-1 are hidden from tiers below PM_TIER_PROJECT; k >= 1 */
} pm_policy_t;

/* Default small-count threshold when the store has no "k" setting. */
#define PM_POLICY_DEFAULT_K 5
#define PM_POLICY_MAX_K 1000

/* Fills *out for `tier` with k from the store setting "k" (default 5).
 * A setting that is not an integer in 1..PM_POLICY_MAX_K fails with
 * PM_ECORRUPT. */
int pm_policy_for_store(pm_store_t *st, int tier, pm_policy_t *out);

/* A released number. */
typedef enum pm_cell_state {
    PM_CELL_EXACT = 0,  /* value is the count */
    PM_CELL_SMALL = 1,  /* a count in 1..k-1: show "<k"; value is -1 */
    PM_CELL_MASKED = 2, /* hidden to protect a small cell (complementary): value is -1 */
} pm_cell_state_t;

typedef struct pm_cell {
    int64_t value; /* the count when state == PM_CELL_EXACT, else -1 */
    int state;     /* pm_cell_state_t */
} pm_cell_t;

/* What policy p releases for a single count n (a cohort size). */
pm_cell_t pm_policy_release_count(const pm_policy_t *p, int64_t n);

/* A released breakdown: the table's shape and labels (copied) and one
 * released cell per raw cell, same layout as pm_cohort_table_t. */
typedef struct pm_released {
    int tier, k;
    int ndim;
    char *field[PM_COHORT_MAX_DIMS];
    size_t nlab[PM_COHORT_MAX_DIMS];
    char **lab[PM_COHORT_MAX_DIMS];
    pm_cell_t *cell;     /* (nlab[0]+1) x (nlab[1]+1), margins last */
    size_t ncells;
    size_t n_small;      /* cells released as "<k" */
    size_t n_masked;     /* cells hidden by complementary suppression */
} pm_released_t;

/* Applies disclosure control to table t for policy p. *out is new, owned
 * by the caller: free with pm_released_free(). */
int pm_policy_release_table(pm_ctx_t *ctx, const pm_policy_t *p, const pm_cohort_table_t *t,
                            pm_released_t **out);
void pm_released_free(pm_released_t *r);

/*
 * The suppression itself, on bare counts, for tests and other front ends:
 * cell[] is an R x C grid (row-major) whose last row and last column are
 * margins (for one dimension, C = 1 and the last row is the total).
 * Lines whose categories partition their margin (row_additive: each
 * column's cells sum to its bottom margin; col_additive: each row's cells
 * sum to its right margin) constrain the suppressed cells. Writes R x C
 * states into state[]. k <= 1 suppresses nothing.
 */
int pm_policy_suppress(const int64_t *cell, size_t R, size_t C, int row_additive,
                       int col_additive, int k, int *state);

#ifdef __cplusplus
}
#endif
#endif
