/*
 * test_stats.c - the association kernels (src/stats): distribution tails
 * at extreme values, linear and logistic-score results against R, the
 * missing-call downdate against a full refit, sparse/dense/fill forms,
 * several phenotypes in one pass, error rows, genomic control.
 *
 * The binary doubles as the driver of tests/oracle/glm_r.sh:
 *   test_stats glm FILE.tsv [--firth-all] [--sparse]
 *       reads a TSV whose columns are y_* (quantitative phenotypes), b_*
 *       (binary), c_* (covariates) and g_* (dosages; NA = missing call),
 *       and prints one row per variant and phenotype.
 *   test_stats bench N K MISS_RATE N_VARIANTS [N_PHENO]
 *       times the linear kernel on synthetic rare-heavy data.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "promise/stats.h"

static int near(double a, double b, double rel)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    if (a == b)
        return 1;
    double d = fabs(a - b), s = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return d <= rel * s;
}

#define CHECK_NEAR(a, b, rel)                                                                  \
    CHECK_MSG(near((a), (b), (rel)), "%.17g vs %.17g (rel %.3g)", (double)(a), (double)(b),     \
              fabs((double)(a) - (double)(b)) / fabs((double)(b)))

/* ---- distribution tails; expected values from R 4.x:
 *   2 * pt(-abs(t), df)  (via log.p = TRUE for the tiny ones)
 *   2 * pnorm(-z), pchisq(x, df, lower.tail = FALSE), pbeta(x, a, b),
 *   qnorm(p, lower.tail = FALSE) ---- */
static void test_pdist(void)
{
    static const double t_cases[][3] = {
        {2.5, 10, 0.031446844236608776},
        {0.10000000000000001, 3, 0.92665234880080583},
        {40, 5, 1.8411962171772952e-07},
        {1000, 20, 1.8039133995891414e-48},
        {-3, 1, 0.20483276469913345},
        {1.5, 0.5, 0.50790179064810848},
        {0, 7, 1},
        {35, 10000, 2.8239189174341711e-253},
        {37, 1000000, 1.8299730861800217e-299},
        {10000000000, 30, 2.072906930512263e-279},
        {1e+20, 2, 9.999999999999985e-41},
        {5, 100000, 5.7427016786416466e-07},
        {1e-08, 10, 0.99999999221783231},
    };
    for (size_t i = 0; i < sizeof t_cases / sizeof t_cases[0]; i++)
        CHECK_NEAR(pm_stats_t_p2(t_cases[i][0], t_cases[i][1]), t_cases[i][2], 1e-10);
    static const double z_cases[][2] = {
        {0, 1},
        {1.96, 0.049995790296440856},
        {5, 5.7330314375838782e-07},
        {10, 1.5239706048321054e-23},
        {20, 5.5072482372124675e-89},
        {37, 1.1451142445049154e-299},
    };
    for (size_t i = 0; i < sizeof z_cases / sizeof z_cases[0]; i++) {
        CHECK_NEAR(pm_stats_norm_p2(z_cases[i][0]), z_cases[i][1], 1e-12);
        CHECK_NEAR(pm_stats_norm_p2(-z_cases[i][0]), z_cases[i][1], 1e-12);
    }
    static const double c_cases[][3] = {
        {3.8399999999999999, 1, 0.050043521248705224},
        {10, 3, 0.018566135463043233},
        {100, 7, 1.0787979671702883e-18},
        {1000, 2, 7.1245764067412855e-218},
        {1300, 5, 6.3873752344737106e-279},
        {0.5, 4, 0.97350097883925613},
        {1400, 1, 2.1010145162641344e-306},
        {2, 150, 1},
    };
    for (size_t i = 0; i < sizeof c_cases / sizeof c_cases[0]; i++)
        CHECK_NEAR(pm_stats_chi2_p(c_cases[i][0], c_cases[i][1]), c_cases[i][2], 1e-10);
    static const double b_cases[][4] = {
        {0.29999999999999999, 2, 5, 0.57982500000000015},
        {0.999, 0.5, 100, 1},
        {1.0000000000000001e-05, 3, 0.5, 3.1250117188203268e-16},
        {0.5, 1000, 1000, 0.5},
    };
    for (size_t i = 0; i < sizeof b_cases / sizeof b_cases[0]; i++)
        CHECK_NEAR(pm_stats_betai(b_cases[i][1], b_cases[i][2], b_cases[i][0]), b_cases[i][3],
                   1e-10);
    /* pbeta(0.01, 200, 0.5, log.p = TRUE) = -924.25118578056106 */
    CHECK_NEAR(log(pm_stats_betai(200, 0.5, 0.01) * 1e300) - 300 * log(10), -924.25118578056106,
               1e-10);
    static const double q_cases[][2] = {
        {0.5, 0},
        {0.050000000000000003, 1.6448536269514726},
        {0.97499999999999998, -1.9599639845400536},
        {1e-10, 6.3613409024040557},
        {1e-300, 37.047096299361201},
    };
    for (size_t i = 0; i < sizeof q_cases / sizeof q_cases[0]; i++)
        CHECK(fabs(pm_stats_norm_qupper(q_cases[i][0]) - q_cases[i][1]) <=
              1e-12 * (1 + fabs(q_cases[i][1])));
    /* invalid arguments */
    CHECK(isnan(pm_stats_t_p2(NAN, 3)));
    CHECK(isnan(pm_stats_t_p2(1, 0)));
    CHECK(isnan(pm_stats_betai(1, 1, 1.5)));
    CHECK(pm_stats_t_p2(INFINITY, 3) == 0);
    CHECK(pm_stats_chi2_p(0, 3) == 1);
    /* symmetry and consistency */
    CHECK_NEAR(pm_stats_t_p2(2.0, 1e300), pm_stats_norm_p2(2.0), 1e-12);
    CHECK_NEAR(pm_stats_chi2_p(9.0, 1), pm_stats_norm_p2(3.0), 1e-13);
    CHECK_NEAR(pm_stats_chi2_p(7.5, 3), pm_stats_gammaq(1.5, 3.75), 1e-14);
}

