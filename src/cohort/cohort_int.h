/*
 * cohort_int.h - helpers shared by the cohort module's files (eval.c,
 * table.c). Internal to libpromise.
 */
#ifndef PM_COHORT_COHORT_INT_H
#define PM_COHORT_COHORT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "catalog/cat_cohort.h"

/* Whole years from birth to `at` (both YYYYMMDD); -1 when birth is
 * unknown or after `at`. A birthday on 29 February is reached on 1 March
 * in common years. */
int pm_cohort_age(int32_t birth, int32_t at);

/* The age of individual i as cohort terms see it: at the reference date,
 * or at death when the person died before it (the age they reached).
 * Emigration does not stop the clock. -1 when unknown or not yet born. */
int pm_cohort_person_age(const pm_cat_demo_t *d, size_t i, int ref);

#endif
