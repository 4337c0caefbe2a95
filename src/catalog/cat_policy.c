/* cat_policy.c - the stored Beacon ledger in audit.db (see cat_policy.h). */
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "catalog/cat_audit.h"
#include "catalog/cat_policy.h"
#include "catalog/catalog.h"

/* The catalog no longer holds the ledger (stores made before the move keep
 * their old tables, copied into audit.db once by pm_catpol_setup). */
const char pm_schema_policy_v1[] = "";

#define LEDGER_SQL                                                                           \
    "CREATE TABLE IF NOT EXISTS beacon_budget("                                              \
    "  user TEXT NOT NULL,"                                                                  \
    "  idx INTEGER NOT NULL,"                                                                \
    "  spent INTEGER NOT NULL,"                                                              \
    "  PRIMARY KEY(user, idx)) WITHOUT ROWID;"                                               \
    "CREATE INDEX IF NOT EXISTS beacon_budget_idx ON beacon_budget(idx);"                    \
    "CREATE TABLE IF NOT EXISTS beacon_answer("                                              \
    "  user TEXT NOT NULL,"                                                                  \
    "  query TEXT NOT NULL,"                                                                 \
    "  answer INTEGER NOT NULL,"                                                             \
    "  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"                    \
    "  PRIMARY KEY(user, query)) WITHOUT ROWID;"

static int has_table(sqlite3 *db, const char *name)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1", -1,
                           &q, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int r = sqlite3_step(q);
    sqlite3_finalize(q);
    return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

/* Copies rows of a legacy catalog table (sel on the catalog) into db. */
static int copy_rows(sqlite3 *cat, sqlite3 *db, const char *sel_sql, const char *ins_sql,
                     int ncol)
{
    sqlite3_stmt *sel = NULL, *ins = NULL;
    if (sqlite3_prepare_v2(cat, sel_sql, -1, &sel, NULL) != SQLITE_OK)
        return 0; /* no legacy table */
    int rc = 0, s;
    if (sqlite3_prepare_v2(db, ins_sql, -1, &ins, NULL) != SQLITE_OK)
        rc = -1;
    while (rc == 0 && (s = sqlite3_step(sel)) == SQLITE_ROW) {
        for (int c = 0; c < ncol; c++)
            sqlite3_bind_value(ins, c + 1, sqlite3_column_value(sel, c));
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = -1;
        sqlite3_reset(ins);
    }
    if (rc == 0 && s != SQLITE_DONE)
        rc = -1;
    sqlite3_finalize(sel);
    sqlite3_finalize(ins);
    return rc;
}

