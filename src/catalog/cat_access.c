/*
 * cat_access.c - users, projects, grants, tokens and the withdrawal queue
 * in the catalog (see cat_access.h). Plain statements, each its own
 * autocommit transaction except the withdrawal, which changes two tables.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "catalog/cat_access.h"
#include "catalog/cat_audit.h"
#include "catalog/catalog.h"

/* The access tables are created by schema part pm_schema_audit_v1 in
 * cat_audit.c. schema.c holds a weak empty default of that symbol, and a
 * linker takes an object out of libpromise.a only for an undefined
 * symbol: this reference makes sure that whoever links these functions
 * links cat_audit.o, and with it the real schema part. */
__attribute__((used)) static int (*const keep_schema_part)(pm_store_t *, int64_t *, int64_t *) =
    pm_cataudit_count;

static int prep(pm_store_t *st, const char *sql, sqlite3_stmt **q, const char *what)
{
    return pm_catalog_prepare(st, sql, q, what);
}

static void col_text(sqlite3_stmt *q, int i, char *buf, size_t cap)
{
    const char *s = (const char *)sqlite3_column_text(q, i);
    snprintf(buf, cap, "%s", s ? s : "");
}

/* Runs a one-shot write; maps a UNIQUE/PRIMARY KEY violation to PM_EEXIST. */
static int step_write(pm_store_t *st, sqlite3_stmt *q, const char *what)
{
    int rc = sqlite3_step(q);
    if (rc == SQLITE_DONE)
        return 0;
    if (sqlite3_extended_errcode(pm_catalog_db(st)) == SQLITE_CONSTRAINT_UNIQUE ||
        sqlite3_extended_errcode(pm_catalog_db(st)) == SQLITE_CONSTRAINT_PRIMARYKEY)
        return PM_EEXIST;
    return pm_catalog_sqlerr(st, what);
}

/* ---- users ---- */

int pm_cataccess_user_add(pm_store_t *st, const char *name, const char *tier)
{
    sqlite3_stmt *q;
    int rc = prep(st, "INSERT INTO app_user(name, tier) VALUES(?1, ?2)", &q, "add user");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, tier, -1, SQLITE_STATIC);
    rc = step_write(st, q, "add user");
    sqlite3_finalize(q);
    return rc;
}

int pm_cataccess_user_get(pm_store_t *st, const char *name, int64_t *id, char *tier)
{
    sqlite3_stmt *q;
    int rc = prep(st, "SELECT id, tier FROM app_user WHERE name=?1", &q, "find user");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(q, 0);
        if (tier)
            col_text(q, 1, tier, 16);
        rc = 1;
    } else {
        rc = rc == SQLITE_DONE ? 0 : pm_catalog_sqlerr(st, "find user");
    }
    sqlite3_finalize(q);
    return rc;
}

int pm_cataccess_user_each(pm_store_t *st, int (*fn)(void *ud, const pm_user_info_t *u),
                           void *ud)
{
    sqlite3_stmt *q;
    int rc = prep(st, "SELECT id, name, tier, created FROM app_user ORDER BY name", &q,
                  "list users");
    if (rc < 0)
        return rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        pm_user_info_t u;
        memset(&u, 0, sizeof u);
        u.id = sqlite3_column_int64(q, 0);
        col_text(q, 1, u.name, sizeof u.name);
        char tier[16];
        col_text(q, 2, tier, sizeof tier);
        u.tier = pm_tier_parse(tier);
        col_text(q, 3, u.created, sizeof u.created);
        if ((rc = fn(ud, &u)) < 0)
            break;
    }
    rc = rc == SQLITE_DONE ? 0 : rc < 0 ? rc : pm_catalog_sqlerr(st, "list users");
    sqlite3_finalize(q);
    return rc;
}

/* ---- projects ---- */

int pm_cataccess_project_add(pm_store_t *st, const pm_project_info_t *p, const char *key_hex)
{
    sqlite3_stmt *q;
    int rc = prep(st,
                  "INSERT INTO project(name, sources, data_types, purpose, expires, key_hex) "
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                  &q, "add project");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(q, 1, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, p->sources, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, p->data_types, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, p->purpose, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 5, p->expires);
    sqlite3_bind_text(q, 6, key_hex, -1, SQLITE_STATIC);
    rc = step_write(st, q, "add project");
    sqlite3_finalize(q);
    return rc;
}

#define PROJECT_COLS "p.id, p.name, p.sources, p.data_types, p.purpose, p.expires, p.key_hex"

