/* test_cohort.c - the cohort language: parser, printer, errors, evaluation, breakdowns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/cat_cohort.h"
#include "check.h"
#include "cohort/term.h"
#include "promise/cohort.h"
#include "promise/promise.h"

/* ---- parser ---- */

/* Parses in, checks the normalised spelling, and that it parses back to itself. */
static void check_norm(const char *in, const char *want)
{
    pm_ctx_t *ctx = pm_ctx_new();
    pm_cohort_t *c = NULL;
    int rc = pm_cohort_parse(ctx, in, &c);
    CHECK_MSG(rc == 0, "parse '%s': %s", in, pm_ctx_errmsg(ctx));
    if (rc == 0) {
        char buf[512], buf2[512];
        size_t n = pm_cohort_format(c, buf, sizeof buf);
        CHECK(n == strlen(buf));
        CHECK_STR(buf, want);
        pm_cohort_t *c2 = NULL;
        CHECK_MSG(pm_cohort_parse(ctx, buf, &c2) == 0, "reparse '%s': %s", buf, pm_ctx_errmsg(ctx));
        if (c2) {
            pm_cohort_format(c2, buf2, sizeof buf2);
            CHECK_STR(buf2, buf);
        }
        pm_cohort_free(c2);
    }
    pm_cohort_free(c);
    pm_ctx_free(ctx);
}

/* Parses in and expects PM_EINPUT (or code) with a message starting with prefix. */
static void check_err_code(const char *in, int code, const char *prefix)
{
    pm_ctx_t *ctx = pm_ctx_new();
    pm_cohort_t *c = NULL;
    int rc = pm_cohort_parse(ctx, in, &c);
    CHECK_MSG(rc == code, "'%s' gave %d (%s), expected %d", in, rc, pm_ctx_errmsg(ctx), code);
    CHECK(c == NULL);
    CHECK_MSG(strncmp(pm_ctx_errmsg(ctx), prefix, strlen(prefix)) == 0,
              "'%s': message '%s' does not start with '%s'", in, pm_ctx_errmsg(ctx), prefix);
    pm_cohort_free(c);
    pm_ctx_free(ctx);
}
static void check_err(const char *in, const char *prefix) { check_err_code(in, PM_EINPUT, prefix); }

static void test_terms(void)
{
    check_norm("", "");
    check_norm("   ", "");
    check_norm("sex=M", "sex=M");
    check_norm("SEX = f", "sex=F");
    check_norm("age>=18", "age>=18");
    check_norm("Age < 65", "age<65");
    check_norm("born:1950..1960", "born:1950..1960");
    check_norm("born:1950", "born:1950");
    check_norm("born:1950..1950", "born:1950");
    check_norm("county:1", "county:01");
    check_norm("county:25", "county:25");
    check_norm("ALIVE", "alive");
    check_norm("source:SCAPIS", "source:SCAPIS");
    check_norm("source:GMS-Stockholm", "source:GMS-Stockholm");
    check_norm("source:\"GMS Stockholm\"", "source:\"GMS Stockholm\"");
    check_norm("source:\"and\"", "source:\"and\"");
    check_norm("source : G\xc3\xb6teborg", "source:G\xc3\xb6teborg");
    check_norm("assay:olink", "assay:olink");
    check_norm("icd10:e11.9", "icd10:E11.9");
    check_norm("ICD10:E11", "icd10:E11");
    check_norm("atc:a10ba02", "atc:A10BA02");
    check_norm("kva:aaf00", "kva:AAF00");
    check_norm("kv\xc3\xa5:AAF00", "kva:AAF00");
    check_norm("icdo3:8500/3", "icdo3:8500/3");
    check_norm("death:I21", "death:I21");
    check_norm("icd9:410", "icd9:410");
    check_norm("icd10:I10-I15", "icd10:I10-I15");
    check_norm("endpoint:T2D", "endpoint:T2D");
    check_norm("Endpoint : \"my endpoint\"", "endpoint:\"my endpoint\"");
    check_norm("carrier(chr22:16050075:a:g)", "carrier(chr22:16050075:A:G)");
    check_norm("carrier( 22 : 16050075 : AT : A )", "carrier(22:16050075:AT:A)");
    check_norm("carrier(X:100:A:*)", "carrier(X:100:A:*)");
    check_norm("omics:olink:IL6>3.5", "omics:olink:IL6>3.5");
    check_norm("omics:olink:IL6 < -1e-3", "omics:olink:IL6<-1e-3");
    check_norm("omics:metabolomics:\"glucose 1\">7", "omics:metabolomics:\"glucose 1\">7");
}

