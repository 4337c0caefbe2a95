/*
 * cat_audit.c - the audit database STORE/audit/audit.db (see cat_audit.h)
 * and schema part pm_schema_audit_v1 of the catalog, which now carries only
 * the access tables of cat_access.h (one weak schema symbol for the whole
 * access module); stores made before the move also hold a legacy `audit`
 * table there, copied into audit.db on first open.
 *
 * The table has no UPDATE or DELETE path in the library: completion of a
 * request is a second entry. Triggers refuse UPDATE and DELETE as a
 * guard against accidents; they do not stop someone with the file (who
 * can drop them), which is what the hash chain and the head witness are
 * for.
 */
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/cat_access.h"
#include "catalog/cat_audit.h"
#include "catalog/catalog.h"
#include "core/fileio.h"

#define AUDIT_TABLE_SQL                                                                      \
    "CREATE TABLE IF NOT EXISTS audit("                                                      \
    "  id INTEGER PRIMARY KEY,"                                                              \
    "  kind TEXT NOT NULL,"                                                                  \
    "  at TEXT NOT NULL,"                                                                    \
    "  who TEXT NOT NULL,"                                                                   \
    "  tier TEXT NOT NULL,"                                                                  \
    "  project TEXT NOT NULL,"                                                               \
    "  command TEXT NOT NULL,"                                                               \
    "  query TEXT NOT NULL,"                                                                 \
    "  ref INTEGER NOT NULL,"                                                                \
    "  outcome TEXT NOT NULL,"                                                               \
    "  n_individuals INTEGER NOT NULL,"                                                      \
    "  result_size INTEGER NOT NULL,"                                                        \
    "  n_used INTEGER NOT NULL,"                                                             \
    "  used BLOB,"                                                                           \
    "  prev TEXT NOT NULL,"                                                                  \
    "  hash TEXT NOT NULL);"                                                                 \
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit "                  \
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"                      \
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit "                  \
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"

/* The audit table itself lives in audit.db since the log got its own file. */
const char pm_schema_audit_v1[] = PM_SCHEMA_ACCESS_SQL;

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

struct pm_cataudit_db {
    sqlite3 *db;
    sqlite3_stmt *last, *ins;
    char path[PATH_MAX];
    char store[PATH_MAX]; /* for messages */
};

static int dberr(pm_store_t *st, sqlite3 *db, const char *what)
{
    return pm_err(pm_store_ctx(st), PM_EIO, "audit log of '%s': %s: %s", pm_store_path(st),
                  what, db ? sqlite3_errmsg(db) : "out of memory");
}

