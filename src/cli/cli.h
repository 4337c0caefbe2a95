/*
 * cli.h - the promise command-line tool. main.c holds the table of
 * subcommands; each subcommand lives in cmd_<name>.c and exports one
 * pm_cli_cmd_t. The tool is a client of libpromise's public API only.
 *
 * Exit status: 0 success, 1 usage error, 2 bad input (or any other
 * failure), 3 refused access. Messages go to stderr as
 * "promise <command>: <what went wrong>".
 */
#ifndef PM_CLI_CLI_H
#define PM_CLI_CLI_H

#include <stdio.h>

#include "promise/promise.h"

enum { PM_EXIT_OK = 0, PM_EXIT_USAGE = 1, PM_EXIT_INPUT = 2, PM_EXIT_ACCESS = 3 };

typedef struct pm_cli_cmd {
    const char *name;     /* "init" */
    const char *synopsis; /* one line, shown by `promise help` */
    const char *usage;    /* full text for `promise help init` and `init --help` */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} pm_cli_cmd_t;

/* Every subcommand; the table in main.c lists them in help order. */
extern const pm_cli_cmd_t pm_cmd_init, pm_cmd_keygen, pm_cmd_pseudonymize, pm_cmd_ingest,
    pm_cmd_count, pm_cmd_config, pm_cmd_endpoint, pm_cmd_omics, pm_cmd_qtl, pm_cmd_freq, pm_cmd_view, pm_cmd_gwas, pm_cmd_pca, pm_cmd_phewas, pm_cmd_export, pm_cmd_forget, pm_cmd_compact, pm_cmd_user, pm_cmd_project, pm_cmd_grant, pm_cmd_token,
    pm_cmd_serve, pm_cmd_audit, pm_cmd_simulate, pm_cmd_help;

/* Prints "promise CMD: MSG" from ctx and returns the exit status for rc. */
int pm_cli_fail(const char *cmd, pm_ctx_t *ctx, int rc);
/* Prints "promise CMD: MSG" plus a pointer to help; returns PM_EXIT_USAGE. */
int pm_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "promise CMD: MSG"; returns status. */
int pm_cli_error(const char *cmd, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Exit status for a PM_E* code. */
int pm_cli_exit_code(int rc);
/* Prints the full usage of a command to fp. */
void pm_cli_print_usage(const pm_cli_cmd_t *cmd, FILE *fp);
/* Finds a subcommand by name, or NULL. */
const pm_cli_cmd_t *pm_cli_find(const char *name);
/* A new context with progress reporting to stderr (a line every few
 * seconds; live on a terminal). Free with pm_ctx_free(). */
pm_ctx_t *pm_cli_ctx(const char *cmd);
/* Returns 1 if argv holds -h or --help before a "--". */
int pm_cli_wants_help(int argc, char **argv);

/* Fallback for subcommands not built yet: says so and exits 1. */
int pm_cli_not_available(const char *cmd, const char *issue);

#endif
