/*
 * access.c - users, projects, grants, bearer tokens and withdrawal (see
 * promise/access.h and docs/access.md). Validation, token drawing and
 * hashing live here; SQL lives in src/catalog/cat_access.c.
 *
 * Token: "pmt_" + 64 lowercase hex digits (32 random bytes). The catalog
 * stores hex(SHA-256(token)) only; a 256-bit random secret needs no salt
 * or slow hash, and a lookup by hash leaks nothing through timing.
 */
#include "promise/access.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "access/access_int.h"
#include "catalog/cat_access.h"
#include "catalog/catalog.h"
#include "catalog/individual.h"

#define TOKEN_PREFIX "pmt_"
#define TOKEN_HEX 64

void pm_access_sha256_hex(const void *data, size_t len, char *hex)
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(hex, 65, h, sizeof h);
}

int pm_access_today(void)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

static int rng_ready(pm_ctx_t *ctx)
{
    if (sodium_init() < 0)
        return pm_err(ctx, PM_EINTERNAL, "cannot initialise the random number generator");
    return 0;
}

static int valid_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= PM_ACCESS_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

#define NAME_RULE "1 to 63 of A-Z a-z 0-9 . _ -"

/* ---- users ---- */

int pm_access_user_add(pm_store_t *st, const char *name, int tier)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    if (!valid_name(name))
        return pm_err(ctx, PM_EUSAGE, "invalid user name '%.80s': use " NAME_RULE, name);
    if (tier < PM_TIER_PUBLIC || tier > PM_TIER_STEWARD)
        return pm_err(ctx, PM_EUSAGE, "no such tier");
    int rc = pm_cataccess_user_add(st, name, pm_tier_name(tier));
    if (rc == PM_EEXIST)
        return pm_err(ctx, PM_EEXIST, "user '%s' already exists", name);
    return rc;
}

int pm_access_user_each(pm_store_t *st, int (*fn)(void *ud, const pm_user_info_t *u), void *ud)
{
    return pm_cataccess_user_each(st, fn, ud);
}

/* ---- projects ---- */

static const struct {
    const char *code, *label;
} duo_terms[] = {
    {"DUO:0000004", "no restriction"},
    {"DUO:0000005", "general research use and clinical care"},
    {"DUO:0000006", "health/medical/biomedical research"},
    {"DUO:0000007", "disease specific research"},
    {"DUO:0000011", "population origins or ancestry research only"},
    {"DUO:0000012", "research specific restrictions"},
    {"DUO:0000015", "no general methods research"},
    {"DUO:0000016", "genetic studies only"},
    {"DUO:0000018", "not for profit, non commercial use only"},
    {"DUO:0000019", "publication required"},
    {"DUO:0000020", "collaboration required"},
    {"DUO:0000021", "ethics approval required"},
    {"DUO:0000024", "publication moratorium"},
    {"DUO:0000026", "user specific restriction"},
    {"DUO:0000028", "institution specific restriction"},
    {"DUO:0000029", "return to database or resource"},
    {"DUO:0000042", "general research use"},
    {"DUO:0000043", "clinical care use"},
    {"DUO:0000044", "population origins or ancestry research prohibited"},
    {"DUO:0000045", "not for profit organisation use only"},
    {"DUO:0000046", "non-commercial use only"},
};

const char *pm_duo_label(const char *code)
{
    for (size_t i = 0; i < sizeof duo_terms / sizeof *duo_terms; i++)
        if (strcmp(duo_terms[i].code, code) == 0)
            return duo_terms[i].label;
    return NULL;
}