/* set.seed(3); p <- c(runif(10), 1e-300)
 * median(qchisq(p, 1, lower.tail = FALSE)) / qchisq(0.5, 1) */
static void test_lambda(void)
{
    double p[12] = {0.16804152633994818, 0.80751639907248318, 0.38494235137477517,
                    0.32773431716486812, 0.60210067476145923, 0.60439405404031277,
                    0.12463344424031675, 0.29460092424415052, 0.57760991901159286,
                    0.63097927439957857, 1e-300, NAN};
    CHECK_NEAR(pm_stats_gc_lambda(p, 12), 1.6592614872611338, 1e-10);
    CHECK_NEAR(pm_stats_gc_lambda(p, 10), 1.1704635562278987, 1e-10);
    CHECK(p[10] == 1e-300 && isnan(p[11])); /* input untouched */
    double q[1] = {NAN};
    CHECK(isnan(pm_stats_gc_lambda(q, 1)));
    CHECK(isnan(pm_stats_gc_lambda(NULL, 0)));
    double h[1] = {0.5};
    CHECK_NEAR(pm_stats_gc_lambda(h, 1), 1.0, 1e-12);
}

/* ---- a fixed data set, expected values from R:
 *   set.seed(7); n <- 40
 *   c1 <- round(rnorm(n, 50, 10), 1); c2 <- rbinom(n, 1, 0.5)
 *   g1 <- rbinom(n, 2, 0.3); g2 <- rbinom(n, 2, 0.1); g3 <- rbinom(n, 2, 0.4)
 *   g3[c(3, 17, 29)] <- NA
 *   y <- round(0.02 * c1 + 0.5 * c2 + 0.4 * g1 + rnorm(n), 3)
 *   b <- rbinom(n, 1, plogis(-1 + 0.03 * (c1 - 50) + 0.8 * g1))
 *   summary(lm(y ~ c1 + c2 + g))$coefficients["g", ]         (LIN below)
 *   ctl <- glm.control(epsilon = 1e-15, maxit = 100)   (R's default 1e-8 stops early)
 *   ok <- !is.na(g); f0 <- glm(b ~ c1 + c2, binomial, subset = ok, control = ctl)
 *   f1 <- glm(b ~ c1 + c2 + g, binomial, subset = ok, control = ctl)
 *   anova(f0, f1, test = "Rao")[2, c("Rao", "Pr(>Chi)")]    (SCORE below)
 * (-1 in G* marks NA). ---- */
static const double C1[40] = {72.900000000000006, 38, 43.100000000000001, 45.899999999999999, 40.299999999999997, 40.5, 57.5, 48.799999999999997, 51.5, 71.900000000000006, 53.600000000000001, 77.200000000000003, 72.799999999999997, 53.200000000000003, 69, 54.700000000000003, 41.100000000000001, 46.899999999999999, 50, 59.899999999999999, 58.399999999999999, 57.100000000000001, 63.100000000000001, 36.100000000000001, 62.700000000000003, 51.799999999999997, 57.5, 55.899999999999999, 40.200000000000003, 47.200000000000003, 41.299999999999997, 57.200000000000003, 51.100000000000001, 49.200000000000003, 45.799999999999997, 44.399999999999999, 60, 38.899999999999999, 48.600000000000001, 53.100000000000001};
static const double C2[40] = {1, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1};
static const double G1[40] = {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 2, 0, 2, 0, 1, 0, 0, 0, 1, 0, 1, 2, 1};
static const double G2[40] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0};
static const double G3[40] = {1, 2, -1, 1, 1, 2, 0, 0, 1, 1, 0, 1, 1, 1, 2, 0, -1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, -1, 2, 2, 2, 0, 1, 2, 1, 1, 0, 1, 1};
static const double Y[40] = {0.80300000000000005, 2.8300000000000001, 1.95, 1.24, 1.9350000000000001, 2.343, 2.0569999999999999, 1.5089999999999999, -0.037999999999999999, 2.4569999999999999, 0.879, 2.7559999999999998, 3.222, 1.8320000000000001, 3.415, 1.2370000000000001, 2.1669999999999998, 2.254, 2.1699999999999999, 2.6059999999999999, 0.107, 0.66700000000000004, 1.427, 1.329, 2.2360000000000002, 1.3640000000000001, 0.76100000000000001, 2.4039999999999999, 1.6439999999999999, 0.64600000000000002, 0.96999999999999997, 2.641, 0.115, 1.2769999999999999, 2.0950000000000002, 0.98999999999999999, 0.108, 2.8580000000000001, 2.9950000000000001, 1.9510000000000001};
static const double B[40] = {0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 0};
static const double LIN[3][4] = {
    {0.36219322559256739, 0.26921327274003931, 1.3453765555694293, 0.18691727461678737},
    {0.011147883560349845, 0.43310746810207401, 0.025739301169756167, 0.97960742901027598},
    {0.31271814188693636, 0.23878326300155631, 1.3096317470328653, 0.19936522902879547},
};
static const double SCORE[3][2] = {
    {0.75973892922136343, 0.38341023642402006},
    {1.8154780575306049, 0.1778524801192097},
    {1.1427008143943524, 0.2850823543892741},
};

