/*
 * ingest_tables.c - the population and samples tables (promise/tables.h;
 * formats, validation and update policy in docs/ingest.md).
 *
 * One ingest = one catalog transaction. Rows are validated and applied
 * one at a time inside it; the first bad row rolls everything back, so
 * the catalog is exactly as before. When no row changed anything the
 * transaction is rolled back as well: loading the same file twice leaves
 * the store byte-for-byte unchanged, ingest log included.
 */
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "catalog/individual.h"
#include "core/tsv.h"
#include "identity/digest.h"
#include "promise/tables.h"

#define NAME_MAX_LEN 64 /* sample_id, source, assay, tissue */
#define PROGRESS_EVERY 65536

/* ---- a string -> line map for duplicate detection within a file ---- */

typedef struct strmap {
    char *buf;          /* NUL-separated keys */
    size_t len, cap;
    size_t *off;        /* per slot: key offset + 1, 0 = empty */
    long *val;
    size_t nslots, n;
} strmap_t;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ^ (h >> 29);
}

static void strmap_free(strmap_t *m)
{
    free(m->buf);
    free(m->off);
    free(m->val);
    memset(m, 0, sizeof *m);
}

static int strmap_grow(strmap_t *m)
{
    size_t ns = m->nslots ? m->nslots * 2 : 1024;
    size_t *off = calloc(ns, sizeof *off);
    long *val = malloc(ns * sizeof *val);
    if (!off || !val) {
        free(off);
        free(val);
        return -1;
    }
    for (size_t i = 0; i < m->nslots; i++) {
        if (!m->off[i])
            continue;
        size_t j = hash_str(m->buf + m->off[i] - 1) & (ns - 1);
        while (off[j])
            j = (j + 1) & (ns - 1);
        off[j] = m->off[i];
        val[j] = m->val[i];
    }
    free(m->off);
    free(m->val);
    m->off = off;
    m->val = val;
    m->nslots = ns;
    return 0;
}

/* Returns the value stored for key (>0), or 0 after inserting key -> val;
 * -1 on OOM. */
static long strmap_put(strmap_t *m, const char *key, long val)
{
    if ((m->n + 1) * 2 > m->nslots && strmap_grow(m) < 0)
        return -1;
    size_t i = hash_str(key) & (m->nslots - 1);
    while (m->off[i]) {
        if (strcmp(m->buf + m->off[i] - 1, key) == 0)
            return m->val[i];
        i = (i + 1) & (m->nslots - 1);
    }
    size_t kl = strlen(key) + 1;
    if (m->len + kl > m->cap) {
        size_t cap = m->cap ? m->cap : 65536;
        while (cap < m->len + kl)
            cap *= 2;
        char *b = realloc(m->buf, cap);
        if (!b)
            return -1;
        m->buf = b;
        m->cap = cap;
    }
    memcpy(m->buf + m->len, key, kl);
    m->off[i] = m->len + 1;
    m->val[i] = val;
    m->len += kl;
    m->n++;
    return 0;
}

/* ---- field validation ---- */

static const char *const counties[] = {"01", "03", "04", "05", "06", "07", "08",
                                       "09", "10", "12", "13", "14", "17", "18",
                                       "19", "20", "21", "22", "23", "24", "25"};

static int valid_county(const char *s)
{
    for (size_t i = 0; i < sizeof counties / sizeof *counties; i++)
        if (strcmp(s, counties[i]) == 0)
            return 1;
    return 0;
}

/* A name: 1..NAME_MAX_LEN bytes of printable ASCII or UTF-8, no control
 * characters; spaces only when allow_space. */
static int valid_name(const char *s, int allow_space)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) {
        if (*p == ' ' ? !allow_space : (*p < 0x21 || *p == 0x7f))
            return 0;
    }
    return n > 0 && n <= NAME_MAX_LEN && s[0] != ' ' && s[n - 1] != ' ';
}

static void ymd_str(int ymd, char *buf, size_t cap)
{
    snprintf(buf, cap, "%04d-%02d-%02d", ymd / 10000, ymd / 100 % 100, ymd % 100);
}

