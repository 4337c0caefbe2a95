/*
 * logistic.c - binary phenotypes: the logistic null model (fitted once by
 * Newton/IRLS), its score-test kernel, and Firth-penalised logistic
 * regression for the variants whose score test is nominally significant.
 *
 * Both fits use the covariate basis sqrt(N) * Q (Q the orthonormal basis
 * of [1, covariates] over the phenotype's samples) instead of the raw
 * covariates: the genotype's coefficient, its standard error and the
 * Firth estimate are invariant to that reparametrisation (Firth's penalty
 * log det I changes by a constant), and X'WX is then well conditioned
 * whatever the covariates' scales.
 *
 * The score test is the linear kernel of glm.c on weighted data: with
 * wh = sqrt(mu (1 - mu)) and d = (y - mu) / wh, U = g'(y - mu) = (wh g)'d
 * and its variance under the null is (wh g)'(I - H_w)(wh g), H_w the
 * projection on W^(1/2) [1, covariates].
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/glm_int.h"

#define NULL_MAXIT 100
#define NULL_TOL 1e-10
#define MAX_STEP 5.0
#define MAX_HALVINGS 20

void pm_bin_fini(pm_bin_t *b)
{
    if (!b)
        return;
    pm_kern_fini(&b->score);
    free(b->y);
    free(b->beta0);
    free(b->Qw);
}

static double logistic(double eta) { return 1.0 / (1.0 + exp(-eta)); }

/* log-likelihood contribution of y given eta, without cancellation */
static double loglik1(int y, double eta)
{
    double z = y ? -eta : eta; /* -log(1 + exp(z)) */
    return z > 0 ? -(z + log1p(exp(-z))) : -log1p(exp(z));
}

/* Newton iterations for the null model over N rows X (N x p row-major).
 * Returns iterations, or -1 when it does not converge. */
static int null_newton(const double *X, const double *y, uint32_t N, uint32_t p, double *beta,
                       double *eta, double *Im, double *U, double *delta)
{
    memset(beta, 0, p * sizeof *beta);
    double ll_old = -INFINITY;
    for (int it = 1; it <= NULL_MAXIT; it++) {
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)N, (int)p, 1.0, X, (int)p, beta, 1, 0.0,
                    eta, 1);
        double ll = 0;
        memset(Im, 0, (size_t)p * p * sizeof *Im);
        memset(U, 0, p * sizeof *U);
        for (uint32_t i = 0; i < N; i++) {
            double mu = logistic(eta[i]), wi = mu * (1 - mu), r = y[i] - mu;
            ll += loglik1(y[i] != 0, eta[i]);
            const double *Xi = X + (size_t)i * p;
            for (uint32_t a = 0; a < p; a++) {
                U[a] += Xi[a] * r;
                for (uint32_t c = 0; c <= a; c++)
                    Im[a * p + c] += wi * Xi[a] * Xi[c];
            }
        }
        if (ll < ll_old - 1e-9 * fabs(ll_old)) {
            /* overshot: go back half way (the previous step is in delta) */
            for (uint32_t a = 0; a < p; a++) {
                delta[a] *= 0.5;
                beta[a] -= delta[a];
            }
            continue;
        }
        ll_old = ll;
        if (pm_chol(Im, p, 1e-13) < 0)
            return -1;
        memcpy(delta, U, p * sizeof *U);
        pm_fsolve(Im, p, delta);
        pm_bsolve(Im, p, delta);
        double mx = 0;
        for (uint32_t a = 0; a < p; a++)
            if (fabs(delta[a]) > mx)
                mx = fabs(delta[a]);
        if (mx > MAX_STEP)
            for (uint32_t a = 0; a < p; a++)
                delta[a] *= MAX_STEP / mx;
        for (uint32_t a = 0; a < p; a++)
            beta[a] += delta[a];
        if (mx < NULL_TOL)
            return it;
    }
    return -1;
}

