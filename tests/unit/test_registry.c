/* test_registry.c - registry events: codes, dates, ranges, ingest,
 * queries, consent and endpoints on tiny stores. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/cat_registry.h"
#include "check.h"
#include "promise/promise.h"
#include "promise/registry.h"

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

static const char *norm(int dom, const char *in)
{
    static char out[PM_CODE_MAX];
    if (pm_code_normalize(dom, in, out, NULL) < 0)
        return "ERR";
    return out;
}

static void test_codes(void)
{
    CHECK_STR(norm(PM_DOM_PATIENT_ICD10, "E11.9"), "E119");
    CHECK_STR(norm(PM_DOM_PATIENT_ICD10, " e119 "), "E119");
    CHECK_STR(norm(PM_DOM_PATIENT_ICD10, "E11"), "E11");
    CHECK_STR(norm(PM_DOM_PATIENT_ICD10, "N950B"), "N950B");
    CHECK_STR(norm(PM_DOM_PATIENT_ICD10, "F6489"), "F6489");
    CHECK_STR(norm(PM_DOM_PATIENT_ICD10, "591,99"), "ERR");  /* ICD-9 is not ICD-10 */
    CHECK_STR(norm(PM_DOM_PATIENT_ICD10, "E1"), "ERR");
    CHECK_STR(norm(PM_DOM_PATIENT_ICD10, "E11 9"), "ERR");
    CHECK_STR(norm(PM_DOM_PATIENT_ICD10, ""), "ERR");
    CHECK_STR(norm(PM_DOM_PATIENT_ICD9, "591,99"), "59199");
    CHECK_STR(norm(PM_DOM_PATIENT_ICD9, "250A"), "250A");
    CHECK_STR(norm(PM_DOM_PATIENT_ICD9, "E11"), "ERR");
    CHECK_STR(norm(PM_DOM_DRUG_ATC, "a10ba02"), "A10BA02");
    CHECK_STR(norm(PM_DOM_DRUG_ATC, "C08"), "C08");
    CHECK_STR(norm(PM_DOM_DRUG_ATC, "A10B"), "A10B");
    CHECK_STR(norm(PM_DOM_DRUG_ATC, "A10BA0"), "ERR");
    CHECK_STR(norm(PM_DOM_DRUG_ATC, "E11"), "E11"); /* shape-valid (E: no such group, but
                                                       ATC letters are not checked) */
    CHECK_STR(norm(PM_DOM_PROCEDURE_KVA, "JDF00"), "JDF00");
    CHECK_STR(norm(PM_DOM_PROCEDURE_KVA, "J1"), "ERR");
    CHECK_STR(norm(PM_DOM_CANCER_TOPO, "C50.9"), "C509");
    CHECK_STR(norm(PM_DOM_CANCER_TOPO, "C5"), "ERR");
    CHECK_STR(norm(PM_DOM_CANCER_MORPH, "8500/3"), "8500/3");
    CHECK_STR(norm(PM_DOM_CANCER_MORPH, "85003"), "8500/3");
    CHECK_STR(norm(PM_DOM_CANCER_MORPH, "M-8500/3"), "8500/3");
    CHECK_STR(norm(PM_DOM_CANCER_MORPH, "850/3"), "ERR");
    CHECK_STR(norm(99, "E11"), "ERR");
    CHECK_STR(pm_domain_register(PM_DOM_DEATH_ICD10), "death");
    CHECK_STR(pm_domain_system(PM_DOM_DRUG_ATC), "atc");
    CHECK_STR(pm_domain_system(0), "");
}

static void test_dates(void)
{
    int d = 0;
    CHECK(pm_registry_date_parse("2008-09-06", &d) == 0 && d == 20080906);
    CHECK(pm_registry_date_parse("20080906", &d) == 0 && d == 20080906);
    CHECK(pm_registry_date_parse("2000-02-29", &d) == 0 && d == 20000229);
    CHECK(pm_registry_date_parse("1900-02-29", &d) < 0);
    CHECK(pm_registry_date_parse("2023-02-29", &d) < 0);
    CHECK(pm_registry_date_parse("2024-02-29", &d) == 0);
    CHECK(pm_registry_date_parse("20081306", &d) < 0);
    CHECK(pm_registry_date_parse("2008-9-6", &d) < 0);
    CHECK(pm_registry_date_parse("2008/09/06", &d) < 0);
    CHECK(pm_registry_date_parse("19890800", &d) < 0);
    CHECK(pm_registry_date_parse("", &d) < 0);
    CHECK(pm_registry_date_parse("NA", &d) < 0);
    CHECK(pm_registry_date_parse("1700-01-01", &d) < 0);
}

