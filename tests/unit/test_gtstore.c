/* test_gtstore.c - genotype segments: exact round trips of random records,
 * counts against a naive reference, carriers, region seeks, corruption and
 * truncation, aborted and unsorted writes, zero samples. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "genotype/gtstore.h"

#define END PM_GT_VECTOR_END

static uint64_t rng_s = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_s ^= rng_s >> 12;
    rng_s ^= rng_s << 25;
    rng_s ^= rng_s >> 27;
    return rng_s * 0x2545f4914f6cdd1dull;
}
static double unif(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }
static uint32_t rndn(uint32_t n) { return n ? (uint32_t)(rnd() % n) : 0; }

static int32_t al(int b, int phased) { return ((b + 1) << 1) | phased; }

/* ---- random records ---- */

typedef struct trec {
    int64_t pos;
    char id[32], ref[16];
    char altbuf[5][16];
    const char *alt[5];
    int n_alt, ploidy;
    int32_t *gt;
} trec_t;

typedef struct tstyle {
    int P, A;
    int pmode;    /* 0 unphased, 1 phased, 2 mixed */
    int hform;    /* for "males": 0 "a", 1 "a/.", 2 "a|." */
    double miss, half, weird, male_frac;
    double af[5];
} tstyle_t;

static void rand_gt(int32_t *e, const tstyle_t *st, int male)
{
    const int P = st->P, A = st->A;
    for (int j = 0; j < P; j++)
        e[j] = END;
    if (P == 0)
        return;
    if (unif() < st->weird) { /* anything valid */
        for (int j = 0; j < P; j++) {
            uint32_t c = rndn(6);
            e[j] = c == 0 ? END : c == 1 ? (int32_t)rndn(2) : al((int)rndn((uint32_t)A + 1), (int)rndn(2));
        }
        if (e[0] != END)
            e[0] &= ~1;
        return;
    }
    int nal = P >= 2 ? 2 : 1;
    if (P >= 3 && unif() < 0.2)
        nal = 3;
    if (male && P >= 2)
        nal = 1;
    int b[3] = {0, 0, 0};
    for (int j = 0; j < nal; j++) {
        double u = unif();
        for (int a = 0; a < A; a++) {
            if (u < st->af[a]) {
                b[j] = a + 1;
                break;
            }
            u -= st->af[a];
        }
    }
    int ph = st->pmode == 2 ? (int)rndn(2) : st->pmode;
    int allmiss = unif() < st->miss;
    for (int j = 0; j < nal; j++)
        e[j] = allmiss ? (j ? ph : 0) : al(b[j], j ? ph : 0);
    if (nal >= 2 && !allmiss && unif() < st->half)
        e[rndn((uint32_t)nal)] = rndn(4) ? 0 : 1; /* half missing */
    if (male && P >= 2)
        e[1] = st->hform == 0 ? END : st->hform == 1 ? 0 : 1;
}

static void rand_style(tstyle_t *st, int P)
{
    memset(st, 0, sizeof *st);
    st->P = P;
    st->A = rndn(4) ? 1 : 1 + (int)rndn(5);
    st->pmode = (int)rndn(3);
    st->hform = (int)rndn(3);
    st->miss = rndn(3) ? 0.001 : unif() * 0.5;
    st->half = rndn(3) ? 0 : unif() * 0.1;
    st->weird = rndn(4) ? 0 : unif() * 0.05;
    st->male_frac = rndn(3) ? 0 : 0.5;
    double left = 1.0;
    for (int a = 0; a < st->A; a++) {
        double f = rndn(2) ? unif() * 0.01 : unif() * 0.5;
        if (f > left * 0.8)
            f = left * 0.8;
        st->af[a] = f;
        left -= f;
    }
}

/* ---- the naive reference ---- */

