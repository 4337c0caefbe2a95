/*
 * linalg.c - the small dense algebra of the association kernels. The
 * per-variant systems are (covariates + 2) square, so Cholesky and the
 * triangular solves are written out (a LAPACK call costs more than the
 * work); the one large factorisation, the thin QR of the n x p covariate
 * matrix, goes to LAPACK.
 */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

#include "stats/glm_int.h"

int pm_chol(double *A, uint32_t p, double rel_tol)
{
    for (uint32_t j = 0; j < p; j++) {
        double d = A[j * p + j];
        double orig = d;
        for (uint32_t k = 0; k < j; k++)
            d -= A[j * p + k] * A[j * p + k];
        if (!(d > rel_tol * orig) || !(d > 0))
            return -1;
        d = sqrt(d);
        A[j * p + j] = d;
        for (uint32_t i = j + 1; i < p; i++) {
            double s = A[i * p + j];
            for (uint32_t k = 0; k < j; k++)
                s -= A[i * p + k] * A[j * p + k];
            A[i * p + j] = s / d;
        }
        for (uint32_t i = 0; i < j; i++)
            A[i * p + j] = 0;
    }
    return 0;
}

void pm_fsolve(const double *L, uint32_t p, double *b)
{
    for (uint32_t i = 0; i < p; i++) {
        double s = b[i];
        for (uint32_t k = 0; k < i; k++)
            s -= L[i * p + k] * b[k];
        b[i] = s / L[i * p + i];
    }
}

void pm_bsolve(const double *L, uint32_t p, double *b)
{
    for (uint32_t i = p; i-- > 0;) {
        double s = b[i];
        for (uint32_t k = i + 1; k < p; k++)
            s -= L[k * p + i] * b[k];
        b[i] = s / L[i * p + i];
    }
}

int pm_qr_thin(double *X, uint32_t N, uint32_t p, uint32_t *bad_col)
{
    if (p == 0)
        return 0;
    double *tau = malloc(p * sizeof *tau);
    double *norm = malloc(p * sizeof *norm);
    if (!tau || !norm) {
        free(tau);
        free(norm);
        return -2;
    }
    for (uint32_t j = 0; j < p; j++) {
        double s = 0;
        for (uint32_t i = 0; i < N; i++)
            s += X[(size_t)j * N + i] * X[(size_t)j * N + i];
        norm[j] = sqrt(s);
    }
    int rc = 0;
    if (LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (lapack_int)N, (lapack_int)p, X, (lapack_int)N, tau) != 0) {
        rc = -3;
        goto out;
    }
    for (uint32_t j = 0; j < p; j++) {
        double r = fabs(X[(size_t)j * N + j]);
        if (!(norm[j] > 0) || !(r > 1e-9 * norm[j])) {
            if (bad_col)
                *bad_col = j;
            rc = -1;
            goto out;
        }
    }
    if (LAPACKE_dorgqr(LAPACK_COL_MAJOR, (lapack_int)N, (lapack_int)p, (lapack_int)p, X,
                       (lapack_int)N, tau) != 0)
        rc = -3;
out:
    free(tau);
    free(norm);
    return rc;
}
