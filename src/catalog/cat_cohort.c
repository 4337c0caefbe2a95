/* cat_cohort.c - catalog queries for cohort evaluation (see cat_cohort.h). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "catalog/cat_cohort.h"

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int32_t pm_cat_parse_date(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    int v[3] = {0, 0, 0};
    static const int start[3] = {0, 5, 8}, len[3] = {4, 2, 2};
    for (int f = 0; f < 3; f++)
        for (int i = 0; i < len[f]; i++) {
            char c = s[start[f] + i];
            if (c < '0' || c > '9')
                return 0;
            v[f] = v[f] * 10 + (c - '0');
        }
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (v[0] < 1 || v[1] < 1 || v[1] > 12 || v[2] < 1)
        return 0;
    int md = mdays[v[1] - 1] + (v[1] == 2 && is_leap(v[0]));
    if (v[2] > md)
        return 0;
    return (int32_t)(v[0] * 10000 + v[1] * 100 + v[2]);
}

static int32_t col_date(sqlite3_stmt *q, int c)
{
    return pm_cat_parse_date((const char *)sqlite3_column_text(q, c));
}

void pm_cat_demo_free(pm_cat_demo_t *d)
{
    if (!d || --d->refs > 0)
        return;
    free(d->sex);
    free(d->birth);
    free(d->death);
    free(d->emig);
    free(d->county);
    free(d->withdrawn);
    free(d);
}

static int16_t parse_county(const char *s)
{
    if (!s || !s[0] || strlen(s) > 2)
        return -1;
    int v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
    }
    return (int16_t)v;
}

/* Reads the columns anew (one reference). */
static int demo_read(pm_store_t *st, pm_cat_demo_t **out)
{
    *out = NULL;
    int64_t n = pm_store_n_individuals(st);
    if (n < 0)
        return (int)n;
    pm_cat_demo_t *d = calloc(1, sizeof *d);
    if (!d)
        return pm_err(st->ctx, PM_ENOMEM, "out of memory");
    d->refs = 1;
    size_t m = n ? (size_t)n : 1;
    d->n = (size_t)n;
    d->sex = calloc(m, 1);
    d->birth = calloc(m, sizeof *d->birth);
    d->death = calloc(m, sizeof *d->death);
    d->emig = calloc(m, sizeof *d->emig);
    d->county = malloc(m * sizeof *d->county);
    d->withdrawn = calloc(m, 1);
    if (!d->sex || !d->birth || !d->death || !d->emig || !d->county || !d->withdrawn) {
        pm_cat_demo_free(d);
        return pm_err(st->ctx, PM_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < m; i++)
        d->county[i] = -1;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT idx, sex, birth_date, county, death_date, emigration_date, "
                           "withdrawn FROM individual",
                           -1, &q, NULL) != SQLITE_OK) {
        pm_cat_demo_free(d);
        return pm_catalog_sqlerr(st, "read population");
    }
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t i = sqlite3_column_int64(q, 0);
        if (i < 0 || i >= n)
            continue; /* not dense: ignore rather than write out of bounds */
        const char *sex = (const char *)sqlite3_column_text(q, 1);
        d->sex[i] = sex && (sex[0] == 'M' || sex[0] == 'F') ? sex[0] : 0;
        d->birth[i] = col_date(q, 2);
        d->county[i] = parse_county((const char *)sqlite3_column_text(q, 3));
        d->death[i] = col_date(q, 4);
        d->emig[i] = col_date(q, 5);
        d->withdrawn[i] = sqlite3_column_int(q, 6) != 0;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        pm_cat_demo_free(d);
        return pm_catalog_sqlerr(st, "read population");
    }
    *out = d;
    return 0;
}

int pm_cat_demo_load(pm_store_t *st, pm_cat_demo_t **out)
{
    *out = NULL;
    uint64_t gen = pm_catalog_generation(st);
    pm_cat_demo_t *d = st->demo_cache;
    if (gen && d && st->demo_gen == gen) {
        d->refs++;
        *out = d;
        return 0;
    }
    int rc = demo_read(st, &d);
    if (rc < 0)
        return rc;
    if (gen) {
        pm_cat_demo_free(st->demo_cache);
        st->demo_cache = d;
        st->demo_gen = gen;
        d->refs++;
    }
    *out = d;
    return 0;
}

