/*
 * cat_omics.h - the catalog tables of omics data. Internal to libpromise:
 * src/omics reaches SQLite only through these functions.
 *
 * Tables (schema part pm_schema_omics_v1 in cat_omics.c):
 *   omics_feature(id, assay, feature_id, name, uniprot, panel, chrom, pos)
 *       one row per feature of an assay; UNIQUE(assay, feature_id)
 *   omics_batch(id, assay, ingest, file, format, panel, n_samples, n_features, bytes)
 *       one row per data file STORE/omics/<file>
 *   omics_column(batch, col, sample, plate)
 *       the sample of each column of a batch (sample.id)
 *   omics_block(feature, batch, block)
 *       where a feature's values are in a batch: block index in its file
 *
 * Writers run inside the caller's pm_catalog_begin() transaction.
 * Functions returning pointers hand them to the caller (free with the
 * matching _free).
 */
#ifndef PM_CATALOG_CAT_OMICS_H
#define PM_CATALOG_CAT_OMICS_H

#include <stddef.h>
#include <stdint.h>

#include "promise/store.h"

/* The assay named `name` (case-insensitive): 1 found (*id set, spelling as
 * stored copied into canon if not NULL), 0 not found, <0 error. */
int pm_catom_assay(pm_store_t *st, const char *name, int64_t *id, char *canon, size_t cap);

/* ---- ingest ---- */

typedef struct pm_catom_sample {
    int64_t id;          /* sample.id */
    int64_t individual;
    int64_t assay;       /* assay.id */
    char assay_name[64];
} pm_catom_sample_t;

/* Looks a sample_id up: 1 found, 0 not found, <0 error. */
int pm_catom_sample_find(pm_store_t *st, const char *sample_id, pm_catom_sample_t *out);

/* File names (inside STORE/omics/) of every committed batch; an array of
 * malloc'd strings, free with pm_catom_strv_free(). */
int pm_catom_files(pm_store_t *st, char ***names, size_t *n);
void pm_catom_strv_free(char **v, size_t n);

/* The id of the next batch: the highest committed id + 1. */
int pm_catom_next_batch(pm_store_t *st, int64_t *id);

/* Inserts an ingest row (kind "omics") and returns its id. */
int pm_catom_ingest_row(pm_store_t *st, const char *file, int64_t rows, int64_t *id);

typedef struct pm_catom_feature_in {
    const char *feature_id;
    const char *name, *uniprot, *panel, *chrom; /* NULL or "" when unknown */
    int64_t pos;                                /* 0 when unknown */
    long line;                                  /* input line (for messages) */
} pm_catom_feature_in_t;

typedef struct pm_catom_batch_in {
    int64_t id, assay, ingest;
    const char *file;   /* name inside STORE/omics/ */
    const char *format; /* "matrix" or "olink" */
    const char *panel;  /* NULL for a matrix */
    uint64_t bytes;
    size_t n_samples;
    const int64_t *sample;      /* sample.id per column */
    const char *const *plate;   /* per column; NULL or entries NULL when unknown */
    size_t n_features;
    const pm_catom_feature_in_t *features; /* block i holds features[i] */
} pm_catom_batch_in_t;

/* Registers a batch: its features (new ones inserted; a known one must
 * agree on name, UniProt, panel and position where both are known, and
 * gains what it lacked), its columns and its blocks. Fails with
 * PM_EEXIST when a sample of the batch already has a value of one of its
 * features in another batch; PM_EINPUT for a feature that disagrees
 * (message prefixed with src). */
int pm_catom_register(pm_store_t *st, const pm_catom_batch_in_t *b, const char *src);

/* ---- queries ---- */

/* Finds a feature of an assay by feature_id, else by name: 1 found (*fid,
 * and malloc'd copies of its id and name when the pointers are not NULL),
 * 0 not found, PM_EINPUT when the name matches several features. */
int pm_catom_feature_find(pm_store_t *st, int64_t assay, const char *key, int64_t *fid,
                          char **feature_id, char **name);

typedef struct pm_catom_block {
    int64_t batch;
    char *file;          /* malloc'd */
    int64_t block;
    int64_t n_samples, n_features;
} pm_catom_block_t;

/* The blocks holding a feature, by batch id. Free with pm_catom_blocks_free. */
int pm_catom_blocks(pm_store_t *st, int64_t feature, pm_catom_block_t **out, size_t *n);
void pm_catom_blocks_free(pm_catom_block_t *b, size_t n);

typedef struct pm_catom_col {
    int64_t sample, individual;
    int32_t date;        /* YYYYMMDD or 0 */
    int withdrawn;
    char *sample_id, *pseudonym; /* malloc'd when asked for, else NULL */
} pm_catom_col_t;

/* The columns of a batch in column order. Free with pm_catom_cols_free. */
int pm_catom_columns(pm_store_t *st, int64_t batch, int want_names, pm_catom_col_t **out,
                     size_t *n);
void pm_catom_cols_free(pm_catom_col_t *c, size_t n);

typedef struct pm_catom_feature {
    const char *feature_id, *name, *uniprot, *panel, *chrom;
    int64_t pos, batches, samples;
} pm_catom_feature_t;

/* Every feature of an assay in feature_id order. */
int pm_catom_features_each(pm_store_t *st, int64_t assay,
                           int (*fn)(void *ud, const pm_catom_feature_t *f), void *ud);

#endif
