/* test_policy.c - tiers, small-count release, complementary suppression, k from settings,
 * frequency release, Beacon threshold, budgets and cached answers, store settings. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "catalog/cat_audit.h"
#include "catalog/cat_cohort.h"
#include "catalog/cat_policy.h"
#include "catalog/catalog.h"
#include "check.h"
#include "promise/access.h"
#include "promise/audit.h"
#include "promise/cohort.h"
#include "promise/policy.h"
#include "promise/promise.h"

enum { E = PM_CELL_EXACT, S = PM_CELL_SMALL, X = PM_CELL_MASKED };

static void test_tiers(void)
{
    CHECK(pm_tier_parse("public") == PM_TIER_PUBLIC);
    CHECK(pm_tier_parse("Registered") == PM_TIER_REGISTERED);
    CHECK(pm_tier_parse("project") == PM_TIER_PROJECT);
    CHECK(pm_tier_parse("STEWARD") == PM_TIER_STEWARD);
    CHECK(pm_tier_parse("admin") == PM_EUSAGE);
    CHECK(pm_tier_parse(NULL) == PM_EUSAGE);
    CHECK_STR(pm_tier_name(PM_TIER_REGISTERED), "registered");
    CHECK_STR(pm_tier_name(17), "?");
    CHECK(pm_policy_local_tier() == PM_TIER_STEWARD);
    pm_ctx_t *ctx = pm_ctx_new();
    CHECK(pm_policy_as_tier(ctx, PM_TIER_STEWARD, PM_TIER_PUBLIC) == PM_TIER_PUBLIC);
    CHECK(pm_policy_as_tier(ctx, PM_TIER_STEWARD, PM_TIER_STEWARD) == PM_TIER_STEWARD);
    CHECK(pm_policy_as_tier(ctx, PM_TIER_REGISTERED, PM_TIER_PUBLIC) == PM_TIER_PUBLIC);
    CHECK(pm_policy_as_tier(ctx, PM_TIER_REGISTERED, PM_TIER_STEWARD) == PM_EACCES);
    CHECK_STR(pm_ctx_errmsg(ctx), "tier 'registered' cannot act as the higher tier 'steward'");
    CHECK(pm_policy_as_tier(ctx, PM_TIER_PUBLIC, PM_TIER_REGISTERED) == PM_EACCES);
    CHECK(pm_policy_as_tier(ctx, PM_TIER_STEWARD, 9) == PM_EUSAGE);
    pm_ctx_free(ctx);
}

static void test_count(void)
{
    pm_policy_t reg = {PM_TIER_REGISTERED, 5, 5, 20, 0}, pub = {PM_TIER_PUBLIC, 5, 5, 20, 0},
                stw = {PM_TIER_STEWARD, 5, 5, 20, 0}, k1 = {PM_TIER_PUBLIC, 1, 5, 20, 0}, k10 = {PM_TIER_REGISTERED, 10, 5, 20, 0};
    for (int64_t n = 0; n < 20; n++) {
        pm_cell_t c = pm_policy_release_count(&reg, n);
        int small = n >= 1 && n < 5;
        CHECK(c.state == (small ? S : E));
        CHECK(c.value == (small ? -1 : n));
        CHECK(pm_policy_release_count(&pub, n).state == c.state);
        CHECK(pm_policy_release_count(&stw, n).state == E && pm_policy_release_count(&stw, n).value == n);
        CHECK(pm_policy_release_count(&k1, n).state == E);
        CHECK(pm_policy_release_count(&k10, n).state == (n >= 1 && n < 10 ? S : E));
    }
}

/* Runs the suppression and compares with expected states. */
static void check_states(const int64_t *v, size_t R, size_t C, int ra, int ca, int k,
                         const int *want, int line)
{
    int st[64];
    CHECK(pm_policy_suppress(v, R, C, ra, ca, k, st) == 0);
    for (size_t i = 0; i < R * C; i++)
        CHECK_MSG(st[i] == want[i], "line %d: cell %zu (value %lld) is %d, want %d", line, i,
                  (long long)v[i], st[i], want[i]);
}
#define STATES(v, R, C, ra, ca, k, ...)                                 \
    do {                                                                \
        const int want_[] = {__VA_ARGS__};                              \
        check_states(v, R, C, ra, ca, k, want_, __LINE__);              \
    } while (0)

static void test_one_dim(void)
{
    /* cells then total */
    int64_t a[] = {10, 20, 30};
    STATES(a, 3, 1, 1, 0, 5, E, E, E);
    int64_t b[] = {3, 20, 23}; /* one small cell: the other is hidden too */
    STATES(b, 3, 1, 1, 0, 5, S, X, E);
    int64_t c[] = {3, 30, 20, 53}; /* the next-smallest, not the first */
    STATES(c, 4, 1, 1, 0, 5, S, E, X, E);
    int64_t d[] = {3, 4, 30, 37}; /* two small cells: 3+4=7 leaves each a range */
    STATES(d, 4, 1, 1, 0, 5, S, S, E, E);
    int64_t e[] = {1, 1, 100, 102}; /* 1+1=2 would pin both at 1 */
    STATES(e, 4, 1, 1, 0, 5, S, S, X, E);
    int64_t f[] = {4, 4, 0, 8}; /* 4+4=8 pins both; only a zero is left to hide */
    STATES(f, 4, 1, 1, 0, 5, S, S, X, E);
    int64_t g[] = {0, 0, 10, 10}; /* zeros stay zeros */
    STATES(g, 4, 1, 1, 0, 5, E, E, E, E);
    int64_t h[] = {2, 1, 0, 3}; /* a small total: everything small, nothing derivable */
    STATES(h, 4, 1, 1, 0, 5, S, S, E, S);
    int64_t i[] = {3, 20, 23}; /* non-additive (source): no margin to derive from */
    STATES(i, 3, 1, 0, 0, 5, S, E, E);
    int64_t j[] = {3, 20, 23}; /* k = 1: nothing hidden */
    STATES(j, 3, 1, 1, 0, 1, E, E, E);
    int64_t k[] = {9, 20, 29}; /* k = 10 */
    STATES(k, 3, 1, 1, 0, 10, S, X, E);
    /* hiding 5 (known >= k) still pins 1 = 6 - 5, and nothing else is left:
     * the small cell itself is shown as "x" (no range promised) */
    int64_t l[] = {1, 5, 6};
    STATES(l, 3, 1, 1, 0, 5, X, X, E);
    int64_t m[] = {1, 5, 0, 6};
    STATES(m, 4, 1, 1, 0, 5, X, X, E, E);
    int64_t n[] = {7};
    STATES(n, 1, 1, 1, 0, 5, E);
    int64_t o[] = {3};
    STATES(o, 1, 1, 1, 0, 5, S);
}

