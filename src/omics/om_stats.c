/*
 * om_stats.c - summaries and normalisation of omics values (see
 * promise/omics.h). Small and self-contained on purpose: the omics module
 * sits below src/stats (and BLAS) in the dependency order, and these need
 * no more than a sort and a few-by-few Cholesky factorisation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "promise/omics.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double pm_omics_quantile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return NAN;
    if (p <= 0)
        return sorted[0];
    if (p >= 1)
        return sorted[n - 1];
    double h = (double)(n - 1) * p;
    size_t lo = (size_t)floor(h);
    double frac = h - (double)lo;
    if (lo + 1 >= n)
        return sorted[n - 1];
    return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

int pm_omics_summarize(const double *x, size_t n, pm_omics_summary_t *out)
{
    memset(out, 0, sizeof *out);
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return PM_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i]))
            v[m++] = x[i];
    out->n = m;
    out->mean = out->sd = out->min = out->q25 = out->median = out->q75 = out->max = NAN;
    if (m) {
        qsort(v, m, sizeof *v, cmp_double);
        double s = 0;
        for (size_t i = 0; i < m; i++)
            s += v[i];
        double mean = s / (double)m, ss = 0, c = 0;
        for (size_t i = 0; i < m; i++) {
            double d = v[i] - mean;
            ss += d * d;
            c += d;
        }
        /* corrected two-pass (Chan, Golub & LeVeque) */
        out->mean = mean + c / (double)m;
        if (m > 1)
            out->sd = sqrt((ss - c * c / (double)m) / (double)(m - 1));
        out->min = v[0];
        out->max = v[m - 1];
        out->q25 = pm_omics_quantile(v, m, 0.25);
        out->median = pm_omics_quantile(v, m, 0.5);
        out->q75 = pm_omics_quantile(v, m, 0.75);
    }
    free(v);
    return 0;
}

/* Wichura, M. J. (1988) Algorithm AS 241: the percentage points of the
 * normal distribution. Applied Statistics 37, 477-484 (PPND16). */
double pm_omics_qnorm(double p)
{
    if (isnan(p) || p < 0 || p > 1)
        return NAN;
    if (p == 0)
        return -INFINITY;
    if (p == 1)
        return INFINITY;
    double q = p - 0.5, r, val;
    if (fabs(q) <= 0.425) {
        r = 0.180625 - q * q;
        return q *
               (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r +
                     67265.770927008700853) * r + 45921.953931549871457) * r +
                   13731.693765509461125) * r + 1971.5909503065514427) * r +
                 133.14166789178437745) * r + 3.387132872796366608) /
               (((((((r * 5226.495278852545925 + 28729.085735721942674) * r +
                     39307.89580009271061) * r + 21213.794301586595867) * r +
                   5394.1960214247511077) * r + 687.1870074920579083) * r +
                 42.313330701600911252) * r + 1.0);
    }
    r = q < 0 ? p : 1 - p;
    r = sqrt(-log(r));
    if (r <= 5) {
        r -= 1.6;
        val = (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r +
                    0.24178072517745061177) * r + 1.27045825245236838258) * r +
                  3.64784832476320460504) * r + 5.7694972214606914055) * r +
                4.6303378461565452959) * r + 1.42343711074968357734) /
              (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r +
                    0.0151986665636164571966) * r + 0.14810397642748007459) * r +
                  0.68976733498510000455) * r + 1.6763848301838038494) * r +
                2.05319162663775882187) * r + 1.0);
    } else {
        r -= 5;
        val = (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r +
                    0.0012426609473880784386) * r + 0.026532189526576123093) * r +
                  0.29656057182850489123) * r + 1.7848265399172913358) * r +
                5.4637849111641143699) * r + 6.6579046435011037772) /
              (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r +
                    1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r +
                  0.0148753612908506148525) * r + 0.13692988092273580531) * r +
                0.59983220655588793769) * r + 1.0);
    }
    return q < 0 ? -val : val;
}

typedef struct ranked {
    double x;
    size_t i;
} ranked_t;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked_t *x = a, *y = b;
    if (x->x != y->x)
        return x->x < y->x ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

