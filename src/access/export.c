/*
 * export.c - a project's individual-level extract (`promise export`; see
 * promise/access.h and docs/access.md).
 *
 * Who is in it: the cohort within the project's approved sources, minus
 * the withdrawn and whoever opted out of the project's consent purpose
 * (pm_access_scope decides the purpose). Every person is named by the
 * project pseudonym HMAC-SHA-256(project key, store pseudonym), and every
 * file is sorted by that pseudonym, so that neither the names nor the row
 * order of two projects' extracts link them.
 *
 * Crash safety: everything is written into OUT.tmp-PID, each file fsynced,
 * the directory fsynced, then renamed to OUT and the parent fsynced. A
 * crash leaves either no OUT or a complete one (and maybe a stale
 * .tmp-PID directory, never read).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/access_int.h"
#include "catalog/individual.h"
#include "promise/access.h"
#include "promise/cohort.h"
#include "promise/genotype.h"
#include "promise/omics.h"
#include "promise/registry.h"

#define ID_MAX (PM_ACCESS_NAME_MAX + PM_PSEUDONYM_MAX)

typedef struct person {
    int64_t idx;
    char id[ID_MAX];
} person_t;

typedef struct xp {
    pm_store_t *st;
    pm_ctx_t *ctx;
    const char *project;
    char tmp[4096];
    pm_bitset_t *set;   /* the people exported */
    person_t *people;   /* sorted by id */
    size_t n;
    int32_t *rank;      /* individual index -> position in people, -1 if absent */
    FILE *manifest;     /* rows collected for MANIFEST.tsv */
    char *man_buf;
    size_t man_len;
    pm_export_result_t res;
} xp_t;

static int cmp_person(const void *a, const void *b)
{
    return strcmp(((const person_t *)a)->id, ((const person_t *)b)->id);
}

static int list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *s = list; s && *s;) {
        size_t w = strcspn(s, ",");
        if (w == n && strncmp(s, item, n) == 0)
            return 1;
        s += w + (s[w] == ',');
    }
    return 0;
}

/* ---- files ---- */

static FILE *xp_open(xp_t *x, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", x->tmp, name);
    FILE *f = fopen(path, "w+");
    if (!f)
        pm_err(x->ctx, PM_EIO, "cannot create '%s': %s", path, strerror(errno));
    return f;
}

/* Flushes, fsyncs and hashes f (re-read from the start), adds its
 * manifest row and closes it. */
static int xp_close(xp_t *x, FILE *f, const char *name, int64_t rows)
{
    int rc = 0;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        rc = pm_err(x->ctx, PM_EIO, "cannot write '%s/%s': %s", x->tmp, name, strerror(errno));
    crypto_hash_sha256_state hs;
    crypto_hash_sha256_init(&hs);
    uint64_t bytes = 0;
    if (rc == 0 && fseek(f, 0, SEEK_SET) == 0) {
        unsigned char buf[65536];
        size_t got;
        while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
            crypto_hash_sha256_update(&hs, buf, got);
            bytes += got;
        }
        if (ferror(f))
            rc = pm_err(x->ctx, PM_EIO, "cannot read back '%s': %s", name, strerror(errno));
    }
    fclose(f);
    if (rc < 0)
        return rc;
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[65];
    crypto_hash_sha256_final(&hs, h);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    fprintf(x->manifest, "%s\t%lld\t%llu\t%s\n", name, (long long)rows,
            (unsigned long long)bytes, hex);
    x->res.files++;
    return 0;
}

/* ---- individuals.tsv ---- */

static int eval_into(xp_t *x, const char *expr, pm_bitset_t **out)
{
    return pm_cohort_eval(x->st, expr, out);
}

