/*
 * http_parse.h - request parsing for the server, free of any HTTP library
 * so that the fuzz target (tests/fuzz/fuzz_http_query.c) can drive it:
 * query strings, variant paths, Beacon request parameters from a query
 * string or a JSON body, and Beacon filters -> cohort expression.
 *
 * Everything is bounded: inputs past the limits below fail with
 * PM_EINPUT and a message on ctx (which may be NULL) that is safe to echo
 * back to the client (it never quotes more than a few bytes of input).
 * Internal to libpromise.
 */
#ifndef PM_SERVER_HTTP_PARSE_H
#define PM_SERVER_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "promise/error.h"

#define PM_HTTP_MAX_URI 8192   /* request target, path + query */
#define PM_HTTP_MAX_PARAMS 32

/* A decoded query string; keys and values point into buf. */
typedef struct pm_http_query {
    size_t n;
    const char *key[PM_HTTP_MAX_PARAMS];
    const char *val[PM_HTTP_MAX_PARAMS];
    char buf[PM_HTTP_MAX_URI + PM_HTTP_MAX_PARAMS * 2];
} pm_http_query_t;

/* Splits "a=1&b=x%20y" (len bytes, no leading '?') into decoded pairs
 * ('+' is a space; "a" alone is a=""). PM_EINPUT for a bad %-escape, an
 * embedded NUL, too many parameters or too long a string. */
int pm_http_query_parse(pm_ctx_t *ctx, const char *qs, size_t len, pm_http_query_t *q);
/* The value of the first key equal to key, or NULL. */
const char *pm_http_query_get(const pm_http_query_t *q, const char *key);

/* Percent-decodes a path (len bytes) into out (cap bytes, NUL-terminated).
 * PM_EINPUT for a bad escape, NUL or "/../"-style segments. */
int pm_http_path_decode(pm_ctx_t *ctx, const char *in, size_t len, char *out, size_t cap);

#define PM_HTTP_ALLELE_MAX 256
#define PM_HTTP_CONTIG_MAX 64

/* A variant named in a path: "22-16050075-A-G" (1-based position). */
typedef struct pm_http_variant {
    char chrom[PM_HTTP_CONTIG_MAX];
    int64_t pos;
    char ref[PM_HTTP_ALLELE_MAX], alt[PM_HTTP_ALLELE_MAX];
} pm_http_variant_t;

/* Parses CHROM-POS-REF-ALT; alleles are A, C, G, T, N (any case, stored
 * upper case) or '*'. PM_EINPUT otherwise. */
int pm_http_variant_parse(pm_ctx_t *ctx, const char *s, pm_http_variant_t *v);

#define PM_BEACON_MAX_FILTERS 16
#define PM_BEACON_FILTER_MAX 64

enum { PM_GRAN_BOOLEAN = 0, PM_GRAN_COUNT = 1, PM_GRAN_RECORD = 2 };

/* A Beacon request, from GET parameters or a POST body. Coordinates are
 * Beacon's: 0-based start, end exclusive. */
typedef struct pm_beacon_req {
    char reference_name[PM_HTTP_CONTIG_MAX];
    int64_t start, end;     /* -1 when absent */
    char ref[PM_HTTP_ALLELE_MAX], alt[PM_HTTP_ALLELE_MAX]; /* "" when absent */
    int granularity;        /* requested; PM_GRAN_BOOLEAN by default */
    int64_t skip, limit;    /* pagination; limit 10 by default */
    size_t nfilters;
    char filter[PM_BEACON_MAX_FILTERS][PM_BEACON_FILTER_MAX];
} pm_beacon_req_t;

/* Fills r from GET parameters: referenceName, start, end, referenceBases,
 * alternateBases, requestedGranularity, skip, limit, filters (comma list). */
int pm_beacon_req_from_query(pm_ctx_t *ctx, const pm_http_query_t *q, pm_beacon_req_t *r);
/* Fills r from a Beacon request body {"meta":{...},"query":{
 * "requestParameters":{...},"filters":[{"id":"..."}|"..."],
 * "requestedGranularity":"...","pagination":{...}}} of len bytes. */
int pm_beacon_req_from_json(pm_ctx_t *ctx, const char *body, size_t len, pm_beacon_req_t *r);
/* Checks a g_variants request: a sequence query (referenceName, start,
 * referenceBases, alternateBases) or a range query (referenceName, start,
 * end). Writes the region "CHR:BEG-END" (1-based, inclusive) to region. */
int pm_beacon_variant_region(pm_ctx_t *ctx, const pm_beacon_req_t *r, char *region, size_t cap);

/* Translates r's filters into a cohort expression (promise/cohort.h):
 * ICD-10 terms ("icd10:E11", "ICD10:E11", "ICD10CM:E11.9") become
 * "icd10:E11", NCIT:C16576 "sex=F", NCIT:C20197 "sex=M", joined with
 * "and"; no filters gives "". PM_EINPUT for an unknown filter. */
int pm_beacon_filters_cohort(pm_ctx_t *ctx, const pm_beacon_req_t *r, char *expr, size_t cap);

#endif
