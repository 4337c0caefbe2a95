/*
 * cat_pca.c - principal-component runs in the catalog (see cat_pca.h).
 * The components are small (k doubles per individual), so they live in
 * the catalog itself, one blob per individual, and a run becomes visible
 * with the transaction that inserts it.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/cat_pca.h"
#include "catalog/catalog.h"

const char pm_schema_pca_v1[] =
    "CREATE TABLE pca_run("
    "  id INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
    "  cohort TEXT NOT NULL,"
    "  params TEXT NOT NULL,"
    "  k INTEGER NOT NULL,"
    "  n_individuals INTEGER NOT NULL,"
    "  n_variants INTEGER NOT NULL,"
    "  eigenvalues BLOB NOT NULL);"
    "CREATE TABLE pca_score("
    "  run INTEGER NOT NULL REFERENCES pca_run(id),"
    "  individual INTEGER NOT NULL REFERENCES individual(idx),"
    "  pcs BLOB NOT NULL,"
    "  PRIMARY KEY(run, individual)) WITHOUT ROWID;";

int pm_catpca_save(pm_store_t *st, const pm_catpca_run_t *r, int64_t *id)
{
    sqlite3_stmt *q = NULL;
    double *row = malloc((size_t)(r->k > 0 ? r->k : 1) * sizeof *row);
    if (!row)
        return pm_err(pm_store_ctx(st), PM_ENOMEM, "out of memory");
    int rc = pm_catalog_begin(st);
    if (rc < 0) {
        free(row);
        return rc;
    }
    rc = pm_catalog_prepare(st,
                            "INSERT INTO pca_run(cohort, params, k, n_individuals, n_variants, "
                            "eigenvalues) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                            &q, "save pca run");
    if (rc < 0)
        goto out;
    sqlite3_bind_text(q, 1, r->cohort ? r->cohort : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, r->params ? r->params : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, r->k);
    sqlite3_bind_int64(q, 4, r->n);
    sqlite3_bind_int64(q, 5, r->n_variants);
    sqlite3_bind_blob(q, 6, r->eigval, (int)((size_t)r->k * sizeof(double)), SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) {
        rc = pm_catalog_sqlerr(st, "save pca run");
        goto out;
    }
    int64_t run = sqlite3_last_insert_rowid(pm_catalog_db(st));
    sqlite3_finalize(q);
    q = NULL;
    rc = pm_catalog_prepare(st, "INSERT INTO pca_score(run, individual, pcs) VALUES(?1, ?2, ?3)",
                            &q, "save pca scores");
    if (rc < 0)
        goto out;
    for (uint32_t i = 0; i < r->n; i++) {
        for (int j = 0; j < r->k; j++)
            row[j] = r->vec[(size_t)j * r->n + i];
        sqlite3_bind_int64(q, 1, run);
        sqlite3_bind_int64(q, 2, r->individual[i]);
        sqlite3_bind_blob(q, 3, row, (int)((size_t)r->k * sizeof *row), SQLITE_TRANSIENT);
        if (sqlite3_step(q) != SQLITE_DONE) {
            rc = pm_catalog_sqlerr(st, "save pca scores");
            goto out;
        }
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    q = NULL;
    if ((rc = pm_catalog_commit(st)) < 0)
        goto out_free;
    if (id)
        *id = run;
    free(row);
    return 0;
out:
    sqlite3_finalize(q);
    pm_catalog_rollback(st);
out_free:
    free(row);
    return rc < 0 ? rc : PM_EIO;
}

int pm_catpca_load_latest(pm_store_t *st, pm_catpca_loaded_t *out)
{
    memset(out, 0, sizeof *out);
    pm_ctx_t *ctx = pm_store_ctx(st);
    sqlite3_stmt *q = NULL;
    int rc = pm_catalog_prepare(st,
                                "SELECT id, k, n_individuals, n_variants, eigenvalues, cohort "
                                "FROM pca_run ORDER BY id DESC LIMIT 1",
                                &q, "read pca runs");
    if (rc < 0)
        return rc;
    int s = sqlite3_step(q);
    if (s == SQLITE_DONE) {
        sqlite3_finalize(q);
        return 0;
    }
    if (s != SQLITE_ROW) {
        rc = pm_catalog_sqlerr(st, "read pca runs");
        sqlite3_finalize(q);
        return rc;
    }
    out->id = sqlite3_column_int64(q, 0);
    out->k = sqlite3_column_int(q, 1);
    int64_t n_all = sqlite3_column_int64(q, 2);
    out->n_variants = sqlite3_column_int64(q, 3);
    const void *ev = sqlite3_column_blob(q, 4);
    int evb = sqlite3_column_bytes(q, 4);
    const char *co = (const char *)sqlite3_column_text(q, 5);
    if (out->k < 1 || n_all < 0 || evb != (int)((size_t)out->k * sizeof(double))) {
        sqlite3_finalize(q);
        return pm_err(ctx, PM_ECORRUPT, "pca run %lld is malformed", (long long)out->id);
    }
    out->eigval = malloc((size_t)evb);
    out->cohort = strdup(co ? co : "");
    size_t cap = (size_t)(n_all > 0 ? n_all : 1);
    out->individual = malloc(cap * sizeof *out->individual);
    out->vec = malloc(cap * (size_t)out->k * sizeof *out->vec);
    if (!out->eigval || !out->cohort || !out->individual || !out->vec) {
        sqlite3_finalize(q);
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto fail;
    }
    memcpy(out->eigval, ev, (size_t)evb);
    sqlite3_finalize(q);
    q = NULL;
    /* scores in individual order; the whole matrix is filled row-wise
     * first (n unknown until the withdrawn are skipped), then transposed */
    double *rows = malloc(cap * (size_t)out->k * sizeof *rows);
    if (!rows) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto fail;
    }
    rc = pm_catalog_prepare(st,
                            "SELECT s.individual, s.pcs FROM pca_score s "
                            "JOIN individual i ON i.idx = s.individual "
                            "WHERE s.run = ?1 AND i.withdrawn = 0 ORDER BY s.individual",
                            &q, "read pca scores");
    if (rc < 0) {
        free(rows);
        goto fail;
    }
    sqlite3_bind_int64(q, 1, out->id);
    uint32_t n = 0;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(q, 1) != evb || n >= cap) {
            rc = pm_err(ctx, PM_ECORRUPT, "pca run %lld has a malformed score row",
                        (long long)out->id);
            break;
        }
        out->individual[n] = sqlite3_column_int64(q, 0);
        memcpy(rows + (size_t)n * out->k, sqlite3_column_blob(q, 1), (size_t)evb);
        n++;
    }
    if (rc >= 0 && s != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "read pca scores");
    sqlite3_finalize(q);
    if (rc < 0) {
        free(rows);
        goto fail;
    }
    out->n = n;
    for (uint32_t i = 0; i < n; i++)
        for (int j = 0; j < out->k; j++)
            out->vec[(size_t)j * n + i] = rows[(size_t)i * out->k + j];
    free(rows);
    return 1;
fail:
    free(out->eigval);
    free(out->cohort);
    free(out->individual);
    free(out->vec);
    memset(out, 0, sizeof *out);
    return rc;
}

int pm_catpca_pseudonyms(pm_store_t *st, uint32_t n, const int64_t *idx, char *buf, size_t cap)
{
    sqlite3_stmt *q;
    int rc = pm_catalog_prepare(st, "SELECT pseudonym FROM individual WHERE idx = ?1", &q,
                                "read individuals");
    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < n && rc >= 0; i++) {
        char *b = buf + (size_t)i * cap;
        b[0] = 0;
        sqlite3_bind_int64(q, 1, idx[i]);
        int s = sqlite3_step(q);
        if (s == SQLITE_ROW) {
            const char *p = (const char *)sqlite3_column_text(q, 0);
            snprintf(b, cap, "%s", p ? p : "");
        } else if (s != SQLITE_DONE) {
            rc = pm_catalog_sqlerr(st, "read individuals");
        }
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    return rc < 0 ? rc : 0;
}
