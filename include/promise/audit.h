/*
 * promise/audit.h - the hash-chained, append-only audit log (PRODUCT.md
 * section 7; docs/access.md).
 *
 * Every request, refused ones included, is appended BEFORE it is
 * answered; the answer's size and the individuals it used follow as a
 * second, chained "result" entry, so that no entry is ever updated:
 *
 *   pm_audit_entry_t e = {.who = "alice", .tier = PM_TIER_PROJECT, .project = "cardio",
 *                         .command = "count", .query = "--cohort 'icd10:E11'"};
 *   int64_t id;
 *   if (pm_audit_append(st, &e, &id) < 0) -> do not answer
 *   ... compute the answer ...
 *   pm_audit_complete_ex(st, id, "ok", n, bytes, used_set, NULL);  // before releasing it
 *   ... release the answer ...
 *
 * Storage: its own SQLite database, STORE/audit/audit.db (WAL,
 * synchronous=FULL), so appending never waits for the catalog's write lock
 * (an ingest); stores that kept the log in the catalog are migrated on
 * first use. Entry i stores
 *     hash_i = SHA-256(hash_{i-1} || "\n" || canonical(entry_i))   (hex)
 * with hash_0 = 64 zeros, and ids run 1, 2, 3 ... without gaps. After each
 * commit the head (id and hash of the last entry) is also written to
 * STORE/audit/head, a witness outside the database that catches a
 * truncated tail. pm_audit_verify recomputes everything.
 *
 * A server keeps one pm_audit_log_t open for all its threads: appends
 * queue, and one commit (one fsync of the WAL, one of the head witness)
 * makes every queued entry durable at once (group commit). No call
 * returns success before its entries are durable.
 *
 * The personnummer never reaches this module: callers log pseudonyms or
 * individual indices.
 */
#ifndef PROMISE_AUDIT_H
#define PROMISE_AUDIT_H

#include <stdint.h>

#include "promise/bitset.h"
#include "promise/error.h"
#include "promise/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PM_AUDIT_FIELD_MAX 4096 /* longer who/project/command/query are refused */
#define PM_AUDIT_HASH_HEX 64

/* A request as it arrives. Strings may be NULL (stored as ""). */
typedef struct pm_audit_entry {
    const char *who;     /* user name, or "local:<login>" for the local CLI */
    int tier;            /* pm_tier_t */
    const char *project; /* project the request is made in, or NULL */
    const char *command; /* "count", "GET /api/v1/count", "forget" ... */
    const char *query;   /* normalised query: no personnummer, no token */
} pm_audit_entry_t;

/* Appends a request entry and commits it; *entry_id (may be NULL) gets its
 * id. Fails (and the caller must not answer) when the log cannot be
 * written. */
int pm_audit_append(pm_store_t *st, const pm_audit_entry_t *e, int64_t *entry_id);

/* Appends the "result" entry of request entry_id: outcome "ok". */
int pm_audit_complete(pm_store_t *st, int64_t entry_id, int64_t n_individuals,
                      int64_t result_size);
/* Full form: outcome is "ok", "refused", "error" (or another short word);
 * used (may be NULL) is the set of individuals whose data the answer used,
 * recorded for individual-level answers so that `audit person` can list
 * them (GDPR art. 15); *result_id (may be NULL) gets the new entry's id. */
int pm_audit_complete_ex(pm_store_t *st, int64_t entry_id, const char *outcome,
                         int64_t n_individuals, int64_t result_size, const pm_bitset_t *used,
                         int64_t *result_id);

/* ---- a shared log with group commit (the HTTP server) ---- */
typedef struct pm_audit_log pm_audit_log_t;
typedef struct pm_audit_pending pm_audit_pending_t;

/* Opens the log of st for appending from many threads (thread-safe). */
int pm_audit_log_open(pm_store_t *st, pm_audit_log_t **out);
void pm_audit_log_close(pm_audit_log_t *log);
/* Queues the request entry e (copied) without waiting for the disk; the
 * request may be worked on meanwhile. Errors (a field too long) go on ctx,
 * the calling thread's context. */
