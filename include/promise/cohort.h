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
 */
#ifndef PROMISE_COHORT_H
#define PROMISE_COHORT_H

#include "promise/bitset.h"
#include "promise/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Evaluates expr (NULL or "" = everyone) on the store; *out is a new
 * bitset owned by the caller. */
int pm_cohort_eval(pm_store_t *st, const char *expr, pm_bitset_t **out);

#ifdef __cplusplus
}
#endif
#endif