int pm_bin_fit(pm_ctx_t *ctx, pm_glm_t *m, pm_bin_t *b, const double *y01)
{
    const pm_group_t *G = &m->groups[b->group];
    uint32_t n = m->n, p = m->p, N = G->n_incl;
    double sc = sqrt((double)N);
    int rc = 0;
    double *X = malloc((size_t)N * p * sizeof *X);
    double *y = malloc((size_t)N * sizeof *y);
    double *eta = malloc((size_t)N * sizeof *eta);
    double *Zc = malloc((size_t)N * p * sizeof *Zc);
    double *Im = malloc((size_t)p * p * sizeof *Im);
    double *U = malloc(p * sizeof *U), *delta = malloc(p * sizeof *delta);
    b->y = calloc(n, 1);
    b->beta0 = calloc(p, sizeof *b->beta0);
    b->Qw = calloc((size_t)n * p, sizeof *b->Qw);
    if (!X || !y || !eta || !Zc || !Im || !U || !delta || !b->y || !b->beta0 || !b->Qw) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory for the logistic null model");
        goto out;
    }
    uint32_t r = 0, cases = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (G->incl && !G->incl[i])
            continue;
        b->y[i] = y01[i] != 0;
        y[r] = b->y[i];
        cases += b->y[i];
        for (uint32_t a = 0; a < p; a++)
            X[(size_t)r * p + a] = sc * G->Q[(size_t)i * p + a];
        r++;
    }
    if (cases == 0 || cases == N) {
        rc = pm_err(ctx, PM_EINPUT, "binary phenotype %u has %s", b->pheno + 1,
                    cases ? "no controls" : "no cases");
        goto out;
    }
    if (null_newton(X, y, N, p, b->beta0, eta, Im, U, delta) < 0) {
        rc = pm_err(ctx, PM_EINPUT,
                    "binary phenotype %u: the logistic null model does not converge "
                    "(a covariate separates cases from controls?)",
                    b->pheno + 1);
        goto out;
    }
    /* final weights at the converged coefficients */
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)N, (int)p, 1.0, X, (int)p, b->beta0, 1, 0.0, eta,
                1);
    if ((rc = pm_kern_init(&b->score, n, p, 1, b->Qw, G->incl, N)) < 0) {
        pm_err(ctx, rc, "out of memory");
        goto out;
    }
    b->score.wh = calloc(n, sizeof *b->score.wh);
    if (!b->score.wh) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    r = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (G->incl && !G->incl[i])
            continue;
        double mu = logistic(eta[r]), wi = mu * (1 - mu);
        if (!(wi > 1e-300)) {
            rc = pm_err(ctx, PM_EINPUT,
                        "binary phenotype %u: fitted probabilities of 0 or 1 in the null model",
                        b->pheno + 1);
            goto out;
        }
        double wh = sqrt(wi);
        b->score.wh[i] = wh;
        b->score.R[i] = (y[r] - mu) / wh;
        for (uint32_t a = 0; a < p; a++)
            Zc[(size_t)a * N + r] = wh * X[(size_t)r * p + a];
        r++;
    }
    uint32_t bad = 0;
    if (pm_qr_thin(Zc, N, p, &bad) < 0) {
        rc = pm_err(ctx, PM_EINPUT, "binary phenotype %u: weighted covariates are singular",
                    b->pheno + 1);
        goto out;
    }
    r = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (G->incl && !G->incl[i])
            continue;
        for (uint32_t a = 0; a < p; a++)
            b->Qw[(size_t)i * p + a] = Zc[(size_t)a * N + r];
        r++;
    }
    pm_kern_finish(&b->score, n);
out:
    free(X);
    free(y);
    free(eta);
    free(Zc);
    free(Im);
    free(U);
    free(delta);
    return rc;
}

/* ---- Firth ---- */

/* Each iteration makes two passes over the N x P design: firth_ll (the
 * penalised log-likelihood and the Cholesky factor of I = X'WX, all a
 * step-halving check needs) and, at an accepted point, firth_lev
 * (leverages, the modified score and the step matrix). The products
 * are BLAS calls of shape N x P, P small: the caller keeps BLAS on one
 * thread (pm_glm_blas_serial), as OpenBLAS's own threads cost far more
 * than the arithmetic at this size. */