/* Independent check of one additive line: the attacker's exact range for
 * each "<k" cell given the released cells, the margin, <k in 1..k-1 and
 * x in k..inf (or 0..inf for a hidden zero). Returns 1 when every small
 * cell keeps at least two possible values. */
static int line_safe(const int64_t *v, const int *st, const size_t *idx, size_t n, int k)
{
    size_t mg = idx[n - 1];
    if (k <= 2 || st[mg] != E) /* "<2" is 1 by itself */
        return 1; /* margin hidden too: the line is unconstrained here */
    double rest = (double)v[mg], lo = 0, hi = 0;
    for (size_t m = 0; m + 1 < n; m++) {
        size_t c = idx[m];
        if (st[c] == E)
            rest -= (double)v[c];
        else if (st[c] == S) {
            lo += 1;
            hi += k - 1;
        } else {
            lo += v[c] >= k ? k : 0;
            hi += 1e18;
        }
    }
    for (size_t m = 0; m + 1 < n; m++) {
        size_t c = idx[m];
        if (st[c] != S)
            continue;
        double olo = lo - 1, ohi = hi - (k - 1);
        double clo = rest - ohi > 1 ? rest - ohi : 1, chi = rest - olo < k - 1 ? rest - olo : k - 1;
        if (chi - clo < 1)
            return 0;
    }
    return 1;
}

static unsigned rng_state = 12345;
static unsigned rnd(unsigned n)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 16) % n;
}

static void test_random(void)
{
    /* one dimension: every pattern of 2..5 cells from a small range */
    for (int t = 0; t < 3000; t++) {
        size_t n = 2 + rnd(4);
        int k = 2 + (int)rnd(5);
        int64_t v[8];
        int st[8];
        int64_t tot = 0;
        for (size_t i = 0; i < n; i++)
            tot += v[i] = rnd(3) == 0 ? 0 : (int64_t)rnd(2u * (unsigned)k + 2);
        v[n] = tot;
        CHECK(pm_policy_suppress(v, n + 1, 1, 1, 0, k, st) == 0);
        size_t idx[8];
        for (size_t i = 0; i <= n; i++)
            idx[i] = i;
        int ok = line_safe(v, st, idx, n + 1, k);
        for (size_t i = 0; i <= n; i++) {
            ok &= (v[i] >= 1 && v[i] < k) ? st[i] != E : st[i] != S; /* small is never exact */
            ok &= st[i] != X || i < n;                      /* the total is never masked */
        }
        CHECK_MSG(ok, "case %d: k=%d n=%zu", t, k, n);
        /* deterministic */
        int st2[8];
        pm_policy_suppress(v, n + 1, 1, 1, 0, k, st2);
        CHECK(memcmp(st, st2, (n + 1) * sizeof *st) == 0);
    }
    /* two dimensions: every row and every column is safe on its own */
    for (int t = 0; t < 2000; t++) {
        size_t R = 2 + rnd(3), C = 2 + rnd(3); /* inner */
        size_t RR = R + 1, CC = C + 1;
        int k = 3 + (int)rnd(3);
        int64_t v[64] = {0};
        int st[64];
        for (size_t i = 0; i < R; i++)
            for (size_t j = 0; j < C; j++)
                v[i * CC + j] = rnd(4) == 0 ? 0 : (int64_t)rnd(3u * (unsigned)k);
        for (size_t i = 0; i < R; i++)
            for (size_t j = 0; j < C; j++) {
                v[i * CC + C] += v[i * CC + j];
                v[R * CC + j] += v[i * CC + j];
                v[R * CC + C] += v[i * CC + j];
            }
        CHECK(pm_policy_suppress(v, RR, CC, 1, 1, k, st) == 0);
        int ok = 1;
        size_t idx[8];
        for (size_t j = 0; j < CC; j++) {
            for (size_t i = 0; i < RR; i++)
                idx[i] = i * CC + j;
            ok &= line_safe(v, st, idx, RR, k);
        }
        for (size_t i = 0; i < RR; i++) {
            for (size_t j = 0; j < CC; j++)
                idx[j] = i * CC + j;
            ok &= line_safe(v, st, idx, CC, k);
        }
        for (size_t c = 0; c < RR * CC; c++)
            ok &= (v[c] >= 1 && v[c] < k) ? st[c] != E : st[c] != S;
        ok &= st[RR * CC - 1] != X;
        CHECK_MSG(ok, "2-D case %d: %zux%zu k=%d", t, R, C, k);
        if (!ok)
            for (size_t i = 0; i < RR; i++) {
                for (size_t j = 0; j < CC; j++)
                    fprintf(stderr, "  %3lld%c", (long long)v[i * CC + j], "ESX"[st[i * CC + j]]);
                fputc('\n', stderr);
            }
    }
}

