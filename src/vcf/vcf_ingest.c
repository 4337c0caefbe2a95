/*
 * vcf_ingest.c - one VCF/BCF file in as one batch (see promise/genotype.h).
 *
 * htslib reads the header (and BCF records), decompresses BGZF with
 * threads and parses any text line the fast path does not recognise. The
 * fast path (vcf_gtparse.c) reads CHROM/POS/ID/REF/ALT and the GT
 * sub-field of each sample directly from the text line. Records go to
 * segment files (a new one per contig and every PM_VCF_SEGMENT_RECORDS
 * records), written with the crash-safe protocol; the catalog rows that
 * make them visible are inserted in one transaction at the end.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <htslib/hts.h>
#include <htslib/kstring.h>
#include <htslib/vcf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "catalog/cat_genotype.h"
#include "catalog/catalog.h"
#include "core/fileio.h"
#include "genotype/gtstore.h"
#include "promise/genotype.h"
#include "vcf/vcf_gtparse.h"
#include "vcf/vcf_internal.h"

#define MAX_LINE ((size_t)1 << 31)   /* longest text line accepted */
#define MAX_ALLELES 4097             /* REF + 4096 ALTs (the segment format's limit) */
#define MAX_PLOIDY 64
#define MAX_NAME 256
#define UNKNOWN_LIST 5               /* unknown sample names listed in the error */

typedef struct contig {
    char name[MAX_NAME]; /* normalised */
    int64_t length;
    int seen;            /* records of this contig have been read */
} contig_t;

typedef struct seg {
    char file[64];
    int contig;
    int64_t first_pos, last_pos, records, variants;
    uint64_t bytes;
} seg_t;

typedef struct ingest {
    pm_store_t *st;
    pm_ctx_t *ctx;
    const char *path;
    const pm_vcf_ingest_opts_t *opts;
    char gtdir[PATH_MAX];
    int64_t batch;

    htsFile *fp;
    bcf_hdr_t *hdr;
    int is_bcf;
    kstring_t line;
    long lineno;      /* text: 1-based line number of the current line */
    int64_t recno;    /* 1-based record number */
    bcf1_t *rec;

    int n_in, n_out;  /* header samples, kept samples */
    int *col_map;     /* header sample -> kept column or -1 */
    int64_t *sample;  /* kept column -> sample row id */

    contig_t *contigs;
    int n_contigs, cap_contigs;
    int cur;          /* current contig index, -1 before the first record */
    char last_chrom[MAX_NAME]; /* raw CHROM of the previous record */
    int last_chrom_len;
    int64_t last_pos;

    /* duplicate check: "REF\tALT" keys of the records at last_pos */
    kstring_t keys;
    int n_keys;

    /* the open segment */
    pm_gtw_t *w;
    int64_t w_records;

    seg_t *segs;
    int n_segs, cap_segs;

    pm_catgt_interval_in_t *callable;
    size_t n_callable, cap_callable;

    /* scratch */
    int32_t *gt_in;   /* htslib's genotypes, all header samples */
    int gt_in_cap;
    int32_t *gt;      /* kept columns */
    size_t gt_cap;
    int ploidy_hint;
    kstring_t strs;   /* ID, REF, ALTs of the fast path, NUL-separated */
    const char **alleles;
    int alleles_cap;

    int64_t records, variants, fast;
    uint64_t bytes;
} ingest_t;

/* "FILE:LINE: " or "FILE: record N: " prefix for record errors. */
static int rec_err(ingest_t *g, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int rec_err(ingest_t *g, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (g->is_bcf)
        return pm_err(g->ctx, code, "%s: record %lld: %s", g->path, (long long)g->recno, msg);
    return pm_err(g->ctx, code, "%s:%ld: %s", g->path, g->lineno, msg);
}

/* "FILE:LINE" of the #CHROM line (text) or "FILE: header" (BCF), for
 * refusals that concern the header. */
static const char *hdr_loc(ingest_t *g, char *buf, size_t cap)
{
    if (g->is_bcf)
        snprintf(buf, cap, "%s: header", g->path);
    else
        snprintf(buf, cap, "%s:%ld", g->path, g->lineno);
    return buf;
}

/* ---- contigs ---- */

static int contig_find(ingest_t *g, const char *name)
{
    for (int i = g->n_contigs - 1; i >= 0; i--)
        if (strcmp(g->contigs[i].name, name) == 0)
            return i;
    return -1;
}

static int contig_add(ingest_t *g, const char *name, int64_t length)
{
    int i = contig_find(g, name);
    if (i >= 0) {
        if (!g->contigs[i].length)
            g->contigs[i].length = length;
        return i;
    }
    if (g->n_contigs == g->cap_contigs) {
        int cap = g->cap_contigs ? 2 * g->cap_contigs : 64;
        contig_t *nc = realloc(g->contigs, (size_t)cap * sizeof *nc);
        if (!nc)
            return pm_err(g->ctx, PM_ENOMEM, "out of memory");
        g->contigs = nc;
        g->cap_contigs = cap;
    }
    contig_t *c = &g->contigs[g->n_contigs];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->length = length;
    return g->n_contigs++;
}

/* ---- garbage collection of STORE/gt ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Removes files in STORE/gt that no committed segment row names: the
 * remains of an ingest that crashed or failed. We hold the writer lock. */
static int collect_garbage(ingest_t *g)
{
    char **names;
    size_t n;
    int rc = pm_catgt_segment_files(g->st, &names, &n);
    if (rc < 0)
        return rc;
    DIR *d = opendir(g->gtdir);
    if (!d) {
        pm_catgt_strv_free(names, n);
        if (errno == ENOENT)
            return pm_mkdir_p(g->ctx, g->gtdir);
        return pm_err(g->ctx, PM_EIO, "cannot open '%s': %s", g->gtdir, strerror(errno));
    }
    struct dirent *e;
    int removed = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        const char *key = e->d_name;
        if (n && bsearch(&key, names, n, sizeof *names, cmp_str))
            continue;
        char p[PATH_MAX];
        if (pm_path(g->ctx, p, sizeof p, "%s/%s", g->gtdir, e->d_name) == 0 && unlink(p) == 0)
            removed++;
    }
    closedir(d);
    pm_catgt_strv_free(names, n);
    return removed ? pm_fsync_dir(g->ctx, g->gtdir) : 0;
}

