/* test_omics.c - omics: parsers on tricky rows, flags, sample choice, thresholds,
 * statistics against hand-computed values, all-or-nothing ingest, corruption. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/cat_cohort.h"
#include "check.h"
#include "promise/cohort.h"
#include "promise/omics.h"
#include "promise/promise.h"

#define NEAR(a, b, tol) (fabs((double)(a) - (double)(b)) <= (tol))

/* ---- statistics ---- */

static void test_stats(void)
{
    /* quantiles, R type 7: quantile(c(-0.25, 1.5, 2.5, 7), c(.25,.5,.75)) */
    double x[] = {7, -0.25, NAN, 2.5, 1.5};
    pm_omics_summary_t s;
    CHECK(pm_omics_summarize(x, 5, &s) == 0);
    CHECK(s.n == 4);
    CHECK(NEAR(s.mean, 2.6875, 1e-12));
    /* sd: squared deviations 18.59765625 + 8.62890625 + 0.03515625 + 1.41015625 */
    double dev[] = {7 - 2.6875, -0.25 - 2.6875, 2.5 - 2.6875, 1.5 - 2.6875}, ss = 0;
    for (int i = 0; i < 4; i++)
        ss += dev[i] * dev[i];
    CHECK(NEAR(ss, 28.671875, 1e-12));
    CHECK(NEAR(s.sd, sqrt(28.671875 / 3), 1e-12));
    CHECK(NEAR(s.min, -0.25, 0) && NEAR(s.max, 7, 0));
    CHECK(NEAR(s.q25, 1.0625, 1e-12)); /* h = 0.75: -0.25 + 0.75 * 1.75 */
    CHECK(NEAR(s.median, 2.0, 1e-12));
    CHECK(NEAR(s.q75, 3.625, 1e-12));  /* h = 2.25: 2.5 + 0.25 * 4.5 */
    double one[] = {NAN, 3};
    CHECK(pm_omics_summarize(one, 2, &s) == 0 && s.n == 1 && s.mean == 3 && isnan(s.sd) &&
          s.median == 3);
    CHECK(pm_omics_summarize(one, 1, &s) == 0 && s.n == 0 && isnan(s.mean));

    /* qnorm against R's qnorm() */
    CHECK(NEAR(pm_omics_qnorm(0.975), 1.959963984540054, 1e-14));
    CHECK(NEAR(pm_omics_qnorm(0.5), 0.0, 0));
    CHECK(NEAR(pm_omics_qnorm(1e-10), -6.361340902404056, 1e-12));
    CHECK(NEAR(pm_omics_qnorm(0.2), -0.8416212335729143, 1e-14));
    CHECK(isinf(pm_omics_qnorm(0)) && isnan(pm_omics_qnorm(1.5)));

    /* rank-based INT with ties and NaN: ranks 4, 1, 2.5, 2.5 of m = 4 */
    double y[] = {3, 1, 2, NAN, 2}, z[5];
    CHECK(pm_omics_int(y, 5, z) == 0);
    CHECK(NEAR(z[1], pm_omics_qnorm(0.625 / 4.25), 1e-15));
    CHECK(NEAR(z[1], -1.0491, 1e-4));
    CHECK(NEAR(z[0], -z[1], 1e-15));
    CHECK(z[2] == 0 && z[4] == 0); /* (2.5 - 3/8) / 4.25 = 1/2 exactly */
    CHECK(isnan(z[3]));
    /* in place */
    CHECK(pm_omics_int(y, 5, y) == 0 && y[0] == z[0] && isnan(y[3]));

    double l[] = {8, 0, -1, NAN, 0.5}, lo[5];
    CHECK(pm_omics_log2(l, 5, lo) == 2);
    CHECK(lo[0] == 3 && isnan(lo[1]) && isnan(lo[2]) && isnan(lo[3]) && lo[4] == -1);
}

