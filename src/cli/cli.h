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

#include "promise/access.h"
#include "promise/genotype.h"
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
/* getopt_long's ':' or '?' for the option at argv[optind - 1]: "option
 * 'X' needs a value" or "unknown option 'X'" as a usage error. */
int pm_cli_bad_option(const char *cmd, int c, char **argv);
/* After the options: 0 when exactly STORE is left, else the usage error
 * ("expected STORE", "unexpected argument 'X'"). */
int pm_cli_one_store(const char *cmd, int argc, char **argv);
/* A date as YYYYMMDD: YYYY-MM-DD (a real calendar day, year >= 1000),
 * or also YYYYMMDD when compact_ok; -1 when it is neither. */
int pm_cli_parse_date(const char *s, int compact_ok);
/* --as-tier NAME: *tier becomes the local tier lowered to NAME (NULL
 * leaves the local tier). `refused` is the tier the command does not
 * offer (also public, always refused when refused_public), `offered` names
 * those it does for the usage message. 0, or the exit status after the
 * message; the caller frees ctx either way. */
int pm_cli_as_tier(const char *cmd, pm_ctx_t *ctx, const char *name, int refused,
                   const char *offered, int *tier);
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

/*
 * Who asks (docs/access.md, "The CLI as a user"). Every query command
 * accepts --token TOKEN ('-': one line from stdin), --as USER (the local
 * steward acting as USER) and --project P; without them the local CLI is
 * the steward. Commands call, first thing in run():
 *
 *   int x = pm_cli_identity_args(cmd, &argc, argv);  // strips the options
 *   if (x) return x;                                  // usage error
 *
 * The identity is resolved on the store by pm_cli_audit() (refusals are
 * logged, then returned as PM_EACCES: exit 3), which also names the user
 * and project in the audit entry. After it, pm_cli_scope() says what the
 * request may see, and the helpers below apply it: the same rules as the
 * HTTP server (pm_access_scope, pm_policy_*).
 */
int pm_cli_identity_args(const char *cmd, int *argc, char **argv);
/* Resolves the identity once (pm_cli_audit calls it); 0 or <0 with a
 * message on the store's context. */
int pm_cli_identity(pm_store_t *st);
/* The resolved scope (tier, project, consent purpose); the local steward
 * before resolution. */
const pm_access_scope_t *pm_cli_scope(void);
/* The --project given, or NULL. */
const char *pm_cli_project_arg(void);
/* "alice" (token), "local:root as alice" (--as) or "local:root". */
const char *pm_cli_who(void);
/* The lower of tier and the scope's tier. */
int pm_cli_scope_tier(int tier);
/* *out = expr restricted to the project's approved sources: "(expr) and
 * (source:A or ...)"; expr itself without a project. Valid until the next
 * call. <0 when it does not fit (message on ctx). */
int pm_cli_scope_cohort(pm_ctx_t *ctx, const char *expr, const char **out);
/* The consent purpose to apply: the project's, else `purpose`. Commands
 * put it in their library options (pm_cohort_opts_t, pm_gt_query_opts_t,
 * pm_gwas_opts_t, ... .purpose), so that who opted out of the project's
 * purpose is left out of its answers like the withdrawn. */
const char *pm_cli_scope_purpose(const char *purpose);
/* Checks that the scope's tier is at least min_tier and that the project
 * (if any) is approved for data_type; PM_EACCES otherwise. Consent is not
 * checked here: see pm_cli_scope_purpose. */
int pm_cli_scope_check(pm_store_t *st, const char *data_type, int min_tier);
/* pm_cli_scope_cohort and pm_cli_scope_check together: *cohort becomes
 * the scoped expression. The caller still sets its options' purpose from
 * pm_cli_scope_purpose. */
int pm_cli_scope_gt(pm_store_t *st, const char **cohort, const char *data_type, int min_tier);
/* pm_freq as the caller may see it: scoped cohort (pm_cli_scope_gt, any
 * tier), the project's consent purpose (o->purpose) and, below the
 * steward, the released table (pm_cli_freq_release). */
int pm_cli_freq(pm_store_t *st, pm_gt_query_opts_t *o, FILE *out);
/* pm_view for the steward only (sample ids are the store's; a project's
 * genotypes leave through 'promise export' under its pseudonyms); with
 * --project, the project's sources and consent purpose apply. */
int pm_cli_view(pm_store_t *st, pm_gt_query_opts_t *o, const char *out_path);
/* Copies a freq table from raw to out as the policy releases it to tier
 * (as GET /api/v1/variants does): AC in 1..T-1 as "<T", AC hidden with
 * "." when AN-AC is small, AF "." when AC is hidden, NHOMALT "<T" or ".". */
int pm_cli_freq_release(pm_store_t *st, int tier, FILE *raw, FILE *out);

/* Fallback for subcommands not built yet: says so and exits 1. */
int pm_cli_not_available(const char *cmd, const char *issue);

#endif
