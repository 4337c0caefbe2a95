/*
 * test_vcf_gtparse.c - the fast GT parser of VCF ingest against htslib:
 * for every line it accepts, CHROM/POS/REF/ALT and the GT values (BCF
 * int32 encoding, ploidy) must equal what vcf_parse + bcf_get_genotypes
 * give. Lines it declines go to htslib in the ingest, so declining is
 * always safe; the test also checks that common lines are not declined.
 */
#include <htslib/kstring.h>
#include <htslib/hts_log.h>
#include <htslib/vcf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vcf/vcf_gtparse.h"

static bcf_hdr_t *make_hdr(int n)
{
    bcf_hdr_t *h = bcf_hdr_init("r");
    kstring_t s = {0, 0, NULL};
    kputs("##fileformat=VCFv4.3\n##contig=<ID=1>\n"
          "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
          "##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Depth\">\n"
          "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT",
          &s);
    for (int i = 0; i < n; i++)
        ksprintf(&s, "\tS%d", i);
    kputc('\n', &s);
    bcf_hdr_parse(h, s.s);
    free(s.s);
    return h;
}

static int n_fast, n_lines, n_common_declined;

/* Compares the fast parser with htslib on one line; `common` lines must
 * be taken by the fast path. */
static void compare(bcf_hdr_t *h, int n, const char *line, const int *col_map, int n_out,
                    int common)
{
    n_lines++;
    pm_vcf_cols_t c;
    int32_t *gt = NULL;
    size_t cap = 0;
    int ploidy = (n_lines % 3); /* vary the hint: 0, 1, 2 */
    int ok = pm_vcf_split(line, strlen(line), &c) && c.samples && c.gt_first &&
             pm_vcf_parse_gt(c.samples, line + strlen(line), n, col_map, n_out, c.n_fmt, &gt, &cap,
                             &ploidy);
    if (!ok) {
        if (common) {
            n_common_declined++;
            CHECK_MSG(0, "fast path declined a common line: %s", line);
        }
        free(gt);
        return;
    }
    n_fast++;
    kstring_t s = {0, 0, NULL};
    kputs(line, &s);
    bcf1_t *v = bcf_init();
    int r = vcf_parse(&s, h, v);
    /* with skipped columns, htslib also judges columns the ingest drops */
    CHECK_MSG(r == 0 || col_map, "fast path took a line htslib refuses: %s", line);
    if (r == 0) {
        bcf_unpack(v, BCF_UN_STR);
        CHECK_MSG(c.pos == v->pos + 1, "pos: %s", line);
        CHECK_MSG(c.n_allele == v->n_allele, "n_allele %d vs %d: %s", c.n_allele, v->n_allele,
                  line);
        CHECK_MSG((int)strlen(v->d.allele[0]) == c.ref_len &&
                      memcmp(v->d.allele[0], c.ref, (size_t)c.ref_len) == 0,
                  "ref: %s", line);
        int32_t *hg = NULL;
        int hcap = 0;
        int ng = bcf_get_genotypes(h, v, &hg, &hcap);
        CHECK_MSG(ng > 0, "htslib found no GT: %s", line);
        if (ng > 0) {
            int hp = ng / n;
            /* the ploidy is the largest of the kept samples' */
            CHECK_MSG(col_map ? ploidy <= hp : hp == ploidy, "ploidy %d vs htslib %d: %s", ploidy,
                      hp, line);
            for (int i = 0; i < n && ploidy <= hp; i++) {
                int o = col_map ? col_map[i] : i;
                if (o < 0)
                    continue;
                for (int k = 0; k < hp; k++) {
                    int32_t mine = k < ploidy ? gt[o * ploidy + k] : bcf_int32_vector_end;
                    CHECK_MSG(mine == hg[i * hp + k], "sample %d allele %d: %d vs htslib %d: %s",
                              i, k, mine, hg[i * hp + k], line);
                }
            }
        }
        free(hg);
    }
    bcf_destroy(v);
    free(s.s);
    free(gt);
}

static const char *const tokens[] = {
    "0",     "1",     "2",    "10",    ".",     "0/1",   "1|0",   "./.",   ".|.",  "0/.",
    "0|.",   ".|1",   "1/2/3", "0|1|2", "1/1",  "0|0",   "",      "a",     "0/",   "/1",
    "|0",    "1:5",   "0/1:3", "00/1", "0//1", "12/13", ".:.",   "0/1:.", "1|1:7", "3/3",
    "0/1/.", ".|.|.", "99999999/1", "1 ", "0/1\r",
};

