/* cat_genotype.c - the genotype tables of the catalog (see cat_genotype.h). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/cat_genotype.h"
#include "catalog/catalog.h"

/* Part of schema version 1 (see schema.c). */
const char pm_schema_genotype_v1[] =
    /* Contigs in the order they first appeared (header order of the first
     * file that named them); names are normalised ("22", "X", "MT"). */
    "CREATE TABLE gt_contig(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  length INTEGER NOT NULL DEFAULT 0);"
    /* One row per ingested VCF/BCF file. */
    "CREATE TABLE gt_batch("
    "  id INTEGER PRIMARY KEY,"
    "  file TEXT NOT NULL,"
    "  source TEXT,"
    "  n_samples INTEGER NOT NULL,"
    "  n_records INTEGER NOT NULL,"
    "  n_variants INTEGER NOT NULL,"
    "  callable INTEGER NOT NULL DEFAULT 0,"
    "  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));"
    /* Column col of the batch's segment files is this sample. */
    "CREATE TABLE gt_batch_sample("
    "  batch INTEGER NOT NULL REFERENCES gt_batch(id),"
    "  col INTEGER NOT NULL,"
    "  sample INTEGER NOT NULL REFERENCES sample(id),"
    "  PRIMARY KEY(batch, col)) WITHOUT ROWID;"
    "CREATE INDEX gt_batch_sample_sample ON gt_batch_sample(sample);"
    /* Segment files under STORE/gt/: one contig, a run of positions. */
    "CREATE TABLE gt_segment("
    "  id INTEGER PRIMARY KEY,"
    "  batch INTEGER NOT NULL REFERENCES gt_batch(id),"
    "  contig INTEGER NOT NULL REFERENCES gt_contig(id),"
    "  file TEXT NOT NULL UNIQUE,"
    "  first_pos INTEGER NOT NULL,"
    "  last_pos INTEGER NOT NULL,"
    "  n_records INTEGER NOT NULL,"
    "  n_variants INTEGER NOT NULL,"
    "  bytes INTEGER NOT NULL);"
    "CREATE INDEX gt_segment_range ON gt_segment(contig, last_pos, first_pos);"
    /* Callable regions of a batch (0-based half-open, merged). */
    "CREATE TABLE gt_callable("
    "  batch INTEGER NOT NULL REFERENCES gt_batch(id),"
    "  contig INTEGER NOT NULL REFERENCES gt_contig(id),"
    "  beg INTEGER NOT NULL,"
    "  end INTEGER NOT NULL);"
    "CREATE INDEX gt_callable_batch ON gt_callable(batch, contig, beg);";

static int prep(pm_store_t *st, const char *sql, sqlite3_stmt **q, const char *what)
{
    return pm_catalog_prepare(st, sql, q, what);
}

void pm_catgt_strv_free(char **v, size_t n) { pm_catalog_strv_free(v, n); }

int pm_catgt_segment_files(pm_store_t *st, char ***names, size_t *n)
{
    return pm_catalog_strings(st, "SELECT file FROM gt_segment ORDER BY file", "list segments",
                              names, n);
}

int pm_catgt_next_batch_id(pm_store_t *st, int64_t *id)
{
    return pm_catalog_int64(st, "SELECT coalesce(max(id), 0) + 1 FROM gt_batch", "next batch", id);
}

