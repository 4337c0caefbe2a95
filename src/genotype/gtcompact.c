/*
 * gtcompact.c - physical removal of withdrawn samples' genotypes (see
 * `promise compact`, docs/access.md): a segment is rewritten record by
 * record through the segment reader and writer with the withdrawn
 * columns' calls set to missing. The columns stay (the batch's sample
 * order and every other column's call are unchanged); what the person
 * contributed is gone from the new file. The new file is written with
 * the writer's crash-safe protocol under a new name; switching the
 * catalog to it is the caller's job.
 */
#include <stdlib.h>

#include "genotype/gtstore.h"

int pm_gt_compact_segment(pm_ctx_t *ctx, const char *in_path, const char *out_path,
                          const uint64_t *clear, uint64_t *bytes, uint64_t *cleared_calls)
{
    pm_gtr_t *r = NULL;
    pm_gtw_t *w = NULL;
    int32_t *gt = NULL;
    size_t cap = 0;
    uint64_t nclear = 0;
    int rc = pm_gtr_open(ctx, in_path, &r);
    if (rc < 0)
        return rc;
    uint32_t n = pm_gtr_n_samples(r);
    if ((rc = pm_gtw_open(ctx, out_path, pm_gtr_chrom(r), n, &w)) < 0)
        goto out;
    pm_gtr_rec_t rec;
    while ((rc = pm_gtr_next(r, &rec)) == 1) {
        int ploidy = 0;
        if ((rc = pm_gtr_decode(r, &gt, &cap, &ploidy)) < 0)
            goto out;
        for (uint32_t i = 0; i < n; i++) {
            if (!(clear[i >> 6] >> (i & 63) & 1))
                continue;
            int32_t *g = gt + (size_t)i * (size_t)ploidy;
            for (int k = 0; k < ploidy; k++) {
                if (g[k] != PM_GT_MISSING && g[k] != PM_GT_VECTOR_END)
                    nclear++;
                g[k] = k == 0 || g[k] != PM_GT_VECTOR_END ? PM_GT_MISSING : PM_GT_VECTOR_END;
            }
        }
        pm_gt_record_t out = {rec.pos, rec.id, rec.ref, rec.alt, rec.n_alt, ploidy, gt};
        if ((rc = pm_gtw_add(w, &out)) < 0)
            goto out;
    }
    if (rc < 0)
        goto out;
    pm_gtw_stats_t s;
    rc = pm_gtw_commit(w, &s);
    w = NULL;
    if (rc >= 0) {
        if (bytes)
            *bytes = s.bytes;
        if (cleared_calls)
            *cleared_calls = nclear;
        rc = 0;
    }
out:
    pm_gtw_abort(w);
    pm_gtr_close(r);
    free(gt);
    return rc;
}
