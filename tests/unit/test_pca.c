/* test_pca.c - principal components (src/stats/pca.c) against a naive
 * computation here: a store of 200 individuals from two populations with
 * known genotypes; the variant filter (biallelic autosomal SNPs, MAF),
 * LD pruning of an exact duplicate, the top eigenpair of the relationship
 * matrix by power iteration, approximate vs exact, the stored run and
 * its components as covariates, ICD-10 chapters of the PheWAS. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/cat_cohort.h"
#include "check.h"
#include "promise/genotype.h"
#include "promise/pca.h"
#include "promise/phewas.h"
#include "promise/promise.h"

#define NI 200   /* individuals; the last one withdrawn */
#define NS 400   /* sites written */

static char tmpdir[256];
static int G[NS + 8][NI]; /* dosages, -1 missing */

typedef struct site {
    const char *chrom, *ref, *alt;
    int pos;
    int use; /* 1 when a PCA candidate */
} site_t;
static site_t S[NS + 8];
static int nsite;

static uint64_t rng = 88172645463325252ull;
static double unif(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) * 0x1.0p-53;
}

static int draw(double p) { return (unif() < p) + (unif() < p); }

/* Writes the VCF; sites on chr1, chr2 and X, one multi-allelic record, one
 * indel, an exact duplicate of site 10 at the next position, a few
 * missing calls, some rare sites below the MAF filter. */
static int write_vcf(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "##fileformat=VCFv4.2\n##contig=<ID=1>\n##contig=<ID=2>\n##contig=<ID=X>\n"
               "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
               "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT");
    for (int i = 0; i < NI; i++)
        fprintf(f, "\tg%d", i);
    fputc('\n', f);
    for (int s = 0; s < NS; s++) {
        site_t *t = &S[nsite];
        t->chrom = s < 180 ? "1" : s < 380 ? "2" : "X";
        t->pos = 1000 + 100 * (s < 180 ? s : s < 380 ? s - 180 : s - 380);
        t->ref = "A";
        t->alt = s == 50 ? "AT" : "G";
        double pa = 0.05 + 0.9 * unif(), pb = pa + (unif() - 0.5) * 0.6;
        if (s % 17 == 3)
            pa = pb = 0.002; /* rare */
        pb = pb < 0.01 ? 0.01 : pb > 0.99 ? 0.99 : pb;
        for (int i = 0; i < NI; i++) {
            G[nsite][i] = draw(i < NI / 2 ? pa : pb);
            if (unif() < 0.01)
                G[nsite][i] = -1;
        }
        if (s == 10) { /* an exact duplicate at the next position */
            nsite++;
            S[nsite] = *t;
            S[nsite].pos = t->pos + 1;
            memcpy(G[nsite], G[nsite - 1], sizeof G[0]);
        }
        nsite++;
    }
    for (int s = 0; s < nsite; s++) {
        site_t *t = &S[s];
        int multi = s == 120;
        fprintf(f, "%s\t%d\t.\t%s\t%s\t.\tPASS\t.\tGT", t->chrom, t->pos, t->ref,
                multi ? "G,C" : t->alt);
        int ac = 0, an = 0;
        for (int i = 0; i < NI - 1; i++)
            if (G[s][i] >= 0)
                ac += G[s][i], an += 2;
        for (int i = 0; i < NI; i++) {
            int g = G[s][i];
            if (multi && i % 9 == 4 && g == 0)
                fputs("\t0/2", f);
            else
                fputs(g < 0 ? "\t./." : g == 0 ? "\t0/0" : g == 1 ? "\t0/1" : "\t1/1", f);
        }
        fputc('\n', f);
        double p = an ? (double)ac / an : 0, maf = p < 0.5 ? p : 1 - p;
        t->use = !multi && strcmp(t->chrom, "X") && strlen(t->alt) == 1 && maf >= 0.01 &&
                 maf > 0;
    }
    return fclose(f);
}

static pm_store_t *make_store(pm_ctx_t *ctx)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/pmpca.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir))
        return NULL;
    char path[300], vcf[300];
    snprintf(path, sizeof path, "%s/st", tmpdir);
    snprintf(vcf, sizeof vcf, "%s/g.vcf", tmpdir);
    pm_store_t *st = NULL;
    if (pm_store_init(ctx, path) < 0 || pm_store_open(ctx, path, PM_STORE_RDWR, &st) < 0)
        return NULL;
    for (int i = 0; i < NI + 5; i++) { /* 5 more without genotypes */
        char ps[64], sid[32];
        snprintf(ps, sizeof ps, "aaaaaa-%026d", i);
        CHECK(pm_cat_test_add_individual(st, ps, i % 2 ? "M" : "F", "1970-01-01", "01", NULL,
                                         NULL, i == NI - 1) == i);
        snprintf(sid, sizeof sid, "g%d", i);
        if (i < NI)
            CHECK(pm_cat_test_add_sample(st, sid, i, "SCAPIS", "wgs", NULL) == 0);
    }
    CHECK(write_vcf(vcf) == 0);
    int rc = pm_ingest_vcf(st, vcf, NULL, NULL);
    CHECK_MSG(rc == 0, "%s", pm_ctx_errmsg(ctx));
    return st;
}

