/*
 * cat_genotype.h - the catalog's genotype tables: batches (one per
 * ingested VCF/BCF), their sample columns, contigs, segment files and
 * callable regions. Internal to libpromise; the VCF module's only way to
 * the catalog (no SQL outside src/catalog).
 *
 * Registration happens inside the caller's pm_catalog_begin/commit, after
 * the segment files are durable, so a batch becomes visible at once.
 */
#ifndef PM_CATALOG_CAT_GENOTYPE_H
#define PM_CATALOG_CAT_GENOTYPE_H

#include <stddef.h>
#include <stdint.h>

#include "promise/store.h"

/* ---- ingest ---- */

/* File names (relative to STORE/gt/) of every committed segment; a sorted
 * array of malloc'd strings, free with pm_catgt_strv_free(). */
int pm_catgt_segment_files(pm_store_t *st, char ***names, size_t *n);
void pm_catgt_strv_free(char **v, size_t n);

/* Id the next batch will get (the highest committed id + 1). */
int pm_catgt_next_batch_id(pm_store_t *st, int64_t *id);

typedef struct pm_catgt_sample {
    int64_t id;         /* sample row id; -1 when the name is not a sample_id */
    int64_t individual; /* individual idx */
    char source[128];   /* source name */
} pm_catgt_sample_t;

/* Looks up each of names[0..n) in the sample table. */
int pm_catgt_lookup_samples(pm_store_t *st, const char *const *names, int n,
                            pm_catgt_sample_t *out);
/* 1 when a source of that name exists, 0 when not. */
int pm_catgt_source_exists(pm_store_t *st, const char *name);

typedef struct pm_catgt_contig_in {
    const char *name; /* normalised */
    int64_t length;   /* 0 when unknown */
} pm_catgt_contig_in_t;

typedef struct pm_catgt_segment_in {
    const char *file; /* name inside STORE/gt/ */
    int contig;       /* index into the batch's contigs[] */
    int64_t first_pos, last_pos, records, variants;
    uint64_t bytes;
} pm_catgt_segment_in_t;

typedef struct pm_catgt_interval_in {
    int contig;       /* index into contigs[] */
    int64_t beg, end; /* 0-based half-open */
} pm_catgt_interval_in_t;

typedef struct pm_catgt_batch_in {
    int64_t id;
    const char *file;      /* input path as given */
    const char *source;    /* --source, or NULL */
    const char *build;     /* the store's reference build to record, or NULL to leave */
    int64_t n_samples;
    const int64_t *sample; /* sample row id per column */
    int64_t records, variants;
    const pm_catgt_contig_in_t *contigs; /* header contigs then record contigs, in order */
    int n_contigs;
    const pm_catgt_segment_in_t *segs;
    int n_segs;
    int has_callable;
    const pm_catgt_interval_in_t *callable;
    size_t n_callable;
} pm_catgt_batch_in_t;

/* Inserts the batch, its columns, new contigs, segments and callable
 * intervals. Call between pm_catalog_begin() and pm_catalog_commit(). */
int pm_catgt_register(pm_store_t *st, const pm_catgt_batch_in_t *b);

/* ---- queries ---- */

typedef struct pm_catgt_col {
    int64_t sample;     /* sample row id */
    int64_t individual; /* individual idx */
    const char *sample_id;
    const char *source; /* source name */
    const char *county; /* NULL when unknown */
    char sex;           /* 'M', 'F' or 0 */
    int withdrawn;
} pm_catgt_col_t;

typedef struct pm_catgt_batch {
    int64_t id;
    int n_samples;
    int callable;
    pm_catgt_col_t *cols;
} pm_catgt_batch_t;

typedef struct pm_catgt {
    int n_batches;
    pm_catgt_batch_t *batch; /* in id order */
    int n_contigs;
    int64_t *contig_id;      /* in catalog order */
    char **contig;
    int64_t *contig_len;
    char **strings;          /* owned strings, freed with the catalog view */
    size_t n_strings, cap_strings;
    int with_ids;            /* sample ids loaded */
    int refs;                /* holders: callers and the store handle's cache */
} pm_catgt_t;

/* A snapshot of batches, columns and contigs; free with pm_catgt_free().
 * Sample ids are loaded only with want_ids (else "", or the ids when a
 * cached snapshot has them).
 *
 * The snapshot is cached on the store handle and shared: while the
 * catalog's generation is unchanged (see pm_catalog_generation) the next
 * load returns the same object with one more reference, and
 * pm_catgt_free drops one. It is read-only for every holder, and, like
 * the handle, for one thread at a time. */
int pm_catgt_load(pm_store_t *st, int want_ids, pm_catgt_t **out);
void pm_catgt_free(pm_catgt_t *c);

typedef struct pm_catgt_seg {
    int64_t batch;
    char *file; /* name inside STORE/gt/ (malloc'd) */
    int64_t first_pos, last_pos;
} pm_catgt_seg_t;

/* Segments of a contig overlapping [beg, end] (end < 0: no bound),
 * ordered by batch then position. Free with pm_catgt_segs_free(). */
int pm_catgt_segments(pm_store_t *st, int64_t contig_id, int64_t beg, int64_t end,
                      pm_catgt_seg_t **out, size_t *n);
void pm_catgt_segs_free(pm_catgt_seg_t *s, size_t n);
/* The handle's copy of the segment table (kept per catalog generation, so
 * that point lookups ask SQLite nothing); freed with the handle. */
void pm_catgt_segcache_free(pm_store_t *st);


/* Callable intervals (0-based half-open, sorted, merged) of a batch on a
 * contig, as pairs in *iv (malloc'd, 2 * *n entries). */
int pm_catgt_callable(pm_store_t *st, int64_t batch, int64_t contig_id, int64_t **iv, size_t *n);

#endif
