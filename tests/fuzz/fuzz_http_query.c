/* fuzz_http_query.c - libFuzzer target for the server's request parsing
 * (src/server/http_parse.c): query strings, paths, variant ids, Beacon
 * GET parameters and JSON bodies, and filters -> cohort expressions. The
 * first byte picks the entry point; the rest is the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 70000)
        return 0;
    int mode = data[0] % 4;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    char *s = malloc(len + 1);
    pm_http_query_t *q = malloc(sizeof *q);
    char *out = malloc(len + 2);
    if (!s || !q || !out)
        goto out;
    memcpy(s, in, len);
    s[len] = '\0';
    pm_ctx_t *ctx = pm_ctx_new();
    pm_beacon_req_t r;
    char expr[2048], region[128];
    switch (mode) {
    case 0:
        if (pm_http_query_parse(ctx, in, len, q) == 0) {
            (void)pm_http_query_get(q, "filters");
            if (pm_beacon_req_from_query(ctx, q, &r) == 0) {
                pm_beacon_filters_cohort(ctx, &r, expr, sizeof expr);
                pm_beacon_variant_region(ctx, &r, region, sizeof region);
            }
        }
        break;
    case 1:
        pm_http_path_decode(ctx, in, len, out, len + 2);
        break;
    case 2: {
        pm_http_variant_t v;
        pm_http_variant_parse(ctx, s, &v);
        break;
    }
    default:
        if (pm_beacon_req_from_json(ctx, in, len, &r) == 0) {
            pm_beacon_filters_cohort(ctx, &r, expr, sizeof expr);
            pm_beacon_variant_region(ctx, &r, region, sizeof region);
        }
        break;
    }
    pm_ctx_free(ctx);
out:
    free(s);
    free(q);
    free(out);
    return 0;
}