/* The top eigenpair of X X' / M for the candidates (NI - 1 individuals,
 * the withdrawn one left out), by power iteration. */
static double naive_top(int skip_dup, double *vec, int *M_out)
{
    const int n = NI - 1;
    static double X[NS + 8][NI];
    int M = 0;
    for (int s = 0; s < nsite; s++) {
        if (!S[s].use || (skip_dup && s == 11))
            continue;
        double ac = 0, an = 0;
        for (int i = 0; i < n; i++)
            if (G[s][i] >= 0)
                ac += G[s][i], an += 2;
        double p = ac / an, sd = sqrt(2 * p * (1 - p));
        for (int i = 0; i < n; i++)
            X[M][i] = G[s][i] < 0 ? 0 : (G[s][i] - 2 * p) / sd;
        M++;
    }
    double v[NI], w[NI], lam = 0;
    for (int i = 0; i < n; i++)
        v[i] = 1.0 + (i % 7) * 0.1;
    for (int it = 0; it < 3000; it++) {
        for (int i = 0; i < n; i++)
            w[i] = 0;
        for (int j = 0; j < M; j++) {
            double t = 0;
            for (int i = 0; i < n; i++)
                t += X[j][i] * v[i];
            for (int i = 0; i < n; i++)
                w[i] += X[j][i] * t;
        }
        double nr = 0;
        for (int i = 0; i < n; i++)
            nr += w[i] * w[i];
        nr = sqrt(nr);
        lam = nr;
        for (int i = 0; i < n; i++)
            v[i] = w[i] / nr;
    }
    memcpy(vec, v, sizeof(double) * (size_t)n);
    *M_out = M;
    return lam / M;
}