static void naive_one(const int32_t *e, int P, int A, int64_t *ac, int64_t *an, int64_t *hom)
{
    int nals = 0, ial, first = -1, same = 1;
    for (ial = 0; ial < P; ial++) {
        if (e[ial] == END)
            break;
        if ((e[ial] >> 1) == 0)
            continue;
        int b = (e[ial] >> 1) - 1;
        nals++;
        (*an)++;
        if (b >= 1)
            ac[b - 1]++;
        if (first < 0)
            first = b;
        else if (b != first)
            same = 0;
    }
    (void)A;
    if (nals == ial && nals >= 2 && same && first >= 1)
        hom[first - 1]++;
}

/* counts per ALT and stratum; stratum NULL: mask (NULL = all) */
static void naive_counts(const trec_t *t, uint32_t n, const uint64_t *mask, const int16_t *stratum, int ns,
                         pm_gt_counts_t *out)
{
    int64_t ac[5 * 64], an[64], hom[5 * 64];
    memset(ac, 0, sizeof ac);
    memset(an, 0, sizeof an);
    memset(hom, 0, sizeof hom);
    for (uint32_t i = 0; i < n && t->ploidy > 0; i++) {
        int s = 0;
        if (stratum)
            s = stratum[i];
        else if (mask && !((mask[i >> 6] >> (i & 63)) & 1))
            s = -1;
        if (s < 0)
            continue;
        int64_t a1[5] = {0}, h1[5] = {0}, n1 = 0;
        naive_one(t->gt + (size_t)i * t->ploidy, t->ploidy, t->n_alt, a1, &n1, h1);
        an[s] += n1;
        for (int a = 0; a < t->n_alt; a++) {
            ac[a * 64 + s] += a1[a];
            hom[a * 64 + s] += h1[a];
        }
    }
    for (int a = 0; a < t->n_alt; a++)
        for (int s = 0; s < ns; s++) {
            out[a * ns + s].ac = ac[a * 64 + s];
            out[a * ns + s].an = an[s];
            out[a * ns + s].nhomalt = hom[a * 64 + s];
        }
}

static int same_counts(const pm_gt_counts_t *a, const pm_gt_counts_t *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i].ac != b[i].ac || a[i].an != b[i].an || a[i].nhomalt != b[i].nhomalt)
            return 0;
    return 1;
}

/* ---- helpers ---- */

static char tmpdir[200];

static void tpath(char *buf, size_t cap, const char *name) { snprintf(buf, cap, "%s/%s", tmpdir, name); }

static void free_recs(trec_t *r, int n)
{
    for (int i = 0; i < n; i++)
        free(r[i].gt);
    free(r);
}

/* n_rec random records over n samples; ploidy style per segment run. */
static trec_t *make_recs(uint32_t n, int n_rec, int fixed_p)
{
    trec_t *rs = calloc((size_t)n_rec, sizeof *rs);
    uint8_t *male = malloc(n ? n : 1);
    for (uint32_t i = 0; i < n; i++)
        male[i] = (uint8_t)(rndn(2));
    int64_t pos = 1 + rndn(1000);
    tstyle_t st;
    int P = fixed_p >= 0 ? fixed_p : 2;
    rand_style(&st, P);
    for (int k = 0; k < n_rec; k++) {
        trec_t *t = &rs[k];
        if (rndn(8) == 0) { /* change style now and then; keep runs for H references */
            P = fixed_p >= 0 ? fixed_p : (int)(rndn(10) == 0 ? 3 : 1 + rndn(2));
            rand_style(&st, P);
        }
        pos += rndn(4) == 0 ? 0 : rndn(300);
        t->pos = pos;
        snprintf(t->id, sizeof t->id, rndn(3) ? "." : "rs%d", k);
        snprintf(t->ref, sizeof t->ref, "%c", "ACGT"[rndn(4)]);
        t->n_alt = st.A;
        for (int a = 0; a < st.A; a++) {
            snprintf(t->altbuf[a], sizeof t->altbuf[a], a == 4 ? "<DEL>" : "%.*s", a + 1, "TTTTT");
            t->alt[a] = t->altbuf[a];
        }
        t->ploidy = P;
        t->gt = malloc(((size_t)n * (P ? P : 1) + 1) * sizeof(int32_t));
        int males = st.male_frac > 0;
        if (k > 0 && rs[k - 1].ploidy == P && rndn(2)) {
            /* linkage: the previous record's calls with a few changes */
            memcpy(t->gt, rs[k - 1].gt, (size_t)n * P * sizeof(int32_t));
            uint32_t changes = rndn(n / 8 + 2);
            for (uint32_t c = 0; c < changes; c++) {
                uint32_t i = rndn(n);
                rand_gt(t->gt + (size_t)i * P, &st, males && male[i]);
            }
            if (rs[k - 1].n_alt < st.A) /* alleles must stay in range */
                for (size_t j = 0; j < (size_t)n * P; j++)
                    if (t->gt[j] != END && (t->gt[j] >> 1) - 1 > st.A)
                        t->gt[j] = 2;
            if (rs[k - 1].n_alt > st.A)
                for (size_t j = 0; j < (size_t)n * P; j++)
                    if (t->gt[j] != END && (t->gt[j] >> 1) - 1 > st.A)
                        t->gt[j] = al(st.A, t->gt[j] & 1);
        } else {
            for (uint32_t i = 0; i < n; i++)
                rand_gt(t->gt + (size_t)i * P, &st, males && male[i]);
        }
    }
    free(male);
    return rs;
}

