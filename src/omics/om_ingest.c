/*
 * om_ingest.c - loading omics files (see promise/omics.h, docs/omics.md).
 *
 * Three readers fill one in-memory picture of the file: interned sample
 * and feature names with the line and column where each first appeared,
 * and the values, either dense (a matrix: one row per feature, or per
 * sample when transposed) or as (feature, sample, value) cells (Olink's
 * long format, whose rows come in any order). The samples are then
 * resolved against the sample table, and each batch (the whole matrix,
 * or one Olink panel) is written feature-major to its data file and
 * registered, all in one catalog transaction.
 */
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/cat_omics.h"
#include "catalog/catalog.h"
#include "core/fileio.h"
#include "core/tsv.h"
#include "omics/om_int.h"
#include "promise/omics.h"

/* ---- interned strings ---- */

typedef struct smap {
    char **key;      /* owned, index order */
    size_t n, cap;
    uint32_t *slot;  /* index + 1, 0 = empty */
    size_t nslot;    /* power of two */
} smap_t;

static uint64_t hash_str(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static void smap_free(smap_t *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->key[i]);
    free(m->key);
    free(m->slot);
    memset(m, 0, sizeof *m);
}

static int64_t smap_find(const smap_t *m, const char *s, size_t len)
{
    if (!m->nslot)
        return -1;
    size_t mask = m->nslot - 1;
    for (size_t i = hash_str(s, len) & mask;; i = (i + 1) & mask) {
        uint32_t v = m->slot[i];
        if (!v)
            return -1;
        const char *k = m->key[v - 1];
        if (strncmp(k, s, len) == 0 && k[len] == '\0')
            return v - 1;
    }
}

static int smap_grow(smap_t *m)
{
    size_t ns = m->nslot ? 2 * m->nslot : 64;
    uint32_t *slot = calloc(ns, sizeof *slot);
    if (!slot)
        return -1;
    for (size_t j = 0; j < m->n; j++) {
        size_t i = hash_str(m->key[j], strlen(m->key[j])) & (ns - 1);
        while (slot[i])
            i = (i + 1) & (ns - 1);
        slot[i] = (uint32_t)(j + 1);
    }
    free(m->slot);
    m->slot = slot;
    m->nslot = ns;
    return 0;
}

/* Index of s, adding it when new (*is_new = 1). -1 on OOM. */
static int64_t smap_intern(smap_t *m, const char *s, size_t len, int *is_new)
{
    *is_new = 0;
    int64_t i = smap_find(m, s, len);
    if (i >= 0)
        return i;
    if (m->n >= UINT32_MAX - 1)
        return -1;
    if ((m->n + 1) * 2 > m->nslot && smap_grow(m) < 0)
        return -1;
    if (m->n == m->cap) {
        size_t nc = m->cap ? 2 * m->cap : 64;
        char **nk = realloc(m->key, nc * sizeof *nk);
        if (!nk)
            return -1;
        m->key = nk;
        m->cap = nc;
    }
    char *k = malloc(len + 1);
    if (!k)
        return -1;
    memcpy(k, s, len);
    k[len] = '\0';
    m->key[m->n] = k;
    size_t mask = m->nslot - 1;
    size_t j = hash_str(s, len) & mask;
    while (m->slot[j])
        j = (j + 1) & mask;
    m->slot[j] = (uint32_t)(m->n + 1);
    *is_new = 1;
    return (int64_t)m->n++;
}

/* ---- the picture of one file ---- */

typedef struct samp {
    long line, col;       /* where the name first appears */
    int64_t id, individual;
    int state;            /* 0 unresolved, 1 kept, 2 unknown (skipped) */
} samp_t;

typedef struct feat {
    long line, col;
    char *name, *uniprot, *chrom; /* owned, may be NULL */
    int64_t pos;
    uint32_t panel;       /* index into panels, UINT32_MAX = none */
} feat_t;

typedef struct cell {     /* Olink: one value */
    uint32_t f, s, line, col, plate;
    float v;
    uint8_t fl;
} cell_t;

typedef struct ing {
    pm_store_t *st;
    pm_ctx_t *ctx;
    const char *path;
    const pm_omics_opts_t *o;
    pm_tsv_t *t;
    int format, layout;
    int64_t assay;
    char assay_name[PM_OMICS_MAX_NAME];
    smap_t sname, fname, panels, plates;
    samp_t *samp;
    size_t samp_cap;
    feat_t *feat;
    size_t feat_cap;
    /* dense values: layout F x S (row = feature) or S x F (row = sample) */
    float *val;
    uint8_t *fl;
    size_t rows_cap;      /* rows allocated */
    size_t width;         /* entries per row */
    /* Olink cells */
    cell_t *cell;
    size_t nc, nc_cap;
    int64_t rows;
    pm_omics_result_t res;
} ing_t;

static void ing_free(ing_t *g)
{
    for (size_t i = 0; i < g->fname.n; i++) {
        free(g->feat[i].name);
        free(g->feat[i].uniprot);
        free(g->feat[i].chrom);
    }
    smap_free(&g->sname);
    smap_free(&g->fname);
    smap_free(&g->panels);
    smap_free(&g->plates);
    free(g->samp);
    free(g->feat);
    free(g->val);
    free(g->fl);
    free(g->cell);
    pm_tsv_close(g->t);
}

static int oom(ing_t *g) { return pm_err(g->ctx, PM_ENOMEM, "out of memory reading '%s'", g->path); }

/* A name field: non-empty, at most PM_OMICS_MAX_NAME - 1 bytes, printable. */
static int check_name(ing_t *g, int col, const char *what)
{
    const char *s = pm_tsv_field(g->t, col);
    size_t len = pm_tsv_field_len(g->t, col);
    if (len == 0)
        return pm_tsv_err(g->t, col, PM_EINPUT, "empty %s", what);
    if (len >= PM_OMICS_MAX_NAME)
        return pm_tsv_err(g->t, col, PM_EINPUT, "%s longer than %d bytes", what,
                          PM_OMICS_MAX_NAME - 1);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return pm_tsv_err(g->t, col, PM_EINPUT, "control character in %s", what);
    return 0;
}

static int is_na(const char *s, size_t len)
{
    return len == 0 || (len == 2 && memcmp(s, "NA", 2) == 0) ||
           (len == 3 && strncasecmp(s, "nan", 3) == 0) ||
           (len == 4 && memcmp(s, "NULL", 4) == 0);
}

/* Parses a value field: 1 = *v set, 0 = missing (NA, NaN, NULL or empty),
 * <0 = error recorded with FILE:LINE:COL. */
static int parse_value(ing_t *g, int col, const char *what, float *v)
{
    const char *s = pm_tsv_field(g->t, col);
    size_t len = pm_tsv_field_len(g->t, col);
    while (len && (*s == ' ')) {
        s++;
        len--;
    }
    while (len && s[len - 1] == ' ')
        len--;
    if (is_na(s, len))
        return 0;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || (size_t)(end - s) != len)
        return pm_tsv_err(g->t, col, PM_EINPUT, "%s '%.*s' is not a number (NA or empty for missing)",
                          what, (int)(len > 40 ? 40 : len), s);
    if (!isfinite(d) || fabs(d) > FLT_MAX)
        return pm_tsv_err(g->t, col, PM_EINPUT, "%s '%.*s' is out of range", what,
                          (int)(len > 40 ? 40 : len), s);
    *v = (float)d;
    return 1;
}