/* ---- header ---- */

/* Reads a text header line by line (so that record line numbers are
 * exact) and parses it with htslib. */
static int read_text_header(ingest_t *g)
{
    kstring_t txt = {0, 0, NULL};
    int rc = 0, r;
    int found = 0;
    while ((r = hts_getline(g->fp, '\n', &g->line)) >= 0) {
        g->lineno++;
        if (g->line.l == 0 || g->line.s[0] != '#') {
            rc = pm_err(g->ctx, PM_EINPUT,
                        "%s:%ld: not a VCF file: expected a header line starting with '#'",
                        g->path, g->lineno);
            goto out;
        }
        if (kputsn(g->line.s, g->line.l, &txt) < 0 || kputc('\n', &txt) < 0) {
            rc = pm_err(g->ctx, PM_ENOMEM, "out of memory");
            goto out;
        }
        if (g->line.l >= 6 && strncmp(g->line.s, "#CHROM", 6) == 0) {
            found = 1;
            break;
        }
        if (txt.l > ((size_t)1 << 30)) {
            rc = pm_err(g->ctx, PM_ELIMIT, "%s: header larger than 1 GiB", g->path);
            goto out;
        }
    }
    if (r < -1) {
        rc = pm_err(g->ctx, PM_EIO, "%s:%ld: read error (corrupt or truncated file?)", g->path,
                    g->lineno + 1);
        goto out;
    }
    if (!found) {
        rc = pm_err(g->ctx, PM_EINPUT, "%s:%ld: no '#CHROM' header line", g->path,
                    g->lineno + (r == -1 ? 0 : 1));
        goto out;
    }
    if (txt.l < 2 || strncmp(txt.s, "##fileformat=", 13) != 0) {
        rc = pm_err(g->ctx, PM_EINPUT, "%s:1: not a VCF file: no '##fileformat=' line", g->path);
        goto out;
    }
    g->hdr = bcf_hdr_init("r");
    if (!g->hdr) {
        rc = pm_err(g->ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    if (bcf_hdr_parse(g->hdr, txt.s) < 0) {
        rc = pm_err(g->ctx, PM_EINPUT,
                    "%s:%ld: cannot parse the VCF header (duplicate sample names or a malformed "
                    "'##' line?)",
                    g->path, g->lineno);
        goto out;
    }
out:
    free(txt.s);
    return rc;
}

/* Case-insensitive substring search (strcasestr is a GNU extension). */
static int contains_ci(const char *s, const char *pat)
{
    size_t n = strlen(pat);
    for (; *s; s++)
        if (strncasecmp(s, pat, n) == 0)
            return 1;
    return 0;
}

/* The reference build a header declares: "GRCh37", "GRCh38" or NULL. */
static const char *build_of_text(const char *s)
{
    static const struct {
        const char *pat, *build;
    } pats[] = {
        {"grch38", "GRCh38"}, {"hg38", "GRCh38"}, {"hs38", "GRCh38"},   {"b38", "GRCh38"},
        {"grch37", "GRCh37"}, {"hg19", "GRCh37"}, {"hs37", "GRCh37"},   {"b37", "GRCh37"},
        {"g1k_v37", "GRCh37"}, {"ncbi37", "GRCh37"}, {"1kg_v37", "GRCh37"},
    };
    if (!s)
        return NULL;
    for (size_t i = 0; i < sizeof pats / sizeof *pats; i++)
        if (contains_ci(s, pats[i].pat))
            return pats[i].build;
    return NULL;
}

static const char *build_of_length(const char *contig, int64_t len)
{
    static const struct {
        const char *contig;
        int64_t len37, len38;
    } lens[] = {
        {"1", 249250621, 248956422},  {"2", 243199373, 242193529},
        {"22", 51304566, 50818468},   {"X", 155270560, 156040895},
    };
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        if (strcmp(contig, lens[i].contig) != 0)
            continue;
        if (len == lens[i].len37)
            return "GRCh37";
        if (len == lens[i].len38)
            return "GRCh38";
    }
    return NULL;
}

/* Registers the header's contigs (normalised, in order) and finds the
 * build: ##reference, then ##contig assembly=, then known contig lengths. */
static int scan_header(ingest_t *g, const char **build)
{
    const char *by_ref = NULL, *by_asm = NULL, *by_len = NULL;
    for (int i = 0; i < g->hdr->nhrec; i++) {
        bcf_hrec_t *h = g->hdr->hrec[i];
        if (h->type == BCF_HL_GEN && h->key && strcmp(h->key, "reference") == 0) {
            if (!by_ref)
                by_ref = build_of_text(h->value);
        } else if (h->type == BCF_HL_CTG) {
            const char *id = NULL;
            int64_t len = 0;
            for (int k = 0; k < h->nkeys; k++) {
                if (strcmp(h->keys[k], "ID") == 0)
                    id = h->vals[k];
                else if (strcmp(h->keys[k], "length") == 0)
                    len = strtoll(h->vals[k], NULL, 10);
                else if (strcmp(h->keys[k], "assembly") == 0 && !by_asm)
                    by_asm = build_of_text(h->vals[k]);
            }
            if (!id)
                continue;
            char norm[MAX_NAME];
            if (pm_vcf_normalise(id, strlen(id), norm, sizeof norm) < 0)
                return pm_err(g->ctx, PM_EINPUT, "%s: contig name '%.40s...' is too long",
                              g->path, id);
            if (!by_len && len > 0)
                by_len = build_of_length(norm, len);
            int rc = contig_add(g, norm, len > 0 ? len : 0);
            if (rc < 0)
                return rc;
        }
    }
    *build = by_ref ? by_ref : by_asm ? by_asm : by_len;
    return 0;
}

/* ---- samples ---- */

static int map_samples(ingest_t *g)
{
    char loc[PATH_MAX + 32];
    hdr_loc(g, loc, sizeof loc);
    g->n_in = bcf_hdr_nsamples(g->hdr);
    if (g->n_in == 0)
        return pm_err(g->ctx, PM_EINPUT,
                      "%s: no sample columns (a sites-only file): there are no genotypes to load",
                      loc);
    int gt_id = bcf_hdr_id2int(g->hdr, BCF_DT_ID, "GT");
    if (gt_id < 0 || !bcf_hdr_idinfo_exists(g->hdr, BCF_HL_FMT, gt_id))
        return pm_err(g->ctx, PM_EINPUT,
                      "%s: the header declares no GT FORMAT field: only genotype calls (GT) can "
                      "be loaded",
                      loc);
    /* htslib exits the process when asked for GT of another declared type */
    if (bcf_hdr_id2type(g->hdr, BCF_HL_FMT, gt_id) != BCF_HT_STR)
        return pm_err(g->ctx, PM_EINPUT,
                      "%s: the header declares GT with a Type other than String (VCF 4.3 "
                      "section 1.6.2)",
                      loc);
    pm_catgt_sample_t *s = calloc((size_t)g->n_in, sizeof *s);
    g->col_map = malloc((size_t)g->n_in * sizeof *g->col_map);
    g->sample = malloc((size_t)g->n_in * sizeof *g->sample);
    if (!s || !g->col_map || !g->sample) {
        free(s);
        return pm_err(g->ctx, PM_ENOMEM, "out of memory");
    }
    int rc = pm_catgt_lookup_samples(g->st, (const char *const *)g->hdr->samples, g->n_in, s);
    if (rc < 0)
        goto out;
    if (g->opts->source) {
        rc = pm_catgt_source_exists(g->st, g->opts->source);
        if (rc == 0)
            rc = pm_err(g->ctx, PM_EINPUT, "unknown source '%s'", g->opts->source);
        if (rc < 0)
            goto out;
        rc = 0;
    }
    int unknown = 0, wrong = 0;
    char ulist[512] = "", wlist[512] = "";
    for (int i = 0; i < g->n_in; i++) {
        const char *name = g->hdr->samples[i];
        if (s[i].id < 0) {
            if (unknown < UNKNOWN_LIST) {
                size_t l = strlen(ulist);
                snprintf(ulist + l, sizeof ulist - l, "%s'%.60s'", unknown ? ", " : "", name);
            }
            unknown++;
            g->col_map[i] = -1;
            continue;
        }
        if (g->opts->source && strcmp(s[i].source, g->opts->source) != 0) {
            if (wrong < UNKNOWN_LIST) {
                size_t l = strlen(wlist);
                snprintf(wlist + l, sizeof wlist - l, "%s'%.60s' (%.60s)", wrong ? ", " : "",
                         name, s[i].source);
            }
            wrong++;
        }
        g->col_map[i] = g->n_out;
        g->sample[g->n_out++] = s[i].id;
    }
    if (unknown && !g->opts->skip_unknown_samples) {
        rc = pm_err(g->ctx, PM_EINPUT,
                    "%s: %d of %d sample%s not in the samples table: %s%s (load them with "
                    "'promise ingest samples', or use --skip-unknown-samples)",
                    loc, unknown, g->n_in, g->n_in == 1 ? " is" : "s are", ulist,
                    unknown > UNKNOWN_LIST ? ", ..." : "");
        goto out;
    }
    if (wrong) {
        rc = pm_err(g->ctx, PM_EINPUT, "%s: %d sample%s not from source '%s': %s%s", loc,
                    wrong, wrong == 1 ? " is" : "s are", g->opts->source, wlist,
                    wrong > UNKNOWN_LIST ? ", ..." : "");
        goto out;
    }
    if (g->n_out == 0) {
        rc = pm_err(g->ctx, PM_EINPUT, "%s: none of its %d samples is in the samples table",
                    loc, g->n_in);
        goto out;
    }
out:
    free(s);
    return rc;
}

/* ---- callable regions ---- */

static int cmp_iv(const void *a, const void *b)
{
    const pm_catgt_interval_in_t *x = a, *y = b;
    if (x->contig != y->contig)
        return x->contig < y->contig ? -1 : 1;
    return x->beg < y->beg ? -1 : x->beg > y->beg;
}

static int read_callable(ingest_t *g, const char *path)
{
    htsFile *fp = hts_open(path, "r");
    if (!fp)
        return pm_err(g->ctx, PM_EIO, "cannot open '%s': %s", path, strerror(errno));
    kstring_t s = {0, 0, NULL};
    long ln = 0;
    int rc = 0, r;
    while ((r = hts_getline(fp, '\n', &s)) >= 0) {
        ln++;
        if (s.l == 0 || s.s[0] == '#' || strncmp(s.s, "track", 5) == 0 ||
            strncmp(s.s, "browser", 7) == 0)
            continue;
        char *t1 = strchr(s.s, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t1 || !t2 || t1 == s.s) {
            rc = pm_err(g->ctx, PM_EINPUT, "%s:%ld: expected 3 tab-separated columns", path, ln);
            break;
        }
        char *t3 = strchr(t2 + 1, '\t');
        if (t3)
            *t3 = '\0';
        char *e1, *e2;
        errno = 0;
        long long beg = strtoll(t1 + 1, &e1, 10), end = strtoll(t2 + 1, &e2, 10);
        if (e1 != t2 || e1 == t1 + 1 || *e2 || e2 == t2 + 1 || errno || beg < 0 || end < beg) {
            rc = pm_err(g->ctx, PM_EINPUT,
                        "%s:%ld: start and end must be integers with 0 <= start <= end", path,
                        ln);
            break;
        }
        char norm[MAX_NAME];
        if (pm_vcf_normalise(s.s, (size_t)(t1 - s.s), norm, sizeof norm) < 0) {
            rc = pm_err(g->ctx, PM_EINPUT, "%s:%ld: contig name too long", path, ln);
            break;
        }
        if (beg == end)
            continue;
        int ci = contig_add(g, norm, 0);
        if (ci < 0) {
            rc = ci;
            break;
        }
        if (g->n_callable == g->cap_callable) {
            size_t cap = g->cap_callable ? 2 * g->cap_callable : 1024;
            pm_catgt_interval_in_t *n = realloc(g->callable, cap * sizeof *n);
            if (!n) {
                rc = pm_err(g->ctx, PM_ENOMEM, "out of memory");
                break;
            }
            g->callable = n;
            g->cap_callable = cap;
        }
        g->callable[g->n_callable++] = (pm_catgt_interval_in_t){ci, beg, end};
    }
    if (rc == 0 && r < -1)
        rc = pm_err(g->ctx, PM_EIO, "%s:%ld: read error", path, ln + 1);
    free(s.s);
    hts_close(fp);
    if (rc < 0)
        return rc;
    /* sort and merge overlapping or touching intervals */
    qsort(g->callable, g->n_callable, sizeof *g->callable, cmp_iv);
    size_t o = 0;
    for (size_t i = 0; i < g->n_callable; i++) {
        if (o && g->callable[o - 1].contig == g->callable[i].contig &&
            g->callable[i].beg <= g->callable[o - 1].end) {
            if (g->callable[i].end > g->callable[o - 1].end)
                g->callable[o - 1].end = g->callable[i].end;
        } else {
            g->callable[o++] = g->callable[i];
        }
    }
    g->n_callable = o;
    return 0;
}

/* ---- segments ---- */

static int seg_close(ingest_t *g)
{
    if (!g->w)
        return 0;
    pm_gtw_stats_t stats;
    int rc = pm_gtw_commit(g->w, &stats);
    g->w = NULL;
    if (rc < 0)
        return rc;
    seg_t *s = &g->segs[g->n_segs - 1];
    s->first_pos = stats.first_pos;
    s->last_pos = stats.last_pos;
    s->records = (int64_t)stats.records;
    s->variants = (int64_t)stats.variants;
    s->bytes = stats.bytes;
    g->bytes += stats.bytes;
    return 0;
}

static int seg_open(ingest_t *g)
{
    if (g->n_segs == g->cap_segs) {
        int cap = g->cap_segs ? 2 * g->cap_segs : 32;
        seg_t *n = realloc(g->segs, (size_t)cap * sizeof *n);
        if (!n)
            return pm_err(g->ctx, PM_ENOMEM, "out of memory");
        g->segs = n;
        g->cap_segs = cap;
    }
    seg_t *s = &g->segs[g->n_segs];
    memset(s, 0, sizeof *s);
    snprintf(s->file, sizeof s->file, "b%06lld-%05d.gts", (long long)g->batch, g->n_segs);
    s->contig = g->cur;
    char p[PATH_MAX];
    int rc = pm_path(g->ctx, p, sizeof p, "%s/%s", g->gtdir, s->file);
    if (rc < 0)
        return rc;
    rc = pm_gtw_open(g->ctx, p, g->contigs[g->cur].name, (uint32_t)g->n_out, &g->w);
    if (rc < 0)
        return rc;
    g->n_segs++;
    g->w_records = 0;
    return 0;
}

/* Removes the segment files this ingest committed (on failure). */
static void seg_remove_all(ingest_t *g)
{
    pm_gtw_abort(g->w);
    g->w = NULL;
    for (int i = 0; i < g->n_segs; i++) {
        char p[PATH_MAX];
        if (snprintf(p, sizeof p, "%s/%s", g->gtdir, g->segs[i].file) < (int)sizeof p)
            unlink(p);
    }
}

/* ---- records ---- */

static int check_duplicate(ingest_t *g, const char *ref, const char *const *alt, int n_alt)
{
    for (int a = 0; a < n_alt; a++) {
        size_t rl = strlen(ref), al = strlen(alt[a]);
        const char *k = g->keys.s;
        for (int i = 0; i < g->n_keys; i++) {
            size_t kl = strlen(k);
            if (kl == rl + 1 + al && memcmp(k, ref, rl) == 0 && k[rl] == '\t' &&
                memcmp(k + rl + 1, alt[a], al) == 0)
                return rec_err(g, PM_EINPUT,
                               "duplicate variant %s:%lld %s>%s (it occurs twice in this file; "
                               "merge or remove duplicates, e.g. with 'bcftools norm -d exact')",
                               g->contigs[g->cur].name, (long long)g->last_pos, ref, alt[a]);
            k += kl + 1;
        }
    }
    for (int a = 0; a < n_alt; a++) {
        if (kputs(ref, &g->keys) < 0 || kputc('\t', &g->keys) < 0 || kputs(alt[a], &g->keys) < 0 ||
            kputc('\0', &g->keys) < 0)
            return pm_err(g->ctx, PM_ENOMEM, "out of memory");
        g->n_keys++;
    }
    return 0;
}

/* Every entry is vector_end, missing or an allele < n_allele; negative
 * entries other than vector_end are the writer's to reject. Branch-free
 * so that it vectorises (it runs over every genotype). */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("O3")))
