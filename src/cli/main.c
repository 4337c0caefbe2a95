/* main.c - the promise command-line tool: the table of subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* Help order. A row here is all it takes to add a subcommand. */
static const pm_cli_cmd_t *const commands[] = {
    &pm_cmd_init,    &pm_cmd_keygen,  &pm_cmd_pseudonymize, &pm_cmd_ingest, &pm_cmd_count,
    &pm_cmd_config,  &pm_cmd_endpoint, &pm_cmd_omics,       &pm_cmd_qtl,    &pm_cmd_freq,
    &pm_cmd_view,    &pm_cmd_gwas,    &pm_cmd_pca,          &pm_cmd_phewas, &pm_cmd_export,
    &pm_cmd_forget,  &pm_cmd_compact, &pm_cmd_user,         &pm_cmd_project, &pm_cmd_grant,
    &pm_cmd_token,   &pm_cmd_serve,   &pm_cmd_audit,        &pm_cmd_simulate, &pm_cmd_help,
};

const pm_cli_cmd_t *pm_cli_find(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

static void print_overview(FILE *fp)
{
    fprintf(fp,
            "promise %s - the national precision-omics database\n"
            "\n"
            "usage: promise COMMAND [ARGS...]\n"
            "\n"
            "commands:\n",
            pm_version());
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(fp, "  %-13s %s\n", commands[i]->name, commands[i]->synopsis);
    fprintf(fp,
            "\n"
            "'promise help COMMAND' or 'promise COMMAND --help' explains one command.\n"
            "Exit status: 0 success, 1 usage error, 2 bad input, 3 refused access.\n");
}

static int help_run(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stdout);
        return PM_EXIT_OK;
    }
    if (argc > 2)
        return pm_cli_usage("help", "too many arguments");
    const pm_cli_cmd_t *c = pm_cli_find(argv[1]);
    if (!c)
        return pm_cli_usage("help", "unknown command '%s'", argv[1]);
    pm_cli_print_usage(c, stdout);
    return PM_EXIT_OK;
}

const pm_cli_cmd_t pm_cmd_help = {
    "help",
    "explain the commands",
    "usage: promise help [COMMAND]\n"
    "\n"
    "Without COMMAND, lists every command. With COMMAND, prints its usage.\n",
    help_run,
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stderr);
        return PM_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("promise %s\n", pm_version());
        return PM_EXIT_OK;
    }
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        print_overview(stdout);
        return PM_EXIT_OK;
    }
    const pm_cli_cmd_t *c = pm_cli_find(name);
    if (!c) {
        fprintf(stderr, "promise: unknown command '%s'; see 'promise help'\n", name);
        return PM_EXIT_USAGE;
    }
    if (c != &pm_cmd_help && pm_cli_wants_help(argc - 1, argv + 1)) {
        pm_cli_print_usage(c, stdout);
        return PM_EXIT_OK;
    }
    return c->run(argc - 1, argv + 1);
}