static int grow_samp(ing_t *g)
{
    if (g->sname.n <= g->samp_cap)
        return 0;
    size_t nc = g->samp_cap ? 2 * g->samp_cap : 64;
    while (nc < g->sname.n)
        nc *= 2;
    samp_t *p = realloc(g->samp, nc * sizeof *p);
    if (!p)
        return oom(g);
    g->samp = p;
    g->samp_cap = nc;
    return 0;
}

static int grow_feat(ing_t *g)
{
    if (g->fname.n <= g->feat_cap)
        return 0;
    size_t nc = g->feat_cap ? 2 * g->feat_cap : 64;
    while (nc < g->fname.n)
        nc *= 2;
    feat_t *p = realloc(g->feat, nc * sizeof *p);
    if (!p)
        return oom(g);
    g->feat = p;
    g->feat_cap = nc;
    return 0;
}

/* Interns the sample named in field col; *idx its index, *is_new. */
static int add_sample(ing_t *g, int col, long line, int64_t *idx, int *is_new)
{
    int rc = check_name(g, col, "sample id");
    if (rc < 0)
        return rc;
    *idx = smap_intern(&g->sname, pm_tsv_field(g->t, col), pm_tsv_field_len(g->t, col), is_new);
    if (*idx < 0 || grow_samp(g) < 0)
        return oom(g);
    if (*is_new) {
        samp_t *s = &g->samp[*idx];
        memset(s, 0, sizeof *s);
        s->line = line;
        s->col = pm_tsv_colpos(g->t, col);
    }
    return 0;
}

static int add_feature(ing_t *g, const char *s, size_t len, long line, long col, int64_t *idx,
                       int *is_new)
{
    *idx = smap_intern(&g->fname, s, len, is_new);
    if (*idx < 0 || grow_feat(g) < 0)
        return oom(g);
    if (*is_new) {
        feat_t *f = &g->feat[*idx];
        memset(f, 0, sizeof *f);
        f->line = line;
        f->col = col;
        f->panel = UINT32_MAX;
    }
    return 0;
}

/* Makes room for row r of the dense matrix. */
static int dense_row(ing_t *g, size_t r)
{
    if ((uint64_t)(r + 1) * g->width > PM_OMICS_MAX_CELLS)
        return pm_tsv_err(g->t, -1, PM_ELIMIT, "more than %llu values in one file",
                          (unsigned long long)PM_OMICS_MAX_CELLS);
    if (r < g->rows_cap)
        return 0;
    size_t nc = g->rows_cap ? 2 * g->rows_cap : 64;
    if ((uint64_t)nc * g->width > PM_OMICS_MAX_CELLS)
        nc = (size_t)(PM_OMICS_MAX_CELLS / (g->width ? g->width : 1));
    float *v = realloc(g->val, nc * g->width * sizeof *v + 1);
    if (!v)
        return oom(g);
    g->val = v;
    uint8_t *f = realloc(g->fl, nc * g->width + 1);
    if (!f)
        return oom(g);
    g->fl = f;
    g->rows_cap = nc;
    return 0;
}

static char *dup_field(ing_t *g, int col)
{
    if (col < 0 || pm_tsv_field_len(g->t, col) == 0)
        return NULL;
    return strdup(pm_tsv_field(g->t, col));
}

/* ---- matrix ---- */

/* Metadata columns of a features-by-samples matrix (every other column
 * is a sample). */
enum { MC_NAME, MC_UNIPROT, MC_PANEL, MC_CHROM, MC_POS, MC_N };
static const char *const meta_cols[MC_N] = {"feature_name", "uniprot", "panel", "chrom", "pos"};

static int read_matrix(ing_t *g)
{
    pm_tsv_t *t = g->t;
    int nc = pm_tsv_ncols(t);
    int by_sample = g->layout == PM_OMICS_SAMPLES_BY_FEATURES;
    const char *idname = by_sample ? "sample_id" : "feature_id";
    int idcol = pm_tsv_col(t, idname);
    if (idcol < 0)
        return pm_err(g->ctx, PM_EINPUT, "%s:1: no '%s' column%s", g->path, idname,
                      by_sample ? " (the samples-by-features layout starts with sample_id)"
                                : " (a matrix starts with feature_id; --layout "
                                  "samples-by-features reads one row per sample)");
    int meta[MC_N];
    for (int m = 0; m < MC_N; m++)
        meta[m] = by_sample ? -1 : pm_tsv_col(t, meta_cols[m]);
    /* data columns; the j-th is sample (or feature) j, as every name is new */
    int *dcol = malloc((size_t)nc * sizeof *dcol);
    if (!dcol)
        return oom(g);
    int nd = 0, rc = 0;
    for (int c = 0; c < nc && rc == 0; c++) {
        int skip = c == idcol;
        for (int m = 0; m < MC_N; m++)
            skip |= c == meta[m];
        if (skip)
            continue;
        const char *name = pm_tsv_colname(t, c);
        size_t len = strlen(name);
        long pos = pm_tsv_colpos(t, c);
        if (len == 0 || len >= PM_OMICS_MAX_NAME) {
            rc = pm_err(g->ctx, PM_EINPUT, "%s:1:%ld: %s column name", g->path, pos,
                        len ? "overlong" : "empty");
            break;
        }
        int is_new;
        int64_t idx;
        if (by_sample) {
            rc = add_feature(g, name, len, 1, pos, &idx, &is_new);
        } else {
            idx = smap_intern(&g->sname, name, len, &is_new);
            if (idx < 0 || grow_samp(g) < 0)
                rc = oom(g);
            else {
                memset(&g->samp[idx], 0, sizeof g->samp[idx]);
                g->samp[idx].line = 1;
                g->samp[idx].col = pos;
            }
        }
        dcol[nd++] = c;
    }
    if (rc == 0 && nd == 0)
        rc = pm_err(g->ctx, PM_EINPUT, "%s:1: no %s columns", g->path,
                    by_sample ? "feature" : "sample");
    g->width = (size_t)nd;
    int r;
    size_t row = 0;
    while (rc == 0 && (r = pm_tsv_next(t)) != 0) {
        if (r < 0) {
            rc = r;
            break;
        }
        g->rows++;
        if ((g->rows & 0xffff) == 0)
            pm_progress(g->ctx, "omics rows", (uint64_t)g->rows, 0);
        long line = pm_tsv_lineno(t);
        int64_t idx;
        int is_new;
        if (by_sample) {
            if ((rc = add_sample(g, idcol, line, &idx, &is_new)) < 0)
                break;
            if (!is_new) {
                rc = pm_tsv_err(t, idcol, PM_EINPUT, "sample '%s' is already on line %ld",
                                pm_tsv_field(t, idcol), g->samp[idx].line);
                break;
            }
        } else {
            if ((rc = check_name(g, idcol, "feature id")) < 0)
                break;
            if ((rc = add_feature(g, pm_tsv_field(t, idcol), pm_tsv_field_len(t, idcol), line,
                                  pm_tsv_colpos(t, idcol), &idx, &is_new)) < 0)
                break;
            if (!is_new) {
                rc = pm_tsv_err(t, idcol, PM_EINPUT, "feature '%s' is already on line %ld",
                                pm_tsv_field(t, idcol), g->feat[idx].line);
                break;
            }
            feat_t *f = &g->feat[idx];
            for (int m = 0; m < MC_N && rc == 0; m++) {
                if (meta[m] < 0 || pm_tsv_field_len(t, meta[m]) == 0)
                    continue;
                if (pm_tsv_field_len(t, meta[m]) >= PM_OMICS_MAX_NAME) {
                    rc = pm_tsv_err(t, meta[m], PM_EINPUT, "longer than %d bytes",
                                    PM_OMICS_MAX_NAME - 1);
                    break;
                }
                if (m == MC_POS) {
                    const char *s = pm_tsv_field(t, meta[m]);
                    char *end;
                    errno = 0;
                    long long p = strtoll(s, &end, 10);
                    if (*end || end == s || errno || p < 1)
                        rc = pm_tsv_err(t, meta[m], PM_EINPUT,
                                        "position '%s' is not a positive integer", s);
                    f->pos = p;
                    continue;
                }
                char *v = dup_field(g, meta[m]);
                if (!v) {
                    rc = oom(g);
                    break;
                }
                if (m == MC_NAME)
                    f->name = v;
                else if (m == MC_UNIPROT)
                    f->uniprot = v;
                else if (m == MC_CHROM)
                    f->chrom = v;
                else {
                    int pn;
                    int64_t p = smap_intern(&g->panels, v, strlen(v), &pn);
                    free(v);
                    if (p < 0)
                        rc = oom(g);
                    f->panel = (uint32_t)p;
                }
            }
            if (rc < 0)
                break;
        }
        if ((rc = dense_row(g, row)) < 0)
            break;
        float *vr = g->val + row * g->width;
        uint8_t *fr = g->fl + row * g->width;
        for (int j = 0; j < nd; j++) {
            float v = NAN;
            int p = parse_value(g, dcol[j], "value", &v);
            if (p < 0) {
                rc = p;
                break;
            }
            vr[j] = p ? v : NAN;
            fr[j] = p ? 0 : PM_OMICS_MISSING;
        }
        row++;
    }
    /* dense rows are in interning order because every row is new */
    free(dcol);
    if (rc == 0 && row == 0)
        rc = pm_err(g->ctx, PM_EINPUT, "%s: no data rows", g->path);
    return rc;
}

