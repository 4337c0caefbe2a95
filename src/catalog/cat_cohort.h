/*
 * cat_cohort.h - the catalog queries behind cohort evaluation and
 * breakdowns (src/cohort/). Internal to libpromise.
 *
 * The cohort module never sees SQL: it asks for the population's
 * demographic columns once per evaluation (one streaming SELECT into flat
 * arrays, about 25 bytes per person: 12 MB for 500,000 people) and for the
 * individuals having a sample of a source or assay (one SELECT each).
 * Dates are carried as integers YYYYMMDD (0 = unknown), which compare in
 * calendar order and make whole-year age arithmetic trivial.
 *
 * Ownership: every pm_cat_* function that returns a pointer hands it to
 * the caller, who frees it with the matching _free function.
 */
#ifndef PM_CATALOG_CAT_COHORT_H
#define PM_CATALOG_CAT_COHORT_H

#include <stddef.h>
#include <stdint.h>

#include "promise/bitset.h"
#include "promise/store.h"

/* Demographic columns of every individual, indexed by idx (0 .. n-1). */
typedef struct pm_cat_demo {
    size_t n;
    char *sex;          /* 'M', 'F' or 0 (unknown) */
    int32_t *birth;     /* YYYYMMDD, 0 = unknown */
    int32_t *death;     /* YYYYMMDD, 0 = none recorded */
    int32_t *emig;      /* emigration YYYYMMDD, 0 = none recorded */
    int16_t *county;    /* 0..99 for a one- or two-digit code; -1 unknown or not a code */
    uint8_t *withdrawn; /* 1 = withdrawn: never in any answer */
    int refs;           /* holders: callers and the store handle's cache */
} pm_cat_demo_t;

/* Loads the demography of the whole population; free with
 * pm_cat_demo_free(). n equals pm_store_n_individuals(). The columns are
 * cached on the store handle and shared by reference count while the
 * catalog's generation is unchanged (see pm_catalog_generation in
 * catalog.h): read-only for every holder, one thread at a time. */
int pm_cat_demo_load(pm_store_t *st, pm_cat_demo_t **out);
void pm_cat_demo_free(pm_cat_demo_t *d);

/* Sets in `set` (n bits) every individual that is NOT withdrawn. Cheaper
 * than loading the demography when only the population mask is needed. */
int pm_cat_present(pm_store_t *st, pm_bitset_t *set);

/* What a sample term names. */
enum { PM_CAT_SOURCE = 0, PM_CAT_ASSAY = 1 };

/* Sets in `set` every individual with at least one sample whose source
 * (or assay) is `name`, compared case-insensitively (ASCII). Returns the
 * number of matching source/assay names (0 = the name is unknown to this
 * store, which is not an error: the set stays empty). */
int pm_cat_with_sample(pm_store_t *st, int what, const char *name, pm_bitset_t *set);

/* (individual, collection date) pairs of the samples of a source or
 * assay, ordered by individual then date; samples without a collection
 * date are left out. Free with free(). Returns the number of pairs. */
typedef struct pm_cat_dated {
    int64_t idx;
    int32_t date; /* YYYYMMDD */
} pm_cat_dated_t;
int64_t pm_cat_sample_dates(pm_store_t *st, int what, const char *name, pm_cat_dated_t **out);

/* The names of every source (or assay) in the store, sorted by name, and
 * for each the individuals having a sample of it. Free with
 * pm_cat_groups_free(). */
typedef struct pm_cat_groups {
    size_t n;
    char **name;
    pm_bitset_t **members; /* each of pm_store_n_individuals bits */
} pm_cat_groups_t;
int pm_cat_sample_groups(pm_store_t *st, int what, pm_cat_groups_t **out);
void pm_cat_groups_free(pm_cat_groups_t *g);

/* Parses "YYYY-MM-DD" (a real calendar date) into YYYYMMDD; 0 if not. */
int32_t pm_cat_parse_date(const char *s);

/* ---- test support: build a small population without the ingest ----
 * Inserts one individual at the next dense index (returned, >= 0) or a
 * sample; dates are "YYYY-MM-DD" or NULL, sex "M", "F" or NULL, county
 * NULL or a code. For unit tests of modules that must not depend on the
 * ingest; the store must be open PM_STORE_RDWR. */
int64_t pm_cat_test_add_individual(pm_store_t *st, const char *pseudonym, const char *sex,
                                   const char *birth, const char *county, const char *death,
                                   const char *emigration, int withdrawn);
int pm_cat_test_add_sample(pm_store_t *st, const char *sample_id, int64_t idx,
                           const char *source, const char *assay, const char *date);

#endif
