/*
 * http_parse.c - query strings, variant paths, Beacon requests and
 * filters (see http_parse.h). No HTTP library here: jansson for bodies.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/http_parse.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes in[0..len) into out (room for len + 1), '+' as space when plus. */
static int pct_decode(pm_ctx_t *ctx, const char *in, size_t len, char *out, int plus)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)in[i];
        if (c == '%') {
            int h, l;
            if (i + 2 >= len || (h = hexval(in[i + 1])) < 0 || (l = hexval(in[i + 2])) < 0)
                return pm_err(ctx, PM_EINPUT, "bad %%-escape in the request");
            c = h * 16 + l;
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        if (c == 0)
            return pm_err(ctx, PM_EINPUT, "NUL byte in the request");
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return (int)o;
}

int pm_http_query_parse(pm_ctx_t *ctx, const char *qs, size_t len, pm_http_query_t *q)
{
    q->n = 0;
    if (len > PM_HTTP_MAX_URI)
        return pm_err(ctx, PM_EINPUT, "query string too long (over %d bytes)", PM_HTTP_MAX_URI);
    char *w = q->buf;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && qs[j] != '&')
            j++;
        if (j > i) {
            if (q->n == PM_HTTP_MAX_PARAMS)
                return pm_err(ctx, PM_EINPUT, "too many query parameters (over %d)",
                              PM_HTTP_MAX_PARAMS);
            size_t eq = i;
            while (eq < j && qs[eq] != '=')
                eq++;
            int n = pct_decode(ctx, qs + i, eq - i, w, 1);
            if (n < 0)
                return n;
            q->key[q->n] = w;
            w += n + 1;
            size_t vb = eq < j ? eq + 1 : j;
            n = pct_decode(ctx, qs + vb, j - vb, w, 1);
            if (n < 0)
                return n;
            q->val[q->n] = w;
            w += n + 1;
            q->n++;
        }
        i = j + 1;
    }
    return 0;
}

const char *pm_http_query_get(const pm_http_query_t *q, const char *key)
{
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->key[i], key) == 0)
            return q->val[i];
    return NULL;
}

int pm_http_path_decode(pm_ctx_t *ctx, const char *in, size_t len, char *out, size_t cap)
{
    if (len + 1 > cap)
        return pm_err(ctx, PM_EINPUT, "request path too long");
    int n = pct_decode(ctx, in, len, out, 0);
    if (n < 0)
        return n;
    if (out[0] != '/')
        return pm_err(ctx, PM_EINPUT, "request path must start with '/'");
    /* No dot segments: routes are exact, and nothing maps to files. */
    for (const char *p = out; (p = strstr(p, "/.")) != NULL; p++)
        if (p[2] == '/' || p[2] == '\0' || (p[2] == '.' && (p[3] == '/' || p[3] == '\0')))
            return pm_err(ctx, PM_EINPUT, "dot segments are not allowed in the path");
    return n;
}

/* ---- variants ---- */

static int allele_ok(const char *s)
{
    if (!*s)
        return 0;
    if (strcmp(s, "*") == 0)
        return 1;
    for (; *s; s++)
        if (!strchr("ACGTN", *s))
            return 0;
    return 1;
}

static int copy_upper(char *dst, size_t cap, const char *s, size_t len)
{
    if (len + 1 > cap)
        return -1;
    for (size_t i = 0; i < len; i++)
        dst[i] = (char)toupper((unsigned char)s[i]);
    dst[len] = '\0';
    return 0;
}

static int contig_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.')
            return 0;
    return 1;
}