static void test_precedence(void)
{
    check_norm("sex=M or sex=F and alive", "sex=M or sex=F and alive");
    check_norm("(sex=M or sex=F) and alive", "(sex=M or sex=F) and alive");
    check_norm("sex=M and (alive and county:1)", "sex=M and (alive and county:01)");
    check_norm("((sex=M))", "sex=M");
    check_norm("not not alive", "not not alive");
    check_norm("not (sex=M and alive)", "not (sex=M and alive)");
    check_norm("NOT sex=M AND alive", "not sex=M and alive");
    check_norm("sex=M or (alive or sex=F)", "sex=M or (alive or sex=F)");
    check_norm("(sex=M or alive) or sex=F", "sex=M or alive or sex=F");
    check_norm("  sex = F  and(alive)OR(county:03)", "sex=F and alive or county:03");

    /* tree shapes */
    pm_cohort_t *c;
    CHECK(pm_cohort_parse(NULL, "sex=M or sex=F and not alive", &c) == 0);
    CHECK(c->root->op == PM_NODE_OR);
    CHECK(c->root->a->op == PM_NODE_TERM && c->root->a->term.kind == PM_TERM_SEX);
    CHECK(c->root->b->op == PM_NODE_AND);
    CHECK(c->root->b->b->op == PM_NODE_NOT);
    CHECK(c->root->b->b->a->term.kind == PM_TERM_ALIVE);
    CHECK(c->root->b->b->col == 20);
    pm_cohort_free(c);
    CHECK(pm_cohort_parse(NULL, "not sex=M and alive", &c) == 0);
    CHECK(c->root->op == PM_NODE_AND && c->root->a->op == PM_NODE_NOT);
    pm_cohort_free(c);
    CHECK(pm_cohort_parse(NULL, "a", &c) == PM_EINPUT); /* errors without a ctx */
    CHECK(c == NULL);

    /* printing into a small buffer truncates like snprintf */
    CHECK(pm_cohort_parse(NULL, "sex=F and source:SCAPIS", &c) == 0);
    char small[8];
    CHECK(pm_cohort_format(c, small, sizeof small) == strlen("sex=F and source:SCAPIS"));
    CHECK_STR(small, "sex=F a");
    CHECK(pm_cohort_format(c, NULL, 0) == strlen("sex=F and source:SCAPIS"));
    pm_cohort_free(c);
    CHECK(pm_cohort_parse(NULL, "", &c) == 0);
    CHECK(c->root == NULL && pm_cohort_format(c, small, sizeof small) == 0 && small[0] == 0);
    pm_cohort_free(c);
    CHECK(pm_cohort_parse(NULL, "carrier(22:16050075:A:G)", &c) == 0);
    CHECK(c->root->term.kind == PM_TERM_CARRIER && c->root->term.pos == 16050075);
    CHECK_STR(c->root->term.chrom, "22");
    pm_cohort_free(c);
    CHECK(pm_cohort_parse(NULL, "omics:olink:IL6<2.5", &c) == 0);
    CHECK(c->root->term.kind == PM_TERM_OMICS_LT && c->root->term.x == 2.5);
    CHECK_STR(c->root->term.feature, "IL6");
    pm_cohort_free(c);
    pm_cohort_free(NULL);
}

static void test_windows(void)
{
    check_norm("icd10:I21 within 2y after first assay:olink",
               "icd10:I21 within 2 years after first assay:olink");
    check_norm("first icd10:I21 within 730 days before last source:SCAPIS",
               "first icd10:I21 within 730 days before last source:SCAPIS");
    check_norm("icd10:I21 WITHIN 6 Months AFTER assay:olink",
               "icd10:I21 within 6 months after assay:olink");
    check_norm("any atc:C07 within 3w after any kva:FNG",
               "atc:C07 within 3 weeks after kva:FNG");
    check_norm("not death:I21 within 1y after icd10:I21 and sex=M",
               "not death:I21 within 1 years after icd10:I21 and sex=M");
    pm_cohort_t *c;
    CHECK(pm_cohort_parse(NULL, "first icd10:I21 within 2y after assay:olink", &c) == 0);
    CHECK(c->root->op == PM_NODE_WINDOW);
    CHECK(c->root->ev_q == PM_Q_FIRST && c->root->an_q == PM_Q_ANY);
    CHECK(c->root->amount == 2 && c->root->unit == PM_UNIT_YEARS && c->root->dir == PM_DIR_AFTER);
    CHECK(c->root->a->term.kind == PM_TERM_ICD10 && c->root->b->term.kind == PM_TERM_ASSAY);
    pm_cohort_free(c);
}