int pm_catpol_setup(pm_store_t *st, sqlite3 *db)
{
    int have = has_table(db, "beacon_answer");
    if (have == 1)
        return 0;
    if (have < 0 || sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    if ((have = has_table(db, "beacon_answer")) == 0) { /* nobody made them meanwhile */
        sqlite3 *cat = pm_catalog_db(st);
        if (sqlite3_exec(db, LEDGER_SQL, NULL, NULL, NULL) != SQLITE_OK ||
            copy_rows(cat, db, "SELECT user, idx, spent FROM beacon_budget",
                      "INSERT INTO beacon_budget(user, idx, spent) VALUES(?1,?2,?3)", 3) < 0 ||
            copy_rows(cat, db, "SELECT user, query, answer, at FROM beacon_answer",
                      "INSERT INTO beacon_answer(user, query, answer, at) VALUES(?1,?2,?3,?4)",
                      4) < 0)
            have = -1;
    }
    if (have < 0 || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        goto fail;
    }
    return 0;
fail:
    return pm_err(pm_store_ctx(st), PM_EIO, "Beacon ledger of '%s': set up: %s",
                  pm_store_path(st), sqlite3_errmsg(db));
}

/* ---- the queue of pending writes ---- */

typedef struct op {
    struct op *next;
    char *user, *query; /* one allocation: user, then query (or NULL) */
    int answer;
    size_t n;
    int64_t *idx, *spent; /* one allocation: idx[n], spent[n] */
} op_t;

struct pm_catpol_ops {
    pthread_mutex_t mu;
    op_t *head, *tail;
};

pm_catpol_ops_t *pm_catpol_ops_new(void)
{
    pm_catpol_ops_t *o = calloc(1, sizeof *o);
    if (o)
        pthread_mutex_init(&o->mu, NULL);
    return o;
}

static void op_free(op_t *p)
{
    if (p) {
        free(p->user);
        free(p->idx);
        free(p);
    }
}

static void list_free(op_t *p)
{
    while (p) {
        op_t *next = p->next;
        op_free(p);
        p = next;
    }
}

void pm_catpol_ops_free(pm_catpol_ops_t *o)
{
    if (!o)
        return;
    list_free(o->head);
    pthread_mutex_destroy(&o->mu);
    free(o);
}

int pm_catpol_ops_add(pm_catpol_ops_t *o, const char *user, const char *query, int answer,
                      const int64_t *idx, const int64_t *spent, size_t n)
{
    size_t ul = strlen(user) + 1, ql = query ? strlen(query) + 1 : 0;
    op_t *p = calloc(1, sizeof *p);
    if (!p || !(p->user = malloc(ul + ql)) ||
        (n && !(p->idx = malloc(2 * n * sizeof *p->idx)))) {
        op_free(p);
        return PM_ENOMEM;
    }
    memcpy(p->user, user, ul);
    if (query) {
        p->query = p->user + ul;
        memcpy(p->query, query, ql);
    }
    p->answer = answer;
    p->n = n;
    if (n) {
        p->spent = p->idx + n;
        memcpy(p->idx, idx, n * sizeof *idx);
        memcpy(p->spent, spent, n * sizeof *spent);
    }
    pthread_mutex_lock(&o->mu);
    if (o->tail)
        o->tail->next = p;
    else
        o->head = p;
    o->tail = p;
    pthread_mutex_unlock(&o->mu);
    return 0;
}

int pm_catpol_ops_apply(pm_catpol_ops_t *o, sqlite3 *db, void **taken, char *err,
                        size_t errcap)
{
    pthread_mutex_lock(&o->mu);
    op_t *list = o->head;
    o->head = o->tail = NULL;
    pthread_mutex_unlock(&o->mu);
    *taken = list; /* kept until the transaction's outcome is known */
    if (!list)
        return 0;
    sqlite3_stmt *ans = NULL, *bud = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(db,
                           "INSERT OR IGNORE INTO beacon_answer(user, query, answer) "
                           "VALUES(?1,?2,?3)",
                           -1, &ans, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO beacon_budget(user, idx, spent) VALUES(?1,?2,?3) "
                           "ON CONFLICT(user, idx) DO UPDATE SET spent = max(spent, ?3)",
                           -1, &bud, NULL) != SQLITE_OK)
        rc = PM_EIO;
    for (op_t *p = list; rc == 0 && p; p = p->next) {
        if (p->query) {
            sqlite3_bind_text(ans, 1, p->user, -1, SQLITE_STATIC);
            sqlite3_bind_text(ans, 2, p->query, -1, SQLITE_STATIC);
            sqlite3_bind_int(ans, 3, p->answer);
            if (sqlite3_step(ans) != SQLITE_DONE)
                rc = PM_EIO;
            sqlite3_reset(ans);
        }
        sqlite3_bind_text(bud, 1, p->user, -1, SQLITE_STATIC);
        for (size_t i = 0; rc == 0 && i < p->n; i++) {
            sqlite3_bind_int64(bud, 2, p->idx[i]);
            sqlite3_bind_int64(bud, 3, p->spent[i]);
            if (sqlite3_step(bud) != SQLITE_DONE)
                rc = PM_EIO;
            sqlite3_reset(bud);
        }
    }
    if (rc < 0)
        snprintf(err, errcap, "Beacon ledger: %s", sqlite3_errmsg(db));
    sqlite3_finalize(ans);
    sqlite3_finalize(bud);
    return rc;
}

void pm_catpol_ops_settle(pm_catpol_ops_t *o, void *taken, int committed)
{
    op_t *list = taken;
    if (!list)
        return;
    if (committed) {
        list_free(list);
        return;
    }
    op_t *last = list;
    while (last->next)
        last = last->next;
    pthread_mutex_lock(&o->mu);
    last->next = o->head;
    o->head = list;
    if (!o->tail)
        o->tail = last;
    pthread_mutex_unlock(&o->mu);
}