static void project_row(sqlite3_stmt *q, pm_project_info_t *p, char *key_hex)
{
    memset(p, 0, sizeof *p);
    p->id = sqlite3_column_int64(q, 0);
    col_text(q, 1, p->name, sizeof p->name);
    col_text(q, 2, p->sources, sizeof p->sources);
    col_text(q, 3, p->data_types, sizeof p->data_types);
    col_text(q, 4, p->purpose, sizeof p->purpose);
    p->expires = sqlite3_column_int(q, 5);
    if (key_hex)
        col_text(q, 6, key_hex, 65);
}

int pm_cataccess_project_get(pm_store_t *st, const char *name, pm_project_info_t *p,
                             char *key_hex)
{
    sqlite3_stmt *q;
    int rc = prep(st, "SELECT " PROJECT_COLS " FROM project p WHERE p.name=?1", &q,
                  "find project");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        project_row(q, p, key_hex);
        rc = 1;
    } else {
        rc = rc == SQLITE_DONE ? 0 : pm_catalog_sqlerr(st, "find project");
    }
    sqlite3_finalize(q);
    return rc;
}

static int project_iter(pm_store_t *st, sqlite3_stmt *q,
                        int (*fn)(void *ud, const pm_project_info_t *p), void *ud)
{
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        pm_project_info_t p;
        project_row(q, &p, NULL);
        if ((rc = fn(ud, &p)) < 0)
            break;
    }
    rc = rc == SQLITE_DONE ? 0 : rc < 0 ? rc : pm_catalog_sqlerr(st, "list projects");
    sqlite3_finalize(q);
    return rc;
}

int pm_cataccess_project_each(pm_store_t *st, int (*fn)(void *ud, const pm_project_info_t *p),
                              void *ud)
{
    sqlite3_stmt *q;
    int rc = prep(st, "SELECT " PROJECT_COLS " FROM project p ORDER BY p.name", &q,
                  "list projects");
    return rc < 0 ? rc : project_iter(st, q, fn, ud);
}

/* ---- grants ---- */

int pm_cataccess_grant_add(pm_store_t *st, int64_t user, int64_t project)
{
    sqlite3_stmt *q;
    int rc = prep(st, "INSERT INTO access_grant(user, project) VALUES(?1, ?2)", &q, "grant");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(q, 1, user);
    sqlite3_bind_int64(q, 2, project);
    rc = step_write(st, q, "grant");
    sqlite3_finalize(q);
    return rc;
}

int pm_cataccess_grants_each(pm_store_t *st, int64_t user,
                             int (*fn)(void *ud, const pm_project_info_t *p), void *ud)
{
    sqlite3_stmt *q;
    int rc = prep(st,
                  "SELECT " PROJECT_COLS " FROM access_grant g JOIN project p ON p.id = "
                  "g.project WHERE g.user=?1 ORDER BY p.name",
                  &q, "list grants");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(q, 1, user);
    return project_iter(st, q, fn, ud);
}

/* ---- tokens ---- */

int pm_cataccess_token_add(pm_store_t *st, int64_t user, const char *hash_hex, int expires,
                           int64_t *id)
{
    sqlite3_stmt *q;
    int rc = prep(st, "INSERT INTO token(user, hash, expires) VALUES(?1, ?2, ?3)", &q,
                  "add token");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(q, 1, user);
    sqlite3_bind_text(q, 2, hash_hex, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, expires);
    rc = step_write(st, q, "add token");
    if (rc == 0)
        *id = sqlite3_last_insert_rowid(pm_catalog_db(st));
    sqlite3_finalize(q);
    return rc;
}

#define TOKEN_COLS "t.id, u.name, t.created, t.expires, t.revoked, u.id, u.tier"

static void token_row(sqlite3_stmt *q, pm_token_info_t *t)
{
    memset(t, 0, sizeof *t);
    t->id = sqlite3_column_int64(q, 0);
    col_text(q, 1, t->user, sizeof t->user);
    col_text(q, 2, t->created, sizeof t->created);
    t->expires = sqlite3_column_int(q, 3);
    t->revoked = sqlite3_column_int(q, 4);
}

int pm_cataccess_token_find(pm_store_t *st, const char *hash_hex, pm_token_info_t *t,
                            int64_t *user_id, char *tier)
{
    sqlite3_stmt *q;
    int rc = prep(st,
                  "SELECT " TOKEN_COLS " FROM token t JOIN app_user u ON u.id = t.user "
                  "WHERE t.hash=?1",
                  &q, "find token");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(q, 1, hash_hex, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        token_row(q, t);
        *user_id = sqlite3_column_int64(q, 5);
        col_text(q, 6, tier, 16);
        rc = 1;
    } else {
        rc = rc == SQLITE_DONE ? 0 : pm_catalog_sqlerr(st, "find token");
    }
    sqlite3_finalize(q);
    return rc;
}