static int write_individuals(xp_t *x)
{
    pm_bitset_t *female = NULL, *male = NULL;
    int rc = eval_into(x, "sex=F", &female);
    if (rc == 0)
        rc = eval_into(x, "sex=M", &male);
    char *county = calloc(x->n ? x->n : 1, 3);
    if (rc == 0 && !county)
        rc = pm_err(x->ctx, PM_ENOMEM, "out of memory");
    for (int c = 1; rc == 0 && c <= 99; c++) { /* county codes 01..99 (25 in use) */
        char expr[16];
        snprintf(expr, sizeof expr, "county:%02d", c);
        pm_bitset_t *s = NULL;
        if ((rc = eval_into(x, expr, &s)) < 0)
            break;
        for (size_t b = pm_bitset_next(s, 0); b < s->n; b = pm_bitset_next(s, b + 1))
            if (x->rank[b] >= 0)
                snprintf(county + 3 * (size_t)x->rank[b], 3, "%02d", c);
        pm_bitset_free(s);
    }
    FILE *f = rc == 0 ? xp_open(x, "individuals.tsv") : NULL;
    if (rc == 0 && !f)
        rc = PM_EIO;
    if (rc == 0) {
        fprintf(f, "#id\tsex\tcounty\n");
        for (size_t i = 0; i < x->n; i++) {
            size_t b = (size_t)x->people[i].idx;
            const char *sex = pm_bitset_get(female, b) ? "F" : pm_bitset_get(male, b) ? "M" : "NA";
            fprintf(f, "%s\t%s\t%s\n", x->people[i].id, sex,
                    county[3 * i] ? county + 3 * i : "NA");
        }
        rc = xp_close(x, f, "individuals.tsv", (int64_t)x->n);
    }
    free(county);
    pm_bitset_free(female);
    pm_bitset_free(male);
    return rc;
}

/* ---- registry.tsv ---- */

typedef struct ev {
    int32_t rank;
    pm_event_t e;
} ev_t;

static int cmp_ev(const void *a, const void *b)
{
    const ev_t *p = a, *q = b;
    if (p->rank != q->rank)
        return p->rank < q->rank ? -1 : 1;
    if (p->e.date != q->e.date)
        return p->e.date < q->e.date ? -1 : 1;
    if (p->e.domain != q->e.domain)
        return p->e.domain < q->e.domain ? -1 : 1;
    int c = strcmp(p->e.code, q->e.code);
    if (c)
        return c;
    if (p->e.position != q->e.position)
        return p->e.position < q->e.position ? -1 : 1;
    return (p->e.value > q->e.value) - (p->e.value < q->e.value);
}

