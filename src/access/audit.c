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

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "access/access_int.h"
#include "catalog/cat_audit.h"
#include "catalog/cat_policy.h"
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

/* Rewrites the head witness in place: one fixed-length line (the id padded
 * to 20 digits) written at offset 0 of the open file and fdatasync'd, one
 * disk sync per group commit (a rename would take two more). The line is
 * far smaller than a disk sector, so it is never torn; a witness that did
 * not parse would make `audit verify` fail, never pass. */
static int write_head(pm_ctx_t *ctx, int *fd, const char *path, int64_t id, const char *hash)
{
    char line[128];
    int n = snprintf(line, sizeof line, HEAD_MAGIC " %020lld %s\n", (long long)id, hash);
    if (*fd < 0) {
        int existed = access(path, F_OK) == 0;
        if ((*fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640)) < 0)
            return pm_err(ctx, PM_EIO, "cannot write the audit head '%s': %s", path,
                          strerror(errno));
        int rc;
        if (!existed && (rc = pm_fsync_parent(ctx, path)) < 0)
            return rc;
    }
    if (pwrite(*fd, line, (size_t)n, 0) != n || fdatasync(*fd) != 0)
        return pm_err(ctx, PM_EIO, "cannot write the audit head '%s': %s", path,
                      strerror(errno));
    return 0;
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

/* ---- the log and its group commit ----
 *
 * Appenders queue their entries; whoever then waits for one while no
 * commit is in flight becomes the leader: it takes the whole queue, seals
 * and inserts it in one transaction, commits (one fsync of the WAL),
 * rewrites the head witness (pm_write_atomic) and wakes the others. An
 * entry is reported durable only after both, so no answer leaves before
 * its entries are on disk, and concurrent requests share the fsyncs. The
 * chain (ids, prev hashes) is computed inside the write transaction from
 * the last committed entry, so other processes may append meanwhile. */

struct pm_audit_pending {
    pm_cataudit_rec_t rec;
    struct pm_audit_pending *next;   /* queue */
    struct pm_audit_pending *ref;    /* a result's request */
    int state;                       /* 0 queued, 1 durable, -1 failed */
    void (*done)(void *arg, int ok); /* async results: called once durable or failed, */
    void *done_arg;                  /* then the entry and its request are freed */
    char at[40];
    char tier[16];
    char *text;                      /* who, project, command, query, outcome */
    uint8_t *used;
};

struct pm_audit_log {
    pm_cataudit_db_t *db;
    char head_path[PATH_MAX];
    int head_fd;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pm_audit_pending_t *q_head, *q_tail;
    int busy;
    char err[512];
    int64_t commits, entries; /* counters, for tuning */
    /* the flusher thread of async results */
    pthread_t flusher;
    int has_flusher, stop;
    pthread_cond_t work;
    pm_ctx_t *fctx;
    pm_catpol_ops_t *ledger; /* the Beacon ledger's queued writes, or NULL */
};

int pm_audit_log_open(pm_store_t *st, pm_audit_log_t **out)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    *out = NULL;
    pm_audit_log_t *L = calloc(1, sizeof *L);
    if (!L)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    int rc = pm_path(ctx, L->head_path, sizeof L->head_path, "%s/%s", pm_store_path(st),
                     HEAD_FILE);
    L->head_fd = -1;
    if (rc == 0)
        rc = pm_cataudit_open(st, &L->db);
    if (rc < 0) {
        free(L);
        return rc;
    }
    pthread_mutex_init(&L->mu, NULL);
    pthread_cond_init(&L->cv, NULL);
    pthread_cond_init(&L->work, NULL);
    *out = L;
    return 0;
}

void pm_audit_log_close(pm_audit_log_t *L)
{
    if (!L)
        return;
    if (L->has_flusher) {
        pthread_mutex_lock(&L->mu);
        L->stop = 1;
        pthread_cond_broadcast(&L->work);
        pthread_mutex_unlock(&L->mu);
        pthread_join(L->flusher, NULL);
        pm_ctx_free(L->fctx);
    }
    pthread_cond_destroy(&L->work);
    if (L->head_fd >= 0)
        close(L->head_fd);
    pm_cataudit_close(L->db);
    pthread_mutex_destroy(&L->mu);
    pthread_cond_destroy(&L->cv);
    free(L);
}