static void test_errors(void)
{
    check_err("sex=M and", "column 10: expected a term, but the expression ended");
    check_err("(sex=M", "column 7: expected ')' to close the '(' at column 1");
    check_err("(sex=M alive)", "column 8: expected 'and', 'or' or ')'");
    check_err("sex=M)", "column 6: unexpected ')' without a matching '('");
    check_err("sex=X", "column 5: sex must be M or F");
    check_err("sex M", "column 5: expected '=' after 'sex'");
    check_err("age>50", "column 4: age takes '>=' or '<'");
    check_err("age<=50", "column 4: age takes '>=' or '<'");
    check_err("age>=abc", "column 6: age must be a whole number");
    check_err("age>=999", "column 6: age must be a whole number");
    check_err("age", "column 4: expected '>=' or '<' after 'age'");
    check_err("foo:bar", "column 1: unknown term 'foo'");
    check_err("sex=M & alive", "column 7: unexpected '&'; use 'and'");
    check_err("sex=M || alive", "column 7: unexpected '|'; use 'or'");
    check_err("!alive", "column 1: unexpected '!'; use 'not'");
    check_err("born:1960..1950", "column 6: born range 1960..1950 is empty");
    check_err("born:19x0", "column 6: born takes a year");
    check_err("born:1950-1960", "column 6: born takes a year");
    check_err("county:abc", "column 8: county takes a two-digit");
    check_err("county:123", "column 8: county takes a two-digit");
    check_err("carrier(22:abc:A:G)", "column 12: position must be");
    check_err("carrier(22:1:A:G", "column 17: expected ')' to close 'carrier('");
    check_err("carrier(22:1:A)", "column 15: expected ':' then the ALT allele");
    check_err("carrier(22:1:A:Q)", "column 16: the ALT allele must be bases");
    check_err("carrier 22:1:A:G", "column 9: expected '(' after 'carrier'");
    check_err("sex=M alive", "column 7: expected 'and', 'or' or the end of the expression, "
                             "found 'alive'");
    check_err("icd10:", "column 7: expected a code after 'icd10:', found the end");
    check_err("icd10 E11", "column 7: expected ':' after 'icd10'");
    check_err("icd10:E1$1", "column 9: unexpected character '$'");
    check_err("omics:olink:IL6", "column 16: expected '>' or '<'");
    check_err("omics:olink:IL6>x", "column 17: expected a number after '>'");
    check_err("omics:olink>3", "column 12: expected ':' then a feature");
    check_err("sex=M within 2y after assay:olink", "column 1: 'sex=' has no date");
    check_err("icd10:I21 within 2y after alive", "column 27: 'alive' has no date");
    check_err("icd10:I21 within 2 fortnights after assay:olink",
              "column 20: expected a time unit");
    check_err("icd10:I21 within 2q after assay:olink", "column 19: unknown time unit 'q'");
    check_err("icd10:I21 within 2y", "column 20: expected 'after' or 'before'");
    check_err("icd10:I21 within years after assay:olink", "column 18: expected a whole number");
    check_err("icd10:I21 within 2y after assay:olink within 1y after source:X",
              "column 39: time windows do not chain");
    check_err("first icd10:I21", "column 1: 'first' needs a time window");
    check_err("()", "column 2: empty parentheses");
    check_err("source:and", "column 8: expected a name after 'source:', found 'and'");
    check_err("source:\"abc", "column 8: unterminated '\"'");
    check_err("source:G\xc3\xb6teborg and )", "column 21: unexpected ')' where a term should be");
    check_err("source:G\xc3\xb6teborg and ,", "column 21: unexpected ','");
    check_err("sex=M and and alive", "column 11: expected a term, found 'and'");
    check_err("alive:1", "column 6: 'alive' takes no argument");
    check_err("not", "column 4: expected a term, but the expression ended");
    check_err("sex=M\tand\n#", "column 11: unexpected character '#'");

    char deep[1000];
    size_t k = 0;
    for (int i = 0; i < 300; i++)
        deep[k++] = '(';
    memcpy(deep + k, "alive", 5);
    k += 5;
    for (int i = 0; i < 300; i++)
        deep[k++] = ')';
    deep[k] = '\0';
    check_err_code(deep, PM_ELIMIT, "column 201: expression nested deeper");
    char *big = malloc(70000);
    memset(big, 'a', 69999);
    big[69999] = '\0';
    check_err_code(big, PM_ELIMIT, "cohort expression longer than");
    free(big);
}

