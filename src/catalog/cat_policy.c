/* cat_policy.c - Beacon budgets and cached answers (see cat_policy.h). */
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "catalog/cat_policy.h"
#include "catalog/catalog.h"

const char pm_schema_policy_v1[] =
    "CREATE TABLE beacon_budget("
    "  user TEXT NOT NULL,"
    "  idx INTEGER NOT NULL,"
    "  spent INTEGER NOT NULL,"
    "  PRIMARY KEY(user, idx)) WITHOUT ROWID;"
    "CREATE INDEX beacon_budget_idx ON beacon_budget(idx);"
    "CREATE TABLE beacon_answer("
    "  user TEXT NOT NULL,"
    "  query TEXT NOT NULL,"
    "  answer INTEGER NOT NULL,"
    "  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
    "  PRIMARY KEY(user, query)) WITHOUT ROWID;";

struct pm_catpol {
    pm_store_t *st;
    sqlite3 *db;
    int own;
};

static int dberr(pm_store_t *st, sqlite3 *db, const char *what)
{
    return pm_err(st->ctx, PM_EIO, "beacon budget of '%s': %s: %s", st->path, what,
                  sqlite3_errmsg(db));
}

/* A writable connection: the store's, or a private one (*own = 1). */
static int writer(pm_store_t *st, sqlite3 **db, int *own)
{
    *db = NULL;
    *own = 0;
    if (st->writable) {
        if (st->in_txn)
            return pm_err(st->ctx, PM_EINTERNAL,
                          "Beacon budgets cannot be spent inside another transaction");
        *db = st->db;
        return 0;
    }
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", st->path, PM_STORE_CATALOG) >= (int)sizeof path)
        return pm_err(st->ctx, PM_ELIMIT, "store path too long");
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        int rc = pm_err(st->ctx, PM_EIO, "cannot open the catalog of '%s' for writing: %s",
                        st->path, *db ? sqlite3_errmsg(*db) : "out of memory");
        sqlite3_close(*db);
        *db = NULL;
        return rc;
    }
    *own = 1;
    sqlite3_busy_timeout(*db, 60000);
    if (sqlite3_exec(*db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK) {
        int rc = dberr(st, *db, "set up");
        sqlite3_close(*db);
        *db = NULL;
        return rc;
    }
    return 0;
}

int pm_catpol_begin(pm_store_t *st, pm_catpol_t **out)
{
    *out = NULL;
    pm_catpol_t *s = calloc(1, sizeof *s);
    if (!s)
        return pm_err(st->ctx, PM_ENOMEM, "out of memory");
    s->st = st;
    int rc = writer(st, &s->db, &s->own);
    if (rc == 0 && sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        rc = dberr(st, s->db, "begin");
    if (rc < 0) {
        if (s->own)
            sqlite3_close(s->db);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int pm_catpol_end(pm_catpol_t *s, int commit)
{
    if (!s)
        return 0;
    int rc = 0;
    if (commit && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = dberr(s->st, s->db, "commit");
        commit = 0;
    }
    if (!commit)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    if (s->own)
        sqlite3_close(s->db);
    free(s);
    return rc;
}

int pm_catpol_cached(pm_catpol_t *s, const char *user, const char *query, int *answer)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT answer FROM beacon_answer WHERE user=?1 AND query=?2",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s->st, s->db, "read cached answer");
    sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, query, -1, SQLITE_STATIC);
    int r = sqlite3_step(q), rc;
    if (r == SQLITE_ROW) {
        *answer = sqlite3_column_int(q, 0);
        rc = 1;
    } else
        rc = r == SQLITE_DONE ? 0 : dberr(s->st, s->db, "read cached answer");
    sqlite3_finalize(q);
    return rc;
}

int pm_catpol_remember(pm_catpol_t *s, const char *user, const char *query, int answer)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR IGNORE INTO beacon_answer(user, query, answer) "
                           "VALUES(?1,?2,?3)",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s->st, s->db, "cache answer");
    sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, query, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, answer);
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : dberr(s->st, s->db, "cache answer");
    sqlite3_finalize(q);
    return rc;
}

int pm_catpol_exhausted(pm_catpol_t *s, const char *user, int64_t budget, pm_bitset_t *out)
{
    pm_bitset_zero(out);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT idx FROM beacon_budget WHERE user=?1 AND spent>=?2",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s->st, s->db, "read budgets");
    sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, budget);
    int r;
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t i = sqlite3_column_int64(q, 0);
        if (i >= 0 && (uint64_t)i < out->n)
            pm_bitset_set(out, (size_t)i);
    }
    int rc = r == SQLITE_DONE ? 0 : dberr(s->st, s->db, "read budgets");
    sqlite3_finalize(q);
    return rc;
}