void pm_audit_log_attach_beacon(pm_audit_log_t *L, struct pm_beacon_ledger *ledger)
{
    pthread_mutex_lock(&L->mu);
    L->ledger = ledger ? pm_beacon_ledger_queue(ledger) : NULL;
    pthread_mutex_unlock(&L->mu);
}

void pm_audit_log_stats(pm_audit_log_t *L, int64_t *commits, int64_t *entries)
{
    pthread_mutex_lock(&L->mu);
    *commits = L->commits;
    *entries = L->entries;
    pthread_mutex_unlock(&L->mu);
}

static void pending_free(pm_audit_pending_t *p)
{
    if (!p)
        return;
    free(p->text);
    free(p->used);
    free(p);
}

/* A queued-to-be entry with copies of its strings (NULL: out of memory). */
static pm_audit_pending_t *pending_new(const char *kind, const char *who, const char *tier,
                                       const char *project, const char *command,
                                       const char *query, const char *outcome)
{
    pm_audit_pending_t *p = calloc(1, sizeof *p);
    const char *f[] = {who, project, command, query, outcome};
    size_t len[5], total = 0;
    for (int i = 0; i < 5; i++)
        total += (len[i] = strlen(f[i] ? f[i] : "")) + 1;
    if (!p || !(p->text = malloc(total))) {
        free(p);
        return NULL;
    }
    const char **dst[] = {&p->rec.who, &p->rec.project, &p->rec.command, &p->rec.query,
                          &p->rec.outcome};
    char *o = p->text;
    for (int i = 0; i < 5; i++) {
        memcpy(o, f[i] ? f[i] : "", len[i] + 1);
        *dst[i] = o;
        o += len[i] + 1;
    }
    now_iso(p->at, sizeof p->at);
    snprintf(p->tier, sizeof p->tier, "%s", tier);
    p->rec.kind = kind;
    p->rec.at = p->at;
    p->rec.tier = p->tier;
    return p;
}

static void enqueue(pm_audit_log_t *L, pm_audit_pending_t *p)
{
    pthread_mutex_lock(&L->mu);
    if (L->q_tail)
        L->q_tail->next = p;
    else
        L->q_head = p;
    L->q_tail = p;
    pthread_cond_signal(&L->work);
    pthread_mutex_unlock(&L->mu);
}

/* Commits the queue (called with L->mu held, returns with it held). */
static void lead(pm_audit_log_t *L, pm_ctx_t *ctx)
{
    size_t n = 0;
    for (pm_audit_pending_t *q = L->q_head; q; q = q->next)
        n++;
    pm_audit_pending_t *batch = L->q_head;
    L->q_head = L->q_tail = NULL;
    L->busy = 1;
    pthread_mutex_unlock(&L->mu);

    char err[512] = "";
    int rc = 0;
    pm_cataudit_rec_t **recs = malloc((n ? n : 1) * sizeof *recs);
    size_t m = 0;
    if (!recs) {
        rc = PM_ENOMEM;
        snprintf(err, sizeof err, "out of memory");
    }
    for (pm_audit_pending_t *q = batch; rc == 0 && q; q = q->next) {
        if (q->ref && q->ref->state < 0)
            q->state = -1; /* its request was never logged */
        else
            recs[m++] = &q->rec;
    }
    if (rc == 0 && m)
        rc = pm_cataudit_commit(L->db, recs, m, seal, L->ledger, err, sizeof err);
    if (rc == 0 && m && (rc = write_head(ctx, &L->head_fd, L->head_path, recs[m - 1]->id,
                                         recs[m - 1]->hash)) < 0)
        snprintf(err, sizeof err, "%s", pm_ctx_errmsg(ctx));
    free(recs);

    pthread_mutex_lock(&L->mu);
    pm_audit_pending_t *async = NULL;
    for (pm_audit_pending_t *q = batch, *next; q; q = next) {
        next = q->next;
        q->next = NULL;
        if (q->state == 0)
            q->state = rc == 0 ? 1 : -1;
        if (q->done) {
            q->next = async;
            async = q;
        }
    }
    if (rc < 0)
        snprintf(L->err, sizeof L->err, "%s", err);
    else if (m) {
        L->commits++;
        L->entries += (int64_t)m;
    }
    L->busy = 0;
    pthread_cond_broadcast(&L->cv);
    if (async) {
        /* async results: their owners hear of it; the log frees them (their
         * requests were committed or failed before them, or with them) */
        pthread_mutex_unlock(&L->mu);
        for (pm_audit_pending_t *q = async, *next; q; q = next) {
            next = q->next;
            q->done(q->done_arg, q->state > 0 && q->ref->state > 0);
            pending_free(q->ref);
            pending_free(q);
        }
        pthread_mutex_lock(&L->mu);
    }
}

