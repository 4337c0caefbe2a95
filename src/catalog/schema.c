/*
 * schema.c - the catalog schema and its migrations.
 *
 * Each migration moves the catalog from version N-1 to N inside one
 * transaction and records N in meta.schema_version. A store written by a
 * newer promise (a higher version than PM_STORE_SCHEMA_VERSION) is refused
 * rather than guessed at. Until the first release, version 1 may still be
 * edited; after it, only new migrations are appended.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "catalog/catalog.h"

static const char *const migration_v1 =
    /* Settings: schema_version, created, key_fingerprint, key_tag,
     * reference_build, k. */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    /* The spine: one row per person, idx dense from 0. The pseudonym is the
     * keyed hash of the personnummer; the personnummer itself is never
     * stored. */
    "CREATE TABLE individual("
    "  idx INTEGER PRIMARY KEY,"
    "  pseudonym TEXT NOT NULL UNIQUE,"
    "  sex TEXT CHECK (sex IN ('M','F')),"
    "  birth_date TEXT,"
    "  county TEXT,"
    "  death_date TEXT,"
    "  emigration_date TEXT,"
    "  withdrawn INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE source(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE assay(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE sample("
    "  id INTEGER PRIMARY KEY,"
    "  sample_id TEXT NOT NULL UNIQUE,"
    "  individual INTEGER NOT NULL REFERENCES individual(idx),"
    "  source INTEGER NOT NULL REFERENCES source(id),"
    "  assay INTEGER NOT NULL REFERENCES assay(id),"
    "  grade TEXT CHECK (grade IN ('research','clinical')),"
    "  tissue TEXT,"
    "  collection_date TEXT);"
    "CREATE INDEX sample_individual ON sample(individual);"
    /* One row per committed ingest of any kind, for provenance and audit. */
    "CREATE TABLE ingest("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  file TEXT NOT NULL,"
    "  sha256 TEXT,"
    "  rows INTEGER NOT NULL,"
    "  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));";

/*
 * Each data module contributes its own tables to version 1 in its own
 * catalog file (src/catalog/cat_<module>.c). The references below are
 * strong on purpose: they make the linker pull every module's catalog file
 * out of libpromise.a, so that no program can create a store that lacks a
 * module's tables. After the first release these become migrations.
 */
extern const char pm_schema_genotype_v1[], pm_schema_registry_v1[], pm_schema_omics_v1[],
    pm_schema_policy_v1[], pm_schema_audit_v1[], pm_schema_ui_v1[],
    pm_schema_pca_v1[];
static const char pm_schema_identity_v1[] = ""; /* identity keeps its state in meta */

static const char *const parts_v1[] = {
    migration_v1,          pm_schema_identity_v1, pm_schema_genotype_v1, pm_schema_registry_v1,
    pm_schema_omics_v1,    pm_schema_policy_v1,   pm_schema_audit_v1,    pm_schema_ui_v1,
    pm_schema_pca_v1,      NULL,
};

/* migrations[v] = the SQL parts that take the catalog to version v */
static const char *const *const migrations[] = {
    NULL, /* version 0: empty database */
    parts_v1,
};

int pm_catalog_migrate(pm_store_t *st)
{
    sqlite3 *db = st->db;
    int have = 0;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db,
                           "SELECT value FROM meta WHERE key='schema_version'", -1, &q,
                           NULL) == SQLITE_OK) {
        if (sqlite3_step(q) == SQLITE_ROW)
            have = sqlite3_column_int(q, 0);
        sqlite3_finalize(q);
    }
    int want = (int)(sizeof migrations / sizeof migrations[0]) - 1;
    if (have > want)
        return pm_err(st->ctx, PM_ECORRUPT,
                      "store '%s' has schema version %d; this promise reads up to %d", st->path,
                      have, want);
    for (int v = have + 1; v <= want; v++) {
        if (!st->writable)
            return pm_err(st->ctx, PM_ECORRUPT,
                          "store '%s' needs migration to schema version %d; open it for writing "
                          "once",
                          st->path, want);
        char *err = NULL;
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &err) != SQLITE_OK)
            goto fail;
        for (const char *const *part = migrations[v]; *part; part++)
            if (**part && sqlite3_exec(db, *part, NULL, NULL, &err) != SQLITE_OK)
                goto fail_rollback;
        char sql[128];
        snprintf(sql, sizeof sql,
                 "INSERT OR REPLACE INTO meta(key,value) VALUES('schema_version','%d')", v);
        if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
            goto fail_rollback;
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, &err) != SQLITE_OK)
            goto fail_rollback;
        continue;
    fail_rollback:
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    fail:;
        int rc = pm_err(st->ctx, PM_EIO, "cannot migrate store '%s' to version %d: %s", st->path,
                        v, err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        return rc;
    }
    return 0;
}
