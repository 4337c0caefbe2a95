/* cmd_ingest_vcf.c - promise ingest vcf STORE FILE [--source NAME] [--callable BED]
 * [--skip-unknown-samples] [--threads N]: one VCF/BCF file in as one batch. */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/cli.h"
#include "promise/genotype.h"

static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

int pm_cli_ingest_vcf(int argc, char **argv)
{
    static const char *cmd = "ingest vcf";
    static const struct option longopts[] = {
        {"source", required_argument, NULL, 's'},
        {"callable", required_argument, NULL, 'c'},
        {"skip-unknown-samples", no_argument, NULL, 'k'},
        {"threads", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    pm_vcf_ingest_opts_t o = {0};
    int threads = default_threads(), c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":s:c:kt:", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            o.source = optarg;
            break;
        case 'c':
            o.callable = optarg;
            break;
        case 'k':
            o.skip_unknown_samples = 1;
            break;
        case 't': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 64)
                return pm_cli_usage(cmd, "--threads wants a number from 1 to 64");
            threads = (int)n;
            break;
        }
        default: /* ':' or '?' */
            return pm_cli_bad_option(cmd, c, argv);
        }
    }
    if (argc - optind != 2)
        return pm_cli_usage(cmd, "expected STORE and FILE");
    const char *store = argv[optind], *file = argv[optind + 1];
    o.threads = threads;
    pm_ctx_t *ctx = pm_cli_ctx(cmd);
    pm_ctx_set_threads(ctx, threads);
    pm_store_t *st;
    int rc = pm_store_open(ctx, store, PM_STORE_RDWR, &st);
    if (rc < 0) {
        int x = pm_cli_fail(cmd, ctx, rc);
        pm_ctx_free(ctx);
        return x;
    }
    pm_vcf_ingest_result_t res;
    rc = pm_ingest_vcf(st, file, &o, &res);
    int x = PM_EXIT_OK;
    if (rc < 0) {
        x = pm_cli_fail(cmd, ctx, rc);
    } else {
        fprintf(stderr,
                "promise %s: batch %" PRId64 ": %" PRId64 " samples, %" PRId64 " records (%" PRId64
                " variants), %" PRId64 " segment%s, reference %s\n",
                cmd, res.batch, res.samples, res.records, res.variants, res.segments,
                res.segments == 1 ? "" : "s", res.reference_build);
        if (res.skipped_samples)
            fprintf(stderr, "promise %s: %" PRId64 " unknown sample%s skipped\n", cmd,
                    res.skipped_samples, res.skipped_samples == 1 ? "" : "s");
    }
    pm_store_close(st);
    pm_ctx_free(ctx);
    return x;
}