/* ---- Olink NPX long format ---- */

enum { OC_SAMPLE, OC_OLINKID, OC_UNIPROT, OC_ASSAY, OC_PANEL, OC_PLATE, OC_QC, OC_LOD, OC_NPX, OC_N };

/* Column names per role, first found wins; required roles have no NULL-able alternative. */
static const char *const olink_cols[OC_N][4] = {
    [OC_SAMPLE] = {"SampleID"},
    [OC_OLINKID] = {"OlinkID"},
    [OC_UNIPROT] = {"UniProt"},
    [OC_ASSAY] = {"Assay"},
    [OC_PANEL] = {"Panel"},
    [OC_PLATE] = {"PlateID"},
    [OC_QC] = {"QC_Warning", "SampleQC"},
    [OC_LOD] = {"LOD", "PlateLOD", "MaxLOD"},
    [OC_NPX] = {"NPX"},
};

/* QC text -> 0 (pass), 1 (warning), -1 (unknown). */
static int qc_state(const char *s, size_t len)
{
    static const char *const pass[] = {"pass", "na", "", NULL};
    static const char *const warn[] = {"warning", "warn", "fail", NULL};
    for (int i = 0; pass[i]; i++)
        if (strlen(pass[i]) == len && strncasecmp(s, pass[i], len) == 0)
            return 0;
    for (int i = 0; warn[i]; i++)
        if (strlen(warn[i]) == len && strncasecmp(s, warn[i], len) == 0)
            return 1;
    return -1;
}

/* Feature attribute of the current row must match the first row's. */
static int same_attr(ing_t *g, int col, const char *first, const char *what, const feat_t *f,
                     const char *fid)
{
    if (col < 0)
        return 0;
    const char *now = pm_tsv_field(g->t, col);
    if (strcmp(first ? first : "", now) == 0)
        return 0;
    return pm_tsv_err(g->t, col, PM_EINPUT, "feature '%s' has %s '%s' on line %ld, '%s' here",
                      fid, what, first ? first : "", f->line, now);
}

static int read_olink(ing_t *g)
{
    pm_tsv_t *t = g->t;
    int col[OC_N];
    for (int r = 0; r < OC_N; r++) {
        col[r] = -1;
        for (int a = 0; a < 4 && olink_cols[r][a] && col[r] < 0; a++)
            col[r] = pm_tsv_col(t, olink_cols[r][a]);
        if (col[r] < 0 && r != OC_LOD)
            return pm_err(g->ctx, PM_EINPUT, "%s:1: no '%s' column (an Olink NPX long file has "
                          "SampleID, OlinkID, UniProt, Assay, Panel, PlateID, QC_Warning, LOD "
                          "and NPX)", g->path, olink_cols[r][0]);
    }
    int r, rc = 0;
    while ((r = pm_tsv_next(t)) != 0) {
        if (r < 0)
            return r;
        g->rows++;
        if ((g->rows & 0xffff) == 0)
            pm_progress(g->ctx, "omics rows", (uint64_t)g->rows, 0);
        long line = pm_tsv_lineno(t);
        if (line > (long)UINT32_MAX)
            return pm_tsv_err(t, -1, PM_ELIMIT, "too many lines");
        int64_t s, f;
        int is_new;
        if ((rc = add_sample(g, col[OC_SAMPLE], line, &s, &is_new)) < 0)
            return rc;
        if ((rc = check_name(g, col[OC_OLINKID], "OlinkID")) < 0)
            return rc;
        const char *fid = pm_tsv_field(t, col[OC_OLINKID]);
        if ((rc = add_feature(g, fid, pm_tsv_field_len(t, col[OC_OLINKID]), line,
                              pm_tsv_colpos(t, col[OC_OLINKID]), &f, &is_new)) < 0)
            return rc;
        feat_t *ft = &g->feat[f];
        const int attr_col[3] = {col[OC_ASSAY], col[OC_UNIPROT], col[OC_PANEL]};
        for (int a = 0; a < 3; a++)
            if (pm_tsv_field_len(t, attr_col[a]) >= PM_OMICS_MAX_NAME)
                return pm_tsv_err(t, attr_col[a], PM_EINPUT, "longer than %d bytes",
                                  PM_OMICS_MAX_NAME - 1);
        if (is_new) {
            ft->name = dup_field(g, col[OC_ASSAY]);
            ft->uniprot = dup_field(g, col[OC_UNIPROT]);
            if ((!ft->name && pm_tsv_field_len(t, col[OC_ASSAY])) ||
                (!ft->uniprot && pm_tsv_field_len(t, col[OC_UNIPROT])))
                return oom(g);
            size_t pl = pm_tsv_field_len(t, col[OC_PANEL]);
            if (pl) {
                int pn;
                int64_t p = smap_intern(&g->panels, pm_tsv_field(t, col[OC_PANEL]), pl, &pn);
                if (p < 0)
                    return oom(g);
                ft->panel = (uint32_t)p;
            }
        } else {
            const char *panel = ft->panel == UINT32_MAX ? NULL : g->panels.key[ft->panel];
            if ((rc = same_attr(g, col[OC_ASSAY], ft->name, "Assay", ft, fid)) < 0 ||
                (rc = same_attr(g, col[OC_UNIPROT], ft->uniprot, "UniProt", ft, fid)) < 0 ||
                (rc = same_attr(g, col[OC_PANEL], panel, "Panel", ft, fid)) < 0)
                return rc;
        }
        uint32_t plate = UINT32_MAX;
        size_t plen = pm_tsv_field_len(t, col[OC_PLATE]);
        if (plen >= PM_OMICS_MAX_NAME)
            return pm_tsv_err(t, col[OC_PLATE], PM_EINPUT, "longer than %d bytes",
                              PM_OMICS_MAX_NAME - 1);
        if (plen && !is_na(pm_tsv_field(t, col[OC_PLATE]), plen)) {
            int pn;
            int64_t p = smap_intern(&g->plates, pm_tsv_field(t, col[OC_PLATE]), plen, &pn);
            if (p < 0)
                return oom(g);
            plate = (uint32_t)p;
        }
        int qc = qc_state(pm_tsv_field(t, col[OC_QC]), pm_tsv_field_len(t, col[OC_QC]));
        if (qc < 0)
            return pm_tsv_err(t, col[OC_QC], PM_EINPUT,
                              "QC value '%s' is not Pass, Warning, WARN, FAIL or NA",
                              pm_tsv_field(t, col[OC_QC]));
        float lod = NAN, npx = NAN;
        int have_lod = 0;
        if (col[OC_LOD] >= 0 && (have_lod = parse_value(g, col[OC_LOD], "LOD", &lod)) < 0)
            return have_lod;
        int have = parse_value(g, col[OC_NPX], "NPX", &npx);
        if (have < 0)
            return have;
        uint8_t fl = qc ? PM_OMICS_QC_WARNING : 0;
        if (!have)
            fl |= PM_OMICS_MISSING;
        else if (have_lod && npx < lod)
            fl |= PM_OMICS_BELOW_LOD;
        if (g->nc == g->nc_cap) {
            if (g->nc >= PM_OMICS_MAX_CELLS)
                return pm_tsv_err(t, -1, PM_ELIMIT, "more than %llu values in one file",
                                  (unsigned long long)PM_OMICS_MAX_CELLS);
            size_t nc = g->nc_cap ? 2 * g->nc_cap : 4096;
            cell_t *p = realloc(g->cell, nc * sizeof *p);
            if (!p)
                return oom(g);
            g->cell = p;
            g->nc_cap = nc;
        }
        g->cell[g->nc++] = (cell_t){.f = (uint32_t)f, .s = (uint32_t)s, .line = (uint32_t)line,
                                    .col = (uint32_t)pm_tsv_colpos(t, col[OC_SAMPLE]),
                                    .plate = plate, .v = have ? npx : NAN, .fl = fl};
    }
    if (g->nc == 0)
        return pm_err(g->ctx, PM_EINPUT, "%s: no data rows", g->path);
    return 0;
}