static int write_registry(xp_t *x)
{
    /* every event of every register: one prefix per leading character
     * (codes are normalised upper case), domains are disjoint per term
     * except the cancer register's, hence the de-duplication below */
    static const char *const terms[] = {"icd10", "icd9", "kva", "atc", "icdo3", "death"};
    static const char first[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    ev_t *v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (size_t t = 0; rc == 0 && t < sizeof terms / sizeof *terms; t++)
        for (const char *c = first; rc == 0 && *c; c++) {
            char code[2] = {*c, 0};
            pm_event_iter_t *it = NULL;
            if (pm_registry_events_open(x->st, terms[t], code, &it) < 0)
                continue; /* not a code of this register */
            pm_event_t e;
            int r;
            while ((r = pm_registry_events_next(it, &e)) == 0) {
                if (e.individual < 0 || e.individual >= (int64_t)x->set->n ||
                    x->rank[e.individual] < 0)
                    continue;
                if (n == cap) {
                    size_t nc = cap ? cap * 2 : 4096;
                    ev_t *nv = realloc(v, nc * sizeof *v);
                    if (!nv) {
                        r = pm_err(x->ctx, PM_ENOMEM, "out of memory");
                        break;
                    }
                    v = nv;
                    cap = nc;
                }
                v[n].rank = x->rank[e.individual];
                v[n++].e = e;
            }
            if (r < -1)
                rc = r;
            pm_registry_events_close(it);
        }
    if (n)
        qsort(v, n, sizeof *v, cmp_ev);
    FILE *f = rc == 0 ? xp_open(x, "registry.tsv") : NULL;
    if (rc == 0 && !f)
        rc = PM_EIO;
    int64_t rows = 0;
    if (rc == 0) {
        fprintf(f, "#id\tdate\tregister\tsystem\tcode\tposition\tvalue\n");
        for (size_t i = 0; i < n; i++) {
            if (i && cmp_ev(&v[i - 1], &v[i]) == 0)
                continue;
            const pm_event_t *e = &v[i].e;
            fprintf(f, "%s\t%04d-%02d-%02d\t%s\t%s\t%s\t%d\t", x->people[v[i].rank].id,
                    e->date / 10000, e->date / 100 % 100, e->date % 100,
                    pm_domain_register(e->domain), pm_domain_system(e->domain), e->code,
                    e->position);
            if (e->has_value)
                fprintf(f, "%g\n", e->value);
            else
                fputs("NA\n", f);
            rows++;
        }
        rc = xp_close(x, f, "registry.tsv", rows);
    }
    x->res.events = rows;
    free(v);
    return rc;
}

/* ---- omics.tsv ---- */

typedef struct ov {
    int32_t rank, date;
    uint32_t feature; /* index into the feature name table */
    float value;
    uint8_t flags;
} ov_t;

typedef struct omics_walk {
    xp_t *x;
    const char *assay;
    char **names; /* "assay\tfeature_id" */
    size_t nnames, capnames;
    ov_t *v;
    size_t n, cap;
} omics_walk_t;

static int on_feature(void *ud, const pm_omics_feature_t *ft)
{
    omics_walk_t *w = ud;
    xp_t *x = w->x;
    pm_omics_vals_t *vals = NULL;
    int rc = pm_omics_values(x->st, w->assay, ft->feature_id, x->set, NULL, 0, &vals);
    if (rc < 0)
        return rc;
    if (w->nnames == w->capnames) {
        size_t nc = w->capnames ? w->capnames * 2 : 256;
        char **nn = realloc(w->names, nc * sizeof *nn);
        if (!nn) {
            pm_omics_vals_free(vals);
            return pm_err(x->ctx, PM_ENOMEM, "out of memory");
        }
        w->names = nn;
        w->capnames = nc;
    }
    size_t len = strlen(w->assay) + strlen(ft->feature_id) + 2;
    if (!(w->names[w->nnames] = malloc(len))) {
        pm_omics_vals_free(vals);
        return pm_err(x->ctx, PM_ENOMEM, "out of memory");
    }
    snprintf(w->names[w->nnames], len, "%s\t%s", w->assay, ft->feature_id);
    uint32_t fi = (uint32_t)w->nnames++;
    for (size_t i = 0; i < vals->n; i++) {
        int64_t b = vals->individual[i];
        if (b < 0 || b >= (int64_t)x->set->n || x->rank[b] < 0)
            continue;
        if (w->n == w->cap) {
            size_t nc = w->cap ? w->cap * 2 : 65536;
            ov_t *nv = realloc(w->v, nc * sizeof *nv);
            if (!nv) {
                pm_omics_vals_free(vals);
                return pm_err(x->ctx, PM_ENOMEM, "out of memory");
            }
            w->v = nv;
            w->cap = nc;
        }
        w->v[w->n++] = (ov_t){x->rank[b], vals->date[i], fi, vals->value[i], vals->flags[i]};
    }
    pm_omics_vals_free(vals);
    return 0;
}

static const char *const *g_names; /* qsort has no user pointer */

static int cmp_ov(const void *a, const void *b)
{
    const ov_t *p = a, *q = b;
    if (p->rank != q->rank)
        return p->rank < q->rank ? -1 : 1;
    if (p->feature != q->feature) {
        int c = strcmp(g_names[p->feature], g_names[q->feature]);
        if (c)
            return c;
    }
    if (p->date != q->date)
        return p->date < q->date ? -1 : 1;
    return (p->value > q->value) - (p->value < q->value);
}

static int write_omics(xp_t *x)
{
    pm_cohort_table_t *t = NULL; /* the assays present among the exported */
    int rc = pm_cohort_tabulate(x->st, x->set, "assay", NULL, &t);
    omics_walk_t w = {.x = x};
    for (size_t a = 0; rc == 0 && t && t->ndim == 1 && a < t->nlab[0]; a++) {
        if (t->cell[a] == 0 || strcmp(t->lab[0][a], "NA") == 0)
            continue;
        w.assay = t->lab[0][a];
        rc = pm_omics_features_each(x->st, w.assay, on_feature, &w);
        if (rc == PM_ENOTFOUND)
            rc = 0;
    }
    if (rc == 0 && w.n) {
        g_names = (const char *const *)w.names;
        qsort(w.v, w.n, sizeof *w.v, cmp_ov);
    }
    FILE *f = rc == 0 ? xp_open(x, "omics.tsv") : NULL;
    if (rc == 0 && !f)
        rc = PM_EIO;
    if (rc == 0) {
        fprintf(f, "#id\tassay\tfeature_id\tdate\tvalue\tflags\n");
        for (size_t i = 0; i < w.n; i++) {
            const ov_t *o = &w.v[i];
            fprintf(f, "%s\t%s\t", x->people[o->rank].id, w.names[o->feature]);
            if (o->date)
                fprintf(f, "%04d-%02d-%02d\t", o->date / 10000, o->date / 100 % 100,
                        o->date % 100);
            else
                fputs("NA\t", f);
            if (isnan(o->value))
                fprintf(f, "NA\t%u\n", o->flags);
            else
                fprintf(f, "%.9g\t%u\n", (double)o->value, o->flags);
        }
        rc = xp_close(x, f, "omics.tsv", (int64_t)w.n);
    }
    x->res.omics_values = (int64_t)w.n;
    for (size_t i = 0; i < w.nnames; i++)
        free(w.names[i]);
    free(w.names);
    free(w.v);
    pm_cohort_table_free(t);
    return rc;
}

/* ---- genotypes.vcf ---- */

static int write_genotypes(xp_t *x, const char *scoped)
{
    pm_gt_query_opts_t q = {.cohort = scoped};
    pm_gt_iter_t *it = NULL;
    int rc = pm_gt_iter_open(x->st, &q, &it);
    if (rc < 0)
        return rc;
    uint32_t m = pm_gt_iter_n(it);
    const int64_t *ind = pm_gt_iter_individuals(it);
    /* column c of the VCF = exported person c (pseudonym order) when
     * genotyped; col[] maps iterator positions to columns */
    int32_t *col = malloc((m ? m : 1) * sizeof *col);
    uint8_t *genotyped = calloc(x->n ? x->n : 1, 1);
    char *gt = NULL;
    FILE *f = NULL, *body = tmpfile();
    if (!col || !genotyped || !body) {
        rc = pm_err(x->ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < m; i++) {
        int64_t b = ind[i];
        col[i] = b >= 0 && b < (int64_t)x->set->n ? x->rank[b] : -1;
        if (col[i] >= 0)
            genotyped[col[i]] = 1;
    }
    size_t ncol = 0;
    int32_t *vcfcol = malloc((x->n ? x->n : 1) * sizeof *vcfcol); /* person -> VCF column */
    if (!vcfcol) {
        rc = pm_err(x->ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t p = 0; p < x->n; p++)
        vcfcol[p] = genotyped[p] ? (int32_t)ncol++ : -1;
    if (!(gt = malloc(ncol * 4 + 1))) {
        free(vcfcol);
        rc = pm_err(x->ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    char contigs[64][64];
    int ncontig = 0;
    pm_gt_site_t s;
    int r;
    while ((r = pm_gt_iter_next(it, &s)) == 1) {
        for (size_t c = 0; c < ncol; c++)
            memcpy(gt + 4 * c, "0/0\t", 4);
        for (uint32_t i = 0; i < s.n_carrier; i++) {
            int32_t p = col[s.carrier[i]];
            if (p >= 0)
                memcpy(gt + 4 * vcfcol[p], s.dosage[i] >= 2 ? "1/1\t" : "0/1\t", 4);
        }
        for (uint32_t i = 0; i < s.n_missing; i++) {
            int32_t p = col[s.missing[i]];
            if (p >= 0)
                memcpy(gt + 4 * vcfcol[p], "./.\t", 4);
        }
        if (ncol)
            gt[4 * ncol - 1] = '\0';
        else
            gt[0] = '\0';
        fprintf(body, "%s\t%lld\t%s\t%s\t%s\t.\t.\t.\tGT%s%s\n", s.chrom, (long long)s.pos,
                s.id && *s.id ? s.id : ".", s.ref, s.alt, ncol ? "\t" : "", gt);
        if ((ncontig == 0 || strcmp(contigs[ncontig - 1], s.chrom) != 0) && ncontig < 64)
            snprintf(contigs[ncontig++], sizeof contigs[0], "%s", s.chrom);
        x->res.variants++;
    }
    free(vcfcol);
    if (r < 0) {
        rc = r;
        goto out;
    }
    if (!(f = xp_open(x, "genotypes.vcf"))) {
        rc = PM_EIO;
        goto out;
    }
    fprintf(f, "##fileformat=VCFv4.2\n##source=promise export (project %s)\n", x->project);
    for (int i = 0; i < ncontig; i++)
        fprintf(f, "##contig=<ID=%s>\n", contigs[i]);
    fprintf(f, "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype (unphased; one "
               "record per ALT allele)\">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT");
    for (size_t p = 0; p < x->n; p++)
        if (genotyped[p])
            fprintf(f, "\t%s", x->people[p].id);
    fputc('\n', f);
    rewind(body);
    char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, body)) > 0)
        fwrite(buf, 1, got, f);
    rc = xp_close(x, f, "genotypes.vcf", x->res.variants);
    f = NULL;
out:
    if (f)
        fclose(f);
    if (body)
        fclose(body);
    free(gt);
    free(col);
    free(genotyped);
    pm_gt_iter_close(it);
    return rc;
}

/* ---- the whole extract ---- */

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4400];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static int fsync_dir(pm_ctx_t *ctx, const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return pm_err(ctx, PM_EIO, "cannot sync directory '%s': %s", dir, strerror(e));
    }
    close(fd);
    return 0;
}