static void test_ranges(void)
{
    char lo[PM_CODE_MAX], hi[PM_CODE_MAX];
    pm_code_prefix_range("E11", lo, hi);
    CHECK_STR(lo, "E11");
    CHECK_STR(hi, "E12");
    pm_code_prefix_range("E19", lo, hi);
    CHECK_STR(hi, "E1:"); /* '9' + 1: E19x sorts before E1: and E2 */
    pm_code_prefix_range("A1Z", lo, hi);
    CHECK_STR(hi, "A1[");
    pm_code_prefix_range("", lo, hi);
    CHECK_STR(hi, "");
    char ff[4] = {'A', (char)0xff, 0, 0};
    pm_code_prefix_range(ff, lo, hi);
    CHECK_STR(hi, "B");
    /* every code with the prefix is inside, the neighbours outside */
    const char *in[] = {"E11", "E110", "E119", "E11ZZZ"};
    const char *out[] = {"E10", "E109", "E12", "E1", "F11"};
    pm_code_prefix_range("E11", lo, hi);
    for (size_t i = 0; i < 4; i++)
        CHECK(strcmp(in[i], lo) >= 0 && strcmp(in[i], hi) < 0);
    for (size_t i = 0; i < 5; i++)
        CHECK(!(strcmp(out[i], lo) >= 0 && strcmp(out[i], hi) < 0));
}

/* A store with 6 individuals p0..p5 (pseudonym-shaped). */
static const char *pseudo[6] = {
    "aaaaaa-aaaaaaaaaaaaaaaaaaaaaaaaaa", "aaaaaa-bbbbbbbbbbbbbbbbbbbbbbbbba",
    "aaaaaa-ccccccccccccccccccccccccca", "aaaaaa-ddddddddddddddddddddddddda",
    "aaaaaa-eeeeeeeeeeeeeeeeeeeeeeeeea", "aaaaaa-fffffffffffffffffffffffffa",
};

static pm_store_t *make_store(pm_ctx_t *ctx, const char *name)
{
    const char *path = tmp_path(name);
    CHECK(pm_store_init(ctx, path) == 0);
    pm_store_t *st = NULL;
    CHECK(pm_store_open(ctx, path, PM_STORE_RDWR, &st) == 0);
    const char sex[6] = {'F', 'M', 'F', 'M', 'F', 'M'};
    const char *birth[6] = {"1950-01-01", "1960-06-15", "1990-01-01",
                            "1940-01-01", "2000-01-01", NULL};
    for (int i = 0; i < 6; i++)
        CHECK(pm_catreg_test_add_individual(st, pseudo[i], sex[i], birth[i]) == 0);
    return st;
}

static size_t count_term(pm_store_t *st, const char *term, const char *code)
{
    pm_bitset_t *b = pm_bitset_new((size_t)pm_store_n_individuals(st));
    int rc = pm_registry_individuals(st, term, code, b);
    size_t n = rc < 0 ? (size_t)-1 : pm_bitset_count(b);
    pm_bitset_free(b);
    return n;
}

