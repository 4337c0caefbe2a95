/*
 * server_int.h - the server's internals: the request being answered, the
 * route table and the handlers (routes_api.c, routes_beacon.c). Only
 * server.c knows libmicrohttpd; handlers see a srv_req_t and build JSON
 * with jansson. Internal to libpromise.
 */
#ifndef PM_SERVER_SERVER_INT_H
#define PM_SERVER_SERVER_INT_H

#include <jansson.h>
#include <stdint.h>

#include "promise/access.h"
#include "promise/policy.h"
#include "promise/server.h"
#include "promise/store.h"
#include "server/http_parse.h"

typedef struct srv_req srv_req_t;
typedef int (*srv_handler_fn)(srv_req_t *r);

/* One row of the route table: "{}" in a pattern matches one path segment
 * (captured in srv_req_t.arg). */
typedef struct srv_route {
    const char *method;
    const char *pattern;
    srv_handler_fn fn;
    int min_tier;        /* pm_tier_t the caller needs; below it: 401 without a token, else 403 */
    int beacon;          /* 1: errors in the Beacon error format */
    const char *summary; /* for the OpenAPI document and docs/http.md */
} srv_route_t;

extern const srv_route_t pm_srv_routes[];
extern const size_t pm_srv_nroutes;

struct srv_req {
    pm_server_t *srv;
    pm_beacon_ledger_t *ledger; /* the server's Beacon ledger (shared) */
    pm_store_t *st;   /* this worker's read-only handle */
    pm_ctx_t *ctx;    /* its context: parse and query errors */
    const srv_route_t *route;
    int beacon;       /* under /api/beacon/v2: errors in the Beacon format */
    const char *method;
    const char *path;
    char arg[PM_HTTP_MAX_URI];  /* the "{}" segment */
    pm_http_query_t *q;
    const char *body;
    size_t body_len;
    int tier;                   /* the caller's tier */
    const pm_principal_t *who;  /* NULL without a token */
    int k;                      /* the store's small-count threshold */
    /* the answer */
    int status;
    json_t *json;               /* body, or NULL with raw */
    const char *raw;            /* static body (the OpenAPI document) */
    int64_t n_individuals;      /* for the audit log; -1 = not applicable */
    pm_bitset_t *used;          /* individuals an individual-level answer used (owned) */
    /* the browser UI's answers (routes_ui.c) */
    const char *content_type;   /* NULL = application/json */
    size_t raw_len;             /* length of raw; 0 = strlen(raw) */
    char *raw_owned;            /* raw, when the handler allocated it (freed after sending) */
};

/* Sets an error answer: {"error":{"status":N,"message":...}}, or the
 * Beacon error response on Beacon routes. Returns 0. */
int srv_error(srv_req_t *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Maps a library error (message on r->ctx) to an answer: PM_EINPUT and
 * PM_EUSAGE 400, PM_ENOTFOUND 404, PM_EACCES 403, PM_ELIMIT 413, else 500. */
int srv_fail(srv_req_t *r, int rc);

/* The OpenAPI 3.0 document (a static JSON string). */
extern const char pm_srv_openapi[];

/* Handlers. */
int srv_api_count(srv_req_t *r);
int srv_api_variant(srv_req_t *r);
int srv_api_endpoints(srv_req_t *r);
int srv_api_openapi(srv_req_t *r);
int srv_beacon_info(srv_req_t *r);
int srv_beacon_service_info(srv_req_t *r);
int srv_beacon_configuration(srv_req_t *r);
int srv_beacon_map(srv_req_t *r);
int srv_beacon_entry_types(srv_req_t *r);
int srv_beacon_filtering_terms(srv_req_t *r);
int srv_beacon_g_variants(srv_req_t *r);
int srv_beacon_individuals(srv_req_t *r);

/* Beacon error body for status/message (used by srv_error). */
json_t *srv_beacon_error(int status, const char *message);

/* ---- frequencies (routes_api.c) ---- */
typedef struct srv_freq_row {
    char chrom[PM_HTTP_CONTIG_MAX];
    int64_t pos;
    const char *ref, *alt;        /* valid during the callback */
    int64_t ac, an, nhomalt;
    int nstrata;
    char stratum[4][16];          /* with by: the strata ("F", "M") */
    int64_t s_ac[4], s_an[4];
} srv_freq_row_t;

/* Calls fn for each row of pm_freq over region (cohort and by may be
 * NULL). fn returning <0 stops. */
/* The {CHROM-POS-REF-ALT} of a variant route: parsed into v, the contig
 * normalised (contig: PM_HTTP_CONTIG_MAX bytes) and region "CHR:POS-POS"
 * (PM_HTTP_CONTIG_MAX + 48 bytes), and the caller's policy, which must
 * allow frequencies. 0, or 1 when the error answer is already set. */
int srv_variant_arg(srv_req_t *r, pm_http_variant_t *v, char *contig, char *region,
                    pm_policy_t *pol);
int srv_freq_each(srv_req_t *r, const char *region, const char *cohort, const char *by,
                  int (*fn)(void *ud, const srv_freq_row_t *row), void *ud);

/* ---- the browser UI and the APIs only it needs (routes_ui.c) ---- */

/* A frequency cell as freq_json releases it (routes_api.c). */
json_t *srv_freq_json(const pm_policy_t *pol, int64_t ac, int64_t an, int has_hom, int64_t hom);

int srv_ui_index(srv_req_t *r);
int srv_ui_asset(srv_req_t *r);
int srv_ui_me(srv_req_t *r);
int srv_ui_search(srv_req_t *r);
int srv_ui_variant(srv_req_t *r);
int srv_ui_region(srv_req_t *r);
int srv_ui_cohorts(srv_req_t *r);
int srv_ui_cohort_save(srv_req_t *r);
int srv_ui_gwas_list(srv_req_t *r);
int srv_ui_gwas_get(srv_req_t *r);
int srv_ui_omics_features(srv_req_t *r);
int srv_ui_omics_values(srv_req_t *r);
int srv_ui_projects(srv_req_t *r);
int srv_ui_audit(srv_req_t *r);

/* The UI's static files, embedded by CMake (ui_assets.c, generated from
 * web/dist; an empty table when the UI was not built). */
typedef struct srv_ui_file {
    const char *name;         /* "index.html", "app.js", ... */
    const char *content_type;
    const unsigned char *data;
    size_t len;
} srv_ui_file_t;
extern const srv_ui_file_t pm_srv_ui_files[];
extern const size_t pm_srv_ui_nfiles;

#endif