static int valid_duo(const char *s)
{
    if (strncmp(s, "DUO:", 4) != 0 || strlen(s) != 11)
        return 0;
    for (int i = 4; i < 11; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static const char *const data_types[] = {"genotypes", "registry", "omics"};

static int valid_data_type(const char *s)
{
    for (size_t i = 0; i < sizeof data_types / sizeof *data_types; i++)
        if (strcmp(s, data_types[i]) == 0)
            return 1;
    return 0;
}

/* Normalises a comma list into out (items checked by ok, duplicates
 * dropped, empty items refused). Returns 0 or PM_EUSAGE with a message. */
static int norm_list(pm_ctx_t *ctx, const char *what, const char *in, int (*ok)(const char *),
                     char *out, size_t cap)
{
    if (!in || !*in)
        return pm_err(ctx, PM_EUSAGE, "missing %s", what);
    if (strlen(in) >= cap)
        return pm_err(ctx, PM_EUSAGE, "%s list too long (at most %zu characters)", what,
                      cap - 1);
    char buf[PM_ACCESS_LIST_MAX];
    snprintf(buf, sizeof buf, "%s", in);
    out[0] = '\0';
    size_t used = 0;
    char *save = NULL;
    int nitems = 0;
    for (char *p = buf;; p = NULL) {
        char *item = strtok_r(p, ",", &save);
        if (!item)
            break;
        if (!ok(item))
            return pm_err(ctx, PM_EUSAGE, "invalid %s '%s'", what, item);
        /* drop duplicates */
        int dup = 0;
        size_t il = strlen(item);
        for (const char *o = out; *o;) {
            const char *e = strchr(o, ',');
            size_t ol = e ? (size_t)(e - o) : strlen(o);
            if (ol == il && strncmp(o, item, il) == 0)
                dup = 1;
            o += ol + (e ? 1 : 0);
        }
        if (dup)
            continue;
        used += (size_t)snprintf(out + used, cap - used, "%s%s", nitems ? "," : "", item);
        nitems++;
    }
    /* an empty item ("a,,b", ",a", "a,") is a typo, not a wish */
    if (nitems == 0 || in[0] == ',' || in[strlen(in) - 1] == ',' || strstr(in, ",,"))
        return pm_err(ctx, PM_EUSAGE, "invalid %s list '%s': empty item", what, in);
    return 0;
}

int pm_access_project_add(pm_store_t *st, const pm_project_spec_t *spec)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    if (!valid_name(spec->name))
        return pm_err(ctx, PM_EUSAGE, "invalid project name '%.80s': use " NAME_RULE,
                      spec->name ? spec->name : "");
    pm_project_info_t p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "%s", spec->name);
    int rc;
    if ((rc = norm_list(ctx, "source", spec->sources, valid_name, p.sources, sizeof p.sources)) <
            0 ||
        (rc = norm_list(ctx, "data type", spec->data_types, valid_data_type, p.data_types,
                        sizeof p.data_types)) < 0 ||
        (rc = norm_list(ctx, "purpose (a Data Use Ontology code such as DUO:0000006)",
                        spec->purpose, valid_duo, p.purpose, sizeof p.purpose)) < 0)
        return rc;
    int y = spec->expires / 10000, m = spec->expires / 100 % 100, d = spec->expires % 100;
    char iso[16];
    snprintf(iso, sizeof iso, "%04d-%02d-%02d", y % 10000, m % 100, d % 100);
    int check;
    if (spec->expires <= 0 || pm_iso_date_parse(iso, &check) < 0 || check != spec->expires)
        return pm_err(ctx, PM_EUSAGE, "invalid project expiry date");
    p.expires = spec->expires;
    if ((rc = rng_ready(ctx)) < 0)
        return rc;
    uint8_t key[32];
    char key_hex[65];
    randombytes_buf(key, sizeof key);
    sodium_bin2hex(key_hex, sizeof key_hex, key, sizeof key);
    sodium_memzero(key, sizeof key);
    rc = pm_cataccess_project_add(st, &p, key_hex);
    sodium_memzero(key_hex, sizeof key_hex);
    if (rc == PM_EEXIST)
        return pm_err(ctx, PM_EEXIST, "project '%s' already exists", p.name);
    return rc;
}

int pm_access_project_each(pm_store_t *st, int (*fn)(void *ud, const pm_project_info_t *p),
                           void *ud)
{
    return pm_cataccess_project_each(st, fn, ud);
}