int pm_catgt_lookup_samples(pm_store_t *st, const char *const *names, int n,
                            pm_catgt_sample_t *out)
{
    sqlite3_stmt *q;
    int rc = prep(st,
                  "SELECT s.id, s.individual, src.name FROM sample s JOIN source src ON "
                  "src.id = s.source WHERE s.sample_id = ?1",
                  &q, "look up samples");
    if (rc < 0)
        return rc;
    for (int i = 0; i < n && rc == 0; i++) {
        sqlite3_reset(q);
        sqlite3_bind_text(q, 1, names[i], -1, SQLITE_STATIC);
        int s = sqlite3_step(q);
        out[i].id = -1;
        out[i].individual = -1;
        out[i].source[0] = '\0';
        if (s == SQLITE_ROW) {
            out[i].id = sqlite3_column_int64(q, 0);
            out[i].individual = sqlite3_column_int64(q, 1);
            const char *src = (const char *)sqlite3_column_text(q, 2);
            snprintf(out[i].source, sizeof out[i].source, "%s", src ? src : "");
        } else if (s != SQLITE_DONE) {
            rc = pm_catalog_sqlerr(st, "look up samples");
        }
    }
    sqlite3_finalize(q);
    return rc;
}

int pm_catgt_source_exists(pm_store_t *st, const char *name)
{
    sqlite3_stmt *q;
    int rc = prep(st, "SELECT 1 FROM source WHERE name = ?1", &q, "look up source");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int s = sqlite3_step(q);
    rc = s == SQLITE_ROW ? 1 : s == SQLITE_DONE ? 0 : pm_catalog_sqlerr(st, "look up source");
    sqlite3_finalize(q);
    return rc;
}

/* Id of a contig, inserting it (with its length) when new. */
static int contig_id(pm_store_t *st, sqlite3_stmt *get, sqlite3_stmt *ins,
                     const pm_catgt_contig_in_t *c, int64_t *id)
{
    sqlite3_reset(get);
    sqlite3_bind_text(get, 1, c->name, -1, SQLITE_STATIC);
    int s = sqlite3_step(get);
    if (s == SQLITE_ROW) {
        *id = sqlite3_column_int64(get, 0);
        return 0;
    }
    if (s != SQLITE_DONE)
        return pm_catalog_sqlerr(st, "look up contig");
    sqlite3_reset(ins);
    sqlite3_bind_text(ins, 1, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 2, c->length);
    if (sqlite3_step(ins) != SQLITE_DONE)
        return pm_catalog_sqlerr(st, "add contig");
    *id = sqlite3_last_insert_rowid(st->db);
    return 0;
}

