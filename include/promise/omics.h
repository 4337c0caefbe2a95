/*
 * promise/omics.h - omics values: feature x sample matrices and Olink NPX,
 * resolved to individuals through the sample table, with longitudinal
 * sample choice, cohort thresholds, summaries and normalisation helpers.
 * Formats, flags and choices are documented in docs/omics.md.
 *
 *   pm_omics_opts_t o = {.assay = "olink", .format = PM_OMICS_OLINK};
 *   pm_omics_result_t r;
 *   if (pm_omics_ingest(st, "npx.csv", &o, &r) < 0)      // one transaction
 *       fprintf(stderr, "%s\n", pm_ctx_errmsg(ctx));      // FILE:LINE:COL: ...
 *
 *   pm_omics_choice_t last = {PM_OMICS_LAST, 0};
 *   pm_omics_vals_t *v;
 *   pm_omics_values(st, "olink", "IL6", cohort, &last, &v); // one value per person
 *   ... v->value[i], v->flags[i], v->individual[i] ...
 *   pm_omics_vals_free(v);
 *
 * Values are stored as float32 with a flag byte (missing, below LOD, QC
 * warning), feature-major, one data file per ingested batch (an Olink
 * file gives one batch per panel) with a CRC32 per feature block; the
 * catalog holds the features, the batches and their sample columns.
 *
 * Every sample is a row of the sample table, so every value belongs to
 * an individual; an individual may have several samples of one assay at
 * different collection dates. Queries say which to use (pm_omics_choice_t).
 * Withdrawn individuals never appear in query results.
 *
 * Functions on a store record errors on its context. Results are owned
 * by the caller and freed with the matching _free function. Handles are
 * not thread-safe.
 */
#ifndef PROMISE_OMICS_H
#define PROMISE_OMICS_H

#include <stddef.h>
#include <stdint.h>

#include "promise/bitset.h"
#include "promise/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Per-value flags (stored; never renumber). */
enum pm_omics_flag {
    PM_OMICS_MISSING = 1,    /* no value: NA or empty in the input, or absent */
    PM_OMICS_BELOW_LOD = 2,  /* Olink: NPX below the row's LOD */
    PM_OMICS_QC_WARNING = 4, /* Olink: QC_Warning (or SampleQC) not 'Pass' */
};

/* Input formats and layouts. */
enum pm_omics_format {
    PM_OMICS_AUTO = 0,   /* Olink when the header has SampleID, OlinkID and NPX; Olink wide
                          * when a row starts with OlinkID; else matrix */
    PM_OMICS_MATRIX = 1, /* feature_id then one column per sample_id (or transposed) */
    PM_OMICS_OLINK = 2,  /* Olink NPX long format */
    PM_OMICS_OLINK_WIDE = 3, /* Olink NPX wide layout (the spreadsheet saved as text) */
};
enum pm_omics_layout {
    PM_OMICS_FEATURES_BY_SAMPLES = 0, /* a row per feature (PRODUCT.md section 4) */
    PM_OMICS_SAMPLES_BY_FEATURES = 1, /* a row per sample: sample_id then one column per feature */
};

/* Most values one ingest holds in memory (features x samples). */
#define PM_OMICS_MAX_CELLS ((uint64_t)1 << 28)
/* Longest feature id, name, UniProt, panel or plate (bytes). */
#define PM_OMICS_MAX_NAME 128

typedef struct pm_omics_opts {
    const char *assay;        /* required: the samples' assay in the sample table */
    int format;               /* enum pm_omics_format */
    int layout;               /* enum pm_omics_layout (matrix only) */
    int skip_unknown_samples; /* drop samples that are not in the sample table (counted) */
} pm_omics_opts_t;

