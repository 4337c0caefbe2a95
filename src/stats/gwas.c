/*
 * gwas.c - genome-wide association over a store (promise/gwas.h).
 *
 * Phenotypes and covariates are assembled per individual through the
 * public APIs of the cohort, registry and omics modules; the null models
 * are fitted once (pm_glm_new); then the genotype site iterator is walked
 * once, in batches: the main thread copies a batch of sites, worker
 * threads test them against every phenotype, and the main thread writes
 * the rows in order, applying the release policy. See docs/gwas.md.
 */
#include <cblas.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/cat_cohort.h"
#include "cohort/cohort_int.h"
#include "promise/bitset.h"
#include "promise/cohort.h"
#include "promise/genotype.h"
#include "promise/gwas.h"
#include "promise/omics.h"
#include "promise/pca.h"
#include "promise/policy.h"
#include "promise/registry.h"
#include "promise/stats.h"

#define GW_MAX_AGE 200 /* the cohort language takes ages 0..200 */
#define GW_BATCH_SITES 4096
#define GW_BATCH_ENTRIES (8u << 20)
#define GW_CHUNK 64 /* sites a worker takes at a time */
#define GW_NCHUNK ((GW_BATCH_SITES + GW_CHUNK - 1) / GW_CHUNK)

static char *gw_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static double gw_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---------------------------------------------------------------- */
/* per-individual attributes from cohort terms                       */

static int gw_eval(pm_store_t *st, const pm_cohort_opts_t *co, const char *expr,
                   pm_bitset_t **out)
{
    return pm_cohort_eval_opts(st, expr, co, out);
}

int pm_gwas_attribute(pm_store_t *st, const char *name, const pm_cohort_opts_t *co,
                      double *out)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    int64_t N = pm_store_n_individuals(st);
    if (N < 0)
        return (int)N;
    for (int64_t i = 0; i < N; i++)
        out[i] = NAN;
    pm_bitset_t *b = NULL;
    int rc;
    if (!strcmp(name, "sex")) {
        static const char *const ex[2] = {"sex=F", "sex=M"};
        for (int v = 0; v < 2; v++) {
            if ((rc = gw_eval(st, co, ex[v], &b)) < 0)
                return rc;
            for (size_t i = pm_bitset_next(b, 0); i < (size_t)N; i = pm_bitset_next(b, i + 1))
                out[i] = v;
            pm_bitset_free(b);
        }
        return 0;
    }
    if (!strcmp(name, "age")) {
        /* Who has an age comes from one evaluation of "age>=0" (it applies
         * the exclusions: withdrawn, opted out); the ages themselves are
         * read from the demographics once, with the cohort language's own
         * definition (pm_cohort_person_age). Ages the language cannot
         * express (>= GW_MAX_AGE) stay 0, as when this path composed them
         * from cohort terms. */
        int ref = pm_cohort_ref_date(st, co);
        if (ref < 0)
            return ref;
        pm_cat_demo_t *demo = NULL;
        if ((rc = gw_eval(st, co, "age>=0", &b)) < 0 || (rc = pm_cat_demo_load(st, &demo)) < 0) {
            pm_bitset_free(b);
            return rc;
        }
        size_t lim = (size_t)N < demo->n ? (size_t)N : demo->n;
        for (size_t i = pm_bitset_next(b, 0); i < lim; i = pm_bitset_next(b, i + 1)) {
            int a = pm_cohort_person_age(demo, i, ref);
            out[i] = a >= 0 && a < GW_MAX_AGE ? a : 0;
        }
        pm_bitset_free(b);
        pm_cat_demo_free(demo);
        return 0;
    }
    return pm_err(ctx, PM_EUSAGE, "unknown attribute '%s' (age or sex)", name);
}

/* ---------------------------------------------------------------- */
/* names                                                              */

void pm_gwas_pheno_tag(const char *spec, size_t i, char *buf, size_t cap)
{
    if (!cap)
        return;
    if (!strncmp(spec, "endpoint:", 9))
        snprintf(buf, cap, "%s", spec + 9);
    else if (!strncmp(spec, "omics:", 6) && !strpbrk(spec, "<>= "))
        snprintf(buf, cap, "%s", spec + 6);
    else
        snprintf(buf, cap, "pheno%zu", i + 1);
    for (char *p = buf; *p; p++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            *p = '_';
    }
}

/* "omics:ASSAY:FEATURE" (no comparison) -> assay, feature in buf; 1 when it is one. */
static int gw_omics_spec(const char *s, char *assay, size_t acap, const char **feature)
{
    if (strncmp(s, "omics:", 6) || strpbrk(s, "<>= "))
        return 0;
    const char *a = s + 6, *c = strchr(a, ':');
    if (!c || c == a || !c[1] || (size_t)(c - a) >= acap)
        return -1;
    memcpy(assay, a, (size_t)(c - a));
    assay[c - a] = 0;
    *feature = c + 1;
    return 1;
}

/* Omics values per individual (earliest sample with a value). */
static int gw_omics_values(pm_store_t *st, const char *spec, double *out, int64_t N)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    char assay[256];
    const char *feature;
    int k = gw_omics_spec(spec, assay, sizeof assay, &feature);
    if (k <= 0)
        return pm_err(ctx, PM_EUSAGE, "'%s': expected omics:ASSAY:FEATURE", spec);
    pm_omics_choice_t ch = {.mode = PM_OMICS_FIRST};
    pm_omics_vals_t *v = NULL;
    int rc = pm_omics_values(st, assay, feature, NULL, &ch, 0, &v);
    if (rc < 0)
        return rc;
    for (int64_t i = 0; i < N; i++)
        out[i] = NAN;
    for (size_t r = 0; r < v->n; r++) {
        int64_t ind = v->individual[r];
        if (ind >= 0 && ind < N && isnan(out[ind]))
            out[ind] = v->value[r];
    }
    pm_omics_vals_free(v);
    return 0;
}

/* ---------------------------------------------------------------- */
/* covariates                                                         */

typedef struct gw_cols {
    double *x;   /* n x k column-major over the iterator's individuals */
    uint32_t k, cap;
    char names[512];
} gw_cols_t;