int pm_catgt_register(pm_store_t *st, const pm_catgt_batch_in_t *b)
{
    sqlite3_stmt *q[6] = {0};
    int64_t *cid = calloc((size_t)b->n_contigs + 1, sizeof *cid);
    if (!cid)
        return pm_err(st->ctx, PM_ENOMEM, "out of memory");
    int rc = 0;
    if ((rc = prep(st, "SELECT id FROM gt_contig WHERE name = ?1", &q[0], "contigs")) < 0 ||
        (rc = prep(st, "INSERT INTO gt_contig(name, length) VALUES(?1, ?2)", &q[1], "contigs")) <
            0 ||
        (rc = prep(st,
                   "INSERT INTO gt_batch(id, file, source, n_samples, n_records, n_variants, "
                   "callable) VALUES(?1,?2,?3,?4,?5,?6,?7)",
                   &q[2], "add batch")) < 0 ||
        (rc = prep(st, "INSERT INTO gt_batch_sample(batch, col, sample) VALUES(?1,?2,?3)", &q[3],
                   "add batch samples")) < 0 ||
        (rc = prep(st,
                   "INSERT INTO gt_segment(batch, contig, file, first_pos, last_pos, n_records, "
                   "n_variants, bytes) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
                   &q[4], "add segments")) < 0 ||
        (rc = prep(st, "INSERT INTO gt_callable(batch, contig, beg, end) VALUES(?1,?2,?3,?4)",
                   &q[5], "add callable regions")) < 0)
        goto out;
    for (int i = 0; i < b->n_contigs && rc == 0; i++)
        rc = contig_id(st, q[0], q[1], &b->contigs[i], &cid[i]);
    if (rc < 0)
        goto out;
    sqlite3_bind_int64(q[2], 1, b->id);
    sqlite3_bind_text(q[2], 2, b->file, -1, SQLITE_STATIC);
    if (b->source)
        sqlite3_bind_text(q[2], 3, b->source, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q[2], 3);
    sqlite3_bind_int64(q[2], 4, b->n_samples);
    sqlite3_bind_int64(q[2], 5, b->records);
    sqlite3_bind_int64(q[2], 6, b->variants);
    sqlite3_bind_int(q[2], 7, b->has_callable ? 1 : 0);
    if (sqlite3_step(q[2]) != SQLITE_DONE) {
        rc = pm_catalog_sqlerr(st, "add batch");
        goto out;
    }
    for (int64_t i = 0; i < b->n_samples; i++) {
        sqlite3_reset(q[3]);
        sqlite3_bind_int64(q[3], 1, b->id);
        sqlite3_bind_int64(q[3], 2, i);
        sqlite3_bind_int64(q[3], 3, b->sample[i]);
        if (sqlite3_step(q[3]) != SQLITE_DONE) {
            rc = pm_catalog_sqlerr(st, "add batch samples");
            goto out;
        }
    }
    for (int i = 0; i < b->n_segs; i++) {
        const pm_catgt_segment_in_t *s = &b->segs[i];
        sqlite3_reset(q[4]);
        sqlite3_bind_int64(q[4], 1, b->id);
        sqlite3_bind_int64(q[4], 2, cid[s->contig]);
        sqlite3_bind_text(q[4], 3, s->file, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q[4], 4, s->first_pos);
        sqlite3_bind_int64(q[4], 5, s->last_pos);
        sqlite3_bind_int64(q[4], 6, s->records);
        sqlite3_bind_int64(q[4], 7, s->variants);
        sqlite3_bind_int64(q[4], 8, (int64_t)s->bytes);
        if (sqlite3_step(q[4]) != SQLITE_DONE) {
            rc = pm_catalog_sqlerr(st, "add segments");
            goto out;
        }
    }
    for (size_t i = 0; i < b->n_callable; i++) {
        const pm_catgt_interval_in_t *c = &b->callable[i];
        sqlite3_reset(q[5]);
        sqlite3_bind_int64(q[5], 1, b->id);
        sqlite3_bind_int64(q[5], 2, cid[c->contig]);
        sqlite3_bind_int64(q[5], 3, c->beg);
        sqlite3_bind_int64(q[5], 4, c->end);
        if (sqlite3_step(q[5]) != SQLITE_DONE) {
            rc = pm_catalog_sqlerr(st, "add callable regions");
            goto out;
        }
    }
    if (b->build)
        rc = pm_catalog_meta_set(st, "reference_build", b->build);
    if (rc == 0) {
        sqlite3_stmt *ing;
        if ((rc = prep(st, "INSERT INTO ingest(kind, file, rows) VALUES('vcf', ?1, ?2)", &ing,
                       "record ingest")) == 0) {
            sqlite3_bind_text(ing, 1, b->file, -1, SQLITE_STATIC);
            sqlite3_bind_int64(ing, 2, b->records);
            if (sqlite3_step(ing) != SQLITE_DONE)
                rc = pm_catalog_sqlerr(st, "record ingest");
            sqlite3_finalize(ing);
        }
    }
out:
    for (int i = 0; i < 6; i++)
        sqlite3_finalize(q[i]);
    free(cid);
    return rc;
}

/* ---- queries ---- */

/* Sources and counties repeat across columns: keep one copy of each of
 * up to 256 distinct values. */
typedef struct interner {
    const char *v[256];
    int n;
} interner_t;

static const char *keep_str(pm_catgt_t *c, const unsigned char *s);

static const char *intern_str(pm_catgt_t *c, interner_t *in, const unsigned char *s, int *oom)
{
    if (!s)
        return NULL;
    for (int i = 0; i < in->n; i++)
        if (strcmp(in->v[i], (const char *)s) == 0)
            return in->v[i];
    const char *d = keep_str(c, s);
    if (!d)
        *oom = 1;
    else if (in->n < 256)
        in->v[in->n++] = d;
    return d;
}

