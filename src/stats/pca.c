/*
 * pca.c - principal components of a cohort's genotypes (promise/pca.h).
 *
 * One pass of the genotype site iterator selects the candidates (biallelic
 * autosomal SNPs with MAF >= --maf), LD-prunes them in a sliding window
 * (each candidate is compared with the previous window - 1 candidates of
 * its chromosome; of a pair with r^2 above the threshold, the one with the
 * lower MAF goes, the later one on a tie) and keeps the survivors as 2-bit
 * codes. The components are then the top eigenvectors of B = X X' for the
 * standardised n x M matrix X, which is never formed whole: blocks of
 * variants are decoded to doubles and multiplied with BLAS.
 *
 * Approximate (default): randomized block Krylov (Musco & Musco 2015; the
 * method of plink2 --pca approx, after Galinsky et al. 2016): K = [B G,
 * B^2 G, ..., B^(q+1) G] for a Gaussian n x l start G, each block
 * orthonormalised, Q an orthonormal basis of K, then Rayleigh-Ritz: the
 * eigenpairs of Q'BQ = (X'Q)'(X'Q) give the components Q V and the
 * eigenvalues. Exact (--exact, or when the Krylov space would not be
 * smaller than the cohort): B itself and LAPACK's dsyevr.
 *
 * Eigenvalues are those of the genetic relationship matrix X X' / M, as
 * plink2 reports them; eigenvectors have unit length, with the sign that
 * makes their largest entry positive.
 */
#include <cblas.h>
#include <inttypes.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/cat_pca.h"
#include "promise/genotype.h"
#include "promise/identity.h"
#include "promise/pca.h"

#define PCA_BLOCK 256       /* variants decoded per BLAS call */
#define PCA_ITER 10         /* Krylov iterations q */
#define PCA_EXACT_MAX 20000 /* largest cohort for --exact (n x n doubles) */
#define PCA_MISSING 3

static double pca_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---------------------------------------------------------------- */
/* the kept genotypes: 2-bit codes, 4 individuals per byte            */

typedef struct pca_mat {
    uint32_t n;
    size_t row;     /* bytes per variant */
    uint8_t *g;     /* M x row */
    double *mean;   /* 2p per variant */
    double *inv;    /* 1 / sqrt(2p(1-p)) */
    size_t M, cap;
    char **var;     /* optional names */
    int keep_names;
} pca_mat_t;

static int pca_mat_add(pca_mat_t *m, const uint8_t *codes, double p, const char *name)
{
    if (m->M == m->cap) {
        size_t nc = m->cap ? 2 * m->cap : 1024;
        uint8_t *g = realloc(m->g, nc * m->row);
        if (!g)
            return -1;
        m->g = g;
        double *a = realloc(m->mean, nc * sizeof *a);
        if (!a)
            return -1;
        m->mean = a;
        double *b = realloc(m->inv, nc * sizeof *b);
        if (!b)
            return -1;
        m->inv = b;
        if (m->keep_names) {
            char **v = realloc(m->var, nc * sizeof *v);
            if (!v)
                return -1;
            m->var = v;
        }
        m->cap = nc;
    }
    uint8_t *dst = m->g + m->M * m->row;
    memset(dst, 0, m->row);
    for (uint32_t i = 0; i < m->n; i++)
        dst[i >> 2] |= (uint8_t)(codes[i] << ((i & 3) * 2));
    m->mean[m->M] = 2.0 * p;
    m->inv[m->M] = 1.0 / sqrt(2.0 * p * (1.0 - p));
    if (m->keep_names) {
        m->var[m->M] = strdup(name);
        if (!m->var[m->M])
            return -1;
    }
    m->M++;
    return 0;
}

static void pca_mat_fini(pca_mat_t *m)
{
    free(m->g);
    free(m->mean);
    free(m->inv);
    if (m->var)
        for (size_t j = 0; j < m->M; j++)
            free(m->var[j]);
    free(m->var);
}

