/*
 * server.c - libmicrohttpd wiring (the only file that knows it): the
 * daemon and its limits, per-connection state, body caps, the store
 * handle pool, bearer tokens, the rate limit, the audit entry written
 * before every answer, and dispatch through the route table.
 *
 * Request life: the URI log callback allocates the connection state and
 * keeps the raw request target (MHD only hands the handler a decoded
 * path); the first handler call sees the headers (413 at once when
 * Content-Length is over the cap); later calls collect the body; the last
 * call answers. Answers are built in full before they are queued.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "promise/audit.h"
#include "server/server_int.h"

#define RATE_SLOTS 4096

typedef struct rate_slot {
    uint64_t key;
    int64_t second;
    int count;
} rate_slot_t;

typedef struct pool_slot {
    pm_ctx_t *ctx;
    pm_store_t *st;
    int busy;
} pool_slot_t;

struct pm_server {
    struct MHD_Daemon *d;
    int port;
    pm_server_opts_t o;
    int k;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pool_slot_t *pool;
    int npool;
    pthread_mutex_t rate_mu;
    rate_slot_t *rate;
    pm_audit_log_t *audit; /* shared by the workers: group commit */
    pm_beacon_ledger_t *ledger; /* Beacon budgets and answers, committed by audit */
    int n_suspended;       /* connections waiting for the audit log (atomic) */
    int closing;           /* set by pm_server_close (atomic) */
};

/* ---- routes ---- */

#define BEACON "/api/beacon/v2"
const srv_route_t pm_srv_routes[] = {
    {"GET", "/api/v1/count", srv_api_count, PM_TIER_REGISTERED, 0,
     "count a cohort, with small-cell suppression for the caller's tier"},
    {"GET", "/api/v1/variants/{}", srv_api_variant, PM_TIER_PUBLIC, 0,
     "allele frequency of CHROM-POS-REF-ALT, overall and by sex"},
    {"GET", "/api/v1/endpoints", srv_api_endpoints, PM_TIER_PUBLIC, 0,
     "the registry endpoint definitions"},
    {"GET", "/api/v1/openapi.json", srv_api_openapi, PM_TIER_PUBLIC, 0, "this API as OpenAPI 3"},
    {"GET", BEACON, srv_beacon_info, PM_TIER_PUBLIC, 1, "Beacon info"},
    {"GET", BEACON "/", srv_beacon_info, PM_TIER_PUBLIC, 1, "Beacon info"},
    {"GET", BEACON "/info", srv_beacon_info, PM_TIER_PUBLIC, 1, "Beacon info"},
    {"GET", BEACON "/service-info", srv_beacon_service_info, PM_TIER_PUBLIC, 1,
     "GA4GH service-info"},
    {"GET", BEACON "/configuration", srv_beacon_configuration, PM_TIER_PUBLIC, 1,
     "Beacon configuration"},
    {"GET", BEACON "/map", srv_beacon_map, PM_TIER_PUBLIC, 1, "Beacon map"},
    {"GET", BEACON "/entry_types", srv_beacon_entry_types, PM_TIER_PUBLIC, 1,
     "Beacon entry types"},
    {"GET", BEACON "/filtering_terms", srv_beacon_filtering_terms, PM_TIER_PUBLIC, 1,
     "Beacon filtering terms"},
    {"GET", BEACON "/g_variants", srv_beacon_g_variants, PM_TIER_PUBLIC, 1,
     "genomic variant query (sequence or range)"},
    {"POST", BEACON "/g_variants", srv_beacon_g_variants, PM_TIER_PUBLIC, 1,
     "genomic variant query with a request body"},
    {"GET", BEACON "/individuals", srv_beacon_individuals, PM_TIER_PUBLIC, 1,
     "individuals matching filters (ICD-10, sex)"},
    {"POST", BEACON "/individuals", srv_beacon_individuals, PM_TIER_PUBLIC, 1,
     "individuals matching filters, request body"},
    /* ---- the browser UI (routes_ui.c, docs/ui.md) ---- */
    {"GET", "/", srv_ui_index, PM_TIER_PUBLIC, 0, "the browser UI"},
    {"GET", "/ui/{}", srv_ui_asset, PM_TIER_PUBLIC, 0, "the browser UI's static files"},
    {"GET", "/api/v1/me", srv_ui_me, PM_TIER_PUBLIC, 0,
     "the caller's user, tier, projects and what the tier may see"},
    {"GET", "/api/v1/search", srv_ui_search, PM_TIER_PUBLIC, 0,
     "resolve CHR:POS:REF:ALT, CHR:POS, rsID or a region to variants"},
    {"GET", "/api/v1/freq/{}", srv_ui_variant, PM_TIER_PUBLIC, 0,
     "allele frequency of CHROM-POS-REF-ALT by sex, county and source"},
    {"GET", "/api/v1/region", srv_ui_region, PM_TIER_PUBLIC, 0,
     "allele frequencies of the variants in a region, paged"},
    {"GET", "/api/v1/cohorts", srv_ui_cohorts, PM_TIER_PROJECT, 0, "a project's saved cohorts"},
    {"POST", "/api/v1/cohorts", srv_ui_cohort_save, PM_TIER_PROJECT, 0,
     "save a cohort expression for a project"},
    {"GET", "/api/v1/gwas", srv_ui_gwas_list, PM_TIER_REGISTERED, 0,
     "the stored GWAS runs (STORE/results)"},
    {"GET", "/api/v1/gwas/{}", srv_ui_gwas_get, PM_TIER_REGISTERED, 0,
     "one GWAS result table (TSV)"},
    {"GET", "/api/v1/omics/features", srv_ui_omics_features, PM_TIER_REGISTERED, 0,
     "the features of an assay"},
    {"GET", "/api/v1/omics/values", srv_ui_omics_values, PM_TIER_REGISTERED, 0,
     "a feature's distribution in a cohort; per-individual trajectories for the project tier"},
    {"GET", "/api/v1/projects", srv_ui_projects, PM_TIER_STEWARD, 0, "projects, users and grants"},
    {"GET", "/api/v1/audit", srv_ui_audit, PM_TIER_STEWARD, 0,
     "the audit log, newest first, with its verification status"},
};
const size_t pm_srv_nroutes = sizeof pm_srv_routes / sizeof *pm_srv_routes;

