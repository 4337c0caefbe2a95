/*
 * sim_genotypes_stub.c - weak fallback for pm_sim_genotypes (see
 * promise/simulate.h). The genotype simulator in sim_genotypes.c defines
 * the same symbol without `weak` and replaces this one at link time; until
 * then `promise simulate --variants M` says plainly that it cannot.
 */
#include "promise/simulate.h"

__attribute__((weak)) int pm_sim_genotypes(pm_ctx_t *ctx, const char *outdir,
                                           const pm_sim_opts_t *opts)
{
    (void)outdir;
    (void)opts;
    return pm_err(ctx, PM_EUSAGE, "genotype simulation is not available in this build");
}