static void test_two_dim(void)
{
    /* 2x2 inner with margins:   3  10 | 13
     *                           10 10 | 20
     *                           13 20 | 33   -> hide 3 and a rectangle around it */
    int64_t a[] = {3, 10, 13, 10, 10, 20, 13, 20, 33};
    int st[9];
    CHECK(pm_policy_suppress(a, 3, 3, 1, 1, 5, st) == 0);
    CHECK(st[0] == S);
    /* row 0 and column 0 each need a second hidden cell, and their partners too */
    CHECK(st[1] == X && st[3] == X && st[4] == X);
    CHECK(st[2] == E && st[5] == E && st[6] == E && st[7] == E && st[8] == E);
    /* source x sex: rows (sources) not additive, columns (sexes) are */
    int64_t b[] = {3, 10, 13, 10, 10, 20, 13, 20, 30};
    CHECK(pm_policy_suppress(b, 3, 3, 0, 1, 5, st) == 0);
    CHECK(st[0] == S && st[1] == X && st[3] == E && st[4] == E);
    /* nothing small: nothing hidden */
    int64_t c[] = {5, 10, 15, 10, 10, 20, 15, 20, 35};
    CHECK(pm_policy_suppress(c, 3, 3, 1, 1, 5, st) == 0);
    for (int i = 0; i < 9; i++)
        CHECK(st[i] == E);
}

static void test_release_table(void)
{
    pm_ctx_t *ctx = pm_ctx_new();
    char *lab0[] = {"F", "M", "NA"};
    int64_t cells[] = {3, 20, 0, 23};
    pm_cohort_table_t t = {.ndim = 1, .field = {"sex", NULL}, .nlab = {3, 0},
                           .lab = {lab0, NULL}, .additive = {1, 0}, .cell = cells};
    pm_policy_t reg = {PM_TIER_REGISTERED, 5, 5, 20, 0}, stw = {PM_TIER_STEWARD, 5, 5, 20, 0};
    pm_released_t *r = NULL;
    CHECK(pm_policy_release_table(ctx, &reg, &t, &r) == 0);
    if (r) {
        CHECK(r->ncells == 4 && r->ndim == 1 && r->k == 5 && r->tier == PM_TIER_REGISTERED);
        CHECK_STR(r->field[0], "sex");
        CHECK_STR(r->lab[0][2], "NA");
        CHECK(r->lab[0][0] != lab0[0]); /* copied */
        CHECK(r->cell[0].state == S && r->cell[0].value == -1);
        CHECK(r->cell[1].state == X && r->cell[1].value == -1);
        CHECK(r->cell[2].state == E && r->cell[2].value == 0);
        CHECK(r->cell[3].state == E && r->cell[3].value == 23);
        CHECK(r->n_small == 1 && r->n_masked == 1);
    }
    pm_released_free(r);
    CHECK(pm_policy_release_table(ctx, &stw, &t, &r) == 0);
    if (r) {
        for (size_t i = 0; i < 4; i++)
            CHECK(r->cell[i].state == E && r->cell[i].value == cells[i]);
        CHECK(r->n_small == 0 && r->n_masked == 0);
    }
    pm_released_free(r);
    pm_released_free(NULL);
    int64_t one[] = {4};
    pm_cohort_table_t t0 = {.ndim = 0, .cell = one};
    CHECK(pm_policy_release_table(ctx, &reg, &t0, &r) == 0);
    CHECK(r && r->ncells == 1 && r->cell[0].state == S);
    pm_released_free(r);
    pm_ctx_free(ctx);
}