static const char *keep_str(pm_catgt_t *c, const unsigned char *s)
{
    if (!s)
        return NULL;
    if (c->n_strings == c->cap_strings) {
        size_t cap = c->cap_strings ? 2 * c->cap_strings : 256;
        char **nv = realloc(c->strings, cap * sizeof *nv);
        if (!nv)
            return NULL;
        c->strings = nv;
        c->cap_strings = cap;
    }
    char *d = strdup((const char *)s);
    if (d)
        c->strings[c->n_strings++] = d;
    return d;
}

void pm_catgt_free(pm_catgt_t *c)
{
    if (!c || --c->refs > 0)
        return;
    for (int i = 0; i < c->n_batches; i++)
        free(c->batch[i].cols);
    free(c->batch);
    free(c->contig_id);
    free(c->contig);
    free(c->contig_len);
    pm_catgt_strv_free(c->strings, c->n_strings);
    free(c);
}

/* Reads a new snapshot (one reference) from the catalog. */
static int catgt_read(pm_store_t *st, int want_ids, pm_catgt_t **out)
{
    *out = NULL;
    pm_catgt_t *c = calloc(1, sizeof *c);
    if (!c)
        return pm_err(st->ctx, PM_ENOMEM, "out of memory");
    c->refs = 1;
    c->with_ids = want_ids != 0;
    sqlite3_stmt *q = NULL;
    int rc = 0, s;
    /* contigs */
    if ((rc = prep(st, "SELECT count(*) FROM gt_contig", &q, "list contigs")) < 0)
        goto fail;
    int nc = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
    sqlite3_finalize(q);
    q = NULL;
    c->contig_id = calloc((size_t)nc + 1, sizeof *c->contig_id);
    c->contig = calloc((size_t)nc + 1, sizeof *c->contig);
    c->contig_len = calloc((size_t)nc + 1, sizeof *c->contig_len);
    if (!c->contig_id || !c->contig || !c->contig_len)
        goto oom;
    if ((rc = prep(st, "SELECT id, name, length FROM gt_contig ORDER BY id", &q,
                   "list contigs")) < 0)
        goto fail;
    while ((s = sqlite3_step(q)) == SQLITE_ROW && c->n_contigs < nc) {
        int i = c->n_contigs++;
        c->contig_id[i] = sqlite3_column_int64(q, 0);
        if (!(c->contig[i] = (char *)keep_str(c, sqlite3_column_text(q, 1))))
            goto oom;
        c->contig_len[i] = sqlite3_column_int64(q, 2);
    }
    sqlite3_finalize(q);
    q = NULL;
    /* batches */
    if ((rc = prep(st, "SELECT count(*) FROM gt_batch", &q, "list batches")) < 0)
        goto fail;
    int nb = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
    sqlite3_finalize(q);
    q = NULL;
    c->batch = calloc((size_t)nb + 1, sizeof *c->batch);
    if (!c->batch)
        goto oom;
    if ((rc = prep(st, "SELECT id, n_samples, callable FROM gt_batch ORDER BY id", &q,
                   "list batches")) < 0)
        goto fail;
    while ((s = sqlite3_step(q)) == SQLITE_ROW && c->n_batches < nb) {
        pm_catgt_batch_t *b = &c->batch[c->n_batches++];
        b->id = sqlite3_column_int64(q, 0);
        b->n_samples = sqlite3_column_int(q, 1);
        b->callable = sqlite3_column_int(q, 2);
        b->cols = calloc((size_t)b->n_samples + 1, sizeof *b->cols);
        if (!b->cols)
            goto oom;
    }
    sqlite3_finalize(q);
    q = NULL;
    /* columns, with what queries need of their samples and individuals */
    if ((rc = prep(st,
                   "SELECT bs.batch, bs.col, s.id, s.sample_id, s.individual, src.name, i.sex, "
                   "i.county, i.withdrawn FROM gt_batch_sample bs JOIN sample s ON s.id = "
                   "bs.sample JOIN source src ON src.id = s.source JOIN individual i ON i.idx "
                   "= s.individual ORDER BY bs.batch, bs.col",
                   &q, "list batch samples")) < 0)
        goto fail;
    int bi = 0;
    interner_t in = {{0}, 0};
    int nomem = 0;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t bid = sqlite3_column_int64(q, 0);
        while (bi < c->n_batches && c->batch[bi].id < bid)
            bi++;
        if (bi == c->n_batches || c->batch[bi].id != bid)
            continue;
        int64_t col = sqlite3_column_int64(q, 1);
        if (col < 0 || col >= c->batch[bi].n_samples)
            continue;
        pm_catgt_col_t *cl = &c->batch[bi].cols[col];
        cl->sample = sqlite3_column_int64(q, 2);
        cl->sample_id = want_ids ? keep_str(c, sqlite3_column_text(q, 3)) : "";
        cl->individual = sqlite3_column_int64(q, 4);
        cl->source = intern_str(c, &in, sqlite3_column_text(q, 5), &nomem);
        const unsigned char *sex = sqlite3_column_text(q, 6);
        cl->sex = sex ? (char)sex[0] : 0;
        cl->county = sqlite3_column_type(q, 7) == SQLITE_NULL
                         ? NULL
                         : intern_str(c, &in, sqlite3_column_text(q, 7), &nomem);
        cl->withdrawn = sqlite3_column_int(q, 8);
        if (!cl->sample_id || !cl->source || nomem)
            goto oom;
    }
    if (s != SQLITE_DONE) {
        rc = pm_catalog_sqlerr(st, "list batch samples");
        goto fail;
    }
    sqlite3_finalize(q);
    *out = c;
    return 0;