static int gw_add_col(pm_ctx_t *ctx, gw_cols_t *c, uint32_t n, const char *name, double **col)
{
    if (c->k == c->cap) {
        uint32_t nc = c->cap ? 2 * c->cap : 8;
        double *x = realloc(c->x, (size_t)nc * n * sizeof *x);
        if (!x)
            return pm_err(ctx, PM_ENOMEM, "out of memory for covariates");
        c->x = x;
        c->cap = nc;
    }
    *col = c->x + (size_t)c->k * n;
    c->k++;
    size_t l = strlen(c->names);
    snprintf(c->names + l, sizeof c->names - l, "%s%s", l ? "," : "", name);
    return 0;
}

static int gw_covariates(pm_store_t *st, const pm_cohort_opts_t *co, const char *list,
                         uint32_t n, const int64_t *ind, const pm_bitset_t *cohort_set,
                         gw_cols_t *c)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    int64_t N = pm_store_n_individuals(st);
    double *attr = NULL;
    pm_pca_t *pca = NULL;
    int rc = 0;
    if (!list || !*list)
        return 0;
    if (!(attr = malloc((size_t)(N > 0 ? N : 1) * sizeof *attr)))
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    const char *p = list;
    char seen[1024] = ",";
    while (rc == 0) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        char tok[256];
        if (len == 0 || len >= sizeof tok) {
            rc = pm_err(ctx, PM_EUSAGE, "--covar: empty or overlong item in '%s'", list);
            break;
        }
        memcpy(tok, p, len);
        tok[len] = 0;
        char key[260];
        snprintf(key, sizeof key, ",%s,", tok);
        if (strstr(seen, key)) {
            rc = pm_err(ctx, PM_EUSAGE, "--covar: '%s' is listed twice", tok);
            break;
        }
        size_t sl = strlen(seen);
        snprintf(seen + sl, sizeof seen - sl, "%s,", tok);
        double *col;
        if (!strcmp(tok, "age") || !strcmp(tok, "sex")) {
            if ((rc = pm_gwas_attribute(st, tok, co, attr)) < 0)
                break;
            if ((rc = gw_add_col(ctx, c, n, tok, &col)) < 0)
                break;
            for (uint32_t i = 0; i < n; i++)
                col[i] = attr[ind[i]];
        } else if (!strcmp(tok, "source")) {
            pm_cohort_table_t *t = NULL;
            if ((rc = pm_cohort_tabulate(st, cohort_set, "source", co, &t)) < 0)
                break;
            int64_t total = t->cell[t->nlab[0]];
            int dropped = 0;
            for (size_t l = 0; l < t->nlab[0] && rc == 0; l++) {
                if (t->cell[l] <= 0 || t->cell[l] >= total)
                    continue; /* absent, or everyone: no information */
                if (!dropped) {
                    dropped = 1; /* the first level present is the reference */
                    continue;
                }
                char expr[300], nm[300];
                snprintf(expr, sizeof expr, "source:%s", t->lab[0][l]);
                snprintf(nm, sizeof nm, "source=%s", t->lab[0][l]);
                pm_bitset_t *b = NULL;
                if ((rc = gw_eval(st, co, expr, &b)) < 0)
                    break;
                if ((rc = gw_add_col(ctx, c, n, nm, &col)) == 0)
                    for (uint32_t i = 0; i < n; i++)
                        col[i] = pm_bitset_get(b, (size_t)ind[i]) ? 1.0 : 0.0;
                pm_bitset_free(b);
            }
            pm_cohort_table_free(t);
        } else if (tok[0] == 'p' && tok[1] == 'c' && tok[2] >= '1' && tok[2] <= '9' &&
                   strspn(tok + 2, "0123456789") == strlen(tok + 2)) {
            /* the latest `promise pca` run; individuals outside it are NaN */
            /* more than six digits is past any k: no overflow */
            int j = strlen(tok + 2) > 6 ? 1000000 : (int)strtol(tok + 2, NULL, 10);
            if (!pca && (rc = pm_pca_load(st, &pca)) == 0 && !pca)
                rc = pm_err(ctx, PM_EUSAGE,
                            "--covar: '%s': the store has no principal components "
                            "(run 'promise pca' first)",
                            tok);
            if (rc < 0)
                break;
            if (j > pca->k) {
                rc = pm_err(ctx, PM_EUSAGE,
                            "--covar: '%s': the latest PCA (run %" PRId64 ") has %d components",
                            tok, pca->run, pca->k);
                break;
            }
            if ((rc = pm_pca_component(st, pca, j, attr)) < 0)
                break;
            if ((rc = gw_add_col(ctx, c, n, tok, &col)) < 0)
                break;
            for (uint32_t i = 0; i < n; i++)
                col[i] = attr[ind[i]];
        } else if (!strncmp(tok, "omics:", 6)) {
            if ((rc = gw_omics_values(st, tok, attr, N)) < 0)
                break;
            if ((rc = gw_add_col(ctx, c, n, tok, &col)) < 0)
                break;
            for (uint32_t i = 0; i < n; i++)
                col[i] = attr[ind[i]];
        } else {
            rc = pm_err(ctx, PM_EUSAGE,
                        "--covar: unknown covariate '%s' (age, sex, source, pc1..pcK, "
                        "omics:ASSAY:FEATURE)",
                        tok);
        }
        if (!e)
            break;
        p = e + 1;
    }
    free(attr);
    pm_pca_free(pca);
    return rc;
}

int pm_gwas_covariates(pm_store_t *st, const char *list, int ref_date, uint32_t n,
                       const int64_t *ind, double **x, uint32_t *k, char *names, size_t cap)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    int64_t N = pm_store_n_individuals(st);
    *x = NULL;
    *k = 0;
    if (N < 0)
        return (int)N;
    pm_bitset_t *aset = pm_bitset_new((size_t)N);
    if (!aset)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++)
        pm_bitset_set(aset, (size_t)ind[i]);
    pm_cohort_opts_t co = {.ref_date = ref_date};
    gw_cols_t cols = {0};
    int rc = gw_covariates(st, &co, list, n, ind, aset, &cols);
    pm_bitset_free(aset);
    if (rc < 0) {
        free(cols.x);
        return rc;
    }
    *x = cols.x;
    *k = cols.k;
    if (names && cap)
        snprintf(names, cap, "%s", cols.names);
    return 0;
}

/* ---------------------------------------------------------------- */
/* the batch of sites and the workers                                 */

typedef struct gw_site {
    size_t chrom;                /* index into the contig table */
    int64_t pos;
    size_t s_chrom, s_id, s_ref, s_alt; /* offsets into the string arena */
    size_t off_c, off_m;         /* offsets into idx/val (carriers) and idx (missing) */
    uint32_t nc, nm;
} gw_site_t;

