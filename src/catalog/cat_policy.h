/*
 * cat_policy.h - the catalog tables behind Beacon protection (see
 * promise/policy.h and docs/privacy.md). Internal to libpromise.
 *
 * Tables (schema part pm_schema_policy_v1 in cat_policy.c):
 *   beacon_budget(user, idx, spent)  how many positive Beacon answers each
 *       individual has contributed to for each user; only touched
 *       individuals have a row.
 *   beacon_answer(user, query, answer, at)  the first answer given to a
 *       user for a normalised query; later asks get the same answer.
 *
 * A session is one write transaction (BEGIN IMMEDIATE) on a writable
 * connection: the store's own when it was opened PM_STORE_RDWR (and is
 * not inside another transaction), else a private connection opened for
 * the session, as the audit log does, so that a read-only server handle
 * can still spend budgets. Concurrent sessions serialise on SQLite's
 * write lock, so two requests cannot both spend the last unit.
 */
#ifndef PM_CATALOG_CAT_POLICY_H
#define PM_CATALOG_CAT_POLICY_H

#include <stdint.h>

#include "promise/bitset.h"
#include "promise/store.h"

typedef struct pm_catpol pm_catpol_t;

/* Opens a session (write transaction). End it with pm_catpol_end(). */
int pm_catpol_begin(pm_store_t *st, pm_catpol_t **out);
/* Commits (commit != 0) or rolls back, closes a private connection and
 * frees s. Returns the commit's result; NULL is a no-op. */
int pm_catpol_end(pm_catpol_t *s, int commit);

/* The cached answer of user to query: 1 and *answer when found, 0 when not. */
int pm_catpol_cached(pm_catpol_t *s, const char *user, const char *query, int *answer);
/* Records the answer of user to query (first answer wins). */
int pm_catpol_remember(pm_catpol_t *s, const char *user, const char *query, int answer);
/* Sets in out (n bits, zeroed first) every individual whose spent budget
 * for user is >= budget. */
int pm_catpol_exhausted(pm_catpol_t *s, const char *user, int64_t budget, pm_bitset_t *out);
/* Adds one spent unit for user to every individual in who. */
int pm_catpol_spend(pm_catpol_t *s, const char *user, const pm_bitset_t *who);

/* The store's Beacon secret (32 random bytes, meta key "beacon_secret",
 * hex): read, or created from getrandom(2) on first use within the
 * session. Never shown by `promise config`. */
int pm_catpol_secret(pm_catpol_t *s, uint8_t key[32]);

/* Units individual idx has spent for user (0 when untouched), <0 on error. */
int64_t pm_catpol_spent(pm_store_t *st, const char *user, int64_t idx);

/* After a withdrawal of idx: drops the positive cached answers of every
 * user idx contributed to, and idx's budget rows. Returns the number of
 * answers dropped. */
int64_t pm_catpol_forget(pm_store_t *st, int64_t idx);

#endif