static void test_ingest_and_query(pm_ctx_t *ctx)
{
    pm_store_t *st = make_store(ctx, "q.store");
    char buf[4096];
    snprintf(buf, sizeof buf,
             "pseudonym\tdate\tregister\tcode\tvalue\tposition\n"
             "%s\t2010-01-01\tpatient\tE11.9\t\tmain\n"
             "%s\t20120505\tpatient\tE110\t\tsecondary\n"
             "%s\t2011-03-01\tpatient\tE10\t\t\n"
             "%s\t2011-03-01\tpatient\t591,99\t\t\n"
             "%s\t2015-01-01\tdrug\tA10BA02\t30\t\n"
             "%s\t2015-01-01\tdrug\tA10BA02\t30\t\n"
             "%s\t2016-01-01\tpatient\tI21.9\t\t\n"
             "%s\t2017-01-01\tdeath\tI21.9\t\t\n"
             "%s\t2013-01-01\tcancer\tC50.9\t\t\n"
             "%s\t2013-01-01\tcancer\t8500/3\t\t\n"
             "%s\t2013-02-01\tprocedure\tJDF00\t\t\n"
             "%s\t2010-01-01\tpatient\tE12\t\t\n",
             pseudo[0], pseudo[1], pseudo[2], pseudo[2], pseudo[3], pseudo[3], pseudo[3],
             pseudo[3], pseudo[4], pseudo[4], pseudo[1], pseudo[5]);
    write_file(tmp_path("ev.tsv"), buf);
    pm_registry_result_t r;
    int rc = pm_registry_ingest(st, tmp_path("ev.tsv"), NULL, &r);
    CHECK_MSG(rc == 0, "%s", pm_ctx_errmsg(ctx));
    CHECK(r.rows == 12 && r.events == 12 && r.inserted == 12 && r.present == 0);

    CHECK(count_term(st, "icd10", "E11") == 2);   /* E119 and E110 */
    CHECK(count_term(st, "icd10", "E11.9") == 1);
    CHECK(count_term(st, "icd10", "e119") == 1);
    CHECK(count_term(st, "icd10", "E1") == 4);    /* E10, E11x, E12 */
    CHECK(count_term(st, "icd10", "E10-E11") == 3);
    CHECK(count_term(st, "icd10", "I21") == 1);
    CHECK(count_term(st, "death", "I21") == 1);
    CHECK(count_term(st, "icd10", "591") == 0);   /* ICD-9 stays apart */
    CHECK(count_term(st, "icd9", "591") == 1);
    CHECK(count_term(st, "atc", "A10") == 1);
    CHECK(count_term(st, "atc", "A10BA02") == 1);
    CHECK(count_term(st, "icdo3", "C50") == 1);
    CHECK(count_term(st, "icdo3", "8500") == 1);
    CHECK(count_term(st, "icdo3", "8500/3") == 1);
    CHECK(count_term(st, "icdo3", "85003") == 1);
    CHECK(count_term(st, "icdo3", "8501") == 0);
    CHECK(count_term(st, "kva", "JDF") == 1);
    CHECK(count_term(st, "icd10", "") == 5); /* everyone with an ICD-10 patient diagnosis */
    CHECK(count_term(st, "nope", "E11") == (size_t)-1);
    CHECK(count_term(st, "icd10", "E1$") == (size_t)-1);
    CHECK(count_term(st, "icd10", "E12-E10") == (size_t)-1);

    /* two identical dispensings of one person on one day are two events */
    pm_event_iter_t *it;
    CHECK(pm_registry_events_open(st, "atc", "A10B", &it) == 0);
    pm_event_t ev;
    int n = 0;
    while (pm_registry_events_next(it, &ev) == 0) {
        n++;
        CHECK(ev.individual == 3 && ev.date == 20150101 && ev.has_value && ev.value == 30.0);
        CHECK_STR(ev.code, "A10BA02");
    }
    pm_registry_events_close(it);
    CHECK(n == 2);

    int first[6] = {0};
    uint32_t cnt[6] = {0};
    CHECK(pm_registry_first_dates(st, "icd10", "E11", first, cnt) == 0);
    CHECK(first[0] == 20100101 && first[1] == 20120505 && first[2] == 0);
    CHECK(cnt[0] == 1 && cnt[1] == 1 && cnt[3] == 0);

    /* the same file again: nothing new, store unchanged */
    rc = pm_registry_ingest(st, tmp_path("ev.tsv"), NULL, &r);
    CHECK(rc == 0 && r.inserted == 0 && r.present == 12);

    /* errors: nothing of the file is kept */
    snprintf(buf, sizeof buf,
             "pseudonym\tdate\tregister\tcode\n"
             "%s\t2010-01-01\tpatient\tJ45\n"
             "%s\t2010-02-30\tpatient\tJ45\n",
             pseudo[0], pseudo[1]);
    write_file(tmp_path("bad.tsv"), buf);
    rc = pm_registry_ingest(st, tmp_path("bad.tsv"), NULL, &r);
    CHECK(rc == PM_EINPUT);
    CHECK_MSG(strstr(pm_ctx_errmsg(ctx), "bad.tsv:3:") != NULL, "%s", pm_ctx_errmsg(ctx));
    CHECK(count_term(st, "icd10", "J45") == 0);

    snprintf(buf, sizeof buf,
             "pseudonym\tdate\tregister\tcode\n"
             "%s\t2010-01-01\tpatient\tJ45\n"
             "aaaaaa-zzzzzzzzzzzzzzzzzzzzzzzzza\t2010-01-01\tpatient\tJ45\n",
             pseudo[0]);
    write_file(tmp_path("unknown.tsv"), buf);
    rc = pm_registry_ingest(st, tmp_path("unknown.tsv"), NULL, &r);
    CHECK(rc == PM_EINPUT && strstr(pm_ctx_errmsg(ctx), "unknown.tsv:3:1:"));
    CHECK(count_term(st, "icd10", "J45") == 0);
    pm_registry_opts_t o = {.skip_unknown = 1};
    rc = pm_registry_ingest(st, tmp_path("unknown.tsv"), &o, &r);
    CHECK(rc == 0 && r.skipped_unknown == 1 && r.inserted == 1);
    CHECK(count_term(st, "icd10", "J45") == 1);
    pm_store_close(st);
}

