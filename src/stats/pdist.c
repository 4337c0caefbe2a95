/*
 * pdist.c - distribution tails for association p-values, and genomic
 * control.
 *
 * Association p-values reach 1e-300 and below, so every tail is computed
 * directly (never as 1 - cdf) with the log-space prefactor evaluated
 * without cancellation: the incomplete beta by its continued fraction
 * (modified Lentz), the incomplete gamma by its series or continued
 * fraction, the normal tail by erfc. lbeta() avoids the cancellation of
 * lgamma(a) + lgamma(b) - lgamma(a + b) for large arguments (t tests with
 * many degrees of freedom) by Stirling's series for the correction terms.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "promise/stats.h"

#define LN_SQRT_2PI 0.918938533204672741780329736406 /* log(sqrt(2*pi)) */
#define SQRT_2PI 2.50662827463100050241576528481
#define CF_MAXIT 200000
#define CF_EPS 1e-16
#define CF_TINY 1e-300

/* lgamma(x) - Stirling's approximation, x >= 10 (asymptotic series; the
 * first omitted term is below 1e-18 at x = 10). */
static double stirling_corr(double x)
{
    double r = 1.0 / x, r2 = r * r;
    return r * (1.0 / 12 +
                r2 * (-1.0 / 360 +
                      r2 * (1.0 / 1260 +
                            r2 * (-1.0 / 1680 +
                                  r2 * (1.0 / 1188 + r2 * (-691.0 / 360360 + r2 * (1.0 / 156)))))));
}

/* log B(a, b) for a, b > 0. */
static double lbeta(double a, double b)
{
    double p = a < b ? a : b, q = a < b ? b : a;
    if (p >= 10) {
        double corr = stirling_corr(p) + stirling_corr(q) - stirling_corr(p + q);
        return -0.5 * log(q) + LN_SQRT_2PI + corr + (p - 0.5) * log(p / (p + q)) +
               q * log1p(-p / (p + q));
    }
    if (q >= 10) {
        double corr = stirling_corr(q) - stirling_corr(p + q);
        return lgamma(p) + corr + p - p * log(p + q) + (q - 0.5) * log1p(-p / (p + q));
    }
    return lgamma(p) + lgamma(q) - lgamma(p + q);
}

/* Continued fraction for I_x(a, b) (modified Lentz); converges fast for
 * x < (a + 1) / (a + b + 2). */
static double betacf(double a, double b, double x)
{
    double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < CF_TINY)
        d = CF_TINY;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= CF_MAXIT; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        if (fabs(d) < CF_TINY)
            d = CF_TINY;
        c = 1 + aa / c;
        if (fabs(c) < CF_TINY)
            c = CF_TINY;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        if (fabs(d) < CF_TINY)
            d = CF_TINY;
        c = 1 + aa / c;
        if (fabs(c) < CF_TINY)
            c = CF_TINY;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < CF_EPS)
            break;
    }
    return h;
}

/* I_x(a, b) with y = 1 - x and the logs of x and y supplied exactly (a
 * huge `a` times a rounded log(x) would lose the prefactor). */
static double betai_full(double a, double b, double x, double y, double lx, double ly)
{
    if (!(a > 0) || !(b > 0) || !(x >= 0) || !(y >= 0) || isnan(x) || isnan(y))
        return NAN;
    if (x == 0)
        return 0;
    if (y == 0)
        return 1;
    double lpre = a * lx + b * ly - lbeta(a, b);
    if (x < (a + 1) / (a + b + 2))
        return exp(lpre) * betacf(a, b, x) / a;
    return 1 - exp(lpre) * betacf(b, a, y) / b;
}

static double betai_xy(double a, double b, double x, double y)
{
    return betai_full(a, b, x, y, x < 0.5 ? log(x) : log1p(-y), y < 0.5 ? log(y) : log1p(-x));
}

double pm_stats_betai(double a, double b, double x)
{
    if (!(x >= 0 && x <= 1))
        return NAN;
    return betai_xy(a, b, x, 1 - x);
}

/* P(a, x) by its series, for x < a + 1. */
static double gamma_series(double a, double x, double lpre)
{
    double ap = a, sum = 1 / a, del = sum;
    for (int n = 0; n < CF_MAXIT; n++) {
        ap += 1;
        del *= x / ap;
        sum += del;
        if (fabs(del) < fabs(sum) * CF_EPS)
            break;
    }
    return sum * exp(lpre);
}

/* Q(a, x) by its continued fraction (modified Lentz), for x >= a + 1. */
static double gamma_cf(double a, double x, double lpre)
{
    double b = x + 1 - a, c = 1 / CF_TINY, d = 1 / b, h = d;
    for (int i = 1; i <= CF_MAXIT; i++) {
        double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (fabs(d) < CF_TINY)
            d = CF_TINY;
        c = b + an / c;
        if (fabs(c) < CF_TINY)
            c = CF_TINY;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < CF_EPS)
            break;
    }
    return exp(lpre) * h;
}

