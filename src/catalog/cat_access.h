/*
 * cat_access.h - the catalog tables of users, projects, grants, tokens
 * and the withdrawal queue. Internal to libpromise: src/access reaches
 * SQLite only through these functions; validation, hashing and key
 * drawing happen there, not here.
 *
 * Tables (part of schema part pm_schema_audit_v1, defined in cat_audit.c):
 *   app_user(id, name, tier, created)
 *   project(id, name, sources, data_types, purpose, expires, key_hex, created)
 *   access_grant(user, project, created)
 *   token(id, user, hash, created, expires, revoked)      hash = SHA-256 hex
 *   withdrawal(individual, at, compacted)                  queue for compact
 */
#ifndef PM_CATALOG_CAT_ACCESS_H
#define PM_CATALOG_CAT_ACCESS_H

#include <stdint.h>

#include "promise/access.h"

#define PM_SCHEMA_ACCESS_SQL                                                                 \
    "CREATE TABLE app_user("                                                                 \
    "  id INTEGER PRIMARY KEY,"                                                              \
    "  name TEXT NOT NULL UNIQUE,"                                                           \
    "  tier TEXT NOT NULL CHECK (tier IN ('public','registered','project','steward')),"      \
    "  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));"               \
    "CREATE TABLE project("                                                                  \
    "  id INTEGER PRIMARY KEY,"                                                              \
    "  name TEXT NOT NULL UNIQUE,"                                                           \
    "  sources TEXT NOT NULL,"                                                               \
    "  data_types TEXT NOT NULL,"                                                            \
    "  purpose TEXT NOT NULL,"                                                               \
    "  expires INTEGER NOT NULL,"                                                            \
    "  key_hex TEXT NOT NULL,"                                                               \
    "  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));"               \
    "CREATE TABLE access_grant("                                                             \
    "  user INTEGER NOT NULL REFERENCES app_user(id),"                                       \
    "  project INTEGER NOT NULL REFERENCES project(id),"                                     \
    "  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"                \
    "  PRIMARY KEY(user, project)) WITHOUT ROWID;"                                           \
    "CREATE TABLE token("                                                                    \
    "  id INTEGER PRIMARY KEY,"                                                              \
    "  user INTEGER NOT NULL REFERENCES app_user(id),"                                       \
    "  hash TEXT NOT NULL UNIQUE,"                                                           \
    "  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"                \
    "  expires INTEGER NOT NULL,"                                                            \
    "  revoked INTEGER NOT NULL DEFAULT 0);"                                                 \
    "CREATE TABLE withdrawal("                                                               \
    "  individual INTEGER PRIMARY KEY REFERENCES individual(idx),"                           \
    "  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"                     \
    "  compacted INTEGER NOT NULL DEFAULT 0);"

int pm_cataccess_user_add(pm_store_t *st, const char *name, const char *tier);
/* 1 found (*id, tier name into tier[16]), 0 not found, <0 error. */
int pm_cataccess_user_get(pm_store_t *st, const char *name, int64_t *id, char *tier);
int pm_cataccess_user_each(pm_store_t *st, int (*fn)(void *ud, const pm_user_info_t *u),
                           void *ud);

int pm_cataccess_project_add(pm_store_t *st, const pm_project_info_t *p, const char *key_hex);
/* 1 found, 0 not, <0 error; key_hex (65 bytes) may be NULL. */
int pm_cataccess_project_get(pm_store_t *st, const char *name, pm_project_info_t *p,
                             char *key_hex);
int pm_cataccess_project_each(pm_store_t *st, int (*fn)(void *ud, const pm_project_info_t *p),
                              void *ud);

int pm_cataccess_grant_add(pm_store_t *st, int64_t user, int64_t project);
/* Projects granted to user, in name order. */
int pm_cataccess_grants_each(pm_store_t *st, int64_t user,
                             int (*fn)(void *ud, const pm_project_info_t *p), void *ud);

int pm_cataccess_token_add(pm_store_t *st, int64_t user, const char *hash_hex, int expires,
                           int64_t *id);
/* By hash: 1 found (*t filled, *user_id, tier name into tier[16]), 0 not found. */
int pm_cataccess_token_find(pm_store_t *st, const char *hash_hex, pm_token_info_t *t,
                            int64_t *user_id, char *tier);
/* 1 found (revoked now), 0 no such token; *changed 0 if already revoked. */
int pm_cataccess_token_revoke(pm_store_t *st, int64_t id, int *changed);
int pm_cataccess_token_each(pm_store_t *st, int (*fn)(void *ud, const pm_token_info_t *t),
                            void *ud);

/* In one transaction: individual.withdrawn = 1 and a withdrawal row.
 * Returns 1 when the individual exists, 0 when not. */
int pm_cataccess_withdraw(pm_store_t *st, int64_t idx, int *changed);

/* ---- compaction (`promise compact`) ----
 * The queue: withdrawn individuals without a compacted withdrawal row. */
#define PM_CATACCESS_QUEUE                                                                   \
    "SELECT i.idx FROM individual i LEFT JOIN withdrawal w ON w.individual = i.idx "         \
    "WHERE i.withdrawn = 1 AND COALESCE(w.compacted, 0) = 0"

/* A data file with columns of queued individuals. */
typedef struct pm_cataccess_cfile {
    int64_t id;          /* gt_segment.id or omics_batch.id */
    int64_t batch;       /* the batch (omics: = id) */
    char file[256];      /* name under STORE/gt/ or STORE/omics/ */
    uint32_t n_samples, n_features;
    uint64_t *clear;     /* n_samples bits: the queued columns */
    uint64_t bytes;      /* new size, set by the caller before commit */
    char new_file[256];  /* new name, set by the caller before commit */
} pm_cataccess_cfile_t;

/* Individuals in the queue (*n) and their registry events (*events). */
int pm_cataccess_compact_count(pm_store_t *st, int64_t *n, int64_t *events);
/* Genotype segments (omics = 0) or omics batch files (omics = 1) holding a
 * column of a queued individual. Free with pm_cataccess_cfiles_free. */
int pm_cataccess_compact_files(pm_store_t *st, int omics, pm_cataccess_cfile_t **out,
                               size_t *n);
void pm_cataccess_cfiles_free(pm_cataccess_cfile_t *f, size_t n);
/* Every data file name the catalog references (gt: omics = 0). */
int pm_cataccess_data_files(pm_store_t *st, int omics, char ***names, size_t *n);
/* In one transaction: points the segments and omics batches at their new
 * files, deletes the queued individuals' registry events and consent
 * rows, and marks them compacted. */
int pm_cataccess_compact_commit(pm_store_t *st, const pm_cataccess_cfile_t *gt, size_t n_gt,
                                const pm_cataccess_cfile_t *om, size_t n_om);

#endif
