/*
 * phewas.c - one variant against every endpoint (promise/phewas.h).
 *
 * The variant's calls come from the genotype site iterator restricted to
 * its position; covariates from pm_gwas_covariates (so pcN, age, sex,
 * source and omics mean the same as in promise gwas). Each endpoint with
 * at least min_cases cases and controls among the analysis cohort (the
 * genotyped cohort members with a call at the variant and every
 * covariate) is tested on its own (an endpoint restricted to one sex takes
 * its controls from that sex and drops a sex covariate):
 *  - default: unpenalised logistic regression, Wald test (Newton-Raphson
 *    here: the kernels of src/stats have no unpenalised fit), falling back
 *    to Firth where it does not converge (separation), as plink2's
 *    firth-fallback does;
 *  - opts.firth: Firth-penalised logistic regression on every row, through
 *    the kernels (pm_glm_new/pm_glm_test, Firth on every row).
 * One variant, so the cost is in the endpoints. Rows are grouped by the
 * ICD-10 chapter of the endpoint's first diagnosis code.
 */
#include <errno.h>
#include <inttypes.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promise/bitset.h"
#include "promise/genotype.h"
#include "promise/gwas.h"
#include "promise/phewas.h"
#include "promise/policy.h"
#include "promise/stats.h"

#define PW_DEFAULT_MIN_CASES 20
#define PW_TEST_LOGISTIC 100 /* a TEST value beside the PM_GLM_* ones */

/* ---------------------------------------------------------------- */
/* ICD-10 chapters                                                    */

typedef struct pw_chapter {
    const char *num, *name;
    int lo, hi; /* letter * 100 + two digits, inclusive */
} pw_chapter_t;

#define PW_C(l, d) (((l) - 'A') * 100 + (d))
static const pw_chapter_t pw_chapters[] = {
    {"I", "Infectious", PW_C('A', 0), PW_C('B', 99)},
    {"II", "Neoplasms", PW_C('C', 0), PW_C('D', 48)},
    {"III", "Blood, immune", PW_C('D', 50), PW_C('D', 89)},
    {"IV", "Endocrine, metabolic", PW_C('E', 0), PW_C('E', 90)},
    {"V", "Mental", PW_C('F', 0), PW_C('F', 99)},
    {"VI", "Nervous system", PW_C('G', 0), PW_C('G', 99)},
    {"VII", "Eye", PW_C('H', 0), PW_C('H', 59)},
    {"VIII", "Ear", PW_C('H', 60), PW_C('H', 95)},
    {"IX", "Circulatory", PW_C('I', 0), PW_C('I', 99)},
    {"X", "Respiratory", PW_C('J', 0), PW_C('J', 99)},
    {"XI", "Digestive", PW_C('K', 0), PW_C('K', 93)},
    {"XII", "Skin", PW_C('L', 0), PW_C('L', 99)},
    {"XIII", "Musculoskeletal", PW_C('M', 0), PW_C('M', 99)},
    {"XIV", "Genitourinary", PW_C('N', 0), PW_C('N', 99)},
    {"XV", "Pregnancy", PW_C('O', 0), PW_C('O', 99)},
    {"XVI", "Perinatal", PW_C('P', 0), PW_C('P', 96)},
    {"XVII", "Congenital", PW_C('Q', 0), PW_C('Q', 99)},
    {"XVIII", "Symptoms, signs", PW_C('R', 0), PW_C('R', 99)},
    {"XIX", "Injury, poisoning", PW_C('S', 0), PW_C('T', 98)},
    {"XX", "External causes", PW_C('V', 1), PW_C('Y', 98)},
    {"XXI", "Health services", PW_C('Z', 0), PW_C('Z', 99)},
    {"XXII", "Special purposes", PW_C('U', 0), PW_C('U', 99)},
};
#define PW_NCHAP (sizeof pw_chapters / sizeof *pw_chapters)

