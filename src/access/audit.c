/*
 * audit.c - the hash chain of the audit log (see promise/audit.h and
 * docs/access.md). Storage is src/catalog/cat_audit.c; this file decides
 * what is hashed and checks it.
 *
 * Canonical form of an entry (what its hash covers), one field per line,
 * each string length-prefixed so that no two entries serialise alike:
 *
 *   promise-audit-v1\n id\n kind\n at\n who\n tier\n project\n command\n
 *   query\n ref\n outcome\n n_individuals\n result_size\n n_used\n used\n
 *
 * with strings as "<byte length>:<bytes>", integers in decimal and `used`
 * as the hex SHA-256 of the encoded individual list ("-" when none).
 * hash = hex(SHA-256(prev_hash_hex "\n" canonical)).
 *
 * Individual lists (art. 15): format byte 1 then LEB128 varints of the
 * first index and the gaps to each next one; or format byte 2, a varint
 * bit count and the raw bitset bytes, whichever is smaller.
 */
#include "promise/audit.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access/access_int.h"
#include "catalog/cat_audit.h"
#include "core/fileio.h"
#include "promise/policy.h"

#define HEAD_FILE "audit/head"
#define HEAD_MAGIC "promise-audit-head v1"

/* ---- canonical form ---- */

static void h_put(crypto_hash_sha256_state *h, const char *s, size_t n)
{
    crypto_hash_sha256_update(h, (const unsigned char *)s, n);
}

static void h_str(crypto_hash_sha256_state *h, const char *s)
{
    char num[32];
    s = s ? s : "";
    size_t n = strlen(s);
    int k = snprintf(num, sizeof num, "%zu:", n);
    h_put(h, num, (size_t)k);
    h_put(h, s, n);
    h_put(h, "\n", 1);
}

static void h_int(crypto_hash_sha256_state *h, int64_t v)
{
    char num[32];
    int k = snprintf(num, sizeof num, "%lld\n", (long long)v);
    h_put(h, num, (size_t)k);
}

/* The hash of r (whose prev is set) into out[65], streamed: no allocation. */
static void chain_hash(const pm_cataudit_rec_t *r, char *out)
{
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    h_put(&h, r->prev, strlen(r->prev));
    h_put(&h, "\npromise-audit-v1\n", 18);
    h_int(&h, r->id);
    h_str(&h, r->kind);
    h_str(&h, r->at);
    h_str(&h, r->who);
    h_str(&h, r->tier);
    h_str(&h, r->project);
    h_str(&h, r->command);
    h_str(&h, r->query);
    h_int(&h, r->ref);
    h_str(&h, r->outcome);
    h_int(&h, r->n_individuals);
    h_int(&h, r->result_size);
    h_int(&h, r->n_used);
    char uh[65] = "-";
    if (r->used && r->used_len)
        pm_access_sha256_hex(r->used, r->used_len, uh);
    h_str(&h, uh);
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&h, d);
    sodium_bin2hex(out, 65, d, sizeof d);
}

static void seal(pm_cataudit_rec_t *r) { chain_hash(r, r->hash); }

/* ---- individual lists ---- */

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        p[n++] = c | (v ? 0x80 : 0);
    } while (v);
    return n;
}

