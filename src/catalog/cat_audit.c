/*
 * cat_audit.c - the audit table (see cat_audit.h) and schema part
 * pm_schema_audit_v1, which also carries the access tables of
 * cat_access.h (one weak schema symbol for the whole access module).
 *
 * The table has no UPDATE or DELETE path in the library: completion of a
 * request is a second entry. Triggers refuse UPDATE and DELETE as a
 * guard against accidents; they do not stop someone with the file (who
 * can drop them), which is what the hash chain and the head witness are
 * for.
 */
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "catalog/cat_access.h"
#include "catalog/cat_audit.h"
#include "catalog/catalog.h"

const char pm_schema_audit_v1[] =
    PM_SCHEMA_ACCESS_SQL
    "CREATE TABLE audit("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  at TEXT NOT NULL,"
    "  who TEXT NOT NULL,"
    "  tier TEXT NOT NULL,"
    "  project TEXT NOT NULL,"
    "  command TEXT NOT NULL,"
    "  query TEXT NOT NULL,"
    "  ref INTEGER NOT NULL,"
    "  outcome TEXT NOT NULL,"
    "  n_individuals INTEGER NOT NULL,"
    "  result_size INTEGER NOT NULL,"
    "  n_used INTEGER NOT NULL,"
    "  used BLOB,"
    "  prev TEXT NOT NULL,"
    "  hash TEXT NOT NULL);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;";

#define AUDIT_COLS                                                                           \
    "id, kind, at, who, tier, project, command, query, ref, outcome, n_individuals, "       \
    "result_size, n_used, prev, hash"

static const char *txt(sqlite3_stmt *q, int i)
{
    const char *s = (const char *)sqlite3_column_text(q, i);
    return s ? s : "";
}

static void rec_row(sqlite3_stmt *q, pm_cataudit_rec_t *r, int with_used)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(q, 0);
    r->kind = txt(q, 1);
    r->at = txt(q, 2);
    r->who = txt(q, 3);
    r->tier = txt(q, 4);
    r->project = txt(q, 5);
    r->command = txt(q, 6);
    r->query = txt(q, 7);
    r->ref = sqlite3_column_int64(q, 8);
    r->outcome = txt(q, 9);
    r->n_individuals = sqlite3_column_int64(q, 10);
    r->result_size = sqlite3_column_int64(q, 11);
    r->n_used = sqlite3_column_int64(q, 12);
    snprintf(r->prev, sizeof r->prev, "%s", txt(q, 13));
    snprintf(r->hash, sizeof r->hash, "%s", txt(q, 14));
    if (with_used) {
        r->used = sqlite3_column_blob(q, 15);
        r->used_len = (size_t)sqlite3_column_bytes(q, 15);
    }
}

static int dberr(pm_store_t *st, sqlite3 *db, const char *what)
{
    return pm_err(pm_store_ctx(st), PM_EIO, "audit log of '%s': %s: %s", pm_store_path(st),
                  what, sqlite3_errmsg(db));
}