#endif
static int alleles_ok(const int32_t *gt, size_t n, int n_allele)
{
    const int32_t lim = 2 * n_allele + 1; /* (v >> 1) - 1 < n_allele */
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= (uint32_t)(gt[i] > lim);
    return !bad;
}

/* Takes one record: contig and order checks, allele checks, then the
 * segment writer. chrom is the raw name; gt has n_out * ploidy entries. */
static int add_record(ingest_t *g, const char *chrom, size_t chrom_len, int64_t pos,
                      const char *id, const char *const *alleles, int n_allele, const int32_t *gt,
                      int ploidy)
{
    int rc;
    if (n_allele < 1 || n_allele > MAX_ALLELES)
        return rec_err(g, PM_EINPUT, "%d alleles (at most %d are supported)", n_allele,
                       MAX_ALLELES);
    if (ploidy > MAX_PLOIDY)
        return rec_err(g, PM_EINPUT, "ploidy %d (at most %d is supported)", ploidy, MAX_PLOIDY);
    /* contig: the same raw name as before is the same contig */
    if (g->cur < 0 || (size_t)g->last_chrom_len != chrom_len ||
        memcmp(g->last_chrom, chrom, chrom_len) != 0) {
        char norm[MAX_NAME];
        if (chrom_len >= sizeof g->last_chrom ||
            pm_vcf_normalise(chrom, chrom_len, norm, sizeof norm) < 0)
            return rec_err(g, PM_EINPUT, "contig name longer than %d characters", MAX_NAME - 1);
        int ci = contig_find(g, norm);
        if (g->cur < 0 || ci != g->cur) {
            if (ci >= 0 && g->contigs[ci].seen)
                return rec_err(g, PM_EINPUT,
                               "unsorted input: contig '%s' appears again after '%s' (sort the "
                               "file, e.g. with 'bcftools sort')",
                               norm, g->contigs[g->cur].name);
            if (ci < 0 && (ci = contig_add(g, norm, 0)) < 0)
                return ci;
            if ((rc = seg_close(g)) < 0)
                return rc;
            g->cur = ci;
            g->contigs[ci].seen = 1;
            g->last_pos = INT64_MIN;
        }
        memcpy(g->last_chrom, chrom, chrom_len);
        g->last_chrom_len = (int)chrom_len;
    }
    if (pos < g->last_pos)
        return rec_err(g, PM_EINPUT,
                       "unsorted input: %s:%lld comes after %s:%lld (sort the file, e.g. with "
                       "'bcftools sort')",
                       g->contigs[g->cur].name, (long long)pos, g->contigs[g->cur].name,
                       (long long)g->last_pos);
    if (pos != g->last_pos) {
        g->keys.l = 0;
        g->n_keys = 0;
        g->last_pos = pos;
    }
    static const char *const no_alt[] = {"."};
    const char *const *alt = n_allele > 1 ? alleles + 1 : no_alt;
    int n_alt = n_allele > 1 ? n_allele - 1 : 1;
    if ((rc = check_duplicate(g, alleles[0], alt, n_alt)) < 0)
        return rc;
    /* allele indices must name an allele of the record */
    size_t n = (size_t)g->n_out * (size_t)ploidy;
    if (alleles_ok(gt, n, n_allele))
        n = 0; /* the usual case: no need for the loop that finds the culprit */
    for (size_t i = 0; i < n; i++) {
        int32_t v = gt[i];
        if (v == PM_GT_VECTOR_END || (v >> 1) == 0)
            continue;
        if ((v >> 1) - 1 >= n_allele) {
            int col = (int)(i / (size_t)ploidy), in = 0;
            for (int k = 0; k < g->n_in; k++)
                if (g->col_map[k] == col)
                    in = k;
            return rec_err(g, PM_EINPUT,
                           "sample '%s': GT allele %d but the record has only %d allele%s",
                           g->hdr->samples[in], (v >> 1) - 1, n_allele, n_allele == 1 ? "" : "s");
        }
    }
    if (!g->w || g->w_records >= PM_VCF_SEGMENT_RECORDS) {
        if ((rc = seg_close(g)) < 0 || (rc = seg_open(g)) < 0)
            return rc;
    }
    pm_gt_record_t r = {pos, id, alleles[0], alt, n_alt, ploidy, gt};
    if ((rc = pm_gtw_add(g->w, &r)) < 0)
        return rc;
    g->w_records++;
    g->records++;
    g->variants += n_alt;
    if ((g->records & 0xffff) == 0)
        pm_progress(g->ctx, "records", (uint64_t)g->records, 0);
    return 0;
}