static int get_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64 && *pos < len; shift += 7) {
        uint8_t c = p[(*pos)++];
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* Encodes the set into a new buffer (*out, *len); *count = members. */
static int encode_used(const pm_bitset_t *s, uint8_t **out, size_t *len, int64_t *count)
{
    size_t n = pm_bitset_count(s);
    size_t bitset_bytes = (s->n + 7) / 8;
    size_t list_max = 1 + n * 10;
    size_t cap = 1 + 10 + bitset_bytes;
    if (list_max > cap)
        cap = list_max;
    uint8_t *p = malloc(cap);
    if (!p)
        return PM_ENOMEM;
    size_t o = 1;
    p[0] = 1;
    size_t prev = 0;
    int first = 1;
    for (size_t i = pm_bitset_next(s, 0); i != (size_t)-1; i = pm_bitset_next(s, i + 1)) {
        o += put_varint(p + o, first ? i : i - prev);
        prev = i;
        first = 0;
        if (o > 1 + 10 + bitset_bytes)
            break; /* the bitset form is smaller */
    }
    if (o > 1 + 10 + bitset_bytes) {
        p[0] = 2;
        o = 1 + put_varint(p + 1, s->n);
        for (size_t b = 0; b < bitset_bytes; b++)
            p[o++] = (uint8_t)(s->w[b / 8] >> (8 * (b % 8)));
    }
    *out = p;
    *len = o;
    *count = (int64_t)n;
    return 0;
}

/* 1 when idx is in the encoded list, 0 when not, -1 when malformed. */
static int used_contains(const uint8_t *p, size_t len, uint64_t idx)
{
    if (len < 1)
        return -1;
    size_t pos = 1;
    uint64_t v;
    if (p[0] == 1) {
        uint64_t cur = 0;
        int first = 1;
        while (pos < len) {
            if (get_varint(p, len, &pos, &v) < 0)
                return -1;
            cur = first ? v : cur + v;
            first = 0;
            if (cur == idx)
                return 1;
            if (cur > idx)
                return 0;
        }
        return 0;
    }
    if (p[0] == 2) {
        if (get_varint(p, len, &pos, &v) < 0)
            return -1;
        if (idx >= v || pos + idx / 8 >= len)
            return 0;
        return (p[pos + idx / 8] >> (idx % 8)) & 1;
    }
    return -1;
}

/* ---- appending ---- */

static void now_iso(char *buf, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char sec[24];
    strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, cap, "%s.%03dZ", sec, (int)(ts.tv_nsec / 1000000 % 1000));
}

static int write_head(pm_store_t *st, int64_t id, const char *hash)
{
    char path[PATH_MAX], line[128];
    int rc = pm_path(pm_store_ctx(st), path, sizeof path, "%s/%s", pm_store_path(st), HEAD_FILE);
    if (rc < 0)
        return rc;
    int n = snprintf(line, sizeof line, HEAD_MAGIC " %lld %s\n", (long long)id, hash);
    return pm_write_atomic(pm_store_ctx(st), path, line, (size_t)n, 0640);
}

/* Reads the head witness: 1 (id, hash), 0 absent, <0 malformed/error. */
static int read_head(pm_store_t *st, int64_t *id, char *hash)
{
    char path[PATH_MAX];
    pm_ctx_t *ctx = pm_store_ctx(st);
    int rc = pm_path(ctx, path, sizeof path, "%s/%s", pm_store_path(st), HEAD_FILE);
    if (rc < 0)
        return rc;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    char line[160];
    long long v = 0;
    char h[65] = "";
    int ok = fgets(line, sizeof line, fp) != NULL &&
             sscanf(line, HEAD_MAGIC " %lld %64s", &v, h) == 2 && strlen(h) == 64 && v > 0;
    fclose(fp);
    if (!ok)
        return pm_err(ctx, PM_ECORRUPT, "audit head witness '%s' is malformed", path);
    *id = v;
    memcpy(hash, h, 65);
    return 1;
}

static int check_field(pm_ctx_t *ctx, const char *what, const char *s)
{
    if (s && strlen(s) > PM_AUDIT_FIELD_MAX)
        return pm_err(ctx, PM_ELIMIT, "audit %s longer than %d bytes", what, PM_AUDIT_FIELD_MAX);
    return 0;
}

static int append(pm_store_t *st, pm_cataudit_rec_t *r, int64_t *id)
{
    char at[40];
    now_iso(at, sizeof at);
    r->at = at;
    int rc = pm_cataudit_append(st, r, seal);
    if (rc < 0)
        return rc;
    if (id)
        *id = r->id;
    /* The witness outside the database; the entry is committed already, so
     * a failure here is reported (the caller must not answer) but the log
     * stays valid: verify accepts a witness behind the log. */
    return write_head(st, r->id, r->hash);
}