static void test_layouts(pm_ctx_t *ctx)
{
    pm_store_t *st = make_store(ctx, "layouts.store");
    char buf[4096];
    /* NPR: both date spellings, ICD-9 with a comma, NA, EKOD, OP list */
    snprintf(buf, sizeof buf,
             "\"lopnr\",\"INDATUM\",\"INDATUMA\",\"HDIA\",\"DIA1\",\"DIA2\",\"EKOD1\",\"OP\","
             "\"UTDATUM\"\n"
             "\"%s\",2001-02-03,\"20010203\",\"I21.9\",\"E11\",\"NA\",\"X60\",\"JDF00 TJD10\",\n"
             "\"%s\",,\"19900101\",\"591,99\",\"\",\"\",\"\",\"\",NA\n",
             pseudo[0], pseudo[1]);
    write_file(tmp_path("npr.csv"), buf);
    pm_registry_opts_t o = {.layout = PM_LAYOUT_NPR, .id_column = "lopnr"};
    pm_registry_result_t r;
    int rc = pm_registry_ingest(st, tmp_path("npr.csv"), &o, &r);
    CHECK_MSG(rc == 0, "%s", pm_ctx_errmsg(ctx));
    CHECK(r.rows == 2 && r.inserted == 6);
    CHECK(count_term(st, "icd10", "X60") == 1);
    CHECK(count_term(st, "kva", "TJD10") == 1);
    CHECK(count_term(st, "icd9", "59199") == 1);

    /* LMED with DDD = ANTAL x FORPDDD and a decimal comma */
    snprintf(buf, sizeof buf,
             "lopnr,EDATUM,ATC,ANTAL,FORPDDD\n%s,2015-03-04,C10AA01,2,\"22,5\"\n", pseudo[2]);
    write_file(tmp_path("lmed.csv"), buf);
    o.layout = PM_LAYOUT_LMED;
    rc = pm_registry_ingest(st, tmp_path("lmed.csv"), &o, &r);
    CHECK_MSG(rc == 0, "%s", pm_ctx_errmsg(ctx));
    pm_event_iter_t *it;
    pm_event_t ev;
    CHECK(pm_registry_events_open(st, "atc", "C10", &it) == 0);
    CHECK(pm_registry_events_next(it, &ev) == 0 && ev.has_value && ev.value == 45.0);
    CHECK(pm_registry_events_next(it, &ev) == -1);
    pm_registry_events_close(it);

    /* DORS with a partial date (unknown day -> 15th) */
    snprintf(buf, sizeof buf,
             "lopnr,DODSDAT,ULORSAK,MORSAK1,MORSAK2\n%s,19990800,I219,E119,\n", pseudo[3]);
    write_file(tmp_path("dors.csv"), buf);
    o.layout = PM_LAYOUT_DORS;
    rc = pm_registry_ingest(st, tmp_path("dors.csv"), &o, &r);
    CHECK_MSG(rc == 0, "%s", pm_ctx_errmsg(ctx));
    int first[6] = {0};
    CHECK(pm_registry_first_dates(st, "death", "E11", first, NULL) == 0 && first[3] == 19990815);

    /* cancer register */
    snprintf(buf, sizeof buf, "lopnr,DIADAT,TOPOGRAFI,MORFOLOGI,ICDO10\n%s,2005-05-05,C50.9,85003,C509\n",
             pseudo[4]);
    write_file(tmp_path("cancer.csv"), buf);
    o.layout = PM_LAYOUT_CANCER;
    rc = pm_registry_ingest(st, tmp_path("cancer.csv"), &o, &r);
    CHECK_MSG(rc == 0 && r.inserted == 3, "%s", pm_ctx_errmsg(ctx));
    CHECK(count_term(st, "icdo3", "C50") == 1);
    CHECK(count_term(st, "icd10", "C50") == 0); /* the patient register only */

    /* an unread column is refused unless --ignore-extra */
    snprintf(buf, sizeof buf, "lopnr,DIADAT,TOPOGRAFI,EXTRA\n%s,2005-05-05,C50.9,x\n", pseudo[4]);
    write_file(tmp_path("extra.csv"), buf);
    rc = pm_registry_ingest(st, tmp_path("extra.csv"), &o, &r);
    CHECK(rc == PM_EINPUT && strstr(pm_ctx_errmsg(ctx), "EXTRA"));
    o.ignore_extra = 1;
    rc = pm_registry_ingest(st, tmp_path("extra.csv"), &o, &r);
    CHECK(rc == 0 && r.present == 1);
    pm_store_close(st);
}