int pm_audit_log_request(pm_audit_log_t *log, pm_ctx_t *ctx, const pm_audit_entry_t *e,
                         pm_audit_pending_t **req);
/* Queues req's result entry (as pm_audit_complete_ex) and waits until both
 * entries are durable: only then may the answer be released. Frees req,
 * also on failure; *request_id (may be NULL) gets the request's id. */
int pm_audit_log_result(pm_audit_log_t *log, pm_ctx_t *ctx, pm_audit_pending_t *req,
                        const char *outcome, int64_t n_individuals, int64_t result_size,
                        const pm_bitset_t *used, int64_t *request_id);
/* The same without waiting (the server, whose workers must not block on
 * the disk): queues the result entry and returns; a flusher thread of the
 * log commits and then calls done(arg, ok) from its own thread, ok = 1 when
 * both entries are durable, 0 when they could not be written (then the
 * answer must be withheld). req is the log's from here on. Returns <0 (and
 * done is never called) only when the entry could not even be queued. */
int pm_audit_log_result_async(pm_audit_log_t *log, pm_ctx_t *ctx, pm_audit_pending_t *req,
                              const char *outcome, int64_t n_individuals, int64_t result_size,
                              const pm_bitset_t *used, void (*done)(void *arg, int ok),
                              void *arg);
/* From now on every commit of the log also writes the Beacon ledger's
 * queued budget spends and answers (promise/policy.h) in the same
 * transaction: a Beacon answer queued before its result entry is durable
 * when that entry is. ledger must outlive the log; NULL detaches. */
struct pm_beacon_ledger;
void pm_audit_log_attach_beacon(pm_audit_log_t *log, struct pm_beacon_ledger *ledger);
/* Commits and entries committed so far (entries / commits = the mean
 * group size). */
void pm_audit_log_stats(pm_audit_log_t *log, int64_t *commits, int64_t *entries);

/* One stored entry, for listing. Strings are owned by the iterator and
 * valid during the callback only. */
typedef struct pm_audit_row {
    int64_t id;
    const char *kind;    /* "request" or "result" */
    const char *at;      /* UTC, "YYYY-MM-DDTHH:MM:SS.mmmZ" */
    const char *who;
    const char *tier;
    const char *project;
    const char *command;
    const char *query;
    int64_t ref;           /* result: the request's id; request: 0 */
    const char *outcome;   /* result: "ok", "refused" ...; request: "" */
    int64_t n_individuals; /* result: -1 when not given */
    int64_t result_size;   /* result: -1 when not given */
    int64_t n_used;        /* individuals recorded for art. 15 */
    const char *hash;
} pm_audit_row_t;

/* Calls fn for entries with id > after_id in id order. */
int pm_audit_each(pm_store_t *st, int64_t after_id,
                  int (*fn)(void *ud, const pm_audit_row_t *r), void *ud);
/* Number of entries and the highest id (0, 0 for an empty log). */
int pm_audit_count(pm_store_t *st, int64_t *n, int64_t *last_id);

/* Recomputes the chain. Returns 0 with *n_ok entries when every entry,
 * its order and the head witness agree; PM_ECORRUPT with *bad_id = the
 * first entry id that is edited, missing, out of order or (for a
 * truncated tail) the first missing id, and a message on the context. */
int pm_audit_verify(pm_store_t *st, int64_t *n_ok, int64_t *bad_id);

/* Calls fn, in log order, for every result entry whose recorded
 * individuals include individual idx (GDPR art. 15). The row is the
 * result entry: who, tier, project and command are copied from its
 * request, r->ref is the request's id. An individual list that does not
 * decode fails with PM_ECORRUPT (run pm_audit_verify). */
int pm_audit_person(pm_store_t *st, int64_t idx,
                    int (*fn)(void *ud, const pm_audit_row_t *r), void *ud);

#ifdef __cplusplus
}
#endif
#endif
