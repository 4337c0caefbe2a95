/* cmd_ingest_omics.c - promise ingest omics STORE FILE --assay NAME [--format matrix|olink|olink-wide]
 * [--layout features-by-samples|samples-by-features] [--skip-unknown-samples].
 * Formats and policy: docs/omics.md. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "promise/omics.h"

#define CMD "ingest omics"

int pm_cli_ingest_omics(int argc, char **argv)
{
    enum { O_ASSAY = 1, O_FORMAT, O_LAYOUT, O_SKIP, O_TRANSPOSE };
    static const struct option longopts[] = {
        {"assay", required_argument, NULL, O_ASSAY},
        {"format", required_argument, NULL, O_FORMAT},
        {"layout", required_argument, NULL, O_LAYOUT},
        {"transpose", no_argument, NULL, O_TRANSPOSE},
        {"skip-unknown-samples", no_argument, NULL, O_SKIP},
        {NULL, 0, NULL, 0},
    };
    pm_omics_opts_t o = {0};
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case O_ASSAY: o.assay = optarg; break;
        case O_FORMAT:
            if (strcmp(optarg, "matrix") == 0)
                o.format = PM_OMICS_MATRIX;
            else if (strcmp(optarg, "olink") == 0)
                o.format = PM_OMICS_OLINK; /* long, or a wide sheet (recognised) */
            else if (strcmp(optarg, "olink-wide") == 0)
                o.format = PM_OMICS_OLINK_WIDE;
            else
                return pm_cli_usage(CMD, "unknown format '%s' (matrix, olink or olink-wide)",
                                    optarg);
            break;
        case O_LAYOUT:
            if (strcmp(optarg, "features-by-samples") == 0)
                o.layout = PM_OMICS_FEATURES_BY_SAMPLES;
            else if (strcmp(optarg, "samples-by-features") == 0)
                o.layout = PM_OMICS_SAMPLES_BY_FEATURES;
            else
                return pm_cli_usage(CMD, "unknown layout '%s' (features-by-samples or "
                                         "samples-by-features)", optarg);
            break;
        case O_TRANSPOSE: o.layout = PM_OMICS_SAMPLES_BY_FEATURES; break;
        case O_SKIP: o.skip_unknown_samples = 1; break;
        case ':': return pm_cli_usage(CMD, "%s needs a value", argv[optind - 1]);
        default:
            if (optopt >= O_ASSAY && optopt <= O_TRANSPOSE)
                return pm_cli_usage(CMD, "%s needs a value", argv[optind - 1]);
            return pm_cli_usage(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return pm_cli_usage(CMD, argc - optind < 1   ? "missing STORE and FILE"
                                 : argc - optind < 2 ? "missing FILE"
                                                     : "too many arguments");
    if (!o.assay)
        return pm_cli_usage(CMD, "missing --assay NAME");
    if ((o.format == PM_OMICS_OLINK || o.format == PM_OMICS_OLINK_WIDE) &&
        o.layout != PM_OMICS_FEATURES_BY_SAMPLES)
        return pm_cli_usage(CMD, "--layout applies to the matrix format only");
    if (o.layout != PM_OMICS_FEATURES_BY_SAMPLES)
        o.format = PM_OMICS_MATRIX;

    pm_ctx_t *ctx = pm_cli_ctx(CMD);
    pm_store_t *st = NULL;
    pm_omics_result_t r;
    int rc = pm_store_open(ctx, argv[optind], PM_STORE_RDWR, &st);
    if (rc >= 0)
        rc = pm_omics_ingest(st, argv[optind + 1], &o, &r);
    int status = PM_EXIT_OK;
    if (rc < 0) {
        status = pm_cli_fail(CMD, ctx, rc);
    } else {
        fprintf(stderr,
                "promise " CMD ": %lld features x %lld samples in %lld batch%s: %lld values "
                "(%lld missing, %lld below LOD, %lld with a QC warning)\n",
                (long long)r.features, (long long)r.samples, (long long)r.batches,
                r.batches == 1 ? "" : "es", (long long)r.values, (long long)r.missing,
                (long long)r.below_lod, (long long)r.qc_warning);
        if (r.skipped_samples)
            fprintf(stderr, "promise " CMD ": %lld samples not in the sample table skipped "
                            "(%lld values)\n",
                    (long long)r.skipped_samples, (long long)r.skipped_values);
    }
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}