/* Waits until p is durable (0) or failed (<0, message on ctx). */
static int wait_durable(pm_audit_log_t *L, pm_ctx_t *ctx, pm_audit_pending_t *p)
{
    char err[512];
    pthread_mutex_lock(&L->mu);
    while (p->state == 0) {
        if (L->busy)
            pthread_cond_wait(&L->cv, &L->mu);
        else
            lead(L, ctx);
    }
    int ok = p->state > 0;
    if (!ok)
        snprintf(err, sizeof err, "%s", L->err);
    pthread_mutex_unlock(&L->mu);
    return ok ? 0 : pm_err(ctx, PM_EIO, "%s", err);
}

static int check_entry(pm_ctx_t *ctx, const pm_audit_entry_t *e)
{
    int rc;
    if ((rc = check_field(ctx, "user", e->who)) < 0 ||
        (rc = check_field(ctx, "project", e->project)) < 0 ||
        (rc = check_field(ctx, "command", e->command)) < 0 ||
        (rc = check_field(ctx, "query", e->query)) < 0)
        return rc;
    return 0;
}

static pm_audit_pending_t *request_new(const pm_audit_entry_t *e)
{
    pm_audit_pending_t *p = pending_new("request", e->who, pm_tier_name(e->tier), e->project,
                                        e->command, e->query, "");
    if (p) {
        p->rec.n_individuals = -1;
        p->rec.result_size = -1;
    }
    return p;
}

/* The result entry of request req (whose who/tier/project/command it
 * copies). */
static pm_audit_pending_t *result_new(pm_ctx_t *ctx, const pm_cataudit_rec_t *req,
                                      const char *outcome, int64_t n_individuals,
                                      int64_t result_size, const pm_bitset_t *used, int *rc)
{
    pm_audit_pending_t *p = pending_new("result", req->who, req->tier, req->project,
                                        req->command, "", outcome ? outcome : "ok");
    if (!p) {
        *rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        return NULL;
    }
    /* ref: set by the caller (a queued request may be committing meanwhile,
     * its id is read at commit through ref_rec) */
    p->rec.n_individuals = n_individuals;
    p->rec.result_size = result_size;
    if (used) {
        size_t blen = 0;
        if (encode_used(used, &p->used, &blen, &p->rec.n_used) < 0) {
            pending_free(p);
            *rc = pm_err(ctx, PM_ENOMEM, "out of memory");
            return NULL;
        }
        p->rec.used = p->used;
        p->rec.used_len = blen;
    }
    *rc = 0;
    return p;
}

int pm_audit_log_request(pm_audit_log_t *L, pm_ctx_t *ctx, const pm_audit_entry_t *e,
                         pm_audit_pending_t **out)
{
    *out = NULL;
    int rc = check_entry(ctx, e);
    if (rc < 0)
        return rc;
    pm_audit_pending_t *p = request_new(e);
    if (!p)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    enqueue(L, p);
    *out = p;
    return 0;
}