/* 1 when path matches pattern; the "{}" segment goes to arg. */
static int route_match(const char *pattern, const char *path, char *arg, size_t cap)
{
    const char *hole = strstr(pattern, "{}");
    if (!hole)
        return strcmp(pattern, path) == 0;
    size_t pre = (size_t)(hole - pattern);
    if (strncmp(pattern, path, pre) != 0)
        return 0;
    const char *seg = path + pre, *end = strchr(seg, '/');
    if (end || !*seg || strlen(seg) >= cap)
        return 0;
    memcpy(arg, seg, strlen(seg) + 1);
    return 1;
}

/* ---- answers ---- */

json_t *srv_beacon_error(int status, const char *message)
{
    return json_pack("{s:{s:s,s:s,s:[],s:s,s:{s:s,s:[],s:{s:i,s:i},s:s}},s:{s:i,s:s}}", "meta",
                     "beaconId", "se.promise.beacon", "apiVersion", "v2.0.0", "returnedSchemas",
                     "returnedGranularity", "boolean", "receivedRequestSummary", "apiVersion",
                     "v2.0.0", "requestedSchemas", "pagination", "skip", 0, "limit", 10,
                     "requestedGranularity", "boolean", "error", "errorCode", status,
                     "errorMessage", message);
}

int srv_error(srv_req_t *r, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_decref(r->json);
    r->raw = NULL;
    r->status = status;
    if (r->beacon)
        r->json = srv_beacon_error(status, msg);
    else
        r->json = json_pack("{s:{s:i,s:s}}", "error", "status", status, "message", msg);
    return 0;
}

