/*
 * cli_audit.h - the audit hook of the command-line tool. Every command
 * that answers a question about the store's data (or changes who may ask)
 * appends a request entry before it answers and a result entry before it
 * releases the answer:
 *
 *   int64_t aid;
 *   int rc = pm_cli_audit(st, "count", argc, argv, NULL, &aid);
 *   if (rc < 0) return pm_cli_fail("count", ctx, rc);         // no log, no answer
 *   ... compute; on refusal: pm_cli_audit_done(st, aid, rc, 0, 0, NULL) ...
 *   rc = pm_cli_audit_done(st, aid, rc, n_individuals, result_bytes, used_or_NULL);
 *   if (rc < 0) return pm_cli_fail(...);                      // do not print
 *   ... print the answer ...
 *
 * The local CLI user is "local:<login>" with tier steward (whoever holds
 * the store directory). The query is argv after the command name with
 * every personnummer-shaped argument replaced by "<personnummer>" and
 * every token by "<token>", so neither ever reaches the log.
 */
#ifndef PM_CLI_CLI_AUDIT_H
#define PM_CLI_CLI_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "promise/audit.h"
#include "promise/promise.h"

/* Appends the request entry for `command` (e.g. "count", "token new")
 * with argv[1..argc-1] as the normalised query; project may be NULL.
 * Returns <0 (message on the store's context) when the log cannot be
 * written: the command must then refuse to answer. */
int pm_cli_audit(pm_store_t *st, const char *command, int argc, char **argv,
                 const char *project, int64_t *entry_id);
/* Appends the result entry: outcome from the command's rc ("ok" for
 * rc >= 0, "refused" for PM_EACCES, "error" otherwise). Keeps any error
 * message already on the context when rc < 0. */
int pm_cli_audit_done(pm_store_t *st, int64_t entry_id, int rc, int64_t n_individuals,
                      int64_t result_size, const pm_bitset_t *used);
/* The normalised query of argv[1..argc-1] into buf (for tests). */
void pm_cli_audit_query(int argc, char **argv, char *buf, size_t cap);

#endif
