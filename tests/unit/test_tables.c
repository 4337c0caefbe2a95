/* test_tables.c - population and samples ingest, key binding, the
 * simulator (promise/tables.h, promise/simulate.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/individual.h"
#include "check.h"
#include "core/fileio.h"
#include "promise/identity.h"
#include "promise/promise.h"
#include "promise/simulate.h"
#include "promise/tables.h"

#define REF 20261128

static char g_dir[256];
static pm_ctx_t *g_ctx;
static pm_key_t *g_key_a, *g_key_b;

static const char *tmp(const char *name)
{
    static char buf[8][512];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", g_dir, name);
    return buf[i];
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    if (!fp) {
        perror(path);
        exit(2);
    }
    fputs(text, fp);
    fclose(fp);
}

/* A test personnummer YYMMDD-NNNC with the check digit computed. */
static const char *pnr(const char *yymmdd, int num, char sep)
{
    static char buf[8][16];
    static int i;
    i = (i + 1) % 8;
    char d[10];
    snprintf(d, sizeof d, "%.6s%03d", yymmdd, num);
    int sum = 0;
    for (int k = 0; k < 9; k++) {
        int v = (d[k] - '0') * (k % 2 == 0 ? 2 : 1);
        sum += v > 9 ? v - 9 : v;
    }
    snprintf(buf[i], sizeof buf[i], "%.6s%c%03d%d", yymmdd, sep, num, (10 - sum % 10) % 10);
    return buf[i];
}

static pm_store_t *new_store(const char *name)
{
    const char *path = tmp(name);
    CHECK(pm_store_init(g_ctx, path) == 0);
    pm_store_t *st = NULL;
    CHECK(pm_store_open(g_ctx, path, PM_STORE_RDWR, &st) == 0);
    return st;
}

/* Dump of the catalog via the sqlite3 shell, for before/after checks. */
static char *dump(const char *store)
{
    char cmd[1200], out[600];
    snprintf(out, sizeof out, "%s/dump.sql", g_dir);
    snprintf(cmd, sizeof cmd, "sqlite3 '%s/catalog.db' .dump > '%s'", store, out);
    if (system(cmd) != 0)
        return NULL;
    char *data;
    size_t len;
    if (pm_read_file(g_ctx, out, 1 << 26, &data, &len) < 0)
        return NULL;
    return data;
}

static int64_t idx_of(pm_store_t *st, const pm_key_t *key, const char *number,
                      pm_individual_row_t *row)
{
    pm_pnr_t p;
    if (pm_pnr_parse(number, REF, &p) != PM_PNR_OK)
        return -2;
    char pseudo[PM_PSEUDONYM_MAX];
    pm_pseudonym(key, &p, pseudo);
    int64_t idx = -1;
    if (pm_individual_find(st, pseudo, &idx, row) != 1)
        return -1;
    return idx;
}

static void test_dates(void)
{
    int ymd = 0;
    CHECK(pm_iso_date_parse("2024-02-29", &ymd) == 0 && ymd == 20240229);
    CHECK(pm_iso_date_parse("2023-02-29", &ymd) == -2);
    CHECK(pm_iso_date_parse("2023-02-30", &ymd) == -2);
    CHECK(pm_iso_date_parse("2023-13-01", &ymd) == -2);
    CHECK(pm_iso_date_parse("2023-1-01", &ymd) == -1);
    CHECK(pm_iso_date_parse("2023-01-011", &ymd) == -1);
    CHECK(pm_iso_date_parse("20230101", &ymd) == -1);
    CHECK(pm_iso_date_parse("", &ymd) == -1);
    CHECK(pm_ymd_to_days(19700101) == 0);
    CHECK(pm_ymd_to_days(20000301) - pm_ymd_to_days(20000228) == 2);
    for (int64_t d = -40000; d < 40000; d += 7)
        CHECK(pm_ymd_to_days(pm_days_to_ymd(d)) == d);
}