static int pw_chapter_index(const char *code)
{
    if (!code || code[0] < 'A' || code[0] > 'Z' || code[1] < '0' || code[1] > '9' ||
        code[2] < '0' || code[2] > '9')
        return -1;
    int v = PW_C(code[0], (code[1] - '0') * 10 + (code[2] - '0'));
    for (size_t i = 0; i < PW_NCHAP; i++)
        if (v >= pw_chapters[i].lo && v <= pw_chapters[i].hi)
            return (int)i;
    return -1;
}

const char *pm_icd10_chapter(const char *code)
{
    int i = pw_chapter_index(code);
    return i < 0 ? NULL : pw_chapters[i].num;
}

/* The chapter of an endpoint: its first ICD-10-coded include term
 * (icd10:, death: or icdo3: topography); -1 when it has none. */
static int pw_endpoint_chapter(const pm_endpoint_t *ep)
{
    static const char *const sys[] = {"icd10:", "death:", "icdo3:"};
    const char *p = ep->include ? ep->include : "";
    while (*p) {
        while (*p == ' ')
            p++;
        for (size_t s = 0; s < sizeof sys / sizeof *sys; s++) {
            size_t l = strlen(sys[s]);
            if (!strncmp(p, sys[s], l)) {
                int c = pw_chapter_index(p + l);
                if (c >= 0)
                    return c;
            }
        }
        while (*p && *p != ' ')
            p++;
    }
    return -1;
}

/* ---------------------------------------------------------------- */
/* rows                                                               */

typedef struct pw_row {
    const pm_endpoint_t *ep;
    int chapter;          /* index into pw_chapters, or PW_NCHAP for "other" */
    int64_t cases, controls;
    int64_t car_cases, car_controls;
    pm_glm_result_t r;
    int fit_failed;       /* the null model could not be fitted */
    int withheld;
} pw_row_t;

static int pw_row_cmp(const void *a, const void *b)
{
    const pw_row_t *x = a, *y = b;
    if (x->chapter != y->chapter)
        return x->chapter < y->chapter ? -1 : 1;
    return strcmp(x->ep->name, y->ep->name);
}

static const char *pw_chapter_num(int c) { return c < (int)PW_NCHAP ? pw_chapters[c].num : "other"; }
static const char *pw_chapter_name(int c)
{
    return c < (int)PW_NCHAP ? pw_chapters[c].name : "Other (no ICD-10 code)";
}

static void pw_num(FILE *f, double v)
{
    if (isnan(v))
        fputs("\tNA", f);
    else
        fprintf(f, "\t%.9g", v);
}

static void pw_xml(FILE *f, const char *s)
{
    for (; *s; s++)
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
}

/* The PheWAS plot: endpoints along x grouped by chapter, -log10 p up,
 * triangles pointing in the direction of the effect, the Bonferroni line. */
