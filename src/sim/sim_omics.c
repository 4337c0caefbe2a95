/*
 * sim_omics.c - a synthetic Olink proteomics matrix for a simulated data
 * set (promise/simulate.h): OUTDIR/olink.tsv, the matrix format of
 * 'promise ingest omics --format matrix' (feature_id, then one column per
 * sample_id), for every olink sample of OUTDIR/samples.tsv.
 *
 * Values are NPX-like (log2 scale): per protein a mean and spread, a
 * shared inflammation factor per sample, and mild effects of age at
 * collection, sex and type 2 diabetes (an E11 diagnosis in
 * OUTDIR/registry.tsv before the collection date): IL6, CRP, FGF21,
 * LEP, GDF15 ... go up with E11, ADIPOQ and IGFBP2 go down. About 1% of
 * values are NA, more for the proteins near their limit of detection.
 * Deterministic per seed.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "promise/simulate.h"
#include "sim/sim_rng.h"

/* ---- random numbers (as sim_population.c) ---- */

/* rng_t and friends: sim/sim_rng.h */

/* "YYYY-MM-DD" -> YYYYMMDD, 0 when empty or malformed. */
static int parse_ymd(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    int v = 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7) {
            if (s[i] < '0' || s[i] > '9')
                return 0;
            v = v * 10 + (s[i] - '0');
        }
    return v;
}

/* ---- the proteins ---- */

static const struct protein {
    const char *name;
    double mean, sd;
    double age, male, e11; /* NPX per 10 years of age, for men, with E11 */
    double infl;           /* loading on the inflammation factor */
    double na;             /* fraction missing (below LOD) */
} proteins[] = {
    {"IL6", 2.9, 0.9, 0.18, 0.05, 0.35, 0.6, 0.02},
    {"CRP", 8.5, 1.6, 0.15, -0.1, 0.6, 0.7, 0.01},
    {"TNF", 2.1, 0.6, 0.08, 0.05, 0.15, 0.5, 0.08},
    {"CXCL8", 5.2, 0.8, 0.10, 0.1, 0.1, 0.4, 0.01},
    {"CCL2", 9.9, 0.5, 0.12, 0.1, 0.1, 0.3, 0.005},
    {"IL18", 8.1, 0.6, 0.05, 0.15, 0.2, 0.4, 0.005},
    {"IL10", 3.0, 0.8, 0.06, 0.0, 0.05, 0.3, 0.12},
    {"IL1RN", 6.4, 0.9, 0.05, 0.0, 0.3, 0.5, 0.01},
    {"IL17A", 1.4, 0.7, 0.02, 0.1, 0.0, 0.2, 0.2},
    {"CXCL10", 8.8, 0.8, 0.15, 0.0, 0.1, 0.4, 0.005},
    {"TNFRSF1A", 5.3, 0.4, 0.20, 0.0, 0.25, 0.3, 0.005},
    {"TNFRSF1B", 6.5, 0.4, 0.22, 0.0, 0.3, 0.3, 0.005},
    {"VEGFA", 10.2, 0.6, 0.03, 0.05, 0.05, 0.2, 0.005},
    {"HGF", 7.7, 0.5, 0.10, -0.05, 0.2, 0.3, 0.005},
    {"MMP9", 12.5, 0.9, 0.05, 0.2, 0.1, 0.3, 0.005},
    {"MMP12", 6.0, 0.8, 0.18, 0.25, 0.05, 0.2, 0.01},
    {"GDF15", 7.4, 0.6, 0.35, 0.05, 0.4, 0.2, 0.005},
    {"FGF21", 5.0, 1.2, 0.10, 0.05, 0.8, 0.1, 0.03},
    {"FGF23", 4.1, 0.7, 0.08, 0.0, 0.1, 0.1, 0.04},
    {"LEP", 9.0, 1.3, 0.05, -1.2, 0.7, 0.1, 0.005},
    {"ADIPOQ", 11.0, 0.7, 0.10, -0.5, -0.4, 0.0, 0.005},
    {"IGFBP1", 7.2, 1.0, 0.08, 0.0, -0.3, 0.0, 0.01},
    {"IGFBP2", 8.9, 0.8, 0.15, 0.0, -0.35, 0.0, 0.005},
    {"INS", 4.6, 1.0, 0.0, 0.1, 0.5, 0.0, 0.05},
    {"PON3", 6.8, 0.5, -0.05, 0.05, -0.15, 0.0, 0.005},
    {"LPL", 5.6, 0.6, -0.05, -0.1, -0.2, 0.0, 0.01},
    {"NPPB", 4.0, 1.3, 0.40, -0.2, 0.15, 0.1, 0.06},
    {"NTproBNP", 5.5, 1.4, 0.45, -0.25, 0.15, 0.1, 0.02},
    {"TNNI3", 2.2, 1.0, 0.20, 0.2, 0.1, 0.0, 0.25},
    {"REN", 7.0, 0.9, 0.05, 0.1, 0.2, 0.0, 0.01},
    {"ACE2", 3.5, 0.8, 0.05, 0.3, 0.25, 0.0, 0.05},
    {"PLAUR", 8.0, 0.4, 0.12, 0.0, 0.2, 0.4, 0.005},
    {"SELE", 10.3, 0.6, 0.02, 0.15, 0.3, 0.2, 0.005},
    {"SELP", 11.2, 0.6, 0.0, 0.05, 0.05, 0.1, 0.005},
    {"ICAM1", 10.0, 0.4, 0.05, 0.0, 0.15, 0.3, 0.005},
    {"VCAM1", 9.5, 0.4, 0.10, 0.0, 0.1, 0.2, 0.005},
    {"PGF", 6.9, 0.5, 0.10, 0.0, 0.05, 0.2, 0.005},
    {"CST3", 9.2, 0.4, 0.20, 0.1, 0.15, 0.1, 0.005},
    {"KIM1", 3.8, 1.0, 0.15, 0.05, 0.3, 0.1, 0.1},
    {"LGALS3", 7.3, 0.5, 0.10, 0.0, 0.1, 0.2, 0.005},
    {"SPP1", 6.2, 0.6, 0.08, 0.0, 0.1, 0.3, 0.005},
    {"CHI3L1", 7.9, 1.0, 0.25, 0.0, 0.2, 0.5, 0.005},
    {"PAPPA", 4.3, 0.6, 0.05, 0.1, 0.0, 0.1, 0.02},
    {"MB", 8.6, 0.7, 0.10, 0.4, 0.05, 0.0, 0.005},
    {"NEFL", 3.2, 0.9, 0.45, 0.05, 0.1, 0.0, 0.06},
    {"GFAP", 4.8, 1.0, 0.40, -0.05, 0.0, 0.0, 0.04},
    {"KLK3", 6.0, 2.0, 0.30, 3.0, 0.0, 0.0, 0.1},
    {"PRL", 7.5, 0.8, -0.05, -0.4, 0.0, 0.0, 0.01},
    {"CD40", 9.7, 0.4, 0.02, 0.0, 0.05, 0.3, 0.005},
    {"EGFR", 6.1, 0.3, -0.05, 0.1, 0.0, 0.0, 0.005},
};
#define N_PROTEINS (sizeof proteins / sizeof *proteins)

