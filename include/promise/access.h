/*
 * promise/access.h - who may ask what: users, projects, grants and bearer
 * tokens (PRODUCT.md section 7; docs/access.md), and the withdrawal of a
 * person (`promise forget`).
 *
 *   pm_access_user_add(st, "alice", PM_TIER_PROJECT);
 *   pm_project_spec_t p = {"cardio", "SCAPIS,GMS-Stockholm", "genotypes,registry",
 *                          "DUO:0000006", 20271231};
 *   pm_access_project_add(st, &p);
 *   pm_access_grant(st, "alice", "cardio");
 *   char tok[PM_TOKEN_MAX]; int64_t id;
 *   pm_access_token_new(st, "alice", 20270101, tok, &id);  // show tok once
 *   ...
 *   pm_principal_t who;                                     // the HTTP server:
 *   if (pm_access_authenticate(st, bearer, &who) < 0) -> 401
 *
 * Tokens are never stored: the catalog keeps the SHA-256 of the token, so
 * a copy of the catalog does not let anyone in. Writers need a store
 * opened PM_STORE_RDWR; authenticate works on a read-only store. Handles
 * are not thread-safe (one store handle per thread).
 */
#ifndef PROMISE_ACCESS_H
#define PROMISE_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "promise/error.h"
#include "promise/identity.h"
#include "promise/policy.h"
#include "promise/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PM_ACCESS_NAME_MAX 64    /* user and project names: [A-Za-z0-9._-]{1,63} */
#define PM_ACCESS_LIST_MAX 256   /* comma lists of sources / data types / purposes */
#define PM_ACCESS_MAX_GRANTS 16  /* project grants carried by one principal */
#define PM_TOKEN_MAX 72          /* "pmt_" + 64 hex + NUL */

/* ---- users ---- */

/* Adds a user with a tier (pm_tier_t). PM_EEXIST when the name is taken,
 * PM_EUSAGE for a malformed name or tier. */
int pm_access_user_add(pm_store_t *st, const char *name, int tier);

typedef struct pm_user_info {
    int64_t id;
    char name[PM_ACCESS_NAME_MAX];
    int tier;
    char created[24]; /* ISO timestamp UTC */
} pm_user_info_t;

/* Calls fn for every user in name order; fn returning <0 stops and its
 * value is returned. */
int pm_access_user_each(pm_store_t *st, int (*fn)(void *ud, const pm_user_info_t *u), void *ud);

/* ---- projects ---- */

typedef struct pm_project_spec {
    const char *name;
    const char *sources;    /* comma list of source names, e.g. "SCAPIS,GMS-Stockholm" */
    const char *data_types; /* comma list of genotypes, registry, omics */
    const char *purpose;    /* comma list of Data Use Ontology codes "DUO:0000006" */
    int expires;            /* YYYYMMDD: the last day the project may use data */
} pm_project_spec_t;

typedef struct pm_project_info {
    int64_t id;
    char name[PM_ACCESS_NAME_MAX];
    char sources[PM_ACCESS_LIST_MAX];
    char data_types[PM_ACCESS_LIST_MAX];
    char purpose[PM_ACCESS_LIST_MAX];
    int expires; /* YYYYMMDD */
} pm_project_info_t;

/* Adds a project and draws its 32-byte project key (for the
 * project-specific pseudonyms of its extracts). Lists are normalised
 * (no spaces, no duplicates). PM_EUSAGE for a malformed field (message
 * names it), PM_EEXIST for a taken name. */
int pm_access_project_add(pm_store_t *st, const pm_project_spec_t *spec);
int pm_access_project_each(pm_store_t *st,
                           int (*fn)(void *ud, const pm_project_info_t *p), void *ud);
/* Looks a project up by name: 1 found, 0 not, <0 error. */
int pm_access_project_get(pm_store_t *st, const char *name, pm_project_info_t *out);
/* The project's pseudonym for an individual: "<project>:" + 26 base32
 * chars of HMAC-SHA-256(project key, store pseudonym). Two projects get
 * unlinkable pseudonyms for one person. buf holds PM_ACCESS_NAME_MAX +
 * PM_PSEUDONYM_MAX bytes. */
int pm_access_project_pseudonym(pm_store_t *st, const char *project, const char *pseudonym,
                                char *buf, size_t cap);