static int pw_plot(const char *path, const char *variant, const pw_row_t *row, size_t n)
{
    static const char *const colour[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                         "#ff7f0e", "#17becf", "#8c564b", "#e377c2"};
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    const double W = 960, H = 480, L = 70, R = 20, T = 40, B = 130;
    size_t m = 0;
    double ymax = 0;
    for (size_t i = 0; i < n; i++)
        if (!row[i].withheld) {
            m++;
            if (row[i].r.err == PM_GLM_OK && row[i].r.p > 0)
                ymax = fmax(ymax, -log10(row[i].r.p));
            else if (row[i].r.err == PM_GLM_OK)
                ymax = fmax(ymax, 320);
        }
    double bonf = m ? -log10(0.05 / (double)m) : 0;
    ymax = fmax(fmax(ymax, bonf) * 1.1, 2.0);
    double step = m ? (W - L - R) / (double)m : 1;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">\n",
            W, H, W, H);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"%.0f\" y=\"22\" font-size=\"14\">PheWAS of ", L);
    pw_xml(f, variant);
    fprintf(f, " (%zu endpoints)</text>\n", m);
    /* axes and ticks */
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", L,
            T, L, H - B);
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", L,
            H - B, W - R, H - B);
    double tick = ymax > 50 ? 20 : ymax > 20 ? 5 : ymax > 8 ? 2 : 1;
    for (double t = 0; t <= ymax; t += tick) {
        double y = H - B - (H - T - B) * t / ymax;
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", L - 6, y + 4,
                t);
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"black\"/>\n",
                L - 3, y, L, y);
    }
    fprintf(f, "<text transform=\"translate(18,%.0f) rotate(-90)\" text-anchor=\"middle\">"
               "-log10(p)</text>\n",
            T + (H - T - B) / 2);
    if (m) {
        double y = H - B - (H - T - B) * bonf / ymax;
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"grey\" "
                   "stroke-dasharray=\"4,3\"/>\n",
                L, y, W - R, y);
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"grey\">p = 0.05/%zu"
                   "</text>\n",
                W - R, y - 4, m);
    }
    /* points, and a chapter label under each group */
    size_t x_i = 0, g0 = 0;
    int groups = 0;
    for (size_t i = 0; i < n; i++) {
        if (row[i].withheld)
            continue;
        const pw_row_t *r = &row[i];
        const char *col = colour[groups % 8];
        double x = L + step * ((double)x_i + 0.5);
        if (r->r.err == PM_GLM_OK) {
            double v = r->r.p > 0 ? -log10(r->r.p) : 320;
            double y = H - B - (H - T - B) * v / ymax;
            if (r->r.beta >= 0)
                fprintf(f, "<path d=\"M%.1f %.1fl5 8h-10z\" fill=\"%s\"><title>", x, y - 5, col);
            else
                fprintf(f, "<path d=\"M%.1f %.1fl5 -8h-10z\" fill=\"%s\"><title>", x, y + 5,
                        col);
            pw_xml(f, r->ep->name);
            fprintf(f, ": OR %.3g, p %.3g</title></path>\n", exp(r->r.beta), r->r.p);
            if (v >= bonf) {
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">", x + 6, y - 6);
                pw_xml(f, r->ep->name);
                fprintf(f, "</text>\n");
            }
        }
        x_i++;
        /* the end of a chapter group: its label */
        size_t j = i + 1;
        while (j < n && row[j].withheld)
            j++;
        if (j >= n || row[j].chapter != r->chapter) {
            double xc = L + step * ((double)g0 + (double)x_i) / 2;
            fprintf(f, "<text transform=\"translate(%.1f,%.0f) rotate(-50)\" text-anchor=\"end\" "
                       "fill=\"%s\">",
                    xc, H - B + 14, col);
            pw_xml(f, pw_chapter_name(r->chapter));
            fprintf(f, "</text>\n");
            g0 = x_i;
            groups++;
        }
    }
    fprintf(f, "</svg>\n");
    int bad = ferror(f);
    return fclose(f) != 0 || bad ? -1 : 0;
}

/* ---------------------------------------------------------------- */
/* the run                                                            */

/* Unpenalised logistic regression of y on [1, X (n x k), g] over the
 * samples with a finite y, by Newton-Raphson from 0 to full convergence
 * (the maximum-likelihood fit R's glm finds); the Wald statistics of g
 * into r. Returns 0, or -1 when the fit does not converge (separation:
 * the caller falls back to Firth) or the design is singular. */