int pm_catpol_spend(pm_catpol_t *s, const char *user, const pm_bitset_t *who)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO beacon_budget(user, idx, spent) VALUES(?1,?2,1) "
                           "ON CONFLICT(user, idx) DO UPDATE SET spent = spent + 1",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s->st, s->db, "spend budget");
    sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
    int rc = 0;
    for (size_t i = pm_bitset_next(who, 0); i != (size_t)-1 && rc == 0;
         i = pm_bitset_next(who, i + 1)) {
        sqlite3_bind_int64(q, 2, (int64_t)i);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = dberr(s->st, s->db, "spend budget");
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    return rc;
}

static int read_secret(pm_catpol_t *s, uint8_t key[32])
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key='beacon_secret'", -1, &q,
                           NULL) != SQLITE_OK)
        return dberr(s->st, s->db, "read the Beacon secret");
    int r = sqlite3_step(q), rc = 0;
    if (r == SQLITE_ROW) {
        const char *hex = (const char *)sqlite3_column_text(q, 0);
        rc = 1;
        for (int i = 0; i < 32 && rc == 1; i++) {
            unsigned b;
            if (!hex || sscanf(hex + 2 * i, "%2x", &b) != 1)
                rc = pm_err(s->st->ctx, PM_ECORRUPT, "'%s': the Beacon secret is malformed",
                            s->st->path);
            else
                key[i] = (uint8_t)b;
        }
        if (rc == 1 && strlen(hex) != 64)
            rc = pm_err(s->st->ctx, PM_ECORRUPT, "'%s': the Beacon secret is malformed",
                        s->st->path);
    } else if (r != SQLITE_DONE)
        rc = dberr(s->st, s->db, "read the Beacon secret");
    sqlite3_finalize(q);
    return rc;
}

int pm_catpol_secret(pm_catpol_t *s, uint8_t key[32])
{
    int rc = read_secret(s, key);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    uint8_t fresh[32];
    size_t got = 0;
    while (got < sizeof fresh) {
        ssize_t n = getrandom(fresh + got, sizeof fresh - got, 0);
        if (n <= 0)
            return pm_err(s->st->ctx, PM_EIO, "no random bytes for the Beacon secret");
        got += (size_t)n;
    }
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", fresh[i]);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR IGNORE INTO meta(key, value) VALUES('beacon_secret', ?1)",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s->st, s->db, "store the Beacon secret");
    sqlite3_bind_text(q, 1, hex, -1, SQLITE_STATIC);
    rc = sqlite3_step(q) == SQLITE_DONE ? 0 : dberr(s->st, s->db, "store the Beacon secret");
    sqlite3_finalize(q);
    if (rc == 0)
        rc = read_secret(s, key); /* inside the write transaction: ours */
    return rc < 0 ? rc : rc == 1 ? 0 : pm_err(s->st->ctx, PM_EINTERNAL, "Beacon secret lost");
}

int64_t pm_catpol_spent(pm_store_t *st, const char *user, int64_t idx)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "SELECT spent FROM beacon_budget WHERE user=?1 AND idx=?2",
                           -1, &q, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(st, "read budget");
    sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, idx);
    int r = sqlite3_step(q);
    int64_t v = r == SQLITE_ROW ? sqlite3_column_int64(q, 0)
                : r == SQLITE_DONE ? 0
                                   : pm_catalog_sqlerr(st, "read budget");
    sqlite3_finalize(q);
    return v;
}

int64_t pm_catpol_forget(pm_store_t *st, int64_t idx)
{
    pm_catpol_t *s;
    int rc = pm_catpol_begin(st, &s);
    if (rc < 0)
        return rc;
    sqlite3_stmt *q;
    int64_t dropped = 0;
    if (sqlite3_prepare_v2(s->db,
                           "DELETE FROM beacon_answer WHERE answer != 0 AND user IN "
                           "(SELECT user FROM beacon_budget WHERE idx=?1 AND spent > 0)",
                           -1, &q, NULL) != SQLITE_OK)
        rc = dberr(st, s->db, "forget");
    else {
        sqlite3_bind_int64(q, 1, idx);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = dberr(st, s->db, "forget");
        dropped = sqlite3_changes(s->db);
        sqlite3_finalize(q);
    }
    if (rc == 0 && sqlite3_prepare_v2(s->db, "DELETE FROM beacon_budget WHERE idx=?1", -1, &q,
                                      NULL) != SQLITE_OK)
        rc = dberr(st, s->db, "forget");
    else if (rc == 0) {
        sqlite3_bind_int64(q, 1, idx);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = dberr(st, s->db, "forget");
        sqlite3_finalize(q);
    }
    int erc = pm_catpol_end(s, rc == 0);
    return rc < 0 ? rc : erc < 0 ? erc : dropped;
}