/* ---- Olink NPX wide layout ---- */

/* The spreadsheet Olink NPX Manager writes, saved as text: title rows,
 * then rows labelled Panel, Assay, Uniprot ID and OlinkID (one column per
 * assay, then "Plate ID" and "QC Warning" columns per panel), one row per
 * sample (SampleID first), an empty row, and footer rows (LOD, Missing
 * Data freq., Normalization). */

#define WIDE_SCAN_ROWS 64

static int wide_label(pm_tsv_t *t, const char *s)
{
    return pm_tsv_nfields(t) > 0 && strcasecmp(pm_tsv_field(t, 0), s) == 0;
}

static int row_blank(pm_tsv_t *t)
{
    for (int i = 0; i < pm_tsv_nfields(t); i++)
        if (pm_tsv_field_len(t, i))
            return 0;
    return 1;
}

/* Opens path without a header with separator sep; 1 when a row among the
 * first WIDE_SCAN_ROWS starts with "OlinkID" (t left open, rewound). */
static int wide_try(ing_t *g, char sep)
{
    pm_tsv_opts_t to = {.sep = sep, .quotes = sep != '\t', .no_header = 1};
    pm_tsv_t *t = NULL;
    if (pm_tsv_open(g->ctx, g->path, &to, &t) < 0)
        return 0;
    int found = 0;
    for (int i = 0; i < WIDE_SCAN_ROWS && !found; i++) {
        if (pm_tsv_next(t) <= 0)
            break;
        found = wide_label(t, "OlinkID") && pm_tsv_nfields(t) >= 2;
    }
    pm_tsv_close(t);
    if (!found)
        return 0;
    if (pm_tsv_open(g->ctx, g->path, &to, &g->t) < 0)
        return -1;
    return 1;
}

static int open_wide(ing_t *g)
{
    static const char seps[] = {'\t', ';', ','};
    if (strcmp(g->path, "-") == 0)
        return pm_err(g->ctx, PM_EUSAGE, "the Olink wide layout cannot be read from stdin");
    for (int i = 0; i < 3; i++) {
        int r = wide_try(g, seps[i]);
        if (r < 0)
            return PM_EIO;
        if (r > 0) {
            g->format = PM_OMICS_OLINK_WIDE;
            return 0;
        }
    }
    return pm_err(g->ctx, PM_EINPUT, "%s: no row starting with 'OlinkID' in the first %d "
                  "lines (not an Olink NPX wide file)", g->path, WIDE_SCAN_ROWS);
}

typedef struct wide_hdr {
    char **panel, **assay, **uniprot; /* per column, owned; NULL when the row is absent */
    int n[3];
} wide_hdr_t;

static void wide_hdr_free(wide_hdr_t *h)
{
    char **rows[3] = {h->panel, h->assay, h->uniprot};
    for (int r = 0; r < 3; r++) {
        for (int i = 0; rows[r] && i < h->n[r]; i++)
            free(rows[r][i]);
        free(rows[r]);
    }
}

static int wide_copy_row(ing_t *g, char ***dst, int *n)
{
    pm_tsv_t *t = g->t;
    if (*dst)
        return pm_tsv_err(t, 0, PM_EINPUT, "second '%s' row", pm_tsv_field(t, 0));
    int nf = pm_tsv_nfields(t);
    if (!(*dst = calloc((size_t)nf, sizeof **dst)))
        return oom(g);
    *n = nf;
    for (int i = 0; i < nf; i++) {
        if (pm_tsv_field_len(t, i) >= PM_OMICS_MAX_NAME)
            return pm_tsv_err(t, i, PM_EINPUT, "longer than %d bytes", PM_OMICS_MAX_NAME - 1);
        if (!((*dst)[i] = strdup(pm_tsv_field(t, i))))
            return oom(g);
    }
    return 0;
}

static const char *wide_at(char **row, int n, int j)
{
    return row && j < n ? row[j] : "";
}