static void test_residualize(void)
{
    pm_ctx_t *ctx = pm_ctx_new();
    /* y on x: slope 0.8, intercept 0.6; residuals by hand */
    double y[] = {1, 3, 2, 5, 4}, X[] = {1, 2, 3, 4, 5}, r[5];
    CHECK(pm_omics_residualize(ctx, y, 5, X, 1, r) == 0);
    double want[] = {-0.4, 0.8, -1.0, 1.2, -0.6};
    for (int i = 0; i < 5; i++)
        CHECK_MSG(NEAR(r[i], want[i], 1e-12), "r[%d] = %g", i, r[i]);
    /* no covariates: centring only */
    CHECK(pm_omics_residualize(ctx, y, 5, NULL, 0, r) == 0 && NEAR(r[0], -2, 1e-12));
    /* an exact linear model leaves nothing; a NaN row is skipped */
    double x1[] = {1, 2, 3, 4, 5, 6}, x2[] = {2, 1, 4, 3, 7, 5}, X2[12], y2[6], r2[6];
    for (int i = 0; i < 6; i++) {
        X2[i] = x1[i];
        X2[6 + i] = x2[i];
        y2[i] = 1 + 2 * x1[i] - x2[i];
    }
    X2[6 + 3] = NAN;
    CHECK(pm_omics_residualize(ctx, y2, 6, X2, 2, r2) == 0);
    for (int i = 0; i < 6; i++)
        CHECK(i == 3 ? isnan(r2[i]) : NEAR(r2[i], 0, 1e-12));
    /* y with noise against hand-solved normal equations: y = 1 + x1 + e */
    double y3[] = {2.1, 2.9, 4.2, 4.8, 6.1, 7.0};
    double X3[] = {1, 2, 3, 4, 5, 6}, r3[6];
    CHECK(pm_omics_residualize(ctx, y3, 6, X3, 1, r3) == 0);
    /* slope = Sxy / Sxx = 17.35 / 17.5; intercept = 4.5167 - slope * 3.5 */
    double b = 17.35 / 17.5, a = (27.1 / 6) - b * 3.5;
    for (int i = 0; i < 6; i++)
        CHECK_MSG(NEAR(r3[i], y3[i] - a - b * X3[i], 1e-12), "r3[%d]", i);
    /* collinear and constant covariates */
    double Xc[12];
    for (int i = 0; i < 6; i++) {
        Xc[i] = x1[i];
        Xc[6 + i] = 3 * x1[i] + 1;
    }
    CHECK(pm_omics_residualize(ctx, y3, 6, Xc, 2, r3) == PM_EINPUT);
    CHECK(strstr(pm_ctx_errmsg(ctx), "covariate 2") != NULL);
    double Xk[6] = {4, 4, 4, 4, 4, 4};
    CHECK(pm_omics_residualize(ctx, y3, 6, Xk, 1, r3) == PM_EINPUT);
    CHECK(pm_omics_residualize(ctx, y3, 1, X3, 1, r3) == PM_EINPUT);
    pm_ctx_free(ctx);
}

static void test_choice_parse(void)
{
    pm_omics_choice_t c;
    CHECK(pm_omics_choice_parse("first", &c) == 0 && c.mode == PM_OMICS_FIRST);
    CHECK(pm_omics_choice_parse("last", &c) == 0 && c.mode == PM_OMICS_LAST);
    CHECK(pm_omics_choice_parse("all", &c) == 0 && c.mode == PM_OMICS_ALL);
    CHECK(pm_omics_choice_parse("nearest:2020-02-29", &c) == 0 && c.mode == PM_OMICS_NEAREST &&
          c.date == 20200229);
    CHECK(pm_omics_choice_parse("nearest:2021-02-29", &c) == PM_EUSAGE);
    CHECK(pm_omics_choice_parse("nearest:2021-2-1", &c) == PM_EUSAGE);
    CHECK(pm_omics_choice_parse("latest", &c) == PM_EUSAGE);
}

/* ---- a store with a small population ---- */

static char tmpdir[] = "/tmp/pm_test_omics_XXXXXX";
static pm_ctx_t *ctx;
static pm_store_t *st;
static char path[512];

static void writef(const char *name, const char *text)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

