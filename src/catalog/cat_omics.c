/*
 * cat_omics.c - omics features, batches, columns and blocks in the
 * catalog (see cat_omics.h). The values themselves live in the data files
 * (src/omics/om_file.c); the catalog says which file holds which feature
 * for which samples, so a query reads one block per batch that measured
 * the feature. A batch row is what makes a data file visible: files that
 * no row names are garbage from an interrupted ingest.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/cat_omics.h"
#include "catalog/catalog.h"
#include "catalog/individual.h"

const char pm_schema_omics_v1[] =
    "CREATE TABLE omics_feature("
    "  id INTEGER PRIMARY KEY,"
    "  assay INTEGER NOT NULL REFERENCES assay(id),"
    "  feature_id TEXT NOT NULL,"
    "  name TEXT,"
    "  uniprot TEXT,"
    "  panel TEXT,"
    "  chrom TEXT,"
    "  pos INTEGER,"
    "  UNIQUE(assay, feature_id));"
    "CREATE INDEX omics_feature_name ON omics_feature(assay, name);"
    "CREATE TABLE omics_batch("
    "  id INTEGER PRIMARY KEY,"
    "  assay INTEGER NOT NULL REFERENCES assay(id),"
    "  ingest INTEGER NOT NULL REFERENCES ingest(id),"
    "  file TEXT NOT NULL UNIQUE,"
    "  format TEXT NOT NULL,"
    "  panel TEXT,"
    "  n_samples INTEGER NOT NULL,"
    "  n_features INTEGER NOT NULL,"
    "  bytes INTEGER NOT NULL);"
    "CREATE TABLE omics_column("
    "  batch INTEGER NOT NULL REFERENCES omics_batch(id),"
    "  col INTEGER NOT NULL,"
    "  sample INTEGER NOT NULL REFERENCES sample(id),"
    "  plate TEXT,"
    "  PRIMARY KEY(batch, col)) WITHOUT ROWID;"
    "CREATE INDEX omics_column_sample ON omics_column(sample);"
    "CREATE TABLE omics_block("
    "  feature INTEGER NOT NULL REFERENCES omics_feature(id),"
    "  batch INTEGER NOT NULL REFERENCES omics_batch(id),"
    "  block INTEGER NOT NULL,"
    "  PRIMARY KEY(feature, batch)) WITHOUT ROWID;"
    "CREATE INDEX omics_block_batch ON omics_block(batch, feature);";

static int prep(pm_store_t *st, const char *sql, sqlite3_stmt **q, const char *what)
{
    return pm_catalog_prepare(st, sql, q, what);
}

static const char *col_text(sqlite3_stmt *q, int i)
{
    const char *s = (const char *)sqlite3_column_text(q, i);
    return s ? s : "";
}

static void bind_opt(sqlite3_stmt *q, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, i);
}

int pm_catom_assay(pm_store_t *st, const char *name, int64_t *id, char *canon, size_t cap)
{
    sqlite3_stmt *q;
    int rc = prep(st, "SELECT id, name FROM assay WHERE name = ?1 COLLATE NOCASE ORDER BY id",
                  &q, "read assays");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW) {
        *id = sqlite3_column_int64(q, 0);
        if (canon && cap)
            snprintf(canon, cap, "%s", col_text(q, 1));
        rc = 1;
    } else if (s != SQLITE_DONE) {
        rc = pm_catalog_sqlerr(st, "read assays");
    }
    sqlite3_finalize(q);
    return rc;
}

/* ---- ingest ---- */

int pm_catom_sample_find(pm_store_t *st, const char *sample_id, pm_catom_sample_t *out)
{
    sqlite3_stmt *q;
    int rc = prep(st,
                  "SELECT s.id, s.individual, s.assay, a.name FROM sample s "
                  "JOIN assay a ON a.id = s.assay WHERE s.sample_id = ?1",
                  &q, "read samples");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(q, 1, sample_id, -1, SQLITE_STATIC);
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW) {
        out->id = sqlite3_column_int64(q, 0);
        out->individual = sqlite3_column_int64(q, 1);
        out->assay = sqlite3_column_int64(q, 2);
        snprintf(out->assay_name, sizeof out->assay_name, "%s", col_text(q, 3));
        rc = 1;
    } else if (s != SQLITE_DONE) {
        rc = pm_catalog_sqlerr(st, "read samples");
    }
    sqlite3_finalize(q);
    return rc;
}

void pm_catom_strv_free(char **v, size_t n) { pm_catalog_strv_free(v, n); }