static int write_recs(const char *path, uint32_t n, const trec_t *rs, int n_rec, pm_gtw_stats_t *st)
{
    pm_ctx_t *ctx = pm_ctx_new();
    pm_gtw_t *w;
    int rc = pm_gtw_open(ctx, path, "chr1", n, &w);
    if (rc < 0) {
        fprintf(stderr, "open: %s\n", pm_ctx_errmsg(ctx));
        pm_ctx_free(ctx);
        return rc;
    }
    for (int k = 0; k < n_rec; k++) {
        pm_gt_record_t rec = {rs[k].pos, rs[k].id, rs[k].ref, rs[k].alt, rs[k].n_alt, rs[k].ploidy, rs[k].gt};
        if ((rc = pm_gtw_add(w, &rec)) < 0) {
            fprintf(stderr, "add: %s\n", pm_ctx_errmsg(ctx));
            pm_gtw_abort(w);
            pm_ctx_free(ctx);
            return rc;
        }
    }
    rc = pm_gtw_commit(w, st);
    if (rc < 0)
        fprintf(stderr, "commit: %s\n", pm_ctx_errmsg(ctx));
    pm_ctx_free(ctx);
    return rc;
}

static void rand_mask(uint64_t *m, uint32_t n, double p)
{
    memset(m, 0, ((n + 63) / 64 + 1) * 8);
    for (uint32_t i = 0; i < n; i++)
        if (unif() < p)
            m[i >> 6] |= (uint64_t)1 << (i & 63);
}

/* pm_gtr_decode_sparse on the current record, expanded to every sample
 * (unlisted columns get the default call): 1 when it equals t's calls. */
static int sparse_matches(pm_gtr_t *r, const trec_t *t, uint32_t n, pm_gtr_sparse_t *sp, int k)
{
    if (pm_gtr_decode_sparse(r, sp) != 0 || sp->ploidy != t->ploidy)
        return 0;
    const int P = sp->ploidy;
    if (P == 0 || n == 0)
        return sp->n == 0;
    int32_t *d = malloc((size_t)n * P * sizeof *d);
    for (uint32_t i = 0; i < n; i++) {
        int32_t *e = d + (size_t)i * P;
        e[0] = 2;
        for (int j = 1; j < P; j++)
            e[j] = j == 1 ? (2 | sp->pmode) : END;
    }
    int ok = sp->n <= n;
    for (uint32_t x = 0; x < sp->n && ok; x++) {
        ok = sp->cols[x] < n && (x == 0 || sp->cols[x - 1] < sp->cols[x]);
        if (ok)
            memcpy(d + (size_t)sp->cols[x] * P, sp->vecs + (size_t)x * P, (size_t)P * sizeof *d);
    }
    if (ok && memcmp(d, t->gt, (size_t)n * P * sizeof *d) != 0) {
        ok = 0;
        for (uint32_t i = 0; i < n; i++)
            if (memcmp(d + (size_t)i * P, t->gt + (size_t)i * P, (size_t)P * sizeof *d)) {
                fprintf(stderr, "sparse: record %d sample %u differs (P=%d)\n", k, i, P);
                break;
            }
    }
    free(d);
    return ok;
}

