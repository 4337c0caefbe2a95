/* cmd_init.c - promise init STORE */
#include "cli/cli.h"

static int run(int argc, char **argv)
{
    if (argc != 2)
        return pm_cli_usage("init", argc < 2 ? "missing STORE" : "too many arguments");
    pm_ctx_t *ctx = pm_cli_ctx("init");
    int rc = pm_store_init(ctx, argv[1]);
    int status = rc < 0 ? pm_cli_fail("init", ctx, rc) : PM_EXIT_OK;
    pm_ctx_free(ctx);
    return status;
}

const pm_cli_cmd_t pm_cmd_init = {
    "init",
    "create an empty store",
    "usage: promise init STORE\n"
    "\n"
    "Creates an empty store in the directory STORE: the SQLite catalog (WAL\n"
    "mode, schema version recorded) and one folder per data type. STORE must\n"
    "not exist, or be an empty directory; an existing store is never touched.\n"
    "The store appears atomically: after a crash there is either no store or\n"
    "a complete one.\n"
    "\n"
    "Settings recorded: schema_version, created, k (the small-count threshold,\n"
    "default 5).\n",
    run,
};
