/*
 * vcf_gtparse.h - the specialised VCF text parser of the ingest fast path.
 * Internal to libpromise.
 *
 * htslib's general vcf_parse tokenises every column and every FORMAT
 * field; an ingest needs only CHROM, POS, ID, REF, ALT and the GT
 * sub-field of each sample. These functions read exactly that from one
 * text line and give GT in htslib's BCF int32 encoding, value for value
 * what vcf_parse + bcf_get_genotypes give. Anything unusual (a GT they do
 * not recognise, a column count that does not match, a number out of
 * range) makes them return 0: the caller then parses the line with
 * htslib, which also produces the error message for bad lines. They never
 * modify the line.
 */
#ifndef PM_VCF_GTPARSE_H
#define PM_VCF_GTPARSE_H

#include <stddef.h>
#include <stdint.h>

typedef struct pm_vcf_cols {
    const char *chrom, *id, *ref, *alt, *format, *samples; /* column starts */
    int chrom_len, id_len, ref_len, alt_len, format_len;
    int64_t pos;   /* 1-based, as written */
    int n_allele;  /* 1 + number of ALT alleles (ALT "." = none) */
    int gt_first;  /* FORMAT's first key is GT */
    int gt_only;   /* FORMAT is exactly "GT" */
    int n_fmt;     /* number of FORMAT keys */
} pm_vcf_cols_t;

/* Splits the fixed columns of line[0..len). Returns 1 when the line is
 * simple enough for the fast path, 0 otherwise. samples is NULL for a
 * line without sample columns. */
int pm_vcf_split(const char *line, size_t len, pm_vcf_cols_t *c);

/*
 * Parses the GT sub-field of each of n_in sample columns starting at
 * samples and ending at end; FORMAT has n_fmt keys, GT first. col_map[i] is the output column of input
 * sample i, or -1 to skip it (NULL = identity, n_out = n_in). Writes
 * n_out * (*ploidy) values into *gt (grown as needed; caller frees).
 * *ploidy is a hint on entry (the previous record's, or 0) and the
 * record's ploidy (the largest of its kept samples) on return.
 * Returns 1 on success, 0 when the line needs htslib.
 */
int pm_vcf_parse_gt(const char *samples, const char *end, int n_in, const int *col_map, int n_out,
                    int n_fmt, int32_t **gt, size_t *cap, int *ploidy);

#endif
