/*
 * cat_registry.c - registry events and consent in the catalog (see
 * cat_registry.h). The event table is the one big table of the catalog
 * (500,000 people x ~100 events = 50M rows), so it is a WITHOUT ROWID
 * b-tree whose key starts with (domain, code): "E11 and descendants" is
 * one range scan, and nothing else indexes it (a second index would double
 * its size). It has no foreign key to individual on purpose: deleting an
 * individual row would otherwise scan every event; ingest checks every
 * individual instead.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/cat_registry.h"
#include "catalog/catalog.h"
#include "catalog/individual.h"

const char pm_schema_registry_v1[] =
    "CREATE TABLE event_domain("
    "  id INTEGER PRIMARY KEY,"
    "  register TEXT NOT NULL,"
    "  system TEXT NOT NULL,"
    "  UNIQUE(register, system));"
    "INSERT INTO event_domain(id, register, system) VALUES"
    "  (1,'patient','icd10'), (2,'patient','icd9'), (3,'procedure','kva'),"
    "  (4,'drug','atc'), (5,'cancer','icdo3-topography'), (6,'cancer','icdo3-morphology'),"
    "  (7,'cancer','icd10'), (8,'death','icd10'), (9,'death','icd9');"
    /* date is the integer YYYYMMDD; position 0 main / underlying, 1
     * secondary / contributing, 2 external cause; occurrence numbers
     * identical events of one ingest; value is the DDD of a dispensing. */
    "CREATE TABLE event("
    "  domain INTEGER NOT NULL,"
    "  code TEXT NOT NULL,"
    "  individual INTEGER NOT NULL,"
    "  date INTEGER NOT NULL,"
    "  position INTEGER NOT NULL,"
    "  occurrence INTEGER NOT NULL,"
    "  value REAL,"
    "  ingest INTEGER NOT NULL,"
    "  PRIMARY KEY(domain, code, individual, date, position, occurrence)) WITHOUT ROWID;"
    "CREATE TABLE consent("
    "  individual INTEGER NOT NULL REFERENCES individual(idx),"
    "  purpose TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN ('opt-out','withdrawn')),"
    "  date TEXT NOT NULL,"
    "  ingest INTEGER NOT NULL REFERENCES ingest(id),"
    "  PRIMARY KEY(individual, purpose)) WITHOUT ROWID;";

static int prep(pm_store_t *st, const char *sql, sqlite3_stmt **q, const char *what)
{
    return pm_catalog_prepare(st, sql, q, what);
}

/* ---- ingest bookkeeping ---- */

int pm_catreg_ingest_begin(pm_store_t *st, const char *kind, const char *file, int64_t *id)
{
    sqlite3_stmt *q;
    int rc = prep(st, "INSERT INTO ingest(kind, file, rows) VALUES(?1, ?2, 0)", &q,
                  "record ingest");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, file, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "record ingest");
    else
        *id = sqlite3_last_insert_rowid(pm_catalog_db(st));
    sqlite3_finalize(q);
    return rc;
}

int pm_catreg_ingest_end(pm_store_t *st, int64_t id, int64_t rows, int changed)
{
    sqlite3_stmt *q;
    int rc = prep(st,
                  changed ? "UPDATE ingest SET rows=?2 WHERE id=?1" : "DELETE FROM ingest WHERE id=?1",
                  &q, "record ingest");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(q, 1, id);
    if (changed)
        sqlite3_bind_int64(q, 2, rows);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "record ingest");
    sqlite3_finalize(q);
    return rc;
}

/* ---- individuals ---- */

int pm_catreg_individuals_each(pm_store_t *st,
                               int (*fn)(void *ud, int64_t idx, const char *pseudonym,
                                         int withdrawn),
                               void *ud)
{
    sqlite3_stmt *q;
    int rc = prep(st, "SELECT idx, pseudonym, withdrawn FROM individual ORDER BY idx", &q,
                  "read individuals");
    if (rc < 0)
        return rc;
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        const char *p = (const char *)sqlite3_column_text(q, 1);
        if ((rc = fn(ud, sqlite3_column_int64(q, 0), p ? p : "", sqlite3_column_int(q, 2))) < 0)
            break;
    }
    if (rc >= 0 && s != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "read individuals");
    sqlite3_finalize(q);
    return rc < 0 ? rc : 0;
}

