/*
 * beacon.c - rare-allele protection, per-individual query budgets and
 * cached answers for the public tier (see promise/policy.h and
 * docs/privacy.md).
 */
#include <math.h>
#include <pthread.h>
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

/* ---- the ledger in memory ----
 *
 * Budgets: per user a dense array of spent units by individual index,
 * allocated on the user's first spend. Answers: an open-addressing hash
 * table keyed by "user\0question". One mutex guards both; the work under it
 * is a hash lookup and a walk over the question's carriers. */

typedef struct slot {
    char *key; /* user, NUL, question, NUL; NULL = empty slot */
    size_t len;
    uint64_t h;
    int64_t val;
} slot_t;

typedef struct smap {
    slot_t *s;
    size_t cap, n; /* cap a power of two, n < cap / 2 */
} smap_t;

static uint64_t fnv(const char *p, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)p[i]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static slot_t *smap_find(const smap_t *m, const char *key, size_t len, uint64_t h)
{
    if (!m->cap)
        return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        slot_t *e = &m->s[i];
        if (!e->key)
            return NULL;
        if (e->h == h && e->len == len && memcmp(e->key, key, len) == 0)
            return e;
    }
}

static void smap_place(smap_t *m, slot_t e)
{
    size_t i = e.h & (m->cap - 1);
    while (m->s[i].key)
        i = (i + 1) & (m->cap - 1);
    m->s[i] = e;
    m->n++;
}

/* Inserts key (copied) with val; the key must not be present. */
static int smap_put(smap_t *m, const char *key, size_t len, uint64_t h, int64_t val)
{
    if (2 * (m->n + 1) > m->cap) {
        smap_t g = {calloc(m->cap ? 2 * m->cap : 64, sizeof(slot_t)), m->cap ? 2 * m->cap : 64,
                    0};
        if (!g.s)
            return PM_ENOMEM;
        for (size_t i = 0; i < m->cap; i++)
            if (m->s[i].key)
                smap_place(&g, m->s[i]);
        free(m->s);
        *m = g;
    }
    char *k = malloc(len);
    if (!k)
        return PM_ENOMEM;
    memcpy(k, key, len);
    smap_place(m, (slot_t){k, len, h, val});
    return 0;
}

static void smap_free(smap_t *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->s[i].key);
    free(m->s);
    memset(m, 0, sizeof *m);
}

typedef struct user {
    char *name;
    uint32_t *spent; /* cap entries; individuals past cap have spent nothing */
    size_t cap;
    int touched;     /* scratch of forget_in_memory */
} user_t;

struct pm_beacon_ledger {
    pthread_mutex_t mu;
    smap_t answers;  /* "user\0question\0" -> answer */
    smap_t user_ix;  /* "user\0" -> index into users */
    user_t *users;
    size_t n_users, cap_users;
    pm_bitset_t *present; /* the individuals present when last looked */
    uint8_t key[32];
    int has_key;
    pm_catpol_ops_t *ops;
    int attached;    /* an audit log commits ops; else each answer writes them */
};

pm_catpol_ops_t *pm_beacon_ledger_queue(pm_beacon_ledger_t *l)
{
    pthread_mutex_lock(&l->mu);
    l->attached = 1;
    pthread_mutex_unlock(&l->mu);
    return l->ops;
}

/* The user's entry, created when create is set (NULL when absent or out of
 * memory; *rc tells which). */
static user_t *user_get(pm_beacon_ledger_t *l, const char *name, int create, int *rc)
{
    size_t len = strlen(name) + 1;
    uint64_t h = fnv(name, len);
    *rc = 0;
    slot_t *e = smap_find(&l->user_ix, name, len, h);
    if (e)
        return &l->users[e->val];
    if (!create)
        return NULL;
    if (l->n_users == l->cap_users) {
        size_t cap = l->cap_users ? 2 * l->cap_users : 16;
        user_t *u = realloc(l->users, cap * sizeof *u);
        if (!u) {
            *rc = PM_ENOMEM;
            return NULL;
        }
        l->users = u;
        l->cap_users = cap;
    }
    user_t *u = &l->users[l->n_users];
    memset(u, 0, sizeof *u);
    if (!(u->name = strdup(name)) ||
        smap_put(&l->user_ix, name, len, h, (int64_t)l->n_users) < 0) {
        free(u->name);
        *rc = PM_ENOMEM;
        return NULL;
    }
    l->n_users++;
    return u;
}