int pm_access_project_get(pm_store_t *st, const char *name, pm_project_info_t *out)
{
    return pm_cataccess_project_get(st, name, out, NULL);
}

int pm_access_project_key(pm_store_t *st, const char *project, uint8_t key[32])
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    pm_project_info_t p;
    char key_hex[65];
    int rc = pm_cataccess_project_get(st, project, &p, key_hex);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return pm_err(ctx, PM_ENOTFOUND, "no project '%s'", project);
    size_t klen = 0;
    rc = sodium_hex2bin(key, 32, key_hex, strlen(key_hex), NULL, &klen, NULL);
    sodium_memzero(key_hex, sizeof key_hex);
    if (rc != 0 || klen != 32)
        return pm_err(ctx, PM_ECORRUPT, "project '%s' has a malformed key", project);
    return 0;
}

int pm_access_pseudonym_with(const uint8_t key[32], const char *project, const char *pseudonym,
                             char *buf, size_t cap)
{
    uint8_t h[32];
    pm_hmac_sha256(key, 32, (const uint8_t *)pseudonym, strlen(pseudonym), h);
    static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
    char enc[27];
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        acc = (acc << 8) | h[i];
        bits += 8;
        while (bits >= 5) {
            enc[o++] = b32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        enc[o++] = b32[(acc << (5 - bits)) & 31];
    enc[o] = '\0';
    if ((size_t)snprintf(buf, cap, "%s:%s", project, enc) >= cap)
        return PM_ELIMIT;
    return 0;
}

int pm_access_project_pseudonym(pm_store_t *st, const char *project, const char *pseudonym,
                                char *buf, size_t cap)
{
    uint8_t key[32];
    int rc = pm_access_project_key(st, project, key);
    if (rc < 0)
        return rc;
    rc = pm_access_pseudonym_with(key, project, pseudonym, buf, cap);
    sodium_memzero(key, sizeof key);
    if (rc < 0)
        return pm_err(pm_store_ctx(st), PM_ELIMIT, "pseudonym buffer too small");
    return 0;
}

/* ---- grants ---- */

int pm_access_grant(pm_store_t *st, const char *user, const char *project)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    int64_t uid;
    char tier[16];
    int rc = pm_cataccess_user_get(st, user, &uid, tier);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return pm_err(ctx, PM_ENOTFOUND, "no user '%s'", user);
    pm_project_info_t p;
    if ((rc = pm_cataccess_project_get(st, project, &p, NULL)) < 0)
        return rc;
    if (rc == 0)
        return pm_err(ctx, PM_ENOTFOUND, "no project '%s'", project);
    if (pm_tier_parse(tier) < PM_TIER_PROJECT)
        return pm_err(ctx, PM_EUSAGE,
                      "user '%s' has tier '%s'; project grants need tier 'project' or higher",
                      user, tier);
    rc = pm_cataccess_grant_add(st, uid, p.id);
    if (rc == PM_EEXIST)
        return pm_err(ctx, PM_EEXIST, "user '%s' already has project '%s'", user, project);
    return rc;
}

/* ---- tokens ---- */

int pm_access_token_new(pm_store_t *st, const char *user, int expires, char *tok, int64_t *id)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    tok[0] = '\0';
    int64_t uid;
    int rc = pm_cataccess_user_get(st, user, &uid, NULL);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return pm_err(ctx, PM_ENOTFOUND, "no user '%s'", user);
    if ((rc = rng_ready(ctx)) < 0)
        return rc;
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    memcpy(tok, TOKEN_PREFIX, sizeof TOKEN_PREFIX - 1);
    sodium_bin2hex(tok + sizeof TOKEN_PREFIX - 1, TOKEN_HEX + 1, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    char hash[65];
    pm_access_sha256_hex(tok, strlen(tok), hash);
    rc = pm_cataccess_token_add(st, uid, hash, expires, id);
    if (rc < 0) {
        sodium_memzero(tok, PM_TOKEN_MAX);
        if (rc == PM_EEXIST) /* 2^-256: a broken random number generator */
            return pm_err(ctx, PM_EINTERNAL, "token collision");
    }
    return rc;
}