/* ---- evaluation ---- */

static char tmpdir[256];

static pm_store_t *make_store(pm_ctx_t *ctx)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/pmcohort.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir))
        return NULL;
    char path[300];
    snprintf(path, sizeof path, "%s/st", tmpdir);
    pm_store_t *st = NULL;
    if (pm_store_init(ctx, path) < 0 || pm_store_open(ctx, path, PM_STORE_RDWR, &st) < 0) {
        fprintf(stderr, "store: %s\n", pm_ctx_errmsg(ctx));
        return NULL;
    }
    static const struct {
        const char *sex, *birth, *county, *death, *emig;
        int withdrawn;
    } pop[] = {
        {"F", "1950-06-15", "01", NULL, NULL, 0},         /* 0: 75 */
        {"M", "1960-01-01", "01", NULL, NULL, 0},         /* 1: 66 (birthday on the ref date) */
        {"F", "1990-12-31", "03", NULL, NULL, 0},         /* 2: 35 */
        {"M", "2000-01-02", "12", NULL, NULL, 0},         /* 3: 25 (birthday tomorrow) */
        {"F", "1940-03-01", "12", "2020-05-01", NULL, 0}, /* 4: dead at 80 */
        {"M", "1985-07-07", NULL, NULL, "2015-01-01", 0}, /* 5: emigrated, 40 */
        {"F", "1970-02-02", "01", NULL, NULL, 1},         /* 6: withdrawn */
        {NULL, NULL, NULL, NULL, NULL, 0},                /* 7: nothing known */
        {"M", "2027-01-01", "03", NULL, NULL, 0},         /* 8: born after the ref date */
        {"F", "2000-02-29", "03", NULL, NULL, 0},         /* 9: 25 */
    };
    for (size_t i = 0; i < sizeof pop / sizeof *pop; i++) {
        char ps[64];
        snprintf(ps, sizeof ps, "aaaaaa-%026zu", i);
        int64_t idx = pm_cat_test_add_individual(st, ps, pop[i].sex, pop[i].birth, pop[i].county,
                                                 pop[i].death, pop[i].emig, pop[i].withdrawn);
        CHECK(idx == (int64_t)i);
    }
    static const struct {
        const char *id;
        int idx;
        const char *source, *assay, *date;
    } samples[] = {
        {"s0", 0, "SCAPIS", "wgs", "2015-01-01"},        {"s1", 0, "SCAPIS", "olink", "2016-01-01"},
        {"s2", 1, "GMS-Stockholm", "wgs", "2018-05-05"}, {"s3", 2, "SCAPIS", "olink", "2019-01-01"},
        {"s4", 6, "SCAPIS", "wgs", "2019-01-01"},        {"s5", 5, "LifeGene", "array", NULL},
        {"s6", 3, "GMS-Stockholm", "olink", "2020-02-02"},
        {"s7", 3, "GMS-Stockholm", "wgs", "2021-02-02"},
    };
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++)
        CHECK(pm_cat_test_add_sample(st, samples[i].id, samples[i].idx, samples[i].source,
                                     samples[i].assay, samples[i].date) == 0);
    return st;
}

static char warned[1024];
static void on_warn(void *ud, const char *msg)
{
    (void)ud;
    snprintf(warned + strlen(warned), sizeof warned - strlen(warned), "%s;", msg);
}

static pm_cohort_opts_t opts = {.ref_date = 20260101, .warn = on_warn};

