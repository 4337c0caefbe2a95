/*
 * individual.h - individuals, samples and the store's key binding, for the
 * catalog's other ingests (registry, consent, VCF, omics). Internal to
 * libpromise.
 *
 * Every table that names people goes through an identity column reader:
 *
 *   pm_idcol_t ic;
 *   pm_catalog_begin(st);
 *   if ((rc = pm_idcol_init(&ic, st, t, key, ref_date)) < 0) ...  // finds the column, checks the key
 *   while ((r = pm_tsv_next(t)) > 0) {
 *       char pseudo[PM_PSEUDONYM_MAX];
 *       if ((rc = pm_idcol_read(&ic, pseudo, NULL)) < 0) ...      // FILE:LINE:COL message set
 *       int64_t idx;
 *       pm_individual_find(st, pseudo, &idx, NULL);
 *   }
 *   pm_idcol_finish(&ic);
 *
 * pm_idcol_init and pm_idcol_read may record the key binding in the meta
 * table, so they must run inside the ingest's transaction. Personnummer
 * never leave these functions: only the pseudonym does.
 */
#ifndef PM_CATALOG_INDIVIDUAL_H
#define PM_CATALOG_INDIVIDUAL_H

#include <stdint.h>

#include "core/tsv.h"
#include "promise/identity.h"
#include "promise/store.h"

/* ---- ISO dates ---- */

/* Parses exactly "YYYY-MM-DD" naming a real Gregorian date (year
 * 1000-9999); stores YYYYMMDD in *ymd. Returns 0, or -1 if malformed and
 * -2 if well-formed but no such date (e.g. 2023-02-30). */
int pm_iso_date_parse(const char *s, int *ymd);
/* Days since 1970-01-01 of a YYYYMMDD date, and back. */
int64_t pm_ymd_to_days(int ymd);
int pm_days_to_ymd(int64_t days);
/* Today (UTC) as YYYYMMDD. */
int pm_ymd_today(void);

/* ---- identity columns and key binding ---- */

typedef struct pm_idcol {
    pm_store_t *st;
    pm_tsv_t *t;
    const pm_key_t *key;
    int ref_date;
    int col;      /* column index in t */
    int is_pnr;   /* 1: personnummer column, 0: pseudonym column */
    char tag[16]; /* the store's tag, once known */
    int have_tag;
    int bound;    /* 1 once this ingest recorded a new binding (the store changed) */
} pm_idcol_t;

/* Finds the identity column of t ('personnummer' or 'pseudonym'; exactly
 * one), and checks key (may be NULL) against the store's binding,
 * recording it on first use. Errors: PM_EINPUT (no or two identity
 * columns), PM_EUSAGE (personnummer without a key), PM_EACCES (another
 * key). */
int pm_idcol_init(pm_idcol_t *ic, pm_store_t *st, pm_tsv_t *t, const pm_key_t *key,
                  int ref_date);
/* Like pm_idcol_init for an identity column the caller names (a
 * registry extract's 'lopnr'), matched case-insensitively: it holds
 * personnummer when key is given and pseudonyms otherwise. Same key
 * checks and binding; PM_EINPUT when the column is absent. */
int pm_idcol_init_named(pm_idcol_t *ic, pm_store_t *st, pm_tsv_t *t, const char *name,
                        const pm_key_t *key, int ref_date);
/* The pseudonym of the current row into pseudo (PM_PSEUDONYM_MAX bytes).
 * For a personnummer column, *pnr (if not NULL) receives the parsed
 * number's sex and birth date; the caller wipes it after use. Returns 1
 * for a personnummer column, 0 for a pseudonym column, <0 with a
 * FILE:LINE:COL message (PM_EINPUT bad value, PM_EACCES foreign key tag). */
int pm_idcol_read(pm_idcol_t *ic, char *pseudo, pm_pnr_t *pnr);
/* Wipes the reader's state; safe on a zeroed struct. */
void pm_idcol_finish(pm_idcol_t *ic);

/* ---- lookups ---- */

typedef struct pm_individual_row {
    int64_t idx;
    char sex;            /* 'M', 'F' or 0 when unknown */
    int birth_date;      /* YYYYMMDD or 0 */
    int death_date;      /* YYYYMMDD or 0 */
    int emigration_date; /* YYYYMMDD or 0 */
    char county[3];      /* "" when unknown */
    int withdrawn;
} pm_individual_row_t;

/* Looks an individual up by pseudonym: 1 found (*idx and, if row is not
 * NULL, *row filled), 0 not found, <0 catalog error. */
int pm_individual_find(pm_store_t *st, const char *pseudonym, int64_t *idx,
                       pm_individual_row_t *row);

/* The store pseudonym of individual idx into pseudo (PM_PSEUDONYM_MAX
 * bytes): 1 found, 0 no such individual, <0 catalog error. For answers
 * that name individuals (the server's Beacon records, re-keyed per
 * project with pm_access_project_pseudonym). */
int pm_individual_pseudonym(pm_store_t *st, int64_t idx, char *pseudo);

typedef struct pm_sample_row {
    int64_t id;          /* sample.id */
    int64_t individual;  /* dense individual index */
    int64_t source_id, assay_id;
} pm_sample_row_t;

/* Looks a sample up by sample_id: 1 found, 0 not found, <0 catalog error. */
int pm_sample_find(pm_store_t *st, const char *sample_id, pm_sample_row_t *row);

#endif