/* A non-negative decimal integer without sign or spaces, at most 10^12. */
static int parse_pos(const char *s, size_t len, int64_t *out)
{
    if (len == 0 || len > 12)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int pm_http_variant_parse(pm_ctx_t *ctx, const char *s, pm_http_variant_t *v)
{
    const char *d1 = strchr(s, '-');
    const char *d2 = d1 ? strchr(d1 + 1, '-') : NULL;
    const char *d3 = d2 ? strchr(d2 + 1, '-') : NULL;
    if (!d3 || strchr(d3 + 1, '-'))
        return pm_err(ctx, PM_EINPUT, "a variant is CHROM-POS-REF-ALT, e.g. 22-16050075-A-G");
    memset(v, 0, sizeof *v);
    if ((size_t)(d1 - s) >= sizeof v->chrom)
        return pm_err(ctx, PM_EINPUT, "contig name too long");
    memcpy(v->chrom, s, (size_t)(d1 - s));
    if (!contig_ok(v->chrom))
        return pm_err(ctx, PM_EINPUT, "bad contig name in the variant");
    if (parse_pos(d1 + 1, (size_t)(d2 - d1 - 1), &v->pos) < 0 || v->pos < 1)
        return pm_err(ctx, PM_EINPUT, "the variant's position must be a positive integer");
    if (copy_upper(v->ref, sizeof v->ref, d2 + 1, (size_t)(d3 - d2 - 1)) < 0 ||
        copy_upper(v->alt, sizeof v->alt, d3 + 1, strlen(d3 + 1)) < 0)
        return pm_err(ctx, PM_EINPUT, "allele too long (over %d bases)", PM_HTTP_ALLELE_MAX - 1);
    if (!allele_ok(v->ref) || !allele_ok(v->alt))
        return pm_err(ctx, PM_EINPUT, "alleles are made of A, C, G, T and N");
    return 0;
}

/* ---- Beacon requests ---- */

static void req_init(pm_beacon_req_t *r)
{
    memset(r, 0, sizeof *r);
    r->start = r->end = -1;
    r->limit = 10;
}

static int granularity_parse(pm_ctx_t *ctx, const char *s, int *out)
{
    static const char *const names[] = {"boolean", "count", "record"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    return pm_err(ctx, PM_EINPUT, "requestedGranularity must be boolean, count or record");
}

static int set_str(pm_ctx_t *ctx, char *dst, size_t cap, const char *s, const char *what,
                   int upper)
{
    size_t len = strlen(s);
    if (len + 1 > cap)
        return pm_err(ctx, PM_EINPUT, "%s too long", what);
    if (upper)
        copy_upper(dst, cap, s, len);
    else
        memcpy(dst, s, len + 1);
    return 0;
}

static int set_int(pm_ctx_t *ctx, int64_t *dst, const char *s, const char *what)
{
    if (parse_pos(s, strlen(s), dst) < 0)
        return pm_err(ctx, PM_EINPUT, "%s must be a non-negative integer", what);
    return 0;
}

static int add_filter(pm_ctx_t *ctx, pm_beacon_req_t *r, const char *id, size_t len)
{
    while (len && (*id == ' '))
        id++, len--;
    while (len && id[len - 1] == ' ')
        len--;
    if (!len)
        return 0;
    if (r->nfilters == PM_BEACON_MAX_FILTERS)
        return pm_err(ctx, PM_EINPUT, "too many filters (over %d)", PM_BEACON_MAX_FILTERS);
    if (len >= PM_BEACON_FILTER_MAX)
        return pm_err(ctx, PM_EINPUT, "filter id too long");
    memcpy(r->filter[r->nfilters], id, len);
    r->filter[r->nfilters][len] = '\0';
    r->nfilters++;
    return 0;
}

static int check_alleles(pm_ctx_t *ctx, const pm_beacon_req_t *r)
{
    if ((r->ref[0] && !allele_ok(r->ref)) || (r->alt[0] && !allele_ok(r->alt)))
        return pm_err(ctx, PM_EINPUT, "referenceBases and alternateBases are made of A, C, G, "
                                      "T and N");
    if (r->reference_name[0] && !contig_ok(r->reference_name))
        return pm_err(ctx, PM_EINPUT, "bad referenceName");
    return 0;
}

int pm_beacon_req_from_query(pm_ctx_t *ctx, const pm_http_query_t *q, pm_beacon_req_t *r)
{
    req_init(r);
    int rc = 0;
    const char *v;
    if ((v = pm_http_query_get(q, "referenceName")))
        rc = set_str(ctx, r->reference_name, sizeof r->reference_name, v, "referenceName", 0);
    if (rc >= 0 && (v = pm_http_query_get(q, "start")))
        rc = set_int(ctx, &r->start, v, "start");
    if (rc >= 0 && (v = pm_http_query_get(q, "end")))
        rc = set_int(ctx, &r->end, v, "end");
    if (rc >= 0 && (v = pm_http_query_get(q, "referenceBases")))
        rc = set_str(ctx, r->ref, sizeof r->ref, v, "referenceBases", 1);
    if (rc >= 0 && (v = pm_http_query_get(q, "alternateBases")))
        rc = set_str(ctx, r->alt, sizeof r->alt, v, "alternateBases", 1);
    if (rc >= 0 && (v = pm_http_query_get(q, "requestedGranularity")))
        rc = granularity_parse(ctx, v, &r->granularity);
    if (rc >= 0 && (v = pm_http_query_get(q, "skip")))
        rc = set_int(ctx, &r->skip, v, "skip");
    if (rc >= 0 && (v = pm_http_query_get(q, "limit")))
        rc = set_int(ctx, &r->limit, v, "limit");
    if (rc >= 0 && (v = pm_http_query_get(q, "filters"))) {
        for (const char *p = v; rc >= 0;) {
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            rc = add_filter(ctx, r, p, len);
            if (!c)
                break;
            p = c + 1;
        }
    }
    return rc < 0 ? rc : check_alleles(ctx, r);
}

/* A JSON member as a string: strings as they are, integers in decimal. */
static int json_member(pm_ctx_t *ctx, json_t *obj, const char *key, char *buf, size_t cap)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (json_is_string(v)) {
        if (json_string_length(v) + 1 > cap || strlen(json_string_value(v)) !=
                                                   json_string_length(v))
            return pm_err(ctx, PM_EINPUT, "'%s' too long or holds a NUL", key);
        memcpy(buf, json_string_value(v), json_string_length(v) + 1);
        return 1;
    }
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        return 1;
    }
    if (json_is_array(v) && json_array_size(v) == 1 && json_is_integer(json_array_get(v, 0))) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(json_array_get(v, 0)));
        return 1;
    }
    return pm_err(ctx, PM_EINPUT, "'%s' must be a string or an integer", key);
}