static void test_population(void)
{
    pm_store_t *st = new_store("pop");
    pm_ingest_opts_t o = {.key = g_key_a, .ref_date = REF};
    pm_ingest_result_t r;
    char text[4096];
    /* a: sex and birth derived; b: full row; c: 100+ with '+' */
    const char *a = pnr("800101", 982, '-'), *b = pnr("850615", 991, '-'),
               *c = pnr("200229", 983, '+');
    snprintf(text, sizeof text,
             "county\tpersonnummer\tsex\tbirth_date\tdeath_date\temigration_date\n"
             "01\t%s\t\t\t\t\n"
             "12\t%s\tM\t1985-06-15\t\t2010-01-01\n"
             "25\t%s\tM\t\t2021-03-04\t\n",
             a, b, c);
    write_file(tmp("p1.tsv"), text);
    CHECK_MSG(pm_ingest_population(st, tmp("p1.tsv"), &o, &r) == 0, "%s", pm_ctx_errmsg(g_ctx));
    CHECK(r.rows == 3 && r.inserted == 3 && r.updated == 0 && r.unchanged == 0);
    CHECK(pm_store_n_individuals(st) == 3);
    pm_individual_row_t row;
    CHECK(idx_of(st, g_key_a, a, &row) == 0);
    CHECK(row.sex == 'F' && row.birth_date == 19800101 && strcmp(row.county, "01") == 0);
    CHECK(idx_of(st, g_key_a, b, &row) == 1);
    CHECK(row.sex == 'M' && row.emigration_date == 20100101);
    CHECK(idx_of(st, g_key_a, c, &row) == 2);
    CHECK(row.birth_date == 19200229 && row.death_date == 20210304);
    char v[128];
    CHECK(pm_store_setting(st, "key_fingerprint", v, sizeof v) == 1 && strlen(v) == 64);
    CHECK(pm_store_setting(st, "key_tag", v, sizeof v) == 1 && strlen(v) == PM_KEY_TAG_LEN);
    pm_store_close(st);

    /* the same file again: unchanged, store byte-for-byte the same */
    char *before = dump(tmp("pop"));
    CHECK(pm_store_open(g_ctx, tmp("pop"), PM_STORE_RDWR, &st) == 0);
    CHECK(pm_ingest_population(st, tmp("p1.tsv"), &o, &r) == 0);
    CHECK(r.rows == 3 && r.unchanged == 3 && r.inserted == 0 && r.updated == 0);
    pm_store_close(st);
    char *after = dump(tmp("pop"));
    CHECK(before && after && strcmp(before, after) == 0);
    free(after);

    /* an update: county moves, a death; a new person gets idx 3 */
    const char *d = pnr("010101", 994, '-');
    snprintf(text, sizeof text,
             "personnummer\tcounty\tdeath_date\n"
             "%s\t03\t\n"
             "%s\t\t2025-01-01\n"
             "%s\t14\t\n"
             "%s\t12\t\n",
             a, b, d, pnr("850615", 991, '-'));
    write_file(tmp("p2.tsv"), text);
    CHECK(pm_store_open(g_ctx, tmp("pop"), PM_STORE_RDWR, &st) == 0);
    /* the last row repeats b: a duplicate, and nothing is applied */
    int rc = pm_ingest_population(st, tmp("p2.tsv"), &o, &r);
    CHECK(rc == PM_EINPUT);
    snprintf(v, sizeof v, "%s:5:1: the same individual is already on line 3", tmp("p2.tsv"));
    CHECK_MSG(strstr(pm_ctx_errmsg(g_ctx), v) != NULL, "%s", pm_ctx_errmsg(g_ctx));
    CHECK(pm_store_n_individuals(st) == 3);
    pm_store_close(st);
    after = dump(tmp("pop"));
    CHECK(before && after && strcmp(before, after) == 0);
    free(after);
    free(before);

    snprintf(text, sizeof text,
             "personnummer\tcounty\tdeath_date\n"
             "%s\t03\t\n"
             "%s\t\t2025-01-01\n"
             "%s\t14\t\n"
             "%s\t25\t\n",
             a, b, d, c);
    write_file(tmp("p2.tsv"), text);
    CHECK(pm_store_open(g_ctx, tmp("pop"), PM_STORE_RDWR, &st) == 0);
    CHECK_MSG(pm_ingest_population(st, tmp("p2.tsv"), &o, &r) == 0, "%s", pm_ctx_errmsg(g_ctx));
    CHECK(r.rows == 4 && r.inserted == 1 && r.updated == 2 && r.unchanged == 1);
    CHECK(idx_of(st, g_key_a, a, &row) == 0 && strcmp(row.county, "03") == 0);
    CHECK(idx_of(st, g_key_a, b, &row) == 1 && row.death_date == 20250101 &&
          strcmp(row.county, "12") == 0 && row.emigration_date == 20100101);
    CHECK(idx_of(st, g_key_a, d, &row) == 3 && row.sex == 'F' && row.birth_date == 20010101);

    /* conflicts with the stored sex / birth date */
    snprintf(text, sizeof text, "pseudonym\tsex\n");
    pm_pnr_t p;
    char pseudo[PM_PSEUDONYM_MAX];
    CHECK(pm_pnr_parse(a, REF, &p) == 0);
    pm_pseudonym(g_key_a, &p, pseudo);
    snprintf(text, sizeof text, "pseudonym\tsex\n%s\tM\n", pseudo);
    write_file(tmp("p3.tsv"), text);
    CHECK(pm_ingest_population(st, tmp("p3.tsv"), &o, &r) == PM_EINPUT);
    CHECK(strstr(pm_ctx_errmsg(g_ctx), ":2:") && strstr(pm_ctx_errmsg(g_ctx), "(column 'sex')"));
    snprintf(text, sizeof text, "pseudonym\tbirth_date\n%s\t1980-01-02\n", pseudo);
    write_file(tmp("p3.tsv"), text);
    CHECK(pm_ingest_population(st, tmp("p3.tsv"), &o, &r) == PM_EINPUT);
    CHECK(strstr(pm_ctx_errmsg(g_ctx), "birth_date conflicts"));
    /* pseudonym input without a key: the same individual, unchanged */
    snprintf(text, sizeof text, "pseudonym\tsex\tcounty\n%s\tF\t03\n", pseudo);
    write_file(tmp("p3.tsv"), text);
    CHECK(pm_ingest_population(st, tmp("p3.tsv"), NULL, &r) == 0);
    CHECK(r.unchanged == 1);
    /* a pseudonym under another key is refused */
    pm_pseudonym(g_key_b, &p, pseudo);
    snprintf(text, sizeof text, "pseudonym\n%s\n", pseudo);
    write_file(tmp("p4.tsv"), text);
    CHECK(pm_ingest_population(st, tmp("p4.tsv"), NULL, &r) == PM_EACCES);
    snprintf(v, sizeof v, "%s:2:1: ", tmp("p4.tsv"));
    CHECK(strstr(pm_ctx_errmsg(g_ctx), v) != NULL);
    /* and so is another key */
    pm_ingest_opts_t ob = {.key = g_key_b, .ref_date = REF};
    CHECK(pm_ingest_population(st, tmp("p1.tsv"), &ob, &r) == PM_EACCES);
    CHECK(strstr(pm_ctx_errmsg(g_ctx), "(column 'personnummer')") != NULL);
    memset(&p, 0, sizeof p);
    pm_store_close(st);
}