/* A growable text buffer (the rows one worker formats for one phenotype). */
typedef struct gw_text {
    char *p;
    size_t n, cap;
    int oom;
} gw_text_t;

typedef struct gw_batch {
    gw_site_t *site;
    size_t n, cap;
    uint32_t *idx;
    double *val;
    size_t n_idx, cap_idx, cap_val;
    char *str;
    size_t n_str, cap_str;
    pm_glm_result_t *res;    /* n x P */
    uint8_t *held;           /* n x P: row withheld by the release policy */
    size_t cap_res;
    gw_text_t *txt;          /* GW_NCHUNK x P: the rows of chunk c for phenotype j */
    size_t n_chunk;          /* chunks of GW_CHUNK sites */
    size_t next;             /* the next chunk to take (atomic) */
} gw_batch_t;

typedef struct gw_shared {
    const pm_glm_t *m;
    uint32_t P;
    const uint8_t *used;   /* n x P: sample used in phenotype j's null model */
    const uint8_t *cases;  /* n x P: binary case */
    const uint8_t *bin;    /* P: binary phenotype */
    const pm_policy_t *pol;
    int withhold;
} gw_shared_t;

/* A worker takes chunks of batch b until none is left, tests their sites
 * and formats their rows. */
typedef struct gw_worker {
    gw_shared_t *sh;
    gw_batch_t *b;
    pm_glm_work_t *w;
    int rc;
} gw_worker_t;

static void gw_text_add(gw_text_t *t, const char *s, size_t len)
{
    if (t->n + len + 1 > t->cap) {
        size_t nc = t->cap ? 2 * t->cap : 65536;
        while (nc < t->n + len + 1)
            nc *= 2;
        char *q = realloc(t->p, nc);
        if (!q) {
            t->oom = 1;
            return;
        }
        t->p = q;
        t->cap = nc;
    }
    memcpy(t->p + t->n, s, len);
    t->n += len;
}

/* Appends "\t" and v as %.9g, or "\tNA". */
static size_t gw_fmt_num(char *buf, size_t cap, double v)
{
    int k = isnan(v) ? snprintf(buf, cap, "\tNA") : snprintf(buf, cap, "\t%.9g", v);
    return k > 0 && (size_t)k < cap ? (size_t)k : 0;
}

static void gw_format_row(gw_text_t *t, const gw_batch_t *b, const gw_site_t *si,
                          const pm_glm_result_t *r)
{
    char line[1024];
    const char *alt = b->str + si->s_alt;
    int k = snprintf(line, sizeof line, "%s\t%" PRId64 "\t%s\t%s\t%s\t%s\t%s\t%u",
                     b->str + si->s_chrom, si->pos, b->str + si->s_id, b->str + si->s_ref, alt,
                     alt, pm_glm_test_name(r->test), r->obs_ct);
    if (k < 0 || (size_t)k >= sizeof line - 80) {
        /* long alleles: print the head, then the rest */
        gw_text_add(t, b->str + si->s_chrom, strlen(b->str + si->s_chrom));
        k = snprintf(line, sizeof line, "\t%" PRId64 "\t", si->pos);
        gw_text_add(t, line, (size_t)k);
        const char *parts[4] = {b->str + si->s_id, b->str + si->s_ref, alt, alt};
        for (int i = 0; i < 4; i++) {
            gw_text_add(t, parts[i], strlen(parts[i]));
            gw_text_add(t, "\t", 1);
        }
        k = snprintf(line, sizeof line, "%s\t%u", pm_glm_test_name(r->test), r->obs_ct);
    }
    size_t len = (size_t)k;
    if (r->err != PM_GLM_OK) {
        memcpy(line + len, "\tNA\tNA\tNA\tNA", 12);
        len += 12;
    } else {
        len += gw_fmt_num(line + len, sizeof line - len, r->beta);
        len += gw_fmt_num(line + len, sizeof line - len, r->se);
        len += gw_fmt_num(line + len, sizeof line - len, r->stat);
        len += gw_fmt_num(line + len, sizeof line - len, r->p);
    }
    line[len++] = '\n';
    gw_text_add(t, line, len);
}

static void *gw_work(void *arg)
{
    gw_worker_t *wk = arg;
    gw_shared_t *sh = wk->sh;
    gw_batch_t *b = wk->b;
    const uint32_t P = sh->P, n = pm_glm_n_samples(sh->m);
    for (;;) {
        size_t c = __atomic_fetch_add(&b->next, 1, __ATOMIC_RELAXED);
        if (c >= b->n_chunk)
            break;
        gw_text_t *txt = b->txt + c * P;
        for (uint32_t j = 0; j < P; j++)
            txt[j].n = 0;
        size_t hi = (c + 1) * GW_CHUNK < b->n ? (c + 1) * GW_CHUNK : b->n;
        for (size_t s = c * GW_CHUNK; s < hi; s++) {
            gw_site_t *si = &b->site[s];
            pm_glm_result_t *res = b->res + s * P;
            pm_gvec_t g = {.dense = NULL,
                           .idx = b->idx + si->off_c,
                           .val = b->val + si->off_c,
                           .nnz = si->nc,
                           .fill = 0,
                           .miss = b->idx + si->off_m,
                           .n_miss = si->nm};
            if (pm_glm_test(sh->m, wk->w, &g, res) < 0)
                wk->rc = PM_EINTERNAL;
            for (uint32_t j = 0; j < P; j++) {
                uint8_t held = 0;
                if (sh->withhold) {
                    /* carriers used, and carriers among cases and controls */
                    uint32_t cu = 0, cc = 0;
                    const uint8_t *u = sh->used + (size_t)j * n, *cs = sh->cases + (size_t)j * n;
                    for (uint32_t q = 0; q < si->nc; q++) {
                        uint32_t i = g.idx[q];
                        cu += u[i];
                        cc += u[i] & cs[i];
                    }
                    held = pm_policy_release_count(sh->pol, sh->bin[j] ? cc : cu).state !=
                           PM_CELL_EXACT;
                    if (sh->bin[j] &&
                        pm_policy_release_count(sh->pol, cu - cc).state != PM_CELL_EXACT)
                        held = 1;
                }
                b->held[s * P + j] = held;
                if (!held)
                    gw_format_row(&txt[j], b, si, &res[j]);
            }
        }
        for (uint32_t j = 0; j < P; j++)
            if (txt[j].oom)
                wk->rc = PM_ENOMEM;
    }
    return NULL;
}