static int from_json(pm_ctx_t *ctx, json_t *root, pm_beacon_req_t *r)
{
    if (!json_is_object(root))
        return pm_err(ctx, PM_EINPUT, "the request body must be a JSON object");
    json_t *query = json_object_get(root, "query");
    if (!query)
        return 0;
    if (!json_is_object(query))
        return pm_err(ctx, PM_EINPUT, "'query' must be an object");
    char buf[PM_HTTP_ALLELE_MAX];
    int rc;
    json_t *rp = json_object_get(query, "requestParameters");
    if (rp && !json_is_object(rp))
        return pm_err(ctx, PM_EINPUT, "'requestParameters' must be an object");
    if (rp) {
        static const struct {
            const char *key;
            int kind; /* 0 contig, 1 start, 2 end, 3 ref, 4 alt */
        } fields[] = {{"referenceName", 0}, {"start", 1}, {"end", 2},
                      {"referenceBases", 3}, {"alternateBases", 4}};
        for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
            if ((rc = json_member(ctx, rp, fields[i].key, buf, sizeof buf)) <= 0) {
                if (rc < 0)
                    return rc;
                continue;
            }
            switch (fields[i].kind) {
            case 0: rc = set_str(ctx, r->reference_name, sizeof r->reference_name, buf, fields[i].key, 0); break;
            case 1: rc = set_int(ctx, &r->start, buf, fields[i].key); break;
            case 2: rc = set_int(ctx, &r->end, buf, fields[i].key); break;
            case 3: rc = set_str(ctx, r->ref, sizeof r->ref, buf, fields[i].key, 1); break;
            default: rc = set_str(ctx, r->alt, sizeof r->alt, buf, fields[i].key, 1); break;
            }
            if (rc < 0)
                return rc;
        }
    }
    if ((rc = json_member(ctx, query, "requestedGranularity", buf, sizeof buf)) < 0)
        return rc;
    if (rc > 0 && (rc = granularity_parse(ctx, buf, &r->granularity)) < 0)
        return rc;
    json_t *pg = json_object_get(query, "pagination");
    if (pg && json_is_object(pg)) {
        json_t *v;
        if ((v = json_object_get(pg, "skip")) && (!json_is_integer(v) || json_integer_value(v) < 0))
            return pm_err(ctx, PM_EINPUT, "pagination.skip must be a non-negative integer");
        if (v)
            r->skip = json_integer_value(v);
        if ((v = json_object_get(pg, "limit")) && (!json_is_integer(v) || json_integer_value(v) < 0))
            return pm_err(ctx, PM_EINPUT, "pagination.limit must be a non-negative integer");
        if (v)
            r->limit = json_integer_value(v);
    }
    json_t *filters = json_object_get(query, "filters");
    if (filters && !json_is_array(filters))
        return pm_err(ctx, PM_EINPUT, "'filters' must be an array");
    size_t i;
    json_t *f;
    json_array_foreach(filters, i, f) {
        json_t *id = json_is_object(f) ? json_object_get(f, "id") : f;
        if (!json_is_string(id))
            return pm_err(ctx, PM_EINPUT, "a filter is a string or an object with an 'id'");
        if (json_is_object(f) && json_object_get(f, "operator"))
            return pm_err(ctx, PM_EINPUT, "alphanumeric filters are not supported");
        if ((rc = add_filter(ctx, r, json_string_value(id), strlen(json_string_value(id)))) < 0)
            return rc;
    }
    return 0;
}

