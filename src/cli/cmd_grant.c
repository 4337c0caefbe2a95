/* cmd_grant.c - promise grant STORE USER PROJECT */
#include <getopt.h>

#include "cli/cli.h"
#include "cli/cli_audit.h"
#include "promise/access.h"

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {{NULL, 0, NULL, 0}};
    optind = 0;
    opterr = 0;
    if (getopt_long(argc, argv, "", longopts, NULL) != -1)
        return pm_cli_usage("grant", "unknown option '%s'", argv[optind - 1]);
    if (argc - optind != 3)
        return pm_cli_usage("grant", argc - optind < 3 ? "missing STORE, USER or PROJECT"
                                                       : "too many arguments");
    const char *path = argv[optind], *user = argv[optind + 1], *project = argv[optind + 2];
    pm_ctx_t *ctx = pm_cli_ctx("grant");
    pm_store_t *st = NULL;
    int64_t aid = 0;
    int rc = pm_store_open(ctx, path, PM_STORE_RDWR, &st);
    if (rc >= 0 && (rc = pm_cli_audit(st, "grant", argc, argv, project, &aid)) >= 0) {
        rc = pm_access_grant(st, user, project);
        rc = pm_cli_audit_done(st, aid, rc, 0, 0, NULL);
    }
    int status = PM_EXIT_OK;
    if (rc < 0)
        status = pm_cli_fail("grant", ctx, rc);
    else
        printf("user '%s' granted project '%s'\n", user, project);
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}

const pm_cli_cmd_t pm_cmd_grant = {
    "grant",
    "let a user work in a project",
    "usage: promise grant STORE USER PROJECT\n"
    "\n"
    "Grants USER (tier 'project' or 'steward') access to PROJECT: within the\n"
    "project's approved sources, data types and purpose, until it expires.\n"
    "Recorded in the audit log.\n"
    "\n"
    "Exit status: 0 done, 1 usage error, 2 unknown user or project, a grant\n"
    "that exists already, or a user whose tier cannot use a grant.\n",
    run,
};
