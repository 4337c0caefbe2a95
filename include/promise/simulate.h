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
    int64_t events_per_person; /* at most this many registry events per person;
                                  0 = PM_SIM_DEFAULT_EVENTS */
} pm_sim_opts_t;

#define PM_SIM_DEFAULT_EVENTS 100

/* Writes OUTDIR/population.tsv (personnummer column) and
 * OUTDIR/samples.tsv. OUTDIR is created if needed. */
int pm_sim_population(pm_ctx_t *ctx, const char *outdir, const pm_sim_opts_t *opts);

/* Writes OUTDIR/genotypes.vcf.gz (bgzipped, GT only) for the genotyped
 * samples listed in OUTDIR/samples.tsv (assays wgs, wes and array). */
int pm_sim_genotypes(pm_ctx_t *ctx, const char *outdir, const pm_sim_opts_t *opts);

/* Writes OUTDIR/registry.tsv (long format of 'promise ingest registry':
 * personnummer, date, register, code, value, position) for the people of
 * OUTDIR/population.tsv: diagnoses, dispensed drugs, cancers and causes
 * of death. */
int pm_sim_registry(pm_ctx_t *ctx, const char *outdir, const pm_sim_opts_t *opts);

/* Writes OUTDIR/olink.tsv, an NPX matrix (feature_id, then one column per
 * olink sample of OUTDIR/samples.tsv), mildly associated with age, sex and
 * type 2 diabetes in OUTDIR/registry.tsv (when that file exists). */
int pm_sim_omics(pm_ctx_t *ctx, const char *outdir, const pm_sim_opts_t *opts);

#ifdef __cplusplus
}
#endif
#endif
