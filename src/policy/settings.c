/* settings.c - the store settings `promise config` shows and sets (see promise/policy.h). */
#include <stdlib.h>
#include <string.h>

#include "catalog/cat_cohort.h"
#include "catalog/catalog.h"
#include "promise/policy.h"

static const pm_setting_info_t settings[] = {
    {"k", 1, "smallest count released below the project tier (counts 1..k-1 show as <k)", "5"},
    {"reference_date", 1, "date (YYYY-MM-DD) at which ages and 'alive' are judged", NULL},
    {"beacon_min_ac", 1, "public: carriers an allele needs before it is reported", "5"},
    {"beacon_budget", 1, "public: positive Beacon answers one individual may join per user",
     "20"},
    {"beacon_edge_band", 1,
     "public: counts in [beacon_min_ac, beacon_min_ac + band) answer yes only with a "
     "probability ramping up to 1 (0 = off)",
     "10"},
    {"schema_version", 0, "catalog format version", NULL},
    {"created", 0, "when the store was created", NULL},
    {"key_fingerprint", 0, "fingerprint of the pseudonymisation key the store is bound to", NULL},
    {"key_tag", 0, "tag of the pseudonymisation key", NULL},
    {"reference_build", 0, "genome build of the genotypes, fixed by the first VCF", NULL},
};

const pm_setting_info_t *pm_policy_setting_info(size_t i)
{
    return i < sizeof settings / sizeof *settings ? &settings[i] : NULL;
}

static const pm_setting_info_t *find(const char *key)
{
    for (size_t i = 0; i < sizeof settings / sizeof *settings; i++)
        if (strcmp(settings[i].key, key) == 0)
            return &settings[i];
    return NULL;
}

static int whole(pm_ctx_t *ctx, const char *key, const char *v, long lo, long hi)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (!*v || *end || v[0] == '+' || v[0] == ' ' || x < lo || x > hi)
        return pm_err(ctx, PM_EUSAGE, "%s must be a whole number from %ld to %ld, not '%s'", key,
                      lo, hi, v);
    return 0;
}

int pm_policy_setting_check(pm_ctx_t *ctx, const char *key, const char *value)
{
    const pm_setting_info_t *s = find(key);
    if (!s)
        return pm_err(ctx, PM_EUSAGE,
                      "unknown setting '%s' (k, reference_date, beacon_min_ac, beacon_budget, "
                      "beacon_edge_band)",
                      key);
    if (!s->writable)
        return pm_err(ctx, PM_EUSAGE, "setting '%s' is read-only", key);
    if (strcmp(key, "k") == 0)
        return whole(ctx, key, value, 2, PM_POLICY_MAX_K);
    if (strcmp(key, "beacon_min_ac") == 0)
        return whole(ctx, key, value, 1, PM_POLICY_MAX_BEACON_BUDGET);
    if (strcmp(key, "beacon_budget") == 0)
        return whole(ctx, key, value, 1, PM_POLICY_MAX_BEACON_BUDGET);
    if (strcmp(key, "beacon_edge_band") == 0)
        return whole(ctx, key, value, 0, PM_POLICY_MAX_BEACON_EDGE_BAND);
    if (strcmp(key, "reference_date") == 0) {
        if (!pm_cat_parse_date(value))
            return pm_err(ctx, PM_EUSAGE,
                          "reference_date must be a calendar date YYYY-MM-DD, not '%s'", value);
        return 0;
    }
    return pm_err(ctx, PM_EINTERNAL, "no check for setting '%s'", key);
}

int pm_policy_setting_set(pm_store_t *st, const char *key, const char *value)
{
    int rc = pm_policy_setting_check(pm_store_ctx(st), key, value);
    if (rc < 0)
        return rc;
    if (!st->writable)
        return pm_err(pm_store_ctx(st), PM_EINTERNAL, "settings need the store open for writing");
    return pm_catalog_meta_set(st, key, value);
}