/* A record htslib parsed (BCF, or a text line off the fast path). */
static int add_bcf_record(ingest_t *g)
{
    bcf1_t *v = g->rec;
    if (v->errcode)
        return rec_err(g, PM_EINPUT, "invalid record (htslib error code %d)", v->errcode);
    if (bcf_unpack(v, BCF_UN_STR) < 0)
        return rec_err(g, PM_EINPUT, "cannot unpack the record");
    const char *chrom = bcf_seqname(g->hdr, v);
    if (!chrom)
        return rec_err(g, PM_EINPUT, "contig id %d is not in the header", v->rid);
    /* htslib exits the process when GT's values are of an unexpected
     * type (e.g. a record whose samples are all '.'): check first */
    bcf_fmt_t *gtf = bcf_get_fmt(g->hdr, v, "GT");
    int gt_null = gtf && gtf->type == BCF_BT_NULL; /* every sample '.': all missing */
    if (gtf && !gt_null && gtf->type != BCF_BT_INT8 && gtf->type != BCF_BT_INT16 &&
        gtf->type != BCF_BT_INT32)
        return rec_err(g, PM_EINPUT, "GT values that are not genotype calls (htslib type %d)",
                       gtf->type);
    int ngt = gt_null ? -1 : bcf_get_genotypes(g->hdr, v, &g->gt_in, &g->gt_in_cap);
    int ploidy;
    size_t need;
    if (ngt < 0) {
        /* no GT in this record: every call missing */
        ploidy = 1;
        need = (size_t)g->n_out;
        if (need > g->gt_cap) {
            int32_t *n = realloc(g->gt, need * sizeof *n);
            if (!n)
                return pm_err(g->ctx, PM_ENOMEM, "out of memory");
            g->gt = n;
            g->gt_cap = need;
        }
        for (size_t i = 0; i < need; i++)
            g->gt[i] = PM_GT_MISSING;
    } else {
        ploidy = ngt / g->n_in;
        if (ploidy < 1 || ploidy * g->n_in != ngt)
            return rec_err(g, PM_EINPUT, "malformed GT field");
        need = (size_t)g->n_out * (size_t)ploidy;
        if (need > g->gt_cap) {
            int32_t *n = realloc(g->gt, need * sizeof *n);
            if (!n)
                return pm_err(g->ctx, PM_ENOMEM, "out of memory");
            g->gt = n;
            g->gt_cap = need;
        }
        for (int i = 0; i < g->n_in; i++) {
            int o = g->col_map[i];
            if (o >= 0)
                memcpy(g->gt + (size_t)o * (size_t)ploidy, g->gt_in + (size_t)i * (size_t)ploidy,
                       (size_t)ploidy * sizeof(int32_t));
        }
    }
    const char *id = v->d.id && strcmp(v->d.id, ".") != 0 ? v->d.id : ".";
    return add_record(g, chrom, strlen(chrom), (int64_t)v->pos + 1, id,
                      (const char *const *)v->d.allele, v->n_allele, g->gt, ploidy);
}