static void test_settings(void)
{
    char dir[256], path[300];
    snprintf(dir, sizeof dir, "%s/pmpolicy.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/st", dir);
    pm_ctx_t *ctx = pm_ctx_new();
    pm_store_t *st = NULL;
    CHECK(pm_store_init(ctx, path) == 0);
    CHECK(pm_store_open(ctx, path, PM_STORE_RDWR, &st) == 0);
    if (st) {
        pm_policy_t p;
        CHECK(pm_policy_for_store(st, PM_TIER_REGISTERED, &p) == 0);
        CHECK(p.k == 5 && p.tier == PM_TIER_REGISTERED);
        CHECK(pm_catalog_meta_set(st, "k", "11") == 0);
        CHECK(pm_policy_for_store(st, PM_TIER_PUBLIC, &p) == 0);
        CHECK(p.k == 11 && p.tier == PM_TIER_PUBLIC);
        CHECK(pm_policy_release_count(&p, 10).state == S);
        CHECK(pm_policy_release_count(&p, 11).state == E);
        CHECK(pm_catalog_meta_set(st, "k", "five") == 0);
        CHECK(pm_policy_for_store(st, PM_TIER_PUBLIC, &p) == PM_ECORRUPT);
        CHECK(pm_catalog_meta_set(st, "k", "0") == 0);
        CHECK(pm_policy_for_store(st, PM_TIER_PUBLIC, &p) == PM_ECORRUPT);
        CHECK(pm_catalog_meta_set(st, "k", "1") == 0);
        CHECK(pm_policy_for_store(st, PM_TIER_PUBLIC, &p) == 0 && p.k == 1);
        CHECK(p.beacon_min_ac == 5 && p.beacon_budget == 20 && p.beacon_edge_band == 10);
        CHECK(pm_policy_setting_set(st, "beacon_edge_band", "0") == 0);
        CHECK(pm_policy_for_store(st, PM_TIER_PUBLIC, &p) == 0 && p.beacon_edge_band == 0);
        CHECK(pm_policy_setting_set(st, "beacon_budget", "7") == 0);
        CHECK(pm_policy_setting_set(st, "beacon_min_ac", "9") == 0);
        CHECK(pm_policy_setting_set(st, "k", "1") == PM_EUSAGE);
        CHECK(pm_policy_for_store(st, PM_TIER_PUBLIC, &p) == 0);
        CHECK(p.beacon_min_ac == 9 && p.beacon_budget == 7 && p.k == 1);
        CHECK(pm_catalog_meta_set(st, "beacon_budget", "0") == 0);
        CHECK(pm_policy_for_store(st, PM_TIER_PUBLIC, &p) == PM_ECORRUPT);
    }
    pm_store_close(st);
    pm_ctx_free(ctx);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static void test_allows(void)
{
    pm_ctx_t *ctx = pm_ctx_new();
    pm_policy_t pub = {PM_TIER_PUBLIC, 5, 5, 20, 0}, reg = {PM_TIER_REGISTERED, 5, 5, 20, 0};
    CHECK(pm_policy_allows(ctx, &pub, PM_RELEASE_COUNT) == PM_EACCES);
    CHECK(strstr(pm_ctx_errmsg(ctx), "public tier") != NULL);
    CHECK(pm_policy_allows(ctx, &pub, PM_RELEASE_FREQ) == 0);
    CHECK(pm_policy_allows(ctx, &pub, PM_RELEASE_BEACON) == 0);
    CHECK(pm_policy_allows(ctx, &reg, PM_RELEASE_COUNT) == 0);
    CHECK(pm_policy_allows(ctx, &reg, 7) == PM_EINTERNAL);
    pm_ctx_free(ctx);
}

static void test_freq(void)
{
    pm_policy_t pub = {PM_TIER_PUBLIC, 10, 5, 20, 0}, reg = {PM_TIER_REGISTERED, 10, 5, 20, 0},
                stw = {PM_TIER_STEWARD, 10, 5, 20, 0};
    pm_freq_cell_t f = pm_policy_freq_release(&pub, 3, 100);
    CHECK(f.ac.state == S && f.ac.value == -1 && f.af < 0 && f.an == 100 && f.threshold == 5);
    f = pm_policy_freq_release(&pub, 4, 100);
    CHECK(f.ac.state == S);
    f = pm_policy_freq_release(&pub, 5, 100);
    CHECK(f.ac.state == E && f.ac.value == 5 && f.af > 0.0499 && f.af < 0.0501);
    f = pm_policy_freq_release(&pub, 97, 100); /* the other allele is rare: 3 copies */
    CHECK(f.ac.state == X && f.ac.value == -1 && f.af < 0);
    f = pm_policy_freq_release(&pub, 95, 100);
    CHECK(f.ac.state == E && f.ac.value == 95);
    f = pm_policy_freq_release(&pub, 0, 100);
    CHECK(f.ac.state == E && f.ac.value == 0 && f.af == 0.0);
    f = pm_policy_freq_release(&pub, 100, 100);
    CHECK(f.ac.state == E && f.ac.value == 100);
    f = pm_policy_freq_release(&pub, 0, 0);
    CHECK(f.ac.state == E && f.af < 0);
    f = pm_policy_freq_release(&reg, 7, 100); /* registered: k = 10 */
    CHECK(f.ac.state == S && f.threshold == 10);
    f = pm_policy_freq_release(&reg, 10, 100);
    CHECK(f.ac.state == E);
    f = pm_policy_freq_release(&stw, 1, 100);
    CHECK(f.ac.state == E && f.ac.value == 1 && f.threshold == 1);
}

static pm_bitset_t *set_of(size_t n, const int *v, size_t m)
{
    pm_bitset_t *b = pm_bitset_new(n);
    for (size_t i = 0; b && i < m; i++)
        pm_bitset_set(b, (size_t)v[i]);
    return b;
}

/* One answer; returns exists (or -1 on error) and sets *cached. */
static int ask(pm_store_t *st, const pm_policy_t *p, const char *user, const char *q,
               const int *v, size_t m, int *cached)
{
    pm_bitset_t *b = set_of((size_t)pm_store_n_individuals(st), v, m);
    int exists = -1, c = -1;
    int rc = pm_policy_beacon_answer(st, p, user, q, b, &exists, &c);
    pm_bitset_free(b);
    if (cached)
        *cached = c;
    return rc < 0 ? -1 : exists;
}

/* A new store under a new temporary directory (dir, path: at least 300
 * bytes) with n individuals p00, p01 ...; the last withdrawn when asked. */
static void people_store(pm_ctx_t *ctx, const char *tag, int n, int last_withdrawn, char *dir,
                         char *path)
{
    snprintf(dir, 256, "%s/%s.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", tag);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, 300, "%s/st", dir);
    pm_store_t *st = NULL;
    CHECK(pm_store_init(ctx, path) == 0);
    CHECK(pm_store_open(ctx, path, PM_STORE_RDWR, &st) == 0);
    for (int i = 0; st && i < n; i++) {
        char ps[32];
        snprintf(ps, sizeof ps, "p%02d", i);
        CHECK(pm_cat_test_add_individual(st, ps, "F", "1970-01-01", "01", NULL, NULL,
                                         last_withdrawn && i == n - 1) == i);
    }
    pm_store_close(st);
}