static int pw_logistic(uint32_t n, uint32_t k, const double *X, const double *g,
                       const double *y, pm_glm_result_t *r)
{
    const int P = (int)k + 2;
    double *A = malloc((size_t)P * P * sizeof *A), *u = malloc((size_t)P * sizeof *u);
    double *b = calloc((size_t)P, sizeof *b), *x = malloc((size_t)P * sizeof *x);
    int rc = -1;
    if (!A || !u || !b || !x)
        goto out;
    uint32_t obs = 0;
    for (int it = 0; it < 100; it++) {
        memset(A, 0, (size_t)P * P * sizeof *A);
        memset(u, 0, (size_t)P * sizeof *u);
        obs = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (isnan(y[i]))
                continue;
            obs++;
            x[0] = 1;
            for (uint32_t c = 0; c < k; c++)
                x[c + 1] = X[(size_t)c * n + i];
            x[P - 1] = g[i];
            double eta = 0;
            for (int a = 0; a < P; a++)
                eta += x[a] * b[a];
            double mu = 1.0 / (1.0 + exp(-eta)), w = mu * (1 - mu);
            for (int a = 0; a < P; a++) {
                u[a] += x[a] * (y[i] - mu);
                for (int c = 0; c <= a; c++)
                    A[(size_t)c * P + a] += w * x[a] * x[c]; /* lower, column-major */
            }
        }
        if (LAPACKE_dposv(LAPACK_COL_MAJOR, 'L', P, 1, A, P, u, P) != 0)
            goto out;
        double step = 0;
        for (int a = 0; a < P; a++) {
            b[a] += u[a];
            step = fmax(step, fabs(u[a]) / (1 + fabs(b[a])));
        }
        if (!isfinite(step) || fabs(b[P - 1]) > 50)
            goto out; /* diverging: (quasi-)separation */
        if (step < 1e-13) {
            /* the information at the solution (A holds the last one's
             * Cholesky factor; one more accumulation is cheap) */
            memset(A, 0, (size_t)P * P * sizeof *A);
            for (uint32_t i = 0; i < n; i++) {
                if (isnan(y[i]))
                    continue;
                x[0] = 1;
                for (uint32_t c = 0; c < k; c++)
                    x[c + 1] = X[(size_t)c * n + i];
                x[P - 1] = g[i];
                double eta = 0;
                for (int a = 0; a < P; a++)
                    eta += x[a] * b[a];
                double mu = 1.0 / (1.0 + exp(-eta)), w = mu * (1 - mu);
                for (int a = 0; a < P; a++)
                    for (int c = 0; c <= a; c++)
                        A[(size_t)c * P + a] += w * x[a] * x[c];
            }
            if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', P, A, P) != 0 ||
                LAPACKE_dpotri(LAPACK_COL_MAJOR, 'L', P, A, P) != 0)
                goto out;
            double var = A[(size_t)(P - 1) * P + (P - 1)];
            if (!(var > 0))
                goto out;
            r->beta = b[P - 1];
            r->se = sqrt(var);
            r->stat = r->beta / r->se;
            r->p = pm_stats_norm_p2(r->stat);
            r->score_p = NAN;
            r->obs_ct = obs;
            r->test = PW_TEST_LOGISTIC;
            r->err = PM_GLM_OK;
            r->firth_iter = 0;
            rc = 0;
            goto out;
        }
    }
out:
    free(A);
    free(u);
    free(b);
    free(x);
    return rc;
}