static const char *fpath(const char *name)
{
    static char p[600];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

static int count_files(void)
{
    char p[600];
    snprintf(p, sizeof p, "%s/omics", path);
    DIR *d = opendir(p);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static int ingest(const char *file, const char *assay, int format, int layout, int skip)
{
    pm_omics_opts_t o = {.assay = assay, .format = format, .layout = layout,
                         .skip_unknown_samples = skip};
    pm_ctx_clear(ctx);
    return pm_omics_ingest(st, fpath(file), &o, NULL);
}

static int msg_has(const char *s)
{
    int ok = strstr(pm_ctx_errmsg(ctx), s) != NULL;
    if (!ok)
        fprintf(stderr, "  message: %s\n  wanted: %s\n", pm_ctx_errmsg(ctx), s);
    return ok;
}

static void setup(void)
{
    ctx = pm_ctx_new();
    if (!mkdtemp(tmpdir))
        exit(2);
    snprintf(path, sizeof path, "%s/st", tmpdir);
    if (pm_store_init(ctx, path) < 0 || pm_store_open(ctx, path, PM_STORE_RDWR, &st) < 0) {
        fprintf(stderr, "%s\n", pm_ctx_errmsg(ctx));
        exit(2);
    }
    /* 0: two dated olink samples and one undated; 1: one; 2: withdrawn; 3: wgs only */
    pm_cat_test_add_individual(st, "aaaaaa-baaaaaaaaaaaaaaaaaaaaaaaaa", "F", "1960-01-01", NULL,
                               NULL, NULL, 0);
    pm_cat_test_add_individual(st, "aaaaaa-caaaaaaaaaaaaaaaaaaaaaaaaa", "M", "1970-01-01", NULL,
                               NULL, NULL, 0);
    pm_cat_test_add_individual(st, "aaaaaa-daaaaaaaaaaaaaaaaaaaaaaaaa", "F", "1980-01-01", NULL,
                               NULL, NULL, 1);
    pm_cat_test_add_individual(st, "aaaaaa-eaaaaaaaaaaaaaaaaaaaaaaaaa", "M", "1990-01-01", NULL,
                               NULL, NULL, 0);
    pm_cat_test_add_sample(st, "S1", 0, "SCAPIS", "olink", "2015-03-01");
    pm_cat_test_add_sample(st, "S2", 0, "SCAPIS", "olink", "2020-03-01");
    pm_cat_test_add_sample(st, "S3", 0, "SCAPIS", "olink", NULL);
    pm_cat_test_add_sample(st, "S4", 1, "SCAPIS", "olink", "2018-06-01");
    pm_cat_test_add_sample(st, "S5", 2, "SCAPIS", "olink", "2018-06-01");
    pm_cat_test_add_sample(st, "W1", 3, "SCAPIS", "wgs", NULL);
    pm_cat_test_add_sample(st, "M1", 0, "DILGOM", "metabolomics", "2007-01-01");
    pm_cat_test_add_sample(st, "M2", 1, "DILGOM", "metabolomics", "2007-01-01");
}

static void teardown(void)
{
    pm_store_close(st);
    pm_ctx_free(ctx);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
}

static pm_omics_vals_t *vals(const char *assay, const char *feature, const char *choice)
{
    pm_omics_choice_t c;
    pm_omics_choice_parse(choice, &c);
    pm_omics_vals_t *v = NULL;
    pm_ctx_clear(ctx);
    int rc = pm_omics_values(st, assay, feature, NULL, &c, 1, &v);
    CHECK_MSG(rc == 0, "values %s %s: %s", assay, feature, pm_ctx_errmsg(ctx));
    return v;
}

static void test_matrix(void)
{
    /* errors first: nothing may be left behind */
    writef("bad1.tsv", "feature_id\tS1\tS2\nIL6\t1.5\t2\nTNF\t1,5\t3\n");
    CHECK(ingest("bad1.tsv", "olink", PM_OMICS_MATRIX, 0, 0) == PM_EINPUT);
    CHECK(msg_has("bad1.tsv:3:5: value '1,5' is not a number"));
    CHECK(msg_has("(column 'S1')"));
    writef("bad2.tsv", "feature_id\tS1\tS2\nIL6\t1\t2\nIL6\t3\t4\n");
    CHECK(ingest("bad2.tsv", "olink", 0, 0, 0) == PM_EINPUT);
    CHECK(msg_has("bad2.tsv:3:1: feature 'IL6' is already on line 2"));
    writef("bad3.tsv", "feature_id\tS1\tX9\tX8\nIL6\t1\t2\t3\n");
    CHECK(ingest("bad3.tsv", "olink", 0, 0, 0) == PM_EINPUT);
    CHECK(msg_has("bad3.tsv:1:15: sample 'X9' is not in the sample table, nor are 'X8'"));
    writef("bad4.tsv", "feature_id\tS1\tW1\nIL6\t1\t2\n");
    CHECK(ingest("bad4.tsv", "olink", 0, 0, 0) == PM_EINPUT);
    CHECK(msg_has("bad4.tsv:1:15: sample 'W1' has assay 'wgs' in the sample table, not 'olink'"));
    writef("bad5.tsv", "feature_id\tS1\nIL6\tinf\n");
    CHECK(ingest("bad5.tsv", "olink", 0, 0, 0) == PM_EINPUT);
    CHECK(msg_has("out of range"));
    writef("bad6.tsv", "feature_id\tS1\nIL6\t1\t2\n");
    CHECK(ingest("bad6.tsv", "olink", 0, 0, 0) == PM_EINPUT);
    CHECK(msg_has("bad6.tsv:2: expected 2 fields, found 3"));
    CHECK(ingest("bad1.tsv", "proteomics", 0, 0, 0) == PM_EINPUT);
    CHECK(msg_has("assay 'proteomics' has no samples"));
    writef("bad7.tsv", "gene\tS1\nIL6\t1\n");
    CHECK(ingest("bad7.tsv", "olink", 0, 0, 0) == PM_EINPUT);
    CHECK(msg_has("bad7.tsv:1: no 'feature_id' column"));
    CHECK(count_files() == 0);

    /* tricky rows: CRLF, blanks around numbers, NA/NaN/empty, exponents,
     * metadata columns, an unknown sample skipped */
    writef("m.tsv", "feature_id\tS1\tS2\tpanel\tS3\tS4\tS5\tX9\tchrom\tpos\r\n"
                    "IL6\t 1.5 \t2.5\tInflammation\t\t-0.25\t9\t1\t7\t22771\r\n"
                    "TNF\t10\tNaN\tInflammation\t3e2\t4\t9\t1\t\t\r\n"
                    "\r\n"
                    "CRP\tNA\t-1e-3\t\t0\t0.1\t9\t1\t1\t100\r\n");
    CHECK(ingest("m.tsv", "olink", PM_OMICS_MATRIX, 0, 0) == PM_EINPUT);
    pm_omics_result_t r;
    pm_omics_opts_t o = {.assay = "OLINK", .skip_unknown_samples = 1};
    pm_ctx_clear(ctx);
    CHECK_MSG(pm_omics_ingest(st, fpath("m.tsv"), &o, &r) == 0, "%s", pm_ctx_errmsg(ctx));
    CHECK(r.rows == 3 && r.features == 3 && r.samples == 5 && r.batches == 1);
    CHECK(r.values == 15 && r.missing == 3 && r.skipped_samples == 1 && r.skipped_values == 3);
    CHECK(count_files() == 1);

    pm_omics_vals_t *v = vals("olink", "IL6", "all");
    /* withdrawn S5 left out; order: individual 0 dated S1, S2 then undated S3; then S4 */
    CHECK(v && v->n == 4);
    if (v && v->n == 4) {
        CHECK_STR(v->sample_id[0], "S1");
        CHECK_STR(v->sample_id[1], "S2");
        CHECK_STR(v->sample_id[2], "S3");
        CHECK_STR(v->sample_id[3], "S4");
        CHECK(v->value[0] == 1.5f && v->value[1] == 2.5f && v->value[3] == -0.25f);
        CHECK(isnan(v->value[2]) && v->flags[2] == PM_OMICS_MISSING);
        CHECK(v->date[0] == 20150301 && v->date[2] == 0);
        CHECK_STR(v->pseudonym[3], "aaaaaa-caaaaaaaaaaaaaaaaaaaaaaaaa");
    }
    pm_omics_vals_free(v);
    v = vals("olink", "TNF", "all");
    CHECK(v && v->n == 4 && v->value[2] == 300.0f && (v->flags[1] & PM_OMICS_MISSING));
    pm_omics_vals_free(v);

    /* sample choice (TNF: S1 10 @2015, S2 missing @2020, S3 300 undated, S4 4) */
    v = vals("olink", "TNF", "last");
    CHECK(v && v->n == 2 && v->value[0] == 10.0f && v->value[1] == 4.0f); /* S2 has no value */
    pm_omics_vals_free(v);
    v = vals("olink", "IL6", "last");
    CHECK(v && v->n == 2 && v->sample[0] != 0 && v->value[0] == 2.5f);
    pm_omics_vals_free(v);
    v = vals("olink", "IL6", "first");
    CHECK(v && v->n == 2 && v->value[0] == 1.5f);
    pm_omics_vals_free(v);
    v = vals("olink", "IL6", "nearest:2018-01-01"); /* 2020-03-01 is nearer than 2015-03-01 */
    CHECK(v && v->n == 2 && v->value[0] == 2.5f && v->date[1] == 20180601);
    pm_omics_vals_free(v);
    v = vals("olink", "IL6", "nearest:2017-09-01"); /* 915 vs 912 days: 2020 */
    CHECK(v && v->n == 2 && v->value[0] == 2.5f);
    pm_omics_vals_free(v);
    v = vals("olink", "IL6", "nearest:2017-08-29"); /* 912 vs 915 days: 2015 */
    CHECK(v && v->n == 2 && v->value[0] == 1.5f);
    pm_omics_vals_free(v);
    v = vals("olink", "CRP", "first"); /* S1 missing: S2 */
    CHECK(v && v->n == 2 && NEAR(v->value[0], -1e-3, 1e-9) && v->date[0] == 20200301);
    pm_omics_vals_free(v);

    /* cohort restriction */
    pm_bitset_t *set = pm_bitset_new(4);
    pm_bitset_set(set, 1);
    pm_omics_vals_t *w = NULL;
    CHECK(pm_omics_values(st, "olink", "IL6", set, NULL, 0, &w) == 0 && w->n == 1 &&
          w->individual[0] == 1 && w->sample_id == NULL);
    pm_omics_vals_free(w);
    pm_bitset_free(set);

    /* thresholds (any sample) and the cohort language */
    set = pm_bitset_new(4);
    CHECK(pm_omics_threshold(st, "olink", "IL6", '>', 2, NULL, set) == 1 &&
          pm_bitset_get(set, 0) && !pm_bitset_get(set, 1));
    CHECK(pm_omics_threshold(st, "olink", "IL6", '<', 0, NULL, set) == 1 && pm_bitset_get(set, 1));
    pm_bitset_zero(set);
    pm_omics_choice_t first = {PM_OMICS_FIRST, 0};
    CHECK(pm_omics_threshold(st, "olink", "IL6", '>', 2, &first, set) == 0);
    CHECK(pm_omics_threshold(st, "olink", "IL6", '>', 100, NULL, set) == 0);
    pm_ctx_clear(ctx);
    CHECK(pm_omics_threshold(st, "olink", "IL7", '>', 1, NULL, set) == PM_ENOTFOUND);
    CHECK(msg_has("feature 'IL7' of assay 'olink' is not in this store"));
    CHECK(pm_omics_threshold(st, "rna", "IL6", '>', 1, NULL, set) == PM_ENOTFOUND);
    pm_bitset_free(set);
    pm_bitset_t *c = NULL;
    CHECK(pm_cohort_eval(st, "omics:olink:IL6>2 or omics:olink:tnf<5", &c) == 0);
    CHECK(c && pm_bitset_count(c) == 2);
    pm_bitset_free(c);
    c = NULL;
    CHECK(pm_cohort_eval(st, "sex=F and omics:olink:IL7>2", &c) == PM_EINPUT);
    CHECK(msg_has("column 11: feature 'IL7'"));
    pm_bitset_free(c);

    /* the same values again are refused; so are new samples' overlaps */
    CHECK(ingest("m.tsv", "olink", 0, 0, 1) == PM_EEXIST);
    CHECK(msg_has("sample 'S1' already has a value of feature"));
    CHECK(count_files() == 1);
    /* a disagreeing feature attribute */
    writef("m2.tsv", "feature_id\tpanel\tS5\nIL6\tCardio\t1\n");
    CHECK(ingest("m2.tsv", "olink", 0, 0, 0) == PM_EINPUT);
    CHECK(msg_has("m2.tsv:2: feature 'IL6' has panel 'Inflammation' in the store, 'Cardio' here"));
    CHECK(count_files() == 1);
}

static void test_transposed(void)
{
    writef("t.tsv", "sample_id\tTotal_C\tLDL_C\nM1\t-1.5\t0.25\nM2\tNA\t3\n");
    CHECK(ingest("t.tsv", "metabolomics", PM_OMICS_MATRIX, PM_OMICS_FEATURES_BY_SAMPLES, 0) ==
          PM_EINPUT);
    CHECK(ingest("t.tsv", "metabolomics", PM_OMICS_MATRIX, PM_OMICS_SAMPLES_BY_FEATURES, 0) == 0);
    pm_omics_vals_t *v = vals("metabolomics", "LDL_C", "all");
    CHECK(v && v->n == 2 && v->value[0] == 0.25f && v->value[1] == 3.0f);
    pm_omics_vals_free(v);
    v = vals("metabolomics", "total_c", "all");
    CHECK(v && v->n == 2 && v->value[0] == -1.5f && (v->flags[1] & PM_OMICS_MISSING));
    pm_omics_vals_free(v);
    writef("t2.tsv", "sample_id\tA\nM1\t1\nM1\t2\n");
    CHECK(ingest("t2.tsv", "metabolomics", 0, PM_OMICS_SAMPLES_BY_FEATURES, 0) == PM_EINPUT);
    CHECK(msg_has("t2.tsv:3:1: sample 'M1' is already on line 2"));
}

static void test_olink(void)
{
    const char *h = "SampleID;Index;OlinkID;UniProt;Assay;MissingFreq;Panel_Version;PlateID;"
                    "QC_Warning;LOD;NPX;Panel\n";
    char buf[4096];
    /* errors */
    snprintf(buf, sizeof buf, "%sS4;1;OID1;P1;IL6;0;v;PL1;Pass;1;2;Inf\n"
                              "S4;2;OID1;P1;IL-6;0;v;PL1;Pass;1;2;Inf\n", h);
    writef("o1.csv", buf);
    CHECK(ingest("o1.csv", "olink", PM_OMICS_OLINK, 0, 0) == PM_EINPUT);
    CHECK(msg_has("o1.csv:3:14: feature 'OID1' has Assay 'IL6' on line 2, 'IL-6' here"));
    snprintf(buf, sizeof buf, "%sS4;1;OID1;P1;IL6;0;v;PL1;Maybe;1;2;Inf\n", h);
    writef("o2.csv", buf);
    CHECK(ingest("o2.csv", "olink", PM_OMICS_OLINK, 0, 0) == PM_EINPUT);
    CHECK(msg_has("o2.csv:2:"));
    CHECK(msg_has("QC value 'Maybe'"));
    snprintf(buf, sizeof buf, "%sS4;1;OID1;P1;IL6;0;v;PL1;Pass;1;2;Inf\n"
                              "S4;1;OID1;P1;IL6;0;v;PL2;Pass;1;5;Inf\n", h);
    writef("o3.csv", buf);
    CHECK(ingest("o3.csv", "olink", PM_OMICS_OLINK, 0, 0) == PM_EINPUT);
    CHECK(msg_has("o3.csv:3:1: sample 'S4' has a second value of feature 'OID1' (first on line 2)"));
    snprintf(buf, sizeof buf, "%sS4;1;OID1;P1;IL6;0;v;PL1;Pass;1;2;Inf\n"
                              "S4;1;OID2;P2;IL8;0;v;PL2;Pass;1;5;Inf\n", h);
    writef("o4.csv", buf);
    CHECK(ingest("o4.csv", "olink", PM_OMICS_OLINK, 0, 0) == PM_EINPUT);
    CHECK(msg_has("sample 'S4' is on plate 'PL1' on line 2 and on plate 'PL2' here"));
    writef("o5.csv", "SampleID;OlinkID;NPX\nS4;OID1;1\n");
    CHECK(ingest("o5.csv", "olink", PM_OMICS_OLINK, 0, 0) == PM_EINPUT);
    CHECK(msg_has("o5.csv:1: no 'UniProt' column"));
    CHECK(count_files() == 2);

    /* flags: below LOD, QC warning, NA NPX, NA LOD; two panels -> two batches;
     * tab-separated with a quoted field too */
    writef("o.tsv", "SampleID\tOlinkID\tUniProt\tAssay\tPanel\tPlateID\tQC_Warning\tLOD\tNPX\n"
                    "S4\tOID9\tP05231\tIL6b\tInflammation\tPL1\tPass\t1.5\t1.25\n"
                    "S5\tOID9\tP05231\tIL6b\tInflammation\tPL1\tWarning\t1.5\t3\n"
                    "S1\tOID9\tP05231\tIL6b\tInflammation\tPL1\tWARN\t1.5\tNA\n"
                    "S2\tOID9\tP05231\tIL6b\tInflammation\tPL2\tPass\tNA\t-7\n"
                    "S4\tOID8\tQ1\tKIM1\tCardiometabolic\tPL7\tPass\t0\t0\n"
                    "CTRL\tOID8\tQ1\tKIM1\tCardiometabolic\tPL7\tPass\t0\t9\n");
    pm_omics_result_t r;
    pm_omics_opts_t o = {.assay = "olink", .skip_unknown_samples = 1};
    pm_ctx_clear(ctx);
    CHECK_MSG(pm_omics_ingest(st, fpath("o.tsv"), &o, &r) == 0, "%s", pm_ctx_errmsg(ctx));
    CHECK(r.batches == 2 && r.features == 2 && r.samples == 4 && r.values == 5);
    CHECK(r.below_lod == 1 && r.qc_warning == 2 && r.missing == 1 && r.skipped_values == 1);
    CHECK(count_files() == 4);
    pm_omics_vals_t *v = vals("olink", "IL6b", "all");
    CHECK(v && v->n == 3); /* S5 withdrawn */
    if (v && v->n == 3) {
        CHECK_STR(v->sample_id[0], "S1");
        CHECK(v->flags[0] == (PM_OMICS_MISSING | PM_OMICS_QC_WARNING));
        CHECK(v->flags[1] == 0 && v->value[1] == -7.0f); /* no LOD: no flag */
        CHECK(v->flags[2] == PM_OMICS_BELOW_LOD && v->value[2] == 1.25f);
    }
    pm_omics_vals_free(v);
    v = vals("olink", "OID8", "all");
    CHECK(v && v->n == 1 && v->flags[0] == 0 && v->value[0] == 0.0f); /* 0 is not below LOD 0 */
    pm_omics_vals_free(v);

    /* a name that names two features */
    writef("o6.csv", "SampleID,OlinkID,UniProt,Assay,Panel,PlateID,QC_Warning,LOD,NPX\n"
                     "S4,OID7,P05231,IL6b,\"Cardio, II\",PL1,Pass,1,2\n");
    CHECK(ingest("o6.csv", "olink", PM_OMICS_AUTO, 0, 0) == 0);
    pm_omics_vals_t *w = NULL;
    pm_ctx_clear(ctx);
    CHECK(pm_omics_values(st, "olink", "IL6b", NULL, NULL, 0, &w) == PM_EINPUT);
    CHECK(msg_has("feature name 'IL6b' names several features (OID7, OID9)"));
    w = vals("olink", "OID7", "all");
    CHECK(w && w->n == 1 && w->value[0] == 2.0f);
    pm_omics_vals_free(w);
}

/* Garbage from an interrupted ingest goes; a damaged block is detected. */
static void test_files(void)
{
    char p[700];
    snprintf(p, sizeof p, "%s/omics/b000099.pmo.tmp-1-0", path);
    FILE *f = fopen(p, "w");
    fputs("junk", f);
    fclose(f);
    int before = count_files();
    writef("g.tsv", "feature_id\tS4\nNEW1\t5\n");
    CHECK(ingest("g.tsv", "olink", 0, 0, 0) == 0);
    CHECK(count_files() == before); /* one file more, the junk gone */
    CHECK(access(p, F_OK) != 0);

    /* corrupt NEW1's block: the value byte of S4 */
    snprintf(p, sizeof p, "%s/omics/b%06d.pmo", path, 6);
    struct stat sb;
    CHECK(stat(p, &sb) == 0);
    pm_omics_vals_t *v = vals("olink", "NEW1", "all");
    CHECK(v && v->n == 1 && v->value[0] == 5.0f);
    pm_omics_vals_free(v);
    f = fopen(p, "r+b");
    if (f) {
        fseek(f, 64 + 4 + 1, SEEK_SET);
        fputc(0x55, f);
        fclose(f);
    }
    v = NULL;
    pm_ctx_clear(ctx);
    CHECK(pm_omics_values(st, "olink", "NEW1", NULL, NULL, 0, &v) == PM_ECORRUPT);
    CHECK(msg_has("block 0 is damaged (checksum mismatch)"));
    pm_bitset_t *set = pm_bitset_new(4);
    CHECK(pm_omics_threshold(st, "olink", "NEW1", '>', 1, NULL, set) == PM_ECORRUPT);
    pm_bitset_free(set);
    /* a damaged header, and a short file */
    f = fopen(p, "r+b");
    if (f) {
        fseek(f, 13, SEEK_SET);
        fputc(0x7f, f);
        fclose(f);
    }
    pm_ctx_clear(ctx);
    CHECK(pm_omics_values(st, "olink", "NEW1", NULL, NULL, 0, &v) == PM_ECORRUPT);
    CHECK(msg_has("bad header"));
    CHECK(truncate(p, 10) == 0);
    CHECK(pm_omics_values(st, "olink", "NEW1", NULL, NULL, 0, &v) == PM_ECORRUPT);
    unlink(p);
    CHECK(pm_omics_values(st, "olink", "NEW1", NULL, NULL, 0, &v) == PM_ECORRUPT);
    CHECK(msg_has("cannot open omics file"));
}

static int list_cb(void *ud, const pm_omics_feature_t *f)
{
    int *n = ud;
    if (strcmp(f->feature_id, "IL6") == 0)
        CHECK(strcmp(f->panel, "Inflammation") == 0 && strcmp(f->chrom, "7") == 0 &&
              f->pos == 22771 && f->batches == 1 && f->samples == 5);
    (*n)++;
    return 0;
}

static void test_features(void)
{
    int n = 0;
    CHECK(pm_omics_features_each(st, "olink", list_cb, &n) == 0);
    CHECK(n == 6); /* IL6 TNF CRP OID9 OID8 OID7 */
    CHECK(pm_omics_features_each(st, "nope", list_cb, &n) == PM_ENOTFOUND);
}

int main(void)
{
    test_stats();
    test_residualize();
    test_choice_parse();
    setup();
    test_matrix();
    test_transposed();
    test_olink();
    test_features();
    test_files();
    teardown();
    return check_summary("test_omics");
}