static int user_reserve(user_t *u, size_t idx)
{
    if (idx < u->cap)
        return 0;
    size_t cap = u->cap ? u->cap : 1024;
    while (cap <= idx)
        cap *= 2;
    uint32_t *v = realloc(u->spent, cap * sizeof *v);
    if (!v)
        return PM_ENOMEM;
    memset(v + u->cap, 0, (cap - u->cap) * sizeof *v);
    u->spent = v;
    u->cap = cap;
    return 0;
}

static int load_answer(void *ud, const char *user, const char *query, int answer)
{
    pm_beacon_ledger_t *l = ud;
    if (!user || !query)
        return 0;
    size_t ul = strlen(user) + 1, ql = strlen(query) + 1;
    char *k = malloc(ul + ql);
    if (!k)
        return PM_ENOMEM;
    memcpy(k, user, ul);
    memcpy(k + ul, query, ql);
    uint64_t h = fnv(k, ul + ql);
    int rc = smap_find(&l->answers, k, ul + ql, h) ? 0 : smap_put(&l->answers, k, ul + ql, h, answer);
    free(k);
    return rc;
}

static int load_spent(void *ud, const char *user, int64_t idx, int64_t spent)
{
    pm_beacon_ledger_t *l = ud;
    int rc;
    if (!user || idx < 0 || spent <= 0)
        return 0;
    user_t *u = user_get(l, user, 1, &rc);
    if (!u || (rc = user_reserve(u, (size_t)idx)) < 0)
        return rc < 0 ? rc : PM_ENOMEM;
    u->spent[idx] = spent > UINT32_MAX ? UINT32_MAX : (uint32_t)spent;
    return 0;
}

void pm_beacon_ledger_close(pm_beacon_ledger_t *l)
{
    if (!l)
        return;
    smap_free(&l->answers);
    smap_free(&l->user_ix);
    for (size_t i = 0; i < l->n_users; i++) {
        free(l->users[i].name);
        free(l->users[i].spent);
    }
    free(l->users);
    pm_bitset_free(l->present);
    pm_catpol_ops_free(l->ops);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

int pm_beacon_ledger_open(pm_store_t *st, pm_beacon_ledger_t **out)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    *out = NULL;
    pm_beacon_ledger_t *l = calloc(1, sizeof *l);
    if (!l)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    pthread_mutex_init(&l->mu, NULL);
    int64_t n = pm_store_n_individuals(st);
    int rc = n < 0 ? (int)n : 0;
    if (rc == 0 && (!(l->ops = pm_catpol_ops_new()) || !(l->present = pm_bitset_new((size_t)n))))
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
    if (rc == 0)
        rc = pm_cat_present(st, l->present);
    if (rc == 0 && (rc = pm_catpol_load(st, load_answer, load_spent, l)) == PM_ENOMEM)
        rc = pm_err(ctx, PM_ENOMEM, "out of memory loading the Beacon ledger");
    if (rc < 0) {
        pm_beacon_ledger_close(l);
        return rc;
    }
    *out = l;
    return 0;
}

int pm_beacon_ledger_flush(pm_beacon_ledger_t *l, pm_store_t *st)
{
    return pm_catpol_ops_flush(st, l->ops);
}

/* Another process withdrew someone (`promise forget`, which also changes
 * the stored ledger): the same in memory. Every user the person
 * contributed to loses their positive cached answers; their spent units
 * go. Called with l->mu held. */