/* Parses YYYY-MM-DD; 0 when absent or unreadable. */
static int column_ymd(sqlite3_stmt *q, int i)
{
    const char *s = (const char *)sqlite3_column_text(q, i);
    int ymd = 0;
    if (!s || pm_iso_date_parse(s, &ymd) != 0)
        return 0;
    return ymd;
}

int pm_catreg_individual_attrs(pm_store_t *st, size_t n, char *sex, int *birth,
                               uint8_t *withdrawn)
{
    sqlite3_stmt *q;
    int rc = prep(st, "SELECT idx, sex, birth_date, withdrawn FROM individual", &q,
                  "read individuals");
    if (rc < 0)
        return rc;
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t i = sqlite3_column_int64(q, 0);
        if (i < 0 || (uint64_t)i >= n)
            continue; /* not dense: ignored rather than overrun */
        if (sex) {
            const char *x = (const char *)sqlite3_column_text(q, 1);
            sex[i] = x && (x[0] == 'M' || x[0] == 'F') ? x[0] : 0;
        }
        if (birth)
            birth[i] = column_ymd(q, 2);
        if (withdrawn)
            withdrawn[i] = (uint8_t)(sqlite3_column_int(q, 3) != 0);
    }
    if (s != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "read individuals");
    sqlite3_finalize(q);
    return rc;
}

int pm_catreg_test_add_individual(pm_store_t *st, const char *pseudonym, char sex,
                                  const char *birth_date)
{
    sqlite3_stmt *q;
    int rc = prep(st,
                  "INSERT INTO individual(idx, pseudonym, sex, birth_date) VALUES("
                  "(SELECT coalesce(max(idx) + 1, 0) FROM individual), ?1, ?2, ?3)",
                  &q, "add individual");
    if (rc < 0)
        return rc;
    char sx[2] = {sex, 0};
    sqlite3_bind_text(q, 1, pseudonym, -1, SQLITE_STATIC);
    if (sex)
        sqlite3_bind_text(q, 2, sx, -1, SQLITE_STATIC);
    if (birth_date)
        sqlite3_bind_text(q, 3, birth_date, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "add individual");
    sqlite3_finalize(q);
    return rc;
}

/* ---- event writer ---- */

struct pm_catreg_writer {
    pm_store_t *st;
    int64_t ingest;
    sqlite3_stmt *ins, *owner;
};

