/* cmd_ingest_registry.c - promise ingest registry|consent STORE FILE [...] */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "promise/identity.h"
#include "promise/registry.h"

typedef struct args {
    const char *store, *file, *keyfile;
    pm_registry_opts_t o;
} args_t;

/* Parses [--key F] [--layout L] [--id-column C] [--ignore-extra]
 * [--skip-unknown] around STORE FILE. Returns 0 or an exit status. */
static int parse_args(const char *cmd, int argc, char **argv, int layouts, args_t *a)
{
    enum { O_KEY = 1, O_LAYOUT, O_IDCOL, O_EXTRA, O_SKIP };
    static const struct option opts[] = {
        {"key", required_argument, NULL, O_KEY},
        {"layout", required_argument, NULL, O_LAYOUT},
        {"id-column", required_argument, NULL, O_IDCOL},
        {"ignore-extra", no_argument, NULL, O_EXTRA},
        {"skip-unknown", no_argument, NULL, O_SKIP},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case O_KEY: a->keyfile = optarg; break;
        case O_LAYOUT:
            if (!layouts)
                return pm_cli_usage(cmd, "unknown option '--layout'");
            if ((a->o.layout = pm_layout_parse(optarg)) < 0)
                return pm_cli_usage(cmd, "unknown layout '%s' (long, npr, lmed, dors or cancer)",
                                    optarg);
            break;
        case O_IDCOL: a->o.id_column = optarg; break;
        case O_EXTRA: a->o.ignore_extra = 1; break;
        case O_SKIP: a->o.skip_unknown = 1; break;
        case ':':
            return pm_cli_usage(cmd, "%s needs a value", argv[optind - 1]);
        default:
            if (optopt >= O_KEY && optopt <= O_SKIP) /* a known option without its value */
                return pm_cli_usage(cmd, "%s needs a value", argv[optind - 1]);
            return pm_cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind < 2)
        return pm_cli_usage(cmd, argc - optind < 1 ? "missing STORE" : "missing FILE");
    if (argc - optind > 2)
        return pm_cli_usage(cmd, "too many arguments");
    a->store = argv[optind];
    a->file = argv[optind + 1];
    return 0;
}

/* Opens the store and the key; runs fn; reports. */
static int run_ingest(const char *cmd, int argc, char **argv, int registry)
{
    args_t a;
    int st_rc = parse_args(cmd, argc, argv, registry, &a);
    if (st_rc)
        return st_rc;
    pm_ctx_t *ctx = pm_cli_ctx(cmd);
    pm_key_t *key = NULL;
    pm_store_t *st = NULL;
    int rc = 0;
    if (a.keyfile && (rc = pm_key_load(ctx, a.keyfile, &key)) < 0)
        goto out;
    a.o.key = key;
    if ((rc = pm_store_open(ctx, a.store, PM_STORE_RDWR, &st)) < 0)
        goto out;
    if (registry) {
        pm_registry_result_t r;
        if ((rc = pm_registry_ingest(st, a.file, &a.o, &r)) < 0)
            goto out;
        fprintf(stderr,
                "promise %s: %lld rows, %lld events: %lld new, %lld already present\n", cmd,
                (long long)r.rows, (long long)r.events, (long long)r.inserted,
                (long long)r.present);
        if (r.skipped_unknown)
            fprintf(stderr, "promise %s: %lld rows of people not in the population skipped\n",
                    cmd, (long long)r.skipped_unknown);
        if (r.skipped_withdrawn)
            fprintf(stderr, "promise %s: %lld rows of withdrawn people not loaded\n", cmd,
                    (long long)r.skipped_withdrawn);
    } else {
        pm_consent_result_t r;
        if ((rc = pm_consent_ingest(st, a.file, &a.o, &r)) < 0)
            goto out;
        fprintf(stderr, "promise %s: %lld rows, %lld consent records changed, %lld withdrawn\n",
                cmd, (long long)r.rows, (long long)r.changed, (long long)r.withdrawn);
    }
out:;
    int status = rc < 0 ? pm_cli_fail(cmd, ctx, rc) : PM_EXIT_OK;
    pm_store_close(st);
    pm_key_free(key);
    pm_ctx_free(ctx);
    return status;
}

int pm_cli_ingest_registry(int argc, char **argv)
{
    return run_ingest("ingest registry", argc, argv, 1);
}

int pm_cli_ingest_consent(int argc, char **argv)
{
    return run_ingest("ingest consent", argc, argv, 0);
}
