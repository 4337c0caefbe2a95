/*
 * gtstore_bench.c - size and counting speed of genotype segments on
 * synthetic data with linkage disequilibrium and a rare-heavy allele
 * frequency spectrum.
 *
 * Build (from the project root, without the rest of the library):
 *   gcc -std=gnu17 -O2 -Iinclude -Isrc -o /tmp/gtstore_bench bench/gtstore_bench.c \
 *       src/genotype/gt[a-z]*.c src/core/ctx.c src/core/fileio.c -lpthread -lm
 * Run:
 *   /tmp/gtstore_bench [N_SAMPLES [N_VARIANTS [OUT.gt]]]      (default 10000 20000)
 *
 * The model: sample haplotypes are mosaics of K founder haplotypes (each
 * haplotype switches founder with probability RHO per variant); a
 * "common" variant sits on one branch of a random coalescent tree over the
 * founders (a new tree every TREE_SPAN variants), so its founder carriers
 * are the leaves under that branch (neutral spectrum j/K, nested sets, LD);
 * a "private" variant (fraction PRIVATE) is carried by k random haplotypes
 * with P(k) ~ k^-1.5 (the rare-heavy tail); 0.1% of calls are missing.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "genotype/gtstore.h"

#define K 128
#define TREE_SPAN 3000
#define RHO 0.0005
#define PRIVATE 0.55
#define MISSING 0.001

static uint64_t rs = 88172645463325252ull;
static inline uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}
static inline double unif(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct node {
    uint64_t leaves[2];
    double len;
} node_t;

static node_t nodes[2 * K];
static int n_nodes;
static double total_len;

static void new_tree(void)
{
    int live[K], nl = K;
    double t = 0, birth[2 * K];
    n_nodes = 0;
    for (int i = 0; i < K; i++) {
        nodes[i].leaves[0] = nodes[i].leaves[1] = 0;
        nodes[i].leaves[i >> 6] |= 1ull << (i & 63);
        birth[i] = 0;
        live[i] = i;
    }
    n_nodes = K;
    double parent_time[2 * K];
    while (nl > 1) {
        t += -log1p(-unif()) / (nl * (nl - 1) / 2.0);
        int a = (int)(rnd() % nl), b = (int)(rnd() % (nl - 1));
        if (b >= a)
            b++;
        int na = live[a], nb = live[b];
        node_t *p = &nodes[n_nodes];
        p->leaves[0] = nodes[na].leaves[0] | nodes[nb].leaves[0];
        p->leaves[1] = nodes[na].leaves[1] | nodes[nb].leaves[1];
        parent_time[na] = parent_time[nb] = t;
        birth[n_nodes] = t;
        live[a] = n_nodes++;
        live[b] = live[--nl];
        if (a == nl)
            a = b;
    }
    parent_time[n_nodes - 1] = t;
    total_len = 0;
    for (int i = 0; i < n_nodes - 1; i++) { /* the root carries no variant */
        nodes[i].len = parent_time[i] - birth[i];
        total_len += nodes[i].len;
    }
    nodes[n_nodes - 1].len = 0;
}

