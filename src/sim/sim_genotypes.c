/*
 * sim_genotypes.c - synthetic genotypes for `promise simulate`: a bgzipped
 * VCF 4.2 (GT only, unphased) for the genotyped samples of samples.tsv.
 *
 * The model is chosen to look like whole-genome data to the tools that
 * read it (promise, plink2, bcftools), not to be population genetics:
 *
 *  - Every individual carries two haplotypes; each haplotype is a mosaic
 *    of K founder haplotypes, switching founder at exponentially spaced
 *    recombination points (mean segment PM_SIM_SEGMENT_BP). Nearby sites
 *    therefore see the same founders: linkage disequilibrium.
 *  - Common sites (about a fifth) put the ALT allele on a random subset of
 *    founders, plus a little per-haplotype noise (recurrent mutation).
 *  - Rare sites (the rest) draw an allele count from a truncated Pareto
 *    spectrum (P(AC=k) ~ k^-1.5, k <= 2% of haplotypes) and give it to
 *    haplotypes that currently copy one founder: a mutation on the mosaic.
 *    About 80% of sites end up with MAF < 1%.
 *  - About 1% of sites are multi-allelic (a second, sometimes third rare
 *    ALT), about 8% are indels; missing calls ("./.") are scattered at
 *    opts->missing_rate.
 *  - Samples of one individual (same identity column value) share a
 *    genome, as a longitudinal second sample would.
 *
 * Speed: a row is a fixed-width run of "a/b\t" cells. Rare rows copy a
 * template of "0/0\t" cells and patch the carriers; common rows are written
 * with a 4-byte table store per sample. Rows are batched into large
 * buffers and compressed by htslib's multi-threaded BGZF writer.
 * Deterministic for a given seed (xoshiro256**).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <htslib/bgzf.h>

#include "core/tsv.h"
#include "promise/simulate.h"

#define PM_SIM_FOUNDERS 48
#define PM_SIM_SEGMENT_BP 150000.0
#define PM_SIM_MASK_POOL 6
#define PM_SIM_MAX_VARIANTS 20000000
#define PM_SIM_OUTBUF (8u << 20)

/* ---- random numbers: xoshiro256** seeded by splitmix64 ---- */

typedef struct {
    uint64_t s[4];
} rng_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed)
{
    uint64_t x = seed ^ 0x67656e6f74797065ULL; /* "genotype": not the population's stream */
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1). */
static inline double rng_unif(rng_t *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }
/* Uniform in (0, 1]. */
static inline double rng_unif_pos(rng_t *r) { return 1.0 - rng_unif(r); }
/* Uniform integer in [0, n). */
static inline uint64_t rng_below(rng_t *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}
static inline double rng_exp(rng_t *r, double mean) { return -mean * log(rng_unif_pos(r)); }

/* ---- GRCh38 contigs ---- */

static const struct {
    const char *name;
    int64_t length;
} grch38[] = {
    {"1", 248956422}, {"2", 242193529}, {"3", 198295559}, {"4", 190214555},
    {"5", 181538259}, {"6", 170805979}, {"7", 159345973}, {"8", 145138636},
    {"9", 138394717}, {"10", 133797422}, {"11", 135086622}, {"12", 133275309},
    {"13", 114364328}, {"14", 107043718}, {"15", 101991189}, {"16", 90338345},
    {"17", 83257441}, {"18", 80373285}, {"19", 58617616}, {"20", 64444167},
    {"21", 46709983}, {"22", 50818468}, {"X", 156040895}, {"Y", 57227415},
    {"MT", 16569},
};

/* The simulated stretches: most sites on chr22, a quarter on chr21. */
static const struct {
    const char *name;
    int64_t beg, end; /* euchromatic stretch, 1-based inclusive */
    double share;
} sim_chroms[] = {
    {"21", 14000001, 46600000, 0.25},
    {"22", 16000001, 50700000, 0.75},
};
#define N_SIM_CHROMS (sizeof sim_chroms / sizeof *sim_chroms)

/* ---- samples and genomes ---- */