/* dense g with NaN for -1, plus the missing list */
static void fixture_gvec(const double *G, double *dense, uint32_t *miss, pm_gvec_t *g)
{
    memset(g, 0, sizeof *g);
    uint32_t nm = 0;
    for (uint32_t i = 0; i < 40; i++) {
        dense[i] = G[i] < 0 ? NAN : G[i];
        if (G[i] < 0)
            miss[nm++] = i;
    }
    g->dense = dense;
    g->miss = miss;
    g->n_miss = nm;
}

static void test_fixture(void)
{
    pm_ctx_t *ctx = pm_ctx_new();
    double covar[80], pheno[80];
    memcpy(covar, C1, sizeof C1);
    memcpy(covar + 40, C2, sizeof C2);
    memcpy(pheno, Y, sizeof Y);
    memcpy(pheno + 40, B, sizeof B);
    uint8_t binary[2] = {0, 1};
    pm_glm_opts_t o = {.firth_p = -1}; /* score only: R has no Firth */
    pm_glm_t *m = NULL;
    CHECK(pm_glm_new(ctx, 40, 2, covar, 2, pheno, binary, &o, &m) == 0);
    pm_glm_work_t *w = pm_glm_work_new(m);
    CHECK(w != NULL);
    const double *Gs[3] = {G1, G2, G3};
    for (int v = 0; v < 3; v++) {
        double dense[40];
        uint32_t miss[40];
        pm_gvec_t g;
        fixture_gvec(Gs[v], dense, miss, &g);
        pm_glm_result_t r[2];
        CHECK(pm_glm_test(m, w, &g, r) == 0);
        CHECK(r[0].test == PM_GLM_ADD && r[0].err == 0);
        CHECK(r[0].obs_ct == 40 - g.n_miss);
        CHECK_NEAR(r[0].beta, LIN[v][0], 1e-10);
        CHECK_NEAR(r[0].se, LIN[v][1], 1e-10);
        CHECK_NEAR(r[0].stat, LIN[v][2], 1e-10);
        CHECK_NEAR(r[0].p, LIN[v][3], 1e-10);
        CHECK(r[1].test == PM_GLM_SCORE && r[1].err == 0);
        if (g.n_miss == 0) { /* with missing calls the score test is the one-step approximation */
            CHECK_NEAR(r[1].stat * r[1].stat, SCORE[v][0], 1e-9);
            CHECK_NEAR(r[1].p, SCORE[v][1], 1e-9);
        } else {
            CHECK_NEAR(r[1].stat * r[1].stat, SCORE[v][0], 6e-2); /* 3 of 40 missing */
        }
    }
    pm_glm_work_free(w);
    pm_glm_free(m);

    /* errors when building a model */
    pheno[40] = 0.5;
    CHECK(pm_glm_new(ctx, 40, 2, covar, 2, pheno, binary, NULL, &m) == PM_EINPUT);
    CHECK(m == NULL);
    CHECK(strstr(pm_ctx_errmsg(ctx), "not 0 or 1") != NULL);
    pheno[40] = 0;
    double covar3[120];
    memcpy(covar3, covar, sizeof covar);
    for (int i = 0; i < 40; i++)
        covar3[80 + i] = 2 * C1[i] - 3; /* collinear with c1 and the intercept */
    CHECK(pm_glm_new(ctx, 40, 3, covar3, 1, pheno, NULL, NULL, &m) == PM_EINPUT);
    CHECK(strstr(pm_ctx_errmsg(ctx), "covariate 3") != NULL);
    double allcase[40];
    for (int i = 0; i < 40; i++)
        allcase[i] = 1;
    uint8_t bin1 = 1;
    CHECK(pm_glm_new(ctx, 40, 2, covar, 1, allcase, &bin1, NULL, &m) == PM_EINPUT);
    pm_glm_free(NULL);
    pm_glm_work_free(NULL);
    pm_ctx_free(ctx);
}