static int gw_grow(void **p, size_t *cap, size_t need, size_t elt)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 1024;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, nc * elt);
    if (!q)
        return -1;
    *p = q;
    *cap = nc;
    return 0;
}

static size_t gw_str_add(gw_batch_t *b, const char *s, int *oom)
{
    if (!s)
        s = ".";
    size_t l = strlen(s) + 1, at = b->n_str;
    if (gw_grow((void **)&b->str, &b->cap_str, b->n_str + l, 1) < 0) {
        *oom = 1;
        return 0;
    }
    memcpy(b->str + at, s, l);
    b->n_str += l;
    return at;
}

static void gw_batch_free(gw_batch_t *b, size_t n_txt)
{
    free(b->site);
    free(b->idx);
    free(b->val);
    free(b->str);
    free(b->res);
    free(b->held);
    if (b->txt)
        for (size_t i = 0; i < n_txt; i++)
            free(b->txt[i].p);
    free(b->txt);
}

/* Reads up to GW_BATCH_SITES sites into b; *more = 0 at the end. */
static int gw_read_batch(pm_ctx_t *ctx, pm_gt_iter_t *it, gw_batch_t *b, uint32_t P,
                         char ***chroms, size_t *nchrom, size_t *capchrom, int *more)
{
    b->n = b->n_idx = b->n_str = 0;
    while (b->n < GW_BATCH_SITES && b->n_idx < GW_BATCH_ENTRIES) {
        pm_gt_site_t s;
        int r = pm_gt_iter_next(it, &s);
        if (r < 0)
            return r;
        if (r == 0) {
            *more = 0;
            break;
        }
        int oom = 0;
        if (gw_grow((void **)&b->site, &b->cap, b->n + 1, sizeof *b->site) < 0 ||
            gw_grow((void **)&b->idx, &b->cap_idx, b->n_idx + s.n_carrier + s.n_missing,
                    sizeof *b->idx) < 0)
            return pm_err(ctx, PM_ENOMEM, "out of memory");
        if (b->cap_val < b->cap_idx) {
            double *v = realloc(b->val, b->cap_idx * sizeof *v);
            if (!v)
                return pm_err(ctx, PM_ENOMEM, "out of memory");
            b->val = v;
            b->cap_val = b->cap_idx;
        }
        gw_site_t *si = &b->site[b->n];
        size_t c = *nchrom;
        if (!*nchrom || strcmp((*chroms)[*nchrom - 1], s.chrom)) {
            for (c = 0; c < *nchrom && strcmp((*chroms)[c], s.chrom); c++)
                ;
            if (c == *nchrom) {
                if (gw_grow((void **)chroms, capchrom, *nchrom + 1, sizeof **chroms) < 0 ||
                    !((*chroms)[*nchrom] = gw_strdup(s.chrom)))
                    return pm_err(ctx, PM_ENOMEM, "out of memory");
                (*nchrom)++;
                c = *nchrom;
            }
        }
        si->chrom = c == *nchrom ? *nchrom - 1 : c;
        si->pos = s.pos;
        si->s_chrom = gw_str_add(b, s.chrom, &oom);
        si->s_id = gw_str_add(b, s.id && *s.id ? s.id : ".", &oom);
        si->s_ref = gw_str_add(b, s.ref, &oom);
        si->s_alt = gw_str_add(b, s.alt, &oom);
        if (oom)
            return pm_err(ctx, PM_ENOMEM, "out of memory");
        si->off_c = b->n_idx;
        si->nc = s.n_carrier;
        for (uint32_t q = 0; q < s.n_carrier; q++) {
            b->idx[b->n_idx] = s.carrier[q];
            b->val[b->n_idx++] = s.dosage[q];
        }
        si->off_m = b->n_idx;
        si->nm = s.n_missing;
        if (s.n_missing) /* s.missing may be NULL then (memcpy's arguments must not) */
            memcpy(b->idx + b->n_idx, s.missing, (size_t)s.n_missing * sizeof *b->idx);
        b->n_idx += s.n_missing;
        b->n++;
    }
    if (gw_grow((void **)&b->res, &b->cap_res, b->n * P + 1, sizeof *b->res) < 0)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    uint8_t *h = realloc(b->held, b->cap_res);
    if (!h)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    b->held = h;
    return 0;
}

/* Starts W workers on batch b; a worker that cannot be started (or
 * every worker when !threaded) runs on this thread. Returns the threads
 * started. */
static int gw_start(gw_worker_t *wk, pthread_t *tid, int W, gw_batch_t *b, int threaded)
{
    int started = 0;
    b->next = 0;
    b->n_chunk = (b->n + GW_CHUNK - 1) / GW_CHUNK;
    for (int t = 0; t < W; t++) {
        wk[t].b = b;
        wk[t].rc = 0;
    }
    for (int t = 0; t < W; t++) {
        if (threaded && started == t && pthread_create(&tid[t], NULL, gw_work, &wk[t]) == 0)
            started++;
        else
            gw_work(&wk[t]);
    }
    return started;
}

/* ---------------------------------------------------------------- */
/* plots                                                              */

typedef struct gw_pts {
    uint32_t *chrom;
    int64_t *pos;
    double *p;
    size_t n, cap;
} gw_pts_t;

static int gw_pts_add(gw_pts_t *pt, uint32_t chrom, int64_t pos, double p)
{
    if (pt->n == pt->cap) {
        size_t nc = pt->cap ? 2 * pt->cap : 4096;
        uint32_t *c = realloc(pt->chrom, nc * sizeof *c);
        if (c)
            pt->chrom = c;
        int64_t *q = realloc(pt->pos, nc * sizeof *q);
        if (q)
            pt->pos = q;
        double *d = realloc(pt->p, nc * sizeof *d);
        if (d)
            pt->p = d;
        if (!c || !q || !d)
            return -1;
        pt->cap = nc;
    }
    pt->chrom[pt->n] = chrom;
    pt->pos[pt->n] = pos;
    pt->p[pt->n] = p;
    pt->n++;
    return 0;
}

static double gw_mlog10(double p)
{
    return p <= 1e-300 ? 300.0 : -log10(p);
}

static void gw_xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

/* A coarse occupancy grid so that millions of points become at most one
 * circle per 2x2-pixel cell and colour. Cells cover w x h pixels / 2. */
typedef struct gw_grid {
    uint8_t *cell;
    int w, h;
} gw_grid_t;

