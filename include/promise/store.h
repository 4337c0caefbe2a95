/*
 * promise/store.h - a store is a directory: the SQLite catalog (the
 * individuals, samples, sources, and the list of committed data files)
 * beside the data files of each data type.
 *
 *   pm_ctx_t *ctx = pm_ctx_new();
 *   pm_store_init(ctx, "demo.store");                 // once
 *   pm_store_t *st;
 *   if (pm_store_open(ctx, "demo.store", PM_STORE_RDONLY, &st) < 0)
 *       fprintf(stderr, "%s\n", pm_ctx_errmsg(ctx));
 *   ...
 *   pm_store_close(st);
 *
 * A store opened PM_STORE_RDWR holds the store's writer lock until it is
 * closed: one writer at a time, any number of readers. Readers see only
 * committed ingests. A handle is not thread-safe.
 */
#ifndef PROMISE_STORE_H
#define PROMISE_STORE_H

#include <stdint.h>

#include "promise/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pm_store pm_store_t;

enum { PM_STORE_RDONLY = 0, PM_STORE_RDWR = 1 };

/* Current on-disk format version of the catalog. */
#define PM_STORE_SCHEMA_VERSION 1 /* keep equal to the last migration in src/catalog/schema.c */

/* Creates an empty store at path. Refuses (PM_EEXIST) when path exists and
 * is not an empty directory. The store appears atomically: a crash leaves
 * either no store or a complete one. */
int pm_store_init(pm_ctx_t *ctx, const char *path);

/* Opens a store; close with pm_store_close(). Errors go to ctx, which must
 * outlive the handle. */
int pm_store_open(pm_ctx_t *ctx, const char *path, int flags, pm_store_t **out);
/* Closes the store; NULL is a no-op. */
void pm_store_close(pm_store_t *st);

pm_ctx_t *pm_store_ctx(pm_store_t *st);
const char *pm_store_path(const pm_store_t *st);

/* Number of individuals (the size of every cohort bitset). */
int64_t pm_store_n_individuals(pm_store_t *st);

/* The handle caches whole-catalog reads and checks before each use
 * whether another process committed meanwhile (SQLite's data_version: a
 * read transaction, several system calls). Pinned (on = 1), the check is
 * made once and its answer reused until unpinned (on = 0): a server pins
 * each request, so a change committed while it runs is seen by the next
 * one. The handle's own writes are always seen. */
void pm_store_pin(pm_store_t *st, int on);

/* Reads a catalog setting (e.g. "schema_version", "key_fingerprint",
 * "reference_build", "k"). Returns 1 and copies the value when set, 0 when
 * unset, <0 on error. */
int pm_store_setting(pm_store_t *st, const char *key, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