int pm_catpol_ops_flush(pm_store_t *st, pm_catpol_ops_t *o)
{
    pthread_mutex_lock(&o->mu);
    int empty = o->head == NULL;
    pthread_mutex_unlock(&o->mu);
    if (empty)
        return 0;
    pm_cataudit_db_t *a;
    int rc = pm_cataudit_open(st, &a);
    if (rc < 0)
        return rc;
    char err[512] = "";
    rc = pm_cataudit_commit(a, NULL, 0, NULL, o, err, sizeof err);
    pm_cataudit_close(a);
    return rc < 0 ? pm_err(pm_store_ctx(st), rc, "'%s': %s", pm_store_path(st), err) : 0;
}

/* ---- reading ---- */

static int dberr(pm_store_t *st, sqlite3 *db, const char *what)
{
    return pm_err(pm_store_ctx(st), PM_EIO, "Beacon ledger of '%s': %s: %s", pm_store_path(st),
                  what, sqlite3_errmsg(db));
}

int pm_catpol_load(pm_store_t *st,
                   int (*on_answer)(void *ud, const char *user, const char *query, int answer),
                   int (*on_spent)(void *ud, const char *user, int64_t idx, int64_t spent),
                   void *ud)
{
    pm_cataudit_db_t *a;
    int rc = pm_cataudit_open(st, &a);
    if (rc < 0)
        return rc;
    sqlite3 *db = pm_cataudit_sqlite(a);
    sqlite3_stmt *q = NULL;
    /* one read transaction: both tables from the same snapshot */
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        rc = dberr(st, db, "read");
    if (rc == 0 && sqlite3_prepare_v2(db, "SELECT user, query, answer FROM beacon_answer", -1,
                                      &q, NULL) != SQLITE_OK)
        rc = dberr(st, db, "read answers");
    int s = SQLITE_DONE;
    while (rc == 0 && (s = sqlite3_step(q)) == SQLITE_ROW)
        rc = on_answer(ud, (const char *)sqlite3_column_text(q, 0),
                       (const char *)sqlite3_column_text(q, 1), sqlite3_column_int(q, 2));
    if (rc == 0 && s != SQLITE_DONE)
        rc = dberr(st, db, "read answers");
    sqlite3_finalize(q);
    q = NULL;
    if (rc == 0 && sqlite3_prepare_v2(db, "SELECT user, idx, spent FROM beacon_budget", -1, &q,
                                      NULL) != SQLITE_OK)
        rc = dberr(st, db, "read budgets");
    while (rc == 0 && (s = sqlite3_step(q)) == SQLITE_ROW)
        rc = on_spent(ud, (const char *)sqlite3_column_text(q, 0), sqlite3_column_int64(q, 1),
                      sqlite3_column_int64(q, 2));
    if (rc == 0 && s != SQLITE_DONE)
        rc = dberr(st, db, "read budgets");
    sqlite3_finalize(q);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    pm_cataudit_close(a);
    return rc;
}

int64_t pm_catpol_spent(pm_store_t *st, const char *user, int64_t idx)
{
    pm_cataudit_db_t *a;
    int rc = pm_cataudit_open(st, &a);
    if (rc < 0)
        return rc;
    sqlite3 *db = pm_cataudit_sqlite(a);
    sqlite3_stmt *q;
    int64_t v;
    if (sqlite3_prepare_v2(db, "SELECT spent FROM beacon_budget WHERE user=?1 AND idx=?2", -1,
                           &q, NULL) != SQLITE_OK) {
        v = dberr(st, db, "read budget");
    } else {
        sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, idx);
        int r = sqlite3_step(q);
        v = r == SQLITE_ROW ? sqlite3_column_int64(q, 0)
            : r == SQLITE_DONE ? 0
                               : dberr(st, db, "read budget");
        sqlite3_finalize(q);
    }
    pm_cataudit_close(a);
    return v;
}

