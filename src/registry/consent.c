/*
 * consent.c - consent records (promise ingest consent): per individual
 * and purpose an opt-out or a withdrawal, with its date. A withdrawal also
 * marks the individual withdrawn, so that the person disappears from every
 * cohort; the policy module reads opt-outs per purpose at query time
 * (pm_consent_excluded).
 */
#include <string.h>

#include "catalog/cat_registry.h"
#include "catalog/catalog.h"
#include "registry/registry_int.h"

/* DUO-like short codes; docs/registry.md explains each. */
const char *const pm_consent_purposes[] = {
    "all",                /* every use (any purpose) */
    "research",           /* research in general (DUO GRU) */
    "health-research",    /* health / medical / biomedical research (DUO HMB) */
    "population-research",/* population and ancestry research (DUO POA) */
    "genetic-research",   /* genetic studies (DUO GSO, as an opt-out) */
    "method-development", /* methods and tools development (DUO NMDS, as an opt-out) */
    "commercial",         /* commercial use, industry partners (DUO NCU, as an opt-out) */
    "recontact",          /* being contacted again, return of results */
    NULL,
};

static int purpose_known(const char *p)
{
    for (const char *const *k = pm_consent_purposes; *k; k++)
        if (strcmp(*k, p) == 0)
            return 1;
    return 0;
}

int pm_consent_ingest(pm_store_t *st, const char *path, const pm_registry_opts_t *o,
                      pm_consent_result_t *res)
{
    static const pm_registry_opts_t defaults;
    if (!o)
        o = &defaults;
    pm_ctx_t *ctx = pm_store_ctx(st);
    pm_consent_result_t out = {0};
    if (res)
        memset(res, 0, sizeof *res);
    pm_tsv_t *t = NULL;
    pm_resolver_t rs;
    memset(&rs, 0, sizeof rs);
    int rc = pm_tsv_open(ctx, path, NULL, &t);
    if (rc < 0)
        return rc;
    if ((rc = pm_catalog_begin(st)) < 0)
        goto out_close;
    int idc = -1;
    if ((rc = pm_resolver_init(&rs, st, t, o, &idc)) < 0)
        goto out_rollback;
    int cp = pm_tsv_col(t, "purpose"), cs = pm_tsv_col(t, "status"), cd = pm_tsv_col(t, "date");
    const char *miss = cp < 0 ? "purpose" : cs < 0 ? "status" : cd < 0 ? "date" : NULL;
    if (miss) {
        rc = pm_err(ctx, PM_EINPUT, "%s:1: missing column '%s'", path, miss);
        goto out_rollback;
    }
    if (!o->ignore_extra)
        for (int i = 0; i < pm_tsv_ncols(t); i++)
            if (i != idc && i != cp && i != cs && i != cd) {
                rc = pm_err(ctx, PM_EINPUT,
                            "%s:1: unknown column '%s' (pass --ignore-extra to skip it)", path,
                            pm_tsv_colname(t, i));
                goto out_rollback;
            }
    int64_t ingest_id;
    if ((rc = pm_catreg_ingest_begin(st, "consent", path, &ingest_id)) < 0)
        goto out_rollback;
    int r;
    while ((r = pm_tsv_next(t)) > 0) {
        out.rows++;
        int64_t idx = 0;
        int wd = 0;
        int found = pm_resolver_get(&rs, &idx, &wd);
        if (found < 0) {
            rc = found;
            goto out_rollback;
        }
        const char *purpose = pm_tsv_field(t, cp), *status = pm_tsv_field(t, cs);
        if (!purpose_known(purpose)) {
            rc = pm_tsv_err(t, cp, PM_EINPUT,
                            "unknown purpose '%s' (all, research, health-research, "
                            "population-research, genetic-research, method-development, "
                            "commercial or recontact)",
                            purpose);
            goto out_rollback;
        }
        int withdraw = strcmp(status, "withdrawn") == 0;
        if (!withdraw && strcmp(status, "opt-out") != 0) {
            rc = pm_tsv_err(t, cs, PM_EINPUT, "unknown status '%s' (opt-out or withdrawn)",
                            status);
            goto out_rollback;
        }
        int ymd;
        if (pm_registry_date_parse(pm_tsv_field(t, cd), &ymd) < 0) {
            rc = pm_tsv_err(t, cd, PM_EINPUT, "not a date (YYYY-MM-DD): '%s'",
                            pm_tsv_field(t, cd));
            goto out_rollback;
        }
        if (!found) {
            if (o->skip_unknown)
                continue;
            rc = pm_tsv_err(t, idc, PM_EINPUT,
                            "individual not in the population (ingest the population first, "
                            "or pass --skip-unknown)");
            goto out_rollback;
        }
        char date[16];
        snprintf(date, sizeof date, "%04d-%02d-%02d", ymd / 10000, ymd / 100 % 100, ymd % 100);
        int changed = 0;
        if ((rc = pm_catreg_consent_put(st, idx, purpose, status, date, ingest_id, &changed)) < 0)
            goto out_rollback;
        out.changed += changed;
        if (withdraw) {
            if ((rc = pm_catreg_set_withdrawn(st, idx, &changed)) < 0)
                goto out_rollback;
            out.withdrawn += changed;
        }
    }
    if (r < 0) {
        rc = r;
        goto out_rollback;
    }
    int changed = out.changed > 0 || out.withdrawn > 0 || rs.ic.bound;
    if ((rc = pm_catreg_ingest_end(st, ingest_id, out.rows, changed)) < 0)
        goto out_rollback;
    if ((rc = pm_catalog_commit(st)) < 0)
        goto out_close;
    if (res)
        *res = out;
    goto out_close;
out_rollback:
    pm_catalog_rollback(st);
out_close:
    pm_resolver_free(&rs);
    pm_tsv_close(t);
    return rc < 0 ? rc : 0;
}

int pm_consent_excluded(pm_store_t *st, const char *purpose, pm_bitset_t *out)
{
    if (!purpose_known(purpose))
        return pm_err(pm_store_ctx(st), PM_EINPUT, "unknown consent purpose '%s'", purpose);
    return pm_catreg_consent_excluded(st, purpose, out);
}
