/*
 * cat_ui.c - the browser UI's catalog table (see cat_ui.h) and schema part
 * pm_schema_ui_v1.
 */
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "catalog/cat_ui.h"
#include "catalog/catalog.h"

const char pm_schema_ui_v1[] =
    "CREATE TABLE ui_cohort("
    "  id INTEGER PRIMARY KEY,"
    "  project TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  expression TEXT NOT NULL,"
    "  who TEXT NOT NULL,"
    "  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
    "  UNIQUE(project, name));";

static const char *txt(sqlite3_stmt *q, int col)
{
    const unsigned char *s = sqlite3_column_text(q, col);
    return s ? (const char *)s : "";
}

static int dberr(pm_store_t *st, sqlite3 *db, const char *what)
{
    return pm_err(st->ctx, PM_EIO, "saved cohorts of '%s': %s: %s", st->path, what,
                  sqlite3_errmsg(db));
}

int pm_catui_cohort_save(pm_store_t *st, const char *project, const char *name,
                         const char *expression, const char *who)
{
    sqlite3 *db = st->db;
    int own = 0;
    if (st->in_txn)
        return pm_err(st->ctx, PM_EINTERNAL, "cohorts cannot be saved inside a transaction");
    if (!st->writable) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", st->path, PM_STORE_CATALOG) >= (int)sizeof path)
            return pm_err(st->ctx, PM_ELIMIT, "store path too long");
        db = NULL;
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK) {
            int rc = pm_err(st->ctx, PM_EIO, "cannot open the catalog of '%s' for writing: %s",
                            st->path, db ? sqlite3_errmsg(db) : "out of memory");
            sqlite3_close(db);
            return rc;
        }
        own = 1;
        sqlite3_busy_timeout(db, 60000);
    }
    sqlite3_stmt *q = NULL;
    int rc = 0;
    if (sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO ui_cohort(project, name, expression, who) "
                           "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(project, name) DO UPDATE SET "
                           "expression = excluded.expression, who = excluded.who, "
                           "at = strftime('%Y-%m-%dT%H:%M:%SZ','now')",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = dberr(st, db, "prepare");
    } else {
        sqlite3_bind_text(q, 1, project, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, expression, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 4, who, -1, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = dberr(st, db, "save");
    }
    sqlite3_finalize(q);
    if (own)
        sqlite3_close(db);
    return rc;
}

int pm_catui_cohort_each(pm_store_t *st, const char *project,
                         int (*fn)(void *ud, const pm_catui_cohort_t *c), void *ud)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT id, project, name, expression, who, at FROM ui_cohort "
                           "WHERE ?1 IS NULL OR project = ?1 ORDER BY project, name",
                           -1, &q, NULL) != SQLITE_OK) {
        if (strstr(sqlite3_errmsg(st->db), "no such table"))
            return 0; /* a store made before the table: nothing saved */
        return pm_catalog_sqlerr(st, "list saved cohorts");
    }
    sqlite3_bind_text(q, 1, project, -1, SQLITE_STATIC);
    int rc = 0, s;
    while (rc >= 0 && (s = sqlite3_step(q)) == SQLITE_ROW) {
        pm_catui_cohort_t c = {sqlite3_column_int64(q, 0), txt(q, 1), txt(q, 2),
                               txt(q, 3), txt(q, 4), txt(q, 5)};
        rc = fn(ud, &c);
    }
    if (rc >= 0 && s != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "list saved cohorts");
    sqlite3_finalize(q);
    return rc;
}

int pm_catui_grant_each(pm_store_t *st,
                        int (*fn)(void *ud, const char *user, const char *project,
                                  const char *created),
                        void *ud)
{
    sqlite3_stmt *q;
    int rc = pm_catalog_prepare(st,
                                "SELECT u.name, p.name, g.created FROM access_grant g "
                                "JOIN app_user u ON u.id = g.user "
                                "JOIN project p ON p.id = g.project ORDER BY u.name, p.name",
                                &q, "list grants");
    if (rc < 0)
        return rc;
    int s;
    while (rc >= 0 && (s = sqlite3_step(q)) == SQLITE_ROW)
        rc = fn(ud, txt(q, 0), txt(q, 1), txt(q, 2));
    if (rc >= 0 && s != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "list grants");
    sqlite3_finalize(q);
    return rc;
}