typedef struct pm_omics_result {
    int64_t rows;             /* data lines read */
    int64_t features;         /* features in the file */
    int64_t samples;          /* samples loaded */
    int64_t batches;          /* data files written (an Olink file: one per panel) */
    int64_t values;           /* values stored, missing ones included */
    int64_t missing, below_lod, qc_warning;
    int64_t skipped_samples;  /* unknown samples left out (skip_unknown_samples) */
    int64_t skipped_values;   /* their values */
} pm_omics_result_t;

/*
 * Loads an omics file (plain or gzip; tab, ';' or ',' separated, found
 * from the header) into a store opened PM_STORE_RDWR. Every sample must be
 * in the sample table with assay o->assay (case-insensitive), unless
 * o->skip_unknown_samples drops the ones that are not there at all. One
 * catalog transaction: the data files are written and fsync'd first, then
 * registered; on any error nothing is visible and the store is unchanged.
 * A value that the store already holds (same sample, same feature) is
 * refused (PM_EEXIST). Errors: PM_EINPUT with "FILE:LINE:COL: ...",
 * PM_EUSAGE for bad options, PM_ELIMIT, PM_EIO. res may be NULL.
 */
int pm_omics_ingest(pm_store_t *st, const char *path, const pm_omics_opts_t *o,
                    pm_omics_result_t *res);

/* ---- sample choice ---- */

enum pm_omics_choice_mode {
    PM_OMICS_ALL = 0,     /* every sample */
    PM_OMICS_FIRST = 1,   /* the earliest collection date */
    PM_OMICS_LAST = 2,    /* the latest collection date */
    PM_OMICS_NEAREST = 3, /* the collection date nearest `date` (ties: the earlier) */
};

typedef struct pm_omics_choice {
    int mode;  /* enum pm_omics_choice_mode */
    int date;  /* YYYYMMDD, for PM_OMICS_NEAREST */
} pm_omics_choice_t;

/* Parses "all", "first", "last" or "nearest:YYYY-MM-DD". 0 or PM_EUSAGE. */
int pm_omics_choice_parse(const char *s, pm_omics_choice_t *out);

/* ---- queries ---- */

/* Values of one feature, one row per chosen sample, ordered by individual
 * then collection date then sample. Arrays have n entries; strings are
 * owned by the result. */
typedef struct pm_omics_vals {
    size_t n;
    int64_t *individual;     /* dense individual index */
    int64_t *sample;         /* sample row id */
    int32_t *date;           /* collection date YYYYMMDD, 0 when unknown */
    float *value;            /* NaN when missing */
    uint8_t *flags;          /* PM_OMICS_* */
    const char **sample_id;  /* NULL unless names were asked for */
    const char **pseudonym;  /* NULL unless names were asked for */
    char *assay;             /* the assay as stored */
    char *feature_id;        /* the feature's id (e.g. the OlinkID) */
    char *feature_name;      /* its name (Olink Assay), "" when none */
} pm_omics_vals_t;

/*
 * Values of `feature` of `assay` for the individuals in cohort (NULL =
 * everyone). feature is a feature_id, or a feature name (Olink Assay)
 * that names one feature of the assay. With choice PM_OMICS_ALL every
 * sample's value is returned, missing ones included (flag set, NaN);
 * FIRST, LAST and NEAREST choose per individual among the samples that
 * have a value (a dated sample before an undated one; NEAREST takes dated
 * samples only). choice NULL = all. want_names fills sample_id and
 * pseudonym. Errors: PM_ENOTFOUND (unknown assay or feature), PM_EINPUT
 * (a name that matches several features), PM_ECORRUPT (a checksum
 * mismatch), PM_EIO. Free *out with pm_omics_vals_free().
 */
int pm_omics_values(pm_store_t *st, const char *assay, const char *feature,
                    const pm_bitset_t *cohort, const pm_omics_choice_t *choice, int want_names,
                    pm_omics_vals_t **out);
void pm_omics_vals_free(pm_omics_vals_t *v);