static int read_olink_wide(ing_t *g)
{
    pm_tsv_t *t = g->t;
    wide_hdr_t h = {0};
    int r, rc = 0, width = 0;
    /* per column: feature index (-1 none); per panel slot: plate and QC columns */
    int64_t *fcol = NULL;
    int *plate_col = NULL, *qc_col = NULL;
    uint32_t *cpanel = NULL;
    float *lod = NULL;
    while ((r = pm_tsv_next(t)) > 0) {
        if (wide_label(t, "Panel"))
            rc = wide_copy_row(g, &h.panel, &h.n[0]);
        else if (wide_label(t, "Assay"))
            rc = wide_copy_row(g, &h.assay, &h.n[1]);
        else if (wide_label(t, "Uniprot ID") || wide_label(t, "UniProt"))
            rc = wide_copy_row(g, &h.uniprot, &h.n[2]);
        else if (wide_label(t, "OlinkID"))
            break;
        if (rc < 0)
            goto out;
    }
    if (r < 0) {
        rc = r;
        goto out;
    }
    if (r == 0) {
        rc = pm_err(g->ctx, PM_EINPUT, "%s: no 'OlinkID' row (not an Olink NPX wide file)",
                    g->path);
        goto out;
    }
    width = pm_tsv_nfields(t);
    long hline = pm_tsv_lineno(t);
    fcol = malloc((size_t)width * sizeof *fcol);
    cpanel = malloc((size_t)width * sizeof *cpanel);
    plate_col = malloc((size_t)(width + 1) * sizeof *plate_col);
    qc_col = malloc((size_t)(width + 1) * sizeof *qc_col);
    if (!fcol || !cpanel || !plate_col || !qc_col) {
        rc = oom(g);
        goto out;
    }
    for (int j = 0; j <= width; j++)
        plate_col[j] = qc_col[j] = -1;
    /* columns: assays, and per panel its plate and QC columns */
    for (int j = 0; j < width; j++) {
        fcol[j] = -1;
        cpanel[j] = UINT32_MAX;
        if (j == 0)
            continue;
        const char *pn = wide_at(h.panel, h.n[0], j);
        if (*pn) {
            int is_new;
            int64_t p = smap_intern(&g->panels, pn, strlen(pn), &is_new);
            if (p < 0) {
                rc = oom(g);
                goto out;
            }
            cpanel[j] = (uint32_t)p;
        }
        int slot = cpanel[j] == UINT32_MAX ? width : (int)cpanel[j];
        if (pm_tsv_field_len(t, j) == 0) {
            const char *a = wide_at(h.assay, h.n[1], j);
            if (strcasecmp(a, "Plate ID") == 0 || strcasecmp(a, "PlateID") == 0)
                plate_col[slot] = j;
            else if (strcasecmp(a, "QC Warning") == 0 || strcasecmp(a, "QC_Warning") == 0)
                qc_col[slot] = j;
            continue;
        }
        if ((rc = check_name(g, j, "OlinkID")) < 0)
            goto out;
        int is_new;
        if ((rc = add_feature(g, pm_tsv_field(t, j), pm_tsv_field_len(t, j), hline,
                              pm_tsv_colpos(t, j), &fcol[j], &is_new)) < 0)
            goto out;
        if (!is_new) {
            rc = pm_tsv_err(t, j, PM_EINPUT, "OlinkID '%s' is in two columns",
                            pm_tsv_field(t, j));
            goto out;
        }
        feat_t *ft = &g->feat[fcol[j]];
        const char *nm = wide_at(h.assay, h.n[1], j), *up = wide_at(h.uniprot, h.n[2], j);
        if ((*nm && !(ft->name = strdup(nm))) || (*up && !(ft->uniprot = strdup(up)))) {
            rc = oom(g);
            goto out;
        }
        ft->panel = cpanel[j];
    }
    if (g->fname.n == 0) {
        rc = pm_err(g->ctx, PM_EINPUT, "%s:%ld: the OlinkID row names no assay", g->path, hline);
        goto out;
    }
    if (!(lod = malloc(g->fname.n * sizeof *lod))) {
        rc = oom(g);
        goto out;
    }
    for (size_t f = 0; f < g->fname.n; f++)
        lod[f] = NAN;
    /* samples, then the footer */
    int footer = 0;
    while ((r = pm_tsv_next(t)) > 0) {
        long line = pm_tsv_lineno(t);
        if (line > (long)UINT32_MAX) {
            rc = pm_tsv_err(t, -1, PM_ELIMIT, "too many lines");
            goto out;
        }
        if (row_blank(t)) {
            footer = g->rows > 0;
            continue;
        }
        if (wide_label(t, "LOD")) {
            footer = 1;
            for (int j = 1; j < width; j++) {
                float v;
                int have;
                if (fcol[j] < 0)
                    continue;
                if ((have = parse_value(g, j, "LOD", &v)) < 0) {
                    rc = have;
                    goto out;
                }
                if (have)
                    lod[fcol[j]] = v;
            }
            continue;
        }
        if (footer || pm_tsv_field_len(t, 0) == 0)
            continue; /* Missing Data freq., Normalization, ... */
        if (pm_tsv_nfields(t) != width) {
            rc = pm_tsv_err(t, -1, PM_EINPUT, "expected %d fields (as the OlinkID row), found %d",
                            width, pm_tsv_nfields(t));
            goto out;
        }
        g->rows++;
        int64_t s;
        int is_new;
        /* a second row of a sample is refused when its values are stored
         * (store_olink), after unknown samples (Olink controls) are dropped */
        if ((rc = add_sample(g, 0, line, &s, &is_new)) < 0)
            goto out;
        for (int j = 1; j < width; j++) {
            if (fcol[j] < 0)
                continue;
            int slot = cpanel[j] == UINT32_MAX ? width : (int)cpanel[j];
            uint32_t plate = UINT32_MAX;
            int pc = plate_col[slot], qcc = qc_col[slot];
            size_t plen = pc >= 0 ? pm_tsv_field_len(t, pc) : 0;
            if (plen >= PM_OMICS_MAX_NAME) {
                rc = pm_tsv_err(t, pc, PM_EINPUT, "longer than %d bytes", PM_OMICS_MAX_NAME - 1);
                goto out;
            }
            if (plen && !is_na(pm_tsv_field(t, pc), plen)) {
                int pn;
                int64_t p = smap_intern(&g->plates, pm_tsv_field(t, pc), plen, &pn);
                if (p < 0) {
                    rc = oom(g);
                    goto out;
                }
                plate = (uint32_t)p;
            }
            int qc = qcc >= 0 ? qc_state(pm_tsv_field(t, qcc), pm_tsv_field_len(t, qcc)) : 0;
            if (qc < 0) {
                rc = pm_tsv_err(t, qcc, PM_EINPUT,
                                "QC value '%s' is not Pass, Warning, WARN, FAIL or NA",
                                pm_tsv_field(t, qcc));
                goto out;
            }
            float npx = NAN;
            int have = parse_value(g, j, "NPX", &npx);
            if (have < 0) {
                rc = have;
                goto out;
            }
            if (g->nc == g->nc_cap) {
                if (g->nc >= PM_OMICS_MAX_CELLS) {
                    rc = pm_tsv_err(t, -1, PM_ELIMIT, "more than %llu values in one file",
                                    (unsigned long long)PM_OMICS_MAX_CELLS);
                    goto out;
                }
                size_t nc = g->nc_cap ? 2 * g->nc_cap : 4096;
                cell_t *p = realloc(g->cell, nc * sizeof *p);
                if (!p) {
                    rc = oom(g);
                    goto out;
                }
                g->cell = p;
                g->nc_cap = nc;
            }
            g->cell[g->nc++] = (cell_t){.f = (uint32_t)fcol[j], .s = (uint32_t)s,
                                        .line = (uint32_t)line, .col = (uint32_t)pm_tsv_colpos(t, 0),
                                        .plate = plate, .v = have ? npx : NAN,
                                        .fl = (uint8_t)((qc ? PM_OMICS_QC_WARNING : 0) |
                                                        (have ? 0 : PM_OMICS_MISSING))};
        }
    }
    if (r < 0) {
        rc = r;
        goto out;
    }
    if (g->nc == 0) {
        rc = pm_err(g->ctx, PM_EINPUT, "%s: no sample rows after the OlinkID row", g->path);
        goto out;
    }
    /* the LOD row comes last: flag the values below it */
    for (size_t i = 0; i < g->nc; i++) {
        cell_t *c = &g->cell[i];
        if (!(c->fl & PM_OMICS_MISSING) && !isnan(lod[c->f]) && c->v < lod[c->f])
            c->fl |= PM_OMICS_BELOW_LOD;
    }
out:
    wide_hdr_free(&h);
    free(fcol);
    free(cpanel);
    free(plate_col);
    free(qc_col);
    free(lod);
    return rc;
}