/* The fast path for one text line; 1 = done, 0 = use htslib, <0 error. */
static int add_fast(ingest_t *g)
{
    pm_vcf_cols_t c;
    const char *line = g->line.s, *end = line + g->line.l;
    if (!pm_vcf_split(line, g->line.l, &c) || !c.samples || !c.gt_first)
        return 0;
    int ploidy = g->ploidy_hint;
    if (!pm_vcf_parse_gt(c.samples, end, g->n_in, g->col_map, g->n_out, c.n_fmt, &g->gt, &g->gt_cap,
                         &ploidy))
        return 0;
    g->ploidy_hint = ploidy;
    /* NUL-terminated copies of ID, REF and the ALTs */
    g->strs.l = 0;
    if (c.n_allele > g->alleles_cap) {
        int cap = c.n_allele + 16;
        const char **n = realloc(g->alleles, (size_t)cap * sizeof *n);
        if (!n)
            return pm_err(g->ctx, PM_ENOMEM, "out of memory");
        g->alleles = n;
        g->alleles_cap = cap;
    }
    if (kputsn(c.id, (size_t)c.id_len, &g->strs) < 0 || kputc('\0', &g->strs) < 0 ||
        kputsn(c.ref, (size_t)c.ref_len, &g->strs) < 0 || kputc('\0', &g->strs) < 0 ||
        kputsn(c.alt, (size_t)c.alt_len, &g->strs) < 0 || kputc('\0', &g->strs) < 0)
        return pm_err(g->ctx, PM_ENOMEM, "out of memory");
    char *s = g->strs.s;
    const char *id = s;
    char *ref = s + c.id_len + 1;
    char *alt = ref + c.ref_len + 1;
    g->alleles[0] = ref;
    int na = 1;
    if (c.n_allele > 1) {
        g->alleles[na++] = alt;
        for (char *q = alt; *q; q++) {
            if (*q == ',') {
                *q = '\0';
                g->alleles[na++] = q + 1;
            }
        }
    }
    g->fast++;
    int rc = add_record(g, c.chrom, (size_t)c.chrom_len, c.pos, id, g->alleles, c.n_allele, g->gt,
                        ploidy);
    return rc < 0 ? rc : 1;
}