int srv_fail(srv_req_t *r, int rc)
{
    int status = rc == PM_EINPUT || rc == PM_EUSAGE ? 400
                 : rc == PM_ENOTFOUND               ? 404
                 : rc == PM_EACCES                  ? 403
                 : rc == PM_ELIMIT                  ? 413
                                                    : 500;
    const char *m = pm_ctx_errmsg(r->ctx);
    if (status == 500)
        m = "internal error"; /* details stay on the server */
    return srv_error(r, status, "%s", m && *m ? m : pm_strerror(rc));
}

/* ---- store handle pool ---- */

static int pool_get(pm_server_t *s)
{
    pthread_mutex_lock(&s->mu);
    for (;;) {
        for (int i = 0; i < s->npool; i++)
            if (!s->pool[i].busy) {
                s->pool[i].busy = 1;
                pthread_mutex_unlock(&s->mu);
                pm_ctx_clear(s->pool[i].ctx);
                pm_store_pin(s->pool[i].st, 1); /* one catalog check per request */
                return i;
            }
        pthread_cond_wait(&s->cv, &s->mu);
    }
}

static void pool_put(pm_server_t *s, int i)
{
    pm_store_pin(s->pool[i].st, 0);
    pthread_mutex_lock(&s->mu);
    s->pool[i].busy = 0;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* ---- rate limit: a fixed one-second window per key ---- */

static uint64_t fnv(const char *s, uint64_t h)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* 1 when the request may go ahead. */
static int rate_ok(pm_server_t *s, const char *key)
{
    uint64_t h = fnv(key, 1469598103934665603ULL);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int ok;
    pthread_mutex_lock(&s->rate_mu);
    rate_slot_t *slot = &s->rate[h % RATE_SLOTS];
    if (slot->key != h || slot->second != ts.tv_sec) {
        slot->key = h;
        slot->second = ts.tv_sec;
        slot->count = 0;
    }
    ok = ++slot->count <= s->o.rate_limit;
    pthread_mutex_unlock(&s->rate_mu);
    return ok;
}

/* ---- connections ---- */

typedef struct conn {
    pm_server_t *srv;
    char *uri;
    char *body;
    size_t body_len, body_cap;
    int started;
    int too_big;
    /* an answer waiting, suspended, for its audit entries (group commit) */
    struct MHD_Connection *con;
    int waiting;             /* suspended until the audit log calls back */
    int ready;               /* the log called back: audit_ok says how it went */
    int audit_ok;
    int status;
    const char *resp;        /* the answer's body: resp_owned, or static */
    char *resp_owned;
    size_t resp_len;
    const char *content_type;
} conn_t;

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
    conn_t *c = calloc(1, sizeof *c);
    if (c) {
        c->srv = cls;
        c->uri = strdup(uri ? uri : "");
        c->con = con;
    }
    return c;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con;
    (void)toe;
    conn_t *c = *con_cls;
    if (c) {
        free(c->uri);
        free(c->body);
        free(c->resp_owned);
        free(c);
    }
    *con_cls = NULL;
}

static enum MHD_Result send_json(struct MHD_Connection *con, int status, const char *text,
                                 size_t len, int copy, const char *content_type)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, (void *)text, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type",
                            content_type ? content_type : "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (status == 405)
        MHD_add_response_header(resp, "Allow", "GET, POST");
    enum MHD_Result ret = MHD_queue_response(con, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* The caller's tier from the Authorization header: 0, or an HTTP status. */
static int authenticate(srv_req_t *r, struct MHD_Connection *con, pm_principal_t *who,
                        char *rate_key, size_t cap)
{
    const char *auth = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Authorization");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char addr[INET6_ADDRSTRLEN] = "?";
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, addr,
                  sizeof addr);
    snprintf(rate_key, cap, "addr:%s", addr);
    r->tier = r->srv->o.anonymous_tier;
    if (!auth)
        return 0;
    if (strncasecmp(auth, "Bearer ", 7) != 0 || !auth[7]) {
        srv_error(r, 401, "the Authorization header must be 'Bearer TOKEN'");
        return 401;
    }
    const char *tok = auth + 7;
    if (strlen(tok) >= PM_TOKEN_MAX || pm_access_authenticate(r->st, tok, who) < 0) {
        const char *m = pm_ctx_errmsg(r->ctx);
        srv_error(r, 401, "%s", m && *m && strlen(tok) < PM_TOKEN_MAX ? m : "invalid token");
        return 401;
    }
    r->who = who;
    r->tier = who->tier;
    snprintf(rate_key, cap, "user:%s", who->user);
    return 0;
}