/* "CHR:POS:REF:ALT" -> parts (normalised contig). */
static int pw_parse_variant(pm_ctx_t *ctx, const char *v, char *chrom, size_t ccap, int64_t *pos,
                            char **ref, char **alt)
{
    const char *c1 = strchr(v, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL,
               *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
    if (!c3 || c1 == v || c3[1] == 0 || c3 == c2 + 1 || strchr(c3 + 1, ':'))
        return pm_err(ctx, PM_EUSAGE, "--variant '%s': expected CHR:POS:REF:ALT", v);
    char tmp[64];
    if ((size_t)(c1 - v) >= sizeof tmp)
        return pm_err(ctx, PM_EUSAGE, "--variant '%s': contig name too long", v);
    memcpy(tmp, v, (size_t)(c1 - v));
    tmp[c1 - v] = 0;
    if (pm_contig_normalise(tmp, chrom, ccap) < 0)
        return pm_err(ctx, PM_EUSAGE, "--variant '%s': bad contig", v);
    char *end;
    errno = 0;
    long long p = strtoll(c1 + 1, &end, 10);
    if (errno || end != c2 || p < 1)
        return pm_err(ctx, PM_EUSAGE, "--variant '%s': POS must be a positive integer", v);
    *pos = p;
    size_t lr = (size_t)(c3 - c2 - 1);
    *ref = malloc(lr + 1);
    *alt = strdup(c3 + 1);
    if (!*ref || !*alt)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    memcpy(*ref, c2 + 1, lr);
    (*ref)[lr] = 0;
    return 0;
}

int pm_phewas_run(pm_store_t *st, const pm_phewas_opts_t *o, pm_phewas_summary_t *sum_out)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    pm_phewas_summary_t sum = {.best_p = NAN};
    if (!o || !o->variant || !*o->variant)
        return pm_err(ctx, PM_EUSAGE, "phewas: a variant is required");
    if (!o->prefix || !*o->prefix)
        return pm_err(ctx, PM_EUSAGE, "phewas: an output prefix is required");
    int min_cases = o->min_cases > 0 ? o->min_cases : PW_DEFAULT_MIN_CASES;
    pm_policy_t pol;
    int rc;
    if ((rc = pm_policy_for_store(st, o->tier, &pol)) < 0)
        return rc;
    if ((rc = pm_policy_allows(ctx, &pol, PM_RELEASE_COUNT)) < 0)
        return rc;
    int withhold = pol.tier < PM_TIER_PROJECT && pol.k > 1;
    sum.k = withhold ? pol.k : 0;

    char chrom[64];
    int64_t pos = 0;
    char *ref = NULL, *alt = NULL, *path = NULL;
    pm_gt_iter_t *it = NULL;
    pm_endpoint_lib_t *own = NULL;
    pm_bitset_t *cb = NULL;
    double *X = NULL, *Xns = NULL, *g = NULL, *y = NULL, *sex = NULL;
    uint8_t *used = NULL;
    pw_row_t *rows = NULL;
    size_t nrows = 0;
    FILE *f = NULL;
    if ((rc = pw_parse_variant(ctx, o->variant, chrom, sizeof chrom, &pos, &ref, &alt)) < 0)
        goto done;
    char region[128];
    snprintf(region, sizeof region, "%s:%" PRId64 "-%" PRId64, chrom, pos, pos);
    pm_gt_query_opts_t q = {.region = region, .cohort = o->cohort, .purpose = o->purpose};
    if ((rc = pm_gt_iter_open(st, &q, &it)) < 0)
        goto done;
    const uint32_t n = pm_gt_iter_n(it);
    const int64_t *ind = pm_gt_iter_individuals(it);
    sum.n_cohort = n;
    if (n == 0) {
        rc = pm_err(ctx, PM_EINPUT, "no genotyped individuals in the cohort");
        goto done;
    }
    if (!(g = malloc((size_t)n * sizeof *g)) || !(y = malloc((size_t)n * sizeof *y)) ||
        !(used = malloc(n))) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto done;
    }
    int found = 0;
    for (;;) {
        pm_gt_site_t s;
        int r = pm_gt_iter_next(it, &s);
        if (r < 0) {
            rc = r;
            goto done;
        }
        if (r == 0)
            break;
        if (s.pos != pos || strcmp(s.ref, ref) || strcmp(s.alt, alt))
            continue;
        for (uint32_t i = 0; i < n; i++) {
            g[i] = 0;
            used[i] = 1;
        }
        for (uint32_t i = 0; i < s.n_carrier; i++)
            g[s.carrier[i]] = s.dosage[i];
        for (uint32_t i = 0; i < s.n_missing; i++)
            used[s.missing[i]] = 0;
        found = 1;
        break;
    }
    if (!found) {
        rc = pm_err(ctx, PM_ENOTFOUND, "variant '%s' is not in the store", o->variant);
        goto done;
    }
    uint32_t k = 0;
    if ((rc = pm_gwas_covariates(st, o->covar, o->ref_date, n, ind, &X, &k, sum.covar_names,
                                 sizeof sum.covar_names)) < 0)
        goto done;
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t c = 0; c < k && used[i]; c++)
            if (isnan(X[(size_t)c * n + i]))
                used[i] = 0;
        sum.n_analysis += used[i];
        sum.n_carriers += used[i] && g[i] > 0;
    }
    if (sum.n_analysis == 0) {
        rc = pm_err(ctx, PM_EINPUT, "no individual of the cohort has a call at '%s' and every "
                                    "covariate",
                    o->variant);
        goto done;
    }

    /* the covariates without "sex", for endpoints restricted to one sex */
    int sex_col = -1;
    {
        char names[sizeof sum.covar_names];
        snprintf(names, sizeof names, "%s", sum.covar_names);
        int ci = 0;
        char *save = NULL;
        for (char *tok = strtok_r(names, ",", &save); tok; tok = strtok_r(NULL, ",", &save), ci++)
            if (!strcmp(tok, "sex"))
                sex_col = ci;
    }
    if (sex_col >= 0 && k > 0) {
        if (!(Xns = malloc((size_t)n * k * sizeof *Xns))) {
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
            goto done;
        }
        for (uint32_t c = 0, d = 0; c < k; c++)
            if ((int)c != sex_col)
                memcpy(Xns + (size_t)d++ * n, X + (size_t)c * n, (size_t)n * sizeof *X);
    }
    const pm_endpoint_lib_t *lib = o->lib;
    if (!lib) {
        if ((rc = pm_endpoint_lib_builtin(ctx, &own)) < 0)
            goto done;
        lib = own;
    }
    sum.n_endpoints = pm_endpoint_lib_count(lib);
    int64_t N = pm_store_n_individuals(st);
    if (!(cb = pm_bitset_new((size_t)(N > 0 ? N : 1))) ||
        !(rows = calloc(sum.n_endpoints ? sum.n_endpoints : 1, sizeof *rows))) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto done;
    }
    /* Firth on every row; separated endpoints converge slowly (large BETA) */
    pm_glm_opts_t go = {.firth_p = 1.0, .firth_maxit = 500};
    const uint8_t one = 1;
    for (size_t e = 0; e < sum.n_endpoints; e++) {
        const pm_endpoint_t *ep = pm_endpoint_lib_get(lib, e);
        if ((rc = pm_endpoint_eval_def(st, ep, cb)) < 0)
            goto done;
        pw_row_t *r = &rows[nrows];
        memset(r, 0, sizeof *r);
        r->ep = ep;
        int c = pw_endpoint_chapter(ep);
        r->chapter = c < 0 ? (int)PW_NCHAP : c;
        /* a sex-specific endpoint compares within that sex */
        double want_sex = ep->sex == 'M' ? 1 : ep->sex == 'F' ? 0 : NAN;
        if (!isnan(want_sex) && !sex) {
            pm_cohort_opts_t co = {.ref_date = o->ref_date, .purpose = o->purpose};
            if (!(sex = malloc((size_t)(N > 0 ? N : 1) * sizeof *sex))) {
                rc = pm_err(ctx, PM_ENOMEM, "out of memory");
                goto done;
            }
            if ((rc = pm_gwas_attribute(st, "sex", &co, sex)) < 0)
                goto done;
        }
        for (uint32_t i = 0; i < n; i++) {
            if (!used[i] || (!isnan(want_sex) && sex[ind[i]] != want_sex)) {
                y[i] = NAN;
                continue;
            }
            int cs = pm_bitset_get(cb, (size_t)ind[i]);
            y[i] = cs;
            if (cs) {
                r->cases++;
                r->car_cases += g[i] > 0;
            } else {
                r->controls++;
                r->car_controls += g[i] > 0;
            }
        }
        if (r->cases < min_cases || r->controls < min_cases)
            continue;
        nrows++;
        if (withhold) {
            pm_cell_t a = pm_policy_release_count(&pol, r->car_cases);
            pm_cell_t b = pm_policy_release_count(&pol, r->car_controls);
            pm_cell_t cc = pm_policy_release_count(&pol, r->cases);
            pm_cell_t cn = pm_policy_release_count(&pol, r->controls);
            r->withheld = a.state != PM_CELL_EXACT || b.state != PM_CELL_EXACT ||
                          cc.state != PM_CELL_EXACT || cn.state != PM_CELL_EXACT;
        }
        int nosex = !isnan(want_sex) && sex_col >= 0; /* constant within one sex */
        const double *Xe = nosex ? Xns : X;
        uint32_t ke = nosex ? k - 1 : k;
        if (!o->firth && pw_logistic(n, ke, Xe, g, y, &r->r) == 0)
            continue;
        pm_glm_t *m = NULL;
        if (pm_glm_new(ctx, n, ke, Xe, 1, y, &one, &go, &m) < 0) {
            r->fit_failed = 1;
            r->r.err = PM_GLM_ESINGULAR;
            r->r.test = PM_GLM_FIRTH;
            r->r.beta = r->r.se = r->r.stat = r->r.p = NAN;
            continue;
        }
        pm_glm_work_t *w = pm_glm_work_new(m);
        pm_gvec_t gv = {.dense = g};
        int trc = w ? pm_glm_test(m, w, &gv, &r->r) : PM_ENOMEM;
        pm_glm_work_free(w);
        pm_glm_free(m);
        if (trc < 0) {
            rc = pm_err(ctx, trc, "phewas: endpoint '%s' could not be tested", ep->name);
            goto done;
        }
    }
    pm_ctx_clear(ctx);
    qsort(rows, nrows, sizeof *rows, pw_row_cmp);
    sum.n_tested = nrows;

    size_t pl = strlen(o->prefix) + 8;
    if (!(path = malloc(pl))) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto done;
    }
    snprintf(path, pl, "%s.tsv", o->prefix);
    if (!(f = fopen(path, "w"))) {
        rc = pm_err(ctx, PM_EIO, "cannot open '%s' for writing: %s", path, strerror(errno));
        goto done;
    }
    fputs("#ENDPOINT\tCHAPTER\tN_CASES\tN_CONTROLS\tOBS_CT\tBETA\tOR\tSE\tZ\tP\tTEST\t"
          "DESCRIPTION\n",
          f);
    for (size_t i = 0; i < nrows; i++) {
        pw_row_t *r = &rows[i];
        if (r->withheld) {
            sum.n_withheld++;
            continue;
        }
        fprintf(f, "%s\t%s\t%" PRId64 "\t%" PRId64 "\t%" PRId64, r->ep->name,
                pw_chapter_num(r->chapter), r->cases, r->controls, r->cases + r->controls);
        if (r->r.err != PM_GLM_OK) {
            fputs("\tNA\tNA\tNA\tNA\tNA", f);
            sum.n_error++;
        } else {
            pw_num(f, r->r.beta);
            pw_num(f, exp(r->r.beta));
            pw_num(f, r->r.se);
            pw_num(f, r->r.stat);
            pw_num(f, r->r.p);
            if (isnan(sum.best_p) || r->r.p < sum.best_p) {
                sum.best_p = r->r.p;
                snprintf(sum.best, sizeof sum.best, "%s", r->ep->name);
            }
        }
        fprintf(f, "\t%s\t%s\n",
                r->fit_failed                     ? "NULL_FIT_FAILED"
                : r->r.test == PW_TEST_LOGISTIC ? "LOGISTIC"
                                                  : pm_glm_test_name(r->r.test),
                r->ep->description ? r->ep->description : "");
    }
    int bad = ferror(f);
    int cl = fclose(f);
    f = NULL;
    if (bad || cl != 0) {
        rc = pm_err(ctx, PM_EIO, "cannot write '%s'", path);
        goto done;
    }
    if (!o->no_plot) {
        snprintf(path, pl, "%s.svg", o->prefix);
        if (pw_plot(path, o->variant, rows, nrows) < 0) {
            rc = pm_err(ctx, PM_EIO, "cannot write '%s': %s", path, strerror(errno));
            goto done;
        }
    }
    rc = 0;
done:
    if (f)
        fclose(f);
    free(path);
    free(rows);
    pm_bitset_free(cb);
    pm_endpoint_lib_free(own);
    free(X);
    free(Xns);
    free(g);
    free(y);
    free(sex);
    free(used);
    free(ref);
    free(alt);
    if (it)
        pm_gt_iter_close(it);
    if (sum_out)
        *sum_out = sum;
    return rc < 0 ? rc : 0;
}