int pm_catom_files(pm_store_t *st, char ***names, size_t *n)
{
    return pm_catalog_strings(st, "SELECT file FROM omics_batch ORDER BY file",
                              "read omics batches", names, n);
}

int pm_catom_next_batch(pm_store_t *st, int64_t *id)
{
    return pm_catalog_int64(st, "SELECT coalesce(max(id), 0) + 1 FROM omics_batch",
                            "read omics batches", id);
}

int pm_catom_ingest_row(pm_store_t *st, const char *file, int64_t rows, int64_t *id)
{
    sqlite3_stmt *q;
    int rc = prep(st, "INSERT INTO ingest(kind, file, rows) VALUES('omics', ?1, ?2)", &q,
                  "record ingest");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(q, 1, file, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, rows);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "record ingest");
    else
        *id = sqlite3_last_insert_rowid(pm_catalog_db(st));
    sqlite3_finalize(q);
    return rc;
}

/* Compares a stored attribute with a new one; both known and different
 * is a conflict. */
static int differs(const char *stored, const char *now)
{
    return stored && *stored && now && *now && strcmp(stored, now) != 0;
}

typedef struct reg_stmts {
    sqlite3_stmt *find, *ins, *fill, *block, *col;
} reg_stmts_t;

static void reg_free(reg_stmts_t *r)
{
    sqlite3_finalize(r->find);
    sqlite3_finalize(r->ins);
    sqlite3_finalize(r->fill);
    sqlite3_finalize(r->block);
    sqlite3_finalize(r->col);
}

/* The feature's id, inserting or completing its row. */
static int put_feature(pm_store_t *st, reg_stmts_t *r, int64_t assay,
                       const pm_catom_feature_in_t *f, const char *src, int64_t *fid)
{
    sqlite3_bind_int64(r->find, 1, assay);
    sqlite3_bind_text(r->find, 2, f->feature_id, -1, SQLITE_STATIC);
    int s = sqlite3_step(r->find);
    int rc = 0;
    if (s == SQLITE_ROW) {
        *fid = sqlite3_column_int64(r->find, 0);
        static const char *const what[] = {"name", "UniProt", "panel", "chromosome"};
        const char *now[] = {f->name, f->uniprot, f->panel, f->chrom};
        for (int i = 0; i < 4 && rc == 0; i++) {
            const char *old = (const char *)sqlite3_column_text(r->find, 1 + i);
            if (differs(old, now[i]))
                rc = pm_err(pm_store_ctx(st), PM_EINPUT,
                            "%s:%ld: feature '%s' has %s '%s' in the store, '%s' here", src,
                            f->line, f->feature_id, what[i], old, now[i]);
        }
        int64_t oldpos = sqlite3_column_int64(r->find, 5);
        if (rc == 0 && oldpos && f->pos && oldpos != f->pos)
            rc = pm_err(pm_store_ctx(st), PM_EINPUT,
                        "%s:%ld: feature '%s' has position %lld in the store, %lld here", src,
                        f->line, f->feature_id, (long long)oldpos, (long long)f->pos);
        sqlite3_reset(r->find);
        if (rc < 0)
            return rc;
        sqlite3_bind_int64(r->fill, 1, *fid);
        bind_opt(r->fill, 2, f->name);
        bind_opt(r->fill, 3, f->uniprot);
        bind_opt(r->fill, 4, f->panel);
        bind_opt(r->fill, 5, f->chrom);
        if (f->pos)
            sqlite3_bind_int64(r->fill, 6, f->pos);
        else
            sqlite3_bind_null(r->fill, 6);
        s = sqlite3_step(r->fill);
        sqlite3_reset(r->fill);
        return s == SQLITE_DONE ? 0 : pm_catalog_sqlerr(st, "store omics features");
    }
    sqlite3_reset(r->find);
    if (s != SQLITE_DONE)
        return pm_catalog_sqlerr(st, "read omics features");
    sqlite3_bind_int64(r->ins, 1, assay);
    sqlite3_bind_text(r->ins, 2, f->feature_id, -1, SQLITE_STATIC);
    bind_opt(r->ins, 3, f->name);
    bind_opt(r->ins, 4, f->uniprot);
    bind_opt(r->ins, 5, f->panel);
    bind_opt(r->ins, 6, f->chrom);
    if (f->pos)
        sqlite3_bind_int64(r->ins, 7, f->pos);
    else
        sqlite3_bind_null(r->ins, 7);
    s = sqlite3_step(r->ins);
    sqlite3_reset(r->ins);
    if (s != SQLITE_DONE)
        return pm_catalog_sqlerr(st, "store omics features");
    *fid = sqlite3_last_insert_rowid(pm_catalog_db(st));
    return 0;
}

