/* test_gt_purpose.c - the consent purpose of the genotype queries
 * (pm_gt_query_opts_t.purpose): pm_freq, pm_view and the site iterator
 * leave out who opted out of the purpose (or of "all"), with and without a
 * cohort expression (the "everyone" path evaluates no cohort otherwise),
 * and nobody else. Expected counts are recomputed from the genotype table
 * below. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/cat_cohort.h"
#include "check.h"
#include "promise/genotype.h"
#include "promise/registry.h"

enum { NI = 10, NS = 4 };

/* genotypes (ALT copies, -1 missing) per site and individual */
static const int G[NS][NI] = {
    {0, 1, 2, 0, 1, 1, 0, 2, -1, 1},
    {1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {2, 0, 0, 0, 0, 0, 0, 0, 0, 2},
    {0, 0, 1, -1, 0, 2, 0, 0, 1, 0},
};
/* consent: 1 and 7 opted out of commercial use, 4 of research, 9 of all
 * (every purpose); 6 is withdrawn (gone even without a purpose) */
static int excluded(const char *purpose, int i)
{
    if (i == 6)
        return 1;
    if (!purpose)
        return 0; /* no purpose: only the withdrawn */
    if (i == 9)
        return 1;
    if (!strcmp(purpose, "commercial"))
        return i == 1 || i == 7;
    if (!strcmp(purpose, "research"))
        return i == 4;
    return 0;
}
static int is_female(int i) { return i % 2 == 0; }

static char tmpdir[256];
/* a store pseudonym (base32) per individual i: PSEUD with 'a' + i */
#define PSEUD "abcdef-%caaaaaaaaaaaaaaaaaaaaaaaaa"

static pm_store_t *make_store(pm_ctx_t *ctx)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/pmgtpurp.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir))
        return NULL;
    char path[300], vcf[300], cons[300];
    snprintf(path, sizeof path, "%s/st", tmpdir);
    snprintf(vcf, sizeof vcf, "%s/g.vcf", tmpdir);
    snprintf(cons, sizeof cons, "%s/consent.tsv", tmpdir);
    pm_store_t *st = NULL;
    if (pm_store_init(ctx, path) < 0 || pm_store_open(ctx, path, PM_STORE_RDWR, &st) < 0)
        return NULL;
    for (int i = 0; i < NI; i++) {
        char ps[64], sid[32];
        snprintf(ps, sizeof ps, PSEUD, 'a' + i);
        CHECK(pm_cat_test_add_individual(st, ps, is_female(i) ? "F" : "M", "1970-01-01", "01",
                                         NULL, NULL, 0) == i);
        snprintf(sid, sizeof sid, "s%d", i);
        CHECK(pm_cat_test_add_sample(st, sid, i, "SCAPIS", "wgs", NULL) == 0);
    }
    FILE *f = fopen(vcf, "w");
    if (!f)
        return st;
    fprintf(f, "##fileformat=VCFv4.2\n##contig=<ID=22,length=50818468>\n"
               "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
               "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT");
    for (int i = 0; i < NI; i++)
        fprintf(f, "\ts%d", i);
    fputc('\n', f);
    for (int s = 0; s < NS; s++) {
        fprintf(f, "22\t%d\t.\tA\tG\t.\tPASS\t.\tGT", 1000 + 100 * s);
        for (int i = 0; i < NI; i++) {
            static const char *const gt[] = {"\t./.", "\t0/0", "\t0/1", "\t1/1"};
            fputs(gt[G[s][i] + 1], f);
        }
        fputc('\n', f);
    }
    fclose(f);
    int rc = pm_ingest_vcf(st, vcf, NULL, NULL);
    CHECK_MSG(rc == 0, "%s", pm_ctx_errmsg(ctx));
    f = fopen(cons, "w");
    if (!f)
        return st;
    static const struct { int i; const char *purpose, *status; } rows[] = {
        {1, "commercial", "opt-out"}, {7, "commercial", "opt-out"}, {4, "research", "opt-out"},
        {9, "all", "opt-out"},        {6, "all", "withdrawn"},
    };
    fprintf(f, "pseudonym\tpurpose\tstatus\tdate\n");
    for (size_t r = 0; r < sizeof rows / sizeof *rows; r++)
        fprintf(f, PSEUD "\t%s\t%s\t2024-01-01\n", 'a' + rows[r].i, rows[r].purpose,
                rows[r].status);
    fclose(f);
    pm_registry_opts_t ro = {0};
    rc = pm_consent_ingest(st, cons, &ro, NULL);
    CHECK_MSG(rc == 0, "%s", pm_ctx_errmsg(ctx));
    return st;
}

/* The same table from the genotypes above. */
static void freq_expected(const char *purpose, int females, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int s = 0; s < NS; s++) {
        int ac = 0, an = 0;
        for (int i = 0; i < NI; i++)
            if (!excluded(purpose, i) && (!females || is_female(i)) && G[s][i] >= 0)
                ac += G[s][i], an += 2;
        used += (size_t)snprintf(buf + used, cap - used, "%s%d/%d", s ? " " : "", ac, an);
    }
}