int pm_cataccess_token_revoke(pm_store_t *st, int64_t id, int *changed)
{
    sqlite3_stmt *q;
    int rc = prep(st, "SELECT revoked FROM token WHERE id=?1", &q, "revoke token");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(q, 1, id);
    rc = sqlite3_step(q);
    int found = rc == SQLITE_ROW, was = found ? sqlite3_column_int(q, 0) : 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        found = pm_catalog_sqlerr(st, "revoke token");
    sqlite3_finalize(q);
    *changed = 0;
    if (found <= 0 || was)
        return found;
    if ((rc = prep(st, "UPDATE token SET revoked=1 WHERE id=?1", &q, "revoke token")) < 0)
        return rc;
    sqlite3_bind_int64(q, 1, id);
    rc = step_write(st, q, "revoke token");
    sqlite3_finalize(q);
    if (rc < 0)
        return rc;
    *changed = 1;
    return 1;
}

int pm_cataccess_token_each(pm_store_t *st, int (*fn)(void *ud, const pm_token_info_t *t),
                            void *ud)
{
    sqlite3_stmt *q;
    int rc = prep(st,
                  "SELECT " TOKEN_COLS " FROM token t JOIN app_user u ON u.id = t.user "
                  "ORDER BY t.id",
                  &q, "list tokens");
    if (rc < 0)
        return rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        pm_token_info_t t;
        token_row(q, &t);
        if ((rc = fn(ud, &t)) < 0)
            break;
    }
    rc = rc == SQLITE_DONE ? 0 : rc < 0 ? rc : pm_catalog_sqlerr(st, "list tokens");
    sqlite3_finalize(q);
    return rc;
}

/* ---- withdrawal ---- */

int pm_cataccess_withdraw(pm_store_t *st, int64_t idx, int *changed)
{
    *changed = 0;
    int rc = pm_catalog_begin(st);
    if (rc < 0)
        return rc;
    sqlite3_stmt *q = NULL;
    if ((rc = prep(st, "UPDATE individual SET withdrawn=1 WHERE idx=?1 AND withdrawn=0", &q,
                   "withdraw")) < 0)
        goto out_rollback;
    sqlite3_bind_int64(q, 1, idx);
    if ((rc = step_write(st, q, "withdraw")) < 0)
        goto out_rollback;
    *changed = sqlite3_changes(pm_catalog_db(st)) > 0;
    sqlite3_finalize(q);
    if ((rc = prep(st, "INSERT OR IGNORE INTO withdrawal(individual) "
                       "SELECT idx FROM individual WHERE idx=?1",
                   &q, "withdraw")) < 0)
        goto out_rollback;
    sqlite3_bind_int64(q, 1, idx);
    if ((rc = step_write(st, q, "withdraw")) < 0)
        goto out_rollback;
    sqlite3_finalize(q);
    q = NULL;
    if ((rc = prep(st, "SELECT count(*) FROM individual WHERE idx=?1", &q, "withdraw")) < 0)
        goto out_rollback;
    sqlite3_bind_int64(q, 1, idx);
    int found = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) > 0;
    sqlite3_finalize(q);
    if ((rc = pm_catalog_commit(st)) < 0)
        return rc;
    return found;

out_rollback:
    sqlite3_finalize(q);
    pm_catalog_rollback(st);
    return rc;
}

/* ---- compaction ---- */

int pm_cataccess_compact_count(pm_store_t *st, int64_t *n, int64_t *events)
{
    int rc = pm_catalog_int64(st, "SELECT count(*) FROM (" PM_CATACCESS_QUEUE ")",
                              "count the compaction queue", n);
    if (rc >= 0)
        rc = pm_catalog_int64(st,
                              "SELECT count(*) FROM event WHERE individual IN (" PM_CATACCESS_QUEUE
                              ")",
                              "count withdrawn events", events);
    return rc < 0 ? rc : 0;
}

void pm_cataccess_cfiles_free(pm_cataccess_cfile_t *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++)
        free(f[i].clear);
    free(f);
}