/* Runs q (parameters bound) and sets bit column 0 of every row. */
static int stream_idx(pm_store_t *st, sqlite3_stmt *q, pm_bitset_t *set, const char *what)
{
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t i = sqlite3_column_int64(q, 0);
        if (i >= 0 && (uint64_t)i < set->n)
            pm_bitset_set(set, (size_t)i);
    }
    rc = rc == SQLITE_DONE ? 0 : pm_catalog_sqlerr(st, what);
    sqlite3_finalize(q);
    return rc;
}

/* The idx of every withdrawn individual, as a new array. */
static int read_withdrawn(pm_store_t *st, int64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "SELECT idx FROM individual WHERE withdrawn != 0", -1, &q,
                           NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(st, "read withdrawals");
    int64_t *v = NULL;
    size_t len = 0, cap = 0;
    int rc = 0, s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (len == cap) {
            size_t nc = cap ? 2 * cap : 64;
            int64_t *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = pm_err(st->ctx, PM_ENOMEM, "out of memory");
                break;
            }
            v = nv;
            cap = nc;
        }
        v[len++] = sqlite3_column_int64(q, 0);
    }
    if (rc == 0 && s != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "read withdrawals");
    sqlite3_finalize(q);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *out = v;
    *n = len;
    return 0;
}

/* The withdrawn list is cached on the handle (see catalog.h): a
 * withdrawal commits from another connection or this one, either of
 * which moves the catalog's generation. */
int pm_cat_present(pm_store_t *st, pm_bitset_t *set)
{
    pm_bitset_fill(set);
    uint64_t gen = pm_catalog_generation(st);
    int64_t *v = st->withdrawn;
    size_t n = st->n_withdrawn;
    int fresh = !gen || st->withdrawn_gen != gen;
    if (fresh) {
        int rc = read_withdrawn(st, &v, &n);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < n; i++)
        if (v[i] >= 0 && (uint64_t)v[i] < set->n)
            pm_bitset_clear(set, (size_t)v[i]);
    if (fresh && gen) {
        free(st->withdrawn);
        st->withdrawn = v;
        st->n_withdrawn = n;
        st->withdrawn_gen = gen;
    } else if (fresh) {
        free(v);
    }
    return 0;
}

static const char *const group_table[] = {"source", "assay"};

int pm_cat_with_sample(pm_store_t *st, int what, const char *name, pm_bitset_t *set)
{
    const char *tab = group_table[what == PM_CAT_ASSAY];
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE name = ?1 COLLATE NOCASE", tab);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(st, "look up name");
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int found = 0, rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        found++;
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return pm_catalog_sqlerr(st, "look up name");
    if (!found)
        return 0;
    snprintf(sql, sizeof sql,
             "SELECT DISTINCT s.individual FROM sample s JOIN %s g ON g.id = s.%s "
             "WHERE g.name = ?1 COLLATE NOCASE",
             tab, tab);
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(st, "read samples");
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    rc = stream_idx(st, q, set, "read samples");
    return rc < 0 ? rc : found;
}

int64_t pm_cat_sample_dates(pm_store_t *st, int what, const char *name, pm_cat_dated_t **out)
{
    *out = NULL;
    const char *tab = group_table[what == PM_CAT_ASSAY];
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT s.individual, s.collection_date FROM sample s JOIN %s g ON g.id = s.%s "
             "WHERE g.name = ?1 COLLATE NOCASE AND s.collection_date IS NOT NULL "
             "ORDER BY s.individual, s.collection_date",
             tab, tab);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(st, "read sample dates");
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    pm_cat_dated_t *v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int32_t date = col_date(q, 1);
        if (!date)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            pm_cat_dated_t *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                free(v);
                sqlite3_finalize(q);
                return pm_err(st->ctx, PM_ENOMEM, "out of memory");
            }
            v = nv;
            cap = nc;
        }
        v[n].idx = sqlite3_column_int64(q, 0);
        v[n].date = date;
        n++;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        free(v);
        return pm_catalog_sqlerr(st, "read sample dates");
    }
    *out = v;
    return (int64_t)n;
}

void pm_cat_groups_free(pm_cat_groups_t *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++) {
        free(g->name[i]);
        pm_bitset_free(g->members[i]);
    }
    free(g->name);
    free(g->members);
    free(g);
}