static int open_db(pm_store_t *st, const char *path, int flags, sqlite3 **out)
{
    *out = NULL;
    if (sqlite3_open_v2(path, out, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        int rc = dberr(st, *out, "open");
        sqlite3_close(*out);
        *out = NULL;
        return rc;
    }
    sqlite3_busy_timeout(*out, 60000);
    return 0;
}

/* Copies the legacy catalog table, when there is one, into a new database
 * at tmp. */
static int migrate_into(pm_store_t *st, const char *tmp)
{
    sqlite3 *db = NULL, *cat = pm_catalog_db(st);
    sqlite3_stmt *sel = NULL, *ins = NULL;
    int rc = open_db(st, tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db);
    if (rc < 0)
        return rc;
    if (sqlite3_exec(db, "PRAGMA synchronous=FULL; BEGIN; " AUDIT_TABLE_SQL, NULL, NULL, NULL) !=
        SQLITE_OK) {
        rc = dberr(st, db, "create");
        goto out;
    }
    /* a legacy table exists when this prepares */
    if (sqlite3_prepare_v2(cat,
                           "SELECT id, kind, at, who, tier, project, command, query, ref, "
                           "outcome, n_individuals, result_size, n_used, used, prev, hash "
                           "FROM audit ORDER BY id",
                           -1, &sel, NULL) == SQLITE_OK) {
        if (sqlite3_prepare_v2(db,
                               "INSERT INTO audit(id, kind, at, who, tier, project, command, "
                               "query, ref, outcome, n_individuals, result_size, n_used, used, "
                               "prev, hash) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,"
                               "?14,?15,?16)",
                               -1, &ins, NULL) != SQLITE_OK) {
            rc = dberr(st, db, "copy the catalog's audit table");
            goto out;
        }
        int s;
        while ((s = sqlite3_step(sel)) == SQLITE_ROW) {
            for (int c = 0; c < 16; c++)
                sqlite3_bind_value(ins, c + 1, sqlite3_column_value(sel, c));
            if (sqlite3_step(ins) != SQLITE_DONE) {
                rc = dberr(st, db, "copy the catalog's audit table");
                goto out;
            }
            sqlite3_reset(ins);
        }
        if (s != SQLITE_DONE) {
            rc = dberr(st, cat, "read the catalog's audit table");
            goto out;
        }
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = dberr(st, db, "commit");
out:
    sqlite3_finalize(sel);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    return rc;
}

/* Creates STORE/audit/audit.db when it does not exist yet: built under a
 * temporary name, then hard-linked into place, which fails harmlessly when
 * another process got there first. */
static int ensure_db(pm_store_t *st, const char *path)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    if (access(path, F_OK) == 0)
        return 0;
    char dir[PATH_MAX], tmp[PATH_MAX + 32];
    int rc = pm_path(ctx, dir, sizeof dir, "%s/audit", pm_store_path(st));
    if (rc < 0 || (rc = pm_mkdir_p(ctx, dir)) < 0)
        return rc;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    unlink(tmp);
    if ((rc = migrate_into(st, tmp)) == 0) {
        if (link(tmp, path) != 0 && errno != EEXIST)
            rc = pm_err(ctx, PM_EIO, "cannot create '%s': %s", path, strerror(errno));
        else
            rc = pm_fsync_dir(ctx, dir);
    }
    unlink(tmp);
    return rc;
}

int pm_cataudit_open(pm_store_t *st, pm_cataudit_db_t **out)
{
    *out = NULL;
    pm_cataudit_db_t *a = calloc(1, sizeof *a);
    if (!a)
        return pm_err(pm_store_ctx(st), PM_ENOMEM, "out of memory");
    int rc = pm_path(pm_store_ctx(st), a->path, sizeof a->path, "%s/%s", pm_store_path(st),
                     PM_AUDIT_DB);
    snprintf(a->store, sizeof a->store, "%s", pm_store_path(st));
    if (rc == 0)
        rc = ensure_db(st, a->path);
    if (rc == 0)
        rc = open_db(st, a->path, SQLITE_OPEN_READWRITE, &a->db);
    if (rc == 0 && (sqlite3_exec(a->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL",
                                 NULL, NULL, NULL) != SQLITE_OK ||
                    sqlite3_prepare_v2(a->db, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
                                       -1, &a->last, NULL) != SQLITE_OK ||
                    sqlite3_prepare_v2(a->db,
                                       "INSERT INTO audit(id, kind, at, who, tier, project, "
                                       "command, query, ref, outcome, n_individuals, "
                                       "result_size, n_used, prev, hash, used) "
                                       "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,"
                                       "?15,?16)",
                                       -1, &a->ins, NULL) != SQLITE_OK))
        rc = dberr(st, a->db, "set up");
    if (rc == 0)
        rc = pm_catpol_setup(st, a->db);
    if (rc < 0) {
        pm_cataudit_close(a);
        return rc;
    }
    *out = a;
    return 0;
}

void pm_cataudit_close(pm_cataudit_db_t *a)
{
    if (!a)
        return;
    sqlite3_finalize(a->last);
    sqlite3_finalize(a->ins);
    sqlite3_close(a->db);
    free(a);
}

static int commit_err(pm_cataudit_db_t *a, const char *what, char *err, size_t cap)
{
    snprintf(err, cap, "audit log of '%s': %s: %s", a->store, what, sqlite3_errmsg(a->db));
    return PM_EIO;
}

int pm_cataudit_commit(pm_cataudit_db_t *a, pm_cataudit_rec_t **recs, size_t n,
                       void (*seal)(pm_cataudit_rec_t *rec), struct pm_catpol_ops *ledger,
                       char *err, size_t errcap)
{
    if (sqlite3_exec(a->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return commit_err(a, "begin", err, errcap);
    int rc = 0;
    int64_t id = 0;
    char prev[65];
    int s = sqlite3_step(a->last);
    if (s == SQLITE_ROW) {
        id = sqlite3_column_int64(a->last, 0);
        snprintf(prev, sizeof prev, "%s", txt(a->last, 1));
    } else if (s == SQLITE_DONE) {
        memset(prev, '0', 64);
        prev[64] = '\0';
    } else {
        rc = commit_err(a, "read the last entry", err, errcap);
    }
    sqlite3_reset(a->last);
    sqlite3_stmt *q = a->ins;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        pm_cataudit_rec_t *rec = recs[i];
        rec->id = ++id;
        memcpy(rec->prev, prev, sizeof prev);
        if (rec->ref_rec)
            rec->ref = rec->ref_rec->id;
        seal(rec);
        memcpy(prev, rec->hash, sizeof prev);
        sqlite3_bind_int64(q, 1, rec->id);
        const char *t[] = {rec->kind, rec->at, rec->who, rec->tier, rec->project, rec->command,
                           rec->query};
        for (int k = 0; k < 7; k++)
            sqlite3_bind_text(q, 2 + k, t[k] ? t[k] : "", -1, SQLITE_STATIC);
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
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = commit_err(a, "append", err, errcap);
        sqlite3_reset(q);
        sqlite3_clear_bindings(q);
    }
    void *taken = NULL;
    if (rc == 0 && ledger)
        rc = pm_catpol_ops_apply(ledger, a->db, &taken, err, errcap);
    if (rc == 0 && sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = commit_err(a, "commit", err, errcap);
    if (rc < 0)
        sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
    if (ledger)
        pm_catpol_ops_settle(ledger, taken, rc == 0);
    return rc;
}

sqlite3 *pm_cataudit_sqlite(pm_cataudit_db_t *a) { return a->db; }

static int iter(pm_store_t *st, const char *sql, int64_t arg, int with_used,
                int (*fn)(void *ud, const pm_cataudit_rec_t *r), void *ud, int *nrows)
{
    pm_cataudit_db_t *a;
    int rc = pm_cataudit_open(st, &a);
    if (rc < 0)
        return rc;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(a->db, sql, -1, &q, NULL) != SQLITE_OK) {
        rc = dberr(st, a->db, "read");
        pm_cataudit_close(a);
        return rc;
    }
    sqlite3_bind_int64(q, 1, arg);
    int n = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        pm_cataudit_rec_t r;
        rec_row(q, &r, with_used);
        n++;
        if ((rc = fn(ud, &r)) < 0)
            break;
    }
    rc = rc == SQLITE_DONE ? 0 : rc < 0 ? rc : dberr(st, a->db, "read");
    sqlite3_finalize(q);
    pm_cataudit_close(a);
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
    *n = *last_id = 0;
    pm_cataudit_db_t *a;
    int rc = pm_cataudit_open(st, &a);
    if (rc < 0)
        return rc;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(a->db, "SELECT count(*), coalesce(max(id), 0) FROM audit", -1, &q,
                           NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        rc = dberr(st, a->db, "count entries");
    } else {
        *n = sqlite3_column_int64(q, 0);
        *last_id = sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    pm_cataudit_close(a);
    return rc;
}