/* Evaluates expr and renders the set as "0,2,4". */
static const char *members(pm_store_t *st, const char *expr)
{
    static char buf[256];
    pm_bitset_t *s = NULL;
    int rc = pm_cohort_eval_opts(st, expr, &opts, &s);
    if (rc < 0) {
        snprintf(buf, sizeof buf, "error %d: %s", rc, pm_ctx_errmsg(pm_store_ctx(st)));
        return buf;
    }
    buf[0] = '\0';
    for (size_t i = pm_bitset_next(s, 0); i != (size_t)-1; i = pm_bitset_next(s, i + 1))
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%zu", buf[0] ? "," : "", i);
    pm_bitset_free(s);
    return buf;
}

static void test_eval(void)
{
    pm_ctx_t *ctx = pm_ctx_new();
    pm_store_t *st = make_store(ctx);
    CHECK(st != NULL);
    if (!st) {
        pm_ctx_free(ctx);
        return;
    }
    CHECK(pm_store_n_individuals(st) == 10);
    CHECK_STR(members(st, ""), "0,1,2,3,4,5,7,8,9");
    CHECK_STR(members(st, NULL), "0,1,2,3,4,5,7,8,9");
    CHECK_STR(members(st, "sex=F"), "0,2,4,9");
    CHECK_STR(members(st, "sex=M"), "1,3,5,8");
    CHECK_STR(members(st, "not sex=F"), "1,3,5,7,8");
    CHECK_STR(members(st, "not (sex=F or sex=M)"), "7");
    CHECK_STR(members(st, "source:SCAPIS"), "0,2");
    CHECK_STR(members(st, "source:scapis"), "0,2");
    CHECK_STR(members(st, "not source:SCAPIS"), "1,3,4,5,7,8,9");
    CHECK_STR(members(st, "sex=F and source:SCAPIS"), "0,2");
    CHECK_STR(members(st, "sex=M or source:SCAPIS"), "0,1,2,3,5,8");
    CHECK_STR(members(st, "sex=M and not source:GMS-Stockholm"), "5,8");
    CHECK_STR(members(st, "sex=M or sex=F and source:SCAPIS"), "0,1,2,3,5,8");
    CHECK_STR(members(st, "(sex=M or sex=F) and source:GMS-Stockholm"), "1,3");
    warned[0] = '\0';
    CHECK_STR(members(st, "sex=F and source:NOPE"), "");
    CHECK_STR(warned, "column 11: source 'NOPE' is not in this store; the term matches no one;");
    CHECK_STR(members(st, "not source:NOPE"), "0,1,2,3,4,5,7,8,9");
    CHECK_STR(members(st, "assay:olink"), "0,2,3");
    CHECK_STR(members(st, "assay:WGS"), "0,1,3");
    CHECK_STR(members(st, "assay:array"), "5");
    CHECK_STR(members(st, "age>=65"), "0,1,4");
    CHECK_STR(members(st, "age>=66"), "0,1,4");
    CHECK_STR(members(st, "age>=67"), "0,4");
    CHECK_STR(members(st, "age<26"), "3,9");
    CHECK_STR(members(st, "age<25"), "");
    CHECK_STR(members(st, "age>=0"), "0,1,2,3,4,5,9");
    CHECK_STR(members(st, "not age>=0"), "7,8");
    CHECK_STR(members(st, "age>=18 and age<65"), "2,3,5,9");
    CHECK_STR(members(st, "born:1950..1960"), "0,1");
    CHECK_STR(members(st, "born:1990"), "2");
    CHECK_STR(members(st, "born:2000"), "3,9");
    CHECK_STR(members(st, "county:01"), "0,1");
    CHECK_STR(members(st, "county:1"), "0,1");
    CHECK_STR(members(st, "county:12"), "3,4");
    CHECK_STR(members(st, "county:99"), "");
    CHECK_STR(members(st, "alive"), "0,1,2,3,5,7,9");
    CHECK_STR(members(st, "not alive"), "4,8");
    CHECK_STR(members(st, "alive and sex=F and age>=30"), "0,2");

    /* same set however spelled */
    CHECK_STR(members(st, "not (sex=M or source:SCAPIS)"), members(st, "not sex=M and not source:SCAPIS"));

    /* time windows over sample dates */
    CHECK_STR(members(st, "assay:wgs within 1y after assay:olink"), "3");
    CHECK_STR(members(st, "assay:wgs within 1 year before assay:olink"), "0");
    CHECK_STR(members(st, "assay:wgs within 364 days before assay:olink"), "");
    CHECK_STR(members(st, "assay:wgs within 0 days after assay:wgs"), "0,1,3");
    CHECK_STR(members(st, "first assay:wgs within 2y after first source:SCAPIS"), "0");
    CHECK_STR(members(st, "last assay:wgs within 1 month after last assay:olink"), "");
    CHECK_STR(members(st, "source:LifeGene within 100y after source:LifeGene"), "");

    /* a different reference date moves ages and "alive" */
    pm_cohort_opts_t o2 = {.ref_date = 20100101};
    pm_bitset_t *s = NULL;
    CHECK(pm_cohort_eval_opts(st, "alive", &o2, &s) == 0);
    CHECK(s && pm_bitset_get(s, 4) && !pm_bitset_get(s, 8));
    pm_bitset_free(s);
    o2.ref_date = 20100231;
    CHECK(pm_cohort_eval_opts(st, "alive", &o2, &s) == PM_EUSAGE);
    CHECK(s == NULL);
    CHECK(pm_cohort_ref_date(st, &opts) == 20260101);

    /* terms whose data another module provides: an honest error, or a set */
    /* registry and genotype terms on a store without such data: no one */
    static const char *const empty[] = {"icd10:I21", "atc:C07", "kva:AAF00", "icdo3:C50",
                                        "death:I21", "icd9:410", "carrier(22:1:A:G)",
                                        "icd10:I21 within 2y after assay:olink",
                                        "assay:olink within 2y before first death:I21"};
    for (size_t i = 0; i < sizeof empty / sizeof *empty; i++)
        CHECK_MSG(strcmp(members(st, empty[i]), "") == 0, "%s: %s", empty[i], members(st, empty[i]));
    CHECK_STR(members(st, "not icd10:I21"), "0,1,2,3,4,5,7,8,9");
    warned[0] = '\0';
    CHECK_STR(members(st, "carrier(chr22:16050075:A:G)"), "");
    CHECK_STR(warned, "column 1: variant chr22:16050075:A:G is not in this store; the term "
                      "matches no one;");
    /* errors of the registry come back at the term's column */
    CHECK(strncmp(members(st, "sex=F or endpoint:NO_SUCH"),
                  "error -2: column 10: no endpoint named 'NO_SUCH'", 48) == 0);
    /* omics terms go to the omics module: this store has no such assay,
     * which is bad input reported at the term's column */
    CHECK_MSG(strncmp(members(st, "alive and omics:olink:IL6>1"), "error -2: column 11: ", 21) == 0,
              "%s", members(st, "alive and omics:olink:IL6>1"));

    /* consent purposes */
    pm_cohort_opts_t op = opts;
    op.purpose = "research";
    CHECK(pm_cohort_eval_opts(st, "sex=F", &op, &s) == 0);
    CHECK(s && pm_bitset_count(s) == 4);
    pm_bitset_free(s);
    op.purpose = "no-such-purpose";
    CHECK(pm_cohort_eval_opts(st, "sex=F", &op, &s) == PM_EINPUT);

    /* a syntax error through eval */
    CHECK(pm_cohort_eval(st, "sex=", &s) == PM_EINPUT);
    CHECK(s == NULL);
    CHECK_STR(pm_ctx_errmsg(ctx), "column 5: sex must be M or F, found the end of the expression");

    /* plain pm_cohort_eval (today's date) */
    CHECK(pm_cohort_eval(st, "sex=F and not source:SCAPIS", &s) == 0);
    CHECK(s && pm_bitset_count(s) == 2);
    pm_bitset_free(s);

    /* the reference date from the store setting */
    CHECK(pm_cohort_ref_date(st, NULL) > 20000101);

    /* ---- breakdowns ---- */
    pm_bitset_t *all = NULL;
    CHECK(pm_cohort_eval_opts(st, "", &opts, &all) == 0);
    pm_cohort_table_t *t = NULL;
    CHECK(pm_cohort_tabulate(st, all, "sex", &opts, &t) == 0);
    if (t) {
        CHECK(t->ndim == 1 && t->nlab[0] == 3 && t->additive[0]);
        CHECK_STR(t->lab[0][0], "F");
        CHECK_STR(t->lab[0][1], "M");
        CHECK_STR(t->lab[0][2], "NA");
        CHECK(t->cell[0] == 4 && t->cell[1] == 4 && t->cell[2] == 1 && t->cell[3] == 9);
        CHECK(pm_cohort_table_ncells(t) == 4);
    }
    pm_cohort_table_free(t);
    CHECK(pm_cohort_tabulate(st, all, "county", &opts, &t) == 0);
    if (t) {
        /* withdrawn 6 is in county 01 but does not make categories or counts */
        CHECK(t->nlab[0] == 4);
        CHECK_STR(t->lab[0][0], "01");
        CHECK_STR(t->lab[0][1], "03");
        CHECK_STR(t->lab[0][2], "12");
        CHECK_STR(t->lab[0][3], "NA");
        CHECK(t->cell[0] == 2 && t->cell[1] == 3 && t->cell[2] == 2 && t->cell[3] == 2);
    }
    pm_cohort_table_free(t);
    CHECK(pm_cohort_tabulate(st, all, "age-band", &opts, &t) == 0);
    if (t) {
        /* 25,25 | 35 | 40 | 66 | 75 | 80 | NA: 7, 8 */
        const char *lab[] = {"20-29", "30-39", "40-49", "60-69", "70-79", "80-89", "NA"};
        const int64_t cnt[] = {2, 1, 1, 1, 1, 1, 2, 9};
        CHECK(t->nlab[0] == 7);
        for (size_t i = 0; i < 7 && i < t->nlab[0]; i++) {
            CHECK_STR(t->lab[0][i], lab[i]);
            CHECK(t->cell[i] == cnt[i]);
        }
        CHECK(t->cell[7] == 9);
    }
    pm_cohort_table_free(t);
    CHECK(pm_cohort_tabulate(st, all, "source", &opts, &t) == 0);
    if (t) {
        CHECK(t->nlab[0] == 3 && !t->additive[0]);
        CHECK_STR(t->lab[0][0], "GMS-Stockholm");
        CHECK_STR(t->lab[0][1], "LifeGene");
        CHECK_STR(t->lab[0][2], "SCAPIS");
        CHECK(t->cell[0] == 2 && t->cell[1] == 1 && t->cell[2] == 2 && t->cell[3] == 9);
    }
    pm_cohort_table_free(t);
    CHECK(pm_cohort_tabulate(st, all, "source, sex", &opts, &t) == 0);
    if (t) {
        CHECK(t->ndim == 2 && t->nlab[0] == 3 && t->nlab[1] == 3);
        size_t C = 4;
        CHECK(t->cell[0 * C + 0] == 0 && t->cell[0 * C + 1] == 2 && t->cell[0 * C + 3] == 2);
        CHECK(t->cell[2 * C + 0] == 2 && t->cell[2 * C + 3] == 2);
        CHECK(t->cell[3 * C + 0] == 4 && t->cell[3 * C + 1] == 4 && t->cell[3 * C + 2] == 1);
        CHECK(t->cell[3 * C + 3] == 9);
        CHECK_STR(t->field[0], "source");
        CHECK_STR(t->field[1], "sex");
    }
    pm_cohort_table_free(t);
    CHECK(pm_cohort_tabulate(st, all, "assay", &opts, &t) == 0);
    pm_cohort_table_free(t);
    CHECK(pm_cohort_tabulate(st, all, "", &opts, &t) == 0);
    CHECK(t && t->ndim == 0 && t->cell[0] == 9);
    pm_cohort_table_free(t);
    CHECK(pm_cohort_tabulate(st, all, "height", &opts, &t) == PM_EUSAGE);
    CHECK(pm_cohort_tabulate(st, all, "sex,sex", &opts, &t) == PM_EUSAGE);
    CHECK(pm_cohort_tabulate(st, all, "sex,county,source", &opts, &t) == PM_EUSAGE);
    CHECK(t == NULL);
    pm_bitset_free(all);

    pm_store_close(st);
    pm_ctx_free(ctx);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    test_terms();
    test_precedence();
    test_windows();
    test_errors();
    test_eval();
    return check_summary("test_cohort");
}
