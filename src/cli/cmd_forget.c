/* cmd_forget.c - promise forget STORE --key KEYFILE PERSONNUMMER */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/cli_audit.h"
#include "promise/access.h"
#include "promise/policy.h"

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {{"key", required_argument, NULL, 'k'},
                                             {NULL, 0, NULL, 0}};
    const char *keyfile = NULL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c != 'k')
            return pm_cli_usage("forget", "unknown option or missing value '%s'",
                                argv[optind - 1]);
        keyfile = optarg;
    }
    if (argc - optind != 2)
        return pm_cli_usage("forget", argc - optind < 2 ? "missing STORE or PERSONNUMMER"
                                                        : "too many arguments");
    if (!keyfile)
        return pm_cli_usage("forget", "missing --key KEYFILE");
    pm_ctx_t *ctx = pm_cli_ctx("forget");
    pm_store_t *st = NULL;
    pm_key_t *key = NULL;
    pm_bitset_t *who = NULL;
    int64_t aid = 0, idx = -1;
    int changed = 0;
    int rc = pm_store_open(ctx, argv[optind], PM_STORE_RDWR, &st);
    if (rc >= 0 && (rc = pm_cli_audit(st, "forget", argc, argv, NULL, &aid)) >= 0) {
        rc = pm_key_load(ctx, keyfile, &key);
        if (rc >= 0)
            rc = pm_access_person(st, key, argv[optind + 1], &idx, NULL);
        if (rc >= 0)
            rc = pm_access_withdraw(st, idx, &changed);
        /* cached positive Beacon answers they took part in must not
         * survive them; also on a repeat, in case the first run died here */
        if (rc >= 0) {
            int64_t d = pm_policy_beacon_forget(st, idx);
            if (d < 0)
                rc = (int)d;
        }
        /* the withdrawn individual is the one individual this touched: it
         * goes into the entry's individual list (by index, never the number) */
        if (rc >= 0 && !(who = pm_bitset_new((size_t)idx + 1)))
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        if (rc >= 0)
            pm_bitset_set(who, (size_t)idx);
        rc = pm_cli_audit_done(st, aid, rc, rc >= 0 ? 1 : 0, 0, who);
    }
    int status = PM_EXIT_OK;
    if (rc < 0)
        status = pm_cli_fail("forget", ctx, rc);
    else if (changed)
        printf("individual %lld withdrawn: excluded from every later answer; their data is "
               "removed at the next 'promise compact'\n",
               (long long)idx);
    else
        printf("individual %lld was already withdrawn\n", (long long)idx);
    pm_bitset_free(who);
    pm_key_free(key);
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}

const pm_cli_cmd_t pm_cmd_forget = {
    "forget",
    "withdraw a person from every answer",
    "usage: promise forget STORE --key KEYFILE PERSONNUMMER\n"
    "\n"
    "Withdraws a person: PERSONNUMMER is validated and pseudonymised with\n"
    "KEYFILE (which must be the key the store is bound to), and the individual\n"
    "is marked withdrawn. Every later cohort, count, frequency, extract and\n"
    "Beacon answer excludes them at once; their genotypes, omics values and\n"
    "registry events are queued for physical removal at the next\n"
    "'promise compact'. Cached positive Beacon answers the person took part\n"
    "in are dropped (they are answered afresh without them), and so is\n"
    "their Beacon query budget. The withdrawal is recorded in the audit log\n"
    "by the individual's index; the number itself is never stored, printed\n"
    "or logged.\n"
    "Forgetting someone twice is harmless.\n"
    "\n"
    "Exit status: 0 done, 1 usage error, 2 invalid personnummer or nobody in\n"
    "the store has it, 3 the key is not the store's.\n",
    run,
};