/* ---- synthetic data: xorshift, Box-Muller ---- */
static uint64_t rng_s = 88172645463325252ull;
static double unif(void)
{
    rng_s ^= rng_s << 13;
    rng_s ^= rng_s >> 7;
    rng_s ^= rng_s << 17;
    return ((rng_s >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
static double gauss(void) { return sqrt(-2 * log(unif())) * cos(6.283185307179586 * unif()); }
static int binom2(double af) { return (unif() < af) + (unif() < af); }

typedef struct synth {
    uint32_t n, k, np;
    double *covar, *pheno;
    uint8_t *binary;
} synth_t;

/* n samples, k covariates (age-like, sex-like, PCs), 3 quantitative and
 * 2 binary phenotypes; phenotype 2 has NaNs (its own sample set). */
static void synth_make(synth_t *s, uint32_t n, uint32_t k)
{
    s->n = n;
    s->k = k;
    s->np = 5;
    s->covar = malloc(sizeof(double) * n * k);
    s->pheno = malloc(sizeof(double) * n * 5);
    s->binary = calloc(5, 1);
    s->binary[3] = s->binary[4] = 1;
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t c = 0; c < k; c++)
            s->covar[c * n + i] = c == 0 ? 40 + 20 * unif() : c == 1 ? (unif() < 0.5) : gauss();
        double lin = 0.01 * (k ? s->covar[i] : 0) + (k > 1 ? 0.3 * s->covar[n + i] : 0);
        s->pheno[i] = lin + gauss();
        s->pheno[n + i] = 2 * lin + 0.5 * gauss() + 100;
        s->pheno[2 * n + i] = unif() < 0.1 ? NAN : lin + gauss();
        s->pheno[3 * n + i] = unif() < 1 / (1 + exp(-(-1 + lin)));
        s->pheno[4 * n + i] = unif() < 0.15;
    }
}

static void synth_free(synth_t *s)
{
    free(s->covar);
    free(s->pheno);
    free(s->binary);
}

static int res_near(const pm_glm_result_t *a, const pm_glm_result_t *b, double rel)
{
    return a->err == b->err && a->test == b->test && a->obs_ct == b->obs_ct &&
           near(a->beta, b->beta, rel) && near(a->se, b->se, rel) && near(a->stat, b->stat, rel) &&
           near(a->p, b->p, rel);
}

/* The missing-call downdate equals a refit on the reduced sample set;
 * sparse, dense and fill forms agree; one phenotype alone equals the same
 * phenotype among several. */
static void test_downdate(void)
{
    pm_ctx_t *ctx = pm_ctx_new();
    synth_t s;
    uint32_t n = 600, k = 5;
    synth_make(&s, n, k);
    pm_glm_opts_t o = {.firth_p = 2}; /* Firth on every binary row */
    pm_glm_t *m = NULL;
    CHECK(pm_glm_new(ctx, n, k, s.covar, s.np, s.pheno, s.binary, &o, &m) == 0);
    CHECK(pm_glm_n_obs(m, 0) == n && pm_glm_n_obs(m, 2) < n);
    pm_glm_work_t *w = pm_glm_work_new(m);
    double *dense = malloc(n * sizeof *dense), *val = malloc(n * sizeof *val);
    double *val2 = malloc(n * sizeof *val2);
    uint32_t *idx = malloc(n * sizeof *idx), *miss = malloc(n * sizeof *miss);
    uint32_t *idx2 = malloc(n * sizeof *idx2);
    double *rpheno = malloc(sizeof(double) * n * s.np);
    double worst_lin = 0, worst_firth = 0;
    const double afs[] = {0.002, 0.02, 0.2, 0.5, 0.9};
    const double mrates[] = {0, 0.003, 0.05, 0.3};
    for (int ai = 0; ai < 5; ai++) {
        for (int mi = 0; mi < 4; mi++) {
            uint32_t nnz = 0, nm = 0, nnz2 = 0;
            for (uint32_t i = 0; i < n; i++) {
                dense[i] = binom2(afs[ai]);
                if (unif() < mrates[mi]) {
                    miss[nm++] = i;
                    dense[i] = NAN;
                    continue;
                }
                if (dense[i] != 0) {
                    idx[nnz] = i;
                    val[nnz++] = dense[i];
                }
                if (dense[i] != 2) {
                    idx2[nnz2] = i;
                    val2[nnz2++] = dense[i];
                }
            }
            if (ai == 0 && nnz == 0) { /* keep at least one carrier */
                uint32_t i = n - 1;
                if (!isnan(dense[i])) {
                    dense[i] = 1;
                    idx[nnz] = i;
                    val[nnz++] = 1;
                }
            }
            pm_gvec_t gd = {.dense = dense, .miss = miss, .n_miss = nm};
            pm_gvec_t gs = {.idx = idx, .val = val, .nnz = nnz, .miss = miss, .n_miss = nm};
            pm_gvec_t gf = {.idx = idx2, .val = val2, .nnz = nnz2, .fill = 2, .miss = miss,
                            .n_miss = nm};
            pm_glm_result_t rd[5], rs[5], rf[5], rr[5];
            CHECK(pm_glm_test(m, w, &gd, rd) == 0);
            CHECK(pm_glm_test(m, w, &gs, rs) == 0);
            if (ai >= 3)
                CHECK(pm_glm_test(m, w, &gf, rf) == 0);
            for (int j = 0; j < 5; j++) {
                CHECK_MSG(res_near(&rd[j], &rs[j], 1e-10), "dense/sparse af %g miss %g pheno %d",
                          afs[ai], mrates[mi], j);
                if (ai >= 3)
                    CHECK_MSG(res_near(&rd[j], &rf[j], 1e-9), "dense/fill af %g miss %g pheno %d",
                              afs[ai], mrates[mi], j);
            }
            /* the refit: the same phenotypes with the missing samples removed */
            memcpy(rpheno, s.pheno, sizeof(double) * n * s.np);
            for (uint32_t e = 0; e < nm; e++)
                for (uint32_t j = 0; j < s.np; j++)
                    rpheno[j * n + miss[e]] = NAN;
            pm_glm_t *mr = NULL;
            CHECK(pm_glm_new(ctx, n, k, s.covar, s.np, rpheno, s.binary, &o, &mr) == 0);
            pm_glm_work_t *wr = pm_glm_work_new(mr);
            pm_gvec_t g0 = {.dense = dense}; /* no missing left (NaN rows excluded) */
            CHECK(pm_glm_test(mr, wr, &g0, rr) == 0);
            for (int j = 0; j < 5; j++) {
                if (s.binary[j]) {
                    CHECK(rd[j].test == PM_GLM_FIRTH && rr[j].test == PM_GLM_FIRTH);
                    CHECK_MSG(res_near(&rd[j], &rr[j], 1e-6),
                              "firth af %g miss %g pheno %d: %g/%g vs %g/%g", afs[ai], mrates[mi],
                              j, rd[j].beta, rd[j].se, rr[j].beta, rr[j].se);
                    if (rd[j].err == 0) {
                        double e1 = fabs(rd[j].beta - rr[j].beta) / fabs(rr[j].beta);
                        if (e1 > worst_firth)
                            worst_firth = e1;
                    }
                    continue;
                }
                CHECK_MSG(res_near(&rd[j], &rr[j], 1e-10), "lin af %g miss %g pheno %d: %.15g vs %.15g",
                          afs[ai], mrates[mi], j, rd[j].beta, rr[j].beta);
                if (rd[j].err == 0) {
                    double es[] = {rd[j].beta / rr[j].beta, rd[j].se / rr[j].se,
                                   rd[j].p / rr[j].p};
                    for (int q = 0; q < 3; q++)
                        if (fabs(es[q] - 1) > worst_lin)
                            worst_lin = fabs(es[q] - 1);
                }
            }
            pm_glm_work_free(wr);
            pm_glm_free(mr);

            /* one phenotype alone (phenotype 2, with its NaNs) equals the same in the set */
            if (ai == 2) {
                pm_glm_t *m1 = NULL;
                CHECK(pm_glm_new(ctx, n, k, s.covar, 1, s.pheno + 2 * n, NULL, &o, &m1) == 0);
                pm_glm_work_t *w1 = pm_glm_work_new(m1);
                pm_glm_result_t r1;
                CHECK(pm_glm_test(m1, w1, &gs, &r1) == 0);
                CHECK(res_near(&r1, &rd[2], 1e-12));
                pm_glm_work_free(w1);
                pm_glm_free(m1);
            }
        }
    }
    printf("downdate vs refit: max relative difference linear %.3g, Firth beta %.3g\n", worst_lin,
           worst_firth);
    CHECK(worst_lin < 1e-10);

    /* error rows */
    pm_glm_result_t r[5];
    for (uint32_t i = 0; i < n; i++)
        dense[i] = 1;
    pm_gvec_t gc = {.dense = dense};
    CHECK(pm_glm_test(m, w, &gc, r) == 0);
    CHECK(r[0].err == PM_GLM_ECONST && isnan(r[0].beta) && r[3].err == PM_GLM_ECONST);
    CHECK_STR(pm_glm_err_name(r[0].err), "CONST_ALLELE");
    for (uint32_t i = 0; i < n; i++)
        dense[i] = s.covar[n + i]; /* a copy of covariate 2 */
    CHECK(pm_glm_test(m, w, &gc, r) == 0);
    CHECK(r[0].err == PM_GLM_EVIF && r[4].err != PM_GLM_OK);
    pm_gvec_t ge = {.nnz = 0}; /* no carriers at all */
    CHECK(pm_glm_test(m, w, &ge, r) == 0);
    CHECK(r[1].err == PM_GLM_ECONST);
    uint32_t bad = n;
    pm_gvec_t gb = {.idx = &bad, .val = dense, .nnz = 1};
    CHECK(pm_glm_test(m, w, &gb, r) == PM_EUSAGE);
    CHECK_STR(pm_glm_test_name(PM_GLM_FIRTH), "FIRTH");

    free(dense);
    free(val);
    free(val2);
    free(idx);
    free(idx2);
    free(miss);
    free(rpheno);
    pm_glm_work_free(w);
    pm_glm_free(m);
    synth_free(&s);
    pm_ctx_free(ctx);
}

/* The score test with missing calls is the one-step (efficient score)
 * approximation of the refit; measure how close it is. */
static void test_score_missing(void)
{
    pm_ctx_t *ctx = pm_ctx_new();
    synth_t s;
    uint32_t n = 2000, k = 4;
    synth_make(&s, n, k);
    pm_glm_opts_t o = {.firth_p = -1};
    pm_glm_t *m = NULL;
    CHECK(pm_glm_new(ctx, n, k, s.covar, s.np, s.pheno, s.binary, &o, &m) == 0);
    pm_glm_work_t *w = pm_glm_work_new(m);
    double *dense = malloc(n * sizeof *dense), *rpheno = malloc(sizeof(double) * n * s.np);
    uint32_t *miss = malloc(n * sizeof *miss);
    const double mrates[] = {0.001, 0.01, 0.05};
    for (int mi = 0; mi < 3; mi++) {
        double worst = 0;
        for (int rep = 0; rep < 5; rep++) {
            uint32_t nm = 0;
            for (uint32_t i = 0; i < n; i++) {
                dense[i] = binom2(0.2);
                if (unif() < mrates[mi]) {
                    miss[nm++] = i;
                    dense[i] = NAN;
                }
            }
            pm_gvec_t gd = {.dense = dense, .miss = miss, .n_miss = nm};
            pm_glm_result_t r[5], rr[5];
            pm_glm_test(m, w, &gd, r);
            memcpy(rpheno, s.pheno, sizeof(double) * n * s.np);
            for (uint32_t e = 0; e < nm; e++)
                for (uint32_t j = 0; j < s.np; j++)
                    rpheno[j * n + miss[e]] = NAN;
            pm_glm_t *mr = NULL;
            CHECK(pm_glm_new(ctx, n, k, s.covar, s.np, rpheno, s.binary, &o, &mr) == 0);
            pm_glm_work_t *wr = pm_glm_work_new(mr);
            pm_gvec_t g0 = {.dense = dense};
            pm_glm_test(mr, wr, &g0, rr);
            for (int j = 3; j < 5; j++) {
                double e = fabs(r[j].stat - rr[j].stat) / (1 + fabs(rr[j].stat));
                if (e > worst)
                    worst = e;
            }
            pm_glm_work_free(wr);
            pm_glm_free(mr);
        }
        printf("score test with %.1f%% missing calls: max |Z - Z_refit| / (1 + |Z_refit|) = %.3g\n",
               100 * mrates[mi], worst);
        CHECK(worst < 0.05);
    }
    free(dense);
    free(rpheno);
    free(miss);
    pm_glm_work_free(w);
    pm_glm_free(m);
    synth_free(&s);
    pm_ctx_free(ctx);
}

/* A variant that separates cases from controls: Firth gives a finite
 * estimate; without covariates (k = 0). */
static void test_firth_separation(void)
{
    pm_ctx_t *ctx = pm_ctx_new();
    uint32_t n = 200;
    double *y = malloc(n * sizeof *y), *g = malloc(n * sizeof *g);
    for (uint32_t i = 0; i < n; i++) {
        y[i] = i % 4 == 0;
        g[i] = (i % 40 == 0) ? 1 : 0; /* every carrier is a case */
    }
    uint8_t bin = 1;
    pm_glm_t *m = NULL;
    CHECK(pm_glm_new(ctx, n, 0, NULL, 1, y, &bin, NULL, &m) == 0);
    pm_glm_work_t *w = pm_glm_work_new(m);
    pm_gvec_t gv = {.dense = g};
    pm_glm_result_t r;
    CHECK(pm_glm_test(m, w, &gv, &r) == 0);
    CHECK(r.test == PM_GLM_FIRTH && r.err == 0 && isfinite(r.beta) && r.beta > 1);
    CHECK(r.score_p < 0.05 && r.p > 0 && r.p < 1);
    pm_glm_work_free(w);
    pm_glm_free(m);
    free(y);
    free(g);
    pm_ctx_free(ctx);
}

/* ---- driver for tests/oracle/glm_r.sh ---- */

typedef struct col {
    char kind; /* 'y', 'b', 'c', 'g' */
    char name[64];
    double *v;
} col_t;

static int drive_glm(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_stats glm FILE.tsv [--firth-all] [--sparse]\n");
        return 1;
    }
    int firth_all = 0, sparse = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--firth-all"))
            firth_all = 1;
        else if (!strcmp(argv[i], "--sparse"))
            sparse = 1;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    col_t *cols = NULL;
    size_t ncol = 0, nrow = 0, rcap = 0;
    if ((len = getline(&line, &cap, f)) <= 0) {
        fprintf(stderr, "empty file\n");
        return 1;
    }
    for (char *p = line; *p && *p != '\n';) {
        char *e = p + strcspn(p, "\t\n");
        cols = realloc(cols, (ncol + 1) * sizeof *cols);
        col_t *c = &cols[ncol++];
        memset(c, 0, sizeof *c);
        c->kind = p[0];
        size_t l = (size_t)(e - p) < sizeof c->name - 1 ? (size_t)(e - p) : sizeof c->name - 1;
        memcpy(c->name, p, l);
        p = *e == '\t' ? e + 1 : e;
    }
    while ((len = getline(&line, &cap, f)) > 0) {
        if (nrow == rcap) {
            rcap = rcap ? 2 * rcap : 1024;
            for (size_t j = 0; j < ncol; j++)
                cols[j].v = realloc(cols[j].v, rcap * sizeof(double));
        }
        char *p = line;
        for (size_t j = 0; j < ncol; j++) {
            char *end;
            double v = strtod(p, &end);
            if (end == p)
                v = NAN; /* NA */
            cols[j].v[nrow] = v;
            p += strcspn(p, "\t\n");
            if (*p == '\t')
                p++;
        }
        nrow++;
    }
    free(line);
    fclose(f);
    uint32_t n = (uint32_t)nrow, k = 0, np = 0;
    for (size_t j = 0; j < ncol; j++) {
        k += cols[j].kind == 'c';
        np += cols[j].kind == 'y' || cols[j].kind == 'b';
    }
    double *covar = malloc(sizeof(double) * n * (k ? k : 1));
    double *pheno = malloc(sizeof(double) * n * np);
    uint8_t *binary = calloc(np, 1);
    const char **pname = calloc(np, sizeof *pname);
    uint32_t ci = 0, pi = 0;
    for (size_t j = 0; j < ncol; j++) {
        if (cols[j].kind == 'c')
            memcpy(covar + (size_t)n * ci++, cols[j].v, n * sizeof(double));
        if (cols[j].kind == 'y' || cols[j].kind == 'b') {
            binary[pi] = cols[j].kind == 'b';
            pname[pi] = cols[j].name;
            memcpy(pheno + (size_t)n * pi++, cols[j].v, n * sizeof(double));
        }
    }
    pm_ctx_t *ctx = pm_ctx_new();
    pm_glm_opts_t o = {.firth_p = firth_all ? 2 : 0};
    pm_glm_t *m = NULL;
    if (pm_glm_new(ctx, n, k, covar, np, pheno, binary, &o, &m) < 0) {
        fprintf(stderr, "test_stats glm: %s\n", pm_ctx_errmsg(ctx));
        return 2;
    }
    pm_glm_work_t *w = pm_glm_work_new(m);
    pm_glm_result_t *res = calloc(np, sizeof *res);
    uint32_t *miss = malloc(n * sizeof *miss), *idx = malloc(n * sizeof *idx);
    double *val = malloc(n * sizeof *val);
    printf("VARIANT\tPHENO\tTEST\tOBS_CT\tBETA\tSE\tT_OR_Z\tP\tSCORE_P\tERRCODE\n");
    for (size_t j = 0; j < ncol; j++) {
        if (cols[j].kind != 'g')
            continue;
        uint32_t nm = 0, nnz = 0;
        for (uint32_t i = 0; i < n; i++) {
            double v = cols[j].v[i];
            if (isnan(v))
                miss[nm++] = i;
            else if (v != 0) {
                idx[nnz] = i;
                val[nnz++] = v;
            }
        }
        pm_gvec_t g = {.miss = miss, .n_miss = nm};
        if (sparse) {
            g.idx = idx;
            g.val = val;
            g.nnz = nnz;
        } else {
            g.dense = cols[j].v;
        }
        pm_glm_test(m, w, &g, res);
        for (uint32_t q = 0; q < np; q++) {
            const pm_glm_result_t *r = &res[q];
            printf("%s\t%s\t%s\t%u\t%.15g\t%.15g\t%.15g\t%.15g\t%.15g\t%s\n", cols[j].name,
                   pname[q], pm_glm_test_name(r->test), r->obs_ct, r->beta, r->se, r->stat, r->p,
                   r->score_p, pm_glm_err_name(r->err));
        }
    }
    free(miss);
    free(idx);
    free(val);
    free(res);
    pm_glm_work_free(w);
    pm_glm_free(m);
    pm_ctx_free(ctx);
    for (size_t j = 0; j < ncol; j++)
        free(cols[j].v);
    free(cols);
    free(covar);
    free(pheno);
    free(binary);
    free(pname);
    return 0;
}