/* Each bad file must fail with `code`, a message containing `want`, and
 * leave the store as it was. */
static void expect_fail(const char *store, int samples, const char *text, const pm_ingest_opts_t *o,
                        int code, const char *want)
{
    write_file(tmp("bad.tsv"), text);
    char *before = dump(store);
    pm_store_t *st;
    CHECK(pm_store_open(g_ctx, store, PM_STORE_RDWR, &st) == 0);
    pm_ingest_result_t r;
    int rc = samples ? pm_ingest_samples(st, tmp("bad.tsv"), o, &r)
                     : pm_ingest_population(st, tmp("bad.tsv"), o, &r);
    CHECK_MSG(rc == code, "rc %d want %d: %s", rc, code, pm_ctx_errmsg(g_ctx));
    CHECK_MSG(strstr(pm_ctx_errmsg(g_ctx), want) != NULL, "'%s' not in '%s'", want,
              pm_ctx_errmsg(g_ctx));
    pm_store_close(st);
    char *after = dump(store);
    CHECK_MSG(before && after && strcmp(before, after) == 0, "store changed by: %s", want);
    free(before);
    free(after);
}

static void test_population_errors(void)
{
    pm_store_t *st = new_store("perr");
    pm_store_close(st);
    char s[512];
    snprintf(s, sizeof s, "%s", tmp("perr"));
    pm_ingest_opts_t o = {.key = g_key_a, .ref_date = REF};
    char text[2048], want[600];
    const char *a = pnr("800101", 982, '-');
    snprintf(want, sizeof want, "%s:3:13: no such date '1980-02-30' (column 'birth_date')",
             tmp("bad.tsv"));
    snprintf(text, sizeof text, "personnummer\tbirth_date\n%s\t\n%s\t1980-02-30\n",
             pnr("900101", 984, '-'), a);
    expect_fail(s, 0, text, &o, PM_EINPUT, want);
    snprintf(text, sizeof text, "personnummer\tdeath_date\n%s\t2020/01/01\n", a);
    expect_fail(s, 0, text, &o, PM_EINPUT, "is not a date (expected YYYY-MM-DD)");
    snprintf(text, sizeof text, "personnummer\tbirth_date\n%s\t1980-01-02\n", a);
    expect_fail(s, 0, text, &o, PM_EINPUT, "birth_date contradicts the personnummer");
    snprintf(text, sizeof text, "personnummer\tcounty\n%s\t02\n", a);
    expect_fail(s, 0, text, &o, PM_EINPUT, "'02' is not a county");
    snprintf(text, sizeof text, "personnummer\tsex\n%s\tK\n", a);
    expect_fail(s, 0, text, &o, PM_EINPUT, "sex must be M or F, not 'K'");
    snprintf(text, sizeof text, "personnummer\tsex\n%s\tM\n", a);
    expect_fail(s, 0, text, &o, PM_EINPUT, "sex contradicts the personnummer");
    snprintf(text, sizeof text, "personnummer\tdeath_date\n%s\t1979-12-31\n", a);
    expect_fail(s, 0, text, &o, PM_EINPUT, "death_date is before birth_date");
    snprintf(text, sizeof text, "personnummer\temigration_date\n%s\t1970-12-31\n", a);
    expect_fail(s, 0, text, &o, PM_EINPUT, "emigration_date is before birth_date");
    /* a wrong check digit: the message must not contain the number */
    char bad[16];
    snprintf(bad, sizeof bad, "%s", a);
    bad[10] = bad[10] == '9' ? '0' : (char)(bad[10] + 1);
    snprintf(text, sizeof text, "personnummer\n%s\n", bad);
    snprintf(want, sizeof want, "%s:2:1: invalid personnummer: wrong check digit", tmp("bad.tsv"));
    expect_fail(s, 0, text, &o, PM_EINPUT, want);
    CHECK(strstr(pm_ctx_errmsg(g_ctx), bad) == NULL && strstr(pm_ctx_errmsg(g_ctx), "800101") == NULL);
    snprintf(text, sizeof text, "personnummer\tshoe_size\n%s\t42\n", a);
    snprintf(want, sizeof want, "%s:1:14: unknown column; --ignore-extra skips it (column 'shoe_size')", tmp("bad.tsv"));
    expect_fail(s, 0, text, &o, PM_EINPUT, want);
    snprintf(text, sizeof text, "sex\nM\n");
    expect_fail(s, 0, text, &o, PM_EINPUT, "missing identity column");
    snprintf(text, sizeof text, "personnummer\tpseudonym\n%s\tx\n", a);
    expect_fail(s, 0, text, &o, PM_EINPUT, "two identity columns");
    snprintf(text, sizeof text, "personnummer\n%s\n", a);
    expect_fail(s, 0, text, NULL, PM_EUSAGE, "needs the pseudonymisation key");
    snprintf(text, sizeof text, "pseudonym\nnot-a-pseudonym\n");
    expect_fail(s, 0, text, NULL, PM_EINPUT, ":2:1: not a valid pseudonym (column 'pseudonym')");
    snprintf(text, sizeof text, "personnummer\tsex\n%s\n", a);
    expect_fail(s, 0, text, &o, PM_EINPUT, ":2: expected 2 fields, found 1");

    /* --ignore-extra skips the unknown column */
    snprintf(text, sizeof text, "personnummer\tshoe_size\n%s\t42\n", a);
    write_file(tmp("extra.tsv"), text);
    pm_store_t *st2;
    CHECK(pm_store_open(g_ctx, s, PM_STORE_RDWR, &st2) == 0);
    pm_ingest_opts_t ox = {.key = g_key_a, .ref_date = REF, .ignore_extra = 1};
    pm_ingest_result_t r;
    CHECK(pm_ingest_population(st2, tmp("extra.tsv"), &ox, &r) == 0 && r.inserted == 1);
    pm_store_close(st2);
}

