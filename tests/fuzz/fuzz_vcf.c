/*
 * fuzz_vcf.c - libFuzzer target for the VCF ingest path (pm_ingest_vcf:
 * htslib header parsing, the fast GT parser and its htslib fallback, the
 * segment writer, the catalog transaction). A store with samples S1-S3 is
 * made once; every input is written to a file and ingested into it. Any
 * input must either load or fail with an error message, never crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "promise/genotype.h"
#include "promise/promise.h"
#include "promise/tables.h"

static char g_dir[64];
static char g_store[128];
static char g_input[128];

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        abort();
    fputs(text, fp);
    fclose(fp);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(g_dir, sizeof g_dir, "/tmp/pm_fuzz_vcf.XXXXXX");
    if (!mkdtemp(g_dir))
        abort();
    snprintf(g_store, sizeof g_store, "%s/store", g_dir);
    snprintf(g_input, sizeof g_input, "%s/in.vcf", g_dir);
    char pop[160], smp[160];
    snprintf(pop, sizeof pop, "%s/pop.tsv", g_dir);
    snprintf(smp, sizeof smp, "%s/samples.tsv", g_dir);
    write_text(pop, "pseudonym\tsex\tbirth_date\n"
                    "aaaaaa-aaaaaaaaaaaaaaaaaaaaaaaaaa\tF\t1960-01-01\n"
                    "aaaaaa-baaaaaaaaaaaaaaaaaaaaaaaaa\tM\t1970-02-02\n"
                    "aaaaaa-caaaaaaaaaaaaaaaaaaaaaaaaa\tM\t1980-03-03\n");
    write_text(smp, "sample_id\tpseudonym\tsource\tassay\n"
                    "S1\taaaaaa-aaaaaaaaaaaaaaaaaaaaaaaaaa\tFUZZ\twgs\n"
                    "S2\taaaaaa-baaaaaaaaaaaaaaaaaaaaaaaaa\tFUZZ\twgs\n"
                    "S3\taaaaaa-caaaaaaaaaaaaaaaaaaaaaaaaa\tFUZZ\twgs\n");
    pm_ctx_t *ctx = pm_ctx_new();
    pm_store_t *st;
    if (pm_store_init(ctx, g_store) < 0 || pm_store_open(ctx, g_store, PM_STORE_RDWR, &st) < 0) {
        fprintf(stderr, "fuzz_vcf: %s\n", pm_ctx_errmsg(ctx));
        abort();
    }
    if (pm_ingest_population(st, pop, NULL, NULL) < 0 || pm_ingest_samples(st, smp, NULL, NULL) < 0) {
        fprintf(stderr, "fuzz_vcf: %s\n", pm_ctx_errmsg(ctx));
        abort();
    }
    pm_store_close(st);
    pm_ctx_free(ctx);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *fp = fopen(g_input, "wb");
    if (!fp)
        return 0;
    if (size && fwrite(data, 1, size, fp) != size) {
        fclose(fp);
        return 0;
    }
    fclose(fp);
    pm_ctx_t *ctx = pm_ctx_new();
    pm_store_t *st;
    if (pm_store_open(ctx, g_store, PM_STORE_RDWR, &st) == 0) {
        pm_vcf_ingest_opts_t o = {.skip_unknown_samples = 1, .threads = 1};
        int rc = pm_ingest_vcf(st, g_input, &o, NULL);
        if (rc < 0 && pm_ctx_errmsg(ctx)[0] == '\0')
            abort(); /* every refusal must say why */
        pm_store_close(st);
    }
    pm_ctx_free(ctx);
    return 0;
}