static void freq_got(pm_store_t *st, const char *cohort, const char *purpose, char *buf,
                     size_t cap)
{
    buf[0] = '\0';
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    if (!f)
        return;
    pm_gt_query_opts_t o = {.cohort = cohort, .purpose = purpose};
    int rc = pm_freq(st, &o, f);
    fclose(f);
    CHECK_MSG(rc == 0, "pm_freq: %s", pm_ctx_errmsg(pm_store_ctx(st)));
    size_t used = 0;
    char *save = NULL;
    for (char *line = strtok_r(mem, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        long long pos, ac, an;
        char ref[8], alt[8];
        if (sscanf(line, "%*s %lld %*s %7s %7s %lld %lld", &pos, ref, alt, &ac, &an) == 5)
            used += (size_t)snprintf(buf + used, cap - used, "%s%lld/%lld", used ? " " : "", ac,
                                     an);
    }
    free(mem);
}

static void test_freq(pm_store_t *st)
{
    static const char *const purposes[] = {NULL, "", "commercial", "research"};
    char want[256], got[256];
    for (int p = 0; p < 4; p++) {
        const char *pu = purposes[p] && *purposes[p] ? purposes[p] : NULL;
        freq_expected(pu, 0, want, sizeof want);
        freq_got(st, NULL, purposes[p], got, sizeof got); /* everyone */
        CHECK_MSG(strcmp(want, got) == 0, "everyone, purpose %s: want %s, got %s",
                  pu ? pu : "none", want, got);
        freq_got(st, "", purposes[p], got, sizeof got);
        CHECK_MSG(strcmp(want, got) == 0, "cohort \"\", purpose %s: want %s, got %s",
                  pu ? pu : "none", want, got);
        freq_expected(pu, 1, want, sizeof want);
        freq_got(st, "sex=F", purposes[p], got, sizeof got);
        CHECK_MSG(strcmp(want, got) == 0, "sex=F, purpose %s: want %s, got %s",
                  pu ? pu : "none", want, got);
    }
}

static void test_iter(pm_store_t *st)
{
    static const char *const purposes[] = {NULL, "commercial", "research"};
    for (int p = 0; p < 3; p++) {
        pm_gt_query_opts_t o = {.purpose = purposes[p]};
        pm_gt_iter_t *it = NULL;
        int rc = pm_gt_iter_open(st, &o, &it);
        CHECK_MSG(rc == 0, "%s", pm_ctx_errmsg(pm_store_ctx(st)));
        if (rc < 0)
            continue;
        uint32_t n = pm_gt_iter_n(it);
        const int64_t *ind = pm_gt_iter_individuals(it);
        uint32_t want = 0;
        for (int i = 0; i < NI; i++)
            if (!excluded(purposes[p], i)) {
                CHECK(want < n && ind[want] == i);
                want++;
            }
        CHECK_MSG(n == want, "iterator n %u, want %u", n, want);
        pm_gt_site_t s;
        int k = 0;
        while ((rc = pm_gt_iter_next(it, &s)) == 1 && k < NS) {
            for (uint32_t c = 0; c < s.n_carrier; c++)
                CHECK(!excluded(purposes[p], (int)ind[s.carrier[c]]));
            k++;
        }
        CHECK(rc == 0 && k == NS);
        pm_gt_iter_close(it);
    }
}

static void test_view(pm_store_t *st)
{
    char out[400];
    snprintf(out, sizeof out, "%s/view.vcf", tmpdir);
    pm_gt_query_opts_t o = {.purpose = "commercial"};
    CHECK_MSG(pm_view(st, &o, out) == 0, "%s", pm_ctx_errmsg(pm_store_ctx(st)));
    FILE *f = fopen(out, "r");
    char line[1024], want[256];
    size_t used = 0;
    want[0] = '\0';
    for (int i = 0; i < NI; i++)
        if (!excluded("commercial", i))
            used += (size_t)snprintf(want + used, sizeof want - used, "\ts%d", i);
    int found = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "#CHROM", 6) == 0) {
            line[strcspn(line, "\n")] = '\0';
            char *s = strstr(line, "FORMAT");
            CHECK_MSG(s && strcmp(s + 6, want) == 0, "samples '%s', want '%s'", s ? s + 6 : "",
                      want);
            found = 1;
        }
    CHECK(found);
    if (f)
        fclose(f);
    remove(out);
}

int main(void)
{
    pm_ctx_t *ctx = pm_ctx_new();
    pm_store_t *st = make_store(ctx);
    CHECK(st != NULL);
    if (st) {
        test_freq(st);
        test_iter(st);
        test_view(st);
        pm_store_close(st);
    }
    pm_ctx_free(ctx);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (tmpdir[0] && system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    return check_summary("gt_purpose");
}