/* Variants [j0, j0 + b) standardised into X (n x b column-major). */
static void pca_decode(const pca_mat_t *m, size_t j0, size_t b, double *X)
{
    for (size_t j = 0; j < b; j++) {
        const uint8_t *g = m->g + (j0 + j) * m->row;
        double mu = m->mean[j0 + j], s = m->inv[j0 + j];
        double v[4] = {(0.0 - mu) * s, (1.0 - mu) * s, (2.0 - mu) * s, 0.0};
        double *x = X + j * m->n;
        for (uint32_t i = 0; i < m->n; i++)
            x[i] = v[(g[i >> 2] >> ((i & 3) * 2)) & 3];
    }
}

/* ---------------------------------------------------------------- */
/* candidate selection and LD pruning                                 */

typedef struct pca_slot {
    uint8_t *codes; /* n */
    float *u;       /* n: centred, unit length */
    double p, maf;
    int pruned;
    char name[160];
} pca_slot_t;

typedef struct pca_prune {
    pm_ctx_t *ctx;
    uint32_t n;
    int W;          /* window; <= 0: no pruning */
    double r2;
    pca_slot_t *ring;
    int head, len;  /* oldest slot, slots in use */
    char chrom[32];
    pca_mat_t *out;
    int64_t n_cand;
} pca_prune_t;

static int pca_emit(pca_prune_t *pr, pca_slot_t *s)
{
    if (s->pruned)
        return 0;
    if (pca_mat_add(pr->out, s->codes, s->p, s->name) < 0)
        return pm_err(pr->ctx, PM_ENOMEM, "out of memory for the pruned genotypes");
    return 0;
}

static int pca_flush(pca_prune_t *pr)
{
    int rc = 0;
    for (int i = 0; i < pr->len && rc == 0; i++)
        rc = pca_emit(pr, &pr->ring[(pr->head + i) % pr->W]);
    pr->head = pr->len = 0;
    return rc;
}

/* One candidate (codes over n, ALT frequency p). */
static int pca_candidate(pca_prune_t *pr, const char *chrom, const uint8_t *codes, double p,
                         const char *name)
{
    pr->n_cand++;
    double maf = p < 0.5 ? p : 1.0 - p;
    if (pr->W <= 0) {
        if (pca_mat_add(pr->out, codes, p, name) < 0)
            return pm_err(pr->ctx, PM_ENOMEM, "out of memory for the genotypes");
        return 0;
    }
    int rc;
    if (strcmp(pr->chrom, chrom)) {
        if ((rc = pca_flush(pr)) < 0)
            return rc;
        snprintf(pr->chrom, sizeof pr->chrom, "%s", chrom);
    }
    pca_slot_t *s;
    if (pr->len == pr->W) { /* the oldest leaves the window */
        s = &pr->ring[pr->head];
        if ((rc = pca_emit(pr, s)) < 0)
            return rc;
        pr->head = (pr->head + 1) % pr->W;
        pr->len--;
    }
    s = &pr->ring[(pr->head + pr->len) % pr->W];
    memcpy(s->codes, codes, pr->n);
    s->p = p;
    s->maf = maf;
    s->pruned = 0;
    snprintf(s->name, sizeof s->name, "%s", name);
    /* centred on the called mean, missing calls at the mean, unit length */
    double sum = 0, ss = 0;
    uint32_t called = 0;
    for (uint32_t i = 0; i < pr->n; i++)
        if (codes[i] != PCA_MISSING) {
            sum += codes[i];
            called++;
        }
    double mu = called ? sum / called : 0;
    for (uint32_t i = 0; i < pr->n; i++) {
        double v = codes[i] == PCA_MISSING ? 0.0 : codes[i] - mu;
        s->u[i] = (float)v;
        ss += v * v;
    }
    if (ss <= 0) {
        s->pruned = 1; /* constant among the called: no information */
    } else {
        float f = (float)(1.0 / sqrt(ss));
        for (uint32_t i = 0; i < pr->n; i++)
            s->u[i] *= f;
    }
    for (int i = 0; i < pr->len && !s->pruned; i++) {
        pca_slot_t *o = &pr->ring[(pr->head + i) % pr->W];
        if (o->pruned)
            continue;
        double r = cblas_sdot((int)pr->n, o->u, 1, s->u, 1);
        if (r * r > pr->r2) {
            if (o->maf < s->maf)
                o->pruned = 1;
            else
                s->pruned = 1;
        }
    }
    pr->len++;
    return 0;
}

