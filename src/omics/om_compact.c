/* om_compact.c - omics batch files without the withdrawn (see om_compact.h). */
#include "omics/om_compact.h"

#include <math.h>
#include <stdlib.h>

#include "omics/om_int.h"
#include "promise/omics.h"

int pm_om_compact_file(pm_ctx_t *ctx, const char *in_path, const char *out_path, int64_t batch,
                       uint32_t n_samples, uint32_t n_features, const uint64_t *clear,
                       uint64_t *bytes, uint64_t *cleared)
{
    size_t n1 = n_samples ? n_samples : 1;
    float *val = malloc(n1 * sizeof *val);
    uint8_t *flags = malloc(n1);
    pm_om_writer_t *w = NULL;
    uint64_t nclear = 0;
    int rc = val && flags ? 0 : pm_err(ctx, PM_ENOMEM, "out of memory");
    if (rc == 0)
        rc = pm_om_writer_open(ctx, out_path, batch, n_samples, n_features, &w);
    for (uint32_t b = 0; rc == 0 && b < n_features; b++) {
        if ((rc = pm_om_read_block(ctx, in_path, n_samples, n_features, b, val, flags)) < 0)
            break;
        for (uint32_t i = 0; i < n_samples; i++) {
            if (!(clear[i >> 6] >> (i & 63) & 1))
                continue;
            if (!(flags[i] & PM_OMICS_MISSING))
                nclear++;
            val[i] = NAN;
            flags[i] = PM_OMICS_MISSING;
        }
        rc = pm_om_writer_block(w, val, flags);
    }
    if (rc == 0) {
        rc = pm_om_writer_commit(w, bytes);
        w = NULL;
    }
    pm_om_writer_abort(w);
    free(val);
    free(flags);
    if (rc >= 0 && cleared)
        *cleared = nclear;
    return rc < 0 ? rc : 0;
}