/* Name of a known DUO code ("health/medical/biomedical research"), or
 * NULL when the code is well-formed but not in the built-in list. */
const char *pm_duo_label(const char *code);

/* ---- grants ---- */

/* Lets user work in project. PM_ENOTFOUND for an unknown user or project,
 * PM_EEXIST when granted already. Grants to users below the project tier
 * are refused (PM_EUSAGE): they could not use them. */
int pm_access_grant(pm_store_t *st, const char *user, const char *project);

/* ---- tokens ---- */

/* Draws a new random token for user, valid through `expires` (YYYYMMDD;
 * must be >= today for the CLI, any date here so that tests can make
 * expired ones). Writes the token (shown once, never stored) into tok
 * (PM_TOKEN_MAX bytes) and its id into *id. */
int pm_access_token_new(pm_store_t *st, const char *user, int expires, char *tok, int64_t *id);
/* Revokes a token by id: PM_ENOTFOUND when there is none; revoking twice
 * is fine (returns 0, *changed 0). changed may be NULL. */
int pm_access_token_revoke(pm_store_t *st, int64_t id, int *changed);

typedef struct pm_token_info {
    int64_t id;
    char user[PM_ACCESS_NAME_MAX];
    char created[24];
    int expires;
    int revoked;
} pm_token_info_t;
int pm_access_token_each(pm_store_t *st, int (*fn)(void *ud, const pm_token_info_t *t),
                         void *ud);

/* Who is asking: a value type filled by pm_access_authenticate. */
typedef struct pm_principal {
    int64_t user_id;
    int64_t token_id;
    char user[PM_ACCESS_NAME_MAX];
    int tier;                 /* pm_tier_t */
    size_t n_projects;        /* unexpired granted projects */
    pm_project_info_t projects[PM_ACCESS_MAX_GRANTS];
} pm_principal_t;

/* Resolves a bearer token to its user, tier and the user's unexpired
 * project grants (today's date, UTC). Refuses with PM_EACCES and one of
 * the messages "invalid token", "token expired", "token revoked" (the
 * token itself is never echoed). out is zeroed on failure. */
int pm_access_authenticate(pm_store_t *st, const char *token, pm_principal_t *out);
/* Same, with today given as YYYYMMDD (tests). */
int pm_access_authenticate_at(pm_store_t *st, const char *token, int today,
                              pm_principal_t *out);
/* The grant of principal p for project name, or NULL. */
const pm_project_info_t *pm_principal_project(const pm_principal_t *p, const char *name);

/* The principal of user `name` as the steward sees it (the CLI's --as):
 * tier and unexpired grants at today (UTC), token_id 0. PM_ENOTFOUND for
 * an unknown user. */
int pm_access_principal(pm_store_t *st, const char *name, pm_principal_t *out);

/*
 * What a request may see: the principal's tier, and the project it works
 * in with what the project implies (approved sources, data types, consent
 * purpose). pm_access_scope() decides it the same way for the CLI and the
 * HTTP server:
 *   - who NULL: the local steward; `project` (optional) must exist;
 *   - a project named that the principal holds no unexpired grant for:
 *     PM_EACCES ("user 'bob' has no grant for project 'x'"), unless the
 *     principal is a steward and the project exists and has not expired;
 *   - no project named, tier project: the only grant if there is one;
 *     several: PM_EUSAGE ("name the project"); none: the registered tier
 *     (aggregates only; a grant is what raises a user to the project tier).
 * An expired project is refused (PM_EACCES "project 'x' expired on ...").
 */
typedef struct pm_access_scope {
    int tier;                  /* effective pm_tier_t */
    int has_project;
    pm_project_info_t project; /* when has_project */
    /* The consent purpose the project's answers honour: "commercial" unless
     * its purpose includes DUO:0000018 / DUO:0000045 / DUO:0000046 (not for
     * profit), else "research". "" without a project. */
    char purpose[16];
} pm_access_scope_t;
int pm_access_scope(pm_store_t *st, const pm_principal_t *who, const char *project,
                    pm_access_scope_t *out);
/* The cohort expression of a project's approved sources
 * ("source:A or source:B") into buf; PM_ELIMIT when it does not fit,
 * PM_EACCES when the project approves no source. */