/* PM_EEXIST when a (sample, feature) pair of batch id is in another batch. */
static int check_overlap(pm_store_t *st, int64_t id)
{
    sqlite3_stmt *q;
    int rc = prep(st,
                  "WITH other(batch) AS (SELECT DISTINCT oc.batch FROM omics_column nc "
                  "  JOIN omics_column oc ON oc.sample = nc.sample AND oc.batch <> nc.batch "
                  "  WHERE nc.batch = ?1) "
                  "SELECT s.sample_id, f.feature_id, a.name, i.file "
                  "FROM other o "
                  "JOIN omics_block ob ON ob.batch = o.batch "
                  "JOIN omics_block nb ON nb.batch = ?1 AND nb.feature = ob.feature "
                  "JOIN omics_column oc ON oc.batch = o.batch "
                  "JOIN omics_column nc ON nc.batch = ?1 AND nc.sample = oc.sample "
                  "JOIN sample s ON s.id = nc.sample "
                  "JOIN omics_feature f ON f.id = nb.feature "
                  "JOIN assay a ON a.id = f.assay "
                  "JOIN omics_batch b ON b.id = o.batch "
                  "JOIN ingest i ON i.id = b.ingest LIMIT 1",
                  &q, "check omics overlap");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(q, 1, id);
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW)
        rc = pm_err(pm_store_ctx(st), PM_EEXIST,
                    "sample '%s' already has a value of feature '%s' of assay '%s' (loaded "
                    "from '%s'); values are never replaced",
                    col_text(q, 0), col_text(q, 1), col_text(q, 2), col_text(q, 3));
    else if (s != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "check omics overlap");
    sqlite3_finalize(q);
    return rc;
}