/* ---- samples ---- */

static int resolve_samples(ing_t *g)
{
    int64_t unknown = 0;
    char more[512] = "";
    size_t ml = 0;
    size_t first = SIZE_MAX;
    for (size_t i = 0; i < g->sname.n; i++) {
        samp_t *s = &g->samp[i];
        pm_catom_sample_t row;
        int rc = pm_catom_sample_find(g->st, g->sname.key[i], &row);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            s->state = 2;
            if (unknown++ == 0)
                first = i;
            else if (unknown <= 4 && ml < sizeof more) {
                int n = snprintf(more + ml, sizeof more - ml, "%s'%s'", ml ? ", " : "",
                                 g->sname.key[i]);
                if (n > 0)
                    ml += (size_t)n;
            }
            continue;
        }
        if (row.assay != g->assay)
            return pm_err(g->ctx, PM_EINPUT,
                          "%s:%ld:%ld: sample '%s' has assay '%s' in the sample table, not '%s'",
                          g->path, s->line, s->col, g->sname.key[i], row.assay_name,
                          g->assay_name);
        s->state = 1;
        s->id = row.id;
        s->individual = row.individual;
    }
    if (unknown && !g->o->skip_unknown_samples) {
        samp_t *s = &g->samp[first];
        if (unknown == 1)
            return pm_err(g->ctx, PM_EINPUT,
                          "%s:%ld:%ld: sample '%s' is not in the sample table (load it with "
                          "'promise ingest samples', or use --skip-unknown-samples)",
                          g->path, s->line, s->col, g->sname.key[first]);
        if (ml >= sizeof more)
            ml = sizeof more - 1;
        return pm_err(g->ctx, PM_EINPUT,
                      "%s:%ld:%ld: sample '%s' is not in the sample table, nor are %s%s "
                      "(%lld unknown in all; load them with 'promise ingest samples', or use "
                      "--skip-unknown-samples)",
                      g->path, s->line, s->col, g->sname.key[first], more,
                      unknown > 4 ? ", ..." : "", (long long)unknown);
    }
    g->res.skipped_samples = unknown;
    if ((size_t)unknown == g->sname.n)
        return pm_err(g->ctx, PM_EINPUT, "%s: none of its %zu samples is in the sample table",
                      g->path, g->sname.n);
    return 0;
}

/* ---- writing ---- */

typedef struct batch_out {
    int64_t id;
    char file[64];
    char path[PATH_MAX];
    int written;
} batch_out_t;

static void count_flags(ing_t *g, const uint8_t *fl, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        g->res.values++;
        g->res.missing += (fl[i] & PM_OMICS_MISSING) != 0;
        g->res.below_lod += (fl[i] & PM_OMICS_BELOW_LOD) != 0;
        g->res.qc_warning += (fl[i] & PM_OMICS_QC_WARNING) != 0;
    }
}

/* Writes one batch file: features feats[0..nf) over columns cols[0..ncol)
 * (sample indices), values from get(). */
typedef void (*fill_fn)(ing_t *g, uint32_t feature, const uint32_t *cols, size_t ncol,
                        float *v, uint8_t *fl, void *ud);

static int write_batch(ing_t *g, batch_out_t *b, const uint32_t *feats, size_t nf,
                       const uint32_t *cols, size_t ncol, fill_fn fill, void *ud, uint64_t *bytes)
{
    if (nf > UINT32_MAX || ncol > UINT32_MAX)
        return pm_err(g->ctx, PM_ELIMIT, "%s: too many features or samples", g->path);
    int rc = pm_path(g->ctx, b->path, sizeof b->path, "%s/omics/%s", pm_store_path(g->st), b->file);
    if (rc < 0)
        return rc;
    float *v = malloc((ncol ? ncol : 1) * sizeof *v);
    uint8_t *fl = malloc(ncol ? ncol : 1);
    pm_om_writer_t *w = NULL;
    if (!v || !fl)
        rc = oom(g);
    if (rc == 0)
        rc = pm_om_writer_open(g->ctx, b->path, b->id, (uint32_t)ncol, (uint32_t)nf, &w);
    for (size_t i = 0; i < nf && rc == 0; i++) {
        fill(g, feats[i], cols, ncol, v, fl, ud);
        count_flags(g, fl, ncol);
        rc = pm_om_writer_block(w, v, fl);
    }
    if (rc == 0) {
        rc = pm_om_writer_commit(w, bytes);
        w = NULL;
        if (rc == 0)
            b->written = 1;
    }
    pm_om_writer_abort(w);
    free(v);
    free(fl);
    return rc;
}

static void fill_dense(ing_t *g, uint32_t f, const uint32_t *cols, size_t ncol, float *v,
                       uint8_t *fl, void *ud)
{
    (void)ud;
    int by_sample = g->layout == PM_OMICS_SAMPLES_BY_FEATURES;
    for (size_t j = 0; j < ncol; j++) {
        size_t k = by_sample ? (size_t)cols[j] * g->width + f : (size_t)f * g->width + cols[j];
        v[j] = g->val[k];
        fl[j] = g->fl[k];
    }
}

/* Olink: cells sorted by feature; cell_lo[f] .. cell_lo[f+1] are f's. */
typedef struct olink_fill {
    const size_t *cell_lo;
    const int64_t *colof; /* sample -> column in this batch, -1 none */
} olink_fill_t;

static void fill_olink(ing_t *g, uint32_t f, const uint32_t *cols, size_t ncol, float *v,
                       uint8_t *fl, void *ud)
{
    (void)cols;
    const olink_fill_t *o = ud;
    for (size_t j = 0; j < ncol; j++) {
        v[j] = NAN;
        fl[j] = PM_OMICS_MISSING;
    }
    for (size_t k = o->cell_lo[f]; k < o->cell_lo[f + 1]; k++) {
        const cell_t *c = &g->cell[k];
        int64_t j = o->colof[c->s];
        if (j >= 0) {
            v[j] = c->v;
            fl[j] = c->fl;
        }
    }
}