static void test_consent(pm_ctx_t *ctx)
{
    pm_store_t *st = make_store(ctx, "consent.store");
    char buf[2048];
    snprintf(buf, sizeof buf,
             "pseudonym\tpurpose\tstatus\tdate\n"
             "%s\tcommercial\topt-out\t2020-01-01\n"
             "%s\tall\twithdrawn\t2021-01-01\n",
             pseudo[0], pseudo[1]);
    write_file(tmp_path("consent.tsv"), buf);
    pm_consent_result_t r;
    int rc = pm_consent_ingest(st, tmp_path("consent.tsv"), NULL, &r);
    CHECK_MSG(rc == 0, "%s", pm_ctx_errmsg(ctx));
    CHECK(r.rows == 2 && r.changed == 2 && r.withdrawn == 1);
    pm_bitset_t *b = pm_bitset_new(6);
    CHECK(pm_consent_excluded(st, "commercial", b) == 0);
    CHECK(pm_bitset_count(b) == 2 && pm_bitset_get(b, 0) && pm_bitset_get(b, 1));
    pm_bitset_zero(b);
    CHECK(pm_consent_excluded(st, "research", b) == 0);
    CHECK(pm_bitset_count(b) == 1 && pm_bitset_get(b, 1));
    CHECK(pm_consent_excluded(st, "bogus", b) == PM_EINPUT);
    pm_bitset_free(b);
    /* again: nothing changes */
    rc = pm_consent_ingest(st, tmp_path("consent.tsv"), NULL, &r);
    CHECK(rc == 0 && r.changed == 0 && r.withdrawn == 0);

    snprintf(buf, sizeof buf, "pseudonym\tpurpose\tstatus\tdate\n%s\tresearch\tmaybe\t2020-01-01\n",
             pseudo[2]);
    write_file(tmp_path("bad.tsv"), buf);
    rc = pm_consent_ingest(st, tmp_path("bad.tsv"), NULL, &r);
    CHECK(rc == PM_EINPUT && strstr(pm_ctx_errmsg(ctx), "bad.tsv:2:"));

    /* events of a withdrawn person are not loaded */
    snprintf(buf, sizeof buf, "pseudonym\tdate\tregister\tcode\n%s\t2010-01-01\tpatient\tJ45\n",
             pseudo[1]);
    write_file(tmp_path("ev.tsv"), buf);
    pm_registry_result_t rr;
    rc = pm_registry_ingest(st, tmp_path("ev.tsv"), NULL, &rr);
    CHECK(rc == 0 && rr.skipped_withdrawn == 1 && rr.inserted == 0);
    pm_store_close(st);
}