static void test_beacon(void)
{
    char dir[300], path[300];
    pm_ctx_t *ctx = pm_ctx_new();
    pm_store_t *st = NULL;
    people_store(ctx, "pmbeacon", 30, 1, dir, path);
    /* the server's handles are read-only: budgets must still be spent */
    st = NULL;
    CHECK(pm_store_open(ctx, path, PM_STORE_RDONLY, &st) == 0);
    if (!st) {
        pm_ctx_free(ctx);
        return;
    }
    pm_policy_t pub = {PM_TIER_PUBLIC, 5, 3, 2, 0}, stw = {PM_TIER_STEWARD, 5, 3, 2, 0};
    int c;
    const int four[] = {0, 1, 2, 3}, six[] = {0, 1, 2, 3, 4, 5}, two[] = {10, 11},
              wd[] = {7, 8, 29}, one[] = {12};

    /* threshold: 4 carriers >= 3 -> yes; each carrier spends one unit */
    CHECK(ask(st, &pub, "alice", "q1", four, 4, &c) == 1 && c == 0);
    CHECK(pm_policy_beacon_spent(st, "alice", 0) == 1);
    CHECK(pm_policy_beacon_spent(st, "alice", 3) == 1);
    CHECK(pm_policy_beacon_spent(st, "alice", 4) == 0);
    /* cache hit: same answer, nothing spent */
    CHECK(ask(st, &pub, "alice", "q1", four, 4, &c) == 1 && c == 1);
    CHECK(ask(st, &pub, "alice", "q1", six, 6, &c) == 1 && c == 1);
    CHECK(pm_policy_beacon_spent(st, "alice", 0) == 1);
    CHECK(pm_policy_beacon_spent(st, "alice", 4) == 0);
    /* second positive answer exhausts 0..3 (budget 2) */
    CHECK(ask(st, &pub, "alice", "q2", four, 4, &c) == 1 && c == 0);
    CHECK(pm_policy_beacon_spent(st, "alice", 2) == 2);
    /* exhausted carriers stop contributing: only 4 and 5 are left, 2 < 3 */
    CHECK(ask(st, &pub, "alice", "q3", six, 6, &c) == 0 && c == 0);
    CHECK(pm_policy_beacon_spent(st, "alice", 4) == 0); /* a no spends nothing */
    CHECK(pm_policy_beacon_spent(st, "alice", 0) == 2);
    /* a no that depended on nobody is not stored: asked again, it is worked
     * out again, and stays no (budgets only run down) */
    CHECK(ask(st, &pub, "alice", "q3", six, 6, &c) == 0 && c == 0);
    CHECK(pm_policy_beacon_spent(st, "alice", 4) == 0);
    /* budgets are per user */
    CHECK(ask(st, &pub, "bob", "q3", six, 6, &c) == 1 && c == 0);
    CHECK(pm_policy_beacon_spent(st, "bob", 5) == 1);
    /* rare: 2 carriers < 3 */
    CHECK(ask(st, &pub, "bob", "q4", two, 2, &c) == 0);
    CHECK(pm_policy_beacon_spent(st, "bob", 10) == 0);
    /* withdrawn individual 29 never contributes: 2 left < 3 */
    CHECK(ask(st, &pub, "bob", "q5", wd, 3, &c) == 0);
    /* steward: plain answer, not cached, nothing spent */
    CHECK(ask(st, &stw, "root", "q6", one, 1, &c) == 1 && c == 0);
    CHECK(ask(st, &stw, "root", "q6", one, 1, &c) == 1 && c == 0);
    CHECK(pm_policy_beacon_spent(st, "root", 12) == 0);
    /* anonymous callers share the user "-" */
    CHECK(ask(st, &pub, NULL, "q1", six, 6, &c) == 1 && c == 0);
    CHECK(ask(st, &pub, "", "q1", four, 4, &c) == 1 && c == 1);
    CHECK(pm_policy_beacon_spent(st, NULL, 5) == 1);
    CHECK(pm_policy_beacon_spent(st, "-", 5) == 1);

    /* budget exhaustion after exactly N positive answers (N = 5, threshold 1) */
    pm_policy_t p5 = {PM_TIER_PUBLIC, 5, 1, 5, 0};
    for (int i = 0; i < 7; i++) {
        char q[16];
        snprintf(q, sizeof q, "n%d", i);
        int e = ask(st, &p5, "carol", q, one, 1, &c);
        CHECK_MSG(e == (i < 5), "answer %d is %d", i, e);
    }
    CHECK(pm_policy_beacon_spent(st, "carol", 12) == 5);
    CHECK(ask(st, &p5, "carol", "n0", one, 1, &c) == 1 && c == 1); /* still cached */

    /* forget 0: the positive answers 0 joined go (alice q1, q2; bob q3; "-" q1); carol's stay */
    CHECK(pm_policy_beacon_forget(st, 0) == 4);
    CHECK(pm_policy_beacon_spent(st, "alice", 0) == 0);
    CHECK(pm_policy_beacon_spent(st, "alice", 1) == 2);
    CHECK(ask(st, &pub, "bob", "q3", six, 6, &c) == 1 && c == 0);
    CHECK(ask(st, &pub, "bob", "q4", two, 2, &c) == 0 && c == 0); /* a no is not stored */
    CHECK(ask(st, &p5, "carol", "n1", one, 1, &c) == 1 && c == 1);
    /* q3 was a no that spent nothing, so it was not stored: worked out
     * afresh, 0 (whose units the forget reset; not withdrawn in this
     * test) joins 4 and 5 */
    CHECK(ask(st, &pub, "alice", "q3", six, 6, &c) == 1 && c == 0);
    CHECK(ask(st, &pub, "alice", "q1", four, 4, &c) == 0 && c == 0); /* asked afresh */

    /* misuse */
    pm_bitset_t *bad = pm_bitset_new(7);
    int e;
    CHECK(pm_policy_beacon_answer(st, &pub, "alice", "q9", bad, &e, NULL) == PM_EINTERNAL);
    pm_bitset_free(bad);
    CHECK(ask(st, &pub, "alice", "", four, 4, NULL) == -1);
    pm_store_close(st);

    /* a read-write handle spends through its own connection */
    st = NULL;
    CHECK(pm_store_open(ctx, path, PM_STORE_RDWR, &st) == 0);
    if (st) {
        CHECK(ask(st, &pub, "dave", "q1", six, 6, &c) == 1 && c == 0);
        CHECK(pm_policy_beacon_spent(st, "dave", 1) == 1);
        CHECK(ask(st, &pub, "dave", "q1", six, 6, &c) == 1 && c == 1);
    }
    pm_store_close(st);
    pm_ctx_free(ctx);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* The ledger in memory (the server's): many threads on one ledger, each
 * with its own read-only handle; writes queued and flushed; a withdrawal
 * made through another handle seen; state reloaded from the file; writes
 * committed by an attached audit log. */
typedef struct lworker {
    pm_beacon_ledger_t *l;
    const char *path;
    int id, errors, yes;
} lworker_t;

enum { LQ = 50, LTHREADS = 4 };

static void *ledger_worker(void *arg)
{
    lworker_t *w = arg;
    pm_ctx_t *ctx = pm_ctx_new();
    pm_store_t *st = NULL;
    if (pm_store_open(ctx, w->path, PM_STORE_RDONLY, &st) < 0) {
        w->errors++;
        pm_ctx_free(ctx);
        return NULL;
    }
    pm_policy_t p = {PM_TIER_PUBLIC, 5, 3, 1000, 0};
    pm_bitset_t *b = pm_bitset_new((size_t)pm_store_n_individuals(st));
    for (int i = 0; b && i < 10; i++)
        pm_bitset_set(b, (size_t)i);
    for (int q = 0; b && q < LQ; q++) {
        char qs[32];
        snprintf(qs, sizeof qs, "t%d-q%d", w->id, q);
        int e = 0, c = 0;
        if (pm_beacon_ledger_answer(w->l, st, &p, NULL, qs, b, &e, &c) < 0 || c)
            w->errors++;
        w->yes += e;
    }
    pm_bitset_free(b);
    pm_store_close(st);
    pm_ctx_free(ctx);
    return NULL;
}

static int lask(pm_beacon_ledger_t *l, pm_store_t *st, const char *q, int lo, int hi, int *c)
{
    pm_policy_t p = {PM_TIER_PUBLIC, 5, 3, 1000, 0};
    pm_bitset_t *b = pm_bitset_new((size_t)pm_store_n_individuals(st));
    for (int i = lo; b && i < hi; i++)
        pm_bitset_set(b, (size_t)i);
    int e = -1;
    int rc = pm_beacon_ledger_answer(l, st, &p, NULL, q, b, &e, c);
    pm_bitset_free(b);
    return rc < 0 ? -1 : e;
}

static void test_beacon_ledger(void)
{
    char dir[300], path[300];
    pm_ctx_t *ctx = pm_ctx_new();
    pm_store_t *st = NULL, *rw = NULL;
    people_store(ctx, "pmledger", 40, 0, dir, path);
    CHECK(pm_store_open(ctx, path, PM_STORE_RDONLY, &st) == 0);
    pm_beacon_ledger_t *l = NULL;
    CHECK(st && pm_beacon_ledger_open(st, &l) == 0);
    if (!l) {
        pm_store_close(st);
        pm_ctx_free(ctx);
        return;
    }
    pm_ctx_t *lctx = pm_ctx_new(); /* the ledger's own writes, as a server flushes them */
    /* not attached to an audit log: each answer is written before it returns */
    int c = -1;
    CHECK(lask(l, st, "solo", 0, 10, &c) == 1 && c == 0);
    CHECK(pm_policy_beacon_spent(st, NULL, 0) == 1);
    /* four threads, one ledger: every spend counted once */
    pthread_t th[LTHREADS];
    lworker_t w[LTHREADS];
    for (int i = 0; i < LTHREADS; i++) {
        w[i] = (lworker_t){l, path, i, 0, 0};
        CHECK(pthread_create(&th[i], NULL, ledger_worker, &w[i]) == 0);
    }
    int yes = 0, errors = 0;
    for (int i = 0; i < LTHREADS; i++) {
        pthread_join(th[i], NULL);
        yes += w[i].yes;
        errors += w[i].errors;
    }
    CHECK_MSG(errors == 0 && yes == LTHREADS * LQ, "%d errors, %d yes", errors, yes);
    CHECK(pm_beacon_ledger_flush(l, st) == 0);
    CHECK(pm_policy_beacon_spent(st, NULL, 9) == 1 + LTHREADS * LQ);
    CHECK(pm_policy_beacon_spent(st, NULL, 10) == 0);
    CHECK(lask(l, st, "t0-q0", 0, 10, &c) == 1 && c == 1);
    CHECK(lask(l, st, "t0-q0", 0, 0, &c) == 1 && c == 1); /* the stored answer */
    CHECK(lask(l, st, "rare", 10, 12, &c) == 0 && c == 0);

    /* another process withdraws individual 0 (as `promise forget` does) */
    CHECK(pm_store_open(ctx, path, PM_STORE_RDWR, &rw) == 0);
    int changed = 0;
    CHECK(rw && pm_access_withdraw(rw, 0, &changed) == 0 && changed == 1);
    CHECK(rw && pm_policy_beacon_forget(rw, 0) == 1 + LTHREADS * LQ);
    pm_store_close(rw);
    /* the ledger sees it: "-"'s positive answers went with 0, 0's units too */
    CHECK(lask(l, st, "t0-q0", 0, 10, &c) == 1 && c == 0);
    CHECK(pm_policy_beacon_spent(st, NULL, 0) == 0);
    CHECK(pm_policy_beacon_spent(st, NULL, 1) == 2 + LTHREADS * LQ);

    /* an attached audit log commits the queue with its entries */
    pm_audit_log_t *log = NULL;
    CHECK(pm_audit_log_open(st, &log) == 0);
    if (log) {
        pm_audit_log_attach_beacon(log, l);
        pm_audit_entry_t e = {.who = "-", .tier = PM_TIER_PUBLIC, .command = "test",
                              .query = "fresh"};
        pm_audit_pending_t *req = NULL;
        CHECK(pm_audit_log_request(log, lctx, &e, &req) == 0);
        CHECK(lask(l, st, "fresh", 20, 25, &c) == 1 && c == 0);
        CHECK(pm_policy_beacon_spent(st, NULL, 20) == 0); /* queued, not yet written */
        CHECK(req && pm_audit_log_result(log, lctx, req, "ok", 5, 1, NULL, NULL) == 0);
        CHECK(pm_policy_beacon_spent(st, NULL, 20) == 1);
        pm_audit_log_close(log);
    }
    pm_beacon_ledger_close(l);

    /* reloaded from the file */
    CHECK(pm_beacon_ledger_open(st, &l) == 0);
    CHECK(l && lask(l, st, "t0-q0", 0, 10, &c) == 1 && c == 1);
    CHECK(l && lask(l, st, "t3-q49", 1, 10, &c) == 1 && c == 0); /* dropped by the forget */
    CHECK(l && lask(l, st, "fresh", 0, 0, &c) == 1 && c == 1);
    if (l)
        CHECK(pm_beacon_ledger_flush(l, st) == 0);
    pm_beacon_ledger_close(l);
    pm_store_close(st);
    pm_ctx_free(lctx);
    pm_ctx_free(ctx);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* A Beacon spend queued for the audit log's commit survives a commit that
 * is rolled back: it is written by the next one. */
static void test_ledger_requeue(void)
{
    char dir[300], path[300];
    pm_ctx_t *ctx = pm_ctx_new();
    people_store(ctx, "pmrequeue", 5, 0, dir, path);
    pm_store_t *st = NULL;
    CHECK(pm_store_open(ctx, path, PM_STORE_RDONLY, &st) == 0);
    pm_cataudit_db_t *a = NULL;
    pm_catpol_ops_t *o = pm_catpol_ops_new();
    CHECK(st && o && pm_cataudit_open(st, &a) == 0);
    if (a) {
        int64_t idx = 3, spent = 1;
        CHECK(pm_catpol_ops_add(o, "u", "q1", 1, &idx, &spent, 1) == 0);
        /* the commit fails (the table is gone) and is rolled back */
        sqlite3_exec(pm_cataudit_sqlite(a), "DROP TABLE beacon_answer", NULL, NULL, NULL);
        char err[512] = "";
        CHECK(pm_cataudit_commit(a, NULL, 0, NULL, o, err, sizeof err) < 0);
        pm_cataudit_close(a);
        a = NULL;
        /* reopened (the tables set up again), the next commit writes it */
        CHECK(pm_cataudit_open(st, &a) == 0);
        CHECK(a && pm_cataudit_commit(a, NULL, 0, NULL, o, err, sizeof err) == 0);
        pm_cataudit_close(a);
        CHECK(pm_catpol_spent(st, "u", 3) == 1);
    }
    pm_catpol_ops_free(o);
    pm_store_close(st);
    pm_ctx_free(ctx);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* The threshold's edge: counts in [min_ac, min_ac + band) answer yes with
 * probability 2^-(min_ac + band - count), by a keyed draw per question. */
static void test_beacon_edge(void)
{
    pm_policy_t p = {PM_TIER_PUBLIC, 5, 5, 1000000, 10}, off = p;
    off.beacon_edge_band = 0;
    CHECK(pm_policy_beacon_edge_p(&p, 0) == 0.0);
    CHECK(pm_policy_beacon_edge_p(&p, 4) == 0.0);
    CHECK(fabs(pm_policy_beacon_edge_p(&p, 5) - 1.0 / 1024) < 1e-15);
    CHECK(fabs(pm_policy_beacon_edge_p(&p, 13) - 0.25) < 1e-15);
    CHECK(fabs(pm_policy_beacon_edge_p(&p, 14) - 0.5) < 1e-15);
    CHECK(pm_policy_beacon_edge_p(&p, 15) == 1.0);
    CHECK(pm_policy_beacon_edge_p(&off, 4) == 0.0 && pm_policy_beacon_edge_p(&off, 5) == 1.0);
    pm_policy_t reg = p;
    reg.tier = PM_TIER_REGISTERED;
    CHECK(pm_policy_beacon_edge_p(&reg, 4) == 0.0 && pm_policy_beacon_edge_p(&reg, 5) == 1.0);

    char dir[300], path[300];
    pm_ctx_t *ctx = pm_ctx_new();
    pm_store_t *st = NULL;
    people_store(ctx, "pmedge", 20, 0, dir, path);
    CHECK(pm_store_open(ctx, path, PM_STORE_RDONLY, &st) == 0);
    if (!st) {
        pm_ctx_free(ctx);
        return;
    }
    int all[20];
    for (int i = 0; i < 20; i++)
        all[i] = i;
    enum { NQ = 120 };
    static const int counts[] = {4, 5, 13, 14, 15};
    int yes[5] = {0}, prev[NQ] = {0}, c, monotone = 1;
    for (int k = 0; k < 5; k++) {
        char user[16];
        snprintf(user, sizeof user, "u%d", counts[k]);
        for (int q = 0; q < NQ; q++) {
            char qs[32];
            snprintf(qs, sizeof qs, "g_variants:22:%d:A:G", 1000 + q);
            int e = ask(st, &p, user, qs, all, (size_t)counts[k], &c);
            CHECK(e >= 0 && c == 0);
            yes[k] += e == 1;
            if (prev[q] && e != 1)
                monotone = 0; /* one more carrier never turns a yes into a no */
            prev[q] = e == 1;
        }
    }
    CHECK(monotone);
    CHECK_MSG(yes[0] == 0, "below min_ac: %d yes", yes[0]);
    CHECK_MSG(yes[1] <= 3, "count 5: %d yes of %d (expect ~0)", yes[1], NQ);
    CHECK_MSG(yes[2] >= 12 && yes[2] <= 50, "count 13: %d yes of %d (expect ~%d)", yes[2], NQ,
              NQ / 4);
    CHECK_MSG(yes[3] >= 35 && yes[3] <= 85, "count 14: %d yes of %d (expect ~%d)", yes[3], NQ,
              NQ / 2);
    CHECK_MSG(yes[4] == NQ, "count 15: %d yes", yes[4]);
    /* below min_ac nothing is spent; in the band a no is spent like a yes */
    CHECK(pm_policy_beacon_spent(st, "u4", 0) == 0);
    CHECK(pm_policy_beacon_spent(st, "u5", 0) == NQ);
    CHECK(pm_policy_beacon_spent(st, "u5", 5) == 0);
    /* the draw is the store's, not the user's: another user at count 13
     * gets the same answers; and with the band off, 5 carriers say yes */
    int same = 1, e8[NQ];
    for (int q = 0; q < NQ; q++) {
        char qs[32];
        snprintf(qs, sizeof qs, "g_variants:22:%d:A:G", 1000 + q);
        e8[q] = ask(st, &p, "other", qs, all, 13, &c);
        CHECK(ask(st, &p, "u13", qs, all, 13, &c) == e8[q] && c == 1);
    }
    pm_store_close(st);
    st = NULL;
    CHECK(pm_store_open(ctx, path, PM_STORE_RDONLY, &st) == 0);
    for (int q = 0; st && q < NQ; q++) {
        char qs[32];
        snprintf(qs, sizeof qs, "g_variants:22:%d:A:G", 1000 + q);
        if (ask(st, &p, "third", qs, all, 13, &c) != e8[q])
            same = 0;
    }
    CHECK(same); /* the secret persists in the store */
    if (st) {
        char hex[80];
        CHECK(pm_store_setting(st, "beacon_secret", hex, sizeof hex) == 1 && strlen(hex) == 64);
        CHECK(ask(st, &off, "fourth", "g_variants:22:1000:A:G", all, 5, &c) == 1);
    }
    pm_store_close(st);
    pm_ctx_free(ctx);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static void test_setting_check(void)
{
    pm_ctx_t *ctx = pm_ctx_new();
    CHECK(pm_policy_setting_check(ctx, "k", "2") == 0);
    CHECK(pm_policy_setting_check(ctx, "k", "1") == PM_EUSAGE);
    CHECK(pm_policy_setting_check(ctx, "k", "5x") == PM_EUSAGE);
    CHECK(pm_policy_setting_check(ctx, "k", "") == PM_EUSAGE);
    CHECK(pm_policy_setting_check(ctx, "k", "+7") == PM_EUSAGE);
    CHECK(pm_policy_setting_check(ctx, "k", "1001") == PM_EUSAGE);
    CHECK(pm_policy_setting_check(ctx, "reference_date", "2025-12-31") == 0);
    CHECK(pm_policy_setting_check(ctx, "reference_date", "2025-02-29") == PM_EUSAGE);
    CHECK(pm_policy_setting_check(ctx, "reference_date", "20250101") == PM_EUSAGE);
    CHECK(pm_policy_setting_check(ctx, "beacon_min_ac", "1") == 0);
    CHECK(pm_policy_setting_check(ctx, "beacon_min_ac", "0") == PM_EUSAGE);
    CHECK(pm_policy_setting_check(ctx, "beacon_budget", "100") == 0);
    CHECK(pm_policy_setting_check(ctx, "beacon_budget", "-1") == PM_EUSAGE);
    CHECK(pm_policy_setting_check(ctx, "beacon_edge_band", "0") == 0);
    CHECK(pm_policy_setting_check(ctx, "beacon_edge_band", "1000") == 0);
    CHECK(pm_policy_setting_check(ctx, "beacon_edge_band", "1001") == PM_EUSAGE);
    CHECK(pm_policy_setting_check(ctx, "beacon_edge_band", "-1") == PM_EUSAGE);
    CHECK(pm_policy_setting_check(ctx, "schema_version", "2") == PM_EUSAGE);
    CHECK(strstr(pm_ctx_errmsg(ctx), "read-only") != NULL);
    CHECK(pm_policy_setting_check(ctx, "key_fingerprint", "x") == PM_EUSAGE);
    CHECK(pm_policy_setting_check(ctx, "colour", "red") == PM_EUSAGE);
    CHECK(strstr(pm_ctx_errmsg(ctx), "unknown setting") != NULL);
    size_t n = 0;
    while (pm_policy_setting_info(n))
        n++;
    CHECK(n == 10);
    pm_ctx_free(ctx);
}

int main(void)
{
    test_tiers();
    test_count();
    test_one_dim();
    test_two_dim();
    test_random();
    test_release_table();
    test_settings();
    test_allows();
    test_freq();
    test_beacon();
    test_beacon_edge();
    test_beacon_ledger();
    test_ledger_requeue();
    test_setting_check();
    return check_summary("test_policy");
}