static void test_samples(void)
{
    pm_store_t *st = new_store("smp");
    pm_ingest_opts_t o = {.key = g_key_a, .ref_date = REF};
    pm_ingest_result_t r;
    char text[4096];
    const char *a = pnr("800101", 982, '-'), *b = pnr("850615", 991, '-'),
               *x = pnr("700707", 993, '-');
    snprintf(text, sizeof text, "personnummer\n%s\n%s\n", a, b);
    write_file(tmp("sp.tsv"), text);
    CHECK(pm_ingest_population(st, tmp("sp.tsv"), &o, &r) == 0);
    snprintf(text, sizeof text,
             "sample_id\tpersonnummer\tsource\tassay\tgrade\ttissue\tcollection_date\n"
             "S1\t%s\tSCAPIS\tolink\tresearch\tplasma\t2015-03-01\n"
             "S2\t%s\tSCAPIS\tolink\tresearch\tplasma\t2020-03-01\n"
             "S3\t%s\tGMS-Skane\twgs\tclinical\tblood\t2022-01-01\n"
             "S4\t%s\tSCAPIS\tarray\t\t\t\n",
             a, a, b, b);
    write_file(tmp("s1.tsv"), text);
    CHECK_MSG(pm_ingest_samples(st, tmp("s1.tsv"), &o, &r) == 0, "%s", pm_ctx_errmsg(g_ctx));
    CHECK(r.rows == 4 && r.inserted == 4);
    pm_sample_row_t sr;
    CHECK(pm_sample_find(st, "S2", &sr) == 1 && sr.individual == 0);
    CHECK(pm_sample_find(st, "S3", &sr) == 1 && sr.individual == 1);
    CHECK(pm_sample_find(st, "S9", &sr) == 0);
    CHECK(pm_ingest_samples(st, tmp("s1.tsv"), &o, &r) == 0 && r.unchanged == 4);
    /* an update: tissue filled in, assay changed */
    snprintf(text, sizeof text,
             "personnummer\tsample_id\tassay\tsource\ttissue\n"
             "%s\tS4\twes\tSCAPIS\tblood\n"
             "%s\tS1\tolink\tSCAPIS\t\n",
             b, a);
    write_file(tmp("s2.tsv"), text);
    CHECK(pm_ingest_samples(st, tmp("s2.tsv"), &o, &r) == 0);
    CHECK(r.updated == 1 && r.unchanged == 1);
    pm_store_close(st);

    char s[512];
    snprintf(s, sizeof s, "%s", tmp("smp"));
    const char *hdr = "sample_id\tpersonnummer\tsource\tassay\tcollection_date\n";
    snprintf(text, sizeof text, "%sS5\t%s\tSCAPIS\tolink\t\n", hdr, x);
    expect_fail(s, 1, text, &o, PM_EINPUT, ":2:4: individual is not in the population");
    snprintf(text, sizeof text, "%sS5\t%s\tSCAPIS\tolink\t\nS5\t%s\tSCAPIS\tolink\t\n", hdr, a, a);
    expect_fail(s, 1, text, &o, PM_EINPUT, ":3:1: sample 'S5' is already on line 2");
    snprintf(text, sizeof text, "%sS1\t%s\tSCAPIS\tolink\t\n", hdr, b);
    expect_fail(s, 1, text, &o, PM_EINPUT, "already belongs to another individual");
    snprintf(text, sizeof text, "%sS6\t%s\tSCAPIS\tolink\t1979-12-31\n", hdr, a);
    expect_fail(s, 1, text, &o, PM_EINPUT, "collection_date is before the individual's birth");
    snprintf(text, sizeof text, "%sS6\t%s\tSCAPIS\tolink\t2021-02-29\n", hdr, a);
    expect_fail(s, 1, text, &o, PM_EINPUT, "no such date '2021-02-29' (column 'collection_date')");
    snprintf(text, sizeof text, "%sS 6\t%s\tSCAPIS\tolink\t\n", hdr, a);
    expect_fail(s, 1, text, &o, PM_EINPUT, "(column 'sample_id')");
    snprintf(text, sizeof text, "%sS6\t%s\t\tolink\t\n", hdr, a);
    expect_fail(s, 1, text, &o, PM_EINPUT, "empty source (column 'source')");
    snprintf(text, sizeof text,
             "sample_id\tpersonnummer\tsource\tassay\tgrade\nS6\t%s\tX\tolink\tsuper\n", a);
    expect_fail(s, 1, text, &o, PM_EINPUT, "grade must be research or clinical");
    snprintf(text, sizeof text, "sample_id\tpersonnummer\tsource\nS6\t%s\tX\n", a);
    expect_fail(s, 1, text, &o, PM_EINPUT, ":1: missing column 'assay'");
    pm_ingest_opts_t ob = {.key = g_key_b, .ref_date = REF};
    snprintf(text, sizeof text, "%sS6\t%s\tSCAPIS\tolink\t\n", hdr, a);
    expect_fail(s, 1, text, &ob, PM_EACCES, "not the one this store is bound to");
}