static void test_pca(void)
{
    pm_ctx_t *ctx = pm_ctx_new();
    pm_store_t *st = make_store(ctx);
    CHECK(st != NULL);
    if (!st)
        return;
    const int n = NI - 1;

    /* no pruning, exact: the candidates and the top eigenpair */
    pm_pca_opts_t o = {.k = 3, .ld_window = -1, .exact = 1, .keep_variants = 1};
    pm_pca_t *ex = NULL;
    int rc = pm_pca_run(st, &o, &ex);
    CHECK_MSG(rc == 0, "%s", pm_ctx_errmsg(ctx));
    if (rc < 0)
        return;
    double v[NI];
    int M;
    double lam = naive_top(0, v, &M);
    CHECK(ex->n == (uint32_t)n);
    CHECK_MSG(ex->n_variants == M, "%lld vs %d", (long long)ex->n_variants, M);
    CHECK_MSG(fabs(ex->eigval[0] - lam) < 1e-9 * lam, "%.12g vs %.12g", ex->eigval[0], lam);
    CHECK(ex->eigval[0] > 2 * ex->eigval[1]); /* two populations */
    double dot = 0, nn = 0;
    for (int i = 0; i < n; i++)
        dot += ex->vec[i] * v[i], nn += ex->vec[i] * ex->vec[i];
    CHECK_MSG(fabs(fabs(dot) - 1) < 1e-9 && fabs(nn - 1) < 1e-12, "cos %.12g", dot);
    /* PC1 separates the populations */
    double m0 = 0, m1 = 0;
    for (int i = 0; i < n; i++)
        if (i < NI / 2)
            m0 += ex->vec[i];
        else
            m1 += ex->vec[i];
    CHECK(m0 * m1 < 0);
    int multi = 0, xchr = 0, indel = 0;
    char mname[64];
    snprintf(mname, sizeof mname, "%s:%d:", S[120].chrom, S[120].pos);
    for (int64_t j = 0; j < ex->n_variants; j++) {
        multi += !strncmp(ex->variant[j], mname, strlen(mname));
        xchr += ex->variant[j][0] == 'X';
        indel += strstr(ex->variant[j], ":AT") != NULL;
    }
    CHECK(multi == 0 && xchr == 0 && indel == 0);

    /* approximate = exact on the well-separated leading eigenvalue */
    pm_pca_opts_t oa = {.k = 3, .ld_window = -1};
    pm_pca_t *ap = NULL;
    CHECK(pm_pca_run(st, &oa, &ap) == 0);
    if (ap) {
        CHECK_MSG(fabs(ap->eigval[0] - ex->eigval[0]) < 1e-8 * ex->eigval[0], "%.12g vs %.12g",
                  ap->eigval[0], ex->eigval[0]);
        double c = 0;
        for (int i = 0; i < n; i++)
            c += ap->vec[i] * ex->vec[i];
        CHECK(fabs(c - 1) < 1e-8); /* same sign convention */
    }

    /* pruning drops the later of the exact duplicate pair (r^2 = 1) */
    pm_pca_opts_t op = {.k = 3, .keep_variants = 1, .ld_r2 = 0.99};
    pm_pca_t *pr = NULL;
    CHECK(pm_pca_run(st, &op, &pr) == 0);
    if (pr) {
        char first[64], dup[64];
        snprintf(first, sizeof first, "1:%d:A:G", S[10].pos);
        snprintf(dup, sizeof dup, "1:%d:A:G", S[11].pos);
        int has_first = 0, has_dup = 0;
        for (int64_t j = 0; j < pr->n_variants; j++) {
            has_first += !strcmp(pr->variant[j], first);
            has_dup += !strcmp(pr->variant[j], dup);
        }
        CHECK(has_first == 1 && has_dup == 0);
        CHECK(pr->n_candidates == ex->n_variants && pr->n_variants < pr->n_candidates);
        double lp = naive_top(1, v, &M);
        CHECK(pr->n_variants == M);
        CHECK_MSG(fabs(pr->eigval[0] - lp) < 1e-8 * lp, "%.12g vs %.12g", pr->eigval[0], lp);
    }

    /* saved and loaded: the latest run; components by individual index */
    pm_pca_t *none = (pm_pca_t *)1;
    CHECK(pm_pca_load(st, &none) == 0 && none == NULL);
    CHECK(pm_pca_save(st, ex, &o) == 0 && ex->run == 1);
    CHECK(pm_pca_save(st, ap, &oa) == 0 && ap->run == 2);
    pm_pca_t *ld = NULL;
    CHECK(pm_pca_load(st, &ld) == 0 && ld && ld->run == 2 && ld->k == 3 && ld->n == ap->n);
    if (ld) {
        CHECK(memcmp(ld->vec, ap->vec, sizeof(double) * ap->n * 3) == 0);
        CHECK(memcmp(ld->eigval, ap->eigval, sizeof(double) * 3) == 0);
        double col[NI + 5];
        CHECK(pm_pca_component(st, ld, 2, col) == 0);
        CHECK(col[0] == ap->vec[ap->n + 0] && isnan(col[NI - 1]) && isnan(col[NI + 2]));
        CHECK(pm_pca_component(st, ld, 4, col) == PM_EUSAGE);
    }
    /* options */
    pm_pca_opts_t bad = {.k = 500};
    pm_pca_t *b = NULL;
    CHECK(pm_pca_run(st, &bad, &b) == PM_EUSAGE && b == NULL);
    pm_pca_opts_t toomany = {.k = 3, .cohort = "sex=M and sex=F"};
    CHECK(pm_pca_run(st, &toomany, &b) == PM_EINPUT);

    pm_pca_free(ld);
    pm_pca_free(pr);
    pm_pca_free(ap);
    pm_pca_free(ex);
    pm_store_close(st);
    pm_ctx_free(ctx);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    CHECK(system(cmd) == 0);
}

static void test_chapters(void)
{
    CHECK_STR(pm_icd10_chapter("A09"), "I");
    CHECK_STR(pm_icd10_chapter("C50"), "II");
    CHECK_STR(pm_icd10_chapter("D48"), "II");
    CHECK_STR(pm_icd10_chapter("D50"), "III");
    CHECK_STR(pm_icd10_chapter("E11.9"), "IV");
    CHECK_STR(pm_icd10_chapter("H59"), "VII");
    CHECK_STR(pm_icd10_chapter("H60"), "VIII");
    CHECK_STR(pm_icd10_chapter("I219"), "IX");
    CHECK_STR(pm_icd10_chapter("T98"), "XIX");
    CHECK_STR(pm_icd10_chapter("V01"), "XX");
    CHECK_STR(pm_icd10_chapter("Z00"), "XXI");
    CHECK_STR(pm_icd10_chapter("U07"), "XXII");
    CHECK(pm_icd10_chapter("D49") == NULL); /* between chapters II and III */
    CHECK(pm_icd10_chapter("i21") == NULL && pm_icd10_chapter("N0") == NULL &&
          pm_icd10_chapter("") == NULL && pm_icd10_chapter(NULL) == NULL);
}

int main(void)
{
    test_chapters();
    test_pca();
    return check_summary("test_pca");
}