/* ---- timing on synthetic rare-heavy data ---- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int drive_bench(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: test_stats bench N K MISS_RATE N_VARIANTS [N_PHENO] [linear|binary] [dense]\n");
        return 1;
    }
    uint32_t n = (uint32_t)strtoul(argv[2], NULL, 10), k = (uint32_t)strtoul(argv[3], NULL, 10);
    double mrate = strtod(argv[4], NULL);
    uint32_t nv = (uint32_t)strtoul(argv[5], NULL, 10);
    uint32_t np = argc > 6 ? (uint32_t)strtoul(argv[6], NULL, 10) : 1;
    int bin = argc > 7 && !strcmp(argv[7], "binary");
    int use_dense = argc > 8 && !strcmp(argv[8], "dense");
    double *covar = malloc(sizeof(double) * n * (k ? k : 1));
    double *pheno = malloc(sizeof(double) * n * np);
    uint8_t *binary = calloc(np, 1);
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t c = 0; c < k; c++)
            covar[(size_t)c * n + i] = gauss();
        for (uint32_t j = 0; j < np; j++)
            pheno[(size_t)j * n + i] = bin ? (unif() < 0.2) : gauss();
    }
    for (uint32_t j = 0; j < np; j++)
        binary[j] = (uint8_t)bin;
    pm_ctx_t *ctx = pm_ctx_new();
    pm_glm_t *m = NULL;
    double t0 = now();
    if (pm_glm_new(ctx, n, k, covar, np, pheno, binary, NULL, &m) < 0) {
        fprintf(stderr, "%s\n", pm_ctx_errmsg(ctx));
        return 2;
    }
    double t_fit = now() - t0;
    pm_glm_work_t *w = pm_glm_work_new(m);
    /* a pool of variants generated up front (so that the timing is the
     * kernel's), allele frequencies from a neutral spectrum (density ~ 1/af
     * between 1/2n and 1/2: mostly rare, with a common tail) */
    enum { POOL = 512 };
    uint32_t *pidx[POOL], *pmiss[POOL], pnnz[POOL], pnm[POOL];
    double *pval[POOL];
    uint64_t carriers = 0, nfirth = 0, firth_it = 0;
    for (int v = 0; v < POOL; v++) {
        double af = exp(unif() * log((double)n)) / (2.0 * n);
        pidx[v] = malloc(n * sizeof(uint32_t));
        pmiss[v] = malloc(n * sizeof(uint32_t));
        pval[v] = malloc(n * sizeof(double));
        pnnz[v] = pnm[v] = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (unif() < mrate) {
                pmiss[v][pnm[v]++] = i;
                continue;
            }
            int gt = binom2(af);
            if (gt) {
                pidx[v][pnnz[v]] = i;
                pval[v][pnnz[v]++] = gt;
            }
        }
    }
    double *dense = malloc(n * sizeof *dense);
    pm_glm_result_t *res = calloc(np, sizeof *res);
    double *pv = malloc(nv * sizeof *pv);
    double t_test = 0, c_test = 0, lam_p;
    for (uint32_t v = 0; v < nv; v++) {
        int q = v % POOL;
        carriers += pnnz[q];
        pm_gvec_t g = {.idx = pidx[q], .val = pval[q], .nnz = pnnz[q], .miss = pmiss[q],
                       .n_miss = pnm[q]};
        if (use_dense) {
            memset(dense, 0, n * sizeof *dense);
            for (uint32_t e = 0; e < pnnz[q]; e++)
                dense[pidx[q][e]] = pval[q][e];
            g.dense = dense;
        }
        double tt = now(), ct = cpu_now();
        pm_glm_test(m, w, &g, res);
        t_test += now() - tt;
        c_test += cpu_now() - ct;
        pv[v] = res[0].p;
        nfirth += res[0].test == PM_GLM_FIRTH;
        firth_it += res[0].firth_iter;
    }
    for (int v = 0; v < POOL; v++) {
        free(pidx[v]);
        free(pmiss[v]);
        free(pval[v]);
    }
    lam_p = pm_stats_gc_lambda(pv, nv);
    printf("n=%u k=%u miss=%g variants=%u pheno=%u %s%s: null fit %.3f s; tests %.3f s wall, "
           "%.3f s cpu = %.0f variants/s cpu (%.2f us/variant, mean carriers %.1f, firth %llu, "
           "mean iterations %.1f); lambda %.3f\n",
           n, k, mrate, nv, np, bin ? "binary" : "linear", use_dense ? " dense" : "", t_fit,
           t_test, c_test, nv / c_test, 1e6 * c_test / nv, (double)carriers / nv,
           (unsigned long long)nfirth,
           nfirth ? (double)firth_it / nfirth : 0.0, lam_p);
    free(pv);
    free(dense);
    free(res);
    free(covar);
    free(pheno);
    free(binary);
    pm_glm_work_free(w);
    pm_glm_free(m);
    pm_ctx_free(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "glm"))
        return drive_glm(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "bench"))
        return drive_bench(argc, argv);
    test_pdist();
    test_lambda();
    test_fixture();
    test_downdate();
    test_score_missing();
    test_firth_separation();
    return check_summary("test_stats");
}