/* Reads the whole file back and checks everything against rs. */
static void check_file(const char *path, uint32_t n, const trec_t *rs, int n_rec)
{
    pm_ctx_t *ctx = pm_ctx_new();
    pm_gtr_t *r;
    int rc = pm_gtr_open(ctx, path, &r);
    CHECK_MSG(rc == 0, "%s", pm_ctx_errmsg(ctx));
    if (rc < 0) {
        pm_ctx_free(ctx);
        return;
    }
    CHECK(pm_gtr_n_samples(r) == n);
    CHECK_STR(pm_gtr_chrom(r), "chr1");
    CHECK(pm_gtr_n_records(r) == (uint64_t)n_rec);
    size_t nw = (n + 63) / 64 + 1;
    uint64_t *mask = malloc(nw * 8), *car = malloc(nw * 8), *ref = malloc(nw * 8);
    int16_t *strat = malloc((n ? n : 1) * sizeof *strat);
    const int ns = 3;
    for (uint32_t i = 0; i < n; i++)
        strat[i] = (int16_t)((int)rndn(ns + 1) - 1);
    int32_t *buf = NULL;
    size_t cap = 0;
    pm_gtr_rec_t rec;
    int k = 0, bad_gt = 0, bad_cnt = 0, bad_car = 0, bad_sp = 0;
    pm_gtr_sparse_t sp = {0};
    while ((rc = pm_gtr_next(r, &rec)) == 1) {
        if (k >= n_rec)
            break;
        const trec_t *t = &rs[k];
        CHECK(rec.pos == t->pos && rec.index == (uint64_t)k && rec.n_alt == t->n_alt);
        CHECK(strcmp(rec.id, t->id) == 0 && strcmp(rec.ref, t->ref) == 0);
        for (int a = 0; a < t->n_alt && a < rec.n_alt; a++)
            CHECK(strcmp(rec.alt[a], t->alt[a]) == 0);
        /* counts before decode on some records, after on others (lazy parse) */
        pm_gt_counts_t got[5 * 3], want[5 * 3];
        if (k % 2) {
            CHECK(pm_gtr_count(r, NULL, got) == 0);
            naive_counts(t, n, NULL, NULL, 1, want);
            bad_cnt += !same_counts(got, want, t->n_alt);
        }
        /* sparse decode before the dense one on some records, after on others */
        if (k % 4 == 1)
            bad_sp += !sparse_matches(r, t, n, &sp, k);
        int ploidy = -1;
        rc = pm_gtr_decode(r, &buf, &cap, &ploidy);
        CHECK_MSG(rc == 0, "%s", pm_ctx_errmsg(ctx));
        if (k % 4 != 1)
            bad_sp += !sparse_matches(r, t, n, &sp, k);
        CHECK(ploidy == t->ploidy);
        if (rc == 0 && ploidy == t->ploidy && n > 0 && ploidy > 0 &&
            memcmp(buf, t->gt, (size_t)n * ploidy * sizeof(int32_t)) != 0) {
            if (!bad_gt)
                for (uint32_t i = 0; i < n; i++)
                    for (int j = 0; j < ploidy; j++)
                        if (buf[i * ploidy + j] != t->gt[i * ploidy + j]) {
                            fprintf(stderr, "record %d sample %u entry %d: got %d want %d (P=%d)\n", k, i, j,
                                    buf[i * ploidy + j], t->gt[i * ploidy + j], ploidy);
                            i = n;
                            break;
                        }
            bad_gt++;
        }
        CHECK(pm_gtr_count(r, NULL, got) == 0);
        naive_counts(t, n, NULL, NULL, 1, want);
        bad_cnt += !same_counts(got, want, t->n_alt);
        rand_mask(mask, n, unif());
        pm_gtr_set_mask(r, k % 3 == 0 ? mask : NULL); /* contents changed: declare again or forget */
        CHECK(pm_gtr_count(r, mask, got) == 0);
        naive_counts(t, n, mask, NULL, 1, want);
        bad_cnt += !same_counts(got, want, t->n_alt);
        CHECK(pm_gtr_count_strata(r, strat, ns, got) == 0);
        naive_counts(t, n, NULL, strat, ns, want);
        bad_cnt += !same_counts(got, want, t->n_alt * ns);
        for (int a = 1; a <= t->n_alt; a++) {
            memset(car, 0, nw * 8);
            memset(ref, 0, nw * 8);
            CHECK(pm_gtr_carriers(r, a, car) == 0);
            for (uint32_t i = 0; i < n; i++)
                for (int j = 0; j < t->ploidy; j++) {
                    int32_t v = t->gt[(size_t)i * t->ploidy + j];
                    if (v == END)
                        break;
                    if ((v >> 1) - 1 == a)
                        ref[i >> 6] |= (uint64_t)1 << (i & 63);
                }
            bad_car += memcmp(car, ref, nw * 8) != 0;
        }
        k++;
    }
    CHECK_MSG(rc == 0, "next: %d %s", rc, pm_ctx_errmsg(ctx));
    CHECK_MSG(k == n_rec, "read %d of %d records", k, n_rec);
    CHECK_MSG(bad_gt == 0, "%d records decoded wrongly (n=%u)", bad_gt, n);
    CHECK_MSG(bad_cnt == 0, "%d count mismatches (n=%u)", bad_cnt, n);
    CHECK_MSG(bad_car == 0, "%d carrier mismatches (n=%u)", bad_car, n);
    CHECK_MSG(bad_sp == 0, "%d records sparse-decoded wrongly (n=%u)", bad_sp, n);
    CHECK(pm_gtr_next(r, &rec) == 0);
    free(sp.cols);
    free(sp.vecs);
    free(buf);
    free(mask);
    free(car);
    free(ref);
    free(strat);
    pm_gtr_close(r);
    pm_ctx_free(ctx);
}