static void test_simulate(void)
{
    pm_sim_opts_t so = {.individuals = 3000, .seed = 7};
    CHECK(pm_sim_population(g_ctx, tmp("sim1"), &so) == 0);
    CHECK(pm_sim_population(g_ctx, tmp("sim2"), &so) == 0);
    char *p1, *p2, *s1, *s2;
    size_t n1, n2, m1, m2;
    CHECK(pm_read_file(g_ctx, tmp("sim1/population.tsv"), 1 << 26, &p1, &n1) == 0);
    CHECK(pm_read_file(g_ctx, tmp("sim2/population.tsv"), 1 << 26, &p2, &n2) == 0);
    CHECK(pm_read_file(g_ctx, tmp("sim1/samples.tsv"), 1 << 26, &s1, &m1) == 0);
    CHECK(pm_read_file(g_ctx, tmp("sim2/samples.tsv"), 1 << 26, &s2, &m2) == 0);
    CHECK(n1 == n2 && memcmp(p1, p2, n1) == 0);
    CHECK(m1 == m2 && memcmp(s1, s2, m1) == 0);
    /* every line is a valid test number (980-999) */
    int lines = 0, bad = 0, plus = 0;
    for (char *l = strchr(p1, '\n') + 1; *l; l = strchr(l, '\n') + 1) {
        char num[16];
        snprintf(num, sizeof num, "%.11s", l);
        pm_pnr_t p;
        if (pm_pnr_parse(num, 0, &p) != PM_PNR_OK ||
            (strncmp(num + 7, "98", 2) && strncmp(num + 7, "99", 2)))
            bad++;
        plus += num[6] == '+';
        lines++;
    }
    CHECK(lines == 3000 && bad == 0);
    free(p1);
    free(p2);
    free(s1);
    free(s2);
    so.seed = 8;
    CHECK(pm_sim_population(g_ctx, tmp("sim2"), &so) == 0);
    CHECK(pm_read_file(g_ctx, tmp("sim2/population.tsv"), 1 << 26, &p2, &n2) == 0);
    CHECK(pm_read_file(g_ctx, tmp("sim1/population.tsv"), 1 << 26, &p1, &n1) == 0);
    CHECK(n1 != n2 || memcmp(p1, p2, n1) != 0);
    free(p1);
    free(p2);

    /* the simulated files load as they are */
    pm_store_t *st = new_store("simstore");
    pm_ingest_opts_t o = {.key = g_key_a};
    pm_ingest_result_t r;
    CHECK_MSG(pm_ingest_population(st, tmp("sim1/population.tsv"), &o, &r) == 0, "%s",
              pm_ctx_errmsg(g_ctx));
    CHECK(r.inserted == 3000);
    CHECK_MSG(pm_ingest_samples(st, tmp("sim1/samples.tsv"), &o, &r) == 0, "%s",
              pm_ctx_errmsg(g_ctx));
    CHECK(r.inserted > 100 && r.inserted == r.rows);
    pm_store_close(st);

    so.individuals = 0;
    CHECK(pm_sim_population(g_ctx, tmp("sim3"), &so) == PM_EUSAGE);
    CHECK(pm_sim_genotypes != NULL);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/pm_test_tables.XXXXXX");
    if (!mkdtemp(g_dir))
        return 2;
    g_ctx = pm_ctx_new();
    if (pm_key_generate(g_ctx, tmp("a.key")) < 0 || pm_key_load(g_ctx, tmp("a.key"), &g_key_a) < 0 ||
        pm_key_generate(g_ctx, tmp("b.key")) < 0 || pm_key_load(g_ctx, tmp("b.key"), &g_key_b) < 0) {
        fprintf(stderr, "keys: %s\n", pm_ctx_errmsg(g_ctx));
        return 2;
    }
    test_dates();
    test_population();
    test_population_errors();
    test_samples();
    test_simulate();
    pm_key_free(g_key_a);
    pm_key_free(g_key_b);
    pm_ctx_free(g_ctx);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not clean %s\n", g_dir);
    return check_summary("test_tables");
}
