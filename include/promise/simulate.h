/*
 * promise/simulate.h - a synthetic national data set for demos, tests and
 * benchmarks: a Swedish-looking population with valid test personnummer
 * (birth-number series 980-999, which Skatteverket reserves for test
 * persons), samples from research cohorts and healthcare regions, and
 * genotypes with linkage disequilibrium and a rare-heavy allele spectrum.
 * Deterministic for a given seed.
 */
#ifndef PROMISE_SIMULATE_H
#define PROMISE_SIMULATE_H

#include <stdint.h>

#include "promise/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pm_sim_opts {
    int64_t individuals; /* people in the population */
    int64_t variants;    /* genotype sites; 0 = no genotypes */
    uint64_t seed;       /* same seed, same data */
    double missing_rate; /* fraction of missing genotype calls (default 0.001) */
    int ref_date;        /* YYYYMMDD the population is "as of"; 0 = 20260101 */
} pm_sim_opts_t;

/* Writes OUTDIR/population.tsv (personnummer column) and
 * OUTDIR/samples.tsv. OUTDIR is created if needed. */
int pm_sim_population(pm_ctx_t *ctx, const char *outdir, const pm_sim_opts_t *opts);

/* Writes OUTDIR/genotypes.vcf.gz (bgzipped, GT only) for the genotyped
 * samples listed in OUTDIR/samples.tsv (assays wgs, wes and array). */
int pm_sim_genotypes(pm_ctx_t *ctx, const char *outdir, const pm_sim_opts_t *opts);

#ifdef __cplusplus
}
#endif
#endif