int pm_cataccess_compact_files(pm_store_t *st, int omics, pm_cataccess_cfile_t **out, size_t *n)
{
    static const char *const sql[] = {
        "SELECT s.id, s.batch, s.file, b.n_samples, 0, bs.col FROM gt_segment s"
        " JOIN gt_batch b ON b.id = s.batch JOIN gt_batch_sample bs ON bs.batch = s.batch"
        " JOIN sample sm ON sm.id = bs.sample"
        " WHERE sm.individual IN (" PM_CATACCESS_QUEUE ") ORDER BY s.id, bs.col",
        "SELECT ob.id, ob.id, ob.file, ob.n_samples, ob.n_features, oc.col FROM omics_batch ob"
        " JOIN omics_column oc ON oc.batch = ob.id JOIN sample sm ON sm.id = oc.sample"
        " WHERE sm.individual IN (" PM_CATACCESS_QUEUE ") ORDER BY ob.id, oc.col",
    };
    *out = NULL;
    *n = 0;
    sqlite3_stmt *q;
    int rc = prep(st, sql[omics ? 1 : 0], &q, "list files to compact");
    if (rc < 0)
        return rc;
    pm_cataccess_cfile_t *v = NULL;
    size_t nv = 0, cap = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        int64_t col = sqlite3_column_int64(q, 5);
        if (!nv || v[nv - 1].id != id) {
            if (nv == cap) {
                size_t nc = cap ? cap * 2 : 16;
                pm_cataccess_cfile_t *nn = realloc(v, nc * sizeof *v);
                if (!nn)
                    break;
                v = nn;
                cap = nc;
            }
            pm_cataccess_cfile_t *f = &v[nv++];
            memset(f, 0, sizeof *f);
            f->id = id;
            f->batch = sqlite3_column_int64(q, 1);
            col_text(q, 2, f->file, sizeof f->file);
            f->n_samples = (uint32_t)sqlite3_column_int64(q, 3);
            f->n_features = (uint32_t)sqlite3_column_int64(q, 4);
            if (!(f->clear = calloc((f->n_samples + 63) / 64 + 1, sizeof *f->clear)))
                break;
        }
        if (col >= 0 && col < (int64_t)v[nv - 1].n_samples)
            v[nv - 1].clear[col >> 6] |= (uint64_t)1 << (col & 63);
    }
    if (rc != SQLITE_DONE) {
        rc = rc == SQLITE_ROW ? pm_err(pm_store_ctx(st), PM_ENOMEM, "out of memory")
                              : pm_catalog_sqlerr(st, "list files to compact");
        sqlite3_finalize(q);
        pm_cataccess_cfiles_free(v, nv);
        return rc;
    }
    sqlite3_finalize(q);
    *out = v;
    *n = nv;
    return 0;
}

int pm_cataccess_data_files(pm_store_t *st, int omics, char ***names, size_t *n)
{
    return pm_catalog_strings(st, omics ? "SELECT file FROM omics_batch ORDER BY file"
                                        : "SELECT file FROM gt_segment ORDER BY file",
                              "list data files", names, n);
}

static int repoint(pm_store_t *st, const char *sql, const pm_cataccess_cfile_t *f, size_t n)
{
    sqlite3_stmt *q;
    int rc = prep(st, sql, &q, "switch to the compacted files");
    if (rc < 0)
        return rc;
    for (size_t i = 0; rc >= 0 && i < n; i++) {
        sqlite3_reset(q);
        sqlite3_bind_text(q, 1, f[i].new_file, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, (int64_t)f[i].bytes);
        sqlite3_bind_int64(q, 3, f[i].id);
        rc = step_write(st, q, "switch to the compacted files");
    }
    sqlite3_finalize(q);
    return rc;
}

int pm_cataccess_compact_commit(pm_store_t *st, const pm_cataccess_cfile_t *gt, size_t n_gt,
                                const pm_cataccess_cfile_t *om, size_t n_om)
{
    static const char *const tail[] = {
        "DELETE FROM event WHERE individual IN (" PM_CATACCESS_QUEUE ")",
        "DELETE FROM consent WHERE individual IN (" PM_CATACCESS_QUEUE ")",
        /* stored principal components are individual-level data too */
        "DELETE FROM pca_score WHERE individual IN (" PM_CATACCESS_QUEUE ")",
        "INSERT OR IGNORE INTO withdrawal(individual) SELECT idx FROM individual"
        " WHERE withdrawn = 1",
        "UPDATE withdrawal SET compacted = 1 WHERE compacted = 0 AND individual IN"
        " (SELECT idx FROM individual WHERE withdrawn = 1)",
    };
    int rc = pm_catalog_begin(st);
    if (rc < 0)
        return rc;
    rc = repoint(st, "UPDATE gt_segment SET file = ?1, bytes = ?2 WHERE id = ?3", gt, n_gt);
    if (rc >= 0)
        rc = repoint(st, "UPDATE omics_batch SET file = ?1, bytes = ?2 WHERE id = ?3", om, n_om);
    for (size_t i = 0; rc >= 0 && i < sizeof tail / sizeof *tail; i++) {
        sqlite3_stmt *q;
        if ((rc = prep(st, tail[i], &q, "compact the catalog")) < 0)
            break;
        rc = step_write(st, q, "compact the catalog");
        sqlite3_finalize(q);
    }
    if (rc >= 0)
        rc = pm_catalog_commit(st);
    if (rc < 0)
        pm_catalog_rollback(st);
    return rc < 0 ? rc : 0;
}