/* Pass 1 at beta: mu (w->mu), sqrt(w) X (w->Xw), the lower Cholesky
 * factor of I = X'WX in w->L and the penalised log-likelihood. Returns
 * -1 when I is singular. */
static int firth_ll(pm_glm_work_t *w, uint32_t N, uint32_t P, const double *beta, double *pll)
{
    const double *X = w->X;
    double *Xw = w->Xw, *eta = w->eta, *mu = w->mu, *L = w->L;
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)N, (int)P, 1.0, X, (int)P, beta, 1, 0.0, eta, 1);
    double ll = 0;
    for (uint32_t i = 0; i < N; i++) {
        /* mu and the log-likelihood from one exp, without cancellation */
        double e = exp(-fabs(eta[i])), d = 1.0 / (1.0 + e);
        mu[i] = eta[i] >= 0 ? d : e * d;
        double z = w->y[i] != 0 ? -eta[i] : eta[i];
        ll -= (z > 0 ? z : 0) + log1p(e);
        double sw = sqrt(e) * d; /* sqrt(mu (1 - mu)) */
        const double *Xi = X + (size_t)i * P;
        double *Xwi = Xw + (size_t)i * P;
        for (uint32_t a = 0; a < P; a++)
            Xwi[a] = sw * Xi[a];
    }
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (int)P, (int)N, 1.0, Xw, (int)P, 0.0, L,
                (int)P);
    if (pm_chol(L, P, 1e-12) < 0)
        return -1;
    double logdet = 0;
    for (uint32_t a = 0; a < P; a++)
        logdet += 2 * log(L[a * P + a]);
    *pll = ll + 0.5 * logdet;
    return 0;
}

/* Pass 2 at the point of the last firth_ll: leverages h_i = |L^-1 x_i
 * sqrt(w_i)|^2, the modified score U* = X'(y - mu + h (1/2 - mu)) in
 * w->U and the lower triangle of M = X' diag((1 + h) w) X in w->FI, the
 * expected derivative of U* (the plain X'WX ignores the leverages' share
 * and converges markedly slower on rare variants; both have the same
 * fixed point U* = 0). */
static void firth_lev(pm_glm_work_t *w, uint32_t N, uint32_t P)
{
    const double *X = w->X, *mu = w->mu;
    double *Xw = w->Xw, *r = w->eta;
    /* Xw := Xw L^-T: row i is then L^-1 sqrt(w_i) x_i */
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, (int)N, (int)P, 1.0,
                w->L, (int)P, Xw, (int)P);
    for (uint32_t i = 0; i < N; i++) {
        double *Zi = Xw + (size_t)i * P;
        double h = 0;
        for (uint32_t a = 0; a < P; a++)
            h += Zi[a] * Zi[a];
        r[i] = w->y[i] - mu[i] + h * (0.5 - mu[i]); /* the modified residual */
        double s = sqrt((1 + h) * mu[i] * (1 - mu[i]));
        const double *Xi = X + (size_t)i * P;
        for (uint32_t a = 0; a < P; a++)
            Zi[a] = s * Xi[a];
    }
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)N, (int)P, 1.0, X, (int)P, r, 1, 0.0, w->U, 1);
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (int)P, (int)N, 1.0, Xw, (int)P, 0.0, w->FI,
                (int)P);
}

/* delta = M^-1 U*. Returns -1 when M is singular. */
static int firth_step(pm_glm_work_t *w, uint32_t P, double *delta)
{
    if (pm_chol(w->FI, P, 1e-12) < 0)
        return -1;
    memcpy(delta, w->U, P * sizeof *delta);
    pm_fsolve(w->FI, P, delta);
    pm_bsolve(w->FI, P, delta);
    return 0;
}

