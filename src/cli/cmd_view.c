/* cmd_view.c - promise view: genotypes back out as VCF/BCF. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_audit.h"
#include "promise/genotype.h"

static int run(int argc, char **argv)
{
    static const char *cmd = "view";
    static const struct option longopts[] = {
        {"region", required_argument, NULL, 'r'},
        {"cohort", required_argument, NULL, 'c'},
        {"output-type", required_argument, NULL, 'O'},
        {"output", required_argument, NULL, 'o'},
        {"threads", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    pm_gt_query_opts_t o = {0};
    const char *outp = "-";
    int threads = 1, c = pm_cli_identity_args(cmd, &argc, argv); /* --token, --as */
    if (c)
        return c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":r:c:O:o:t:", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            o.region = optarg;
            break;
        case 'c':
            o.cohort = optarg;
            break;
        case 'O':
            if (strlen(optarg) != 1 || !strchr("vzb", optarg[0]))
                return pm_cli_usage(cmd, "-O wants v, z or b, not '%s'", optarg);
            o.format = optarg[0];
            break;
        case 'o':
            outp = optarg;
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
    if (argc - optind != 1)
        return pm_cli_usage(cmd, "expected STORE");
    pm_ctx_t *ctx = pm_cli_ctx(cmd);
    pm_ctx_set_threads(ctx, threads);
    pm_store_t *st;
    int64_t aid = -1;
    int rc = pm_store_open(ctx, argv[optind], PM_STORE_RDONLY, &st);
    if (rc == 0) /* logged before the genotypes go out */
        rc = pm_cli_audit(st, cmd, argc, argv, NULL, &aid);
    if (rc == 0) {
        fflush(stdout);
        rc = pm_cli_view(st, &o, outp); /* steward only (cli.h) */
        int arc = pm_cli_audit_done(st, aid, rc, 0, 0, NULL);
        if (rc >= 0 && arc < 0)
            rc = arc;
    }
    int x = rc < 0 ? pm_cli_fail(cmd, ctx, rc) : PM_EXIT_OK;
    pm_store_close(st);
    pm_ctx_free(ctx);
    return x;
}

const pm_cli_cmd_t pm_cmd_view = {
    "view",
    "genotypes back out as VCF/BCF",
    "usage: promise view STORE [--region R] [--cohort EXPR] [-O v|z|b] [-o OUT]\n"
    "\n"
    "Writes the genotypes (GT) of the cohort's samples, named by sample_id, as\n"
    "VCF (-O v, the default), bgzipped VCF (-O z) or BCF (-O b) to OUT or\n"
    "standard output. Records come out whole (multi-allelic records stay\n"
    "multi-allelic), sorted by contig, position, REF and ALT. A sample whose\n"
    "file has no record at a site is ./. there (0/0 inside the file's\n"
    "--callable regions). Only GT is kept: QUAL, FILTER, INFO and other FORMAT\n"
    "fields are not stored.\n"
    "\n"
    "  --region R   CHR, CHR:BEG or CHR:BEG-END (1-based, inclusive; chr22 = 22)\n"
    "  --cohort E   cohort expression; default everyone\n"
    "  --threads N  compression threads for -O z and -O b\n"
    "\n"
    "  --token TOKEN | --as USER [--project P]\n"
    "               ask as that user, with their tier and project: the\n"
    "               project's sources, without those who opted out of its\n"
    "               consent purpose (docs/access.md); default: the local steward\n",
    run,
};