/* The audit "query": the request target's query string and body, capped. */
static void audit_query(const conn_t *c, char *buf, size_t cap)
{
    const char *qs = strchr(c->uri, '?');
    int n = snprintf(buf, cap, "%.*s", 3000, qs ? qs + 1 : "");
    if (c->body_len && n >= 0 && (size_t)n < cap)
        snprintf(buf + n, cap - (size_t)n, "%sbody=%.*s", n ? " " : "",
                 (int)(c->body_len < 900 ? c->body_len : 900), c->body);
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
}

/* The audit log's flusher: the connection's entries are durable (ok) or
 * failed; the connection resumes and on_request sends what is kept. */
static void on_audited(void *arg, int ok)
{
    conn_t *c = arg;
    pm_server_t *s = c->srv;
    __atomic_store_n(&c->audit_ok, ok, __ATOMIC_RELAXED);
    __atomic_store_n(&c->ready, 1, __ATOMIC_RELEASE);
    MHD_resume_connection(c->con);
    __atomic_sub_fetch(&s->n_suspended, 1, __ATOMIC_SEQ_CST);
}

/* The kept answer, once its audit entries are durable. */
static enum MHD_Result send_kept(struct MHD_Connection *con, conn_t *c)
{
    static const char withheld[] = "{\"error\":{\"status\":500,\"message\":\"the request "
                                   "could not be audited, so it is not answered\"}}";
    c->waiting = 0;
    if (!__atomic_load_n(&c->audit_ok, __ATOMIC_RELAXED))
        return send_json(con, 500, withheld, sizeof withheld - 1, 0, NULL);
    return send_json(con, c->status, c->resp ? c->resp : "", c->resp_len, 1, c->content_type);
}

