/*
 * gtstore.h - genotype segment files. Internal to libpromise; no htslib
 * here (the VCF module converts).
 *
 * A segment holds the genotypes of one batch (the samples of one ingested
 * VCF/BCF file, in the file's column order, n_samples of them) for a run of
 * records of one contig, in non-decreasing position order. Records are the
 * original VCF records; a multi-allelic record is stored split per ALT
 * allele internally but read back whole, so that export rejoins it and
 * counts are available per ALT.
 *
 * Genotypes are exchanged in htslib's BCF int32 encoding, `ploidy`
 * entries per sample: PM_GT_MISSING (0) for '.', ((allele+1)<<1)|phased
 * for an allele, PM_GT_VECTOR_END padding after the last allele of a
 * sample with lower ploidy. The phased bit of the first allele is unused
 * (as in BCF).
 *
 * Files are written with the crash-safe protocol of core/fileio.h; every
 * block carries a checksum that the reader verifies.
 */
#ifndef PM_GENOTYPE_GTSTORE_H
#define PM_GENOTYPE_GTSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "promise/error.h"

#define PM_GT_MISSING 0
#define PM_GT_VECTOR_END (INT32_MIN + 1)

/* One record given to the writer. */
typedef struct pm_gt_record {
    int64_t pos;            /* 1-based */
    const char *id;         /* "." when none */
    const char *ref;
    const char *const *alt; /* n_alt strings */
    int n_alt;              /* >= 1 */
    int ploidy;             /* entries per sample in gt (max ploidy) */
    const int32_t *gt;      /* n_samples * ploidy, BCF encoding */
} pm_gt_record_t;

/* ---- writer ---- */

typedef struct pm_gtw pm_gtw_t;

typedef struct pm_gtw_stats {
    uint64_t records;   /* VCF records */
    uint64_t variants;  /* split (per ALT) variants */
    uint64_t bytes;     /* file size */
    int64_t first_pos, last_pos;
} pm_gtw_stats_t;

/* Starts a segment file at path (written to a temporary name until
 * commit). Free with pm_gtw_commit() or pm_gtw_abort(). */
int pm_gtw_open(pm_ctx_t *ctx, const char *path, const char *chrom, uint32_t n_samples,
                pm_gtw_t **out);
/* Appends a record; positions must not decrease (PM_EINPUT otherwise). */
int pm_gtw_add(pm_gtw_t *w, const pm_gt_record_t *rec);
/* Flushes, fsyncs and renames into place; frees w. */
int pm_gtw_commit(pm_gtw_t *w, pm_gtw_stats_t *stats);
/* Discards the temporary file; NULL is a no-op. */
void pm_gtw_abort(pm_gtw_t *w);

/* ---- reader ---- */

typedef struct pm_gtr pm_gtr_t;

typedef struct pm_gtr_rec {
    int64_t pos;
    const char *id;
    const char *ref;
    const char *const *alt;
    int n_alt;
    uint64_t index; /* ordinal of the record in the segment */
} pm_gtr_rec_t;

typedef struct pm_gt_counts {
    int64_t ac;      /* copies of the ALT allele among non-missing alleles */
    int64_t an;      /* non-missing alleles (same for every ALT of a record) */
    int64_t nhomalt; /* samples with ploidy >= 2 whose alleles are all this ALT */
} pm_gt_counts_t;

/* Readers kept open on a store handle between queries: segment files
 * never change once written (a rewrite gets a new name), so a reader
 * opened once (header and index checked) can serve every later query of
 * the handle, with its last block still loaded. pm_gtr_get opens
 * STORE/gt/FILE or takes the handle's idle reader of it; pm_gtr_put gives
 * it back (or closes it: the cache holds a few readers, bounded in
 * memory, and is emptied when the catalog changes). Per-query state (the
 * mask, strata and seek range) does not survive a put. One thread per
 * handle, as for the rest of the handle. */
struct pm_store;
int pm_gtr_get(struct pm_store *st, const char *file, pm_gtr_t **out);
void pm_gtr_put(struct pm_store *st, pm_gtr_t *r);