oom:
    rc = pm_err(st->ctx, PM_ENOMEM, "out of memory");
fail:
    sqlite3_finalize(q);
    pm_catgt_free(c);
    return rc;
}

int pm_catgt_load(pm_store_t *st, int want_ids, pm_catgt_t **out)
{
    *out = NULL;
    uint64_t gen = pm_catalog_generation(st);
    pm_catgt_t *c = st->gt_cache;
    if (gen && c && st->gt_gen == gen && (c->with_ids || !want_ids)) {
        c->refs++;
        *out = c;
        return 0;
    }
    int rc = catgt_read(st, want_ids, &c);
    if (rc < 0)
        return rc;
    if (gen) {
        pm_catgt_free(st->gt_cache);
        st->gt_cache = c;
        st->gt_gen = gen;
        c->refs++;
    }
    *out = c;
    return 0;
}

void pm_catgt_segs_free(pm_catgt_seg_t *s, size_t n)
{
    if (!s)
        return;
    for (size_t i = 0; i < n; i++)
        free(s[i].file);
    free(s);
}

struct pm_catgt_segrow {
    int64_t contig, batch, first_pos, last_pos;
    char *file;
};

void pm_catgt_segcache_free(pm_store_t *st)
{
    for (size_t i = 0; i < st->n_segs; i++)
        free(st->segs[i].file);
    free(st->segs);
    st->segs = NULL;
    st->n_segs = 0;
    st->segs_gen = 0;
}

