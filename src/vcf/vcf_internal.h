/*
 * vcf_internal.h - helpers shared by the VCF module's ingest and query
 * files. Internal to src/vcf.
 */
#ifndef PM_VCF_INTERNAL_H
#define PM_VCF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "promise/error.h"

/* Segment files of one batch start a new file after this many records. */
#define PM_VCF_SEGMENT_RECORDS 65536

/* Same as pm_contig_normalise() for a name of known length. */
int pm_vcf_normalise(const char *name, size_t len, char *buf, size_t cap);

/* Parses "CHR", "CHR:POS", "CHR:BEG-" and "CHR:BEG-END" (1-based
 * inclusive, commas in numbers allowed; CHR:POS is one position, as in
 * bcftools) into a normalised contig name and bounds (end = -1 when
 * open). */
int pm_vcf_parse_region(pm_ctx_t *ctx, const char *region, char *chrom, size_t cap, int64_t *beg,
                        int64_t *end);

/* Silences htslib's logging (the library never prints); idempotent. */
void pm_vcf_quiet_htslib(void);

#endif