int64_t pm_catpol_forget(pm_store_t *st, int64_t idx)
{
    pm_cataudit_db_t *a;
    int rc = pm_cataudit_open(st, &a);
    if (rc < 0)
        return rc;
    sqlite3 *db = pm_cataudit_sqlite(a);
    sqlite3_stmt *q = NULL;
    int64_t dropped = 0;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "DELETE FROM beacon_answer WHERE answer != 0 AND user IN "
                           "(SELECT user FROM beacon_budget WHERE idx=?1 AND spent > 0)",
                           -1, &q, NULL) != SQLITE_OK)
        rc = dberr(st, db, "forget");
    if (rc == 0) {
        sqlite3_bind_int64(q, 1, idx);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = dberr(st, db, "forget");
        dropped = sqlite3_changes(db);
    }
    sqlite3_finalize(q);
    q = NULL;
    if (rc == 0 && sqlite3_prepare_v2(db, "DELETE FROM beacon_budget WHERE idx=?1", -1, &q,
                                      NULL) != SQLITE_OK)
        rc = dberr(st, db, "forget");
    if (rc == 0) {
        sqlite3_bind_int64(q, 1, idx);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = dberr(st, db, "forget");
    }
    sqlite3_finalize(q);
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = dberr(st, db, "forget");
    if (rc < 0)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    pm_cataudit_close(a);
    return rc < 0 ? rc : dropped;
}

/* ---- the edge secret (catalog meta) ---- */

static int parse_secret(pm_store_t *st, const char *hex, uint8_t key[32])
{
    if (strlen(hex) != 64)
        return pm_err(pm_store_ctx(st), PM_ECORRUPT, "'%s': the Beacon secret is malformed",
                      pm_store_path(st));
    for (int i = 0; i < 32; i++) {
        unsigned b;
        if (sscanf(hex + 2 * i, "%2x", &b) != 1)
            return pm_err(pm_store_ctx(st), PM_ECORRUPT, "'%s': the Beacon secret is malformed",
                          pm_store_path(st));
        key[i] = (uint8_t)b;
    }
    return 0;
}

int pm_catpol_secret(pm_store_t *st, uint8_t key[32])
{
    char hex[80];
    int rc = pm_catalog_meta_get(st, "beacon_secret", hex, sizeof hex);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return parse_secret(st, hex, key);
    uint8_t fresh[32];
    size_t got = 0;
    while (got < sizeof fresh) {
        ssize_t n = getrandom(fresh + got, sizeof fresh - got, 0);
        if (n <= 0)
            return pm_err(pm_store_ctx(st), PM_EIO, "no random bytes for the Beacon secret");
        got += (size_t)n;
    }
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", fresh[i]);
    /* first writer wins: INSERT OR IGNORE, then read back what is there */
    sqlite3 *db = NULL;
    int own = !st->writable;
    if (own) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", pm_store_path(st), PM_STORE_CATALOG) >=
            (int)sizeof path)
            return pm_err(pm_store_ctx(st), PM_ELIMIT, "store path too long");
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK) {
            rc = dberr(st, db, "store the Beacon secret");
            sqlite3_close(db);
            return rc;
        }
        sqlite3_busy_timeout(db, 60000);
        sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    } else {
        db = pm_catalog_db(st);
    }
    /* read back on the same connection: the handle's settings cache may
     * be pinned to the state before this write (pm_store_pin) */
    sqlite3_stmt *q = NULL;
    char stored[80] = "";
    if (sqlite3_prepare_v2(db,
                           "INSERT OR IGNORE INTO meta(key, value) VALUES('beacon_secret', ?1)",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = dberr(st, db, "store the Beacon secret");
    } else {
        sqlite3_bind_text(q, 1, hex, -1, SQLITE_STATIC);
        rc = sqlite3_step(q) == SQLITE_DONE ? 0 : dberr(st, db, "store the Beacon secret");
        sqlite3_finalize(q);
        q = NULL;
    }
    if (rc == 0 && sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='beacon_secret'", -1,
                                      &q, NULL) != SQLITE_OK)
        rc = dberr(st, db, "read the Beacon secret");
    if (rc == 0) {
        if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
            snprintf(stored, sizeof stored, "%s", (const char *)sqlite3_column_text(q, 0));
        else
            rc = pm_err(pm_store_ctx(st), PM_EINTERNAL, "Beacon secret lost");
    }
    sqlite3_finalize(q);
    if (own)
        sqlite3_close(db);
    return rc < 0 ? rc : parse_secret(st, stored, key);
}
