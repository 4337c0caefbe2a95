/*
 * beacon.c - rare-allele protection, per-individual query budgets and
 * cached answers for the public tier (see promise/policy.h and
 * docs/privacy.md).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/cat_cohort.h"
#include "catalog/cat_policy.h"
#include "promise/identity.h"
#include "promise/policy.h"

#define ANON_USER "-"

static int freq_threshold(const pm_policy_t *p)
{
    if (p->tier == PM_TIER_PUBLIC)
        return p->beacon_min_ac > 1 ? p->beacon_min_ac : 1;
    if (p->tier == PM_TIER_REGISTERED)
        return p->k > 1 ? p->k : 1;
    return 1;
}

pm_freq_cell_t pm_policy_freq_release(const pm_policy_t *p, int64_t ac, int64_t an)
{
    pm_freq_cell_t f = {{ac, PM_CELL_EXACT}, an, an > 0 ? (double)ac / (double)an : -1.0, 1};
    int t = freq_threshold(p);
    f.threshold = t;
    if (t <= 1)
        return f;
    if (ac >= 1 && ac < t)
        f.ac.state = PM_CELL_SMALL;
    else if (an - ac >= 1 && an - ac < t)
        f.ac.state = PM_CELL_MASKED;
    if (f.ac.state != PM_CELL_EXACT) {
        f.ac.value = -1;
        f.af = -1.0;
    }
    return f;
}

static int min_ac(const pm_policy_t *p) { return p->beacon_min_ac > 1 ? p->beacon_min_ac : 1; }

double pm_policy_beacon_edge_p(const pm_policy_t *p, int64_t m)
{
    /* the band is for the public boolean answer; other tiers keep the plain threshold */
    int64_t t = min_ac(p),
            band = p->tier == PM_TIER_PUBLIC && p->beacon_edge_band > 0 ? p->beacon_edge_band : 0;
    if (m < t)
        return 0.0;
    if (m >= t + band)
        return 1.0;
    return ldexp(1.0, (int)(m - t - band)); /* halves with each carrier fewer */
}

/* The question's uniform draw in [0, 1): the first 53 bits of
 * HMAC-SHA-256(secret, "beacon-edge\0" question). One draw per question,
 * not per (question, count), so the answer is monotone in the count. */
static double edge_draw(const uint8_t key[32], const char *question)
{
    static const char tag[] = "beacon-edge";
    size_t qlen = strlen(question);
    uint8_t msg[sizeof tag + PM_POLICY_QUERY_MAX], mac[32];
    memcpy(msg, tag, sizeof tag); /* with its NUL: a separator */
    memcpy(msg + sizeof tag, question, qlen);
    pm_hmac_sha256(key, 32, msg, sizeof tag + qlen, mac);
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x = x << 8 | mac[i];
    return (double)(x >> 11) / 9007199254740992.0; /* 2^53 */
}

int64_t pm_policy_beacon_spent(pm_store_t *st, const char *user, int64_t idx)
{
    return pm_catpol_spent(st, user && *user ? user : ANON_USER, idx);
}

int64_t pm_policy_beacon_forget(pm_store_t *st, int64_t idx)
{
    return pm_catpol_forget(st, idx);
}

int pm_policy_beacon_answer(pm_store_t *st, const pm_policy_t *p, const char *user,
                            const char *normalised_query, const pm_bitset_t *carriers,
                            int *exists_out, int *cached_out)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    *exists_out = 0;
    if (cached_out)
        *cached_out = 0;
    if (!normalised_query || !*normalised_query ||
        strlen(normalised_query) > PM_POLICY_QUERY_MAX)
        return pm_err(ctx, PM_EUSAGE, "a Beacon question must be 1 to %d bytes",
                      PM_POLICY_QUERY_MAX);
    int64_t n = pm_store_n_individuals(st);
    if (n < 0)
        return (int)n;
    if (!carriers || carriers->n != (size_t)n)
        return pm_err(ctx, PM_EINTERNAL, "carrier set of %zu bits for %lld individuals",
                      carriers ? carriers->n : (size_t)0, (long long)n);
    const char *who = user && *user ? user : ANON_USER;

    pm_bitset_t *contrib = pm_bitset_new((size_t)n), *off = pm_bitset_new((size_t)n);
    int rc = contrib && off ? 0 : pm_err(ctx, PM_ENOMEM, "out of memory");
    if (rc == 0)
        rc = pm_cat_present(st, contrib); /* withdrawn people never contribute */
    if (rc == 0)
        pm_bitset_and(contrib, carriers);
    if (rc < 0 || p->tier >= PM_TIER_PROJECT) {
        if (rc == 0)
            *exists_out = pm_bitset_count(contrib) > 0;
        pm_bitset_free(contrib);
        pm_bitset_free(off);
        return rc;
    }

    pm_catpol_t *s = NULL;
    int answer = 0, found = 0;
    if (rc == 0)
        rc = pm_catpol_begin(st, &s);
    if (rc == 0)
        rc = found = pm_catpol_cached(s, who, normalised_query, &answer);
    if (rc == 0) {
        /* a new question: only individuals with budget left count */
        rc = pm_catpol_exhausted(s, who, p->beacon_budget, off);
        if (rc == 0) {
            pm_bitset_andnot(contrib, off);
            int64_t m = (int64_t)pm_bitset_count(contrib);
            double pyes = pm_policy_beacon_edge_p(p, m);
            answer = pyes >= 1.0;
            if (pyes > 0.0 && pyes < 1.0) {
                /* the threshold's edge: a keyed coin, same for every user */
                uint8_t key[32];
                rc = pm_catpol_secret(s, key);
                if (rc == 0)
                    answer = edge_draw(key, normalised_query) < pyes;
            }
            /* the answer depended on them (a yes, or a no by the draw) */
            if (rc == 0 && m >= min_ac(p))
                rc = pm_catpol_spend(s, who, contrib);
        }
        if (rc == 0)
            rc = pm_catpol_remember(s, who, normalised_query, answer);
    }
    if (s) {
        int erc = pm_catpol_end(s, rc >= 0);
        if (rc >= 0 && erc < 0)
            rc = erc;
    }
    pm_bitset_free(contrib);
    pm_bitset_free(off);
    if (rc < 0)
        return rc;
    *exists_out = answer != 0;
    if (cached_out)
        *cached_out = found > 0;
    return 0;
}