int pm_access_token_revoke(pm_store_t *st, int64_t id, int *changed)
{
    int ch = 0;
    int rc = pm_cataccess_token_revoke(st, id, &ch);
    if (changed)
        *changed = ch;
    if (rc < 0)
        return rc;
    if (rc == 0)
        return pm_err(pm_store_ctx(st), PM_ENOTFOUND, "no token %lld", (long long)id);
    return 0;
}

int pm_access_token_each(pm_store_t *st, int (*fn)(void *ud, const pm_token_info_t *t),
                         void *ud)
{
    return pm_cataccess_token_each(st, fn, ud);
}

struct grant_fill {
    pm_principal_t *p;
    int today;
};

static int grant_cb(void *ud, const pm_project_info_t *proj)
{
    struct grant_fill *g = ud;
    if (proj->expires < g->today || g->p->n_projects >= PM_ACCESS_MAX_GRANTS)
        return 0;
    g->p->projects[g->p->n_projects++] = *proj;
    return 0;
}

static int token_shape_ok(const char *t)
{
    if (!t || strncmp(t, TOKEN_PREFIX, sizeof TOKEN_PREFIX - 1) != 0)
        return 0;
    t += sizeof TOKEN_PREFIX - 1;
    size_t n = 0;
    for (; t[n]; n++)
        if (n >= TOKEN_HEX || !((t[n] >= '0' && t[n] <= '9') || (t[n] >= 'a' && t[n] <= 'f')))
            return 0;
    return n == TOKEN_HEX;
}

/* Tokens already resolved on a store handle, for the current catalog
 * generation and day (a server sees the same few tokens over and over; a
 * revocation, a grant or a user change is a catalog write and empties it).
 * Only successes are kept. */
#define AUTH_CACHE 32

typedef struct auth_cache {
    uint64_t gen, tick;
    int today;
    struct {
        char hash[65];
        uint64_t tick;
        pm_principal_t p;
    } e[AUTH_CACHE];
} auth_cache_t;

static auth_cache_t *auth_cache(pm_store_t *st, int today, int create)
{
    void **slot = pm_store_module_slot(st, PM_SLOT_AUTH, free);
    auth_cache_t *c = *slot;
    uint64_t gen = pm_catalog_generation(st);
    if (!gen)
        return NULL;
    if (c && (c->gen != gen || c->today != today))
        memset(c, 0, sizeof *c);
    if (!c && create && (c = calloc(1, sizeof *c)) != NULL)
        *slot = c;
    if (c) {
        c->gen = gen;
        c->today = today;
    }
    return c;
}

int pm_access_authenticate_at(pm_store_t *st, const char *token, int today, pm_principal_t *out)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    memset(out, 0, sizeof *out);
    if (!token_shape_ok(token))
        return pm_err(ctx, PM_EACCES, "invalid token");
    char hash[65], tier[16];
    pm_access_sha256_hex(token, strlen(token), hash);
    auth_cache_t *c = auth_cache(st, today, 0);
    for (int i = 0; c && i < AUTH_CACHE; i++)
        if (c->e[i].tick && strcmp(c->e[i].hash, hash) == 0) {
            c->e[i].tick = ++c->tick;
            *out = c->e[i].p;
            return 0;
        }
    pm_token_info_t t;
    int64_t uid;
    int rc = pm_cataccess_token_find(st, hash, &t, &uid, tier);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return pm_err(ctx, PM_EACCES, "invalid token");
    if (t.revoked)
        return pm_err(ctx, PM_EACCES, "token revoked");
    if (t.expires < today)
        return pm_err(ctx, PM_EACCES, "token expired");
    int tr = pm_tier_parse(tier);
    if (tr < 0)
        return pm_err(ctx, PM_ECORRUPT, "user '%s' has an unknown tier", t.user);
    pm_principal_t p;
    memset(&p, 0, sizeof p);
    p.user_id = uid;
    p.token_id = t.id;
    p.tier = tr;
    snprintf(p.user, sizeof p.user, "%s", t.user);
    struct grant_fill g = {&p, today};
    if ((rc = pm_cataccess_grants_each(st, uid, grant_cb, &g)) < 0)
        return rc;
    *out = p;
    if ((c = auth_cache(st, today, 1)) != NULL) {
        int k = 0;
        for (int i = 1; i < AUTH_CACHE; i++)
            if (c->e[i].tick < c->e[k].tick)
                k = i; /* a free entry (tick 0) or the least recently used */
        memcpy(c->e[k].hash, hash, sizeof hash);
        c->e[k].p = p;
        c->e[k].tick = ++c->tick;
    }
    return 0;
}

