/* cmd_ingest_tables.c - promise ingest population|samples STORE FILE [--key KEYFILE]
 * [--ignore-extra]. Formats and policy: docs/ingest.md. */
#include <getopt.h>
#include <inttypes.h>

#include "cli/cli.h"
#include "promise/identity.h"
#include "promise/tables.h"

typedef int (*ingest_fn)(pm_store_t *, const char *, const pm_ingest_opts_t *,
                         pm_ingest_result_t *);

/* argv[0] is the kind ("population"); cmd is "ingest population". */
static int ingest_table(const char *cmd, ingest_fn fn, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'},
        {"ignore-extra", no_argument, NULL, 'x'},
        {NULL, 0, NULL, 0},
    };
    const char *keyfile = NULL;
    pm_ingest_opts_t o = {0};
    optind = 0; /* full re-initialisation of GNU getopt */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'k':
            keyfile = optarg;
            break;
        case 'x':
            o.ignore_extra = 1;
            break;
        default:
            if (optopt == 'k')
                return pm_cli_usage(cmd, "--key needs a KEYFILE");
            return pm_cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return pm_cli_usage(cmd, argc - optind < 1   ? "missing STORE and FILE"
                                 : argc - optind < 2 ? "missing FILE"
                                                     : "too many arguments");
    const char *store = argv[optind], *file = argv[optind + 1];

    pm_ctx_t *ctx = pm_cli_ctx(cmd);
    pm_key_t *key = NULL;
    pm_store_t *st = NULL;
    pm_ingest_result_t res = {0};
    int rc = 0;
    if (keyfile)
        rc = pm_key_load(ctx, keyfile, &key);
    if (rc >= 0)
        rc = pm_store_open(ctx, store, PM_STORE_RDWR, &st);
    if (rc >= 0) {
        o.key = key;
        rc = fn(st, file, &o, &res);
    }
    int status = PM_EXIT_OK;
    if (rc < 0)
        status = pm_cli_fail(cmd, ctx, rc);
    else
        fprintf(stderr, "promise %s: %" PRId64 " rows: %" PRId64 " new, %" PRId64
                        " updated, %" PRId64 " unchanged\n",
                cmd, res.rows, res.inserted, res.updated, res.unchanged);
    pm_store_close(st);
    pm_key_free(key);
    pm_ctx_free(ctx);
    return status;
}

int pm_cli_ingest_population(int argc, char **argv)
{
    return ingest_table("ingest population", pm_ingest_population, argc, argv);
}

int pm_cli_ingest_samples(int argc, char **argv)
{
    return ingest_table("ingest samples", pm_ingest_samples, argc, argv);
}