static int cmp_cell(const void *a, const void *b)
{
    const cell_t *x = a, *y = b;
    if (x->f != y->f)
        return x->f < y->f ? -1 : 1;
    if (x->s != y->s)
        return x->s < y->s ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

/* Registers a written batch. */
static int register_batch(ing_t *g, const batch_out_t *b, int64_t ingest, const char *panel,
                          const uint32_t *feats, size_t nf, const uint32_t *cols, size_t ncol,
                          const char *const *plate, uint64_t bytes)
{
    int64_t *sid = malloc((ncol ? ncol : 1) * sizeof *sid);
    pm_catom_feature_in_t *fi = calloc(nf ? nf : 1, sizeof *fi);
    int rc = 0;
    if (!sid || !fi)
        rc = oom(g);
    for (size_t j = 0; j < ncol && rc == 0; j++)
        sid[j] = g->samp[cols[j]].id;
    for (size_t i = 0; i < nf && rc == 0; i++) {
        const feat_t *f = &g->feat[feats[i]];
        fi[i] = (pm_catom_feature_in_t){
            .feature_id = g->fname.key[feats[i]],
            .name = f->name,
            .uniprot = f->uniprot,
            .panel = f->panel == UINT32_MAX ? NULL : g->panels.key[f->panel],
            .chrom = f->chrom,
            .pos = f->pos,
            .line = f->line,
        };
    }
    if (rc == 0) {
        pm_catom_batch_in_t in = {
            .id = b->id,
            .assay = g->assay,
            .ingest = ingest,
            .file = b->file,
            .format = g->format == PM_OMICS_OLINK ? "olink" : "matrix",
            .panel = panel,
            .bytes = bytes,
            .n_samples = ncol,
            .sample = sid,
            .plate = plate,
            .n_features = nf,
            .features = fi,
        };
        rc = pm_catom_register(g->st, &in, g->path);
    }
    free(sid);
    free(fi);
    return rc;
}

typedef struct outs {
    batch_out_t *b;
    size_t n, cap;
    int64_t next_id;
} outs_t;

static batch_out_t *new_batch(ing_t *g, outs_t *o)
{
    if (o->n == o->cap) {
        size_t nc = o->cap ? 2 * o->cap : 4;
        batch_out_t *p = realloc(o->b, nc * sizeof *p);
        if (!p)
            return NULL;
        o->b = p;
        o->cap = nc;
    }
    batch_out_t *b = &o->b[o->n++];
    memset(b, 0, sizeof *b);
    b->id = o->next_id++;
    snprintf(b->file, sizeof b->file, "b%06lld.pmo", (long long)b->id);
    (void)g;
    return b;
}

static int store_matrix(ing_t *g, outs_t *o, int64_t ingest)
{
    size_t nf = g->fname.n, ncol = 0;
    uint32_t *feats = malloc((nf ? nf : 1) * sizeof *feats);
    uint32_t *cols = malloc((g->sname.n ? g->sname.n : 1) * sizeof *cols);
    int rc = 0;
    if (!feats || !cols)
        rc = oom(g);
    for (size_t i = 0; i < nf && rc == 0; i++)
        feats[i] = (uint32_t)i;
    for (size_t j = 0; j < g->sname.n && rc == 0; j++) {
        if (g->samp[j].state == 1)
            cols[ncol++] = (uint32_t)j;
        else
            g->res.skipped_values += (int64_t)nf;
    }
    batch_out_t *b = rc == 0 ? new_batch(g, o) : NULL;
    if (rc == 0 && !b)
        rc = oom(g);
    uint64_t bytes = 0;
    if (rc == 0)
        rc = write_batch(g, b, feats, nf, cols, ncol, fill_dense, NULL, &bytes);
    if (rc == 0)
        rc = register_batch(g, b, ingest, NULL, feats, nf, cols, ncol, NULL, bytes);
    g->res.samples = (int64_t)ncol;
    free(feats);
    free(cols);
    return rc;
}

static int store_olink(ing_t *g, outs_t *o, int64_t ingest)
{
    size_t nf = g->fname.n, ns = g->sname.n;
    /* drop the cells of unknown samples, then sort by feature, sample */
    size_t k = 0;
    for (size_t i = 0; i < g->nc; i++) {
        if (g->samp[g->cell[i].s].state == 1)
            g->cell[k++] = g->cell[i];
        else
            g->res.skipped_values++;
    }
    g->nc = k;
    qsort(g->cell, g->nc, sizeof *g->cell, cmp_cell);
    for (size_t i = 1; i < g->nc; i++) {
        const cell_t *a = &g->cell[i - 1], *c = &g->cell[i];
        if (a->f == c->f && a->s == c->s)
            return pm_err(g->ctx, PM_EINPUT,
                          "%s:%u:%u: sample '%s' has a second value of feature '%s' (first on "
                          "line %u) (column 'SampleID')",
                          g->path, c->line, c->col, g->sname.key[c->s], g->fname.key[c->f],
                          a->line);
    }
    size_t *cell_lo = calloc(nf + 1, sizeof *cell_lo);
    int64_t *colof = malloc((ns ? ns : 1) * sizeof *colof);
    uint32_t *plate = malloc((ns ? ns : 1) * sizeof *plate);
    uint32_t *pline = malloc((ns ? ns : 1) * sizeof *pline);
    uint32_t *feats = malloc((nf ? nf : 1) * sizeof *feats);
    uint32_t *cols = malloc((ns ? ns : 1) * sizeof *cols);
    const char **pnames = malloc((ns ? ns : 1) * sizeof *pnames);
    uint8_t *kept_any = calloc(ns ? ns : 1, 1);
    int rc = 0;
    if (!cell_lo || !colof || !plate || !pline || !feats || !cols || !pnames || !kept_any)
        rc = oom(g);
    if (rc == 0) {
        for (size_t i = 0; i < g->nc; i++)
            cell_lo[g->cell[i].f + 1]++;
        for (size_t f = 0; f < nf; f++)
            cell_lo[f + 1] += cell_lo[f];
    }
    /* one batch per panel (features without a panel form one more) */
    size_t ngroups = g->panels.n + 1;
    for (size_t p = 0; p < ngroups && rc == 0; p++) {
        uint32_t pid = p < g->panels.n ? (uint32_t)p : UINT32_MAX;
        size_t nfg = 0, ncol = 0;
        for (size_t f = 0; f < nf; f++)
            if (g->feat[f].panel == pid)
                feats[nfg++] = (uint32_t)f;
        if (nfg == 0)
            continue;
        for (size_t s = 0; s < ns; s++) {
            colof[s] = -1;
            plate[s] = UINT32_MAX;
            pline[s] = 0;
        }
        /* columns: samples with a value in this panel; one plate each */
        for (size_t i = 0; i < nfg && rc == 0; i++)
            for (size_t c = cell_lo[feats[i]]; c < cell_lo[feats[i] + 1]; c++) {
                const cell_t *ce = &g->cell[c];
                if (colof[ce->s] < 0) {
                    colof[ce->s] = 0;
                    plate[ce->s] = ce->plate;
                    pline[ce->s] = ce->line;
                } else if (plate[ce->s] != ce->plate) {
                    rc = pm_err(g->ctx, PM_EINPUT,
                                "%s:%u: sample '%s' is on plate '%s' on line %u and on plate "
                                "'%s' here, in one panel",
                                g->path, ce->line, g->sname.key[ce->s],
                                plate[ce->s] == UINT32_MAX ? "" : g->plates.key[plate[ce->s]],
                                pline[ce->s],
                                ce->plate == UINT32_MAX ? "" : g->plates.key[ce->plate]);
                    break;
                }
            }
        if (rc < 0)
            break;
        for (size_t s = 0; s < ns; s++)
            if (colof[s] == 0) {
                colof[s] = (int64_t)ncol;
                pnames[ncol] = plate[s] == UINT32_MAX ? NULL : g->plates.key[plate[s]];
                cols[ncol++] = (uint32_t)s;
                kept_any[s] = 1;
            }
        batch_out_t *b = new_batch(g, o);
        if (!b) {
            rc = oom(g);
            break;
        }
        olink_fill_t of = {.cell_lo = cell_lo, .colof = colof};
        uint64_t bytes = 0;
        rc = write_batch(g, b, feats, nfg, cols, ncol, fill_olink, &of, &bytes);
        if (rc == 0)
            rc = register_batch(g, b, ingest, pid == UINT32_MAX ? NULL : g->panels.key[pid],
                                feats, nfg, cols, ncol, pnames, bytes);
    }
    for (size_t s = 0; s < ns; s++)
        g->res.samples += kept_any && kept_any[s];
    free(cell_lo);
    free(colof);
    free(plate);
    free(pline);
    free(feats);
    free(cols);
    free(pnames);
    free(kept_any);
    return rc;
}

/* ---- garbage ---- */

/* Removes files in STORE/omics that no committed batch names: leftovers
 * of an ingest that died between writing its files and committing. */
static int collect_garbage(pm_store_t *st)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    char dir[PATH_MAX], p[PATH_MAX];
    int rc = pm_path(ctx, dir, sizeof dir, "%s/omics", pm_store_path(st));
    if (rc < 0)
        return rc;
    if ((rc = pm_mkdir_p(ctx, dir)) < 0)
        return rc;
    char **keep;
    size_t nkeep;
    if ((rc = pm_catom_files(st, &keep, &nkeep)) < 0)
        return rc;
    DIR *d = opendir(dir);
    if (!d) {
        pm_catom_strv_free(keep, nkeep);
        return pm_err(ctx, PM_EIO, "cannot open '%s': %s", dir, strerror(errno));
    }
    struct dirent *e;
    int removed = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        int used = 0;
        for (size_t i = 0; i < nkeep && !used; i++)
            used = strcmp(keep[i], e->d_name) == 0;
        if (used)
            continue;
        if (pm_path(ctx, p, sizeof p, "%s/%s", dir, e->d_name) < 0)
            continue;
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISREG(sb.st_mode) && unlink(p) == 0)
            removed = 1;
    }
    closedir(d);
    pm_catom_strv_free(keep, nkeep);
    return removed ? pm_fsync_dir(ctx, dir) : 0;
}