int pm_audit_log_result(pm_audit_log_t *L, pm_ctx_t *ctx, pm_audit_pending_t *req,
                        const char *outcome, int64_t n_individuals, int64_t result_size,
                        const pm_bitset_t *used, int64_t *request_id)
{
    int rc;
    pm_audit_pending_t *p = result_new(ctx, &req->rec, outcome, n_individuals, result_size,
                                       used, &rc);
    if (p) {
        p->ref = req;
        p->rec.ref_rec = &req->rec;
        enqueue(L, p);
        rc = wait_durable(L, ctx, p); /* the request is ahead of it in the queue */
    } else {
        wait_durable(L, ctx, req); /* no one else may free it while queued */
    }
    if (rc == 0 && request_id)
        *request_id = req->rec.id;
    pending_free(p);
    pending_free(req);
    return rc;
}

static void *flusher_main(void *arg)
{
    pm_audit_log_t *L = arg;
    pthread_mutex_lock(&L->mu);
    for (;;) {
        if (L->q_head && !L->busy)
            lead(L, L->fctx);
        else if (L->stop && !L->q_head && !L->busy)
            break;
        else
            pthread_cond_wait(L->q_head || L->busy ? &L->cv : &L->work, &L->mu);
    }
    pthread_mutex_unlock(&L->mu);
    return NULL;
}

int pm_audit_log_result_async(pm_audit_log_t *L, pm_ctx_t *ctx, pm_audit_pending_t *req,
                              const char *outcome, int64_t n_individuals, int64_t result_size,
                              const pm_bitset_t *used, void (*done)(void *arg, int ok),
                              void *arg)
{
    pthread_mutex_lock(&L->mu);
    if (!L->has_flusher) {
        if (!(L->fctx = pm_ctx_new()) ||
            pthread_create(&L->flusher, NULL, flusher_main, L) != 0) {
            pm_ctx_free(L->fctx);
            L->fctx = NULL;
            pthread_mutex_unlock(&L->mu);
            int rc = pm_err(ctx, PM_ENOMEM, "cannot start the audit log's flusher thread");
            wait_durable(L, ctx, req);
            pending_free(req);
            return rc;
        }
        L->has_flusher = 1;
    }
    pthread_mutex_unlock(&L->mu);
    int rc;
    pm_audit_pending_t *p = result_new(ctx, &req->rec, outcome, n_individuals, result_size,
                                       used, &rc);
    if (!p) {
        wait_durable(L, ctx, req);
        pending_free(req);
        return rc;
    }
    p->ref = req;
    p->rec.ref_rec = &req->rec;
    p->done = done;
    p->done_arg = arg;
    enqueue(L, p);
    return 0;
}

/* One entry on a log of its own, committed before returning. */
static int append_one(pm_store_t *st, pm_audit_pending_t *p, int64_t *id)
{
    pm_audit_log_t *L = NULL;
    int rc = pm_audit_log_open(st, &L);
    if (rc == 0) {
        enqueue(L, p);
        rc = wait_durable(L, pm_store_ctx(st), p);
        if (rc == 0 && id)
            *id = p->rec.id;
        pm_audit_log_close(L);
    }
    pending_free(p);
    return rc;
}

int pm_audit_append(pm_store_t *st, const pm_audit_entry_t *e, int64_t *entry_id)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    int rc = check_entry(ctx, e);
    if (rc < 0)
        return rc;
    pm_audit_pending_t *p = request_new(e);
    if (!p)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    return append_one(st, p, entry_id);
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
    if (rc > 0) {
        pm_cataudit_rec_t req = {.id = entry_id, .who = c->who, .tier = c->tier,
                                 .project = c->project, .command = c->command};
        pm_audit_pending_t *p = result_new(ctx, &req, outcome, n_individuals, result_size, used,
                                           &rc);
        if (p) {
            p->rec.ref = entry_id;
            rc = append_one(st, p, result_id);
        }
    }
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
