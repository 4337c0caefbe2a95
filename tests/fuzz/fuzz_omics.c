/* fuzz_omics.c - libFuzzer target for the omics ingest parsers
 * (src/omics/om_ingest.c): the input is ingested as a matrix (both
 * layouts), as Olink NPX long, as Olink NPX wide, and auto-detected,
 * into a store made once with samples S0..S3 of assay "fz". The first
 * input byte picks the separator the rest is rewritten with (tab, ';' or
 * ','), so that one corpus covers the three. Values that load are
 * committed; later inputs then also exercise the duplicate check. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "promise/omics.h"
#include "promise/store.h"
#include "promise/tables.h"

static pm_ctx_t *ctx;
static pm_store_t *st;
static char dir[] = "/tmp/pm_fuzz_omics.XXXXXX";

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char path[256];
    ctx = pm_ctx_new();
    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof path, "%s/st", dir);
    if (pm_store_init(ctx, path) < 0 || pm_store_open(ctx, path, PM_STORE_RDWR, &st) < 0)
        abort();
    char pop[256], smp[256];
    snprintf(pop, sizeof pop, "%s/pop.tsv", dir);
    snprintf(smp, sizeof smp, "%s/smp.tsv", dir);
    if (write_file(pop, "pseudonym\tsex\n"
                        "aaaaaa-baaaaaaaaaaaaaaaaaaaaaaaaa\tF\n"
                        "aaaaaa-caaaaaaaaaaaaaaaaaaaaaaaaa\tM\n") < 0 ||
        write_file(smp, "sample_id\tpseudonym\tsource\tassay\tcollection_date\n"
                        "S0\taaaaaa-baaaaaaaaaaaaaaaaaaaaaaaaa\tX\tfz\t2020-01-01\n"
                        "S1\taaaaaa-baaaaaaaaaaaaaaaaaaaaaaaaa\tX\tfz\t2021-01-01\n"
                        "S2\taaaaaa-caaaaaaaaaaaaaaaaaaaaaaaaa\tX\tfz\t\n"
                        "S3\taaaaaa-caaaaaaaaaaaaaaaaaaaaaaaaa\tX\tother\t\n") < 0)
        abort();
    if (pm_ingest_population(st, pop, NULL, NULL) < 0 || pm_ingest_samples(st, smp, NULL, NULL) < 0) {
        fprintf(stderr, "fuzz_omics setup: %s\n", pm_ctx_errmsg(ctx));
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    static const char seps[3] = {'\t', ';', ','};
    char sep = seps[data[0] % 3];
    char path[256];
    snprintf(path, sizeof path, "%s/in.txt", dir);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    for (size_t i = 1; i < size; i++)
        fputc(data[i] == '\t' ? sep : data[i], f);
    fclose(f);
    static const pm_omics_opts_t opts[] = {
        {.assay = "fz", .format = PM_OMICS_AUTO},
        {.assay = "fz", .format = PM_OMICS_MATRIX},
        {.assay = "fz", .format = PM_OMICS_MATRIX, .layout = PM_OMICS_SAMPLES_BY_FEATURES},
        {.assay = "fz", .format = PM_OMICS_OLINK, .skip_unknown_samples = 1},
        {.assay = "fz", .format = PM_OMICS_OLINK_WIDE, .skip_unknown_samples = 1},
    };
    for (size_t k = 0; k < sizeof opts / sizeof *opts; k++) {
        pm_omics_result_t r;
        (void)pm_omics_ingest(st, path, &opts[k], &r);
    }
    unlink(path);
    return 0;
}
