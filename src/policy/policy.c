/* policy.c - tiers and the release of counts and breakdowns (see promise/policy.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "promise/policy.h"

static const char *const tier_names[] = {"public", "registered", "project", "steward"};

int pm_tier_parse(const char *name)
{
    for (int t = 0; name && t < (int)(sizeof tier_names / sizeof *tier_names); t++)
        if (strcasecmp(name, tier_names[t]) == 0)
            return t;
    return PM_EUSAGE;
}

const char *pm_tier_name(int tier)
{
    return tier >= 0 && tier < (int)(sizeof tier_names / sizeof *tier_names) ? tier_names[tier]
                                                                              : "?";
}

int pm_policy_local_tier(void) { return PM_TIER_STEWARD; }

int pm_policy_as_tier(pm_ctx_t *ctx, int have, int want)
{
    if (want < PM_TIER_PUBLIC || want > PM_TIER_STEWARD)
        return pm_err(ctx, PM_EUSAGE, "no such tier");
    if (want > have)
        return pm_err(ctx, PM_EACCES, "tier '%s' cannot act as the higher tier '%s'",
                      pm_tier_name(have), pm_tier_name(want));
    return want;
}

/* Reads integer setting key into *v (left alone when unset). */
static int int_setting(pm_store_t *st, const char *key, long lo, long hi, int *v)
{
    char buf[64];
    int rc = pm_store_setting(st, key, buf, sizeof buf);
    if (rc <= 0)
        return rc;
    char *end;
    long x = strtol(buf, &end, 10);
    if (end == buf || *end || x < lo || x > hi)
        return pm_err(pm_store_ctx(st), PM_ECORRUPT,
                      "store setting %s is '%s'; expected a whole number from %ld to %ld", key,
                      buf, lo, hi);
    *v = (int)x;
    return 0;
}

int pm_policy_for_store(pm_store_t *st, int tier, pm_policy_t *out)
{
    out->tier = tier;
    out->k = PM_POLICY_DEFAULT_K;
    out->beacon_min_ac = PM_POLICY_DEFAULT_BEACON_MIN_AC;
    out->beacon_budget = PM_POLICY_DEFAULT_BEACON_BUDGET;
    int rc = int_setting(st, "k", 1, PM_POLICY_MAX_K, &out->k);
    if (rc == 0)
        rc = int_setting(st, "beacon_min_ac", 1, PM_POLICY_MAX_BEACON_BUDGET, &out->beacon_min_ac);
    if (rc == 0)
        rc = int_setting(st, "beacon_budget", 1, PM_POLICY_MAX_BEACON_BUDGET, &out->beacon_budget);
    out->beacon_edge_band = PM_POLICY_DEFAULT_BEACON_EDGE_BAND;
    if (rc == 0)
        rc = int_setting(st, "beacon_edge_band", 0, PM_POLICY_MAX_BEACON_EDGE_BAND,
                         &out->beacon_edge_band);
    return rc < 0 ? rc : 0;
}

int pm_policy_allows(pm_ctx_t *ctx, const pm_policy_t *p, int what)
{
    if (p->tier == PM_TIER_PUBLIC && what == PM_RELEASE_COUNT)
        return pm_err(ctx, PM_EACCES,
                      "the public tier gets variant frequencies and yes/no Beacon answers only, "
                      "not cohort counts (registered users get counts, with counts under %d "
                      "hidden)",
                      p->k);
    if (what < PM_RELEASE_COUNT || what > PM_RELEASE_BEACON)
        return pm_err(ctx, PM_EINTERNAL, "unknown kind of release %d", what);
    return 0;
}

static int protects(const pm_policy_t *p) { return p->tier < PM_TIER_PROJECT && p->k > 1; }

pm_cell_t pm_policy_release_count(const pm_policy_t *p, int64_t n)
{
    pm_cell_t c = {n, PM_CELL_EXACT};
    if (protects(p) && n >= 1 && n < p->k) {
        c.value = -1;
        c.state = PM_CELL_SMALL;
    }
    return c;
}

void pm_released_free(pm_released_t *r)
{
    if (!r)
        return;
    for (int d = 0; d < PM_COHORT_MAX_DIMS; d++) {
        free(r->field[d]);
        for (size_t i = 0; r->lab[d] && i < r->nlab[d]; i++)
            free(r->lab[d][i]);
        free(r->lab[d]);
    }
    free(r->cell);
    free(r);
}

int pm_policy_release_table(pm_ctx_t *ctx, const pm_policy_t *p, const pm_cohort_table_t *t,
                            pm_released_t **out)
{
    *out = NULL;
    if (t->ndim < 0 || t->ndim > PM_COHORT_MAX_DIMS)
        return pm_err(ctx, PM_EINTERNAL, "table of %d dimensions", t->ndim);
    pm_released_t *r = calloc(1, sizeof *r);
    if (!r)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    r->tier = p->tier;
    r->k = p->k;
    r->ndim = t->ndim;
    size_t R = t->ndim >= 1 ? t->nlab[0] + 1 : 1, C = t->ndim >= 2 ? t->nlab[1] + 1 : 1;
    r->ncells = R * C;
    r->cell = malloc(r->ncells * sizeof *r->cell);
    int *state = malloc(r->ncells * sizeof *state);
    int rc = r->cell && state ? 0 : PM_ENOMEM;
    for (int d = 0; d < t->ndim && rc == 0; d++) {
        r->field[d] = strdup(t->field[d]);
        r->lab[d] = calloc(t->nlab[d] ? t->nlab[d] : 1, sizeof *r->lab[d]);
        if (!r->field[d] || !r->lab[d]) {
            rc = PM_ENOMEM;
            break;
        }
        r->nlab[d] = t->nlab[d];
        for (size_t i = 0; i < t->nlab[d] && rc == 0; i++)
            if (!(r->lab[d][i] = strdup(t->lab[d][i])))
                rc = PM_ENOMEM;
    }
    if (rc == 0) {
        if (protects(p))
            rc = pm_policy_suppress(t->cell, R, C, t->ndim >= 1 && t->additive[0],
                                    t->ndim >= 2 && t->additive[1], p->k, state);
        else
            for (size_t c = 0; c < r->ncells; c++)
                state[c] = PM_CELL_EXACT;
    }
    if (rc < 0) {
        free(state);
        pm_released_free(r);
        return pm_err(ctx, rc, "out of memory");
    }
    for (size_t c = 0; c < r->ncells; c++) {
        r->cell[c].state = state[c];
        r->cell[c].value = state[c] == PM_CELL_EXACT ? t->cell[c] : -1;
        r->n_small += state[c] == PM_CELL_SMALL;
        r->n_masked += state[c] == PM_CELL_MASKED;
    }
    free(state);
    *out = r;
    return 0;
}