static int pca_autosome(const char *chrom)
{
    if (!chrom[0] || strspn(chrom, "0123456789") != strlen(chrom) || strlen(chrom) > 2)
        return 0;
    int c = (int)strtol(chrom, NULL, 10);
    return c >= 1 && c <= 22;
}

static int pca_snp(const char *a)
{
    return a && a[0] && !a[1] && strchr("ACGTacgt", a[0]);
}

/* The pending site (held back one step so that a multi-allelic record,
 * which the iterator gives as several steps at one position, can be
 * dropped whole). */
typedef struct pca_pending {
    int have;
    char chrom[32];
    int64_t pos;
    double p;
    char name[160];
    uint8_t *codes;
} pca_pending_t;

static int pca_select(pm_store_t *st, const pm_pca_opts_t *o, double maf_min, pm_gt_iter_t *it,
                      pca_prune_t *pr)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    uint32_t n = pm_gt_iter_n(it);
    pca_pending_t pd = {0};
    char bad_chrom[32] = "";
    int64_t bad_pos = -1, sites = 0;
    int rc = 0;
    (void)o;
    if (!(pd.codes = malloc(n ? n : 1)))
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    for (;;) {
        pm_gt_site_t s;
        int r = pm_gt_iter_next(it, &s);
        if (r < 0) {
            rc = r;
            break;
        }
        if (r == 0)
            break;
        if ((++sites & 0xffff) == 0)
            pm_progress(ctx, "pca: sites read", (uint64_t)sites, 0);
        int same = pd.have && pd.pos == s.pos && !strcmp(pd.chrom, s.chrom);
        if (same || s.allele > 1) { /* a multi-allelic record: drop all of it */
            snprintf(bad_chrom, sizeof bad_chrom, "%s", s.chrom);
            bad_pos = s.pos;
            if (same)
                pd.have = 0;
            continue;
        }
        if (bad_pos == s.pos && !strcmp(bad_chrom, s.chrom))
            continue;
        if (pd.have && (rc = pca_candidate(pr, pd.chrom, pd.codes, pd.p, pd.name)) < 0)
            break;
        pd.have = 0;
        if (!pca_autosome(s.chrom) || !pca_snp(s.ref) || !pca_snp(s.alt) || s.an <= 0)
            continue;
        double p = (double)s.ac / (double)s.an;
        double maf = p < 0.5 ? p : 1.0 - p;
        if (maf <= 0 || maf < maf_min)
            continue;
        memset(pd.codes, 0, n);
        for (uint32_t q = 0; q < s.n_carrier; q++)
            pd.codes[s.carrier[q]] = s.dosage[q] > 2 ? 2 : s.dosage[q];
        for (uint32_t q = 0; q < s.n_missing; q++)
            pd.codes[s.missing[q]] = PCA_MISSING;
        snprintf(pd.chrom, sizeof pd.chrom, "%s", s.chrom);
        pd.pos = s.pos;
        pd.p = p;
        snprintf(pd.name, sizeof pd.name, "%s:%" PRId64 ":%s:%s", s.chrom, s.pos, s.ref, s.alt);
        pd.have = 1;
    }
    if (rc == 0 && pd.have)
        rc = pca_candidate(pr, pd.chrom, pd.codes, pd.p, pd.name);
    if (rc == 0 && pr->W > 0)
        rc = pca_flush(pr);
    free(pd.codes);
    return rc;
}

/* ---------------------------------------------------------------- */
/* linear algebra                                                     */

/* out (n x l) = X X' V for V n x l, all column-major. Xb: n x PCA_BLOCK
 * scratch, T: PCA_BLOCK x l scratch. */
static void pca_bmul(const pca_mat_t *m, const double *V, int l, double *out, double *Xb,
                     double *T)
{
    uint32_t n = m->n;
    memset(out, 0, (size_t)n * (size_t)l * sizeof *out);
    for (size_t j0 = 0; j0 < m->M; j0 += PCA_BLOCK) {
        size_t b = m->M - j0 < PCA_BLOCK ? m->M - j0 : PCA_BLOCK;
        pca_decode(m, j0, b, Xb);
        cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)b, l, (int)n, 1.0, Xb, (int)n,
                    V, (int)n, 0.0, T, (int)b);
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)n, l, (int)b, 1.0, Xb,
                    (int)n, T, (int)b, 1.0, out, (int)n);
    }
}

