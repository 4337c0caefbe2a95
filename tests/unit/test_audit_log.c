/* test_audit_log.c - the shared audit log with group commit
 * (pm_audit_log_t): threads appending request/result pairs at once, both
 * waiting (pm_audit_log_result) and asynchronous (..._result_async with a
 * callback), a CLI append from the side, then the chain verifies, every
 * result refers to its own request, and commits were shared. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "promise/audit.h"
#include "promise/policy.h"
#include "promise/promise.h"

#define THREADS 8
#define PER_THREAD 40

static pm_audit_log_t *g_log;

typedef struct done_flag {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, ok;
} done_flag_t;

static void on_done(void *arg, int ok)
{
    done_flag_t *d = arg;
    pthread_mutex_lock(&d->mu);
    d->done = 1;
    d->ok = ok;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

static int g_bad;

static void *worker(void *arg)
{
    long t = (long)arg;
    pm_ctx_t *ctx = pm_ctx_new();
    for (int i = 0; i < PER_THREAD; i++) {
        char query[64];
        snprintf(query, sizeof query, "t=%ld i=%d", t, i);
        pm_audit_entry_t e = {"user", PM_TIER_PUBLIC, NULL, "GET /x", query};
        pm_audit_pending_t *req = NULL;
        if (pm_audit_log_request(g_log, ctx, &e, &req) < 0) {
            __atomic_add_fetch(&g_bad, 1, __ATOMIC_RELAXED);
            continue;
        }
        /* the result's size names the request: checked below */
        int64_t size = t * 1000 + i;
        if (i % 2 == 0) {
            int64_t id = 0;
            if (pm_audit_log_result(g_log, ctx, req, "ok", -1, size, NULL, &id) < 0 || id <= 0)
                __atomic_add_fetch(&g_bad, 1, __ATOMIC_RELAXED);
        } else {
            done_flag_t d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
            if (pm_audit_log_result_async(g_log, ctx, req, "ok", -1, size, NULL, on_done, &d) <
                0) {
                __atomic_add_fetch(&g_bad, 1, __ATOMIC_RELAXED);
                continue;
            }
            pthread_mutex_lock(&d.mu);
            while (!d.done)
                pthread_cond_wait(&d.cv, &d.mu);
            pthread_mutex_unlock(&d.mu);
            if (!d.ok)
                __atomic_add_fetch(&g_bad, 1, __ATOMIC_RELAXED);
        }
    }
    pm_ctx_free(ctx);
    return NULL;
}

/* requests by id, to check each result's ref */
static char g_query[2 * THREADS * PER_THREAD + 16][64];
static int g_mismatch, g_results;

static int row_cb(void *ud, const pm_audit_row_t *r)
{
    (void)ud;
    if (r->id < 0 || r->id >= (int64_t)(sizeof g_query / sizeof *g_query))
        return 0;
    if (strcmp(r->kind, "request") == 0) {
        snprintf(g_query[r->id], sizeof g_query[r->id], "%s", r->query);
    } else if (strcmp(r->command, "GET /x") == 0) {
        char want[64];
        snprintf(want, sizeof want, "t=%lld i=%lld", (long long)(r->result_size / 1000),
                 (long long)(r->result_size % 1000));
        g_results++;
        if (r->ref <= 0 || r->ref >= r->id || strcmp(g_query[r->ref], want) != 0)
            g_mismatch++;
    }
    return 0;
}

int main(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/pm_audit_log_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    char path[300];
    snprintf(path, sizeof path, "%s/s", dir);
    pm_ctx_t *ctx = pm_ctx_new();
    pm_store_t *st = NULL;
    CHECK(pm_store_init(ctx, path) == 0);
    CHECK(pm_store_open(ctx, path, PM_STORE_RDONLY, &st) == 0);
    if (!st) {
        fprintf(stderr, "%s\n", pm_ctx_errmsg(ctx));
        return check_summary("test_audit_log");
    }
    CHECK(pm_audit_log_open(st, &g_log) == 0);
    pthread_t th[THREADS];
    for (long t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, worker, (void *)t);
    /* another writer of the same log meanwhile (as the CLI would be) */
    pm_audit_entry_t side = {"local:x", PM_TIER_STEWARD, NULL, "count", "--cohort all"};
    int64_t side_id = 0;
    CHECK(pm_audit_append(st, &side, &side_id) == 0 && side_id > 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    CHECK(g_bad == 0);
    int64_t commits = 0, entries = 0;
    pm_audit_log_stats(g_log, &commits, &entries);
    CHECK(entries == 2 * THREADS * PER_THREAD);
    CHECK_MSG(commits < entries, "%lld commits for %lld entries", (long long)commits,
              (long long)entries);
    pm_audit_log_close(g_log);

    int64_t n = 0, bad = 0;
    CHECK(pm_audit_verify(st, &n, &bad) == 0);
    CHECK(n == 2 * THREADS * PER_THREAD + 1);
    CHECK(pm_audit_each(st, 0, row_cb, NULL) == 0);
    CHECK(g_results == THREADS * PER_THREAD);
    CHECK(g_mismatch == 0);
    pm_store_close(st);
    pm_ctx_free(ctx);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    return check_summary("test_audit_log");
}