static const node_t *pick_branch(void)
{
    double u = unif() * total_len;
    for (int i = 0; i < n_nodes - 1; i++) {
        if (u < nodes[i].len)
            return &nodes[i];
        u -= nodes[i].len;
    }
    return &nodes[0];
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 10000;
    long m = argc > 2 ? strtol(argv[2], NULL, 10) : 20000;
    const char *path = argc > 3 ? argv[3] : "/tmp/gtstore_bench.gt";
    uint32_t nh = 2 * n;
    uint8_t *founder = malloc(nh), *hap = malloc(nh);
    int32_t *gt = malloc((size_t)n * 2 * sizeof *gt);
    for (uint32_t h = 0; h < nh; h++)
        founder[h] = (uint8_t)(rnd() % K);
    pm_ctx_t *ctx = pm_ctx_new();
    pm_gtw_t *w;
    if (pm_gtw_open(ctx, path, "chr1", n, &w) < 0) {
        fprintf(stderr, "%s\n", pm_ctx_errmsg(ctx));
        return 1;
    }
    const char *alt[] = {"T"};
    double t_gen = 0, t_add = 0, t0;
    long n_private = 0, dense_like = 0;
    uint64_t alt_alleles = 0;
    int64_t pos = 10000;
    for (long v = 0; v < m; v++) {
        t0 = now();
        if (v % TREE_SPAN == 0)
            new_tree();
        for (uint32_t h = 0; h < nh; h++)
            if (unif() < RHO)
                founder[h] = (uint8_t)(rnd() % K);
        if (unif() < PRIVATE) {
            n_private++;
            memset(hap, 0, nh);
            /* P(k) ~ k^-1.5 over 1..nh/K */
            double kmax = nh / (double)K, u = unif();
            long k = (long)(1.0 / ((1 - u * (1 - 1 / sqrt(kmax))) * (1 - u * (1 - 1 / sqrt(kmax)))));
            if (k < 1)
                k = 1;
            for (long j = 0; j < k; j++)
                hap[rnd() % nh] = 1;
        } else {
            const node_t *b = pick_branch();
            for (uint32_t h = 0; h < nh; h++)
                hap[h] = (uint8_t)((b->leaves[founder[h] >> 6] >> (founder[h] & 63)) & 1);
        }
        uint32_t carriers = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (unif() < MISSING) {
                gt[2 * i] = gt[2 * i + 1] = 0;
                continue;
            }
            int a = hap[2 * i], c = hap[2 * i + 1];
            if (a > c) {
                int x = a;
                a = c;
                c = x;
            }
            gt[2 * i] = (a + 1) << 1;
            gt[2 * i + 1] = (c + 1) << 1;
            alt_alleles += (uint64_t)(a + c);
            carriers += (a | c);
        }
        dense_like += carriers > n / 20;
        pos += 1 + (int64_t)(rnd() % 60);
        t_gen += now() - t0;
        t0 = now();
        pm_gt_record_t rec = {pos, ".", "A", alt, 1, 2, gt};
        if (pm_gtw_add(w, &rec) < 0) {
            fprintf(stderr, "%s\n", pm_ctx_errmsg(ctx));
            return 1;
        }
        t_add += now() - t0;
    }
    pm_gtw_stats_t st;
    t0 = now();
    if (pm_gtw_commit(w, &st) < 0) {
        fprintf(stderr, "%s\n", pm_ctx_errmsg(ctx));
        return 1;
    }
    t_add += now() - t0;
    double g = (double)n * m;
    printf("data: %u samples x %ld variants (%.0f%% private, %.1f%% with >5%% carriers, mean AF %.4f)\n", n, m,
           100.0 * n_private / m, 100.0 * dense_like / m, alt_alleles / (2.0 * g));
    printf("size: %llu bytes = %.4f bits/genotype (%.1f MB scaled to 1e9 genotypes)\n",
           (unsigned long long)st.bytes, st.bytes * 8.0 / g, st.bytes / g * 1e9 / 1e6);
    printf("write: %.3f s (%.2f ns/genotype; generator %.2f s not included)\n", t_add, t_add / g * 1e9, t_gen);

    pm_gtr_t *r;
    if (pm_gtr_open(ctx, path, &r) < 0) {
        fprintf(stderr, "%s\n", pm_ctx_errmsg(ctx));
        return 1;
    }
    size_t nw = (n + 63) / 64;
    uint64_t *mask = calloc(nw + 1, 8);
    for (uint32_t i = 0; i < n; i++)
        if (rnd() & 1)
            mask[i >> 6] |= 1ull << (i & 63);
    pm_gtr_set_mask(r, mask);
    pm_gtr_rec_t rec;
    pm_gt_counts_t c;
    /* best of 5: the machines are shared */
    for (int pass = 0; pass < 3; pass++) {
        const uint64_t *mk = pass == 0 ? NULL : mask;
        double best = 1e9, sum = 0;
        long k = 0;
        for (int rep = 0; rep < 5; rep++) {
            pm_gtr_seek(r, 0, -1);
            sum = 0;
            k = 0;
            t0 = now();
            while (pm_gtr_next(r, &rec) == 1) {
                if (pass < 2 && pm_gtr_count(r, mk, &c) < 0) {
                    fprintf(stderr, "%s\n", pm_ctx_errmsg(ctx));
                    return 1;
                }
                sum += (double)c.ac;
                k++;
            }
            double t = now() - t0;
            if (t < best)
                best = t;
        }
        printf("%s: %.4f s for %ld variants (%.3f ns/genotype, %.2f us/variant) [sum AC %.0f]\n",
               pass == 0 ? "count, all samples" : pass == 1 ? "count, 50% mask  " : "iterate sites only",
               best, k, best / g * 1e9, best / k * 1e6, sum);
    }
    int16_t *strat = malloc(n * sizeof *strat);
    for (uint32_t i = 0; i < n; i++)
        strat[i] = (int16_t)(rnd() % 5) - 1;
    pm_gt_counts_t cs[4];
    pm_gtr_seek(r, 0, -1);
    t0 = now();
    while (pm_gtr_next(r, &rec) == 1)
        pm_gtr_count_strata(r, strat, 4, cs);
    printf("count, 4 strata   : %.4f s\n", now() - t0);
    int32_t *buf = NULL;
    size_t cap = 0;
    int P;
    pm_gtr_seek(r, 0, -1);
    t0 = now();
    while (pm_gtr_next(r, &rec) == 1)
        pm_gtr_decode(r, &buf, &cap, &P);
    double t = now() - t0;
    printf("decode            : %.4f s (%.3f ns/genotype)\n", t, t / g * 1e9);
    free(buf);
    pm_gtr_close(r);
    pm_ctx_free(ctx);
    free(strat);
    free(mask);
    free(founder);
    free(hap);
    free(gt);
    return 0;
}