int pm_audit_append(pm_store_t *st, const pm_audit_entry_t *e, int64_t *entry_id)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    int rc;
    if ((rc = check_field(ctx, "user", e->who)) < 0 ||
        (rc = check_field(ctx, "project", e->project)) < 0 ||
        (rc = check_field(ctx, "command", e->command)) < 0 ||
        (rc = check_field(ctx, "query", e->query)) < 0)
        return rc;
    pm_cataudit_rec_t r;
    memset(&r, 0, sizeof r);
    r.kind = "request";
    r.who = e->who ? e->who : "";
    r.tier = pm_tier_name(e->tier);
    r.project = e->project ? e->project : "";
    r.command = e->command ? e->command : "";
    r.query = e->query ? e->query : "";
    r.outcome = "";
    r.n_individuals = -1;
    r.result_size = -1;
    return append(st, &r, entry_id);
}

struct req_copy {
    char kind[16], who[PM_AUDIT_FIELD_MAX + 1], tier[16], project[PM_AUDIT_FIELD_MAX + 1],
        command[PM_AUDIT_FIELD_MAX + 1];
};

static int copy_req(void *ud, const pm_cataudit_rec_t *r)
{
    struct req_copy *c = ud;
    snprintf(c->kind, sizeof c->kind, "%s", r->kind);
    snprintf(c->who, sizeof c->who, "%s", r->who);
    snprintf(c->tier, sizeof c->tier, "%s", r->tier);
    snprintf(c->project, sizeof c->project, "%s", r->project);
    snprintf(c->command, sizeof c->command, "%s", r->command);
    return 0;
}

int pm_audit_complete_ex(pm_store_t *st, int64_t entry_id, const char *outcome,
                         int64_t n_individuals, int64_t result_size, const pm_bitset_t *used,
                         int64_t *result_id)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    struct req_copy *c = calloc(1, sizeof *c);
    if (!c)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    int rc = pm_cataudit_get(st, entry_id, copy_req, c);
    if (rc == 0 || (rc > 0 && strcmp(c->kind, "request") != 0))
        rc = pm_err(ctx, PM_ENOTFOUND, "no audit request entry %lld", (long long)entry_id);
    uint8_t *blob = NULL;
    size_t blen = 0;
    int64_t n_used = 0;
    if (rc >= 0 && used && (rc = encode_used(used, &blob, &blen, &n_used)) < 0)
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
    if (rc >= 0) {
        pm_cataudit_rec_t r;
        memset(&r, 0, sizeof r);
        r.kind = "result";
        r.who = c->who;
        r.tier = c->tier;
        r.project = c->project;
        r.command = c->command;
        r.query = "";
        r.ref = entry_id;
        r.outcome = outcome ? outcome : "ok";
        r.n_individuals = n_individuals;
        r.result_size = result_size;
        r.n_used = n_used;
        r.used = blob;
        r.used_len = blen;
        rc = append(st, &r, result_id);
    }
    free(blob);
    free(c);
    return rc;
}

int pm_audit_complete(pm_store_t *st, int64_t entry_id, int64_t n_individuals,
                      int64_t result_size)
{
    return pm_audit_complete_ex(st, entry_id, "ok", n_individuals, result_size, NULL, NULL);
}

/* ---- reading ---- */

static void to_row(const pm_cataudit_rec_t *r, pm_audit_row_t *o)
{
    o->id = r->id;
    o->kind = r->kind;
    o->at = r->at;
    o->who = r->who;
    o->tier = r->tier;
    o->project = r->project;
    o->command = r->command;
    o->query = r->query;
    o->ref = r->ref;
    o->outcome = r->outcome;
    o->n_individuals = r->n_individuals;
    o->result_size = r->result_size;
    o->n_used = r->n_used;
    o->hash = r->hash;
}

struct each_ud {
    int (*fn)(void *ud, const pm_audit_row_t *r);
    void *ud;
    int64_t idx; /* person */
    int bad;
};

static int each_cb(void *ud, const pm_cataudit_rec_t *r)
{
    struct each_ud *e = ud;
    pm_audit_row_t o;
    to_row(r, &o);
    return e->fn(e->ud, &o);
}

int pm_audit_each(pm_store_t *st, int64_t after_id,
                  int (*fn)(void *ud, const pm_audit_row_t *r), void *ud)
{
    struct each_ud e = {fn, ud, 0, 0};
    return pm_cataudit_each(st, after_id, 0, each_cb, &e);
}