/* Parses an optional date column: 0 and *ymd = 0 when the column is
 * absent or the field empty. */
static int opt_date(pm_tsv_t *t, int col, int *ymd)
{
    *ymd = 0;
    if (col < 0)
        return 0;
    const char *s = pm_tsv_field(t, col);
    if (!*s)
        return 0;
    int rc = pm_iso_date_parse(s, ymd);
    if (rc == -1)
        return pm_tsv_err(t, col, PM_EINPUT, "'%s' is not a date (expected YYYY-MM-DD)", s);
    if (rc < 0)
        return pm_tsv_err(t, col, PM_EINPUT, "no such date '%s'", s);
    return 0;
}

/* ---- shared ingest plumbing ---- */

typedef struct ingest {
    pm_store_t *st;
    pm_ctx_t *ctx;
    sqlite3 *db;
    pm_tsv_t *t;
    const char *kind;
    pm_idcol_t ic;
    pm_ingest_result_t res;
    strmap_t seen;
    int changed;
    sqlite3_stmt *q[8];
} ingest_t;

static int prep(ingest_t *g, int i, const char *sql)
{
    if (sqlite3_prepare_v2(g->db, sql, -1, &g->q[i], NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(g->st, "prepare");
    return 0;
}

/* Checks the header against the known columns of this kind. */
static int check_columns(ingest_t *g, const char *const *known, const char *const *required,
                         int ignore_extra)
{
    pm_tsv_t *t = g->t;
    for (int i = 0; i < pm_tsv_ncols(t); i++) {
        const char *name = pm_tsv_colname(t, i);
        int ok = strcmp(name, "personnummer") == 0 || strcmp(name, "pseudonym") == 0;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(name, *k) == 0;
        if (!ok && !ignore_extra)
            return pm_tsv_err(t, i, PM_EINPUT, "unknown column; --ignore-extra skips it");
    }
    for (const char *const *r = required; *r; r++)
        if (pm_tsv_col(t, *r) < 0)
            return pm_err(g->ctx, PM_EINPUT, "%s:%ld: missing column '%s'", pm_tsv_path(t),
                          pm_tsv_lineno(t), *r);
    return 0;
}

static int begin(ingest_t *g, pm_store_t *st, const char *kind, const char *path)
{
    memset(g, 0, sizeof *g);
    g->st = st;
    g->ctx = pm_store_ctx(st);
    g->db = pm_catalog_db(st);
    g->kind = kind;
    int rc = pm_tsv_open(g->ctx, path, NULL, &g->t);
    if (rc < 0)
        return rc;
    /* A national population is a large transaction of random-order keys:
     * give this connection room so pages are not spilled mid-ingest. The
     * cache grows only as needed; the setting lasts while the handle does. */
    sqlite3_exec(g->db, "PRAGMA cache_size=-262144", NULL, NULL, NULL);
    if ((rc = pm_catalog_begin(st)) < 0) {
        pm_tsv_close(g->t);
        g->t = NULL;
        return rc;
    }
    return 0;
}

static int log_ingest(ingest_t *g, const char *path)
{
    char real[PATH_MAX];
    const char *file = realpath(path, real) ? real : path;
    /* The digest is provenance, not a precondition: a pipe or a file gone
     * since it was read leaves sha256 NULL rather than failing the ingest. */
    char sha[PM_SHA256_HEX + 1];
    int have_sha = strcmp(path, "-") != 0 && pm_sha256_file(NULL, path, sha) == 0;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(g->db,
                           "INSERT INTO ingest(kind, file, rows, sha256) VALUES(?1, ?2, ?3, ?4)",
                           -1, &q, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(g->st, "log ingest");
    sqlite3_bind_text(q, 1, g->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, file, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 3, g->res.rows);
    if (have_sha)
        sqlite3_bind_text(q, 4, sha, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : pm_catalog_sqlerr(g->st, "log ingest");
    sqlite3_finalize(q);
    return rc;
}

/* Commits when something changed, else rolls back (no trace at all);
 * on rc < 0 rolls back. Frees everything. */
static int finish(ingest_t *g, int rc, const char *path, pm_ingest_result_t *res)
{
    for (size_t i = 0; i < sizeof g->q / sizeof *g->q; i++)
        sqlite3_finalize(g->q[i]);
    if (rc >= 0 && (g->changed || g->ic.bound)) {
        rc = log_ingest(g, path);
        if (rc >= 0)
            rc = pm_catalog_commit(g->st);
        else
            pm_catalog_rollback(g->st);
    } else {
        pm_catalog_rollback(g->st);
    }
    pm_idcol_finish(&g->ic);
    strmap_free(&g->seen);
    pm_tsv_close(g->t);
    if (rc >= 0 && res)
        *res = g->res;
    if (rc >= 0)
        pm_progress(g->ctx, "rows", (uint64_t)g->res.rows, (uint64_t)g->res.rows);
    return rc < 0 ? rc : 0;
}

/* Reads the identity of the current row and refuses a repeat within the
 * file. */
static int read_identity(ingest_t *g, char *pseudo, pm_pnr_t *pnr, int check_dup)
{
    int rc = pm_idcol_read(&g->ic, pseudo, pnr);
    if (rc < 0 || !check_dup)
        return rc;
    long prev = strmap_put(&g->seen, pseudo, pm_tsv_lineno(g->t));
    if (prev < 0)
        return pm_err(g->ctx, PM_ENOMEM, "out of memory");
    if (prev > 0)
        return pm_tsv_err(g->t, g->ic.col, PM_EINPUT, "the same individual is already on line %ld",
                          prev);
    return rc;
}

static void bind_opt_text(sqlite3_stmt *q, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(q, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, i);
}

static void bind_opt_date(sqlite3_stmt *q, int i, int ymd)
{
    if (ymd) {
        char b[16];
        ymd_str(ymd, b, sizeof b);
        sqlite3_bind_text(q, i, b, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(q, i);
    }
}

static int col_date(sqlite3_stmt *q, int i)
{
    const char *s = (const char *)sqlite3_column_text(q, i);
    int ymd = 0;
    if (s && pm_iso_date_parse(s, &ymd) != 0)
        ymd = 0;
    return ymd;
}

static void col_text(sqlite3_stmt *q, int i, char *buf, size_t cap)
{
    const char *s = (const char *)sqlite3_column_text(q, i);
    snprintf(buf, cap, "%s", s ? s : "");
}

/* ---- population ---- */

enum { P_FIND, P_INSERT, P_UPDATE, P_NEXT };

typedef struct person {
    char sex; /* 0 unknown */
    int birth, death, emig;
    char county[3];
} person_t;

static int population_row(ingest_t *g, int64_t *next_idx, const int *c)
{
    pm_tsv_t *t = g->t;
    enum { SEX, BIRTH, COUNTY, DEATH, EMIG };
    char pseudo[PM_PSEUDONYM_MAX];
    pm_pnr_t pnr;
    memset(&pnr, 0, sizeof pnr);
    int rc = read_identity(g, pseudo, &pnr, 1);
    if (rc < 0)
        return rc;
    int from_pnr = rc == 1;
    int pnr_birth = from_pnr ? pnr.year * 10000 + pnr.month * 100 + pnr.day : 0;
    char pnr_sex = pnr.sex;
    memset(&pnr, 0, sizeof pnr);

    person_t f = {0};
    const char *s = c[SEX] >= 0 ? pm_tsv_field(t, c[SEX]) : "";
    if (*s) {
        if (strcmp(s, "M") && strcmp(s, "F"))
            return pm_tsv_err(t, c[SEX], PM_EINPUT, "sex must be M or F, not '%s'", s);
        if (from_pnr && s[0] != pnr_sex)
            return pm_tsv_err(t, c[SEX], PM_EINPUT, "sex contradicts the personnummer");
        f.sex = s[0];
    } else if (from_pnr) {
        f.sex = pnr_sex;
    }
    if ((rc = opt_date(t, c[BIRTH], &f.birth)) < 0)
        return rc;
    if (f.birth && from_pnr && f.birth != pnr_birth)
        return pm_tsv_err(t, c[BIRTH], PM_EINPUT, "birth_date contradicts the personnummer");
    if (!f.birth)
        f.birth = pnr_birth;
    s = c[COUNTY] >= 0 ? pm_tsv_field(t, c[COUNTY]) : "";
    if (*s) {
        if (!valid_county(s))
            return pm_tsv_err(t, c[COUNTY], PM_EINPUT,
                              "'%s' is not a county (lan) code: 01, 03-10, 12-14, 17-25", s);
        memcpy(f.county, s, 3);
    }
    if ((rc = opt_date(t, c[DEATH], &f.death)) < 0 || (rc = opt_date(t, c[EMIG], &f.emig)) < 0)
        return rc;

    /* merge with what the store knows */
    sqlite3_stmt *q = g->q[P_FIND];
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, pseudo, -1, SQLITE_STATIC);
    int step = sqlite3_step(q);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return pm_catalog_sqlerr(g->st, "find individual");
    int known = step == SQLITE_ROW;
    person_t old = {0}, m = f;
    int64_t idx = 0;
    if (known) {
        idx = sqlite3_column_int64(q, 0);
        char sx[4];
        col_text(q, 1, sx, sizeof sx);
        old.sex = sx[0];
        old.birth = col_date(q, 2);
        col_text(q, 3, old.county, sizeof old.county);
        old.death = col_date(q, 4);
        old.emig = col_date(q, 5);
        int idcol = g->ic.col;
        if (old.sex && f.sex && old.sex != f.sex)
            return pm_tsv_err(t, c[SEX] >= 0 ? c[SEX] : idcol, PM_EINPUT,
                              "sex %c conflicts with %c already stored for this individual",
                              f.sex, old.sex);
        if (old.birth && f.birth && old.birth != f.birth)
            return pm_tsv_err(t, c[BIRTH] >= 0 ? c[BIRTH] : idcol, PM_EINPUT,
                              "birth_date conflicts with the one already stored for this "
                              "individual");
        if (!m.sex)
            m.sex = old.sex;
        if (!m.birth)
            m.birth = old.birth;
        if (!m.county[0])
            memcpy(m.county, old.county, sizeof m.county);
        if (!m.death)
            m.death = old.death;
        if (!m.emig)
            m.emig = old.emig;
    }
    sqlite3_reset(q);
    if (m.birth && m.death && m.death < m.birth)
        return pm_tsv_err(t, c[DEATH] >= 0 ? c[DEATH] : g->ic.col, PM_EINPUT,
                          "death_date is before birth_date");
    if (m.birth && m.emig && m.emig < m.birth)
        return pm_tsv_err(t, c[EMIG] >= 0 ? c[EMIG] : g->ic.col, PM_EINPUT,
                          "emigration_date is before birth_date");

    if (known && m.sex == old.sex && m.birth == old.birth && !strcmp(m.county, old.county) &&
        m.death == old.death && m.emig == old.emig) {
        g->res.unchanged++;
        return 0;
    }
    q = g->q[known ? P_UPDATE : P_INSERT];
    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, known ? idx : *next_idx);
    sqlite3_bind_text(q, 2, pseudo, -1, SQLITE_STATIC);
    char sx[2] = {m.sex, 0};
    bind_opt_text(q, 3, sx);
    bind_opt_date(q, 4, m.birth);
    bind_opt_text(q, 5, m.county);
    bind_opt_date(q, 6, m.death);
    bind_opt_date(q, 7, m.emig);
    if (sqlite3_step(q) != SQLITE_DONE)
        return pm_catalog_sqlerr(g->st, known ? "update individual" : "insert individual");
    sqlite3_reset(q);
    g->changed = 1;
    if (known) {
        g->res.updated++;
    } else {
        g->res.inserted++;
        (*next_idx)++;
    }
    return 0;
}

int pm_ingest_population(pm_store_t *st, const char *path, const pm_ingest_opts_t *o,
                         pm_ingest_result_t *res)
{
    static const char *const known[] = {"sex",        "birth_date",      "county",
                                        "death_date", "emigration_date", NULL};
    static const char *const required[] = {NULL};
    pm_ingest_opts_t dflt = {0};
    if (!o)
        o = &dflt;
    ingest_t g;
    int rc = begin(&g, st, "population", path);
    if (rc < 0)
        return rc;
    int c[5];
    for (int i = 0; i < 5; i++)
        c[i] = pm_tsv_col(g.t, known[i]);
    int ref = o->ref_date ? o->ref_date : pm_ymd_today();
    int64_t next_idx = 0;
    if ((rc = check_columns(&g, known, required, o->ignore_extra)) < 0 ||
        (rc = pm_idcol_init(&g.ic, st, g.t, o->key, ref)) < 0)
        goto out;
    if ((rc = prep(&g, P_FIND,
                   "SELECT idx, sex, birth_date, county, death_date, emigration_date "
                   "FROM individual WHERE pseudonym=?1")) < 0 ||
        (rc = prep(&g, P_INSERT,
                   "INSERT INTO individual(idx, pseudonym, sex, birth_date, county, death_date, "
                   "emigration_date) VALUES(?1,?2,?3,?4,?5,?6,?7)")) < 0 ||
        (rc = prep(&g, P_UPDATE,
                   "UPDATE individual SET sex=?3, birth_date=?4, county=?5, death_date=?6, "
                   "emigration_date=?7 WHERE idx=?1 AND pseudonym=?2")) < 0 ||
        (rc = prep(&g, P_NEXT, "SELECT coalesce(max(idx) + 1, 0) FROM individual")) < 0)
        goto out;
    if (sqlite3_step(g.q[P_NEXT]) != SQLITE_ROW) {
        rc = pm_catalog_sqlerr(st, "count individuals");
        goto out;
    }
    next_idx = sqlite3_column_int64(g.q[P_NEXT], 0);
    while ((rc = pm_tsv_next(g.t)) > 0) {
        g.res.rows++;
        if ((rc = population_row(&g, &next_idx, c)) < 0)
            break;
        if (g.res.rows % PROGRESS_EVERY == 0)
            pm_progress(g.ctx, "rows", (uint64_t)g.res.rows, 0);
    }
out:
    return finish(&g, rc, path, res);
}

/* ---- samples ---- */

enum { S_FIND_IND, S_FIND, S_INSERT, S_UPDATE, S_NAME_ADD, S_NAME_ID };

typedef struct sample {
    int64_t individual, source, assay;
    char grade[16];
    char tissue[NAME_MAX_LEN + 1];
    int date;
} sample_t;

/* Id of a source or assay by name, adding it when new. */
static int name_id(ingest_t *g, const char *table, const char *name, int64_t *id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO %s(name) VALUES(?1)", table);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(g->db, sql, -1, &q, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(g->st, table);
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : pm_catalog_sqlerr(g->st, table);
    sqlite3_finalize(q);
    if (rc < 0)
        return rc;
    if (sqlite3_changes(g->db) > 0)
        g->changed = 1;
    snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE name=?1", table);
    if (sqlite3_prepare_v2(g->db, sql, -1, &q, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(g->st, table);
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(q) == SQLITE_ROW ? 0 : pm_catalog_sqlerr(g->st, table);
    if (rc == 0)
        *id = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return rc;
}

/* Small cache in front of name_id: files name a handful of sources. */
typedef struct name_cache {
    char name[16][NAME_MAX_LEN + 1];
    int64_t id[16];
    int n;
} name_cache_t;

static int cached_id(ingest_t *g, name_cache_t *nc, const char *table, const char *name,
                     int64_t *id)
{
    for (int i = 0; i < nc->n; i++)
        if (strcmp(nc->name[i], name) == 0) {
            *id = nc->id[i];
            return 0;
        }
    int rc = name_id(g, table, name, id);
    if (rc < 0)
        return rc;
    int slot = nc->n < 16 ? nc->n++ : 15;
    snprintf(nc->name[slot], sizeof nc->name[slot], "%s", name);
    nc->id[slot] = *id;
    return 0;
}

typedef struct sample_cols {
    int id, source, assay, grade, tissue, date;
} sample_cols_t;

static int sample_row(ingest_t *g, const sample_cols_t *c, name_cache_t *sources,
                      name_cache_t *assays)
{
    pm_tsv_t *t = g->t;
    const char *sid = pm_tsv_field(t, c->id);
    if (!*sid)
        return pm_tsv_err(t, c->id, PM_EINPUT, "empty sample_id");
    if (!valid_name(sid, 0))
        return pm_tsv_err(t, c->id, PM_EINPUT,
                          "a sample_id is 1-%d printable characters without spaces",
                          NAME_MAX_LEN);
    long prev = strmap_put(&g->seen, sid, pm_tsv_lineno(t));
    if (prev < 0)
        return pm_err(g->ctx, PM_ENOMEM, "out of memory");
    if (prev > 0)
        return pm_tsv_err(t, c->id, PM_EINPUT, "sample '%s' is already on line %ld", sid, prev);

    char pseudo[PM_PSEUDONYM_MAX];
    int rc = read_identity(g, pseudo, NULL, 0);
    if (rc < 0)
        return rc;
    sqlite3_stmt *q = g->q[S_FIND_IND];
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, pseudo, -1, SQLITE_STATIC);
    int step = sqlite3_step(q);
    if (step == SQLITE_DONE)
        return pm_tsv_err(t, g->ic.col, PM_EINPUT,
                          "individual is not in the population (ingest the population first)");
    if (step != SQLITE_ROW)
        return pm_catalog_sqlerr(g->st, "find individual");
    sample_t f = {0};
    f.individual = sqlite3_column_int64(q, 0);
    int birth = col_date(q, 1);
    sqlite3_reset(q);

    const char *s = pm_tsv_field(t, c->source);
    if (!*s)
        return pm_tsv_err(t, c->source, PM_EINPUT, "empty source");
    if (!valid_name(s, 0))
        return pm_tsv_err(t, c->source, PM_EINPUT,
                          "a source name is 1-%d printable characters without spaces", NAME_MAX_LEN);
    if ((rc = cached_id(g, sources, "source", s, &f.source)) < 0)
        return rc;
    s = pm_tsv_field(t, c->assay);
    if (!*s)
        return pm_tsv_err(t, c->assay, PM_EINPUT, "empty assay");
    if (!valid_name(s, 0))
        return pm_tsv_err(t, c->assay, PM_EINPUT,
                          "an assay name is 1-%d printable characters without spaces", NAME_MAX_LEN);
    if ((rc = cached_id(g, assays, "assay", s, &f.assay)) < 0)
        return rc;
    s = c->grade >= 0 ? pm_tsv_field(t, c->grade) : "";
    if (*s && strcmp(s, "research") && strcmp(s, "clinical"))
        return pm_tsv_err(t, c->grade, PM_EINPUT, "grade must be research or clinical, not '%s'",
                          s);
    snprintf(f.grade, sizeof f.grade, "%s", s);
    s = c->tissue >= 0 ? pm_tsv_field(t, c->tissue) : "";
    if (*s && !valid_name(s, 1))
        return pm_tsv_err(t, c->tissue, PM_EINPUT, "a tissue is 1-%d printable characters",
                          NAME_MAX_LEN);
    snprintf(f.tissue, sizeof f.tissue, "%s", s);
    if ((rc = opt_date(t, c->date, &f.date)) < 0)
        return rc;
    if (f.date && birth && f.date < birth)
        return pm_tsv_err(t, c->date, PM_EINPUT,
                          "collection_date is before the individual's birth_date");

    q = g->q[S_FIND];
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, sid, -1, SQLITE_STATIC);
    step = sqlite3_step(q);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return pm_catalog_sqlerr(g->st, "find sample");
    int known = step == SQLITE_ROW;
    sample_t old = {0}, m = f;
    if (known) {
        old.individual = sqlite3_column_int64(q, 0);
        old.source = sqlite3_column_int64(q, 1);
        old.assay = sqlite3_column_int64(q, 2);
        col_text(q, 3, old.grade, sizeof old.grade);
        col_text(q, 4, old.tissue, sizeof old.tissue);
        old.date = col_date(q, 5);
        sqlite3_reset(q);
        if (old.individual != f.individual)
            return pm_tsv_err(t, g->ic.col, PM_EINPUT,
                              "sample '%s' already belongs to another individual", sid);
        if (!m.grade[0])
            memcpy(m.grade, old.grade, sizeof m.grade);
        if (!m.tissue[0])
            memcpy(m.tissue, old.tissue, sizeof m.tissue);
        if (!m.date)
            m.date = old.date;
        if (m.source == old.source && m.assay == old.assay && !strcmp(m.grade, old.grade) &&
            !strcmp(m.tissue, old.tissue) && m.date == old.date) {
            g->res.unchanged++;
            return 0;
        }
    }
    sqlite3_reset(q);
    q = g->q[known ? S_UPDATE : S_INSERT];
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, sid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, m.individual);
    sqlite3_bind_int64(q, 3, m.source);
    sqlite3_bind_int64(q, 4, m.assay);
    bind_opt_text(q, 5, m.grade);
    bind_opt_text(q, 6, m.tissue);
    bind_opt_date(q, 7, m.date);
    if (sqlite3_step(q) != SQLITE_DONE)
        return pm_catalog_sqlerr(g->st, known ? "update sample" : "insert sample");
    sqlite3_reset(q);
    g->changed = 1;
    if (known)
        g->res.updated++;
    else
        g->res.inserted++;
    return 0;
}

int pm_ingest_samples(pm_store_t *st, const char *path, const pm_ingest_opts_t *o,
                      pm_ingest_result_t *res)
{
    static const char *const known[] = {"sample_id", "source",          "assay", "grade",
                                        "tissue",    "collection_date", NULL};
    static const char *const required[] = {"sample_id", "source", "assay", NULL};
    pm_ingest_opts_t dflt = {0};
    if (!o)
        o = &dflt;
    ingest_t g;
    int rc = begin(&g, st, "samples", path);
    if (rc < 0)
        return rc;
    sample_cols_t c = {pm_tsv_col(g.t, "sample_id"), pm_tsv_col(g.t, "source"),
                       pm_tsv_col(g.t, "assay"),     pm_tsv_col(g.t, "grade"),
                       pm_tsv_col(g.t, "tissue"),    pm_tsv_col(g.t, "collection_date")};
    name_cache_t *caches = calloc(2, sizeof *caches);
    if (!caches) {
        rc = pm_err(g.ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    int ref = o->ref_date ? o->ref_date : pm_ymd_today();
    if ((rc = check_columns(&g, known, required, o->ignore_extra)) < 0 ||
        (rc = pm_idcol_init(&g.ic, st, g.t, o->key, ref)) < 0)
        goto out;
    if ((rc = prep(&g, S_FIND_IND, "SELECT idx, birth_date FROM individual WHERE pseudonym=?1")) <
            0 ||
        (rc = prep(&g, S_FIND,
                   "SELECT individual, source, assay, grade, tissue, collection_date "
                   "FROM sample WHERE sample_id=?1")) < 0 ||
        (rc = prep(&g, S_INSERT,
                   "INSERT INTO sample(sample_id, individual, source, assay, grade, tissue, "
                   "collection_date) VALUES(?1,?2,?3,?4,?5,?6,?7)")) < 0 ||
        (rc = prep(&g, S_UPDATE,
                   "UPDATE sample SET source=?3, assay=?4, grade=?5, tissue=?6, "
                   "collection_date=?7 WHERE sample_id=?1 AND individual=?2")) < 0)
        goto out;
    while ((rc = pm_tsv_next(g.t)) > 0) {
        g.res.rows++;
        if ((rc = sample_row(&g, &c, &caches[0], &caches[1])) < 0)
            break;
        if (g.res.rows % PROGRESS_EVERY == 0)
            pm_progress(g.ctx, "rows", (uint64_t)g.res.rows, 0);
    }
out:
    free(caches);
    return finish(&g, rc, path, res);
}
