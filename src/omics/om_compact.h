/*
 * om_compact.h - physical removal of withdrawn samples' omics values
 * (`promise compact`, docs/access.md). Internal to libpromise.
 */
#ifndef PM_OMICS_OM_COMPACT_H
#define PM_OMICS_OM_COMPACT_H

#include <stdint.h>

#include "promise/error.h"

/* Rewrites the batch file in_path (n_samples x n_features, batch id
 * batch) to out_path (crash-safe, new file) with the values of every
 * column whose bit is set in clear set to missing (NaN, flag
 * PM_OMICS_MISSING); all else unchanged. *bytes gets the new size and
 * *cleared the non-missing values removed (either may be NULL). */
int pm_om_compact_file(pm_ctx_t *ctx, const char *in_path, const char *out_path, int64_t batch,
                       uint32_t n_samples, uint32_t n_features, const uint64_t *clear,
                       uint64_t *bytes, uint64_t *cleared);

#endif