static void test_endpoints(pm_ctx_t *ctx)
{
    pm_endpoint_lib_t *lib;
    CHECK(pm_endpoint_lib_builtin(ctx, &lib) == 0);
    CHECK(pm_endpoint_lib_count(lib) >= 12);
    const char *need[] = {"T2D", "T1D", "I9_MI", "I9_STR", "C3_BREAST", "C3_PROSTATE", "I9_AF",
                          "J10_ASTHMA", "J10_COPD", "I9_HEARTFAIL", "I9_HYPTENS", "F5_DEPRESSIO"};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        CHECK_MSG(pm_endpoint_lib_find(lib, need[i]) != NULL, "%s", need[i]);
    const pm_endpoint_t *bc = pm_endpoint_lib_find(lib, "C3_BREAST");
    CHECK(bc && bc->sex == 'F' && bc->min_events == 1);
    pm_endpoint_lib_free(lib);

    /* the compiled-in text is the shipped file */
    const char *src = getenv("PM_SOURCE_DIR");
    if (src) {
        char path[512];
        snprintf(path, sizeof path, "%s/share/endpoints/starter.tsv", src);
        FILE *f = fopen(path, "r");
        CHECK(f != NULL);
        if (f) {
            static char text[1 << 16];
            size_t n = fread(text, 1, sizeof text - 1, f);
            text[n] = '\0';
            fclose(f);
            CHECK_MSG(strcmp(text, pm_endpoint_builtin_tsv()) == 0,
                      "run share/endpoints/embed.sh");
        }
    }

    /* a bad file fails with its position */
    write_file(tmp_path("ep_bad.tsv"),
               "#promise-endpoints 1\n"
               "name\tversion\tdescription\tsex\tmin_age\tmax_age\tmin_events\tinclude\texclude\n"
               "X\t1\tx\t\t\t\t1\ticd10:E11 atc:\t\n");
    CHECK(pm_endpoint_lib_load(ctx, tmp_path("ep_bad.tsv"), &lib) == PM_EINPUT);
    CHECK_MSG(strstr(pm_ctx_errmsg(ctx), "ep_bad.tsv:3:") != NULL, "%s", pm_ctx_errmsg(ctx));
    write_file(tmp_path("ep_bad2.tsv"), "name\tversion\n");
    CHECK(pm_endpoint_lib_load(ctx, tmp_path("ep_bad2.tsv"), &lib) == PM_EINPUT);

    /* evaluation: p0 F 1950, p1 M 1960, p2 F 1990, p3 M 1940, p4 F 2000, p5 M (no birth) */
    pm_store_t *st = make_store(ctx, "ep.store");
    char buf[4096];
    snprintf(buf, sizeof buf,
             "pseudonym\tdate\tregister\tcode\n"
             "%s\t2010-01-01\tpatient\tE11.9\n"  /* p0 T2D */
             "%s\t2011-01-01\tdrug\tA10BA02\n"   /* p1 T2D by drug */
             "%s\t2011-01-01\tpatient\tE11\n"    /* p2 E11 but also E10: excluded */
             "%s\t2011-01-01\tpatient\tE10\n"
             "%s\t2012-01-01\tcancer\tC50.9\n"   /* p3 male: no breast cancer case */
             "%s\t2012-01-01\tpatient\tC50\n"    /* p4 F: case */
             "%s\t2012-01-01\tpatient\tG40\n"    /* p5 one epilepsy event: not enough */
             "%s\t2013-01-01\tpatient\tG40\n"    /* p1 two: a case */
             "%s\t2014-01-01\tpatient\tG41\n",
             pseudo[0], pseudo[1], pseudo[2], pseudo[2], pseudo[3], pseudo[4], pseudo[5],
             pseudo[1], pseudo[1]);
    write_file(tmp_path("ep.tsv"), buf);
    CHECK(pm_registry_ingest(st, tmp_path("ep.tsv"), NULL, NULL) == 0);
    pm_bitset_t *b = pm_bitset_new(6);
    CHECK(pm_endpoint_eval(st, "T2D", b) == 0);
    CHECK(pm_bitset_count(b) == 2 && pm_bitset_get(b, 0) && pm_bitset_get(b, 1));
    CHECK(pm_endpoint_eval(st, "C3_BREAST", b) == 0);
    CHECK(pm_bitset_count(b) == 1 && pm_bitset_get(b, 4));
    CHECK(pm_endpoint_eval(st, "G6_EPILEPSY", b) == 0);
    CHECK(pm_bitset_count(b) == 1 && pm_bitset_get(b, 1));
    CHECK(pm_endpoint_eval(st, "NO_SUCH", b) == PM_ENOTFOUND);

    /* age limits: T2D diagnosed at 40-55 -> p1 (50 in 2011); p0 was 60 */
    pm_endpoint_t ep = {.name = "T2D_MID", .version = 1, .description = "", .sex = 0,
                        .min_age = 40, .max_age = 55, .min_events = 1,
                        .include = "icd10:E11 atc:A10B", .exclude = ""};
    CHECK(pm_endpoint_eval_def(st, &ep, b) == 0);
    CHECK(pm_bitset_count(b) == 1 && pm_bitset_get(b, 1));
    pm_bitset_free(b);
    pm_store_close(st);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/pmreg.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    pm_ctx_t *ctx = pm_ctx_new();
    test_codes();
    test_dates();
    test_ranges();
    test_ingest_and_query(ctx);
    test_layouts(ctx);
    test_consent(ctx);
    test_endpoints(ctx);
    pm_ctx_free(ctx);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_summary("test_registry");
}