static int read_records(ingest_t *g)
{
    int rc = 0, r;
    if (g->is_bcf) {
        while ((r = bcf_read(g->fp, g->hdr, g->rec)) == 0) {
            g->recno++;
            if ((rc = add_bcf_record(g)) < 0)
                return rc;
        }
        if (r < -1)
            return pm_err(g->ctx, PM_EINPUT, "%s: record %lld: corrupt or truncated BCF", g->path,
                          (long long)g->recno + 1);
        return 0;
    }
    while ((r = hts_getline(g->fp, '\n', &g->line)) >= 0) {
        g->lineno++;
        if (g->line.l == 0)
            continue;
        if (g->line.l > MAX_LINE)
            return rec_err(g, PM_ELIMIT, "line longer than %zu bytes", MAX_LINE);
        if (g->line.s[0] == '#')
            return rec_err(g, PM_EINPUT, "header line after the first record");
        g->recno++;
        rc = add_fast(g);
        if (rc < 0)
            return rc;
        if (rc == 1)
            continue;
        /* htslib parses what the fast path does not */
        if (vcf_parse(&g->line, g->hdr, g->rec) < 0)
            return rec_err(g, PM_EINPUT,
                           "cannot parse the record (malformed line; htslib could not read it)");
        if ((rc = add_bcf_record(g)) < 0)
            return rc;
    }
    if (r < -1)
        return rec_err(g, PM_EIO, "read error (corrupt or truncated file?)");
    return 0;
}