static int forget_in_memory(pm_beacon_ledger_t *l, const pm_bitset_t *present)
{
    const pm_bitset_t *old = l->present;
    size_t nw = (old->n < present->n ? old->n : present->n) + 63, gone = 0;
    nw /= 64;
    for (size_t w = 0; w < nw; w++) {
        uint64_t x = old->w[w] & ~present->w[w];
        while (x) {
            size_t i = w * 64 + (size_t)__builtin_ctzll(x);
            x &= x - 1;
            gone++;
            for (size_t k = 0; k < l->n_users; k++) {
                user_t *u = &l->users[k];
                if (i < u->cap && u->spent[i]) {
                    u->spent[i] = 0;
                    u->touched = 1;
                }
            }
        }
    }
    if (gone) {
        smap_t keep = {0};
        int rc = 0;
        for (size_t i = 0; i < l->answers.cap && rc == 0; i++) {
            slot_t *e = &l->answers.s[i];
            if (!e->key)
                continue;
            int drop = 0;
            if (e->val) {
                int urc;
                user_t *u = user_get(l, e->key, 0, &urc); /* the key starts "user\0" */
                drop = u && u->touched;
            }
            if (!drop)
                rc = smap_put(&keep, e->key, e->len, e->h, e->val);
        }
        if (rc < 0) {
            smap_free(&keep);
            return rc;
        }
        smap_free(&l->answers);
        l->answers = keep;
        for (size_t k = 0; k < l->n_users; k++)
            l->users[k].touched = 0;
    }
    /* nobody seen withdrawn comes back, even if a request on a handle
     * that has not yet seen the withdrawal asks next */
    pm_bitset_t *copy = pm_bitset_dup(present);
    if (!copy)
        return PM_ENOMEM;
    for (size_t w = 0; w < nw; w++)
        copy->w[w] &= old->w[w];
    pm_bitset_free(l->present);
    l->present = copy;
    return 0;
}

static int same_bits(const pm_bitset_t *a, const pm_bitset_t *b)
{
    return a->n == b->n && memcmp(a->w, b->w, (a->n + 63) / 64 * sizeof *a->w) == 0;
}

