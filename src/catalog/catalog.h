/*
 * catalog.h - the SQLite catalog behind a store. Internal to libpromise:
 * the only module that includes <sqlite3.h>. Other modules reach the
 * catalog through the functions declared here and in the catalog's other
 * headers; none of them sees SQL.
 *
 * An ingest is one catalog transaction: pm_catalog_begin() takes the
 * write transaction, data files are written and fsync'd first, then the
 * rows that make them visible are inserted and pm_catalog_commit() makes
 * everything visible at once. Data files that no committed row names are
 * garbage and are removed by the next writer (pm_store_open RDWR).
 */
#ifndef PM_CATALOG_CATALOG_H
#define PM_CATALOG_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "promise/store.h"

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;

struct pm_store {
    pm_ctx_t *ctx;
    char *path;
    sqlite3 *db;
    int lock_fd;    /* writer lock, -1 for readers */
    int writable;
    int in_txn;
};

/* Catalog file and marker names inside a store directory. */
#define PM_STORE_CATALOG "catalog.db"
#define PM_STORE_MARKER "PROMISE-STORE"
#define PM_STORE_LOCK "write.lock"

/* Transactions: BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int pm_catalog_begin(pm_store_t *st);
int pm_catalog_commit(pm_store_t *st);
void pm_catalog_rollback(pm_store_t *st);

/* Settings in the meta table; get returns 1 when found, 0 when not. */
int pm_catalog_meta_get(pm_store_t *st, const char *key, char *buf, size_t cap);
int pm_catalog_meta_set(pm_store_t *st, const char *key, const char *value);

/* Records the SQLite error on the store's context and returns PM_EIO. */
int pm_catalog_sqlerr(pm_store_t *st, const char *what);

/* Shared query helpers for the catalog's files. pm_catalog_prepare
 * records the SQLite error as "<what>: ..." and leaves *q NULL on failure.
 * pm_catalog_strings runs a one-column text query into a new array that
 * the caller frees with pm_catalog_strv_free. pm_catalog_int64 reads the
 * first column of a one-row query. */
int pm_catalog_prepare(pm_store_t *st, const char *sql, sqlite3_stmt **q, const char *what);
int pm_catalog_strings(pm_store_t *st, const char *sql, const char *what, char ***v, size_t *n);
void pm_catalog_strv_free(char **v, size_t n);
int pm_catalog_int64(pm_store_t *st, const char *sql, const char *what, int64_t *out);

/* For the catalog module's own files only. */
sqlite3 *pm_catalog_db(pm_store_t *st);

/* Applies the schema migrations up to PM_STORE_SCHEMA_VERSION. */
int pm_catalog_migrate(pm_store_t *st);

#endif