int pm_omics_int(const double *x, size_t n, double *out)
{
    ranked_t *r = malloc((n ? n : 1) * sizeof *r);
    if (!r)
        return PM_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i]))
            r[m++] = (ranked_t){x[i], i};
    for (size_t i = 0; i < n; i++)
        if (isnan(x[i]))
            out[i] = NAN;
    qsort(r, m, sizeof *r, cmp_ranked);
    for (size_t lo = 0; lo < m;) {
        size_t hi = lo + 1;
        while (hi < m && r[hi].x == r[lo].x)
            hi++;
        /* ranks lo+1 .. hi share their average */
        double rank = ((double)(lo + 1) + (double)hi) / 2.0;
        double z = pm_omics_qnorm((rank - 0.375) / ((double)m + 0.25));
        for (size_t k = lo; k < hi; k++)
            out[r[k].i] = z;
        lo = hi;
    }
    free(r);
    return 0;
}

int64_t pm_omics_log2(const double *x, size_t n, double *out)
{
    int64_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        if (isnan(v))
            out[i] = NAN;
        else if (v <= 0) {
            out[i] = NAN;
            bad++;
        } else
            out[i] = log2(v);
    }
    return bad;
}

int pm_omics_residualize(pm_ctx_t *ctx, const double *y, size_t n, const double *X, size_t p,
                         double *out)
{
    if (p > 64)
        return pm_err(ctx, PM_ELIMIT, "residualising on %zu covariates; at most 64", p);
    uint8_t *ok = malloc(n ? n : 1);
    double *mx = calloc(p ? p : 1, sizeof *mx);
    double *A = calloc(p ? p * p : 1, sizeof *A);
    double *bv = calloc(p ? p : 1, sizeof *bv);
    if (!ok || !mx || !A || !bv) {
        free(ok);
        free(mx);
        free(A);
        free(bv);
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    }
    size_t m = 0;
    double my = 0;
    for (size_t i = 0; i < n; i++) {
        int good = !isnan(y[i]);
        for (size_t j = 0; j < p && good; j++)
            good = !isnan(X[j * n + i]);
        ok[i] = (uint8_t)good;
        if (good) {
            m++;
            my += y[i];
            for (size_t j = 0; j < p; j++)
                mx[j] += X[j * n + i];
        }
    }
    int rc = 0;
    if (m < p + 1) {
        rc = pm_err(ctx, PM_EINPUT, "residualising on %zu covariates needs at least %zu complete "
                    "rows, found %zu", p, p + 1, m);
        goto out;
    }
    my /= (double)m;
    for (size_t j = 0; j < p; j++)
        mx[j] /= (double)m;
    /* A = Xc'Xc, bv = Xc'yc over the complete rows */
    for (size_t i = 0; i < n; i++) {
        if (!ok[i])
            continue;
        double yc = y[i] - my;
        for (size_t j = 0; j < p; j++) {
            double xj = X[j * n + i] - mx[j];
            bv[j] += xj * yc;
            for (size_t k = 0; k <= j; k++)
                A[j * p + k] += xj * (X[k * n + i] - mx[k]);
        }
    }
    /* Cholesky A = L L' in the lower triangle; a pivot that is tiny next
     * to its diagonal means a covariate is (nearly) a combination of the
     * others, or constant. */
    for (size_t j = 0; j < p; j++) {
        double d = A[j * p + j];
        double orig = d;
        for (size_t k = 0; k < j; k++)
            d -= A[j * p + k] * A[j * p + k];
        if (!(d > 1e-10 * (orig > 0 ? orig : 1)) || !(orig > 0)) {
            rc = pm_err(ctx, PM_EINPUT,
                        "covariate %zu is constant or a combination of the others", j + 1);
            goto out;
        }
        double l = sqrt(d);
        A[j * p + j] = l;
        for (size_t i = j + 1; i < p; i++) {
            double s = A[i * p + j];
            for (size_t k = 0; k < j; k++)
                s -= A[i * p + k] * A[j * p + k];
            A[i * p + j] = s / l;
        }
    }
    /* solve L z = bv, then L' b = z */
    for (size_t j = 0; j < p; j++) {
        double s = bv[j];
        for (size_t k = 0; k < j; k++)
            s -= A[j * p + k] * bv[k];
        bv[j] = s / A[j * p + j];
    }
    for (size_t jj = p; jj-- > 0;) {
        double s = bv[jj];
        for (size_t k = jj + 1; k < p; k++)
            s -= A[k * p + jj] * bv[k];
        bv[jj] = s / A[jj * p + jj];
    }
    for (size_t i = 0; i < n; i++) {
        if (!ok[i]) {
            out[i] = NAN;
            continue;
        }
        double r = y[i] - my;
        for (size_t j = 0; j < p; j++)
            r -= bv[j] * (X[j * n + i] - mx[j]);
        out[i] = r;
    }
out:
    free(ok);
    free(mx);
    free(A);
    free(bv);
    return rc;
}
