/* test_audit.c - the hash-chained audit log: appends and results, the
 * art. 15 individual lists (both encodings), read-only appends, and
 * verification against every kind of tampering: edited fields, edited
 * individual lists, deleted, reordered and truncated entries, a removed
 * head witness. Tampering goes through SQLite directly, as an attacker
 * with the file would. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "promise/audit.h"
#include "promise/policy.h"
#include "promise/promise.h"

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

#define N_IND 1000

/* A store whose log holds 5 requests, each with a result (10 entries):
 * request 1+2 (alice/cardio, used {3, 7}), 3+4 (bob, aggregate), 5+6
 * (alice/cardio, used every even index: the bitset encoding), 7+8 (carol/gen,
 * used {7}), 9+10 (refused). */
static pm_store_t *make_log(pm_ctx_t *ctx, const char *name)
{
    pm_store_t *st = NULL;
    if (pm_store_init(ctx, tmp_path(name)) < 0 ||
        pm_store_open(ctx, tmp_path(name), PM_STORE_RDWR, &st) < 0) {
        fprintf(stderr, "%s\n", pm_ctx_errmsg(ctx));
        return NULL;
    }
    pm_bitset_t *a = pm_bitset_new(N_IND), *b = pm_bitset_new(N_IND), *c = pm_bitset_new(N_IND);
    pm_bitset_set(a, 3);
    pm_bitset_set(a, 7);
    for (size_t i = 0; i < N_IND; i += 2)
        pm_bitset_set(b, i);
    pm_bitset_set(c, 7);
    struct {
        pm_audit_entry_t e;
        const char *outcome;
        pm_bitset_t *used;
    } reqs[] = {
        {{"alice", PM_TIER_PROJECT, "cardio", "view", "--cohort 'icd10:I21'"}, "ok", a},
        {{"bob", PM_TIER_REGISTERED, NULL, "count", "--cohort sex=F"}, "ok", NULL},
        {{"alice", PM_TIER_PROJECT, "cardio", "export", "--data-types genotypes"}, "ok", b},
        {{"carol", PM_TIER_PROJECT, "gen", "view", "--region 1:1-100"}, "ok", c},
        {{"mallory", PM_TIER_PUBLIC, NULL, "view", ""}, "refused", NULL},
    };
    for (size_t i = 0; i < sizeof reqs / sizeof *reqs; i++) {
        int64_t id = 0, rid = 0;
        CHECK(pm_audit_append(st, &reqs[i].e, &id) == 0);
        CHECK(id == (int64_t)(2 * i + 1));
        CHECK(pm_audit_complete_ex(st, id, reqs[i].outcome,
                                   reqs[i].used ? (int64_t)pm_bitset_count(reqs[i].used) : 0,
                                   100 + (int64_t)i, reqs[i].used, &rid) == 0);
        CHECK(rid == id + 1);
    }
    pm_bitset_free(a);
    pm_bitset_free(b);
    pm_bitset_free(c);
    return st;
}

