/*
 * identity_bind.c - identity columns, the store's key binding, ISO dates
 * and individual/sample lookups (see individual.h).
 *
 * Binding: the meta table holds key_fingerprint (set the first time an
 * ingest runs with a key) and key_tag (the short tag every pseudonym under
 * that key starts with; set by the first key or, when the first input is
 * already pseudonymised, by its first pseudonym). Later input under a
 * different key is refused with PM_EACCES: the data is well-formed but
 * belongs to another key holder, and mixing two keys would silently split
 * one person into two.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "catalog/catalog.h"
#include "catalog/individual.h"

/* ---- dates ---- */

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

int pm_iso_date_parse(const char *s, int *ymd)
{
    static const char shape[] = "dddd-dd-dd";
    for (int i = 0; i < 10; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != '-')
            return -1;
    }
    if (s[10] != '\0')
        return -1;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1000 || m < 1 || m > 12 || d < 1 || d > month_days(y, m))
        return -2;
    *ymd = y * 10000 + m * 100 + d;
    return 0;
}

/* Howard Hinnant's days_from_civil / civil_from_days. */
int64_t pm_ymd_to_days(int ymd)
{
    int64_t y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int pm_days_to_ymd(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    return (int)(y * 10000 + m * 100 + d);
}

int pm_ymd_today(void)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/* ---- identity columns ---- */

/* Checks ic->key against the store's binding and records it on first use
 * (key_fingerprint and key_tag), once the identity column is known. */
static int idcol_bind(pm_idcol_t *ic)
{
    pm_store_t *st = ic->st;
    char fp_s[PM_FINGERPRINT_HEX + 8], tag_s[16];
    int have_fp = pm_catalog_meta_get(st, "key_fingerprint", fp_s, sizeof fp_s);
    if (have_fp < 0)
        return have_fp;
    int have_tag = pm_catalog_meta_get(st, "key_tag", tag_s, sizeof tag_s);
    if (have_tag < 0)
        return have_tag;
    if (ic->key) {
        char fp[PM_FINGERPRINT_HEX + 1], tag[PM_KEY_TAG_LEN + 1];
        pm_key_fingerprint(ic->key, fp);
        pm_key_tag(ic->key, tag);
        if ((have_fp && strcmp(fp_s, fp) != 0) || (have_tag && strcmp(tag_s, tag) != 0))
            return pm_tsv_err(ic->t, ic->col, PM_EACCES,
                              "the key is not the one this store is bound to; input "
                              "pseudonymised under another key is refused");
        int rc;
        if (!have_fp) {
            if ((rc = pm_catalog_meta_set(st, "key_fingerprint", fp)) < 0)
                return rc;
            ic->bound = 1;
        }
        if (!have_tag) {
            if ((rc = pm_catalog_meta_set(st, "key_tag", tag)) < 0)
                return rc;
            ic->bound = 1;
        }
        memcpy(ic->tag, tag, sizeof tag);
        ic->have_tag = 1;
    } else if (have_tag) {
        snprintf(ic->tag, sizeof ic->tag, "%s", tag_s);
        ic->have_tag = 1;
    }
    return 0;
}

static void idcol_start(pm_idcol_t *ic, pm_store_t *st, pm_tsv_t *t, const pm_key_t *key,
                        int ref_date)
{
    memset(ic, 0, sizeof *ic);
    ic->st = st;
    ic->t = t;
    ic->key = key;
    ic->ref_date = ref_date;
}

int pm_idcol_init(pm_idcol_t *ic, pm_store_t *st, pm_tsv_t *t, const pm_key_t *key,
                  int ref_date)
{
    idcol_start(ic, st, t, key, ref_date);
    pm_ctx_t *ctx = pm_store_ctx(st);
    int cp = pm_tsv_col(t, "personnummer"), cs = pm_tsv_col(t, "pseudonym");
    if (cp >= 0 && cs >= 0)
        return pm_tsv_err(t, cs, PM_EINPUT,
                          "two identity columns: use either 'personnummer' or 'pseudonym'");
    if (cp < 0 && cs < 0)
        return pm_err(ctx, PM_EINPUT,
                      "%s:%ld: missing identity column: 'personnummer' or 'pseudonym'",
                      pm_tsv_path(t), pm_tsv_lineno(t));
    ic->col = cp >= 0 ? cp : cs;
    ic->is_pnr = cp >= 0;
    if (ic->is_pnr && !key)
        return pm_tsv_err(t, ic->col, PM_EUSAGE,
                          "a personnummer column needs the pseudonymisation key (--key KEYFILE)");
    return idcol_bind(ic);
}

int pm_idcol_init_named(pm_idcol_t *ic, pm_store_t *st, pm_tsv_t *t, const char *name,
                        const pm_key_t *key, int ref_date)
{
    idcol_start(ic, st, t, key, ref_date);
    ic->col = -1;
    for (int i = 0; i < pm_tsv_ncols(t); i++)
        if (strcasecmp(pm_tsv_colname(t, i), name) == 0) {
            ic->col = i;
            break;
        }
    if (ic->col < 0)
        return pm_err(pm_store_ctx(st), PM_EINPUT, "%s:1: no identity column '%s'",
                      pm_tsv_path(t), name);
    ic->is_pnr = key != NULL;
    return idcol_bind(ic);
}

int pm_idcol_read(pm_idcol_t *ic, char *pseudo, pm_pnr_t *pnr)
{
    const char *s = pm_tsv_field(ic->t, ic->col);
    if (ic->is_pnr) {
        pm_pnr_t p;
        int rc = pm_pnr_parse(s, ic->ref_date, &p);
        if (rc != PM_PNR_OK) {
            memset(&p, 0, sizeof p);
            return pm_tsv_err(ic->t, ic->col, PM_EINPUT, "invalid personnummer: %s",
                              pm_pnr_strerror(rc));
        }
        pm_pseudonym(ic->key, &p, pseudo);
        if (pnr)
            *pnr = p;
        memset(&p, 0, sizeof p);
        return 1;
    }
    char tag[PM_KEY_TAG_LEN + 1];
    if (*s == '\0')
        return pm_tsv_err(ic->t, ic->col, PM_EINPUT, "empty pseudonym");
    if (strlen(s) >= PM_PSEUDONYM_MAX || pm_pseudonym_parse(s, tag) != 0)
        return pm_tsv_err(ic->t, ic->col, PM_EINPUT, "not a valid pseudonym");
    if (ic->have_tag && strcmp(tag, ic->tag) != 0)
        return pm_tsv_err(ic->t, ic->col, PM_EACCES,
                          "pseudonym made under another key than the one this store is "
                          "bound to; refused");
    if (!ic->have_tag) {
        int rc = pm_catalog_meta_set(ic->st, "key_tag", tag);
        if (rc < 0)
            return rc;
        memcpy(ic->tag, tag, sizeof tag);
        ic->have_tag = 1;
        ic->bound = 1;
    }
    snprintf(pseudo, PM_PSEUDONYM_MAX, "%s", s);
    return 0;
}

void pm_idcol_finish(pm_idcol_t *ic) { memset(ic, 0, sizeof *ic); }

/* ---- lookups ---- */

static int column_date(sqlite3_stmt *q, int i)
{
    const char *s = (const char *)sqlite3_column_text(q, i);
    int ymd = 0;
    if (s && pm_iso_date_parse(s, &ymd) != 0)
        ymd = 0;
    return ymd;
}

int pm_individual_find(pm_store_t *st, const char *pseudonym, int64_t *idx,
                       pm_individual_row_t *row)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(pm_catalog_db(st),
                           "SELECT idx, sex, birth_date, death_date, emigration_date, county, "
                           "withdrawn FROM individual WHERE pseudonym=?1",
                           -1, &q, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(st, "find individual");
    sqlite3_bind_text(q, 1, pseudonym, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q), found = 0;
    if (rc == SQLITE_ROW) {
        found = 1;
        if (idx)
            *idx = sqlite3_column_int64(q, 0);
        if (row) {
            memset(row, 0, sizeof *row);
            row->idx = sqlite3_column_int64(q, 0);
            const char *sex = (const char *)sqlite3_column_text(q, 1);
            row->sex = sex ? sex[0] : 0;
            row->birth_date = column_date(q, 2);
            row->death_date = column_date(q, 3);
            row->emigration_date = column_date(q, 4);
            const char *county = (const char *)sqlite3_column_text(q, 5);
            snprintf(row->county, sizeof row->county, "%s", county ? county : "");
            row->withdrawn = sqlite3_column_int(q, 6);
        }
    } else if (rc != SQLITE_DONE) {
        found = pm_catalog_sqlerr(st, "find individual");
    }
    sqlite3_finalize(q);
    return found;
}

int pm_individual_pseudonym(pm_store_t *st, int64_t idx, char *pseudo)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(pm_catalog_db(st), "SELECT pseudonym FROM individual WHERE idx=?1", -1,
                           &q, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(st, "find individual");
    sqlite3_bind_int64(q, 1, idx);
    int rc = sqlite3_step(q), found = 0;
    if (rc == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(q, 0);
        snprintf(pseudo, PM_PSEUDONYM_MAX, "%s", s ? s : "");
        found = 1;
    } else if (rc != SQLITE_DONE) {
        found = pm_catalog_sqlerr(st, "find individual");
    }
    sqlite3_finalize(q);
    return found;
}

int pm_sample_find(pm_store_t *st, const char *sample_id, pm_sample_row_t *row)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(pm_catalog_db(st),
                           "SELECT id, individual, source, assay FROM sample WHERE sample_id=?1",
                           -1, &q, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(st, "find sample");
    sqlite3_bind_text(q, 1, sample_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q), found = 0;
    if (rc == SQLITE_ROW) {
        found = 1;
        if (row) {
            row->id = sqlite3_column_int64(q, 0);
            row->individual = sqlite3_column_int64(q, 1);
            row->source_id = sqlite3_column_int64(q, 2);
            row->assay_id = sqlite3_column_int64(q, 3);
        }
    } else if (rc != SQLITE_DONE) {
        found = pm_catalog_sqlerr(st, "find sample");
    }
    sqlite3_finalize(q);
    return found;
}