/* Orthonormalises the n x c matrix A in place (Householder QR). */
static int pca_orth(double *A, uint32_t n, int c)
{
    double *tau = malloc((size_t)c * sizeof *tau);
    if (!tau)
        return -1;
    int rc = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (lapack_int)n, c, A, (lapack_int)n, tau) != 0 ||
                     LAPACKE_dorgqr(LAPACK_COL_MAJOR, (lapack_int)n, c, c, A, (lapack_int)n,
                                    tau) != 0
                 ? -1
                 : 0;
    free(tau);
    return rc;
}

/* Top k eigenpairs of the symmetric c x c matrix A (upper triangle used;
 * destroyed): w decreasing, Z c x k column-major. */
static int pca_top_eig(double *A, int c, int k, double *w, double *Z)
{
    double *ww = malloc((size_t)c * sizeof *ww);
    lapack_int *sup = malloc((size_t)(2 * k) * sizeof *sup);
    double *zz = malloc((size_t)c * (size_t)k * sizeof *zz);
    lapack_int found = 0;
    int rc = -1;
    if (ww && sup && zz &&
        LAPACKE_dsyevr(LAPACK_COL_MAJOR, 'V', 'I', 'U', c, A, c, 0.0, 0.0, c - k + 1, c, 0.0,
                       &found, ww, zz, c, sup) == 0 &&
        found == k) {
        for (int j = 0; j < k; j++) { /* ascending -> decreasing */
            w[j] = ww[k - 1 - j];
            memcpy(Z + (size_t)j * c, zz + (size_t)(k - 1 - j) * c, (size_t)c * sizeof *Z);
        }
        rc = 0;
    }
    free(ww);
    free(sup);
    free(zz);
    return rc;
}

static uint64_t pca_rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double pca_rng_normal(uint64_t *s)
{
    double u1 = ((double)(pca_rng_next(s) >> 11) + 0.5) * 0x1.0p-53;
    double u2 = ((double)(pca_rng_next(s) >> 11) + 0.5) * 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static int pca_exact(pm_ctx_t *ctx, const pca_mat_t *m, int k, double *w, double *U)
{
    uint32_t n = m->n;
    double *B = calloc((size_t)n * n, sizeof *B);
    double *Xb = malloc((size_t)n * PCA_BLOCK * sizeof *Xb);
    int rc = 0;
    if (!B || !Xb) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory for the %u x %u relationship matrix", n, n);
        goto out;
    }
    for (size_t j0 = 0; j0 < m->M; j0 += PCA_BLOCK) {
        size_t b = m->M - j0 < PCA_BLOCK ? m->M - j0 : PCA_BLOCK;
        pca_decode(m, j0, b, Xb);
        cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, (int)n, (int)b, 1.0, Xb, (int)n,
                    1.0, B, (int)n);
        pm_progress(ctx, "pca: relationship matrix, variants", (uint64_t)(j0 + b), m->M);
    }
    if (pca_top_eig(B, (int)n, k, w, U) < 0)
        rc = pm_err(ctx, PM_EINTERNAL, "pca: the eigendecomposition did not converge");
out:
    free(B);
    free(Xb);
    return rc;
}