/* ---- olink samples and their people ---- */

typedef struct sample {
    char id[32];
    char pnr[16];
    int date;           /* YYYYMMDD */
    int birth, e11;     /* YYYYMMDD of birth and the first E11 (0 = none) */
    char sex;
} sample_t;

typedef struct set {
    sample_t *s;
    size_t n, cap;
    int32_t *tab; /* open addressing on pnr -> first sample with it; -1 empty */
    size_t tcap;
    int32_t *next; /* further samples of the same person */
} set_t;

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static int32_t *slot(set_t *t, const char *pnr)
{
    size_t i = (size_t)hash(pnr) & (t->tcap - 1);
    while (t->tab[i] >= 0 && strcmp(t->s[t->tab[i]].pnr, pnr))
        i = (i + 1) & (t->tcap - 1);
    return &t->tab[i];
}

static int index_set(set_t *t)
{
    t->tcap = 16;
    while (t->tcap < t->n * 2 + 16)
        t->tcap *= 2;
    t->tab = malloc(t->tcap * sizeof *t->tab);
    t->next = malloc((t->n + 1) * sizeof *t->next);
    if (!t->tab || !t->next)
        return -1;
    memset(t->tab, 0xff, t->tcap * sizeof *t->tab);
    for (size_t i = 0; i < t->n; i++) {
        int32_t *sl = slot(t, t->s[i].pnr);
        t->next[i] = *sl;
        *sl = (int32_t)i;
    }
    return 0;
}

static int split(char *line, char **f, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *s = line; n < max;) {
        f[n++] = s;
        char *t = strchr(s, '\t');
        if (!t)
            break;
        *t = '\0';
        s = t + 1;
    }
    return n;
}

/* Calls fn for each data row of OUTDIR/NAME; a missing file is an error
 * unless optional. */