static int build_people(xp_t *x)
{
    uint8_t key[32];
    int rc = pm_access_project_key(x->st, x->project, key);
    if (rc < 0)
        return rc;
    size_t N = x->set->n;
    x->n = pm_bitset_count(x->set);
    x->people = calloc(x->n ? x->n : 1, sizeof *x->people);
    x->rank = malloc((N ? N : 1) * sizeof *x->rank);
    if (!x->people || !x->rank) {
        sodium_memzero(key, sizeof key);
        return pm_err(x->ctx, PM_ENOMEM, "out of memory");
    }
    size_t i = 0;
    for (size_t b = pm_bitset_next(x->set, 0); rc >= 0 && b < N;
         b = pm_bitset_next(x->set, b + 1)) {
        char pseudo[PM_PSEUDONYM_MAX];
        rc = pm_individual_pseudonym(x->st, (int64_t)b, pseudo);
        if (rc == 0)
            rc = pm_err(x->ctx, PM_ECORRUPT, "individual %zu has no pseudonym", b);
        if (rc > 0) {
            rc = pm_access_pseudonym_with(key, x->project, pseudo, x->people[i].id, ID_MAX);
            sodium_memzero(pseudo, sizeof pseudo);
        }
        x->people[i++].idx = (int64_t)b;
    }
    sodium_memzero(key, sizeof key);
    if (rc < 0)
        return rc == PM_ELIMIT ? pm_err(x->ctx, rc, "project pseudonym too long") : rc;
    qsort(x->people, x->n, sizeof *x->people, cmp_person);
    for (size_t b = 0; b < N; b++)
        x->rank[b] = -1;
    for (i = 0; i < x->n; i++)
        x->rank[x->people[i].idx] = (int32_t)i;
    return 0;
}