int pm_access_authenticate(pm_store_t *st, const char *token, pm_principal_t *out)
{
    return pm_access_authenticate_at(st, token, pm_access_today(), out);
}

const pm_project_info_t *pm_principal_project(const pm_principal_t *p, const char *name)
{
    for (size_t i = 0; i < p->n_projects; i++)
        if (strcmp(p->projects[i].name, name) == 0)
            return &p->projects[i];
    return NULL;
}

int pm_access_principal(pm_store_t *st, const char *name, pm_principal_t *out)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    memset(out, 0, sizeof *out);
    if (!valid_name(name))
        return pm_err(ctx, PM_EUSAGE, "malformed user name (" NAME_RULE ")");
    char tier[16];
    int64_t uid;
    int rc = pm_cataccess_user_get(st, name, &uid, tier);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return pm_err(ctx, PM_ENOTFOUND, "no user '%s'", name);
    int tr = pm_tier_parse(tier);
    if (tr < 0)
        return pm_err(ctx, PM_ECORRUPT, "user '%s' has an unknown tier", name);
    pm_principal_t p;
    memset(&p, 0, sizeof p);
    p.user_id = uid;
    p.tier = tr;
    snprintf(p.user, sizeof p.user, "%s", name);
    struct grant_fill g = {&p, pm_access_today()};
    if ((rc = pm_cataccess_grants_each(st, uid, grant_cb, &g)) < 0)
        return rc;
    *out = p;
    return 0;
}

/* 1 when comma list `list` holds item. */
static int list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *s = list; *s;) {
        size_t w = strcspn(s, ",");
        if (w == n && strncmp(s, item, n) == 0)
            return 1;
        s += w + (s[w] == ',');
    }
    return 0;
}

static const char *consent_purpose(const pm_project_info_t *p)
{
    /* not for profit / non-commercial use only */
    if (list_has(p->purpose, "DUO:0000018") || list_has(p->purpose, "DUO:0000045") ||
        list_has(p->purpose, "DUO:0000046"))
        return "research";
    return "commercial";
}

int pm_access_scope(pm_store_t *st, const pm_principal_t *who, const char *project,
                    pm_access_scope_t *out)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    memset(out, 0, sizeof *out);
    int tier = who ? who->tier : PM_TIER_STEWARD;
    const char *user = who ? who->user : "the steward";
    if (project && *project) {
        const pm_project_info_t *g = who ? pm_principal_project(who, project) : NULL;
        if (g) {
            out->project = *g;
        } else {
            if (tier < PM_TIER_STEWARD)
                return pm_err(ctx, PM_EACCES,
                              "user '%s' has no grant for project '%s' (or it expired)", user,
                              project);
            int rc = pm_cataccess_project_get(st, project, &out->project, NULL);
            if (rc < 0)
                return rc;
            if (rc == 0)
                return pm_err(ctx, PM_ENOTFOUND, "no project '%s'", project);
        }
        out->has_project = 1;
    } else if (tier == PM_TIER_PROJECT) {
        if (who->n_projects > 1)
            return pm_err(ctx, PM_EUSAGE,
                          "user '%s' works in %zu projects: name one with --project", user,
                          who->n_projects);
        if (who->n_projects == 1) {
            out->project = who->projects[0];
            out->has_project = 1;
        } else {
            tier = PM_TIER_REGISTERED; /* no grant: aggregates only */
        }
    }
    if (out->has_project) {
        int today = pm_access_today();
        if (out->project.expires < today)
            return pm_err(ctx, PM_EACCES, "project '%s' expired on %04d-%02d-%02d",
                          out->project.name, out->project.expires / 10000,
                          out->project.expires / 100 % 100, out->project.expires % 100);
        snprintf(out->purpose, sizeof out->purpose, "%s", consent_purpose(&out->project));
    }
    out->tier = tier;
    return 0;
}