int pm_access_project_cohort(pm_ctx_t *ctx, const pm_project_info_t *p, char *buf, size_t cap);
/* 0 when the project is approved for data type dt ("genotypes",
 * "registry", "omics"), else PM_EACCES with a message. */
int pm_access_project_allows(pm_ctx_t *ctx, const pm_project_info_t *p, const char *dt);

/* ---- project extracts (`promise export`) ---- */

typedef struct pm_export_opts {
    const char *project; /* required */
    const char *cohort;  /* NULL or "" = everyone within the project's sources */
    const char *what;    /* comma list of phenotypes, registry, genotypes, omics;
                          * NULL = phenotypes and every data type the project has */
    const char *out_dir; /* must not exist; written as OUT_DIR.tmp-PID, then renamed */
} pm_export_opts_t;

typedef struct pm_export_result {
    int64_t individuals; /* people in the extract */
    int64_t events, omics_values, variants;
    int files;
} pm_export_result_t;

/*
 * Writes project `o->project`'s individual-level extract into o->out_dir:
 * individuals.tsv, registry.tsv, omics.tsv, genotypes.vcf (what was asked
 * and approved) and MANIFEST.tsv (rows, bytes and SHA-256 per file), every
 * person named by the project pseudonym (pm_access_project_pseudonym) and
 * every file sorted by it, so that nothing in two projects' extracts links
 * them. The individuals are the cohort within the project's approved
 * sources, minus the withdrawn and those who opted out of the project's
 * consent purpose (pm_access_scope). An expired project, or a data type
 * the project is not approved for, is refused (PM_EACCES). Crash-safe:
 * files are written and fsynced in a temporary directory that is renamed
 * into place; on failure nothing is left. *used (may be NULL) gets the
 * set of individuals exported (for the art. 15 audit list; free with
 * pm_bitset_free). res may be NULL.
 */
int pm_export(pm_store_t *st, const pm_export_opts_t *o, pm_bitset_t **used,
              pm_export_result_t *res);

/* ---- physical removal (`promise compact`) ---- */

typedef struct pm_compact_result {
    int64_t individuals;    /* withdrawn individuals compacted now */
    int64_t gt_files, omics_files; /* data files rewritten */
    uint64_t gt_calls, omics_values; /* non-missing calls / values removed */
    int64_t events;         /* registry events deleted */
    int64_t stale_files;    /* unreferenced data files removed */
} pm_compact_result_t;

/*
 * Physically removes the data of every withdrawn individual not yet
 * compacted: each genotype segment and omics batch file with a column of
 * theirs is rewritten under a new name with that column's calls/values
 * set to missing; then one catalog transaction points the catalog at the
 * new files, deletes their registry events and consent rows and marks
 * them compacted; then the old files are deleted. A crash before the
 * commit leaves the store as it was (the new files are unreferenced), one
 * after it leaves the compacted store (old files unreferenced); either
 * way unreferenced data files are deleted at the start of the next
 * compaction. Needs a store opened PM_STORE_RDWR. Progress on the
 * store's context. res may be NULL. The individual rows stay, withdrawn.
 */
int pm_access_compact(pm_store_t *st, pm_compact_result_t *res);

/* ---- people: art. 15 and withdrawal ---- */

/* Turns a personnummer into the individual's index, after checking that
 * key is the key the store is bound to (meta key_fingerprint / key_tag;
 * PM_EACCES otherwise). PM_EINPUT for an invalid number (the reason, never
 * the number), PM_ENOTFOUND when nobody in the store has it. pseudo
 * (PM_PSEUDONYM_MAX bytes) may be NULL. The parsed number is wiped. */
int pm_access_person(pm_store_t *st, const pm_key_t *key, const char *pnr, int64_t *idx,
                     char *pseudo);

/* Withdraws individual idx: sets individual.withdrawn = 1 (every later
 * cohort, count, frequency and extract excludes them) and queues them for
 * physical removal at the next compaction. *changed = 0 when already
 * withdrawn. Needs a writable store. Audit is the caller's job (see
 * pm_cli_audit in docs/access.md). */
int pm_access_withdraw(pm_store_t *st, int64_t idx, int *changed);

#ifdef __cplusplus
}
#endif
#endif