static int each_row(pm_ctx_t *ctx, const char *outdir, const char *name, int optional,
                    int (*fn)(set_t *, char **, int), set_t *t)
{
    char path[4096];
    int rc = pm_path(ctx, path, sizeof path, "%s/%s", outdir, name);
    if (rc < 0)
        return rc;
    FILE *in = fopen(path, "r");
    if (!in)
        return optional && errno == ENOENT
                   ? 0
                   : pm_err(ctx, PM_EIO, "cannot read '%s': %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    long row = 0;
    while (rc == 0 && getline(&line, &cap, in) > 0) {
        char *f[8];
        if (row++ == 0)
            continue;
        int n = split(line, f, 8);
        if ((rc = fn(t, f, n)) < 0)
            rc = pm_err(ctx, rc, "%s:%ld: not a simulated row", path, row);
    }
    free(line);
    fclose(in);
    return rc;
}

static int on_sample(set_t *t, char **f, int n)
{
    if (n < 7)
        return PM_EINPUT;
    if (strcmp(f[3], "olink"))
        return 0;
    if (t->n == t->cap) {
        size_t c = t->cap ? t->cap * 2 : 1024;
        sample_t *s = realloc(t->s, c * sizeof *s);
        if (!s)
            return PM_ENOMEM;
        t->s = s;
        t->cap = c;
    }
    sample_t *s = &t->s[t->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s", f[0]);
    snprintf(s->pnr, sizeof s->pnr, "%s", f[1]);
    s->date = parse_ymd(f[6]);
    return 0;
}

static int on_person(set_t *t, char **f, int n)
{
    if (n < 3)
        return PM_EINPUT;
    for (int32_t i = *slot(t, f[0]); i >= 0; i = t->next[i]) {
        t->s[i].sex = f[1][0];
        t->s[i].birth = parse_ymd(f[2]);
    }
    return 0;
}

static int on_event(set_t *t, char **f, int n)
{
    if (n < 4 || strcmp(f[2], "patient") || strncmp(f[3], "E11", 3))
        return 0;
    int d = parse_ymd(f[1]);
    for (int32_t i = *slot(t, f[0]); i >= 0; i = t->next[i])
        if (!t->s[i].e11 || d < t->s[i].e11)
            t->s[i].e11 = d;
    return 0;
}

/* ---- buffered atomic output ---- */

typedef struct out {
    pm_afile_t *f;
    char buf[1 << 16];
    size_t len;
    int rc;
} out_t;

static void out_flush(out_t *o)
{
    if (o->rc == 0 && o->len)
        o->rc = pm_afile_write(o->f, o->buf, o->len);
    o->len = 0;
}

static void out_printf(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(out_t *o, const char *fmt, ...)
{
    if (sizeof o->buf - o->len < 512)
        out_flush(o);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, sizeof o->buf - o->len, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof o->buf - o->len)
        o->len += (size_t)n;
}

int pm_sim_omics(pm_ctx_t *ctx, const char *outdir, const pm_sim_opts_t *opts)
{
    if (!opts)
        return pm_err(ctx, PM_EUSAGE, "no simulation options");
    set_t t = {0};
    out_t *o = NULL;
    double *factor = NULL;
    int rc = each_row(ctx, outdir, "samples.tsv", 0, on_sample, &t);
    if (rc == 0 && index_set(&t) < 0)
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
    if (rc == 0)
        rc = each_row(ctx, outdir, "population.tsv", 0, on_person, &t);
    if (rc == 0)
        rc = each_row(ctx, outdir, "registry.tsv", 1, on_event, &t);
    if (rc < 0)
        goto out;
    o = calloc(1, sizeof *o);
    factor = malloc((t.n + 1) * sizeof *factor);
    if (!o || !factor) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    rng_t r;
    uint64_t x = opts->seed ^ 0x4f6c696e6b4e5058ull;
    rng_seed(&r, splitmix64(&x));
    for (size_t j = 0; j < t.n; j++)
        factor[j] = rng_normal(&r);
    char path[4096];
    if ((rc = pm_path(ctx, path, sizeof path, "%s/olink.tsv", outdir)) < 0 ||
        (rc = pm_afile_open(ctx, path, 0644, &o->f)) < 0)
        goto out;
    out_printf(o, "feature_id");
    for (size_t j = 0; j < t.n; j++)
        out_printf(o, "\t%s", t.s[j].id);
    out_printf(o, "\n");
    for (size_t k = 0; k < N_PROTEINS && rc == 0; k++) {
        const struct protein *p = &proteins[k];
        out_printf(o, "%s", p->name);
        for (size_t j = 0; j < t.n; j++) {
            const sample_t *s = &t.s[j];
            double noise = rng_normal(&r), u = rng_unif(&r);
            if (u < p->na + 0.005) {
                out_printf(o, "\tNA");
                continue;
            }
            double age = s->birth && s->date ? (s->date - s->birth) / 10000 : 55;
            int e11 = s->e11 && s->e11 <= s->date;
            double v = p->mean + p->age * (age - 55) / 10 + (s->sex == 'M' ? p->male : 0) +
                       (e11 ? p->e11 : 0) + p->sd * (p->infl * factor[j] +
                                                     sqrt(1 - p->infl * p->infl) * noise);
            out_printf(o, "\t%.3f", v);
        }
        out_printf(o, "\n");
        rc = o->rc;
    }
    if (rc == 0) {
        out_flush(o);
        rc = o->rc;
    }
    if (rc == 0) {
        rc = pm_afile_commit(o->f);
        o->f = NULL;
    }
out:
    if (o)
        pm_afile_abort(o->f);
    free(o);
    free(factor);
    free(t.s);
    free(t.tab);
    free(t.next);
    return rc < 0 ? rc : 0;
}