int pm_beacon_req_from_json(pm_ctx_t *ctx, const char *body, size_t len, pm_beacon_req_t *r)
{
    req_init(r);
    if (len == 0)
        return 0;
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return pm_err(ctx, PM_EINPUT, "the request body is not valid JSON (line %d, column %d)",
                      jerr.line, jerr.column);
    int rc = from_json(ctx, root, r);
    json_decref(root);
    return rc < 0 ? rc : check_alleles(ctx, r);
}

int pm_beacon_variant_region(pm_ctx_t *ctx, const pm_beacon_req_t *r, char *region, size_t cap)
{
    if (!r->reference_name[0])
        return pm_err(ctx, PM_EINPUT, "a g_variants query needs referenceName");
    if (r->start < 0)
        return pm_err(ctx, PM_EINPUT, "a g_variants query needs start");
    int64_t beg = r->start + 1, end;
    if (r->alt[0]) {
        if (!r->ref[0])
            return pm_err(ctx, PM_EINPUT, "a sequence query needs referenceBases with "
                                          "alternateBases");
        end = beg;
    } else if (r->end >= 0) {
        if (r->end <= r->start)
            return pm_err(ctx, PM_EINPUT, "end must be greater than start");
        if (r->end - r->start > 10000000)
            return pm_err(ctx, PM_EINPUT, "a range query spans at most 10 Mb");
        end = r->end;
    } else {
        return pm_err(ctx, PM_EINPUT, "give alternateBases (sequence query) or end (range query)");
    }
    snprintf(region, cap, "%s:%lld-%lld", r->reference_name, (long long)beg, (long long)end);
    return 0;
}

/* ---- filters ---- */

static int icd10_code(const char *s, char *out, size_t cap)
{
    static const char *const prefixes[] = {"icd10:", "icd10cm:", "icd-10:"};
    size_t plen = 0;
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (strncasecmp(s, prefixes[i], strlen(prefixes[i])) == 0) {
            plen = strlen(prefixes[i]);
            break;
        }
    if (!plen)
        return 0;
    const char *c = s + plen;
    size_t n = 0;
    if (!isalpha((unsigned char)c[0]))
        return -1;
    for (; *c; c++) {
        if (*c == '.')
            continue; /* E11.9 and E119 are one code */
        if (!isalnum((unsigned char)*c) || n + 1 >= cap)
            return -1;
        out[n++] = (char)toupper((unsigned char)*c);
    }
    out[n] = '\0';
    return n >= 1 ? 1 : -1;
}

int pm_beacon_filters_cohort(pm_ctx_t *ctx, const pm_beacon_req_t *r, char *expr, size_t cap)
{
    size_t len = 0;
    if (cap)
        expr[0] = '\0';
    for (size_t i = 0; i < r->nfilters; i++) {
        const char *f = r->filter[i];
        char code[PM_BEACON_FILTER_MAX], term[PM_BEACON_FILTER_MAX + 16];
        int rc = icd10_code(f, code, sizeof code);
        if (rc < 0)
            return pm_err(ctx, PM_EINPUT, "filter %zu: malformed ICD-10 code", i + 1);
        if (rc > 0)
            snprintf(term, sizeof term, "icd10:%s", code);
        else if (strcasecmp(f, "NCIT:C16576") == 0)
            snprintf(term, sizeof term, "sex=F");
        else if (strcasecmp(f, "NCIT:C20197") == 0)
            snprintf(term, sizeof term, "sex=M");
        else
            return pm_err(ctx, PM_EINPUT, "filter %zu: unknown filtering term (see "
                                          "/api/beacon/v2/filtering_terms)", i + 1);
        int n = snprintf(expr + len, cap - len, "%s%s", len ? " and " : "", term);
        if (n < 0 || (size_t)n >= cap - len)
            return pm_err(ctx, PM_EINPUT, "filters too long");
        len += (size_t)n;
    }
    return 0;
}
