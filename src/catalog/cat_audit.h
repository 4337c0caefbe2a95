/*
 * cat_audit.h - the audit log's own SQLite database, STORE/audit/audit.db
 * (WAL, synchronous=FULL), apart from the catalog so that appending never
 * waits for the catalog's write lock (an ingest). Internal to libpromise:
 * src/access computes the chain (canonical form, SHA-256), batches appends
 * (group commit) and writes the head witness; this file stores.
 *
 *   audit(id, kind, at, who, tier, project, command, query, ref, outcome,
 *         n_individuals, result_size, n_used, used, prev, hash)
 *
 * A store made before the log had its own file kept the table in the
 * catalog: the first open copies those rows into a new audit.db (built
 * under a temporary name and linked into place, so two processes racing
 * to migrate cannot lose an append). The catalog's old table is then
 * left alone.
 */
#ifndef PM_CATALOG_CAT_AUDIT_H
#define PM_CATALOG_CAT_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "promise/store.h"

#define PM_AUDIT_DB "audit/audit.db"

typedef struct pm_cataudit_rec pm_cataudit_rec_t;
struct pm_cataudit_rec {
    int64_t id;
    const char *kind, *at, *who, *tier, *project, *command, *query;
    int64_t ref;
    const pm_cataudit_rec_t *ref_rec; /* when set: ref = ref_rec->id at commit */
    const char *outcome;
    int64_t n_individuals, result_size, n_used;
    const void *used; /* encoded individual list (see src/access/audit.c), may be NULL */
    size_t used_len;
    char prev[65], hash[65];
};

/* An open audit database: one connection with its prepared statements. Not
 * for concurrent use (src/access serialises its writers). */
typedef struct pm_cataudit_db pm_cataudit_db_t;

/* Opens (creating or migrating when needed) the audit database of st. */
int pm_cataudit_open(pm_store_t *st, pm_cataudit_db_t **out);
void pm_cataudit_close(pm_cataudit_db_t *db);

/* Appends recs[0..n) in one write transaction (BEGIN IMMEDIATE): reads the
 * last entry (id, hash), then for each record in order sets id and prev
 * (and ref from ref_rec), calls seal(rec) to fill rec->hash and inserts;
 * writes the Beacon ledger's queued writes (ledger may be NULL; see
 * cat_policy.h), so they are durable with the entries; commits. On
 * failure nothing is appended (the drained ledger writes are lost) and
 * the message is in err. */
struct pm_catpol_ops;
int pm_cataudit_commit(pm_cataudit_db_t *db, pm_cataudit_rec_t **recs, size_t n,
                       void (*seal)(pm_cataudit_rec_t *rec), struct pm_catpol_ops *ledger,
                       char *err, size_t errcap);

/* Reading, each on a connection of its own (errors on st's context). */
/* Entries with id > after in id order; with_used loads the used blob. */
int pm_cataudit_each(pm_store_t *st, int64_t after, int with_used,
                     int (*fn)(void *ud, const pm_cataudit_rec_t *r), void *ud);
/* Calls fn for result entries that recorded individuals (blob loaded). */
int pm_cataudit_each_with_used(pm_store_t *st, int (*fn)(void *ud, const pm_cataudit_rec_t *r),
                               void *ud);
/* One entry by id: 1 found (fn called), 0 not found. */
int pm_cataudit_get(pm_store_t *st, int64_t id, int (*fn)(void *ud, const pm_cataudit_rec_t *r),
                    void *ud);
int pm_cataudit_count(pm_store_t *st, int64_t *n, int64_t *last_id);

#endif
