/*
 * cat_audit.h - the audit table in the catalog. Internal to libpromise:
 * src/access computes the chain (canonical form, SHA-256) and calls these
 * for storage only.
 *
 *   audit(id, kind, at, who, tier, project, command, query, ref, outcome,
 *         n_individuals, result_size, n_used, used, prev, hash)
 *
 * Appends are their own committed transactions: on the store's own
 * connection when it is writable (and not inside another transaction), or
 * on a short-lived read-write connection when the store handle is
 * read-only, so that queries are audited without the writer lock.
 */
#ifndef PM_CATALOG_CAT_AUDIT_H
#define PM_CATALOG_CAT_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "promise/store.h"

typedef struct pm_cataudit_rec {
    int64_t id;
    const char *kind, *at, *who, *tier, *project, *command, *query;
    int64_t ref;
    const char *outcome;
    int64_t n_individuals, result_size, n_used;
    const void *used; /* encoded individual list (see src/access/audit.c), may be NULL */
    size_t used_len;
    char prev[65], hash[65];
} pm_cataudit_rec_t;

/* Appends rec: in one write transaction, reads the last entry (id, hash),
 * sets rec->id = last + 1 and rec->prev, calls seal(rec) to fill
 * rec->hash, inserts and commits. */
int pm_cataudit_append(pm_store_t *st, pm_cataudit_rec_t *rec,
                       void (*seal)(pm_cataudit_rec_t *rec));
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