/* Opens a segment and checks its header and index. Close with pm_gtr_close(). */
int pm_gtr_open(pm_ctx_t *ctx, const char *path, pm_gtr_t **out);
void pm_gtr_close(pm_gtr_t *r);
uint32_t pm_gtr_n_samples(const pm_gtr_t *r);
const char *pm_gtr_chrom(const pm_gtr_t *r);
/* Restricts iteration to records with beg <= pos <= end (end < 0: no
 * upper bound) and rewinds to the first such record, using the block
 * index (no scan of earlier blocks). */
int pm_gtr_seek(pm_gtr_t *r, int64_t beg, int64_t end);
/* Next record: 1 = *rec filled (valid until the next call), 0 = end, <0
 * error (PM_ECORRUPT on a checksum mismatch, naming the file and block). */
int pm_gtr_next(pm_gtr_t *r, pm_gtr_rec_t *rec);
/* Counts for every ALT of the current record over the samples whose bit
 * is set in mask (bit i of mask[i/64] = column i; NULL = all samples).
 * out has n_alt entries. */
int pm_gtr_count(pm_gtr_t *r, const uint64_t *mask, pm_gt_counts_t *out);
/* Stratified counts: stratum[i] in 0..n_strata-1 is sample i's stratum,
 * or -1 to leave it out. out has n_alt * n_strata entries, out[a *
 * n_strata + s]. */
int pm_gtr_count_strata(pm_gtr_t *r, const int16_t *stratum, int n_strata, pm_gt_counts_t *out);
/* Sets bit i of out_mask (n_samples bits, caller-zeroed) for every sample
 * carrying at least one copy of ALT allele a (1-based). */
int pm_gtr_carriers(pm_gtr_t *r, int a, uint64_t *out_mask);
/* Decodes the current record's genotypes exactly as ingested (BCF
 * encoding, *ploidy entries per sample) into *buf, growing it as needed
 * (htslib style: caller owns and frees *buf). */
int pm_gtr_decode(pm_gtr_t *r, int32_t **buf, size_t *cap, int *ploidy);

/* The current record's genotypes in sparse form: the columns whose call
 * may differ from the record's default call, increasing, each with its
 * `ploidy` entries exactly as pm_gtr_decode() gives them. Every column
 * not listed holds the default: [ref, ref | pmode] followed by vector_end
 * entries (ploidy >= 2) or [ref] (ploidy 1); ploidy 0 = no genotypes.
 * Listed are the missing calls, haploid-form samples, exceptions and the
 * het and hom samples of every ALT; the cost is per listed column and per
 * 64 samples, not per sample. The arrays grow as needed; the caller owns
 * them (free() cols and vecs). */
typedef struct pm_gtr_sparse {
    uint32_t *cols;  /* n columns, increasing */
    int32_t *vecs;   /* n * ploidy entries, BCF encoding */
    uint32_t n;
    int ploidy;
    int pmode;       /* phase bit of the default call's second entry */
    size_t cap_cols, cap_vecs;
} pm_gtr_sparse_t;
int pm_gtr_decode_sparse(pm_gtr_t *r, pm_gtr_sparse_t *out);

/* Optional: declares that mask (n_samples bits) will be passed to many
 * pm_gtr_count() calls and will not change, so that its popcount is taken
 * once. Call again after changing its contents; NULL forgets it. */
int pm_gtr_set_mask(pm_gtr_t *r, const uint64_t *mask);
/* Records in the segment (all of them, regardless of seek). */
uint64_t pm_gtr_n_records(const pm_gtr_t *r);
/* Precomputes per-stratum sample masks for pm_gtr_count_strata(). That
 * function caches them keyed by the stratum pointer and n_strata, so a
 * caller that changes the array's contents in place must call this again
 * (a new pointer or count rebuilds automatically). */
int pm_gtr_set_strata(pm_gtr_t *r, const int16_t *stratum, int n_strata);

/* ---- compaction (gtcompact.c) ---- */

/* Rewrites segment in_path to out_path (crash-safe, new file) with the
 * calls of every column whose bit is set in clear (n_samples bits) set to
 * missing; all else is unchanged. *bytes gets the new file's size,
 * *cleared_calls the non-missing alleles removed (both may be NULL). */
int pm_gt_compact_segment(pm_ctx_t *ctx, const char *in_path, const char *out_path,
                          const uint64_t *clear, uint64_t *bytes, uint64_t *cleared_calls);

#endif
