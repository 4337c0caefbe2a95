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

struct pm_catgt;
struct pm_cat_demo;

/* Slots for other modules' per-handle caches (pm_store_module_slot in
 * cat_genotype.h): the genotype readers kept open (src/genotype/gtread.c)
 * the whole-store frequency set-up (src/vcf/vcf_query.c) and the tokens
 * already resolved (src/access/access.c). */
enum { PM_SLOT_GTR, PM_SLOT_FREQ, PM_SLOT_AUTH, PM_SLOTS };
/* The handle's slot `which` for another module's cache: *slot is NULL
 * until set; free_fn frees it when the handle closes. */
void **pm_store_module_slot(pm_store_t *st, int which, void (*free_fn)(void *cache));

/*
 * Caches of whole-catalog reads (the genotype column join, the
 * population's demographic columns, the withdrawn individuals, the
 * population size, the settings) are kept on the handle, each tagged with the
 * generation it was read at (see pm_catalog_generation). No locking: a
 * handle is used by one thread at a time (the server hands each request
 * one handle of its pool, see pool_get in src/server/server.c), and so
 * are its caches; the shared snapshots (pm_catgt_t, pm_cat_demo_t) are
 * reference counted, and only the thread holding the handle touches them.
 */
struct pm_store {
    pm_ctx_t *ctx;
    char *path;
    sqlite3 *db;
    int lock_fd;    /* writer lock, -1 for readers */
    int writable;
    int in_txn;
    /* generation */
    sqlite3_stmt *dv_q;    /* PRAGMA data_version, kept prepared */
    int64_t data_version;  /* as last read; -1 before the first read */
    int64_t total_changes; /* this connection's sqlite3_total_changes64 then */
    uint64_t gen;          /* bumped whenever either of the above moves */
    int pinned;            /* pm_store_pin: 1 = read data_version once more, 2 = read */
    /* caches: valid while their *_gen equals the current generation */
    struct pm_catgt *gt_cache; /* one reference held by the handle */
    uint64_t gt_gen;
    struct pm_cat_demo *demo_cache; /* likewise */
    uint64_t demo_gen;
    int64_t n_ind;
    uint64_t n_ind_gen;
    char **meta;        /* the meta table: key, value, key, value, ... */
    size_t n_meta;      /* pairs */
    uint64_t meta_gen;
    int64_t *withdrawn; /* idx of every withdrawn individual */
    size_t n_withdrawn;
    uint64_t withdrawn_gen;
    struct pm_catgt_segrow *segs; /* every genotype segment, by (contig, batch, first_pos, id) */
    size_t n_segs;
    uint64_t segs_gen;
    /* other modules' per-handle caches (pm_store_module_slot); freed with
     * the handle */
    void *slot[PM_SLOTS];
    void (*slot_free[PM_SLOTS])(void *cache);
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

/* A number that changes whenever the catalog may have changed since the
 * last call on this handle: a commit by another connection (any process,
 * seen through PRAGMA data_version) or a row written by this one
 * (sqlite3_total_changes64). Returns 0, meaning "do not cache", inside a
 * transaction (rows may still be rolled back) or when the check fails. */
uint64_t pm_catalog_generation(pm_store_t *st);

/* For the catalog module's own files only. */
sqlite3 *pm_catalog_db(pm_store_t *st);

/* The Beacon ledger's SQL half (cat_policy.c) on the audit database's
 * connection (cat_audit.c): its tables, created (and copied from a legacy
 * catalog) on open, and the queued writes, applied inside a commit. */
struct pm_catpol_ops;
struct pm_cataudit_db;
int pm_catpol_setup(pm_store_t *st, sqlite3 *db);
int pm_catpol_ops_apply(struct pm_catpol_ops *o, sqlite3 *db, void **taken, char *err,
                        size_t errcap);
/* After the commit that applied them: the writes taken by apply are freed
 * when it committed, else put back at the head of the queue for the next
 * commit (a rolled-back spend must not be lost). */
void pm_catpol_ops_settle(struct pm_catpol_ops *o, void *taken, int committed);
sqlite3 *pm_cataudit_sqlite(struct pm_cataudit_db *a);

/* Applies the schema migrations up to PM_STORE_SCHEMA_VERSION. */
int pm_catalog_migrate(pm_store_t *st);

#endif