int pm_catreg_writer_new(pm_store_t *st, int64_t ingest_id, pm_catreg_writer_t **out)
{
    *out = NULL;
    /* Inserting into a large b-tree touches pages all over it; a 256 MiB
     * page cache (instead of 2 MiB) keeps them in memory for the ingest. */
    sqlite3_exec(pm_catalog_db(st), "PRAGMA cache_size=-262144", NULL, NULL, NULL);
    pm_catreg_writer_t *w = calloc(1, sizeof *w);
    if (!w)
        return pm_err(pm_store_ctx(st), PM_ENOMEM, "out of memory");
    w->st = st;
    w->ingest = ingest_id;
    int rc = prep(st,
                  "INSERT OR IGNORE INTO event(domain, code, individual, date, position, "
                  "occurrence, value, ingest) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                  &w->ins, "store events");
    if (rc == 0)
        rc = prep(st,
                  "SELECT ingest FROM event WHERE domain=?1 AND code=?2 AND individual=?3 "
                  "AND date=?4 AND position=?5 AND occurrence=?6",
                  &w->owner, "store events");
    if (rc < 0) {
        pm_catreg_writer_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

static void bind_key(sqlite3_stmt *q, const pm_catreg_event_t *ev, int occ)
{
    sqlite3_bind_int(q, 1, ev->domain);
    sqlite3_bind_text(q, 2, ev->code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, ev->individual);
    sqlite3_bind_int(q, 4, ev->date);
    sqlite3_bind_int(q, 5, ev->position);
    sqlite3_bind_int(q, 6, occ);
}

int pm_catreg_writer_put(pm_catreg_writer_t *w, const pm_catreg_event_t *ev, int *inserted)
{
    sqlite3 *db = pm_catalog_db(w->st);
    for (int occ = 0;; occ++) {
        bind_key(w->ins, ev, occ);
        if (ev->has_value)
            sqlite3_bind_double(w->ins, 7, ev->value);
        else
            sqlite3_bind_null(w->ins, 7);
        sqlite3_bind_int64(w->ins, 8, w->ingest);
        int s = sqlite3_step(w->ins);
        sqlite3_reset(w->ins);
        if (s != SQLITE_DONE)
            return pm_catalog_sqlerr(w->st, "store events");
        if (sqlite3_changes(db) == 1) {
            *inserted = 1;
            return 0;
        }
        /* The key exists: an earlier ingest's identical event (already
         * present), or an earlier identical event of this ingest (then
         * this is the next occurrence). */
        bind_key(w->owner, ev, occ);
        s = sqlite3_step(w->owner);
        int64_t owner = s == SQLITE_ROW ? sqlite3_column_int64(w->owner, 0) : -1;
        sqlite3_reset(w->owner);
        if (s != SQLITE_ROW)
            return pm_catalog_sqlerr(w->st, "store events");
        if (owner != w->ingest) {
            *inserted = 0;
            return 0;
        }
    }
}

void pm_catreg_writer_free(pm_catreg_writer_t *w)
{
    if (!w)
        return;
    sqlite3_finalize(w->ins);
    sqlite3_finalize(w->owner);
    free(w);
}

/* ---- event reader ---- */

struct pm_catreg_iter {
    pm_store_t *st;
    sqlite3_stmt *q;
    int domain;
};

static int range_stmt(pm_store_t *st, const char *cols, int domain, const char *lo,
                      const char *hi, sqlite3_stmt **q)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT %s FROM event WHERE domain=?1 AND code>=?2%s", cols,
             hi && *hi ? " AND code<?3" : "");
    int rc = prep(st, sql, q, "read events");
    if (rc < 0)
        return rc;
    sqlite3_bind_int(*q, 1, domain);
    sqlite3_bind_text(*q, 2, lo, -1, SQLITE_TRANSIENT);
    if (hi && *hi)
        sqlite3_bind_text(*q, 3, hi, -1, SQLITE_TRANSIENT);
    return 0;
}

int pm_catreg_iter_open(pm_store_t *st, int domain, const char *lo, const char *hi,
                        pm_catreg_iter_t **out)
{
    *out = NULL;
    pm_catreg_iter_t *it = calloc(1, sizeof *it);
    if (!it)
        return pm_err(pm_store_ctx(st), PM_ENOMEM, "out of memory");
    it->st = st;
    it->domain = domain;
    int rc = range_stmt(st, "individual, date, position, value, code", domain, lo, hi, &it->q);
    if (rc < 0) {
        free(it);
        return rc;
    }
    *out = it;
    return 0;
}

int pm_catreg_iter_next(pm_catreg_iter_t *it, pm_event_t *ev)
{
    int s = sqlite3_step(it->q);
    if (s == SQLITE_DONE)
        return -1;
    if (s != SQLITE_ROW) {
        pm_catalog_sqlerr(it->st, "read events");
        return PM_EIO;
    }
    ev->individual = sqlite3_column_int64(it->q, 0);
    ev->date = sqlite3_column_int(it->q, 1);
    ev->domain = it->domain;
    ev->position = sqlite3_column_int(it->q, 2);
    ev->has_value = sqlite3_column_type(it->q, 3) != SQLITE_NULL;
    ev->value = ev->has_value ? sqlite3_column_double(it->q, 3) : 0.0;
    const char *c = (const char *)sqlite3_column_text(it->q, 4);
    snprintf(ev->code, sizeof ev->code, "%s", c ? c : "");
    return 0;
}

void pm_catreg_iter_close(pm_catreg_iter_t *it)
{
    if (!it)
        return;
    sqlite3_finalize(it->q);
    free(it);
}

int pm_catreg_range_individuals(pm_store_t *st, int domain, const char *lo, const char *hi,
                                pm_bitset_t *out)
{
    sqlite3_stmt *q;
    int rc = range_stmt(st, "individual", domain, lo, hi, &q);
    if (rc < 0)
        return rc;
    int s;
    int64_t last = -1;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t i = sqlite3_column_int64(q, 0);
        if (i == last)
            continue;
        last = i;
        if (i >= 0 && (uint64_t)i < out->n)
            pm_bitset_set(out, (size_t)i);
    }
    if (s != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "read events");
    sqlite3_finalize(q);
    return rc;
}

