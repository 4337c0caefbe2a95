/* test_qtl.c - the cis-QTL statistic (pm_qtl_assoc) against closed forms
 * computed here independently (sums of squares; normal equations solved
 * by Gauss-Jordan), and the beta approximation against the empirical
 * distribution it approximates. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "promise/qtl.h"
#include "promise/stats.h"

static int near(double a, double b, double rel)
{
    if (a == b)
        return 1;
    return fabs(a - b) <= rel * fmax(fabs(a), fabs(b));
}
#define CHECK_NEAR(a, b, rel)                                                                  \
    CHECK_MSG(near((a), (b), (rel)), "%.17g vs %.17g (rel %.3g)", (double)(a), (double)(b),     \
              (double)(rel))

static uint64_t rs = 88172645463325252ULL;
static double unif(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return ((double)(rs >> 11) + 0.5) / 9007199254740992.0;
}
static double gauss(void)
{
    return sqrt(-2 * log(unif())) * cos(6.283185307179586 * unif());
}

/* least squares of y on the columns of X (n x p, column-major) by the
 * normal equations and Gauss-Jordan; b, and (X'X)^-1 into inv (p x p) */
static void ols(const double *X, const double *y, int n, int p, double *b, double *inv)
{
    double A[8][16];
    for (int i = 0; i < p; i++) {
        for (int j = 0; j < p; j++) {
            double s = 0;
            for (int r = 0; r < n; r++)
                s += X[i * n + r] * X[j * n + r];
            A[i][j] = s;
            A[i][p + j] = i == j;
        }
    }
    for (int c = 0; c < p; c++) {
        int piv = c;
        for (int r = c + 1; r < p; r++)
            if (fabs(A[r][c]) > fabs(A[piv][c]))
                piv = r;
        for (int j = 0; j < 2 * p; j++) {
            double t = A[c][j];
            A[c][j] = A[piv][j];
            A[piv][j] = t;
        }
        double d = A[c][c];
        for (int j = 0; j < 2 * p; j++)
            A[c][j] /= d;
        for (int r = 0; r < p; r++)
            if (r != c) {
                double f = A[r][c];
                for (int j = 0; j < 2 * p; j++)
                    A[r][j] -= f * A[c][j];
            }
    }
    for (int i = 0; i < p; i++) {
        b[i] = 0;
        for (int j = 0; j < p; j++) {
            inv[i * p + j] = A[i][p + j];
            double s = 0;
            for (int r = 0; r < n; r++)
                s += X[j * n + r] * y[r];
            b[i] += A[i][p + j] * s;
        }
    }
}

static void test_simple(void)
{
    enum { N = 57 };
    double g[N], y[N];
    for (int i = 0; i < N; i++) {
        g[i] = (double)(unif() < 0.3) + (double)(unif() < 0.3);
        y[i] = 0.4 * g[i] + gauss();
    }
    double mg = 0, my = 0;
    for (int i = 0; i < N; i++)
        mg += g[i] / N, my += y[i] / N;
    double sxx = 0, sxy = 0, syy = 0;
    for (int i = 0; i < N; i++) {
        sxx += (g[i] - mg) * (g[i] - mg);
        sxy += (g[i] - mg) * (y[i] - my);
        syy += (y[i] - my) * (y[i] - my);
    }
    double slope = sxy / sxx, se = sqrt((syy - slope * sxy) / (N - 2) / sxx), t = slope / se;
    for (int model = 0; model < 2; model++) {
        pm_qtl_stat_t s;
        CHECK(pm_qtl_assoc(NULL, N, 0, NULL, y, g, model, &s) == 0);
        CHECK_NEAR(s.slope, slope, 1e-12);
        CHECK_NEAR(s.se, se, 1e-12);
        CHECK_NEAR(s.t, t, 1e-12);
        CHECK_NEAR(s.p, pm_stats_t_p2(t, N - 2), 1e-12);
        CHECK(s.df == N - 2);
        CHECK_NEAR(s.r, sxy / sqrt(sxx * syy), 1e-12);
    }
}