int pm_cat_sample_groups(pm_store_t *st, int what, pm_cat_groups_t **out)
{
    *out = NULL;
    int64_t nind = pm_store_n_individuals(st);
    if (nind < 0)
        return (int)nind;
    const char *tab = group_table[what == PM_CAT_ASSAY];
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT g.id, g.name, s.individual FROM %s g LEFT JOIN sample s ON s.%s = g.id "
             "ORDER BY g.name, g.id",
             tab, tab);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(st, "read sample groups");
    pm_cat_groups_t *g = calloc(1, sizeof *g);
    size_t cap = 0;
    int64_t last_id = -1;
    int rc;
    if (!g) {
        sqlite3_finalize(q);
        return pm_err(st->ctx, PM_ENOMEM, "out of memory");
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        if (id != last_id) {
            if (g->n == cap) {
                size_t nc = cap ? cap * 2 : 16;
                char **nn = realloc(g->name, nc * sizeof *nn);
                if (nn)
                    g->name = nn;
                pm_bitset_t **nm = nn ? realloc(g->members, nc * sizeof *nm) : NULL;
                if (!nm)
                    goto oom;
                g->members = nm;
                cap = nc;
            }
            const char *name = (const char *)sqlite3_column_text(q, 1);
            g->name[g->n] = strdup(name ? name : "");
            g->members[g->n] = pm_bitset_new((size_t)nind);
            g->n++;
            if (!g->name[g->n - 1] || !g->members[g->n - 1])
                goto oom;
            last_id = id;
        }
        if (sqlite3_column_type(q, 2) != SQLITE_NULL) {
            int64_t i = sqlite3_column_int64(q, 2);
            if (i >= 0 && i < nind)
                pm_bitset_set(g->members[g->n - 1], (size_t)i);
        }
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        pm_cat_groups_free(g);
        return pm_catalog_sqlerr(st, "read sample groups");
    }
    *out = g;
    return 0;
oom:
    sqlite3_finalize(q);
    pm_cat_groups_free(g);
    return pm_err(st->ctx, PM_ENOMEM, "out of memory");
}

/* ---- test support ---- */

int64_t pm_cat_test_add_individual(pm_store_t *st, const char *pseudonym, const char *sex,
                                   const char *birth, const char *county, const char *death,
                                   const char *emigration, int withdrawn)
{
    int64_t idx = pm_store_n_individuals(st);
    if (idx < 0)
        return idx;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db,
                           "INSERT INTO individual(idx, pseudonym, sex, birth_date, county, "
                           "death_date, emigration_date, withdrawn) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
                           -1, &q, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(st, "add individual");
    sqlite3_bind_int64(q, 1, idx);
    sqlite3_bind_text(q, 2, pseudonym, -1, SQLITE_STATIC);
    const char *vals[] = {sex, birth, county, death, emigration};
    for (int i = 0; i < 5; i++) {
        if (vals[i])
            sqlite3_bind_text(q, 3 + i, vals[i], -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(q, 3 + i);
    }
    sqlite3_bind_int(q, 8, withdrawn != 0);
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : pm_catalog_sqlerr(st, "add individual");
    sqlite3_finalize(q);
    return rc < 0 ? rc : idx;
}

static int64_t group_id(pm_store_t *st, const char *tab, const char *name)
{
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO %s(name) VALUES(?1)", tab);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(st, "add name");
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return pm_catalog_sqlerr(st, "add name");
    snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE name = ?1", tab);
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(st, "add name");
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int64_t id = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0)
                                               : pm_catalog_sqlerr(st, "add name");
    sqlite3_finalize(q);
    return id;
}

int pm_cat_test_add_sample(pm_store_t *st, const char *sample_id, int64_t idx,
                           const char *source, const char *assay, const char *date)
{
    int64_t sid = group_id(st, "source", source), aid = sid < 0 ? sid : group_id(st, "assay", assay);
    if (sid < 0 || aid < 0)
        return (int)(sid < 0 ? sid : aid);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db,
                           "INSERT INTO sample(sample_id, individual, source, assay, grade, "
                           "collection_date) VALUES(?1,?2,?3,?4,'research',?5)",
                           -1, &q, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(st, "add sample");
    sqlite3_bind_text(q, 1, sample_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, idx);
    sqlite3_bind_int64(q, 3, sid);
    sqlite3_bind_int64(q, 4, aid);
    if (date)
        sqlite3_bind_text(q, 5, date, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 5);
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : pm_catalog_sqlerr(st, "add sample");
    sqlite3_finalize(q);
    return rc;
}