static void ingest_free(ingest_t *g)
{
    if (g->fp)
        hts_close(g->fp);
    bcf_hdr_destroy(g->hdr);
    bcf_destroy(g->rec);
    free(g->line.s);
    free(g->keys.s);
    free(g->strs.s);
    free(g->alleles);
    free(g->col_map);
    free(g->sample);
    free(g->contigs);
    free(g->segs);
    free(g->callable);
    free(g->gt_in);
    free(g->gt);
}

int pm_ingest_vcf(pm_store_t *st, const char *path, const pm_vcf_ingest_opts_t *opts,
                  pm_vcf_ingest_result_t *res)
{
    static const pm_vcf_ingest_opts_t no_opts;
    pm_ctx_t *ctx = pm_store_ctx(st);
    ingest_t g;
    memset(&g, 0, sizeof g);
    g.st = st;
    g.ctx = ctx;
    g.path = path;
    g.opts = opts ? opts : &no_opts;
    g.cur = -1;
    g.last_pos = INT64_MIN;
    if (res)
        memset(res, 0, sizeof *res);
    pm_vcf_quiet_htslib();

    int rc = pm_path(ctx, g.gtdir, sizeof g.gtdir, "%s/gt", pm_store_path(st));
    if (rc < 0)
        return rc;
    char store_build[32] = "";
    if ((rc = pm_catalog_meta_get(st, "reference_build", store_build, sizeof store_build)) < 0)
        return rc;
    if ((rc = collect_garbage(&g)) < 0 || (rc = pm_catgt_next_batch_id(st, &g.batch)) < 0)
        return rc;

    g.fp = hts_open(path, "r");
    if (!g.fp) {
        rc = pm_err(ctx, errno == ENOENT ? PM_ENOTFOUND : PM_EIO, "cannot open '%s': %s", path,
                    strerror(errno ? errno : EIO));
        goto out;
    }
    const htsFormat *fmt = hts_get_format(g.fp);
    if (fmt->format != vcf && fmt->format != bcf) {
        if (fmt->category == unknown_category || fmt->format == text_format ||
            fmt->format == unknown_format)
            rc = pm_err(ctx, PM_EINPUT,
                        "%s:1: not a VCF or BCF file (no '##fileformat=VCFv4.x' header line)",
                        path);
        else
            rc = pm_err(ctx, PM_EINPUT, "'%s' is not a VCF or BCF file", path);
        goto out;
    }
    g.is_bcf = fmt->format == bcf;
    int threads = g.opts->threads > 0 ? g.opts->threads : pm_ctx_threads(ctx);
    if (threads > 1 && fmt->compression == bgzf)
        hts_set_threads(g.fp, threads);
    if (g.is_bcf) {
        g.hdr = bcf_hdr_read(g.fp);
        if (!g.hdr) {
            rc = pm_err(ctx, PM_EINPUT, "%s: cannot read the BCF header", path);
            goto out;
        }
    } else if ((rc = read_text_header(&g)) < 0) {
        goto out;
    }
    if (!(g.rec = bcf_init())) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    const char *build = NULL;
    if ((rc = scan_header(&g, &build)) < 0 || (rc = map_samples(&g)) < 0)
        goto out;
    const char *record_build = NULL; /* what to write into the catalog */
    if (store_build[0] && strcmp(store_build, "unknown") != 0) {
        if (build && strcmp(build, store_build) != 0) {
            char loc[PATH_MAX + 32];
            rc = pm_err(ctx, PM_EINPUT,
                        "%s: the file is on reference build %s but the store holds %s: refusing "
                        "to mix builds",
                        hdr_loc(&g, loc, sizeof loc), build, store_build);
            goto out;
        }
    } else if (build) {
        record_build = build;
    } else if (!store_build[0]) {
        record_build = "unknown";
    }
    if (g.opts->callable && (rc = read_callable(&g, g.opts->callable)) < 0)
        goto out;

    if ((rc = read_records(&g)) < 0 || (rc = seg_close(&g)) < 0)
        goto out;
    pm_progress(ctx, "records", (uint64_t)g.records, (uint64_t)g.records);

    /* make it visible: one transaction */
    pm_catgt_contig_in_t *cin = calloc((size_t)g.n_contigs + 1, sizeof *cin);
    pm_catgt_segment_in_t *sin = calloc((size_t)g.n_segs + 1, sizeof *sin);
    if (!cin || !sin) {
        free(cin);
        free(sin);
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < g.n_contigs; i++)
        cin[i] = (pm_catgt_contig_in_t){g.contigs[i].name, g.contigs[i].length};
    for (int i = 0; i < g.n_segs; i++)
        sin[i] = (pm_catgt_segment_in_t){g.segs[i].file,      g.segs[i].contig,
                                         g.segs[i].first_pos, g.segs[i].last_pos,
                                         g.segs[i].records,   g.segs[i].variants,
                                         g.segs[i].bytes};
    pm_catgt_batch_in_t b = {
        .id = g.batch,
        .file = path,
        .source = g.opts->source,
        .build = record_build,
        .n_samples = g.n_out,
        .sample = g.sample,
        .records = g.records,
        .variants = g.variants,
        .contigs = cin,
        .n_contigs = g.n_contigs,
        .segs = sin,
        .n_segs = g.n_segs,
        .has_callable = g.opts->callable != NULL,
        .callable = g.callable,
        .n_callable = g.n_callable,
    };
    if ((rc = pm_catalog_begin(st)) == 0) {
        rc = pm_catgt_register(st, &b);
        if (rc == 0)
            rc = pm_catalog_commit(st);
        else
            pm_catalog_rollback(st);
    }
    free(cin);
    free(sin);
    if (rc < 0)
        goto out;
    if (res) {
        res->batch = g.batch;
        res->samples = g.n_out;
        res->skipped_samples = g.n_in - g.n_out;
        res->records = g.records;
        res->variants = g.variants;
        res->segments = g.n_segs;
        res->fast_records = g.fast;
        res->bytes = g.bytes;
        snprintf(res->reference_build, sizeof res->reference_build, "%s",
                 record_build ? record_build : store_build[0] ? store_build : "unknown");
    }
out:
    if (rc < 0)
        seg_remove_all(&g);
    ingest_free(&g);
    return rc;
}