int pm_export(pm_store_t *st, const pm_export_opts_t *o, pm_bitset_t **used,
              pm_export_result_t *res)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    if (used)
        *used = NULL;
    if (!o->project || !*o->project || !o->out_dir || !*o->out_dir)
        return pm_err(ctx, PM_EUSAGE, "an export needs a project and an output directory");
    pm_access_scope_t sc;
    int rc = pm_access_scope(st, NULL, o->project, &sc);
    if (rc < 0)
        return rc;
    /* what: phenotypes always; data types only when approved */
    static const char *const kinds[] = {"phenotypes", "registry", "genotypes", "omics"};
    int want[4] = {0};
    if (!o->what || !*o->what) {
        want[0] = 1;
        for (int k = 1; k < 4; k++)
            want[k] = list_has(sc.project.data_types, kinds[k]);
    } else {
        for (const char *s = o->what; *s;) {
            size_t w = strcspn(s, ",");
            int k = 0;
            while (k < 4 && !(strlen(kinds[k]) == w && strncmp(s, kinds[k], w) == 0))
                k++;
            if (k == 4)
                return pm_err(ctx, PM_EUSAGE,
                              "unknown export part '%.*s' (phenotypes, registry, genotypes, "
                              "omics)",
                              (int)w, s);
            if (k > 0 && (rc = pm_access_project_allows(ctx, &sc.project, kinds[k])) < 0)
                return rc;
            want[k] = 1;
            s += w + (s[w] == ',');
        }
    }
    struct stat sb;
    if (stat(o->out_dir, &sb) == 0)
        return pm_err(ctx, PM_EEXIST, "'%s' exists already", o->out_dir);

    xp_t x = {.st = st, .ctx = ctx, .project = sc.project.name};
    char src[PM_ACCESS_LIST_MAX * 2 + 64], *scoped = NULL;
    if ((rc = pm_access_project_cohort(ctx, &sc.project, src, sizeof src)) < 0)
        return rc;
    size_t len = strlen(src) + (o->cohort ? strlen(o->cohort) : 0) + 16;
    if (!(scoped = malloc(len)))
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    if (o->cohort && *o->cohort)
        snprintf(scoped, len, "(%s) and (%s)", o->cohort, src);
    else
        snprintf(scoped, len, "%s", src);
    pm_cohort_opts_t co = {.purpose = sc.purpose};
    if ((rc = pm_cohort_eval_opts(st, scoped, &co, &x.set)) < 0)
        goto out_free;
    if ((rc = build_people(&x)) < 0)
        goto out_free;

    snprintf(x.tmp, sizeof x.tmp, "%s.tmp-%ld", o->out_dir, (long)getpid());
    remove_tree(x.tmp); /* a stale one of an earlier crash with our pid */
    if (mkdir(x.tmp, 0700) != 0) {
        rc = pm_err(ctx, PM_EIO, "cannot create '%s': %s", x.tmp, strerror(errno));
        goto out_free;
    }
    if (!(x.manifest = open_memstream(&x.man_buf, &x.man_len))) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out_rm;
    }
    uint64_t total = (uint64_t)(want[0] + want[1] + want[2] + want[3]), done = 0;
    if (want[0] && (rc = write_individuals(&x)) < 0)
        goto out_rm;
    pm_progress(ctx, "export", want[0] ? ++done : done, total);
    if (want[1] && (rc = write_registry(&x)) < 0)
        goto out_rm;
    pm_progress(ctx, "export", want[1] ? ++done : done, total);
    if (want[3] && (rc = write_omics(&x)) < 0)
        goto out_rm;
    pm_progress(ctx, "export", want[3] ? ++done : done, total);
    if (want[2] && (rc = write_genotypes(&x, scoped)) < 0)
        goto out_rm;
    pm_progress(ctx, "export", want[2] ? ++done : done, total);

    fclose(x.manifest);
    x.manifest = NULL;
    FILE *mf = xp_open(&x, "MANIFEST.tsv");
    if (!mf) {
        rc = PM_EIO;
        goto out_rm;
    }
    int today = pm_access_today();
    fprintf(mf,
            "# promise export of project %s (%s; purpose %s, consent: %s)\n"
            "# %zu individuals, named by project pseudonyms (HMAC-SHA-256 under the project's\n"
            "# key; other projects' extracts use other keys). Created %04d-%02d-%02d.\n"
            "#file\trows\tbytes\tsha256\n%s",
            x.project, sc.project.data_types, sc.project.purpose, sc.purpose, x.n, today / 10000,
            today / 100 % 100, today % 100, x.man_buf ? x.man_buf : "");
    if (fflush(mf) != 0 || fsync(fileno(mf)) != 0) {
        fclose(mf);
        rc = pm_err(ctx, PM_EIO, "cannot write the manifest: %s", strerror(errno));
        goto out_rm;
    }
    fclose(mf);
    if ((rc = fsync_dir(ctx, x.tmp)) < 0)
        goto out_rm;
    if (rename(x.tmp, o->out_dir) != 0) {
        rc = pm_err(ctx, PM_EIO, "cannot rename '%s' to '%s': %s", x.tmp, o->out_dir,
                    strerror(errno));
        goto out_rm;
    }
    {
        char parent[4096];
        snprintf(parent, sizeof parent, "%s", o->out_dir);
        char *slash = strrchr(parent, '/');
        if (slash == parent)
            slash[1] = '\0';
        else if (slash)
            *slash = '\0';
        else
            snprintf(parent, sizeof parent, ".");
        rc = fsync_dir(ctx, parent);
    }
    x.res.individuals = (int64_t)x.n;
    if (res)
        *res = x.res;
    if (used) {
        *used = x.set;
        x.set = NULL;
    }
    goto out_free;
out_rm:
    remove_tree(x.tmp);
out_free:
    if (x.manifest)
        fclose(x.manifest);
    free(x.man_buf);
    free(x.people);
    free(x.rank);
    pm_bitset_free(x.set);
    free(scoped);
    return rc;
}