static void test_roundtrip(void)
{
    static const uint32_t sizes[] = {1, 2, 7, 63, 64, 65, 130, 500, 1000, 2000};
    char path[512];
    tpath(path, sizeof path, "rt.gt");
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        uint32_t n = sizes[si];
        int n_rec = n >= 1000 ? 150 : n >= 100 ? 400 : 1500;
        for (int fixed = -1; fixed <= (n == 130 ? 3 : -1); fixed++) {
            trec_t *rs = make_recs(n, n_rec, fixed);
            pm_gtw_stats_t st;
            int rc = write_recs(path, n, rs, n_rec, &st);
            CHECK(rc == 0);
            if (rc == 0) {
                CHECK(st.records == (uint64_t)n_rec);
                CHECK(st.first_pos == rs[0].pos && st.last_pos == rs[n_rec - 1].pos);
                check_file(path, n, rs, n_rec);
            }
            free_recs(rs, n_rec);
        }
    }
}

/* Many records in few samples: several blocks, then region seeks. */
static void test_seek(void)
{
    char path[512];
    tpath(path, sizeof path, "seek.gt");
    const uint32_t n = 5;
    const int n_rec = 5000;
    trec_t *rs = make_recs(n, n_rec, 2);
    CHECK(write_recs(path, n, rs, n_rec, NULL) == 0);
    pm_ctx_t *ctx = pm_ctx_new();
    pm_gtr_t *r;
    CHECK(pm_gtr_open(ctx, path, &r) == 0);
    int64_t lo = rs[0].pos, hi = rs[n_rec - 1].pos;
    for (int q = 0; q < 200; q++) {
        int64_t beg = lo - 50 + (int64_t)rndn((uint32_t)(hi - lo + 100));
        int64_t end = q % 10 == 0 ? -1 : beg + (int64_t)rndn(q % 3 ? 2000 : 200000) - (q % 7 == 0 ? 100 : 0);
        if (q == 1)
            beg = hi + 1, end = -1;
        if (q == 2)
            beg = 0, end = lo - 1;
        CHECK(pm_gtr_seek(r, beg, end) == 0);
        int want = 0, first = -1;
        for (int k = 0; k < n_rec; k++)
            if (rs[k].pos >= beg && (end < 0 || rs[k].pos <= end)) {
                if (first < 0)
                    first = k;
                want++;
            }
        int got = 0, ok = 1;
        pm_gtr_rec_t rec;
        while (pm_gtr_next(r, &rec) == 1) {
            if (rec.index != (uint64_t)(first + got) || rec.pos != rs[first + got].pos)
                ok = 0;
            if (got % 97 == 0) { /* decode now and then after a seek */
                int32_t *b = NULL;
                size_t cap = 0;
                int P;
                if (pm_gtr_decode(r, &b, &cap, &P) != 0 || memcmp(b, rs[first + got].gt, n * P * 4) != 0)
                    ok = 0;
                free(b);
            }
            got++;
        }
        CHECK_MSG(got == want && ok, "seek %lld-%lld: %d of %d records", (long long)beg, (long long)end, got, want);
    }
    pm_gtr_close(r);
    pm_ctx_free(ctx);
    free_recs(rs, n_rec);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Reads every record of path; returns the first error (or 0). */
static int read_all(pm_ctx_t *ctx, const char *path)
{
    pm_gtr_t *r;
    int rc = pm_gtr_open(ctx, path, &r);
    if (rc < 0)
        return rc;
    pm_gtr_rec_t rec;
    int32_t *b = NULL;
    size_t cap = 0;
    int P;
    pm_gt_counts_t c[8];
    while ((rc = pm_gtr_next(r, &rec)) == 1) {
        if ((rc = pm_gtr_decode(r, &b, &cap, &P)) < 0 || (rc = pm_gtr_count(r, NULL, c)) < 0)
            break;
    }
    free(b);
    pm_gtr_close(r);
    return rc < 0 ? rc : 0;
}

static void copy_file(const char *from, const char *to, long len)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[4096];
    long done = 0;
    while (done < len) {
        size_t want = (size_t)(len - done) < sizeof buf ? (size_t)(len - done) : sizeof buf;
        size_t g = fread(buf, 1, want, a);
        if (!g)
            break;
        fwrite(buf, 1, g, b);
        done += (long)g;
    }
    fclose(a);
    fclose(b);
}

