/* vcf_util.c - contig names and regions (see vcf_internal.h). */
#include <ctype.h>
#include <htslib/hts_log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promise/genotype.h"
#include "vcf/vcf_internal.h"

int pm_vcf_normalise(const char *name, size_t len, char *buf, size_t cap)
{
    if (len > 3 && (name[0] == 'c' || name[0] == 'C') && (name[1] == 'h' || name[1] == 'H') &&
        (name[2] == 'r' || name[2] == 'R')) {
        name += 3;
        len -= 3;
    }
    if (len == 1 && (name[0] == 'M' || name[0] == 'm')) {
        name = "MT";
        len = 2;
    }
    if (len + 1 > cap)
        return PM_ELIMIT;
    memcpy(buf, name, len);
    buf[len] = '\0';
    return 0;
}

int pm_contig_normalise(const char *name, char *buf, size_t cap)
{
    return pm_vcf_normalise(name, strlen(name), buf, cap);
}

/* Parses a position with optional thousands commas; 1 on success. */
static int parse_pos(const char *s, const char *e, int64_t *out)
{
    int64_t v = 0;
    int nd = 0;
    for (; s < e; s++) {
        if (*s == ',')
            continue;
        if (!isdigit((unsigned char)*s) || ++nd > 15)
            return 0;
        v = v * 10 + (*s - '0');
    }
    if (nd == 0)
        return 0;
    *out = v;
    return 1;
}

int pm_vcf_parse_region(pm_ctx_t *ctx, const char *region, char *chrom, size_t cap, int64_t *beg,
                        int64_t *end)
{
    const char *colon = strrchr(region, ':');
    const char *cend = colon ? colon : region + strlen(region);
    *beg = 1;
    *end = -1;
    if (colon) {
        const char *dash = strchr(colon + 1, '-');
        const char *e = colon + 1 + strlen(colon + 1);
        if (!parse_pos(colon + 1, dash ? dash : e, beg) ||
            (dash && dash[1] && !parse_pos(dash + 1, e, end)))
            return pm_err(ctx, PM_EUSAGE,
                          "cannot parse region '%s' (expected CHR, CHR:BEG or CHR:BEG-END)",
                          region);
        if (!dash)
            *end = *beg; /* CHR:POS is that one position, as in bcftools */
        if (*beg < 1)
            *beg = 1;
        if (*end >= 0 && *end < *beg)
            return pm_err(ctx, PM_EUSAGE, "region '%s' ends before it begins", region);
    }
    if (cend == region)
        return pm_err(ctx, PM_EUSAGE, "region '%s' names no contig", region);
    if (pm_vcf_normalise(region, (size_t)(cend - region), chrom, cap) < 0)
        return pm_err(ctx, PM_EUSAGE, "contig name in region '%s' is too long", region);
    return 0;
}

void pm_vcf_quiet_htslib(void) { hts_set_log_level(HTS_LOG_OFF); }
