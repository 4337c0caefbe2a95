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

#include "promise/bitset.h"
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
    int beacon_min_ac; /* public: an allele needs this many carriers / allele copies */
    int beacon_budget; /* positive Beacon answers an individual may join per user */
    int beacon_edge_band; /* public: counts in [min_ac, min_ac + band) answer yes only
                             with probability pm_policy_beacon_edge_p; 0 = off */
} pm_policy_t;

/* Default small-count threshold when the store has no "k" setting. */
#define PM_POLICY_DEFAULT_K 5
#define PM_POLICY_MAX_K 1000
/* Defaults of the store settings beacon_min_ac and beacon_budget. */
#define PM_POLICY_DEFAULT_BEACON_MIN_AC 5
#define PM_POLICY_DEFAULT_BEACON_BUDGET 20
#define PM_POLICY_MAX_BEACON_BUDGET 1000000
/* Default and largest value of the store setting beacon_edge_band. */
#define PM_POLICY_DEFAULT_BEACON_EDGE_BAND 10
#define PM_POLICY_MAX_BEACON_EDGE_BAND 1000

/* Fills *out for `tier` with k from the store setting "k" (default 5),
 * beacon_min_ac (default 5), beacon_budget (default 20) and
 * beacon_edge_band (default 10). A setting
 * out of its range (see pm_policy_setting_check) fails with PM_ECORRUPT. */
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

/*
 * What each tier may ask for. The public tier gets variant frequencies
 * (rare alleles protected, pm_policy_freq_release) and boolean Beacon
 * answers (pm_policy_beacon_answer) and nothing else: no cohort counts.
 * Returns 0 when `tier` may have `what`, else PM_EACCES with a message.
 */
typedef enum pm_release_kind {
    PM_RELEASE_COUNT = 0,  /* cohort counts and breakdowns */
    PM_RELEASE_FREQ = 1,   /* variant frequencies */
    PM_RELEASE_BEACON = 2, /* yes/no: does anyone carry this allele */
} pm_release_kind_t;
int pm_policy_allows(pm_ctx_t *ctx, const pm_policy_t *p, int what);

/*
 * A released frequency row. Below the project tier an allele count (or the
 * count of the other allele, AN - AC, which would give AC away) in
 * 1..T-1 is not released: T is beacon_min_ac for the public tier and k
 * for the registered tier. ac.state is PM_CELL_SMALL ("<T") when AC is
 * small and PM_CELL_MASKED when AN - AC is; then af is -1. AN is released
 * as is (it counts called chromosomes, not carriers).
 */
typedef struct pm_freq_cell {
    pm_cell_t ac;
    int64_t an;
    double af; /* AC/AN, or -1 when hidden or AN is 0 */
    int threshold; /* T above; 1 when nothing is hidden */
} pm_freq_cell_t;
pm_freq_cell_t pm_policy_freq_release(const pm_policy_t *p, int64_t ac, int64_t an);

/*
 * A boolean Beacon answer for `user` (NULL or "" = the shared anonymous
 * user "-"), for the tier of p:
 *   - carriers: the individuals carrying the allele (or matching the
 *     query), pm_store_n_individuals bits. Withdrawn individuals are
 *     removed here whatever the caller passed.
 *   - normalised_query: the question in a canonical spelling (e.g.
 *     "g_variants:GRCh38:22:16050075:A:G"; up to PM_POLICY_QUERY_MAX
 *     bytes); the cache key together with user.
 * For tiers below PM_TIER_PROJECT: a question asked before by the same
 * user gets the stored answer (*cached_out = 1) and spends nothing.
 * Otherwise the contributing carriers are those whose budget for this user
 * is not exhausted; with m of them, the answer is no when m < beacon_min_ac,
 * yes when m >= beacon_min_ac + beacon_edge_band (the band is 0 except for
 * the public tier), and in the band between
 * yes when u(question) < pm_policy_beacon_edge_p(p, m), where u is a
 * uniform number in [0, 1) drawn by HMAC-SHA-256 of the question under a
 * secret kept in the store (created on first use; the same for every
 * user, so the same question at the same count gets the same answer and
 * one more carrier never turns a yes into a no). When m >= beacon_min_ac
 * (a yes, or a no decided by the draw) each contributing carrier spends
 * one unit of budget and the answer is stored; an answer that depended on
 * nobody is not stored (asked again it is worked out again, and is still
 * no: budgets only run down). Project and steward tiers get the plain
 * answer (any carrier), neither cached nor spending. Writes to the audit
 * database even through a read-only store handle (like the audit log).
 * cached_out may be NULL. This loads the whole ledger for one answer: a
 * server keeps a pm_beacon_ledger_t instead.
 */
