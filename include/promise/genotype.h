/*
 * promise/genotype.h - genotypes in and out: VCF/BCF ingest, allele
 * frequencies for a cohort, and export back to VCF/BCF.
 *
 *   pm_vcf_ingest_opts_t o = {.source = "SCAPIS"};
 *   pm_vcf_ingest_result_t res;
 *   if (pm_ingest_vcf(st, "calls.vcf.gz", &o, &res) < 0)   // st opened PM_STORE_RDWR
 *       fprintf(stderr, "%s\n", pm_ctx_errmsg(pm_store_ctx(st)));
 *
 *   pm_gt_query_opts_t q = {.region = "22:16000000-17000000", .cohort = "sex=F"};
 *   pm_freq(st, &q, stdout);
 *
 * One ingested file is one batch: its samples (the file's columns, each a
 * sample_id of the catalog), its segment files under STORE/gt/ and its
 * catalog rows, made visible in one transaction. Queries take the union of
 * sites (contig, position, REF, ALT) across batches; a sample whose batch
 * has no record at a site is missing there, or hom-ref when the batch was
 * ingested with a callable-regions BED that covers the site. Contig names
 * are normalised ("chr22" and "22" are contig "22", chrM is "MT"), in input
 * and in regions. See docs/genotypes.md.
 *
 * Errors go to the store's context (pm_store_ctx). Handles are not
 * thread-safe; the functions use up to pm_ctx_threads() threads.
 */
#ifndef PROMISE_GENOTYPE_H
#define PROMISE_GENOTYPE_H

#include <stdint.h>
#include <stdio.h>

#include "promise/bitset.h"
#include "promise/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pm_vcf_ingest_opts {
    const char *source;       /* every sample must belong to this source; NULL = no check */
    const char *callable;     /* BED of callable regions (hom-ref where no record); NULL = none */
    int skip_unknown_samples; /* drop columns whose name is not a sample_id instead of failing */
    int threads;              /* decompression threads; 0 = pm_ctx_threads() */
} pm_vcf_ingest_opts_t;

typedef struct pm_vcf_ingest_result {
    int64_t batch;            /* id of the new batch */
    int64_t samples;          /* sample columns loaded */
    int64_t skipped_samples;  /* unknown columns dropped (--skip-unknown-samples) */
    int64_t records;          /* VCF records */
    int64_t variants;         /* per-ALT variants */
    int64_t segments;         /* segment files written */
    int64_t fast_records;     /* records parsed by the specialised GT parser */
    uint64_t bytes;           /* bytes of segment files */
    char reference_build[32]; /* the store's build after the ingest ("GRCh38", "unknown") */
} pm_vcf_ingest_result_t;

/*
 * Loads a VCF (4.0-4.4, plain or bgzipped) or BCF file as one batch. The
 * store must be open PM_STORE_RDWR. On any error nothing becomes visible
 * (the message names FILE:LINE for text VCF, FILE:record N for BCF).
 * Unreferenced files left in STORE/gt/ by an earlier crash are removed
 * first. res may be NULL.
 */
int pm_ingest_vcf(pm_store_t *st, const char *path, const pm_vcf_ingest_opts_t *opts,
                  pm_vcf_ingest_result_t *res);

typedef struct pm_gt_query_opts {
    const char *region; /* "CHR", "CHR:POS", "CHR:BEG-", "CHR:BEG-END" (1-based, inclusive,
                         * as in bcftools); NULL = all */
    const char *cohort; /* cohort expression; NULL or "" = everyone */
    const char *by;     /* pm_freq only: NULL, "sex", "county" or "source" */
    int format;         /* pm_view only: 'v' VCF, 'z' bgzipped VCF, 'b' BCF (0 = 'v') */
    /* Consent purpose ("commercial", "research"): individuals who opted out
     * of it (or of "all") are left out of the cohort, as pm_cohort_opts_t
     * does. NULL or "" = none (only the withdrawn are left out). */
    const char *purpose;
} pm_gt_query_opts_t;

/*
 * Writes the allele-frequency table: a header line
 * "#CHROM POS ID REF ALT AC AN AF NHOMALT" (tab-separated; plus AC_x AN_x
 * per stratum with `by`), then one row per site and ALT allele, sorted by
 * contig (catalog order), position, REF, ALT. Counts are over the cohort's
 * non-withdrawn individuals (minus those who opted out of opts->purpose)
 * with a non-missing call, each individual once.
 */
int pm_freq(pm_store_t *st, const pm_gt_query_opts_t *opts, FILE *out);

/*
 * Writes the genotypes (GT only) of the cohort's samples as VCF or BCF to
 * out_path ("-" = stdout); samples of the withdrawn and of those who
 * opted out of opts->purpose are left out. Multi-allelic records come out whole.
 */
int pm_view(pm_store_t *st, const pm_gt_query_opts_t *opts, const char *out_path);

/*
 * Sets in `out` (pm_store_n_individuals bits, caller-allocated; bits are
 * only ever set) every individual with at least one copy of ALT at
 * CHROM:POS with that REF. Returns the number of matching records (0 when
 * the variant is not in the store).
 */
int pm_genotype_carriers(pm_store_t *st, const char *chrom, int64_t pos, const char *ref,
                         const char *alt, pm_bitset_t *out);

/*
 * Site iterator for association and other per-individual analyses: walks
 * the union of sites (as pm_freq does) in the region, one step per site
 * and ALT allele, over the cohort's individuals. Individuals are numbered
 * 0..n-1 in increasing individual index (pm_gt_iter_individuals maps them
 * back). For each step it gives the counts and, in increasing order, the
 * individuals carrying the ALT (with their dosage: copies of the ALT, 1 or
 * 2; a haploid ALT call counts 1) and the individuals whose call is
 * missing there (including those whose batch lacks the site outside
 * callable regions). Everyone else is homozygous reference for this ALT
 * (or carries another ALT of a multi-allelic record; treated as 0 copies).
 * An individual with samples in several batches is read from one batch
 * per site, as pm_freq does. Pointers in *site are valid until the next
 * call. Close with pm_gt_iter_close().
 */
typedef struct pm_gt_iter pm_gt_iter_t;

typedef struct pm_gt_site {
    const char *chrom;
    int64_t pos;
    const char *id;
    const char *ref;
    const char *alt;
    int allele;                 /* 1-based ALT index within the record */
    int64_t ac, an, nhomalt;    /* as pm_freq reports them for the cohort */
    const uint32_t *carrier;    /* n_carrier cohort positions, increasing */
    const uint8_t *dosage;      /* n_carrier dosages (1 or 2) */
    uint32_t n_carrier;
    const uint32_t *missing;    /* n_missing cohort positions, increasing */
    uint32_t n_missing;
} pm_gt_site_t;

/* opts: region, cohort and purpose as for pm_freq (by and format ignored). */
int pm_gt_iter_open(pm_store_t *st, const pm_gt_query_opts_t *opts, pm_gt_iter_t **out);
/* 1 = *site filled, 0 = end, < 0 = error (on the store's context). */
int pm_gt_iter_next(pm_gt_iter_t *it, pm_gt_site_t *site);
/* Cohort size n, and the individual index of each cohort position. */
uint32_t pm_gt_iter_n(const pm_gt_iter_t *it);
const int64_t *pm_gt_iter_individuals(const pm_gt_iter_t *it);
void pm_gt_iter_close(pm_gt_iter_t *it);

/* Normalised contig name ("chr22" -> "22", "chrM"/"M" -> "MT") into buf. */
int pm_contig_normalise(const char *name, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