static void test_corruption(void)
{
    char path[512], bad[512];
    tpath(path, sizeof path, "good.gt");
    tpath(bad, sizeof bad, "bad.gt");
    const uint32_t n = 40;
    const int n_rec = 3000;
    trec_t *rs = make_recs(n, n_rec, 2);
    CHECK(write_recs(path, n, rs, n_rec, NULL) == 0);
    free_recs(rs, n_rec);
    pm_ctx_t *ctx = pm_ctx_new();
    CHECK(read_all(ctx, path) == 0);
    long len = file_size(path);
    /* flip one byte at many places: always an error, never a crash */
    int detected = 0, tries = 0, named = 0;
    for (long off = 0; off < len; off += 1 + (long)rndn((uint32_t)(len / 150 + 1))) {
        copy_file(path, bad, len);
        int fd = open(bad, O_RDWR);
        unsigned char c;
        CHECK(pread(fd, &c, 1, off) == 1);
        c ^= (unsigned char)(1u << rndn(8));
        CHECK(pwrite(fd, &c, 1, off) == 1);
        close(fd);
        pm_ctx_clear(ctx);
        int rc = read_all(ctx, bad);
        tries++;
        detected += rc == PM_ECORRUPT;
        if (rc == PM_ECORRUPT && strstr(pm_ctx_errmsg(ctx), "block ") && strstr(pm_ctx_errmsg(ctx), "bad.gt"))
            named++;
        if (rc != PM_ECORRUPT)
            fprintf(stderr, "flip at %ld of %ld: rc %d %s\n", off, len, rc, pm_ctx_errmsg(ctx));
    }
    CHECK_MSG(detected == tries, "%d of %d flips detected", detected, tries);
    CHECK(named > 0);
    /* truncations */
    int trunc_ok = 0, trunc_tries = 0;
    for (long cut = 0; cut < len; cut += 1 + (long)rndn((uint32_t)(len / 60 + 1))) {
        copy_file(path, bad, cut);
        pm_ctx_clear(ctx);
        int rc = read_all(ctx, bad);
        trunc_tries++;
        trunc_ok += rc < 0;
    }
    CHECK_MSG(trunc_ok == trunc_tries, "%d of %d truncations detected", trunc_ok, trunc_tries);
    pm_ctx_free(ctx);
}