int pm_catom_register(pm_store_t *st, const pm_catom_batch_in_t *b, const char *src)
{
    sqlite3_stmt *q;
    int rc = prep(st,
                  "INSERT INTO omics_batch(id, assay, ingest, file, format, panel, n_samples, "
                  "n_features, bytes) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                  &q, "store omics batch");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(q, 1, b->id);
    sqlite3_bind_int64(q, 2, b->assay);
    sqlite3_bind_int64(q, 3, b->ingest);
    sqlite3_bind_text(q, 4, b->file, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, b->format, -1, SQLITE_STATIC);
    bind_opt(q, 6, b->panel);
    sqlite3_bind_int64(q, 7, (int64_t)b->n_samples);
    sqlite3_bind_int64(q, 8, (int64_t)b->n_features);
    sqlite3_bind_int64(q, 9, (int64_t)b->bytes);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "store omics batch");
    sqlite3_finalize(q);
    if (rc < 0)
        return rc;

    reg_stmts_t r = {0};
    if ((rc = prep(st,
                   "SELECT id, name, uniprot, panel, chrom, pos FROM omics_feature "
                   "WHERE assay = ?1 AND feature_id = ?2",
                   &r.find, "read omics features")) < 0 ||
        (rc = prep(st,
                   "INSERT INTO omics_feature(assay, feature_id, name, uniprot, panel, chrom, "
                   "pos) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                   &r.ins, "store omics features")) < 0 ||
        (rc = prep(st,
                   "UPDATE omics_feature SET name = coalesce(name, ?2), "
                   "uniprot = coalesce(uniprot, ?3), panel = coalesce(panel, ?4), "
                   "chrom = coalesce(chrom, ?5), pos = coalesce(pos, ?6) WHERE id = ?1 AND "
                   "(name IS NULL AND ?2 IS NOT NULL OR uniprot IS NULL AND ?3 IS NOT NULL OR "
                   "panel IS NULL AND ?4 IS NOT NULL OR chrom IS NULL AND ?5 IS NOT NULL OR "
                   "pos IS NULL AND ?6 IS NOT NULL)",
                   &r.fill, "store omics features")) < 0 ||
        (rc = prep(st, "INSERT INTO omics_block(feature, batch, block) VALUES(?1, ?2, ?3)",
                   &r.block, "store omics blocks")) < 0 ||
        (rc = prep(st, "INSERT INTO omics_column(batch, col, sample, plate) VALUES(?1, ?2, ?3, ?4)",
                   &r.col, "store omics columns")) < 0) {
        reg_free(&r);
        return rc;
    }
    for (size_t i = 0; i < b->n_features && rc == 0; i++) {
        int64_t fid = 0;
        if ((rc = put_feature(st, &r, b->assay, &b->features[i], src, &fid)) < 0)
            break;
        sqlite3_bind_int64(r.block, 1, fid);
        sqlite3_bind_int64(r.block, 2, b->id);
        sqlite3_bind_int64(r.block, 3, (int64_t)i);
        int s = sqlite3_step(r.block);
        sqlite3_reset(r.block);
        if (s != SQLITE_DONE)
            rc = pm_catalog_sqlerr(st, "store omics blocks");
    }
    for (size_t j = 0; j < b->n_samples && rc == 0; j++) {
        sqlite3_bind_int64(r.col, 1, b->id);
        sqlite3_bind_int64(r.col, 2, (int64_t)j);
        sqlite3_bind_int64(r.col, 3, b->sample[j]);
        bind_opt(r.col, 4, b->plate ? b->plate[j] : NULL);
        int s = sqlite3_step(r.col);
        sqlite3_reset(r.col);
        if (s != SQLITE_DONE)
            rc = pm_catalog_sqlerr(st, "store omics columns");
    }
    reg_free(&r);
    if (rc == 0)
        rc = check_overlap(st, b->id);
    return rc;
}

/* ---- queries ---- */

int pm_catom_feature_find(pm_store_t *st, int64_t assay, const char *key, int64_t *fid,
                          char **feature_id, char **name)
{
    if (feature_id)
        *feature_id = NULL;
    if (name)
        *name = NULL;
    /* the exact id first (an index lookup); the case-insensitive scan of
     * ids and names only when that misses */
    static const char *const sql[2] = {
        "SELECT id, feature_id, coalesce(name, ''), 0 FROM omics_feature "
        "WHERE assay = ?1 AND feature_id = ?2 LIMIT 1",
        "SELECT id, feature_id, coalesce(name, ''), 1 FROM omics_feature "
        "WHERE assay = ?1 AND (feature_id = ?2 COLLATE NOCASE OR name = ?2 COLLATE NOCASE) "
        "ORDER BY 2 LIMIT 3",
    };
    sqlite3_stmt *q = NULL;
    int rc = 0, s = SQLITE_DONE;
    for (int pass = 0; pass < 2; pass++) {
        if ((rc = prep(st, sql[pass], &q, "read omics features")) < 0)
            return rc;
        sqlite3_bind_int64(q, 1, assay);
        sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
        if ((s = sqlite3_step(q)) != SQLITE_DONE || pass == 1)
            break;
        sqlite3_finalize(q);
    }
    int nrow = 0, exact = 0;
    char ids[3][160] = {{0}};
    for (; s == SQLITE_ROW; s = sqlite3_step(q)) {
        if (nrow == 0) {
            *fid = sqlite3_column_int64(q, 0);
            exact = sqlite3_column_int(q, 3) == 0;
            if (feature_id)
                *feature_id = strdup(col_text(q, 1));
            if (name)
                *name = strdup(col_text(q, 2));
        }
        snprintf(ids[nrow], sizeof ids[nrow], "%s", col_text(q, 1));
        nrow++;
        if (exact)
            break;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "read omics features");
    else if (nrow > 1 && !exact)
        rc = pm_err(pm_store_ctx(st), PM_EINPUT,
                    "feature name '%s' names several features (%s, %s%s); give a feature id", key,
                    ids[0], ids[1], nrow > 2 ? ", ..." : "");
    else if (nrow > 0 && ((feature_id && !*feature_id) || (name && !*name)))
        rc = pm_err(pm_store_ctx(st), PM_ENOMEM, "out of memory");
    else
        rc = nrow > 0;
    sqlite3_finalize(q);
    if (rc <= 0) {
        if (feature_id) {
            free(*feature_id);
            *feature_id = NULL;
        }
        if (name) {
            free(*name);
            *name = NULL;
        }
    }
    return rc;
}

void pm_catom_blocks_free(pm_catom_block_t *b, size_t n)
{
    if (!b)
        return;
    for (size_t i = 0; i < n; i++)
        free(b[i].file);
    free(b);
}

int pm_catom_blocks(pm_store_t *st, int64_t feature, pm_catom_block_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *q;
    int rc = prep(st,
                  "SELECT b.id, b.file, k.block, b.n_samples, b.n_features FROM omics_block k "
                  "JOIN omics_batch b ON b.id = k.batch WHERE k.feature = ?1 ORDER BY b.id",
                  &q, "read omics blocks");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(q, 1, feature);
    pm_catom_block_t *v = NULL;
    size_t len = 0, cap = 0;
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (len == cap) {
            size_t nc = cap ? 2 * cap : 8;
            pm_catom_block_t *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = pm_err(pm_store_ctx(st), PM_ENOMEM, "out of memory");
                break;
            }
            v = nv;
            cap = nc;
        }
        pm_catom_block_t *b = &v[len];
        b->batch = sqlite3_column_int64(q, 0);
        b->file = strdup(col_text(q, 1));
        b->block = sqlite3_column_int64(q, 2);
        b->n_samples = sqlite3_column_int64(q, 3);
        b->n_features = sqlite3_column_int64(q, 4);
        len++;
        if (!b->file) {
            rc = pm_err(pm_store_ctx(st), PM_ENOMEM, "out of memory");
            break;
        }
    }
    if (rc == 0 && s != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "read omics blocks");
    sqlite3_finalize(q);
    if (rc < 0) {
        pm_catom_blocks_free(v, len);
        return rc;
    }
    *out = v;
    *n = len;
    return 0;
}