static void random_lines(void)
{
    static const char *const formats[] = {"GT", "GT:DP", "DP:GT", "GT:DP:DP2"};
    static const char *const alts[] = {"C", "C,G", "C,G,T", ".", "<DEL>", "C,<*>"};
    unsigned seed = 12345;
    bcf_hdr_t *hs[5];
    for (int n = 1; n <= 4; n++)
        hs[n] = make_hdr(n);
    for (int it = 0; it < 20000; it++) {
        seed = seed * 1103515245u + 12345u;
        int n = 1 + (int)(seed >> 16) % 4;
        kstring_t s = {0, 0, NULL};
        seed = seed * 1103515245u + 12345u;
        const char *fmt = formats[(seed >> 16) % 4];
        seed = seed * 1103515245u + 12345u;
        ksprintf(&s, "1\t%u\trs%d\tA\t%s\t.\t.\t.\t%s", 100 + (seed >> 16) % 1000, it,
                 alts[(seed >> 20) % 6], fmt);
        int ntok = n;
        seed = seed * 1103515245u + 12345u;
        if ((seed >> 16) % 50 == 0)
            ntok += (seed >> 8) % 2 ? 1 : -1; /* wrong column count */
        for (int i = 0; i < ntok; i++) {
            seed = seed * 1103515245u + 12345u;
            kputc('\t', &s);
            kputs(tokens[(seed >> 16) % (sizeof tokens / sizeof *tokens)], &s);
        }
        compare(hs[n], n, s.s, NULL, n, 0);
        /* with a skipped column */
        if (n >= 2) {
            int map[4] = {0, -1, 1, 2};
            compare(hs[n], n, s.s, map, n - 1, 0);
        }
        free(s.s);
    }
    for (int n = 1; n <= 4; n++)
        bcf_hdr_destroy(hs[n]);
}

static void common_lines(void)
{
    bcf_hdr_t *h = make_hdr(3);
    const char *lines[] = {
        "1\t100\trs1\tA\tG\t.\tPASS\t.\tGT\t0/1\t1|1\t./.",
        "1\t200\t.\tC\tT,G\t50\tPASS\tAC=1\tGT\t1/2\t0/0\t2/2",
        "1\t300\t.\tG\t.\t.\t.\t.\tGT\t0/0\t0/0\t0",
        "1\t400\t.\tT\tC\t.\t.\t.\tGT:DP\t0/1:3\t.:4\t1:5",
        "1\t500\t.\tA\tT\t.\t.\t.\tGT\t0|.\t.|1\t1",
        "1\t600\t.\tA\tT\t.\t.\t.\tGT\t0/0/1\t1\t./.",
        "1\t700\t.\tAT\tA,ATT\t.\t.\t.\tGT\t10/2\t0|1\t.",
        "1\t800\t.\tA\t<DEL>\t.\t.\tSVTYPE=DEL\tGT\t0/1\t0/0\t1/1",
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        compare(h, 3, lines[i], NULL, 3, 1);
    /* split of the fixed columns */
    pm_vcf_cols_t c;
    const char *l1 = "chr1\t5\tx\tA\tC,G\t.\t.\t.", *l2 = "chr1\t5x\tx\tA\tC\t.\t.\t.\tGT\t0",
               *l3 = "chr1\t5\tx\tA\tC,\t.\t.\t.\tGT\t0";
    CHECK(pm_vcf_split(l1, strlen(l1), &c) == 1);
    CHECK(c.samples == NULL && c.n_allele == 3 && c.pos == 5 && c.chrom_len == 4);
    CHECK(pm_vcf_split(l2, strlen(l2), &c) == 0);
    CHECK(pm_vcf_split(l3, strlen(l3), &c) == 0);
    bcf_hdr_destroy(h);
}

int main(void)
{
    hts_set_log_level(HTS_LOG_OFF);
    common_lines();
    random_lines();
    printf("%d lines, %d taken by the fast path, %d common lines declined\n", n_lines, n_fast,
           n_common_declined);
    CHECK(n_fast > n_lines / 10);
    return check_summary("test_vcf_gtparse");
}