static int count_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_writer_errors(void)
{
    char dir[256], path[512];
    tpath(dir, sizeof dir, "werr");
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/seg.gt", dir);
    pm_ctx_t *ctx = pm_ctx_new();
    pm_gtw_t *w;
    int32_t gt[4] = {al(0, 0), al(1, 0), al(1, 1), al(1, 1)};
    const char *alt[] = {"T"};
    pm_gt_record_t rec = {100, ".", "A", alt, 1, 2, gt};

    /* aborted writer leaves nothing */
    CHECK(pm_gtw_open(ctx, path, "chr2", 2, &w) == 0);
    CHECK(pm_gtw_add(w, &rec) == 0);
    pm_gtw_abort(w);
    pm_gtw_abort(NULL);
    CHECK(count_dir_entries(dir) == 0);

    /* out of order */
    CHECK(pm_gtw_open(ctx, path, "chr2", 2, &w) == 0);
    CHECK(pm_gtw_add(w, &rec) == 0);
    rec.pos = 99;
    CHECK(pm_gtw_add(w, &rec) == PM_EINPUT);
    rec.pos = 100; /* equal positions are fine */
    CHECK(pm_gtw_add(w, &rec) == 0);
    /* allele out of range, bad encodings */
    gt[1] = al(2, 0);
    CHECK(pm_gtw_add(w, &rec) == PM_EINPUT);
    gt[1] = -5;
    CHECK(pm_gtw_add(w, &rec) == PM_EINPUT);
    gt[1] = al(1, 0);
    rec.n_alt = 0;
    CHECK(pm_gtw_add(w, &rec) == PM_EINPUT);
    rec.n_alt = 1;
    CHECK(pm_gtw_add(w, &rec) == 0);
    pm_gtw_stats_t st;
    CHECK(pm_gtw_commit(w, &st) == 0);
    CHECK(st.records == 3 && st.variants == 3 && st.first_pos == 100 && st.last_pos == 100);
    CHECK(st.bytes == (uint64_t)file_size(path));
    CHECK(count_dir_entries(dir) == 1);
    CHECK(read_all(ctx, path) == 0);

    /* an empty segment */
    CHECK(pm_gtw_open(ctx, path, "chrM", 3, &w) == 0);
    CHECK(pm_gtw_commit(w, &st) == 0);
    CHECK(st.records == 0);
    pm_gtr_t *r;
    CHECK(pm_gtr_open(ctx, path, &r) == 0);
    pm_gtr_rec_t rr;
    CHECK(pm_gtr_next(r, &rr) == 0);
    CHECK(pm_gtr_seek(r, 10, 20) == 0);
    CHECK(pm_gtr_next(r, &rr) == 0);
    pm_gt_counts_t c;
    CHECK(pm_gtr_count(r, NULL, &c) == PM_EUSAGE);
    CHECK_STR(pm_gtr_chrom(r), "chrM");
    pm_gtr_close(r);
    pm_gtr_close(NULL);

    /* not a segment / missing */
    FILE *fp = fopen(path, "w");
    fputs("hello, this is not a genotype segment file at all, no no no\n", fp);
    fclose(fp);
    CHECK(pm_gtr_open(ctx, path, &r) == PM_ECORRUPT);
    unlink(path);
    CHECK(pm_gtr_open(ctx, path, &r) == PM_ENOTFOUND);
    rmdir(dir);
    pm_ctx_free(ctx);
}