static enum MHD_Result answer(pm_server_t *s, struct MHD_Connection *con, conn_t *c,
                              const char *method)
{
    int slot = pool_get(s);
    srv_req_t r = {.srv = s, .ledger = s->ledger, .st = s->pool[slot].st, .ctx = s->pool[slot].ctx,
                   .method = method, .k = s->k, .status = 200, .n_individuals = -1};
    pm_http_query_t *q = calloc(1, sizeof *q);
    char *path = malloc(PM_HTTP_MAX_URI + 1);
    pm_principal_t who;
    char rate_key[PM_ACCESS_NAME_MAX + 16], command[128], query[4000];
    memset(&who, 0, sizeof who);
    r.q = q;
    r.body = c->body ? c->body : "";
    r.body_len = c->body_len;

    /* 1. what is asked */
    int refused = 1, status = 0;
    const char *qs = strchr(c->uri, '?');
    size_t plen = qs ? (size_t)(qs - c->uri) : strlen(c->uri);
    if (!q || !path) {
        srv_error(&r, 500, "out of memory");
    } else if (c->too_big) {
        srv_error(&r, 413, "request body over %zu bytes", s->o.max_body);
    } else if (plen > PM_HTTP_MAX_URI || pm_http_path_decode(r.ctx, c->uri, plen, path,
                                                             PM_HTTP_MAX_URI + 1) < 0) {
        srv_error(&r, 400, "%s", plen > PM_HTTP_MAX_URI ? "request path too long"
                                                        : pm_ctx_errmsg(r.ctx));
    } else {
        r.path = path;
        r.beacon = strncmp(path, BEACON, strlen(BEACON)) == 0; /* Beacon-format errors */
        int path_known = 0;
        for (size_t i = 0; i < pm_srv_nroutes; i++) {
            if (!route_match(pm_srv_routes[i].pattern, path, r.arg, sizeof r.arg))
                continue;
            path_known = 1;
            if (strcmp(pm_srv_routes[i].method, method) == 0) {
                r.route = &pm_srv_routes[i];
                break;
            }
        }
        if (!path_known)
            srv_error(&r, 404, "no such endpoint: %s %.200s", method, path);
        else if (!r.route)
            srv_error(&r, 405, "method %s not allowed here", method);
        else if (pm_http_query_parse(r.ctx, qs ? qs + 1 : "", qs ? strlen(qs + 1) : 0, q) < 0)
            srv_error(&r, 400, "%s", pm_ctx_errmsg(r.ctx));
        else
            refused = 0;
    }

    /* 2. who asks (also for refused requests: the audit names them) */
    if ((status = authenticate(&r, con, &who, rate_key, sizeof rate_key)) != 0)
        refused = 1;
    /* Refused requests count too: guessing tokens is rate-limited per address. */
    if (!rate_ok(s, rate_key)) {
        srv_error(&r, 429, "too many requests: at most %d per second", s->o.rate_limit);
        refused = 1;
    }
    if (!refused && r.tier < r.route->min_tier) {
        if (!r.who && r.tier == PM_TIER_PUBLIC)
            srv_error(&r, 401, "this endpoint needs a bearer token (tier %s or above)",
                      pm_tier_name(r.route->min_tier));
        else
            srv_error(&r, 403, "tier %s may not use this endpoint (needs %s)",
                      pm_tier_name(r.tier), pm_tier_name(r.route->min_tier));
        refused = 1;
    }

    /* 3. the audit entry, queued before anything is worked on (it becomes
     * durable together with the result entry, below) */
    pm_audit_pending_t *audit_req = NULL;
    snprintf(command, sizeof command, "%s %.100s", method, r.path ? r.path : "?");
    audit_query(c, query, sizeof query);
    pm_audit_entry_t e = {.who = r.who ? r.who->user : "anonymous",
                          .tier = r.tier,
                          .project = r.q && r.q->n ? pm_http_query_get(r.q, "project") : NULL,
                          .command = command,
                          .query = query};
    if (pm_audit_log_request(s->audit, r.ctx, &e, &audit_req) < 0) {
        srv_error(&r, 500, "the request could not be audited, so it is not answered");
        refused = 1;
    }

    /* 4. the answer */
    if (!refused && r.route->fn(&r) < 0 && r.status == 200)
        srv_error(&r, 500, "internal error");
    char *text = NULL;
    size_t len = 0;
    if (r.raw) {
        len = r.raw_len ? r.raw_len : strlen(r.raw);
    } else if (r.json) {
        text = json_dumps(r.json, JSON_COMPACT);
        len = text ? strlen(text) : 0;
    }
    if (!r.raw && !text) {
        r.status = 500;
        text = strdup("{\"error\":{\"status\":500,\"message\":\"internal error\"}}");
        len = text ? strlen(text) : 0;
    }
    /* Both entries durable (group commit) before the answer leaves: the
     * answer is kept on the connection, which is suspended until the audit
     * log's flusher calls back (the worker goes on to other connections);
     * when they cannot be written, the answer is withheld. */
    enum MHD_Result ret = MHD_YES;
    /* counted before closing is read: pm_server_close waits for every
     * suspended connection before it stops the daemon */
    __atomic_add_fetch(&s->n_suspended, 1, __ATOMIC_SEQ_CST);
    if (audit_req && __atomic_load_n(&s->closing, __ATOMIC_SEQ_CST)) {
        __atomic_sub_fetch(&s->n_suspended, 1, __ATOMIC_SEQ_CST);
        /* shutting down: wait here instead */
        if (pm_audit_log_result(s->audit, r.ctx, audit_req,
                                r.status < 300 ? "ok" : refused ? "refused" : "error",
                                r.n_individuals, (int64_t)len, r.used, NULL) < 0) {
            free(text);
            free(r.raw_owned);
            r.raw_owned = NULL;
            r.raw = NULL;
            r.status = 500;
            text = strdup("{\"error\":{\"status\":500,\"message\":\"the request could not "
                          "be audited, so it is not answered\"}}");
            len = text ? strlen(text) : 0;
        }
        audit_req = NULL;
        pool_put(s, slot);
        ret = r.raw ? send_json(con, r.status, r.raw, len, r.raw_owned != NULL, r.content_type)
                    : send_json(con, r.status, text ? text : "", len, 1, NULL);
    } else if (audit_req) {
        c->status = r.status;
        c->content_type = r.raw ? r.content_type : NULL;
        c->resp_len = len;
        if (r.raw) {
            c->resp = r.raw;
            c->resp_owned = r.raw_owned;
            r.raw_owned = NULL;
        } else {
            c->resp = c->resp_owned = text;
            text = NULL;
        }
        c->waiting = 1;
        MHD_suspend_connection(con);
        if (pm_audit_log_result_async(s->audit, r.ctx, audit_req,
                                      r.status < 300 ? "ok" : refused ? "refused" : "error",
                                      r.n_individuals, (int64_t)len, r.used, on_audited, c) < 0)
            on_audited(c, 0);
        pool_put(s, slot);
    } else {
        __atomic_sub_fetch(&s->n_suspended, 1, __ATOMIC_SEQ_CST);
        pool_put(s, slot);
        ret = r.raw ? send_json(con, r.status, r.raw, len, r.raw_owned != NULL, r.content_type)
                    : send_json(con, r.status, text ? text : "", len, 1, NULL);
    }
    free(text);
    free(r.raw_owned);
    json_decref(r.json);
    pm_bitset_free(r.used);
    free(q);
    free(path);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)url;
    (void)version;
    pm_server_t *s = cls;
    conn_t *c = *con_cls;
    if (!c || !c->uri)
        return MHD_NO;
    if (c->waiting) {
        *upload_data_size = 0;
        if (!__atomic_load_n(&c->ready, __ATOMIC_ACQUIRE))
            return MHD_YES; /* not resumed by us: keep waiting */
        return send_kept(con, c);
    }
    if (!c->started) {
        c->started = 1;
        const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > s->o.max_body) {
            c->too_big = 1;
            return answer(s, con, c, method);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (c->too_big || c->body_len + n > s->o.max_body) {
            c->too_big = 1;
            return MHD_YES;
        }
        if (c->body_len + n + 1 > c->body_cap) {
            size_t cap = c->body_cap ? c->body_cap : 4096;
            while (cap < c->body_len + n + 1)
                cap *= 2;
            char *b = realloc(c->body, cap);
            if (!b)
                return MHD_NO;
            c->body = b;
            c->body_cap = cap;
        }
        memcpy(c->body + c->body_len, upload_data, n);
        c->body_len += n;
        c->body[c->body_len] = '\0';
        return MHD_YES;
    }
    return answer(s, con, c, method);
}

