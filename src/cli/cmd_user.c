/* cmd_user.c - promise user add|list STORE ... */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_audit.h"
#include "promise/access.h"

static int print_user(void *ud, const pm_user_info_t *u)
{
    (void)ud;
    printf("%s\t%s\t%s\n", u->name, pm_tier_name(u->tier), u->created);
    return 0;
}

static int user_add(int argc, char **argv)
{
    static const struct option longopts[] = {{"tier", required_argument, NULL, 't'},
                                             {NULL, 0, NULL, 0}};
    const char *tier_s = NULL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 't')
            tier_s = optarg;
        else
            return pm_cli_usage("user", "unknown option or missing value '%s'", argv[optind - 1]);
    }
    if (argc - optind != 2)
        return pm_cli_usage("user", argc - optind < 2 ? "user add needs STORE and NAME"
                                                      : "too many arguments");
    if (!tier_s)
        return pm_cli_usage("user", "missing --tier public|registered|project|steward");
    int tier = pm_tier_parse(tier_s);
    if (tier < 0)
        return pm_cli_usage("user", "unknown tier '%s': use public, registered, project or steward",
                            tier_s);
    pm_ctx_t *ctx = pm_cli_ctx("user");
    pm_store_t *st = NULL;
    int64_t aid = 0;
    int rc = pm_store_open(ctx, argv[optind], PM_STORE_RDWR, &st);
    if (rc >= 0 && (rc = pm_cli_audit(st, "user add", argc, argv, NULL, &aid)) >= 0) {
        rc = pm_access_user_add(st, argv[optind + 1], tier);
        rc = pm_cli_audit_done(st, aid, rc, 0, 0, NULL);
    }
    int status = PM_EXIT_OK;
    if (rc < 0)
        status = pm_cli_fail("user", ctx, rc);
    else
        printf("user '%s' added with tier %s\n", argv[optind + 1], pm_tier_name(tier));
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}

static int user_list(int argc, char **argv)
{
    if (argc != 2)
        return pm_cli_usage("user", argc < 2 ? "user list needs STORE" : "too many arguments");
    pm_ctx_t *ctx = pm_cli_ctx("user");
    pm_store_t *st = NULL;
    int64_t aid = 0;
    int rc = pm_store_open(ctx, argv[1], PM_STORE_RDONLY, &st);
    if (rc >= 0 && (rc = pm_cli_audit(st, "user list", argc, argv, NULL, &aid)) >= 0)
        rc = pm_cli_audit_done(st, aid, 0, 0, 0, NULL);
    if (rc >= 0)
        rc = pm_access_user_each(st, print_user, NULL);
    int status = rc < 0 ? pm_cli_fail("user", ctx, rc) : PM_EXIT_OK;
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} subs[] = {{"add", user_add}, {"list", user_list}};

static int run(int argc, char **argv)
{
    if (argc < 2)
        return pm_cli_usage("user", "missing subcommand: add or list");
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].run(argc - 1, argv + 1);
    return pm_cli_usage("user", "unknown subcommand '%s': use add or list", argv[1]);
}

const pm_cli_cmd_t pm_cmd_user = {
    "user",
    "add and list the users of a store",
    "usage: promise user add STORE NAME --tier TIER\n"
    "       promise user list STORE\n"
    "\n"
    "Users are who the HTTP API answers (with a bearer token from 'promise token\n"
    "new'). TIER is one of\n"
    "  public      variant frequencies and Beacon answers\n"
    "  registered  aggregate counts and statistics with small-cell suppression\n"
    "  project     individual-level data within granted projects ('promise grant')\n"
    "  steward     administration\n"
    "NAME is 1 to 63 of A-Z a-z 0-9 . _ -. 'list' prints NAME, TIER and the\n"
    "creation time, tab-separated, in name order. Both are recorded in the\n"
    "audit log.\n"
    "\n"
    "Exit status: 0 done, 1 usage error, 2 bad input (e.g. the name is taken).\n",
    run,
};