int pm_audit_count(pm_store_t *st, int64_t *n, int64_t *last_id)
{
    return pm_cataudit_count(st, n, last_id);
}

static int person_cb(void *ud, const pm_cataudit_rec_t *r)
{
    struct each_ud *e = ud;
    int in = used_contains(r->used, r->used_len, (uint64_t)e->idx);
    if (in < 0) {
        e->bad = 1;
        return 0;
    }
    if (!in)
        return 0;
    pm_audit_row_t o;
    to_row(r, &o);
    return e->fn(e->ud, &o);
}

int pm_audit_person(pm_store_t *st, int64_t idx, int (*fn)(void *ud, const pm_audit_row_t *r),
                    void *ud)
{
    struct each_ud e = {fn, ud, idx, 0};
    int rc = pm_cataudit_each_with_used(st, person_cb, &e);
    if (rc >= 0 && e.bad)
        rc = pm_err(pm_store_ctx(st), PM_ECORRUPT,
                    "an audit entry holds a malformed individual list; run 'promise audit "
                    "verify'");
    return rc;
}

/* ---- verification ---- */

struct verify {
    pm_ctx_t *ctx;
    int64_t expect;
    char prev[65];
    int64_t head_id;
    char head_hash[65];
    int head_seen;
    int64_t bad;
    char why[160];
};

static int verify_cb(void *ud, const pm_cataudit_rec_t *r)
{
    struct verify *v = ud;
    if (r->id != v->expect) {
        v->bad = v->expect;
        snprintf(v->why, sizeof v->why, "entry %lld is missing or out of order (found %lld)",
                 (long long)v->expect, (long long)r->id);
        return -100;
    }
    if (strcmp(r->prev, v->prev) != 0) {
        v->bad = r->id;
        snprintf(v->why, sizeof v->why,
                 "entry %lld does not follow entry %lld (previous hash differs)",
                 (long long)r->id, (long long)(r->id - 1));
        return -100;
    }
    char h[65];
    chain_hash(r, h);
    if (strcmp(h, r->hash) != 0) {
        v->bad = r->id;
        snprintf(v->why, sizeof v->why, "entry %lld was altered (its hash does not match)",
                 (long long)r->id);
        return -100;
    }
    if (v->head_id == r->id) {
        v->head_seen = 1;
        if (strcmp(v->head_hash, r->hash) != 0) {
            v->bad = r->id;
            snprintf(v->why, sizeof v->why,
                     "entry %lld differs from the head witness (audit/head)", (long long)r->id);
            return -100;
        }
    }
    memcpy(v->prev, r->hash, 65);
    v->expect++;
    return 0;
}

int pm_audit_verify(pm_store_t *st, int64_t *n_ok, int64_t *bad_id)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    *n_ok = 0;
    *bad_id = 0;
    struct verify *v = calloc(1, sizeof *v);
    if (!v)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    v->ctx = ctx;
    v->expect = 1;
    memset(v->prev, '0', 64);
    int have_head = read_head(st, &v->head_id, v->head_hash);
    int rc = have_head;
    if (rc >= 0) {
        rc = pm_cataudit_each(st, 0, 1, verify_cb, v);
        if (rc == -100)
            rc = PM_ECORRUPT;
    }
    int64_t n = v->expect - 1;
    if (rc == 0 && have_head && v->head_id > n) {
        v->bad = n + 1;
        snprintf(v->why, sizeof v->why,
                 "the log ends at entry %lld but the head witness names entry %lld (truncated)",
                 (long long)n, (long long)v->head_id);
        rc = PM_ECORRUPT;
    }
    if (rc == 0 && !have_head && n > 0) {
        v->bad = 1;
        snprintf(v->why, sizeof v->why, "the head witness audit/head is missing");
        rc = PM_ECORRUPT;
    }
    if (rc == PM_ECORRUPT) {
        *bad_id = v->bad;
        pm_err(ctx, PM_ECORRUPT, "audit log of '%s' fails at entry %lld: %s", pm_store_path(st),
               (long long)v->bad, v->why);
    } else if (rc == 0) {
        *n_ok = n;
    }
    free(v);
    return rc;
}