static int gw_grid_take(gw_grid_t *g, double x, double y, int colour)
{
    int ix = (int)(x / 2), iy = (int)(y / 2); /* 2x2-pixel cells: circles have r = 2 */
    if (ix < 0 || iy < 0 || ix >= g->w || iy >= g->h)
        return 1;
    uint8_t *c = &g->cell[(size_t)iy * (size_t)g->w + (size_t)ix];
    uint8_t bit = (uint8_t)(1u << (colour & 7));
    if (*c & bit)
        return 0;
    *c |= bit;
    return 1;
}

static double gw_ytick_step(double ymax)
{
    double st = 1;
    while (ymax / st > 10)
        st *= 2;
    return st;
}

static int gw_manhattan(const char *path, const char *title, char **chroms, size_t nchrom,
                        const gw_pts_t *pt)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    const double W = 1200, H = 450, L = 60, R = 20, TP = 40, B = 50;
    const double pw = W - L - R, ph = H - TP - B;
    int64_t *lo = calloc(nchrom ? nchrom : 1, sizeof *lo), *hi = calloc(nchrom ? nchrom : 1,
                                                                         sizeof *hi);
    double *x0 = calloc(nchrom ? nchrom : 1, sizeof *x0), *xw = calloc(nchrom ? nchrom : 1,
                                                                       sizeof *xw);
    gw_grid_t gr = {calloc((size_t)W * (size_t)H, 1), (int)W, (int)H};
    if (!lo || !hi || !x0 || !xw || !gr.cell) {
        fclose(f);
        free(lo), free(hi), free(x0), free(xw), free(gr.cell);
        return -1;
    }
    for (size_t c = 0; c < nchrom; c++)
        lo[c] = INT64_MAX, hi[c] = INT64_MIN;
    double ymax = -log10(5e-8) + 1;
    for (size_t i = 0; i < pt->n; i++) {
        uint32_t c = pt->chrom[i];
        if (pt->pos[i] < lo[c])
            lo[c] = pt->pos[i];
        if (pt->pos[i] > hi[c])
            hi[c] = pt->pos[i];
        double y = gw_mlog10(pt->p[i]);
        if (y + 0.5 > ymax)
            ymax = y + 0.5;
    }
    ymax = ceil(ymax);
    double span = 0;
    size_t used = 0;
    for (size_t c = 0; c < nchrom; c++)
        if (hi[c] >= lo[c])
            span += (double)(hi[c] - lo[c] + 1), used++;
    double gap = used > 1 ? pw * 0.004 : 0, avail = pw - gap * (double)(used ? used - 1 : 0);
    double x = L;
    for (size_t c = 0; c < nchrom; c++) {
        if (hi[c] < lo[c])
            continue;
        double share = span > 0 ? (double)(hi[c] - lo[c] + 1) / span : 1.0 / (double)used;
        x0[c] = x;
        xw[c] = avail * share;
        x += xw[c] + gap;
    }
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
            "viewBox=\"0 0 %g %g\" font-family=\"sans-serif\" font-size=\"11\">\n",
            W, H, W, H);
    fprintf(f, "<rect width=\"%g\" height=\"%g\" fill=\"white\"/>\n", W, H);
    fprintf(f, "<text x=\"%g\" y=\"22\" font-size=\"14\" text-anchor=\"middle\">Manhattan: ",
            W / 2);
    gw_xml_text(f, title);
    fputs("</text>\n", f);
    double st = gw_ytick_step(ymax);
    for (double yv = 0; yv <= ymax + 1e-9; yv += st) {
        double yy = TP + ph - ph * yv / ymax;
        fprintf(f, "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", L,
                yy, L + pw, yy);
        fprintf(f, "<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", L - 5, yy + 4,
                yv);
    }
    fprintf(f,
            "<text x=\"15\" y=\"%g\" transform=\"rotate(-90 15 %g)\" "
            "text-anchor=\"middle\">-log10(P)</text>\n",
            TP + ph / 2, TP + ph / 2);
    static const char *const col[2] = {"#1f4e79", "#7fa7d1"};
    size_t k = 0;
    for (size_t c = 0; c < nchrom; c++) {
        if (hi[c] < lo[c])
            continue;
        fprintf(f, "<text x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">", x0[c] + xw[c] / 2,
                TP + ph + 16);
        gw_xml_text(f, chroms[c]);
        fputs("</text>\n", f);
        fprintf(f, "<g fill=\"%s\">\n", col[k % 2]);
        for (size_t i = 0; i < pt->n; i++) {
            if (pt->chrom[i] != c)
                continue;
            double px = x0[c] + (hi[c] > lo[c] ? xw[c] * (double)(pt->pos[i] - lo[c]) /
                                                     (double)(hi[c] - lo[c])
                                               : xw[c] / 2);
            double py = TP + ph - ph * gw_mlog10(pt->p[i]) / ymax;
            if (gw_grid_take(&gr, px, py, (int)(k % 2)))
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\"/>\n", px, py);
        }
        fputs("</g>\n", f);
        k++;
    }
    double gy = TP + ph - ph * -log10(5e-8) / ymax;
    fprintf(f,
            "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#c00\" "
            "stroke-dasharray=\"6,4\"/>\n",
            L, gy, L + pw, gy);
    fprintf(f, "<text x=\"%g\" y=\"%.1f\" fill=\"#c00\" text-anchor=\"end\">5e-8</text>\n",
            L + pw, gy - 4);
    fprintf(f, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"black\"/>\n", L,
            TP + ph, L + pw, TP + ph);
    fprintf(f, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"black\"/>\n", L, TP,
            L, TP + ph);
    fprintf(f, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">chromosome</text>\n",
            L + pw / 2, H - 10);
    fputs("</svg>\n", f);
    free(lo), free(hi), free(x0), free(xw), free(gr.cell);
    return fclose(f) == 0 ? 0 : -1;
}