/* ---- entry point ---- */

static int open_table(ing_t *g)
{
    if (g->format == PM_OMICS_OLINK_WIDE)
        return open_wide(g);
    pm_tsv_opts_t to = {.sep = '\t'};
    int rc = pm_tsv_open(g->ctx, g->path, &to, &g->t);
    if (rc == PM_EINPUT && (g->format == PM_OMICS_AUTO || g->format == PM_OMICS_OLINK) &&
        strcmp(g->path, "-") != 0) {
        /* a wide Olink sheet saved as text has padded title rows */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", pm_ctx_errmsg(g->ctx) ? pm_ctx_errmsg(g->ctx) : "");
        if (open_wide(g) == 0)
            return 0;
        return pm_err(g->ctx, rc, "%s", msg);
    }
    if (rc < 0)
        return rc;
    if (pm_tsv_ncols(g->t) == 1 && strcmp(g->path, "-") != 0) {
        const char *h = pm_tsv_colname(g->t, 0);
        char sep = strchr(h, ';') ? ';' : strchr(h, ',') ? ',' : 0;
        if (sep) {
            pm_tsv_close(g->t);
            g->t = NULL;
            to.sep = sep;
            to.quotes = 1;
            if ((rc = pm_tsv_open(g->ctx, g->path, &to, &g->t)) < 0) {
                if (rc != PM_EINPUT ||
                    (g->format != PM_OMICS_AUTO && g->format != PM_OMICS_OLINK))
                    return rc;
                char msg[1024]; /* padded title rows of a wide sheet? */
                snprintf(msg, sizeof msg, "%s", pm_ctx_errmsg(g->ctx) ? pm_ctx_errmsg(g->ctx) : "");
                if (open_wide(g) == 0)
                    return 0;
                return pm_err(g->ctx, rc, "%s", msg);
            }
        }
    }
    int is_long = pm_tsv_col(g->t, "SampleID") >= 0 && pm_tsv_col(g->t, "OlinkID") >= 0 &&
                  pm_tsv_col(g->t, "NPX") >= 0;
    const char *c0 = pm_tsv_colname(g->t, 0);
    int fmt = g->format;
    if (!is_long && strcmp(g->path, "-") != 0 &&
        (fmt == PM_OMICS_OLINK ||
         (fmt == PM_OMICS_AUTO && strcmp(c0, "feature_id") && strcmp(c0, "sample_id")))) {
        pm_tsv_t *keep = g->t;
        g->t = NULL;
        if (open_wide(g) == 0) {
            pm_tsv_close(keep);
            return 0;
        }
        g->t = keep; /* not wide either: the reader below names the problem */
        g->format = fmt;
    }
    if (g->format == PM_OMICS_AUTO)
        g->format = is_long ? PM_OMICS_OLINK : PM_OMICS_MATRIX;
    return 0;
}

int pm_omics_ingest(pm_store_t *st, const char *path, const pm_omics_opts_t *o,
                    pm_omics_result_t *res)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    if (res)
        memset(res, 0, sizeof *res);
    if (!o || !o->assay || !*o->assay)
        return pm_err(ctx, PM_EUSAGE, "an omics ingest needs an assay name");
    if (o->format < PM_OMICS_AUTO || o->format > PM_OMICS_OLINK_WIDE ||
        (o->layout != PM_OMICS_FEATURES_BY_SAMPLES && o->layout != PM_OMICS_SAMPLES_BY_FEATURES))
        return pm_err(ctx, PM_EUSAGE, "unknown omics format or layout");
    if ((o->format == PM_OMICS_OLINK || o->format == PM_OMICS_OLINK_WIDE) &&
        o->layout != PM_OMICS_FEATURES_BY_SAMPLES)
        return pm_err(ctx, PM_EUSAGE, "the Olink formats have no layout option");
    ing_t g = {.st = st, .ctx = ctx, .path = path, .o = o, .format = o->format, .layout = o->layout};
    outs_t outs = {0};
    int rc = pm_catalog_begin(st);
    if (rc < 0)
        return rc;
    if ((rc = collect_garbage(st)) < 0)
        goto out;
    int found = pm_catom_assay(st, o->assay, &g.assay, g.assay_name, sizeof g.assay_name);
    if (found < 0) {
        rc = found;
        goto out;
    }
    if (!found) {
        rc = pm_err(ctx, PM_EINPUT,
                    "assay '%s' has no samples in this store (load the samples table first)",
                    o->assay);
        goto out;
    }
    if ((rc = open_table(&g)) < 0)
        goto out;
    if (g.format != PM_OMICS_MATRIX && g.layout != PM_OMICS_FEATURES_BY_SAMPLES) {
        rc = pm_err(ctx, PM_EUSAGE, "the Olink formats have no layout option");
        goto out;
    }
    if (g.format == PM_OMICS_OLINK_WIDE) {
        rc = read_olink_wide(&g);
        g.format = PM_OMICS_OLINK; /* stored as Olink values */
    } else {
        rc = g.format == PM_OMICS_OLINK ? read_olink(&g) : read_matrix(&g);
    }
    pm_tsv_close(g.t);
    g.t = NULL;
    if (rc < 0)
        goto out;
    if ((rc = resolve_samples(&g)) < 0)
        goto out;
    int64_t ingest;
    if ((rc = pm_catom_next_batch(st, &outs.next_id)) < 0 ||
        (rc = pm_catom_ingest_row(st, path, g.rows, &ingest)) < 0)
        goto out;
    rc = g.format == PM_OMICS_OLINK ? store_olink(&g, &outs, ingest)
                                    : store_matrix(&g, &outs, ingest);
    if (rc < 0)
        goto out;
    rc = pm_catalog_commit(st);
out:
    if (rc < 0) {
        pm_catalog_rollback(st);
        for (size_t i = 0; i < outs.n; i++)
            if (outs.b[i].written)
                unlink(outs.b[i].path); /* else the next writer removes it */
    } else {
        g.res.rows = g.rows;
        g.res.features = (int64_t)g.fname.n;
        g.res.batches = (int64_t)outs.n;
        if (res)
            *res = g.res;
    }
    free(outs.b);
    ing_free(&g);
    return rc;
}