/*
 * pm_omics_values (without names) for each of features[0..n) in turn,
 * reading each batch's sample columns from the catalog once for all of
 * them: fn(ud, i, v) gets feature i's values, valid during the call.
 * Stops at the first error (of a feature, with its message, or a
 * negative return of fn) and returns it; fn has then been called for the
 * features before it. For analyses over many features (promise qtl).
 */
int pm_omics_values_each(pm_store_t *st, const char *assay, const char *const *features,
                         size_t n, const pm_bitset_t *cohort, const pm_omics_choice_t *choice,
                         int (*fn)(void *ud, size_t i, const pm_omics_vals_t *v), void *ud);

/*
 * For the cohort language (omics:ASSAY:FEATURE>X and <X): ORs into out
 * (pm_store_n_individuals bits) the individuals whose chosen sample's
 * value is > x (op '>') or < x (op '<'). With choice NULL or PM_OMICS_ALL
 * an individual matches when any of its samples does. Missing values
 * never match; values below LOD or with a QC warning are compared as
 * stored. Withdrawn individuals are not set. Returns the number of
 * individuals set, or <0 (errors as pm_omics_values).
 */
int64_t pm_omics_threshold(pm_store_t *st, const char *assay, const char *feature, int op,
                           double x, const pm_omics_choice_t *choice, pm_bitset_t *out);

/* One feature, as listed by pm_omics_features_each. Strings are "" when
 * unknown and valid during the callback only. */
typedef struct pm_omics_feature {
    const char *feature_id, *name, *uniprot, *panel, *chrom;
    int64_t pos;      /* 1-based, 0 when unknown */
    int64_t batches;  /* data files holding it */
    int64_t samples;  /* sample columns over those files */
} pm_omics_feature_t;

/* Calls fn for each feature of assay in feature_id order; fn returning <0
 * stops and its value is returned. PM_ENOTFOUND for an unknown assay. */
int pm_omics_features_each(pm_store_t *st, const char *assay,
                           int (*fn)(void *ud, const pm_omics_feature_t *f), void *ud);

/* ---- statistics and normalisation (pure functions, no store) ---- */

typedef struct pm_omics_summary {
    size_t n;                 /* non-NaN values */
    double mean, sd;          /* sd with n-1; NaN when n < 2 */
    double min, q25, median, q75, max; /* quantiles as R's type 7; NaN when n = 0 */
} pm_omics_summary_t;

/* Summary of the non-NaN values of x[0..n). PM_ENOMEM only. */
int pm_omics_summarize(const double *x, size_t n, pm_omics_summary_t *out);
/* Quantile p (0..1) of sorted[0..n) by linear interpolation (R type 7). */
double pm_omics_quantile(const double *sorted, size_t n, double p);
/* Inverse of the standard normal CDF (Wichura's AS 241, ~1e-16). */
double pm_omics_qnorm(double p);

/* Rank-based inverse-normal transform: out[i] = qnorm((r_i - 3/8) / (m + 1/4))
 * with r_i the rank of x[i] among the m non-NaN values (ties get their
 * average rank, Blom's offset). NaN stays NaN. out may equal x. */
int pm_omics_int(const double *x, size_t n, double *out);
/* out[i] = log2(x[i]); NaN for x[i] <= 0 or NaN. Returns how many non-NaN
 * inputs were <= 0. out may equal x. */
int64_t pm_omics_log2(const double *x, size_t n, double *out);
/*
 * Residuals of the least-squares fit of y on an intercept and the p
 * columns of X (column-major, n x p): out = y - [1 X] b. Rows with NaN in
 * y or any covariate get NaN. Normal equations on centred columns, solved
 * by Cholesky: meant for a handful of covariates. Errors (on ctx, may be
 * NULL): PM_EINPUT when the covariates are collinear or fewer rows than
 * p + 1 are complete, PM_ENOMEM. out may equal y.
 */
int pm_omics_residualize(pm_ctx_t *ctx, const double *y, size_t n, const double *X, size_t p,
                         double *out);

#ifdef __cplusplus
}
#endif
#endif