/* The decision, under l->mu. contrib: the present carriers (scratch). */
static int decide(pm_beacon_ledger_t *l, pm_store_t *st, const pm_policy_t *p, const char *who,
                  const char *question, pm_bitset_t *contrib, const pm_bitset_t *present,
                  int *answer, int *found)
{
    int rc = 0;
    if (!same_bits(l->present, present) && (rc = forget_in_memory(l, present)) < 0)
        return rc;
    if (l->present->n == contrib->n) /* it is, after forget_in_memory */
        pm_bitset_and(contrib, l->present); /* the withdrawn as the ledger knows them */
    size_t ul = strlen(who) + 1, ql = strlen(question) + 1;
    char key[PM_POLICY_QUERY_MAX + 512];
    if (ul + ql > sizeof key)
        return pm_err(pm_store_ctx(st), PM_EUSAGE, "user name too long");
    memcpy(key, who, ul);
    memcpy(key + ul, question, ql);
    uint64_t h = fnv(key, ul + ql);
    slot_t *e = smap_find(&l->answers, key, ul + ql, h);
    if (e) {
        *answer = (int)e->val;
        *found = 1;
        return 0;
    }
    /* a new question: only individuals with budget left count */
    user_t *u = user_get(l, who, 0, &rc);
    int64_t budget = p->beacon_budget > 0 ? p->beacon_budget : 0, m = 0;
    size_t cap = 64;
    int64_t *idx = malloc(2 * cap * sizeof *idx);
    if (!idx)
        return PM_ENOMEM;
    for (size_t i = pm_bitset_next(contrib, 0); i != (size_t)-1; i = pm_bitset_next(contrib, i + 1)) {
        if (u && i < u->cap && u->spent[i] >= budget)
            continue;
        if ((size_t)m == cap) {
            int64_t *g = realloc(idx, 4 * cap * sizeof *idx);
            if (!g) {
                free(idx);
                return PM_ENOMEM;
            }
            idx = g;
            cap *= 2;
        }
        idx[m++] = (int64_t)i;
    }
    double pyes = pm_policy_beacon_edge_p(p, m);
    *answer = pyes >= 1.0;
    if (pyes > 0.0 && pyes < 1.0) {
        /* the threshold's edge: a keyed coin, same for every user */
        if (!l->has_key && (rc = pm_catpol_secret(st, l->key)) == 0)
            l->has_key = 1;
        if (rc == 0)
            *answer = edge_draw(l->key, question) < pyes;
    }
    /* the answer depended on them (a yes, or a no by the draw): each
     * spends a unit and the answer is kept; otherwise nothing is stored
     * (asked again, it is worked out again: still no, as budgets only
     * run down) */
    if (rc == 0 && m >= min_ac(p)) {
        if (!u)
            u = user_get(l, who, 1, &rc);
        if (u && m && (rc = user_reserve(u, (size_t)idx[m - 1])) == 0) {
            int64_t *spent = idx + cap;
            for (int64_t j = 0; j < m; j++) {
                if (u->spent[idx[j]] < UINT32_MAX)
                    u->spent[idx[j]]++;
                spent[j] = u->spent[idx[j]];
            }
            rc = pm_catpol_ops_add(l->ops, who, question, *answer, idx, spent, (size_t)m);
        }
        if (rc == 0)
            rc = smap_put(&l->answers, key, ul + ql, h, *answer);
    }
    free(idx);
    return rc == PM_ENOMEM ? pm_err(pm_store_ctx(st), PM_ENOMEM, "out of memory") : rc;
}

int pm_beacon_ledger_answer(pm_beacon_ledger_t *l, pm_store_t *st, const pm_policy_t *p,
                            const char *user, const char *normalised_query,
                            const pm_bitset_t *carriers, int *exists_out, int *cached_out)
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

    pm_bitset_t *contrib = pm_bitset_new((size_t)n), *present = pm_bitset_new((size_t)n);
    int rc = contrib && present ? 0 : pm_err(ctx, PM_ENOMEM, "out of memory");
    if (rc == 0)
        rc = pm_cat_present(st, present); /* withdrawn people never contribute */
    if (rc == 0) {
        memcpy(contrib->w, present->w, (contrib->n + 63) / 64 * sizeof *contrib->w);
        pm_bitset_and(contrib, carriers);
    }
    int answer = 0, found = 0, attached = 1;
    if (rc == 0 && p->tier >= PM_TIER_PROJECT) {
        answer = pm_bitset_count(contrib) > 0; /* plain, neither cached nor spending */
    } else if (rc == 0) {
        pthread_mutex_lock(&l->mu);
        rc = decide(l, st, p, who, normalised_query, contrib, present, &answer, &found);
        attached = l->attached;
        pthread_mutex_unlock(&l->mu);
        if (rc == 0 && !attached)
            rc = pm_catpol_ops_flush(st, l->ops); /* durable before the answer leaves */
    }
    pm_bitset_free(contrib);
    pm_bitset_free(present);
    if (rc < 0)
        return rc;
    *exists_out = answer != 0;
    if (cached_out)
        *cached_out = found;
    return 0;
}

int pm_policy_beacon_answer(pm_store_t *st, const pm_policy_t *p, const char *user,
                            const char *normalised_query, const pm_bitset_t *carriers,
                            int *exists_out, int *cached_out)
{
    pm_beacon_ledger_t *l;
    int rc = pm_beacon_ledger_open(st, &l);
    if (rc < 0)
        return rc;
    rc = pm_beacon_ledger_answer(l, st, p, user, normalised_query, carriers, exists_out,
                                 cached_out);
    pm_beacon_ledger_close(l);
    return rc;
}