int pm_cataudit_append(pm_store_t *st, pm_cataudit_rec_t *rec,
                       void (*seal)(pm_cataudit_rec_t *rec))
{
    sqlite3 *db = NULL;
    int own = 0;
    if (st->writable) {
        if (st->in_txn)
            return pm_err(st->ctx, PM_EINTERNAL,
                          "the audit log cannot be written inside another transaction");
        db = st->db;
    } else {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", st->path, PM_STORE_CATALOG) >= (int)sizeof path)
            return pm_err(st->ctx, PM_ELIMIT, "store path too long");
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK) {
            int rc = pm_err(st->ctx, PM_EIO, "cannot open the audit log of '%s': %s", st->path,
                            db ? sqlite3_errmsg(db) : "out of memory");
            sqlite3_close(db);
            return rc;
        }
        own = 1;
        sqlite3_busy_timeout(db, 60000);
        if (sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK) {
            int rc = dberr(st, db, "set up");
            sqlite3_close(db);
            return rc;
        }
    }
    int rc = 0;
    sqlite3_stmt *q = NULL;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = dberr(st, db, "begin");
        goto out_close;
    }
    if (sqlite3_prepare_v2(db, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", -1, &q,
                           NULL) != SQLITE_OK) {
        rc = dberr(st, db, "read the last entry");
        goto out_rollback;
    }
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW) {
        rec->id = sqlite3_column_int64(q, 0) + 1;
        snprintf(rec->prev, sizeof rec->prev, "%s", txt(q, 1));
    } else if (s == SQLITE_DONE) {
        rec->id = 1;
        memset(rec->prev, '0', 64);
        rec->prev[64] = '\0';
    } else {
        rc = dberr(st, db, "read the last entry");
        goto out_rollback;
    }
    sqlite3_finalize(q);
    q = NULL;
    seal(rec);
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO audit(id, kind, at, who, tier, project, command, query, "
                           "ref, outcome, n_individuals, result_size, n_used, prev, hash, used) "
                           "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = dberr(st, db, "append");
        goto out_rollback;
    }
    sqlite3_bind_int64(q, 1, rec->id);
    const char *t[] = {rec->kind, rec->at, rec->who, rec->tier, rec->project, rec->command,
                       rec->query};
    for (int i = 0; i < 7; i++)
        sqlite3_bind_text(q, 2 + i, t[i] ? t[i] : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 9, rec->ref);
    sqlite3_bind_text(q, 10, rec->outcome ? rec->outcome : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 11, rec->n_individuals);
    sqlite3_bind_int64(q, 12, rec->result_size);
    sqlite3_bind_int64(q, 13, rec->n_used);
    sqlite3_bind_text(q, 14, rec->prev, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 15, rec->hash, -1, SQLITE_STATIC);
    if (rec->used && rec->used_len)
        sqlite3_bind_blob(q, 16, rec->used, (int)rec->used_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 16);
    if (sqlite3_step(q) != SQLITE_DONE) {
        rc = dberr(st, db, "append");
        goto out_rollback;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = dberr(st, db, "commit");
        goto out_rollback;
    }
    goto out_close;

out_rollback:
    sqlite3_finalize(q);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out_close:
    if (own)
        sqlite3_close(db);
    return rc;
}

static int iter(pm_store_t *st, const char *sql, int64_t arg, int with_used,
                int (*fn)(void *ud, const pm_cataudit_rec_t *r), void *ud, int *nrows)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(st, "read the audit log");
    sqlite3_bind_int64(q, 1, arg);
    int rc;
    int n = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        pm_cataudit_rec_t r;
        rec_row(q, &r, with_used);
        n++;
        if ((rc = fn(ud, &r)) < 0)
            break;
    }
    rc = rc == SQLITE_DONE ? 0 : rc < 0 ? rc : pm_catalog_sqlerr(st, "read the audit log");
    sqlite3_finalize(q);
    if (nrows)
        *nrows = n;
    return rc;
}

int pm_cataudit_each(pm_store_t *st, int64_t after, int with_used,
                     int (*fn)(void *ud, const pm_cataudit_rec_t *r), void *ud)
{
    return iter(st,
                with_used ? "SELECT " AUDIT_COLS ", used FROM audit WHERE id > ?1 ORDER BY id"
                          : "SELECT " AUDIT_COLS " FROM audit WHERE id > ?1 ORDER BY id",
                after, with_used, fn, ud, NULL);
}

int pm_cataudit_each_with_used(pm_store_t *st, int (*fn)(void *ud, const pm_cataudit_rec_t *r),
                               void *ud)
{
    return iter(st,
                "SELECT " AUDIT_COLS ", used FROM audit WHERE used IS NOT NULL AND id > ?1 "
                "ORDER BY id",
                0, 1, fn, ud, NULL);
}

int pm_cataudit_get(pm_store_t *st, int64_t id, int (*fn)(void *ud, const pm_cataudit_rec_t *r),
                    void *ud)
{
    int n = 0;
    int rc = iter(st, "SELECT " AUDIT_COLS " FROM audit WHERE id = ?1", id, 0, fn, ud, &n);
    return rc < 0 ? rc : n > 0;
}

int pm_cataudit_count(pm_store_t *st, int64_t *n, int64_t *last_id)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "SELECT count(*), coalesce(max(id), 0) FROM audit", -1, &q,
                           NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(st, "count audit entries");
    int rc = 0;
    if (sqlite3_step(q) == SQLITE_ROW) {
        *n = sqlite3_column_int64(q, 0);
        *last_id = sqlite3_column_int64(q, 1);
    } else {
        rc = pm_catalog_sqlerr(st, "count audit entries");
    }
    sqlite3_finalize(q);
    return rc;
}