static int pca_krylov(pm_ctx_t *ctx, const pca_mat_t *m, int k, int l, int q, uint64_t seed,
                      double *w, double *U)
{
    uint32_t n = m->n;
    int c = l * (q + 1);
    double *K = malloc((size_t)n * (size_t)c * sizeof *K);
    double *G = malloc((size_t)n * (size_t)l * sizeof *G);
    double *Xb = malloc((size_t)n * PCA_BLOCK * sizeof *Xb);
    double *T = malloc((size_t)PCA_BLOCK * (size_t)c * sizeof *T);
    double *C = calloc((size_t)c * (size_t)c, sizeof *C);
    double *Z = malloc((size_t)c * (size_t)k * sizeof *Z);
    int rc = 0;
    if (!K || !G || !Xb || !T || !C || !Z) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory for the Krylov basis (%u x %d)", n, c);
        goto out;
    }
    uint64_t s = seed ? seed : 0x5EEDC0DEull;
    for (size_t i = 0; i < (size_t)n * l; i++)
        G[i] = pca_rng_normal(&s);
    /* blocks B G, B^2 G, ...; each orthonormalised (same span, no overflow) */
    const double *prev = G;
    for (int it = 0; it <= q; it++) {
        double *blk = K + (size_t)it * n * l;
        pca_bmul(m, prev, l, blk, Xb, T);
        if (pca_orth(blk, n, l) < 0) {
            rc = pm_err(ctx, PM_EINTERNAL, "pca: QR of a Krylov block failed");
            goto out;
        }
        prev = blk;
        pm_progress(ctx, "pca: Krylov iterations", (uint64_t)it + 1, (uint64_t)q + 1);
    }
    if (pca_orth(K, n, c) < 0) {
        rc = pm_err(ctx, PM_EINTERNAL, "pca: QR of the Krylov basis failed");
        goto out;
    }
    /* Rayleigh-Ritz: C = (X'K)'(X'K) */
    for (size_t j0 = 0; j0 < m->M; j0 += PCA_BLOCK) {
        size_t b = m->M - j0 < PCA_BLOCK ? m->M - j0 : PCA_BLOCK;
        pca_decode(m, j0, b, Xb);
        cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)b, c, (int)n, 1.0, Xb, (int)n,
                    K, (int)n, 0.0, T, (int)b);
        cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, c, (int)b, 1.0, T, (int)b, 1.0, C, c);
    }
    if (pca_top_eig(C, c, k, w, Z) < 0) {
        rc = pm_err(ctx, PM_EINTERNAL, "pca: the eigendecomposition did not converge");
        goto out;
    }
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)n, k, c, 1.0, K, (int)n, Z, c,
                0.0, U, (int)n);
out:
    free(K);
    free(G);
    free(Xb);
    free(T);
    free(C);
    free(Z);
    return rc;
}

/* ---------------------------------------------------------------- */
/* the run                                                            */

void pm_pca_free(pm_pca_t *p)
{
    if (!p)
        return;
    free(p->individual);
    free(p->vec);
    free(p->eigval);
    if (p->variant)
        for (int64_t j = 0; j < p->n_variants; j++)
            free(p->variant[j]);
    free(p->variant);
    free(p->cohort);
    free(p);
}

static void pca_defaults(const pm_pca_opts_t *o, pm_pca_opts_t *d)
{
    *d = o ? *o : (pm_pca_opts_t){0};
    if (d->k == 0)
        d->k = 10;
    if (d->maf == 0)
        d->maf = 0.01;
    if (d->maf < 0)
        d->maf = 0;
    if (d->ld_window == 0)
        d->ld_window = 50;
    if (d->ld_step == 0)
        d->ld_step = 5;
    if (d->ld_r2 == 0)
        d->ld_r2 = 0.2;
}