int pm_access_project_cohort(pm_ctx_t *ctx, const pm_project_info_t *p, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap)
        buf[0] = '\0';
    for (const char *s = p->sources; *s;) {
        size_t w = strcspn(s, ",");
        int k = snprintf(buf + len, cap - len, "%ssource:%.*s", len ? " or " : "", (int)w, s);
        if (k < 0 || (size_t)k >= cap - len)
            return pm_err(ctx, PM_ELIMIT, "project '%s' has too many sources", p->name);
        len += (size_t)k;
        s += w + (s[w] == ',');
    }
    if (!len)
        return pm_err(ctx, PM_EACCES, "project '%s' approves no source", p->name);
    return 0;
}

int pm_access_project_allows(pm_ctx_t *ctx, const pm_project_info_t *p, const char *dt)
{
    if (list_has(p->data_types, dt))
        return 0;
    return pm_err(ctx, PM_EACCES, "project '%s' is not approved for %s (it has %s)", p->name, dt,
                  p->data_types);
}

/* ---- people ---- */

int pm_access_person(pm_store_t *st, const pm_key_t *key, const char *pnr, int64_t *idx,
                     char *pseudo)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    char fp_s[PM_FINGERPRINT_HEX + 8], tag_s[16];
    int have_fp = pm_store_setting(st, "key_fingerprint", fp_s, sizeof fp_s);
    if (have_fp < 0)
        return have_fp;
    int have_tag = pm_store_setting(st, "key_tag", tag_s, sizeof tag_s);
    if (have_tag < 0)
        return have_tag;
    if (!have_fp && !have_tag)
        return pm_err(ctx, PM_ENOTFOUND, "store '%s' holds nobody: it is bound to no key yet",
                      pm_store_path(st));
    char fp[PM_FINGERPRINT_HEX + 1], tag[PM_KEY_TAG_LEN + 1];
    pm_key_fingerprint(key, fp);
    pm_key_tag(key, tag);
    if ((have_fp && strcmp(fp, fp_s) != 0) || (have_tag && strcmp(tag, tag_s) != 0))
        return pm_err(ctx, PM_EACCES, "the key is not the one store '%s' is bound to",
                      pm_store_path(st));
    pm_pnr_t p;
    int prc = pm_pnr_parse(pnr, 0, &p);
    if (prc != PM_PNR_OK)
        return pm_err(ctx, PM_EINPUT, "invalid personnummer: %s", pm_pnr_strerror(prc));
    char ps[PM_PSEUDONYM_MAX];
    pm_pseudonym(key, &p, ps);
    sodium_memzero(&p, sizeof p);
    int rc = pm_individual_find(st, ps, idx, NULL);
    if (rc == 0)
        rc = pm_err(ctx, PM_ENOTFOUND, "nobody in store '%s' has this personnummer",
                    pm_store_path(st));
    if (rc > 0 && pseudo)
        memcpy(pseudo, ps, sizeof ps);
    return rc < 0 ? rc : 0;
}

int pm_access_withdraw(pm_store_t *st, int64_t idx, int *changed)
{
    int ch = 0;
    int rc = pm_cataccess_withdraw(st, idx, &ch);
    if (changed)
        *changed = ch;
    if (rc == 0)
        return pm_err(pm_store_ctx(st), PM_ENOTFOUND, "no individual %lld", (long long)idx);
    return rc < 0 ? rc : 0;
}