static int sql(pm_store_t *st, const char *q)
{
    sqlite3 *db;
    char path[600];
    snprintf(path, sizeof path, "%s/audit/audit.db", pm_store_path(st));
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    char *err = NULL;
    int rc = sqlite3_exec(db, q, NULL, NULL, &err);
    if (rc != SQLITE_OK && err)
        fprintf(stderr, "(expected or not) sql: %s\n", err);
    sqlite3_free(err);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

#define UNGUARD "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;"

/* Builds a fresh log, applies the tampering SQL, and returns verify's
 * bad id (0 when verify passes, -1 on another failure). */
static int64_t tamper(pm_ctx_t *ctx, const char *name, const char *q)
{
    pm_store_t *st = make_log(ctx, name);
    if (!st)
        return -1;
    int64_t n = 0, bad = 0;
    CHECK(pm_audit_verify(st, &n, &bad) == 0 && n == 10);
    if (q)
        CHECK(sql(st, q) == 0);
    int rc = pm_audit_verify(st, &n, &bad);
    pm_store_close(st);
    if (rc == 0)
        return 0;
    return rc == PM_ECORRUPT ? bad : -1;
}

struct collect {
    int n;
    char projects[16][32];
    int64_t refs[16];
};

static int collect_cb(void *ud, const pm_audit_row_t *r)
{
    struct collect *c = ud;
    if (c->n < 16) {
        snprintf(c->projects[c->n], sizeof c->projects[0], "%s", r->project);
        c->refs[c->n] = r->ref;
    }
    c->n++;
    return 0;
}

static int count_cb(void *ud, const pm_audit_row_t *r)
{
    (void)r;
    ++*(int *)ud;
    return 0;
}

static void test_log(pm_ctx_t *ctx)
{
    pm_store_t *st = make_log(ctx, "log");
    if (!st)
        return;
    int64_t n = 0, bad = 0, last = 0;
    CHECK(pm_audit_verify(st, &n, &bad) == 0 && n == 10);
    CHECK(pm_audit_count(st, &n, &last) == 0 && n == 10 && last == 10);

    /* art. 15 */
    struct collect c = {0};
    CHECK(pm_audit_person(st, 7, collect_cb, &c) == 0);
    CHECK(c.n == 2);
    CHECK_STR(c.projects[0], "cardio");
    CHECK(c.refs[0] == 1);
    CHECK_STR(c.projects[1], "gen");
    CHECK(c.refs[1] == 7);
    memset(&c, 0, sizeof c);
    CHECK(pm_audit_person(st, 998, collect_cb, &c) == 0);
    CHECK(c.n == 1 && c.refs[0] == 5); /* bitset form */
    memset(&c, 0, sizeof c);
    CHECK(pm_audit_person(st, 999, collect_cb, &c) == 0 && c.n == 0);
    memset(&c, 0, sizeof c);
    CHECK(pm_audit_person(st, 3, collect_cb, &c) == 0 && c.n == 1);
    memset(&c, 0, sizeof c);
    CHECK(pm_audit_person(st, 100000, collect_cb, &c) == 0 && c.n == 0);

    /* listing from an id */
    int k = 0;
    CHECK(pm_audit_each(st, 6, count_cb, &k) == 0 && k == 4);

    /* completion refers to a request */
    CHECK(pm_audit_complete(st, 2, 1, 1) == PM_ENOTFOUND); /* a result */
    CHECK(pm_audit_complete(st, 99, 1, 1) == PM_ENOTFOUND);
    /* bounded fields */
    char *big = malloc(PM_AUDIT_FIELD_MAX + 2);
    memset(big, 'x', PM_AUDIT_FIELD_MAX + 1);
    big[PM_AUDIT_FIELD_MAX + 1] = '\0';
    pm_audit_entry_t e = {"alice", PM_TIER_PROJECT, NULL, "count", big};
    CHECK(pm_audit_append(st, &e, NULL) == PM_ELIMIT);
    free(big);

    /* the guard triggers refuse in-place edits */
    CHECK(sql(st, "UPDATE audit SET who='eve' WHERE id=1") < 0);
    CHECK(sql(st, "DELETE FROM audit WHERE id=10") < 0);
    CHECK(pm_audit_verify(st, &n, &bad) == 0 && n == 10);
    pm_store_close(st);

    /* a read-only handle appends on a connection of its own */
    pm_store_t *ro = NULL;
    CHECK(pm_store_open(ctx, tmp_path("log"), PM_STORE_RDONLY, &ro) == 0);
    if (ro) {
        pm_audit_entry_t q = {"bob", PM_TIER_REGISTERED, NULL, "count", "--cohort alive"};
        int64_t id = 0;
        CHECK(pm_audit_append(ro, &q, &id) == 0 && id == 11);
        CHECK(pm_audit_complete(ro, id, 42, 3) == 0);
        CHECK(pm_audit_verify(ro, &n, &bad) == 0 && n == 12);
        pm_store_close(ro);
    }
}

static void test_tampering(pm_ctx_t *ctx)
{
    CHECK(tamper(ctx, "t0", NULL) == 0);
    /* edits, one field at a time */
    CHECK(tamper(ctx, "t1", UNGUARD "UPDATE audit SET who='eve' WHERE id=3") == 3);
    CHECK(tamper(ctx, "t2", UNGUARD "UPDATE audit SET query='--cohort alive' WHERE id=1") == 1);
    CHECK(tamper(ctx, "t3", UNGUARD "UPDATE audit SET n_individuals=0 WHERE id=6") == 6);
    CHECK(tamper(ctx, "t4", UNGUARD "UPDATE audit SET project='gen' WHERE id=2") == 2);
    CHECK(tamper(ctx, "t5", UNGUARD "UPDATE audit SET at='2020-01-01T00:00:00.000Z' WHERE id=9") ==
          9);
    CHECK(tamper(ctx, "t6", UNGUARD "UPDATE audit SET outcome='ok' WHERE id=10") == 10);
    /* the art. 15 list: dropped, or one individual removed */
    CHECK(tamper(ctx, "t7", UNGUARD "UPDATE audit SET used=NULL WHERE id=2") == 2);
    CHECK(tamper(ctx, "t8", UNGUARD "UPDATE audit SET used=x'0103', n_used=1 WHERE id=2") == 2);
    /* an edited hash breaks the entry and the next one's link */
    CHECK(tamper(ctx, "t9", UNGUARD "UPDATE audit SET hash=prev WHERE id=5") == 5);
    /* an entry whose hash is recomputed by hand (copied) still breaks the link */
    CHECK(tamper(ctx, "t10",
                 UNGUARD "UPDATE audit SET prev=(SELECT prev FROM audit WHERE id=5) WHERE id=6") ==
          6);
    /* deletions: first, middle, last */
    CHECK(tamper(ctx, "t11", UNGUARD "DELETE FROM audit WHERE id=1") == 1);
    CHECK(tamper(ctx, "t12", UNGUARD "DELETE FROM audit WHERE id=4") == 4);
    CHECK(tamper(ctx, "t13", UNGUARD "DELETE FROM audit WHERE id=10") == 10);
    /* a deleted entry with the later ids shifted down */
    CHECK(tamper(ctx, "t14", UNGUARD "DELETE FROM audit WHERE id=4;"
                                     "UPDATE audit SET id=id-1 WHERE id>4") == 4);
    /* reordering: two entries swap ids */
    CHECK(tamper(ctx, "t15", UNGUARD "UPDATE audit SET id=-3 WHERE id=3;"
                                     "UPDATE audit SET id=3 WHERE id=4;"
                                     "UPDATE audit SET id=4 WHERE id=-3") == 3);
    /* truncation: the tail, everything, and the tail with the witness gone */
    CHECK(tamper(ctx, "t16", UNGUARD "DELETE FROM audit WHERE id>=7") == 7);
    CHECK(tamper(ctx, "t17", UNGUARD "DELETE FROM audit") == 1);
    int64_t bad = tamper(ctx, "t18", NULL);
    CHECK(bad == 0);
    {
        pm_store_t *st = make_log(ctx, "t19");
        if (st) {
            CHECK(unlink(tmp_path("t19/audit/head")) == 0);
            int64_t n = 0;
            CHECK(pm_audit_verify(st, &n, &bad) == PM_ECORRUPT);
            CHECK(strstr(pm_ctx_errmsg(ctx), "head witness") != NULL);
            pm_store_close(st);
        }
    }
    /* an empty log with no witness is fine */
    {
        pm_store_t *st = NULL;
        CHECK(pm_store_init(ctx, tmp_path("empty")) == 0);
        CHECK(pm_store_open(ctx, tmp_path("empty"), PM_STORE_RDONLY, &st) == 0);
        int64_t n = -1;
        CHECK(st && pm_audit_verify(st, &n, &bad) == 0 && n == 0);
        pm_store_close(st);
    }
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/pm_audit_XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    pm_ctx_t *ctx = pm_ctx_new();
    test_log(ctx);
    test_tampering(ctx);
    pm_ctx_free(ctx);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    return check_summary("test_audit");
}