double pm_stats_gammaq(double a, double x)
{
    if (!(a > 0) || !(x >= 0))
        return NAN;
    if (x == 0)
        return 1;
    if (isinf(x))
        return 0;
    double lpre = -x + a * log(x) - lgamma(a);
    if (x < a + 1)
        return 1 - gamma_series(a, x, lpre);
    return gamma_cf(a, x, lpre);
}

double pm_stats_norm_p2(double z)
{
    if (isnan(z))
        return NAN;
    return erfc(fabs(z) * M_SQRT1_2);
}

double pm_stats_t_p2(double t, double df)
{
    if (isnan(t) || !(df > 0))
        return NAN;
    if (isinf(t))
        return 0;
    if (isinf(df))
        return pm_stats_norm_p2(t);
    double t2 = t * t;
    /* x = df / (df + t^2) and y = t^2 / (df + t^2), and their logs, each
     * without cancellation */
    double x, y, lx, ly;
    if (t2 > df) {
        double r = df / t2;
        x = r / (1 + r);
        y = 1 / (1 + r);
        lx = log(r) - log1p(r);
        ly = -log1p(r);
    } else {
        double r = t2 / df;
        x = 1 / (1 + r);
        y = r / (1 + r);
        lx = -log1p(r);
        ly = log(r) - log1p(r);
    }
    return betai_full(0.5 * df, 0.5, x, y, lx, ly);
}

double pm_stats_chi2_p(double x, double df)
{
    if (isnan(x) || !(df > 0))
        return NAN;
    if (x <= 0)
        return 1;
    if (df == 1)
        return erfc(sqrt(0.5 * x));
    if (df == 2)
        return exp(-0.5 * x);
    return pm_stats_gammaq(0.5 * df, 0.5 * x);
}

/* Lower normal quantile by Acklam's rational approximation (relative
 * error < 1.2e-9), for 0 < p <= 0.5; refined by the caller. */
static double norm_qlower_approx(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                               2.445134137142996e+00, 3.754408661907416e+00};
    if (p < 0.02425) {
        double q = sqrt(-2 * log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

double pm_stats_norm_qupper(double p)
{
    if (!(p > 0 && p < 1)) {
        if (p == 0)
            return INFINITY;
        if (p == 1)
            return -INFINITY;
        return NAN;
    }
    /* z with Q(z) = p; start from the lower quantile of min(p, 1 - p) */
    double z = p <= 0.5 ? -norm_qlower_approx(p) : norm_qlower_approx(1 - p);
    /* Halley steps on f(z) = Q(z) - p, f' = -phi(z), f'' = z phi(z) */
    for (int it = 0; it < 2; it++) {
        double f = 0.5 * erfc(z * M_SQRT1_2) - p;
        double phi = exp(-0.5 * z * z) / SQRT_2PI;
        if (!(phi > 0))
            break;
        double u = f / phi;
        z += u / (1 - 0.5 * z * u);
    }
    return z;
}

static void swapd(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/* k-th smallest (0-based) of v[0..n) by quickselect (v is reordered). */
static double select_kth(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        /* median of three as the pivot, moved to hi */
        if (v[mid] < v[lo])
            swapd(&v[mid], &v[lo]);
        if (v[hi] < v[lo])
            swapd(&v[hi], &v[lo]);
        if (v[mid] < v[hi])
            swapd(&v[mid], &v[hi]);
        double piv = v[hi];
        size_t i = lo;
        for (size_t j = lo; j < hi; j++)
            if (v[j] < piv)
                swapd(&v[i++], &v[j]);
        swapd(&v[i], &v[hi]);
        if (i == k)
            return v[i];
        if (k < i)
            hi = i - 1;
        else
            lo = i + 1;
    }
    return v[lo];
}

double pm_stats_gc_lambda(const double *p, size_t n)
{
    if (!p || n == 0)
        return NAN;
    double *v = malloc(n * sizeof *v);
    if (!v)
        return NAN;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(p[i]))
            v[m++] = p[i];
    if (m == 0) {
        free(v);
        return NAN;
    }
    /* the chi-square is decreasing in p: the median chi-square is the
     * chi-square of the median p (the mean of the two middle ones for
     * even counts, taken on the chi-square scale) */
    double chi;
    double pa = select_kth(v, m, (m - 1) / 2);
    double za = pm_stats_norm_qupper(0.5 * pa);
    if (m % 2) {
        chi = za * za;
    } else {
        double pb = select_kth(v, m, m / 2);
        double zb = pm_stats_norm_qupper(0.5 * pb);
        chi = 0.5 * (za * za + zb * zb);
    }
    free(v);
    return chi / 0.45493642311957283; /* qchisq(0.5, 1) */
}