static int gw_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int gw_qq(const char *path, const char *title, const gw_pts_t *pt, double lambda)
{
    size_t n = 0;
    double *p = malloc((pt->n ? pt->n : 1) * sizeof *p);
    const double S = 500, L = 60, TP = 40, B = 50, R = 20;
    const double pw = S - L - R, ph = S - TP - B;
    gw_grid_t gr = {calloc((size_t)S * (size_t)S, 1), (int)S, (int)S};
    FILE *f = p && gr.cell ? fopen(path, "w") : NULL;
    if (!f) {
        free(p), free(gr.cell);
        return -1;
    }
    for (size_t i = 0; i < pt->n; i++)
        if (!isnan(pt->p[i]))
            p[n++] = pt->p[i];
    qsort(p, n, sizeof *p, gw_cmp_double);
    double emax = n ? -log10(0.5 / (double)n) : 1, omax = n ? gw_mlog10(p[0]) : 1;
    double m = ceil((emax > omax ? emax : omax) + 0.25);
    if (m < 2)
        m = 2;
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
            "viewBox=\"0 0 %g %g\" font-family=\"sans-serif\" font-size=\"11\">\n",
            S, S, S, S);
    fprintf(f, "<rect width=\"%g\" height=\"%g\" fill=\"white\"/>\n", S, S);
    fprintf(f, "<text x=\"%g\" y=\"22\" font-size=\"14\" text-anchor=\"middle\">QQ: ", S / 2);
    gw_xml_text(f, title);
    if (isnan(lambda))
        fputs(" (lambda NA)</text>\n", f);
    else
        fprintf(f, " (lambda %.4f)</text>\n", lambda);
    double st = gw_ytick_step(m);
    for (double v = 0; v <= m + 1e-9; v += st) {
        double yy = TP + ph - ph * v / m, xx = L + pw * v / m;
        fprintf(f, "<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", L - 5, yy + 4,
                v);
        fprintf(f, "<text x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">%g</text>\n", xx,
                TP + ph + 16, v);
    }
    fprintf(f,
            "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#c00\" "
            "stroke-dasharray=\"6,4\"/>\n",
            L, TP + ph, L + pw, TP);
    fputs("<g fill=\"#1f4e79\">\n", f);
    for (size_t i = 0; i < n; i++) {
        double e = -log10(((double)i + 0.5) / (double)n), o = gw_mlog10(p[i]);
        double px = L + pw * e / m, py = TP + ph - ph * (o > m ? m : o) / m;
        if (gw_grid_take(&gr, px, py, 0))
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\"/>\n", px, py);
    }
    fputs("</g>\n", f);
    fprintf(f, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"black\"/>\n", L,
            TP + ph, L + pw, TP + ph);
    fprintf(f, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"black\"/>\n", L, TP,
            L, TP + ph);
    fprintf(f, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">expected -log10(P)</text>\n",
            L + pw / 2, S - 10);
    fprintf(f,
            "<text x=\"15\" y=\"%g\" transform=\"rotate(-90 15 %g)\" "
            "text-anchor=\"middle\">observed -log10(P)</text>\n",
            TP + ph / 2, TP + ph / 2);
    fputs("</svg>\n", f);
    free(p), free(gr.cell);
    return fclose(f) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- */
/* the run                                                            */

void pm_gwas_summary_free(pm_gwas_summary_t *s)
{
    if (!s)
        return;
    for (size_t j = 0; j < s->n_pheno; j++) {
        free(s->pheno[j].spec);
        free(s->pheno[j].name);
        free(s->pheno[j].path);
    }
    free(s->pheno);
    free(s);
}

/* Prefixes the context's message with the phenotype spec. */
static int gw_reerr(pm_ctx_t *ctx, int rc, const char *spec)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", pm_ctx_errmsg(ctx) ? pm_ctx_errmsg(ctx) : "");
    return pm_err(ctx, rc, "--pheno '%s': %s", spec, msg);
}

/* Phenotype j into column y (over the iterator's n individuals). */
static int gw_phenotype(pm_store_t *st, const pm_cohort_opts_t *co, const char *spec,
                        uint32_t n, const int64_t *ind, double *y, uint8_t *binary)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    int64_t N = pm_store_n_individuals(st);
    char assay[256];
    const char *feature;
    int om = gw_omics_spec(spec, assay, sizeof assay, &feature);
    if (om < 0)
        return pm_err(ctx, PM_EUSAGE, "--pheno '%s': expected omics:ASSAY:FEATURE", spec);
    if (om > 0) {
        double *v = malloc((size_t)(N > 0 ? N : 1) * sizeof *v);
        if (!v)
            return pm_err(ctx, PM_ENOMEM, "out of memory");
        int rc = gw_omics_values(st, spec, v, N);
        if (rc == 0)
            for (uint32_t i = 0; i < n; i++)
                y[i] = v[ind[i]];
        free(v);
        if (rc < 0)
            return gw_reerr(ctx, rc, spec);
        *binary = 0;
        return 0;
    }
    pm_bitset_t *b = NULL;
    int rc;
    if (!strncmp(spec, "endpoint:", 9) && spec[9] && !strpbrk(spec + 9, " ()<>=")) {
        if (!(b = pm_bitset_new((size_t)N)))
            return pm_err(ctx, PM_ENOMEM, "out of memory");
        rc = pm_endpoint_eval(st, spec + 9, b);
        if (rc == PM_ENOTFOUND)
            rc = pm_err(ctx, PM_ENOTFOUND, "--pheno '%s': unknown endpoint '%s'", spec,
                        spec + 9);
    } else {
        rc = pm_cohort_eval_opts(st, spec, co, &b);
        if (rc < 0)
            rc = gw_reerr(ctx, rc, spec);
    }
    if (rc >= 0) {
        for (uint32_t i = 0; i < n; i++)
            y[i] = pm_bitset_get(b, (size_t)ind[i]) ? 1.0 : 0.0;
        *binary = 1;
        rc = 0;
    }
    pm_bitset_free(b);
    return rc;
}