static void test_covariates(void)
{
    enum { N = 200, K = 2 };
    double C[K * N], y[N], g[N], X[(K + 2) * N];
    for (int i = 0; i < N; i++) {
        C[i] = gauss();
        C[N + i] = unif() < 0.5;
        g[i] = (double)(unif() < 0.2 + 0.1 * C[N + i]) + (double)(unif() < 0.25);
        y[i] = 1 + 0.5 * C[i] - 0.3 * C[N + i] + 0.2 * g[i] + gauss();
        X[i] = 1;
        X[N + i] = C[i];
        X[2 * N + i] = C[N + i];
        X[3 * N + i] = g[i];
    }
    /* model lm: the coefficient of g in y ~ 1 + C + g */
    double b[4], inv[16];
    ols(X, y, N, 4, b, inv);
    double rss = 0;
    for (int i = 0; i < N; i++) {
        double e = y[i];
        for (int j = 0; j < 4; j++)
            e -= b[j] * X[j * N + i];
        rss += e * e;
    }
    double df = N - 4, se = sqrt(rss / df * inv[15]), t = b[3] / se;
    pm_qtl_stat_t s;
    CHECK(pm_qtl_assoc(NULL, N, K, C, y, g, PM_QTL_MODEL_LM, &s) == 0);
    CHECK_NEAR(s.slope, b[3], 1e-10);
    CHECK_NEAR(s.se, se, 1e-10);
    CHECK_NEAR(s.t, t, 1e-10);
    CHECK_NEAR(s.p, pm_stats_t_p2(t, df), 1e-10);
    CHECK(s.df == df);

    /* model qtltools: y residualised on [1, C], correlated with g; df n - 2 */
    double bc[3], invc[9], yr[N];
    ols(X, y, N, 3, bc, invc);
    for (int i = 0; i < N; i++)
        yr[i] = y[i] - bc[0] - bc[1] * C[i] - bc[2] * C[N + i];
    double mg = 0, my = 0;
    for (int i = 0; i < N; i++)
        mg += g[i] / N, my += yr[i] / N;
    double sxx = 0, sxy = 0, syy = 0;
    for (int i = 0; i < N; i++) {
        sxx += (g[i] - mg) * (g[i] - mg);
        sxy += (g[i] - mg) * (yr[i] - my);
        syy += (yr[i] - my) * (yr[i] - my);
    }
    double r = sxy / sqrt(sxx * syy), slope = r * sqrt(syy / sxx);
    double tq = r * sqrt((N - 2) / (1 - r * r));
    CHECK(pm_qtl_assoc(NULL, N, K, C, y, g, PM_QTL_MODEL_QTLTOOLS, &s) == 0);
    CHECK_NEAR(s.r, r, 1e-10);
    CHECK_NEAR(s.slope, slope, 1e-10);
    CHECK_NEAR(s.t, tq, 1e-10);
    CHECK_NEAR(s.p, pm_stats_t_p2(tq, N - 2), 1e-10);
    CHECK(s.df == N - 2);

    /* collinear covariates and a constant genotype are refused */
    double Cc[2 * N], g0[N];
    for (int i = 0; i < N; i++) {
        Cc[i] = C[i];
        Cc[N + i] = 2 * C[i] + 1;
        g0[i] = 1;
    }
    CHECK(pm_qtl_assoc(NULL, N, 2, Cc, y, g, PM_QTL_MODEL_LM, &s) == PM_EINPUT);
    CHECK(pm_qtl_assoc(NULL, N, 0, NULL, y, g0, PM_QTL_MODEL_LM, &s) == PM_EINPUT);
    CHECK(pm_qtl_assoc(NULL, 3, 2, C, y, g, PM_QTL_MODEL_LM, &s) == PM_EINPUT);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Null best |r| over V independent variants: the beta approximation of
 * P(best >= r) must track the empirical fraction of fresh null draws. */
static void test_beta(void)
{
    enum { M = 1000, V = 15, NS = 60, T = 2000 };
    static double rp[M], fresh[T];
    for (int rep = 0; rep < M + T; rep++) {
        double y[NS], best = 0;
        for (int i = 0; i < NS; i++)
            y[i] = gauss();
        for (int v = 0; v < V; v++) {
            double g[NS], sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
            for (int i = 0; i < NS; i++)
                g[i] = gauss();
            for (int i = 0; i < NS; i++)
                sx += g[i], sy += y[i];
            for (int i = 0; i < NS; i++) {
                double a = g[i] - sx / NS, c = y[i] - sy / NS;
                sxx += a * a, syy += c * c, sxy += a * c;
            }
            double r = fabs(sxy / sqrt(sxx * syy));
            if (r > best)
                best = r;
        }
        if (rep < M)
            rp[rep] = best;
        else
            fresh[rep - M] = best;
    }
    qsort(fresh, T, sizeof *fresh, cmp_d);
    double prev = -1, de, a, b;
    for (int q = 1; q <= 9; q++) {
        double r = fresh[T - T * q / 10]; /* P(best >= r) ~ q/10 */
        double pb = pm_qtl_beta_p(r, rp, M, NS - 2, &de, &a, &b);
        CHECK_MSG(fabs(pb - q / 10.0) < 0.05, "q %d: p_beta %.4f (df %.1f, beta %.3f %.3f)", q,
                  pb, de, a, b);
        CHECK(pb > prev);
        prev = pb;
    }
    CHECK(a > 0.5 && a < 2 && b > 5);
    double c[M];
    for (int i = 0; i < M; i++)
        c[i] = 0.3;
    CHECK(isnan(pm_qtl_beta_p(0.5, c, M, NS - 2, NULL, NULL, NULL)));
}

int main(void)
{
    test_simple();
    test_covariates();
    test_beta();
    return check_summary("test_qtl");
}