void pm_catom_cols_free(pm_catom_col_t *c, size_t n)
{
    if (!c)
        return;
    for (size_t i = 0; i < n; i++) {
        free(c[i].sample_id);
        free(c[i].pseudonym);
    }
    free(c);
}

int pm_catom_columns(pm_store_t *st, int64_t batch, int want_names, pm_catom_col_t **out,
                     size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *q;
    int rc = prep(st,
                  "SELECT c.col, s.id, s.individual, s.collection_date, "
                  "coalesce(i.withdrawn, 1), s.sample_id, i.pseudonym FROM omics_column c "
                  "JOIN sample s ON s.id = c.sample "
                  "LEFT JOIN individual i ON i.idx = s.individual "
                  "WHERE c.batch = ?1 ORDER BY c.col",
                  &q, "read omics columns");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(q, 1, batch);
    pm_catom_col_t *v = NULL;
    size_t len = 0, cap = 0;
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (sqlite3_column_int64(q, 0) != (int64_t)len) {
            rc = pm_err(pm_store_ctx(st), PM_ECORRUPT,
                        "catalog of '%s': omics batch %lld lacks column %zu", pm_store_path(st),
                        (long long)batch, len);
            break;
        }
        if (len == cap) {
            size_t nc = cap ? 2 * cap : 64;
            pm_catom_col_t *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = pm_err(pm_store_ctx(st), PM_ENOMEM, "out of memory");
                break;
            }
            v = nv;
            cap = nc;
        }
        pm_catom_col_t *c = &v[len++];
        memset(c, 0, sizeof *c);
        c->sample = sqlite3_column_int64(q, 1);
        c->individual = sqlite3_column_int64(q, 2);
        int ymd = 0;
        const char *d = (const char *)sqlite3_column_text(q, 3);
        if (d && pm_iso_date_parse(d, &ymd) != 0)
            ymd = 0;
        c->date = ymd;
        c->withdrawn = sqlite3_column_int(q, 4) != 0;
        if (want_names) {
            c->sample_id = strdup(col_text(q, 5));
            c->pseudonym = strdup(col_text(q, 6));
            if (!c->sample_id || !c->pseudonym) {
                rc = pm_err(pm_store_ctx(st), PM_ENOMEM, "out of memory");
                break;
            }
        }
    }
    if (rc == 0 && s != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "read omics columns");
    sqlite3_finalize(q);
    if (rc < 0) {
        pm_catom_cols_free(v, len);
        return rc;
    }
    *out = v;
    *n = len;
    return 0;
}

int pm_catom_features_each(pm_store_t *st, int64_t assay,
                           int (*fn)(void *ud, const pm_catom_feature_t *f), void *ud)
{
    sqlite3_stmt *q;
    int rc = prep(st,
                  "SELECT f.feature_id, f.name, f.uniprot, f.panel, f.chrom, f.pos, "
                  "count(b.id), coalesce(sum(b.n_samples), 0) FROM omics_feature f "
                  "LEFT JOIN omics_block k ON k.feature = f.id "
                  "LEFT JOIN omics_batch b ON b.id = k.batch "
                  "WHERE f.assay = ?1 GROUP BY f.id ORDER BY f.feature_id",
                  &q, "read omics features");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(q, 1, assay);
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        pm_catom_feature_t f = {
            .feature_id = col_text(q, 0),
            .name = col_text(q, 1),
            .uniprot = col_text(q, 2),
            .panel = col_text(q, 3),
            .chrom = col_text(q, 4),
            .pos = sqlite3_column_int64(q, 5),
            .batches = sqlite3_column_int64(q, 6),
            .samples = sqlite3_column_int64(q, 7),
        };
        if ((rc = fn(ud, &f)) < 0)
            break;
    }
    if (rc >= 0 && s != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "read omics features");
    sqlite3_finalize(q);
    return rc < 0 ? rc : 0;
}
