/*
 * provider_default.c - weak defaults of the term-provider hooks (see
 * term.h). Kept in a file of its own, apart from the evaluator that calls
 * them, so that a module's strong definition replaces them at link time.
 * Each says plainly which data the term needs. (The registry and genotype
 * modules are reached through their public APIs; only omics is pending.)
 */
#include "cohort/term.h"

#define PM_WEAK __attribute__((weak))

PM_WEAK int pm_cohort_provide_omics(pm_store_t *st, const pm_cohort_term_t *t, pm_bitset_t *out)
{
    (void)out;
    return pm_err(pm_store_ctx(st), PM_EINPUT,
                  "column %d: term 'omics:' needs omics data, which this store has not loaded",
                  t->col);
}