void pm_firth(const pm_glm_t *m, const pm_bin_t *b, pm_glm_work_t *w, const pm_gvec_t *g,
              pm_glm_result_t *res)
{
    const pm_group_t *G = &m->groups[b->group];
    uint32_t n = m->n, p = m->p, P = p + 1;
    double sc = sqrt((double)G->n_incl);

    /* the dense genotype over the group's samples, missing ones flagged */
    double *gd = w->h;
    if (g->dense) {
        memcpy(gd, g->dense, n * sizeof *gd);
    } else {
        for (uint32_t i = 0; i < n; i++)
            gd[i] = g->fill;
        for (uint32_t e = 0; e < g->nnz; e++)
            gd[g->idx[e]] = g->val[e];
    }
    for (uint32_t e = 0; e < g->n_miss; e++)
        w->missflag[g->miss[e]] = 1;
    uint32_t N = 0;
    for (uint32_t i = 0; i < n; i++) {
        if ((G->incl && !G->incl[i]) || w->missflag[i])
            continue;
        double *Xi = w->X + (size_t)N * P;
        const double *Qi = G->Q + (size_t)i * p;
        for (uint32_t a = 0; a < p; a++)
            Xi[a] = sc * Qi[a];
        Xi[p] = gd[i];
        w->y[N] = b->y[i];
        N++;
    }
    for (uint32_t e = 0; e < g->n_miss; e++)
        w->missflag[g->miss[e]] = 0;

    double *beta = w->beta, *bn = w->beta_new, *delta = w->delta;
    memcpy(beta, b->beta0, p * sizeof *beta);
    beta[p] = 0;
    double pll;
    int it, conv = 0;
    if (firth_ll(w, N, P, beta, &pll) < 0)
        goto singular;
    firth_lev(w, N, P);
    for (it = 1; it <= m->opts.firth_maxit; it++) {
        if (firth_step(w, P, delta) < 0)
            goto singular;
        double mx = 0;
        for (uint32_t a = 0; a < P; a++)
            if (fabs(delta[a]) > mx)
                mx = fabs(delta[a]);
        if (!(mx == mx))
            break;
        if (mx <= m->opts.firth_tol) {
            conv = 1;
            break;
        }
        if (mx > MAX_STEP)
            for (uint32_t a = 0; a < P; a++)
                delta[a] *= MAX_STEP / mx;
        /* step, halving while the penalised likelihood decreases */
        double pll_new = -INFINITY;
        for (int hs = 0; hs <= MAX_HALVINGS; hs++) {
            for (uint32_t a = 0; a < P; a++)
                bn[a] = beta[a] + delta[a];
            int st = firth_ll(w, N, P, bn, &pll_new);
            if (st == 0 && pll_new >= pll - 1e-12 * fabs(pll))
                break;
            for (uint32_t a = 0; a < P; a++)
                delta[a] *= 0.5;
            if (hs == MAX_HALVINGS && st < 0)
                goto singular;
        }
        memcpy(beta, bn, P * sizeof *beta);
        pll = pll_new;
        firth_lev(w, N, P);
    }
    if (!conv) {
        res->beta = res->se = res->stat = res->p = NAN;
        res->obs_ct = N;
        res->test = PM_GLM_FIRTH;
        res->err = PM_GLM_ENOCONV;
        res->firth_iter = m->opts.firth_maxit;
        return;
    }
    /* var(beta_g) = (I^-1)_PP = 1 / L_PP^2, g being the last column */
    res->beta = beta[p];
    res->se = 1.0 / w->L[(size_t)p * P + p];
    res->stat = res->beta / res->se;
    res->p = pm_stats_norm_p2(res->stat);
    res->obs_ct = N;
    res->test = PM_GLM_FIRTH;
    res->err = PM_GLM_OK;
    res->firth_iter = it;
    return;
singular:
    res->beta = res->se = res->stat = res->p = NAN;
    res->obs_ct = N;
    res->test = PM_GLM_FIRTH;
    res->err = PM_GLM_ESINGULAR;
    res->firth_iter = 0;
}