int pm_pca_run(pm_store_t *st, const pm_pca_opts_t *opts, pm_pca_t **out)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    *out = NULL;
    pm_pca_opts_t o;
    pca_defaults(opts, &o);
    if (o.k < 1 || o.k > PM_PCA_MAX_K)
        return pm_err(ctx, PM_EUSAGE, "-k wants 1..%d, not %d", PM_PCA_MAX_K, o.k);
    if (o.maf >= 0.5)
        return pm_err(ctx, PM_EUSAGE, "--maf wants a value below 0.5, not %g", o.maf);
    if (o.ld_window > 0 && (o.ld_window < 2 || o.ld_step < 1 || o.ld_r2 <= 0 || o.ld_r2 > 1))
        return pm_err(ctx, PM_EUSAGE,
                      "--ld-window wants >= 2, --ld-step >= 1 and --ld-r2 in (0, 1]");
    double t0 = pca_now();
    pm_gt_query_opts_t q = {.cohort = o.cohort, .purpose = o.purpose};
    pm_gt_iter_t *it = NULL;
    pm_pca_t *p = calloc(1, sizeof *p);
    pca_mat_t mat = {0};
    pca_prune_t pr = {.ctx = ctx, .W = o.ld_window, .r2 = o.ld_r2, .out = &mat};
    int rc;
    if (!p || !(p->cohort = strdup(o.cohort ? o.cohort : ""))) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = pm_gt_iter_open(st, &q, &it)) < 0)
        goto out;
    uint32_t n = pm_gt_iter_n(it);
    if (n < (uint32_t)o.k + 1) {
        rc = pm_err(ctx, PM_EINPUT, "%u genotyped individuals in the cohort; %d components "
                                    "need at least %d",
                    n, o.k, o.k + 1);
        goto out;
    }
    mat.n = n;
    mat.row = (n + 3) / 4;
    mat.keep_names = o.keep_variants;
    pr.n = n;
    if (pr.W > 0) {
        if (!(pr.ring = calloc((size_t)pr.W, sizeof *pr.ring))) {
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
            goto out;
        }
        for (int i = 0; i < pr.W; i++)
            if (!(pr.ring[i].codes = malloc(n)) || !(pr.ring[i].u = malloc(n * sizeof(float)))) {
                rc = pm_err(ctx, PM_ENOMEM, "out of memory for the LD window");
                goto out;
            }
    }
    if ((rc = pca_select(st, &o, o.maf, it, &pr)) < 0)
        goto out;
    p->n_candidates = pr.n_cand;
    p->n_variants = (int64_t)mat.M;
    if (mat.M < (size_t)o.k) {
        rc = pm_err(ctx, PM_EINPUT, "%zu variants left after the MAF filter and LD pruning "
                                    "(%" PRId64 " candidates); %d components need at least %d",
                    mat.M, pr.n_cand, o.k, o.k);
        goto out;
    }
    p->k = o.k;
    p->n = n;
    p->individual = malloc((size_t)n * sizeof *p->individual);
    p->vec = malloc((size_t)n * (size_t)o.k * sizeof *p->vec);
    p->eigval = malloc((size_t)o.k * sizeof *p->eigval);
    if (!p->individual || !p->vec || !p->eigval) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(p->individual, pm_gt_iter_individuals(it), (size_t)n * sizeof *p->individual);
    /* block size l and iterations q: as in plink2, l a little above k; the
     * Krylov space must stay below n and M, else exact is cheaper anyway */
    int l = o.k + (o.k < 10 ? o.k : 10), iters = PCA_ITER;
    while (iters > 0 && ((size_t)l * (iters + 1) >= n || (size_t)l * (iters + 1) >= mat.M))
        iters--;
    int exact = o.exact || iters < 2;
    if (exact && n > PCA_EXACT_MAX) {
        rc = pm_err(ctx, PM_ELIMIT, "--exact handles at most %d individuals (%u here)",
                    PCA_EXACT_MAX, n);
        goto out;
    }
    rc = exact ? pca_exact(ctx, &mat, o.k, p->eigval, p->vec)
               : pca_krylov(ctx, &mat, o.k, l, iters, o.seed, p->eigval, p->vec);
    if (rc < 0)
        goto out;
    for (int j = 0; j < o.k; j++) {
        double *v = p->vec + (size_t)j * n, big = 0;
        p->eigval[j] /= (double)mat.M;
        for (uint32_t i = 0; i < n; i++)
            if (fabs(v[i]) > fabs(big))
                big = v[i];
        if (big < 0)
            for (uint32_t i = 0; i < n; i++)
                v[i] = -v[i];
    }
    if (o.keep_variants) {
        p->variant = mat.var;
        mat.var = NULL;
    }
    p->seconds = pca_now() - t0;
