/*
 * promise/server.h - `promise serve`: the JSON HTTP API (/api/v1/...) and
 * the GA4GH Beacon v2 API (/api/beacon/v2/...) over one store, on
 * libmicrohttpd with an internal thread pool (docs/http.md).
 *
 *   pm_server_opts_t o = {.listen = "127.0.0.1:0"};
 *   pm_server_t *srv;
 *   if (pm_server_open(ctx, "demo.store", &o, &srv) < 0) ... pm_ctx_errmsg(ctx)
 *   printf("port %d\n", pm_server_port(srv));
 *   ... wait for a signal ...
 *   pm_server_close(srv);      // stops accepting, finishes running requests
 *
 * Every request passes through the same policy as the CLI: the bearer
 * token's tier (promise/access.h; no token = public), disclosure control
 * (promise/policy.h), and the audit log (promise/audit.h), appended before
 * the answer is sent. The server opens its own read-only store handles,
 * one per worker thread; the ctx given to pm_server_open only receives
 * start-up errors.
 */
#ifndef PROMISE_SERVER_H
#define PROMISE_SERVER_H

#include <stddef.h>

#include "promise/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pm_server pm_server_t;

typedef struct pm_server_opts {
    const char *listen;     /* "ADDR:PORT" (IPv4); NULL = "127.0.0.1:8080"; port 0 = any */
    int threads;            /* worker threads; 0 = 4 */
    int max_connections;    /* 0 = 256 */
    size_t max_body;        /* request body cap in bytes (413 past it); 0 = 64 KiB */
    size_t max_header;      /* per-connection memory for request line + headers; 0 = 32 KiB */
    int timeout_s;          /* idle connection timeout; 0 = 15 s */
    int rate_limit;         /* requests per second per token (or per address without
                             * one); 0 = 2000 */
    int anonymous_tier;     /* tier of requests without a token: PM_TIER_PUBLIC (0, default)
                             * or PM_TIER_REGISTERED for a closed network */
} pm_server_opts_t;

/* Opens the store read-only (one handle per worker), binds the address
 * and starts serving. *out is new; stop it with pm_server_close(). */
int pm_server_open(pm_ctx_t *ctx, const char *store_path, const pm_server_opts_t *opts,
                   pm_server_t **out);
/* The bound TCP port (the ephemeral one when opts->listen asked for 0). */
int pm_server_port(const pm_server_t *srv);
/* Stops the server and frees it; NULL is a no-op. */
void pm_server_close(pm_server_t *srv);

#ifdef __cplusplus
}
#endif
#endif