#define PM_POLICY_QUERY_MAX 4096
int pm_policy_beacon_answer(pm_store_t *st, const pm_policy_t *p, const char *user,
                            const char *normalised_query, const pm_bitset_t *carriers,
                            int *exists_out, int *cached_out);

/*
 * The Beacon ledger in memory, for a server answering from many threads:
 * the budgets and cached answers of pm_policy_beacon_answer, loaded once
 * from the store (audit/audit.db) and kept up to date under one mutex, so
 * that an answer costs a hash lookup and a walk over the question's
 * carriers instead of a database transaction. Each answer's writes are
 * queued; an audit log given the ledger (pm_audit_log_attach_beacon in
 * promise/audit.h) commits them in the same transaction as the request's
 * audit entries, so they are durable before the answer is released.
 * Without one, pm_beacon_ledger_answer writes them before returning.
 * Withdrawals made meanwhile by other processes (`promise forget`) are
 * seen through the store's withdrawn set and applied to the memory as
 * pm_policy_beacon_forget applies them to the file. One ledger per store
 * and process: two servers on one store would each hand out the budgets.
 */
typedef struct pm_beacon_ledger pm_beacon_ledger_t;
int pm_beacon_ledger_open(pm_store_t *st, pm_beacon_ledger_t **out);
/* Frees l; writes still queued are lost (flush first). NULL is a no-op. */
void pm_beacon_ledger_close(pm_beacon_ledger_t *l);
/* Writes the queued budget spends and answers now. */
int pm_beacon_ledger_flush(pm_beacon_ledger_t *l, pm_store_t *st);
/* pm_policy_beacon_answer through l; st is the calling thread's handle. */
int pm_beacon_ledger_answer(pm_beacon_ledger_t *l, pm_store_t *st, const pm_policy_t *p,
                            const char *user, const char *normalised_query,
                            const pm_bitset_t *carriers, int *exists_out, int *cached_out);

/* The probability of a yes for an allele with m contributing carriers.
 * Public tier: 0 below beacon_min_ac, 1 from beacon_min_ac + beacon_edge_band
 * on, and in the band a geometric ramp 2^-(beacon_min_ac + band - m)
 * (band 10: 1/1024 at beacon_min_ac, 1/2 one below the top), so that one
 * more carrier at most doubles the chance of a yes and the rare end of the
 * band, where an attacker's rarest-first questions land, is nearly
 * always no. The registered tier has no band (0 below, 1 from
 * beacon_min_ac): it sees allele counts anyway. */
double pm_policy_beacon_edge_p(const pm_policy_t *p, int64_t m);

/* Units of Beacon budget individual idx has spent for user. */
int64_t pm_policy_beacon_spent(pm_store_t *st, const char *user, int64_t idx);

/* To be called by forget/withdrawal of individual idx: drops the cached
 * positive answers of every user idx contributed to (so the person leaves
 * those answers too) and idx's budget rows. Returns answers dropped. */
int64_t pm_policy_beacon_forget(pm_store_t *st, int64_t idx);

/*
 * Store settings (`promise config`). Known keys, each with whether it can
 * be changed and a one-line description; pm_policy_setting_check()
 * validates a new value (PM_EUSAGE with a message: unknown key, read-only
 * key, bad value); pm_policy_setting_set() checks and writes it (the store
 * must be open PM_STORE_RDWR).
 */
typedef struct pm_setting_info {
    const char *key;
    int writable;
    const char *what;
    const char *deflt; /* shown when unset; NULL = no default */
} pm_setting_info_t;
/* The i-th known setting, NULL past the end. */
const pm_setting_info_t *pm_policy_setting_info(size_t i);
int pm_policy_setting_check(pm_ctx_t *ctx, const char *key, const char *value);
int pm_policy_setting_set(pm_store_t *st, const char *key, const char *value);

#ifdef __cplusplus
}
#endif
#endif