out:
    if (pr.ring)
        for (int i = 0; i < pr.W; i++) {
            free(pr.ring[i].codes);
            free(pr.ring[i].u);
        }
    free(pr.ring);
    pca_mat_fini(&mat);
    if (it)
        pm_gt_iter_close(it);
    if (rc < 0) {
        pm_pca_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int pm_pca_save(pm_store_t *st, pm_pca_t *p, const pm_pca_opts_t *opts)
{
    pm_pca_opts_t o;
    pca_defaults(opts, &o);
    char params[256];
    if (o.ld_window > 0)
        snprintf(params, sizeof params, "k=%d maf=%g ld=%d,%d,%g %s", p->k, o.maf, o.ld_window,
                 o.ld_step, o.ld_r2, o.exact ? "exact" : "approx");
    else
        snprintf(params, sizeof params, "k=%d maf=%g ld=none %s", p->k, o.maf,
                 o.exact ? "exact" : "approx");
    pm_catpca_run_t r = {.cohort = p->cohort, .params = params, .k = p->k, .n = p->n,
                         .individual = p->individual, .vec = p->vec, .eigval = p->eigval,
                         .n_variants = p->n_variants};
    return pm_catpca_save(st, &r, &p->run);
}

int pm_pca_load(pm_store_t *st, pm_pca_t **out)
{
    *out = NULL;
    pm_catpca_loaded_t l;
    int rc = pm_catpca_load_latest(st, &l);
    if (rc <= 0)
        return rc;
    pm_pca_t *p = calloc(1, sizeof *p);
    if (!p) {
        free(l.individual);
        free(l.vec);
        free(l.eigval);
        free(l.cohort);
        return pm_err(pm_store_ctx(st), PM_ENOMEM, "out of memory");
    }
    p->k = l.k;
    p->n = l.n;
    p->individual = l.individual;
    p->vec = l.vec;
    p->eigval = l.eigval;
    p->n_variants = l.n_variants;
    p->run = l.id;
    p->cohort = l.cohort;
    *out = p;
    return 0;
}

int pm_pca_component(pm_store_t *st, const pm_pca_t *p, int j, double *out)
{
    int64_t N = pm_store_n_individuals(st);
    if (N < 0)
        return (int)N;
    if (j < 1 || j > p->k)
        return pm_err(pm_store_ctx(st), PM_EUSAGE, "pc%d: the PCA has %d components", j, p->k);
    for (int64_t i = 0; i < N; i++)
        out[i] = NAN;
    for (uint32_t i = 0; i < p->n; i++)
        if (p->individual[i] >= 0 && p->individual[i] < N)
            out[p->individual[i]] = p->vec[(size_t)(j - 1) * p->n + i];
    return 0;
}

static int pca_close(pm_ctx_t *ctx, FILE *f, const char *path)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return pm_err(ctx, PM_EIO, "cannot write '%s'", path);
    return 0;
}

int pm_pca_write(pm_store_t *st, const pm_pca_t *p, const char *prefix)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    size_t pl = strlen(prefix) + 16;
    char *path = malloc(pl);
    char *ids = malloc((size_t)(p->n ? p->n : 1) * PM_PSEUDONYM_MAX);
    int rc = 0;
    FILE *f = NULL;
    if (!path || !ids) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = pm_catpca_pseudonyms(st, p->n, p->individual, ids, PM_PSEUDONYM_MAX)) < 0)
        goto out;
    snprintf(path, pl, "%s.eigenvec", prefix);
    if (!(f = fopen(path, "w"))) {
        rc = pm_err(ctx, PM_EIO, "cannot open '%s' for writing", path);
        goto out;
    }
    fputs("#IID", f);
    for (int j = 0; j < p->k; j++)
        fprintf(f, "\tPC%d", j + 1);
    fputc('\n', f);
    for (uint32_t i = 0; i < p->n; i++) {
        fputs(ids + (size_t)i * PM_PSEUDONYM_MAX, f);
        for (int j = 0; j < p->k; j++)
            fprintf(f, "\t%.10g", p->vec[(size_t)j * p->n + i]);
        fputc('\n', f);
    }
    rc = pca_close(ctx, f, path);
    f = NULL;
    if (rc < 0)
        goto out;
    snprintf(path, pl, "%s.eigenval", prefix);
    if (!(f = fopen(path, "w"))) {
        rc = pm_err(ctx, PM_EIO, "cannot open '%s' for writing", path);
        goto out;
    }
    for (int j = 0; j < p->k; j++)
        fprintf(f, "%.8g\n", p->eigval[j]);
    rc = pca_close(ctx, f, path);
    f = NULL;
    if (rc < 0 || !p->variant)
        goto out;
    snprintf(path, pl, "%s.variants", prefix);
    if (!(f = fopen(path, "w"))) {
        rc = pm_err(ctx, PM_EIO, "cannot open '%s' for writing", path);
        goto out;
    }
    for (int64_t j = 0; j < p->n_variants; j++)
        fprintf(f, "%s\n", p->variant[j]);
    rc = pca_close(ctx, f, path);
    f = NULL;
out:
    if (f)
        fclose(f);
    free(path);
    free(ids);
    return rc;
}