/* Reads the whole segment table, in (contig, batch, first_pos, id) order. */
static int segs_read(pm_store_t *st, struct pm_catgt_segrow **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *q;
    int rc = prep(st,
                  "SELECT contig, batch, first_pos, last_pos, file FROM gt_segment "
                  "ORDER BY contig, batch, first_pos, id",
                  &q, "list segments");
    if (rc < 0)
        return rc;
    struct pm_catgt_segrow *v = NULL;
    size_t len = 0, cap = 0;
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? 2 * cap : 64;
            struct pm_catgt_segrow *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                rc = pm_err(st->ctx, PM_ENOMEM, "out of memory");
                break;
            }
            v = nv;
        }
        struct pm_catgt_segrow *g = &v[len];
        g->contig = sqlite3_column_int64(q, 0);
        g->batch = sqlite3_column_int64(q, 1);
        g->first_pos = sqlite3_column_int64(q, 2);
        g->last_pos = sqlite3_column_int64(q, 3);
        if (!(g->file = strdup((const char *)sqlite3_column_text(q, 4)))) {
            rc = pm_err(st->ctx, PM_ENOMEM, "out of memory");
            break;
        }
        len++;
    }
    if (rc == 0 && s != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "list segments");
    sqlite3_finalize(q);
    if (rc < 0) {
        for (size_t i = 0; i < len; i++)
            free(v[i].file);
        free(v);
        return rc;
    }
    *out = v;
    *n = len;
    return 0;
}

int pm_catgt_segments(pm_store_t *st, int64_t contig_id, int64_t beg, int64_t end,
                      pm_catgt_seg_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    uint64_t gen = pm_catalog_generation(st);
    struct pm_catgt_segrow *rows = st->segs;
    size_t nrows = st->n_segs;
    int fresh = !gen || st->segs_gen != gen || !rows;
    if (fresh) {
        int rc = segs_read(st, &rows, &nrows);
        if (rc < 0)
            return rc;
        if (gen) {
            pm_catgt_segcache_free(st);
            st->segs = rows;
            st->n_segs = nrows;
            st->segs_gen = gen;
        }
    }
    if (end < 0)
        end = INT64_MAX;
    /* the contig's rows: the first by binary search, then in order */
    size_t lo = 0, hi = nrows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rows[mid].contig < contig_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    pm_catgt_seg_t *v = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (size_t i = lo; i < nrows && rows[i].contig == contig_id && rc == 0; i++) {
        if (rows[i].last_pos < beg || rows[i].first_pos > end)
            continue;
        if (len == cap) {
            cap = cap ? 2 * cap : 8;
            pm_catgt_seg_t *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                rc = pm_err(st->ctx, PM_ENOMEM, "out of memory");
                break;
            }
            v = nv;
        }
        v[len] = (pm_catgt_seg_t){rows[i].batch, strdup(rows[i].file), rows[i].first_pos,
                                  rows[i].last_pos};
        if (!v[len].file)
            rc = pm_err(st->ctx, PM_ENOMEM, "out of memory");
        else
            len++;
    }
    if (!(gen && st->segs == rows)) {
        for (size_t i = 0; i < nrows; i++)
            free(rows[i].file);
        free(rows);
    }
    if (rc < 0) {
        pm_catgt_segs_free(v, len);
        return rc;
    }
    *out = v;
    *n = len;
    return 0;
}

int pm_catgt_callable(pm_store_t *st, int64_t batch, int64_t contig_id, int64_t **iv, size_t *n)
{
    *iv = NULL;
    *n = 0;
    sqlite3_stmt *q;
    int rc = prep(st,
                  "SELECT beg, end FROM gt_callable WHERE batch = ?1 AND contig = ?2 ORDER BY "
                  "beg",
                  &q, "list callable regions");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(q, 1, batch);
    sqlite3_bind_int64(q, 2, contig_id);
    int64_t *v = NULL;
    size_t len = 0, cap = 0;
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? 2 * cap : 64;
            int64_t *nv = realloc(v, 2 * cap * sizeof *nv);
            if (!nv) {
                rc = pm_err(st->ctx, PM_ENOMEM, "out of memory");
                break;
            }
            v = nv;
        }
        v[2 * len] = sqlite3_column_int64(q, 0);
        v[2 * len + 1] = sqlite3_column_int64(q, 1);
        len++;
    }
    if (rc == 0 && s != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "list callable regions");
    sqlite3_finalize(q);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *iv = v;
    *n = len;
    return 0;
}