static void test_zero_samples(void)
{
    char path[512];
    tpath(path, sizeof path, "zero.gt");
    pm_ctx_t *ctx = pm_ctx_new();
    pm_gtw_t *w;
    const char *alt[] = {"C", "G"};
    CHECK(pm_gtw_open(ctx, path, "1", 0, &w) == 0);
    for (int k = 0; k < 10; k++) {
        pm_gt_record_t rec = {k * 10, "rsX", "A", alt, 2, 2, NULL};
        CHECK(pm_gtw_add(w, &rec) == 0);
    }
    CHECK(pm_gtw_commit(w, NULL) == 0);
    pm_gtr_t *r;
    CHECK(pm_gtr_open(ctx, path, &r) == 0);
    CHECK(pm_gtr_n_samples(r) == 0);
    pm_gtr_rec_t rec;
    int k = 0;
    int32_t *b = NULL;
    size_t cap = 0;
    while (pm_gtr_next(r, &rec) == 1) {
        pm_gt_counts_t c[2];
        CHECK(pm_gtr_count(r, NULL, c) == 0);
        CHECK(c[0].an == 0 && c[1].ac == 0);
        int P;
        CHECK(pm_gtr_decode(r, &b, &cap, &P) == 0);
        uint64_t m = 0;
        CHECK(pm_gtr_carriers(r, 2, &m) == 0 && m == 0);
        CHECK(pm_gtr_carriers(r, 3, &m) == PM_EUSAGE);
        k++;
    }
    CHECK(k == 10);
    free(b);
    pm_gtr_close(r);
    pm_ctx_free(ctx);
}

/* The 1000 Genomes chrX shape: phased females, males "a/.", exact. */
static void test_chrx_shape(void)
{
    char path[512];
    tpath(path, sizeof path, "x.gt");
    const uint32_t n = 300;
    const int n_rec = 300;
    trec_t *rs = calloc(n_rec, sizeof *rs);
    for (int k = 0; k < n_rec; k++) {
        trec_t *t = &rs[k];
        t->pos = 1000 + k;
        snprintf(t->id, sizeof t->id, ".");
        snprintf(t->ref, sizeof t->ref, "G");
        snprintf(t->altbuf[0], 16, "A");
        t->alt[0] = t->altbuf[0];
        t->n_alt = 1;
        t->ploidy = 2;
        t->gt = malloc(n * 2 * sizeof(int32_t));
        double af = unif() * 0.3;
        for (uint32_t i = 0; i < n; i++) {
            int32_t *e = t->gt + 2 * i;
            if (i % 2) {
                e[0] = al(unif() < af, 0);
                e[1] = 0;
            } else {
                e[0] = al(unif() < af, 0);
                e[1] = al(unif() < af, 1);
            }
        }
    }
    pm_gtw_stats_t st;
    CHECK(write_recs(path, n, rs, n_rec, &st) == 0);
    check_file(path, n, rs, n_rec);
    /* the male set is stored once per block: well under a byte per genotype */
    CHECK_MSG(st.bytes < (uint64_t)n * n_rec / 2, "chrX-like file is %llu bytes", (unsigned long long)st.bytes);
    free_recs(rs, n_rec);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/test_gtstore.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_writer_errors();
    test_zero_samples();
    test_chrx_shape();
    test_roundtrip();
    test_seek();
    test_corruption();
    char p[512];
    const char *names[] = {"rt.gt", "seek.gt", "good.gt", "bad.gt", "x.gt", "zero.gt"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        tpath(p, sizeof p, names[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    return check_summary("test_gtstore");
}
