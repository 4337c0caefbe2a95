/*
 * cat_policy.h - the stored half of the Beacon ledger (see promise/policy.h
 * and docs/privacy.md): per-user budgets and cached answers. Internal to
 * libpromise.
 *
 * The tables live in the audit database, STORE/audit/audit.db (cat_audit.h),
 * not in the catalog: a Beacon answer writes them, and a write to the
 * catalog would empty every reader's catalog cache (pm_catalog_generation)
 * on each new public question. In the audit database they are committed in
 * the same transaction as the audit entries of the request (the server's
 * group commit, pm_cataudit_commit), so a budget spend is durable no later
 * than the answer that spent it is released.
 *
 *   beacon_budget(user, idx, spent)  how many answers each individual has
 *       contributed to for each user; only touched individuals have a row.
 *   beacon_answer(user, query, answer, at)  the answers that depended on
 *       someone (they spent budget); later asks get the same answer.
 *
 * Stores that kept both tables in the catalog have them copied into
 * audit.db when it first gets them (pm_catpol_setup); the catalog's copies
 * are then left alone. The edge secret stays in the catalog's meta table.
 */
#ifndef PM_CATALOG_CAT_POLICY_H
#define PM_CATALOG_CAT_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "promise/store.h"

/* Writes waiting to be stored: a thread-safe queue. */
typedef struct pm_catpol_ops pm_catpol_ops_t;

pm_catpol_ops_t *pm_catpol_ops_new(void);
/* Frees o and anything still queued (not written). NULL is a no-op. */
void pm_catpol_ops_free(pm_catpol_ops_t *o);
/* Queues one answer: user's answer to query (stored when query is not
 * NULL) and the new spent totals spent[i] of individuals idx[i], i < n.
 * 0, or PM_ENOMEM (nothing queued). */
int pm_catpol_ops_add(pm_catpol_ops_t *o, const char *user, const char *query, int answer,
                      const int64_t *idx, const int64_t *spent, size_t n);
/* Writes everything queued in one transaction of the audit database of
 * st (fsynced): for callers without a shared audit log. */
int pm_catpol_ops_flush(pm_store_t *st, pm_catpol_ops_t *o);

/* The queue of a ledger (src/policy/beacon.c), for the audit log that
 * commits it (pm_audit_log_attach_beacon). */
struct pm_beacon_ledger;
pm_catpol_ops_t *pm_beacon_ledger_queue(struct pm_beacon_ledger *l);

/* Reads the whole ledger: on_answer for every stored answer, on_spent for
 * every budget row. A callback's negative return stops and is returned. */
int pm_catpol_load(pm_store_t *st,
                   int (*on_answer)(void *ud, const char *user, const char *query, int answer),
                   int (*on_spent)(void *ud, const char *user, int64_t idx, int64_t spent),
                   void *ud);

/* The store's Beacon secret (32 random bytes, catalog meta key
 * "beacon_secret", hex): read, or created from getrandom(2) on first use
 * (through a private connection when st is read-only). Never shown by
 * `promise config`. */
int pm_catpol_secret(pm_store_t *st, uint8_t key[32]);

/* Units individual idx has spent for user (0 when untouched), <0 on error. */
int64_t pm_catpol_spent(pm_store_t *st, const char *user, int64_t idx);

/* After a withdrawal of idx: drops the positive cached answers of every
 * user idx contributed to, and idx's budget rows. Returns the number of
 * answers dropped. */
int64_t pm_catpol_forget(pm_store_t *st, int64_t idx);

#endif