/* ---- consent ---- */

int pm_catreg_consent_put(pm_store_t *st, int64_t individual, const char *purpose,
                          const char *status, const char *date, int64_t ingest_id,
                          int *changed)
{
    *changed = 0;
    sqlite3_stmt *q;
    int rc = prep(st, "SELECT status, date FROM consent WHERE individual=?1 AND purpose=?2", &q,
                  "read consent");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(q, 1, individual);
    sqlite3_bind_text(q, 2, purpose, -1, SQLITE_STATIC);
    int s = sqlite3_step(q);
    int exists = s == SQLITE_ROW, apply = 1;
    if (exists) {
        const char *os = (const char *)sqlite3_column_text(q, 0);
        const char *od = (const char *)sqlite3_column_text(q, 1);
        int old_wd = os && strcmp(os, "withdrawn") == 0;
        int new_wd = strcmp(status, "withdrawn") == 0;
        int cmp = strcmp(date, od ? od : "");
        if (old_wd)
            apply = 0; /* a withdrawal is final */
        else if (cmp < 0)
            apply = 0; /* an older record does not override a newer one */
        else if (cmp == 0 && !(new_wd && !old_wd))
            apply = 0; /* same date: nothing new unless it is a withdrawal */
    } else if (s != SQLITE_DONE) {
        rc = pm_catalog_sqlerr(st, "read consent");
    }
    sqlite3_finalize(q);
    if (rc < 0 || !apply)
        return rc;
    rc = prep(st,
              "INSERT OR REPLACE INTO consent(individual, purpose, status, date, ingest) "
              "VALUES(?1, ?2, ?3, ?4, ?5)",
              &q, "store consent");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(q, 1, individual);
    sqlite3_bind_text(q, 2, purpose, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, date, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, ingest_id);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "store consent");
    else
        *changed = 1;
    sqlite3_finalize(q);
    return rc;
}

int pm_catreg_set_withdrawn(pm_store_t *st, int64_t individual, int *changed)
{
    sqlite3_stmt *q;
    int rc = prep(st, "UPDATE individual SET withdrawn=1 WHERE idx=?1 AND withdrawn=0", &q,
                  "withdraw individual");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(q, 1, individual);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "withdraw individual");
    else
        *changed = sqlite3_changes(pm_catalog_db(st)) > 0;
    sqlite3_finalize(q);
    return rc;
}

int pm_catreg_consent_excluded(pm_store_t *st, const char *purpose, pm_bitset_t *out)
{
    sqlite3_stmt *q;
    int rc = prep(st,
                  "SELECT individual FROM consent WHERE purpose=?1 OR purpose='all' "
                  "OR status='withdrawn' "
                  "UNION SELECT idx FROM individual WHERE withdrawn<>0",
                  &q, "read consent");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(q, 1, purpose, -1, SQLITE_STATIC);
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t i = sqlite3_column_int64(q, 0);
        if (i >= 0 && (uint64_t)i < out->n)
            pm_bitset_set(out, (size_t)i);
    }
    if (s != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "read consent");
    sqlite3_finalize(q);
    return rc;
}
