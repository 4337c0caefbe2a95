/* cmd_endpoint.c - promise endpoint list|show: the endpoint library. */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "promise/registry.h"

static void show(const pm_endpoint_t *e)
{
    printf("name\t%s\n", e->name);
    printf("version\t%d\n", e->version);
    printf("description\t%s\n", e->description);
    printf("sex\t%s\n", e->sex == 'M' ? "M" : e->sex == 'F' ? "F" : "any");
    if (e->min_age >= 0)
        printf("min_age\t%d\n", e->min_age);
    if (e->max_age >= 0)
        printf("max_age\t%d\n", e->max_age);
    printf("min_events\t%d\n", e->min_events);
    printf("include\t%s\n", e->include);
    printf("exclude\t%s\n", *e->exclude ? e->exclude : "-");
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {{"file", required_argument, NULL, 'f'},
                                         {NULL, 0, NULL, 0}};
    const char *file = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'f')
            file = optarg;
        else
            return pm_cli_usage("endpoint", "unknown option '%s'", argv[optind - 1]);
    }
    if (optind >= argc)
        return pm_cli_usage("endpoint", "missing action (list or show)");
    const char *action = argv[optind];
    int is_list = strcmp(action, "list") == 0, is_show = strcmp(action, "show") == 0;
    if (!is_list && !is_show)
        return pm_cli_usage("endpoint", "unknown action '%s' (list or show)", action);
    if (is_list && argc - optind != 1)
        return pm_cli_usage("endpoint", "too many arguments");
    if (is_show && argc - optind != 2)
        return pm_cli_usage("endpoint", argc - optind < 2 ? "missing NAME" : "too many arguments");

    pm_ctx_t *ctx = pm_cli_ctx("endpoint");
    pm_endpoint_lib_t *lib = NULL;
    int rc = file ? pm_endpoint_lib_load(ctx, file, &lib) : pm_endpoint_lib_builtin(ctx, &lib);
    if (rc >= 0 && is_list) {
        printf("name\tversion\tdescription\n");
        for (size_t i = 0; i < pm_endpoint_lib_count(lib); i++) {
            const pm_endpoint_t *e = pm_endpoint_lib_get(lib, i);
            printf("%s\t%d\t%s\n", e->name, e->version, e->description);
        }
    } else if (rc >= 0) {
        const pm_endpoint_t *e = pm_endpoint_lib_find(lib, argv[optind + 1]);
        if (e)
            show(e);
        else
            rc = pm_err(ctx, PM_ENOTFOUND, "no endpoint named '%s'; see 'promise endpoint list'",
                        argv[optind + 1]);
    }
    int status = rc < 0 ? pm_cli_fail("endpoint", ctx, rc) : PM_EXIT_OK;
    pm_endpoint_lib_free(lib);
    pm_ctx_free(ctx);
    return status;
}

const pm_cli_cmd_t pm_cmd_endpoint = {
    "endpoint",
    "list and show the disease endpoint definitions",
    "usage: promise endpoint list [--file FILE]\n"
    "       promise endpoint show NAME [--file FILE]\n"
    "\n"
    "Endpoints are FinnGen-style case definitions over registry events: a\n"
    "name, a version, include and exclude codes (icd10:, icd9:, kva:, atc:,\n"
    "icdo3:, death: terms; ranges like icd10:I10-I15), a minimum number of\n"
    "events, age limits at the first event and a sex restriction. The starter\n"
    "library is built in; --file reads a library in the same format instead\n"
    "(docs/registry.md), and checks it.\n"
    "\n"
    "In cohort expressions, endpoint:NAME selects the endpoint's cases.\n",
    run,
};