int pm_gwas_run(pm_store_t *st, const pm_gwas_opts_t *o, pm_gwas_summary_t **out)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    if (out)
        *out = NULL;
    if (!o || !o->prefix || !*o->prefix)
        return pm_err(ctx, PM_EUSAGE, "gwas: an output prefix is required");
    if (!o->n_pheno || !o->pheno)
        return pm_err(ctx, PM_EUSAGE, "gwas: at least one phenotype is required");
    if (o->n_pheno > 64)
        return pm_err(ctx, PM_EUSAGE, "gwas: at most 64 phenotypes in one pass");
    const uint32_t P = (uint32_t)o->n_pheno;
    int rc = 0;
    pm_policy_t pol;
    if ((rc = pm_policy_for_store(st, o->tier, &pol)) < 0)
        return rc;
    if ((rc = pm_policy_allows(ctx, &pol, PM_RELEASE_COUNT)) < 0)
        return rc;
    int withhold = pol.tier < PM_TIER_PROJECT && pol.k > 1;

    pm_gwas_summary_t *sum = calloc(1, sizeof *sum);
    pm_gt_iter_t *it = NULL;
    pm_bitset_t *cset = NULL;
    gw_cols_t cols = {0};
    double *Y = NULL;
    uint8_t *bin = NULL, *used = NULL, *cases = NULL;
    pm_glm_t *m = NULL;
    FILE **fo = NULL;
    gw_pts_t *pts = NULL;
    char **chroms = NULL;
    size_t nchrom = 0, capchrom = 0;
    gw_batch_t bb[2] = {{0}};
    gw_worker_t *wk = NULL;
    pthread_t *tid = NULL;
    int T = o->threads > 0 ? o->threads : pm_ctx_threads(ctx);
    if (T < 1)
        T = 1;
    if (T > 256)
        T = 256;
    const int W = T; /* workers; the main thread reads and writes meanwhile */
    int running = 0;                 /* worker threads started and not joined */
    int blas_threads = 0;            /* OpenBLAS's thread count to restore */
    if (!sum || !(sum->pheno = calloc(P, sizeof *sum->pheno))) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto done;
    }
    sum->n_pheno = P;
    sum->k = withhold ? pol.k : 0;

    /* names and paths */
    for (uint32_t j = 0; j < P; j++) {
        char tag[256];
        pm_gwas_pheno_tag(o->pheno[j], j, tag, sizeof tag);
        size_t pl = strlen(o->prefix) + strlen(tag) + 8;
        pm_gwas_pheno_summary_t *ps = &sum->pheno[j];
        ps->spec = gw_strdup(o->pheno[j]);
        ps->name = gw_strdup(tag);
        ps->path = malloc(pl);
        ps->lambda = NAN;
        ps->n_cases = -1;
        if (!ps->spec || !ps->name || !ps->path) {
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
            goto done;
        }
        if (P == 1)
            snprintf(ps->path, pl, "%s.tsv", o->prefix);
        else
            snprintf(ps->path, pl, "%s.%s.tsv", o->prefix, tag);
        for (uint32_t i = 0; i < j; i++)
            if (!strcmp(o->pheno[i], o->pheno[j])) {
                rc = pm_err(ctx, PM_EUSAGE, "--pheno '%s' is given twice", o->pheno[j]);
                goto done;
            } else if (!strcmp(sum->pheno[i].name, tag)) {
                rc = pm_err(ctx, PM_EUSAGE,
                            "--pheno '%s' and '%s' would both be written as '%s' "
                            "(give each phenotype once)",
                            o->pheno[i], o->pheno[j], ps->path);
                goto done;
            }
    }

    pm_cohort_opts_t co = {.ref_date = o->ref_date, .purpose = o->purpose};
    if ((rc = pm_cohort_eval_opts(st, o->cohort, &co, &cset)) < 0)
        goto done;
    pm_gt_query_opts_t q = {.region = o->region, .cohort = o->cohort, .purpose = o->purpose};
    if ((rc = pm_gt_iter_open(st, &q, &it)) < 0)
        goto done;
    const uint32_t n = pm_gt_iter_n(it);
    const int64_t *ind = pm_gt_iter_individuals(it);
    sum->n_cohort = n;
    if (n == 0) {
        rc = pm_err(ctx, PM_EINPUT, "no genotyped individuals in the cohort");
        goto done;
    }
    /* the analysis cohort for tabulating source levels: the iterator's individuals */
    pm_bitset_t *aset = pm_bitset_new((size_t)pm_store_n_individuals(st));
    if (!aset) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < n; i++)
        pm_bitset_set(aset, (size_t)ind[i]);
    rc = gw_covariates(st, &co, o->covar, n, ind, aset, &cols);
    pm_bitset_free(aset);
    if (rc < 0)
        goto done;
    snprintf(sum->covar_names, sizeof sum->covar_names, "%s", cols.names);
    for (uint32_t i = 0; i < n; i++) {
        int okc = 1;
        for (uint32_t c = 0; c < cols.k; c++)
            okc &= !isnan(cols.x[(size_t)c * n + i]);
        sum->n_analysis += okc;
    }

    Y = malloc((size_t)n * P * sizeof *Y);
    bin = calloc(P, 1);
    used = calloc((size_t)n * P, 1);
    cases = calloc((size_t)n * P, 1);
    if (!Y || !bin || !used || !cases) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t j = 0; j < P; j++) {
        if ((rc = gw_phenotype(st, &co, o->pheno[j], n, ind, Y + (size_t)j * n, &bin[j])) < 0)
            goto done;
        pm_gwas_pheno_summary_t *ps = &sum->pheno[j];
        ps->binary = bin[j];
        ps->n_cases = bin[j] ? 0 : -1;
        for (uint32_t i = 0; i < n; i++) {
            double y = Y[(size_t)j * n + i];
            int u = !isnan(y);
            for (uint32_t c = 0; c < cols.k && u; c++)
                u = !isnan(cols.x[(size_t)c * n + i]);
            used[(size_t)j * n + i] = (uint8_t)u;
            cases[(size_t)j * n + i] = (uint8_t)(u && bin[j] && y == 1.0);
            ps->n_obs += u;
            if (bin[j])
                ps->n_cases += u && y == 1.0;
        }
        if (ps->n_obs == 0) {
            rc = pm_err(ctx, PM_EINPUT, "--pheno '%s': no individual of the analysis cohort "
                                        "has the phenotype and every covariate",
                        o->pheno[j]);
            goto done;
        }
        if (bin[j] && (ps->n_cases == 0 || ps->n_cases == ps->n_obs)) {
            rc = pm_err(ctx, PM_EINPUT, "--pheno '%s': %" PRId64 " cases among %" PRId64
                                        " individuals of the analysis cohort; need cases "
                                        "and controls",
                        o->pheno[j], ps->n_cases, ps->n_obs);
            goto done;
        }
    }
    /* The kernels' BLAS calls are small (N x p, p around ten): OpenBLAS's
     * threads would cost more than the arithmetic, and the variants are
     * already spread over our own threads. */
    blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    if ((rc = pm_glm_new(ctx, n, cols.k, cols.x, P, Y, bin, NULL, &m)) < 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", pm_ctx_errmsg(ctx) ? pm_ctx_errmsg(ctx) : "");
        if (P > 1)
            rc = pm_err(ctx, rc, "%s (phenotypes are numbered in --pheno order from 1)", msg);
        goto done;
    }

    fo = calloc(P, sizeof *fo);
    pts = calloc(P, sizeof *pts);
    wk = calloc((size_t)W, sizeof *wk);
    tid = calloc((size_t)W, sizeof *tid);
    if (!fo || !pts || !wk || !tid) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t j = 0; j < P; j++) {
        if (!(fo[j] = fopen(sum->pheno[j].path, "w"))) {
            rc = pm_err(ctx, PM_EIO, "cannot open '%s' for writing: %s", sum->pheno[j].path,
                        strerror(errno));
            goto done;
        }
        fputs("#CHROM\tPOS\tID\tREF\tALT\tA1\tTEST\tOBS_CT\tBETA\tSE\tT_OR_Z\tP\n", fo[j]);
    }
    gw_shared_t sh = {.m = m, .P = P, .used = used, .cases = cases, .bin = bin, .pol = &pol,
                      .withhold = withhold};
    for (int t = 0; t < W; t++) {
        wk[t].sh = &sh;
        if (!(wk[t].w = pm_glm_work_new(m))) {
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
            goto done;
        }
    }
    for (int k = 0; k < 2; k++)
        if (!(bb[k].txt = calloc((size_t)GW_NCHUNK * P, sizeof *bb[k].txt))) {
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
            goto done;
        }

    /* The main thread reads batch i + 1 while the workers test and format
     * batch i; then it writes batch i's rows in order. */
    double t0 = gw_now();
    int more = 1, cur = 0, inflight = 0;
    for (;;) {
        gw_batch_t *b = &bb[cur];
        b->n = 0;
        if (more && (rc = gw_read_batch(ctx, it, b, P, &chroms, &nchrom, &capchrom, &more)) < 0)
            goto done;
        if (inflight) {
            gw_batch_t *d = &bb[cur ^ 1];
            for (int t = 0; t < running; t++)
                pthread_join(tid[t], NULL);
            running = 0;
            inflight = 0;
            for (int t = 0; t < W; t++)
                if (wk[t].rc < 0) {
                    rc = wk[t].rc == PM_ENOMEM
                             ? pm_err(ctx, PM_ENOMEM, "out of memory")
                             : pm_err(ctx, PM_EINTERNAL, "gwas: a variant could not be tested");
                    goto done;
                }
            for (size_t c = 0; c < d->n_chunk; c++)
                for (uint32_t j = 0; j < P; j++) {
                    const gw_text_t *x = &d->txt[c * P + j];
                    if (x->n && fwrite(x->p, 1, x->n, fo[j]) != x->n) {
                        rc = pm_err(ctx, PM_EIO, "cannot write '%s': %s", sum->pheno[j].path,
                                    strerror(errno));
                        goto done;
                    }
                }
            for (size_t s = 0; s < d->n; s++) {
                const gw_site_t *si = &d->site[s];
                for (uint32_t j = 0; j < P; j++) {
                    const pm_glm_result_t *r = &d->res[s * P + j];
                    pm_gwas_pheno_summary_t *ps = &sum->pheno[j];
                    if (d->held[s * P + j]) {
                        ps->n_withheld++;
                        continue;
                    }
                    if (r->err != PM_GLM_OK)
                        ps->n_error++;
                    else if (!isnan(r->p) &&
                             gw_pts_add(&pts[j], (uint32_t)si->chrom, si->pos, r->p) < 0) {
                        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
                        goto done;
                    }
                    ps->n_rows++;
                    ps->n_firth += r->test == PM_GLM_FIRTH && r->err == PM_GLM_OK;
                }
            }
            sum->n_variants += (int64_t)d->n;
            pm_progress(ctx, "gwas: variants", (uint64_t)sum->n_variants, 0);
        }
        if (!b->n)
            break;
        running = gw_start(wk, tid, W, b, T > 1);
        inflight = 1;
        cur ^= 1;
    }
    sum->seconds = gw_now() - t0;

    for (uint32_t j = 0; j < P; j++) {
        FILE *f = fo[j];
        fo[j] = NULL;
        if (fclose(f) != 0) {
            rc = pm_err(ctx, PM_EIO, "cannot write '%s': %s", sum->pheno[j].path,
                        strerror(errno));
            goto done;
        }
        pm_gwas_pheno_summary_t *ps = &sum->pheno[j];
        ps->lambda = pm_stats_gc_lambda(pts[j].p, pts[j].n);
        if (o->no_plots)
            continue;
        size_t bl = strlen(ps->path) + 32;
        char *path = malloc(bl);
        if (!path) {
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
            goto done;
        }
        size_t stem = strlen(ps->path) - 4; /* drop ".tsv" */
        snprintf(path, bl, "%.*s.manhattan.svg", (int)stem, ps->path);
        int e = gw_manhattan(path, ps->spec, chroms, nchrom, &pts[j]);
        if (e == 0) {
            snprintf(path, bl, "%.*s.qq.svg", (int)stem, ps->path);
            e = gw_qq(path, ps->spec, &pts[j], ps->lambda);
        }
        if (e < 0)
            rc = pm_err(ctx, PM_EIO, "cannot write '%s': %s", path, strerror(errno));
        free(path);
        if (rc < 0)
            goto done;
    }

done:
    for (int t = 0; t < running; t++)
        pthread_join(tid[t], NULL);
    if (blas_threads > 0)
        openblas_set_num_threads(blas_threads);
    if (fo)
        for (uint32_t j = 0; j < P; j++)
            if (fo[j])
                fclose(fo[j]);
    if (wk)
        for (int t = 0; t < W; t++)
            pm_glm_work_free(wk[t].w);
    if (pts)
        for (uint32_t j = 0; j < P; j++) {
            free(pts[j].chrom);
            free(pts[j].pos);
            free(pts[j].p);
        }
    for (size_t c = 0; c < nchrom; c++)
        free(chroms[c]);
    free(chroms);
    free(pts);
    free(fo);
    free(wk);
    free(tid);
    for (int k = 0; k < 2; k++)
        gw_batch_free(&bb[k], (size_t)GW_NCHUNK * P);
    pm_glm_free(m);
    free(Y);
    free(bin);
    free(used);
    free(cases);
    free(cols.x);
    pm_bitset_free(cset);
    if (it)
        pm_gt_iter_close(it);
    if (rc < 0 || !out)
        pm_gwas_summary_free(sum);
    else
        *out = sum;
    return rc < 0 ? rc : 0;
}