/* ---- lifecycle ---- */

static int parse_listen(pm_ctx_t *ctx, const char *s, struct sockaddr_in *sa)
{
    const char *colon = strrchr(s, ':');
    char host[64];
    if (!colon || (size_t)(colon - s) >= sizeof host)
        return pm_err(ctx, PM_EUSAGE, "--listen takes ADDR:PORT, not '%s'", s);
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535)
        return pm_err(ctx, PM_EUSAGE, "bad port in --listen '%s'", s);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return pm_err(ctx, PM_EUSAGE, "bad IPv4 address in --listen '%s'", s);
    return 0;
}

int pm_server_open(pm_ctx_t *ctx, const char *store_path, const pm_server_opts_t *opts,
                   pm_server_t **out)
{
    *out = NULL;
    pm_server_opts_t o = opts ? *opts : (pm_server_opts_t){0};
    if (!o.listen)
        o.listen = "127.0.0.1:8080";
    if (o.threads <= 0)
        o.threads = 4;
    if (o.threads > 64)
        o.threads = 64;
    if (o.max_connections <= 0)
        o.max_connections = 256;
    if (!o.max_body)
        o.max_body = 64 * 1024;
    if (!o.max_header)
        o.max_header = 32 * 1024;
    if (o.timeout_s <= 0)
        o.timeout_s = 15;
    if (o.rate_limit <= 0)
        o.rate_limit = 2000;
    if (o.anonymous_tier != PM_TIER_PUBLIC && o.anonymous_tier != PM_TIER_REGISTERED)
        return pm_err(ctx, PM_EUSAGE, "requests without a token get the public or registered "
                                      "tier, not %s", pm_tier_name(o.anonymous_tier));
    struct sockaddr_in sa;
    int rc = parse_listen(ctx, o.listen, &sa);
    if (rc < 0)
        return rc;

    pm_server_t *s = calloc(1, sizeof *s);
    if (!s)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    s->o = o;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->rate_mu, NULL);
    s->rate = calloc(RATE_SLOTS, sizeof *s->rate);
    /* One handle per worker, plus one so that a slow request never makes
     * every worker wait. */
    s->npool = o.threads + 1;
    s->pool = calloc((size_t)s->npool, sizeof *s->pool);
    if (!s->rate || !s->pool) {
        pm_server_close(s);
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    }
    for (int i = 0; i < s->npool; i++) {
        if (!(s->pool[i].ctx = pm_ctx_new())) {
            pm_server_close(s);
            return pm_err(ctx, PM_ENOMEM, "out of memory");
        }
        if ((rc = pm_store_open(s->pool[i].ctx, store_path, PM_STORE_RDONLY, &s->pool[i].st)) < 0) {
            pm_err(ctx, rc, "%s", pm_ctx_errmsg(s->pool[i].ctx));
            pm_server_close(s);
            return rc;
        }
    }
    pm_policy_t pol;
    if ((rc = pm_policy_for_store(s->pool[0].st, PM_TIER_PUBLIC, &pol)) < 0) {
        pm_err(ctx, rc, "%s", pm_ctx_errmsg(s->pool[0].ctx));
        pm_server_close(s);
        return rc;
    }
    s->k = pol.k;
    if ((rc = pm_audit_log_open(s->pool[0].st, &s->audit)) < 0 ||
        (rc = pm_beacon_ledger_open(s->pool[0].st, &s->ledger)) < 0) {
        pm_err(ctx, rc, "%s", pm_ctx_errmsg(s->pool[0].ctx));
        pm_server_close(s);
        return rc;
    }
    pm_audit_log_attach_beacon(s->audit, s->ledger);

    s->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
        on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o.threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)o.max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT, o.max_header,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o.timeout_s, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)o.max_connections, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_LISTENING_ADDRESS_REUSE,
        (unsigned)1, MHD_OPTION_END);
    if (!s->d) {
        pm_server_close(s);
        return pm_err(ctx, PM_EIO, "cannot listen on '%s' (address in use or not local?)",
                      o.listen);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : ntohs(sa.sin_port);
    *out = s;
    return 0;
}

int pm_server_port(const pm_server_t *srv) { return srv ? srv->port : -1; }

void pm_server_close(pm_server_t *s)
{
    if (!s)
        return;
    if (s->d) {
        /* no daemon may stop with suspended connections: let the audit log
         * resume every waiting one first */
        MHD_socket ls = MHD_quiesce_daemon(s->d);
        if (ls != MHD_INVALID_SOCKET)
            close(ls);
        __atomic_store_n(&s->closing, 1, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&s->n_suspended, __ATOMIC_SEQ_CST) > 0) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        MHD_stop_daemon(s->d);
    }
    pm_audit_log_close(s->audit); /* its last commit takes the ledger's queue too */
    if (s->ledger && pm_beacon_ledger_flush(s->ledger, s->pool[0].st) < 0)
        fprintf(stderr, "promise serve: %s\n", pm_ctx_errmsg(s->pool[0].ctx));
    pm_beacon_ledger_close(s->ledger);
    for (int i = 0; s->pool && i < s->npool; i++) {
        pm_store_close(s->pool[i].st);
        pm_ctx_free(s->pool[i].ctx);
    }
    free(s->pool);
    free(s->rate);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->rate_mu);
    free(s);
}