typedef struct {
    char **names;    /* genotyped sample ids, file order */
    int32_t *genome; /* per sample: genome (individual) index */
    int32_t n, cap;
    int32_t n_genomes;
    int32_t *gs_start; /* CSR: samples of genome g are gs_list[gs_start[g] .. gs_start[g+1]) */
    int32_t *gs_list;
} samples_t;

static void samples_free(samples_t *s)
{
    for (int32_t i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    free(s->genome);
    free(s->gs_start);
    free(s->gs_list);
}

static uint64_t hash_str(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static int is_genotyped_assay(const char *a, size_t n)
{
    return (n == 3 && (memcmp(a, "wgs", 3) == 0 || memcmp(a, "wes", 3) == 0)) ||
           (n == 5 && memcmp(a, "array", 5) == 0);
}

/* Reads the genotyped samples of samples.tsv and groups them by identity. */
static int read_samples(pm_ctx_t *ctx, const char *path, samples_t *S)
{
    pm_tsv_t *t = NULL;
    int rc = pm_tsv_open(ctx, path, NULL, &t);
    if (rc < 0)
        return rc;
    int c_id = pm_tsv_col(t, "sample_id"), c_assay = pm_tsv_col(t, "assay");
    int c_who = pm_tsv_col(t, "personnummer");
    if (c_who < 0)
        c_who = pm_tsv_col(t, "pseudonym");
    if (c_id < 0 || c_assay < 0) {
        rc = pm_err(ctx, PM_EINPUT, "%s: needs columns 'sample_id' and 'assay'", path);
        goto out;
    }
    /* identity -> genome: open addressing over (hash, genome) */
    size_t hcap = 1024, hn = 0;
    uint64_t *hkeys = calloc(hcap, sizeof *hkeys);
    int32_t *hvals = malloc(hcap * sizeof *hvals);
    if (!hkeys || !hvals) {
        free(hkeys);
        free(hvals);
        rc = pm_err(ctx, PM_ENOMEM, "out of memory reading '%s'", path);
        goto out;
    }
    while ((rc = pm_tsv_next(t)) > 0) {
        const char *assay = pm_tsv_field(t, c_assay);
        if (!is_genotyped_assay(assay, pm_tsv_field_len(t, c_assay)))
            continue;
        if (S->n == S->cap) {
            int32_t ncap = S->cap ? S->cap * 2 : 1024;
            char **nn = realloc(S->names, (size_t)ncap * sizeof *nn);
            if (nn)
                S->names = nn;
            int32_t *ng = realloc(S->genome, (size_t)ncap * sizeof *ng);
            if (ng)
                S->genome = ng;
            if (!nn || !ng) {
                rc = pm_err(ctx, PM_ENOMEM, "out of memory reading '%s'", path);
                break;
            }
            S->cap = ncap;
        }
        const char *id = pm_tsv_field(t, c_id);
        size_t idlen = pm_tsv_field_len(t, c_id);
        if (idlen == 0) {
            rc = pm_tsv_err(t, c_id, PM_EINPUT, "empty sample_id");
            break;
        }
        char *name = strndup(id, idlen);
        if (!name) {
            rc = pm_err(ctx, PM_ENOMEM, "out of memory reading '%s'", path);
            break;
        }
        int32_t g = -1;
        if (c_who >= 0 && pm_tsv_field_len(t, c_who) > 0) {
            /* 64-bit hash of the identity: a collision merely merges two genomes */
            uint64_t h = hash_str(pm_tsv_field(t, c_who), pm_tsv_field_len(t, c_who)) | 1;
            if (2 * (hn + 1) > hcap) {
                size_t ncap = hcap * 2;
                uint64_t *nk = calloc(ncap, sizeof *nk);
                int32_t *nv = malloc(ncap * sizeof *nv);
                if (!nk || !nv) {
                    free(nk);
                    free(nv);
                    free(name);
                    rc = pm_err(ctx, PM_ENOMEM, "out of memory reading '%s'", path);
                    break;
                }
                for (size_t i = 0; i < hcap; i++) {
                    if (!hkeys[i])
                        continue;
                    size_t j = hkeys[i] & (ncap - 1);
                    while (nk[j])
                        j = (j + 1) & (ncap - 1);
                    nk[j] = hkeys[i];
                    nv[j] = hvals[i];
                }
                free(hkeys);
                free(hvals);
                hkeys = nk;
                hvals = nv;
                hcap = ncap;
            }
            size_t j = h & (hcap - 1);
            while (hkeys[j] && hkeys[j] != h)
                j = (j + 1) & (hcap - 1);
            if (hkeys[j]) {
                g = hvals[j];
            } else {
                hkeys[j] = h;
                hvals[j] = g = S->n_genomes++;
                hn++;
            }
        } else {
            g = S->n_genomes++;
        }
        S->names[S->n] = name;
        S->genome[S->n] = g;
        S->n++;
    }
    free(hkeys);
    free(hvals);
    if (rc < 0)
        goto out;
    rc = 0;
    /* CSR genome -> samples */
    S->gs_start = calloc((size_t)S->n_genomes + 1, sizeof *S->gs_start);
    S->gs_list = malloc(((size_t)S->n + 1) * sizeof *S->gs_list);
    if (!S->gs_start || !S->gs_list) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    for (int32_t i = 0; i < S->n; i++)
        S->gs_start[S->genome[i] + 1]++;
    for (int32_t g = 0; g < S->n_genomes; g++)
        S->gs_start[g + 1] += S->gs_start[g];
    {
        int32_t *fill = calloc((size_t)S->n_genomes + 1, sizeof *fill);
        if (!fill) {
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
            goto out;
        }
        for (int32_t i = 0; i < S->n; i++) {
            int32_t g = S->genome[i];
            S->gs_list[S->gs_start[g] + fill[g]++] = i;
        }
        free(fill);
    }
out:
    pm_tsv_close(t);
    return rc;
}

/* ---- output: a large buffer in front of a BGZF writer ---- */

typedef struct {
    BGZF *fp;
    char *buf;
    size_t len, cap;
    int failed;
} out_t;

static int out_flush(out_t *o)
{
    if (o->len && !o->failed && bgzf_write(o->fp, o->buf, o->len) != (ssize_t)o->len)
        o->failed = 1;
    o->len = 0;
    return o->failed ? -1 : 0;
}

/* Makes room for n more bytes; returns the write pointer or NULL. */
static char *out_reserve(out_t *o, size_t n)
{
    if (o->len + n > o->cap) {
        if (out_flush(o) < 0)
            return NULL;
        if (n > o->cap) {
            char *nb = realloc(o->buf, n);
            if (!nb)
                return NULL;
            o->buf = nb;
            o->cap = n;
        }
    }
    return o->buf + o->len;
}

static int out_str(out_t *o, const char *s, size_t n)
{
    char *p = out_reserve(o, n);
    if (!p)
        return -1;
    memcpy(p, s, n);
    o->len += n;
    return 0;
}

static char *fmt_u64(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* ---- the simulation ---- */

typedef struct {
    rng_t rng;
    int32_t H;          /* haplotypes = 2 * genomes */
    uint8_t *cur;       /* founder each haplotype copies now */
    int32_t *pos_in;    /* index of h in its founder's member list */
    int32_t *mem[PM_SIM_FOUNDERS];
    int32_t n_mem[PM_SIM_FOUNDERS];
    double fw_cum[PM_SIM_FOUNDERS]; /* cumulative founder weights */
    int32_t *head;      /* per site: first haplotype switching there, -1 none */
    int32_t *next;      /* per haplotype: next in its switch bucket */
    uint8_t *allele;    /* per haplotype allele at the current site */
    int32_t *touched;   /* haplotypes with a non-zero allele (sparse sites) */
    int32_t n_touched;
} sim_t;

static int pick_founder(sim_t *m)
{
    double u = rng_unif(&m->rng) * m->fw_cum[PM_SIM_FOUNDERS - 1];
    int lo = 0, hi = PM_SIM_FOUNDERS - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (m->fw_cum[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void mem_remove(sim_t *m, int32_t h)
{
    int f = m->cur[h];
    int32_t i = m->pos_in[h], last = m->mem[f][--m->n_mem[f]];
    m->mem[f][i] = last;
    m->pos_in[last] = i;
}

static void mem_add(sim_t *m, int32_t h, int f)
{
    m->cur[h] = (uint8_t)f;
    m->pos_in[h] = m->n_mem[f];
    m->mem[f][m->n_mem[f]++] = h;
}

/* First site index in pos[from..n) with pos >= target, or n. */
static int64_t site_at(const int64_t *pos, int64_t from, int64_t n, double target)
{
    int64_t lo = from, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if ((double)pos[mid] < target)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void schedule(sim_t *m, const int64_t *pos, int64_t site, int64_t n, int32_t h)
{
    double target = (double)pos[site] + 1.0 + rng_exp(&m->rng, PM_SIM_SEGMENT_BP);
    int64_t s = site_at(pos, site + 1, n, target);
    if (s < n) {
        m->next[h] = m->head[s];
        m->head[s] = h;
    }
}

/* Starts a chromosome: fresh founder weights and mosaics. */
static void chrom_start(sim_t *m, const int64_t *pos, int64_t n)
{
    double c = 0;
    for (int f = 0; f < PM_SIM_FOUNDERS; f++) {
        c += 0.2 + rng_exp(&m->rng, 1.0);
        m->fw_cum[f] = c;
        m->n_mem[f] = 0;
    }
    for (int64_t i = 0; i < n; i++)
        m->head[i] = -1;
    for (int32_t h = 0; h < m->H; h++) {
        mem_add(m, h, pick_founder(m));
        if (n > 0)
            schedule(m, pos, 0, n, h);
    }
}

static void touch(sim_t *m, int32_t h, uint8_t a)
{
    if (!m->allele[h])
        m->touched[m->n_touched++] = h;
    m->allele[h] = a;
}

/* Gives allele a to about k haplotypes that copy founder f now (others if
 * f has too few) and that carry REF so far. */
static void place_rare(sim_t *m, int f, int64_t k, uint8_t a)
{
    int64_t tries = 4 * k + 16;
    while (k > 0 && tries-- > 0) {
        int32_t h;
        if (m->n_mem[f] > 0 && tries > k)
            h = m->mem[f][rng_below(&m->rng, (uint64_t)m->n_mem[f])];
        else
            h = (int32_t)rng_below(&m->rng, (uint64_t)m->H);
        if (m->allele[h])
            continue;
        touch(m, h, a);
        k--;
    }
}

/* Allele count of a rare variant: P(k) ~ k^-1.5 on [1, kmax]. */
static int64_t rare_count(sim_t *m, int64_t kmax)
{
    double tail = 1.0 - 1.0 / sqrt((double)kmax + 1.0);
    double x = pow(1.0 - rng_unif(&m->rng) * tail, -2.0);
    int64_t k = (int64_t)x;
    if (k < 1)
        k = 1;
    if (k > kmax)
        k = kmax;
    return k;
}

static const char BASES[4] = {'A', 'C', 'G', 'T'};

static char rand_base(sim_t *m) { return BASES[rng_below(&m->rng, 4)]; }

/* A random SNV alternative to ref that is not in used[]. */
static char snv_alt(sim_t *m, char ref, const char *used)
{
    /* transitions (A<->G, C<->T) twice as likely as each transversion */
    static const char ti[128] = {['A'] = 'G', ['G'] = 'A', ['C'] = 'T', ['T'] = 'C'};
    for (int tries = 0; tries < 16; tries++) {
        char b = rng_unif(&m->rng) < 0.5 ? ti[(int)ref] : rand_base(m);
        if (b != ref && !strchr(used, b))
            return b;
    }
    for (int i = 0; i < 4; i++)
        if (BASES[i] != ref && !strchr(used, BASES[i]))
            return BASES[i];
    return 'N';
}

/* Alleles of one site: REF and up to 3 ALTs as text. */
typedef struct {
    char ref[8];
    char alt[3][8];
    int n_alt;
} alleles_t;

static void make_alleles(sim_t *m, alleles_t *al, int n_alt)
{
    memset(al, 0, sizeof *al);
    char r = rand_base(m);
    al->n_alt = n_alt;
    double u = rng_unif(&m->rng);
    char used[4] = {0};
    if (u < 0.04) { /* deletion */
        int len = 1 + (int)rng_below(&m->rng, 4);
        al->ref[0] = r;
        for (int i = 1; i <= len; i++)
            al->ref[i] = rand_base(m);
        al->alt[0][0] = r;
        for (int j = 1; j < n_alt; j++) {
            if (len > 1 && j == 1) { /* a shorter deletion: REF minus its last base */
                memcpy(al->alt[j], al->ref, (size_t)len);
            } else { /* an SNV of the first base */
                char b = snv_alt(m, r, used);
                used[j - 1] = b;
                al->alt[j][0] = b;
                memcpy(al->alt[j] + 1, al->ref + 1, (size_t)len);
            }
        }
        if (n_alt > 1 && strcmp(al->alt[1], al->alt[0]) == 0)
            al->n_alt = 1;
        return;
    }
    al->ref[0] = r;
    if (u < 0.08) { /* insertion */
        int len = 1 + (int)rng_below(&m->rng, 4);
        al->alt[0][0] = r;
        for (int i = 1; i <= len; i++)
            al->alt[0][i] = rand_base(m);
        for (int j = 1; j < n_alt; j++) {
            char b = snv_alt(m, r, used);
            used[j - 1] = b;
            al->alt[j][0] = b;
        }
        return;
    }
    for (int j = 0; j < n_alt; j++) {
        char b = snv_alt(m, r, used);
        used[j] = b;
        al->alt[j][0] = b;
    }
}

/* Genotype cells "a/b\t" (smaller allele first) for alleles < 4, and the
 * missing cell, as 4-byte words for single stores. */
static void init_cells(uint32_t cell[4][4], uint32_t *cell_missing)
{
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) {
            int lo = a < b ? a : b, hi = a < b ? b : a;
            char c[4] = {(char)('0' + lo), '/', (char)('0' + hi), '\t'};
            memcpy(&cell[a][b], c, 4);
        }
    memcpy(cell_missing, "./.\t", 4);
}

static void free_sim(sim_t *m)
{
    free(m->cur);
    free(m->pos_in);
    for (int f = 0; f < PM_SIM_FOUNDERS; f++)
        free(m->mem[f]);
    free(m->head);
    free(m->next);
    free(m->allele);
    free(m->touched);
}

/* Sorted, distinct positions of n sites in [beg, end]: exponential gaps
 * scaled to the stretch (two passes over the same random stream). */
static void make_positions(rng_t *r, int64_t *pos, int64_t n, int64_t beg, int64_t end)
{
    if (n == 0)
        return;
    double span = (double)(end - beg + 1 - n); /* room beyond one base per site */
    if (span < 0)
        span = 0;
    rng_t again = *r;
    double total = 1.0; /* slack after the last site */
    for (int64_t i = 0; i < n; i++)
        total += rng_exp(r, 1.0);
    double p = (double)beg;
    for (int64_t i = 0; i < n; i++) {
        p += rng_exp(&again, 1.0) / total * span;
        pos[i] = (int64_t)p + i;
        if (i > 0 && pos[i] <= pos[i - 1])
            pos[i] = pos[i - 1] + 1;
    }
}

int pm_sim_genotypes(pm_ctx_t *ctx, const char *outdir, const pm_sim_opts_t *opts)
{
    if (!outdir || !opts)
        return pm_err(ctx, PM_EUSAGE, "simulate: no output directory or options");
    if (opts->variants <= 0)
        return 0;
    if (opts->variants > PM_SIM_MAX_VARIANTS)
        return pm_err(ctx, PM_ELIMIT, "simulate: at most %d variants", PM_SIM_MAX_VARIANTS);
    double miss = opts->missing_rate;
    if (miss < 0 || miss != miss)
        miss = 0.001;
    if (miss > 1)
        miss = 1;

    char spath[4096], opath[4096], tpath[4200];
    if (snprintf(spath, sizeof spath, "%s/samples.tsv", outdir) >= (int)sizeof spath ||
        snprintf(opath, sizeof opath, "%s/genotypes.vcf.gz", outdir) >= (int)sizeof opath)
        return pm_err(ctx, PM_ELIMIT, "simulate: output directory name too long");
    snprintf(tpath, sizeof tpath, "%s.tmp-%ld", opath, (long)getpid());

    samples_t S = {0};
    sim_t m = {0};
    out_t o = {0};
    int64_t *pos = NULL;
    char *tmpl = NULL;
    int rc = read_samples(ctx, spath, &S);
    if (rc < 0)
        goto out;

    uint32_t cell[4][4], cell_missing;
    init_cells(cell, &cell_missing);
    rng_seed(&m.rng, opts->seed);
    int32_t N = S.n;
    m.H = 2 * S.n_genomes;
    int64_t M = opts->variants;
    pos = malloc((size_t)M * sizeof *pos);
    m.head = malloc((size_t)M * sizeof *m.head);
    m.cur = malloc((size_t)m.H + 1);
    m.pos_in = malloc(((size_t)m.H + 1) * sizeof *m.pos_in);
    m.next = malloc(((size_t)m.H + 1) * sizeof *m.next);
    m.allele = calloc((size_t)m.H + 1, 1);
    m.touched = malloc(((size_t)m.H + 1) * sizeof *m.touched);
    size_t rowcap = 4 * (size_t)N + 1;
    tmpl = malloc(rowcap);
    o.cap = PM_SIM_OUTBUF;
    o.buf = malloc(o.cap);
    int ok = pos && m.head && m.cur && m.pos_in && m.next && m.allele && m.touched && tmpl &&
             o.buf;
    for (int f = 0; f < PM_SIM_FOUNDERS && ok; f++)
        ok = (m.mem[f] = malloc(((size_t)m.H + 1) * sizeof *m.mem[f])) != NULL;
    if (!ok) {
        rc = pm_err(ctx, PM_ENOMEM, "simulate: out of memory for %d samples", (int)N);
        goto out;
    }
    for (int32_t s = 0; s < N; s++)
        memcpy(tmpl + 4 * (size_t)s, "0/0\t", 4);

    o.fp = bgzf_open(tpath, "w4");
    if (!o.fp) {
        rc = pm_err(ctx, PM_EIO, "cannot create '%s': %s", tpath, strerror(errno));
        goto out;
    }
    {
        int nthreads = pm_ctx_threads(ctx);
        if (nthreads <= 1) {
            long np = sysconf(_SC_NPROCESSORS_ONLN);
            nthreads = np > 8 ? 8 : np < 1 ? 1 : (int)np;
        }
        if (nthreads > 1)
            bgzf_mt(o.fp, nthreads, 256);
    }

    /* header */
    {
        char line[256];
        int n = snprintf(line, sizeof line,
                         "##fileformat=VCFv4.2\n"
                         "##FILTER=<ID=PASS,Description=\"All filters passed\">\n"
                         "##source=promise simulate (seed %llu)\n"
                         "##reference=GRCh38\n",
                         (unsigned long long)opts->seed);
        ok = out_str(&o, line, (size_t)n) == 0;
        for (size_t i = 0; ok && i < sizeof grch38 / sizeof *grch38; i++) {
            n = snprintf(line, sizeof line, "##contig=<ID=%s,length=%lld,assembly=GRCh38>\n",
                         grch38[i].name, (long long)grch38[i].length);
            ok = out_str(&o, line, (size_t)n) == 0;
        }
        static const char tail[] =
            "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT";
        /* without samples there is no FORMAT column */
        if (ok)
            ok = out_str(&o, tail, sizeof tail - 1 - (N > 0 ? 0 : 7)) == 0;
        for (int32_t s = 0; ok && s < N; s++) {
            ok = out_str(&o, "\t", 1) == 0 && out_str(&o, S.names[s], strlen(S.names[s])) == 0;
        }
        if (ok)
            ok = out_str(&o, "\n", 1) == 0;
        if (!ok) {
            rc = pm_err(ctx, PM_EIO, "cannot write '%s'", tpath);
            goto out;
        }
    }

    /* missing calls: geometric gaps over the flattened (site, sample) stream */
    double log_keep = miss > 0 && miss < 1 ? log1p(-miss) : 0;
    uint64_t next_miss = UINT64_MAX;
    if (miss >= 1)
        next_miss = 0;
    else if (miss > 0)
        next_miss = (uint64_t)(log(rng_unif_pos(&m.rng)) / log_keep);
    uint64_t cell_base = 0;

    int64_t kmax = (int64_t)(0.02 * m.H);
    if (kmax < 2)
        kmax = 2;
    uint64_t rsid = 1000 + rng_below(&m.rng, 5000);
    int64_t done = 0;

    for (size_t c = 0; c < N_SIM_CHROMS; c++) {
        int64_t n_c;
        if (c + 1 == N_SIM_CHROMS)
            n_c = M - done;
        else
            n_c = (int64_t)floor((double)M * sim_chroms[c].share);
        if (n_c <= 0)
            continue;
        const char *chrom = sim_chroms[c].name;
        make_positions(&m.rng, pos, n_c, sim_chroms[c].beg, sim_chroms[c].end);
        chrom_start(&m, pos, n_c);
        uint64_t pool[PM_SIM_MASK_POOL] = {0};

        for (int64_t i = 0; i < n_c; i++) {
            /* recombination: haplotypes whose segment ends here copy a new founder */
            for (int32_t h = m.head[i]; h >= 0;) {
                int32_t nx = m.next[h];
                mem_remove(&m, h);
                mem_add(&m, h, pick_founder(&m));
                schedule(&m, pos, i, n_c, h);
                h = nx;
            }

            double u = rng_unif(&m.rng);
            int n_alt = u < 0.002 ? 3 : u < 0.011 ? 2 : 1;
            alleles_t al;
            make_alleles(&m, &al, n_alt);
            n_alt = al.n_alt;
            int common = rng_unif(&m.rng) < 0.2 && m.H > 0;
            int dense = 0;
            m.n_touched = 0;
            if (common) {
                /* ALT on a subset of founders. Nearby common sites reuse a
                 * recent subset with a founder or two changed (founders
                 * are related: LD blocks); otherwise a fresh subset with
                 * P(j founders) ~ 1/j. */
                uint64_t mask = 0;
                int slot = (int)rng_below(&m.rng, PM_SIM_MASK_POOL);
                if (pool[slot] && rng_unif(&m.rng) < 0.7) {
                    mask = pool[slot];
                    int flips = (int)rng_below(&m.rng, 3);
                    while (flips-- > 0)
                        mask ^= 1ULL << rng_below(&m.rng, PM_SIM_FOUNDERS);
                    if (!mask)
                        mask = pool[slot];
                } else {
                    double lj = rng_unif(&m.rng) * log((double)PM_SIM_FOUNDERS / 2.0);
                    int j = (int)exp(lj);
                    if (j < 1)
                        j = 1;
                    while (__builtin_popcountll(mask) < j)
                        mask |= 1ULL << rng_below(&m.rng, PM_SIM_FOUNDERS);
                }
                pool[slot] = mask;
                if (rng_unif(&m.rng) < 0.1) /* sometimes ALT is the major allele */
                    mask = ~mask & ((1ULL << PM_SIM_FOUNDERS) - 1);
                for (int32_t h = 0; h < m.H; h++)
                    m.allele[h] = (uint8_t)((mask >> m.cur[h]) & 1);
                /* recurrent mutation / gene conversion noise */
                int64_t flips = (int64_t)rng_below(&m.rng, (uint64_t)(m.H / 1000 + 2));
                while (flips-- > 0) {
                    int32_t h = (int32_t)rng_below(&m.rng, (uint64_t)m.H);
                    m.allele[h] ^= 1;
                }
                dense = 1;
                for (int a = 2; a <= n_alt; a++)
                    for (int64_t k = rare_count(&m, kmax / 4 + 1); k > 0; k--) {
                        int32_t h = (int32_t)rng_below(&m.rng, (uint64_t)m.H);
                        if (m.allele[h] == 0)
                            m.allele[h] = (uint8_t)a;
                    }
            } else if (m.H > 0) {
                int f = pick_founder(&m);
                place_rare(&m, f, rare_count(&m, kmax), 1);
                for (int a = 2; a <= n_alt; a++)
                    place_rare(&m, pick_founder(&m), rare_count(&m, kmax / 4 + 1), (uint8_t)a);
            }

            /* fixed columns */
            size_t need = 4 * (size_t)N + 128;
            char *p = out_reserve(&o, need);
            if (!p) {
                rc = pm_err(ctx, PM_EIO, "cannot write '%s'", tpath);
                goto out;
            }
            char *row = p;
            size_t cl = strlen(chrom);
            memcpy(p, chrom, cl);
            p += cl;
            *p++ = '\t';
            p = fmt_u64(p, (uint64_t)pos[i]);
            *p++ = '\t';
            if (rng_unif(&m.rng) < (common ? 0.9 : 0.4)) {
                rsid += 1 + rng_below(&m.rng, 300);
                *p++ = 'r';
                *p++ = 's';
                p = fmt_u64(p, rsid);
            } else {
                *p++ = '.';
            }
            *p++ = '\t';
            size_t rl = strlen(al.ref);
            memcpy(p, al.ref, rl);
            p += rl;
            *p++ = '\t';
            for (int a = 0; a < n_alt; a++) {
                if (a)
                    *p++ = ',';
                size_t l = strlen(al.alt[a]);
                memcpy(p, al.alt[a], l);
                p += l;
            }
            static const char fixed[] = "\t.\tPASS\t.\tGT\t";
            size_t fl = N > 0 ? sizeof fixed - 1 : 9; /* "\t.\tPASS\t." alone */
            memcpy(p, fixed, fl);
            p += fl;

            /* genotype cells */
            char *gt = p;
            if (dense) {
                for (int32_t s = 0; s < N; s++) {
                    int32_t g = S.genome[s];
                    memcpy(gt + 4 * (size_t)s, &cell[m.allele[2 * g]][m.allele[2 * g + 1]], 4);
                }
            } else {
                memcpy(gt, tmpl, 4 * (size_t)N);
                for (int32_t t = 0; t < m.n_touched; t++) {
                    int32_t g = m.touched[t] >> 1;
                    uint32_t v = cell[m.allele[2 * g]][m.allele[2 * g + 1]];
                    for (int32_t k = S.gs_start[g]; k < S.gs_start[g + 1]; k++)
                        memcpy(gt + 4 * (size_t)S.gs_list[k], &v, 4);
                }
                for (int32_t t = 0; t < m.n_touched; t++)
                    m.allele[m.touched[t]] = 0;
            }
            while (next_miss < cell_base + (uint64_t)N) {
                memcpy(gt + 4 * (next_miss - cell_base), &cell_missing, 4);
                if (miss >= 1)
                    next_miss++;
                else
                    next_miss += 1 + (uint64_t)(log(rng_unif_pos(&m.rng)) / log_keep);
            }
            cell_base += (uint64_t)N;
            p = gt + 4 * (size_t)N;
            if (N > 0)
                p[-1] = '\n';
            else
                *p++ = '\n';
            o.len += (size_t)(p - row);
            if (dense)
                memset(m.allele, 0, (size_t)m.H);

            if ((++done & 1023) == 0)
                pm_progress(ctx, "simulate genotypes", (uint64_t)done, (uint64_t)M);
        }
    }
    if (out_flush(&o) < 0) {
        rc = pm_err(ctx, PM_EIO, "cannot write '%s'", tpath);
        goto out;
    }
    {
        BGZF *fp = o.fp;
        o.fp = NULL;
        if (bgzf_close(fp) < 0) {
            rc = pm_err(ctx, PM_EIO, "cannot write '%s'", tpath);
            goto out;
        }
    }
    if (rename(tpath, opath) < 0) {
        rc = pm_err(ctx, PM_EIO, "cannot rename '%s' to '%s': %s", tpath, opath, strerror(errno));
        goto out;
    }
    pm_progress(ctx, "simulate genotypes", (uint64_t)M, (uint64_t)M);
    rc = 0;
out:
    if (o.fp) {
        bgzf_close(o.fp);
        unlink(tpath);
    } else if (rc < 0) {
        unlink(tpath);
    }
    free(o.buf);
    free(tmpl);
    free(pos);
    free_sim(&m);
    samples_free(&S);
    return rc;
}
