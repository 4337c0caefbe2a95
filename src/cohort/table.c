/*
 * table.c - breakdowns of a set of individuals by sex, county, source,
 * assay or 10-year age band (pm_cohort_tabulate). Raw counts only: the
 * policy module decides what of them may be released.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/cat_cohort.h"
#include "cohort/cohort_int.h"
#include "cohort/term.h"

enum field_kind { F_SEX, F_COUNTY, F_SOURCE, F_ASSAY, F_AGEBAND };

static const struct {
    const char *name;
    enum field_kind kind;
} field_names[] = {
    {"sex", F_SEX},       {"county", F_COUNTY},    {"source", F_SOURCE},
    {"assay", F_ASSAY},   {"age-band", F_AGEBAND}, {"age_band", F_AGEBAND},
    {"ageband", F_AGEBAND},
};

#define NBANDS 11 /* 0-9 ... 90-99, 100+ */

/* One dimension: either a partition (cat[i] = category of individual i,
 * -1 = outside every category) or groups (member sets, may overlap). */
typedef struct dim {
    enum field_kind kind;
    size_t nlab;
    char **lab;
    int *cat;               /* partition */
    pm_cat_groups_t *groups; /* source / assay */
} dim_t;

size_t pm_cohort_table_ncells(const pm_cohort_table_t *t)
{
    size_t r = t->ndim >= 1 ? t->nlab[0] + 1 : 1;
    size_t c = t->ndim >= 2 ? t->nlab[1] + 1 : 1;
    return r * c;
}

void pm_cohort_table_free(pm_cohort_table_t *t)
{
    if (!t)
        return;
    for (int d = 0; d < PM_COHORT_MAX_DIMS; d++) {
        free(t->field[d]);
        for (size_t i = 0; t->lab[d] && i < t->nlab[d]; i++)
            free(t->lab[d][i]);
        free(t->lab[d]);
    }
    free(t->cell);
    free(t);
}

static void dim_clear(dim_t *d)
{
    for (size_t i = 0; d->lab && i < d->nlab; i++)
        free(d->lab[i]);
    free(d->lab);
    free(d->cat);
    pm_cat_groups_free(d->groups);
}

static int add_label(dim_t *d, const char *s)
{
    char **nl = realloc(d->lab, (d->nlab + 1) * sizeof *nl);
    if (!nl)
        return PM_ENOMEM;
    d->lab = nl;
    if (!(d->lab[d->nlab] = strdup(s)))
        return PM_ENOMEM;
    d->nlab++;
    return 0;
}

/* Builds a partition dimension: value(i) in 0..nval-1 or -1 for "NA";
 * categories are the values present among present individuals. */
static int build_partition(pm_ctx_t *ctx, dim_t *d, const pm_cat_demo_t *demo,
                           const pm_bitset_t *present, int ref)
{
    size_t n = demo->n;
    int nval = d->kind == F_SEX ? 2 : d->kind == F_COUNTY ? 100 : NBANDS;
    int *val = malloc((n ? n : 1) * sizeof *val);
    d->cat = malloc((n ? n : 1) * sizeof *d->cat);
    int map[101];
    int used[101] = {0};
    if (!val || !d->cat) {
        free(val);
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        int v = -1;
        if (d->kind == F_SEX)
            v = demo->sex[i] == 'F' ? 0 : demo->sex[i] == 'M' ? 1 : -1;
        else if (d->kind == F_COUNTY)
            v = demo->county[i];
        else {
            int a = pm_cohort_person_age(demo, i, ref);
            v = a < 0 ? -1 : a >= 100 ? NBANDS - 1 : a / 10;
        }
        val[i] = v;
        if (i < present->n && pm_bitset_get(present, i))
            used[v < 0 ? nval : v] = 1;
    }
    if (d->kind == F_SEX)
        used[0] = used[1] = 1; /* F and M always shown */
    int rc = 0;
    for (int v = 0; v <= nval && rc == 0; v++) {
        map[v] = -1;
        if (!used[v])
            continue;
        char lab[16];
        if (v == nval)
            snprintf(lab, sizeof lab, "NA");
        else if (d->kind == F_SEX)
            snprintf(lab, sizeof lab, "%s", v == 0 ? "F" : "M");
        else if (d->kind == F_COUNTY)
            snprintf(lab, sizeof lab, "%02d", v);
        else if (v == NBANDS - 1)
            snprintf(lab, sizeof lab, "100+");
        else
            snprintf(lab, sizeof lab, "%d-%d", v * 10, v * 10 + 9);
        map[v] = (int)d->nlab;
        rc = add_label(d, lab);
    }
    for (size_t i = 0; i < n; i++)
        d->cat[i] = map[val[i] < 0 ? nval : val[i]];
    free(val);
    return rc < 0 ? pm_err(ctx, PM_ENOMEM, "out of memory") : 0;
}

static int parse_fields(pm_ctx_t *ctx, const char *fields, enum field_kind *k, char **names,
                        int *ndim)
{
    *ndim = 0;
    if (!fields || !*fields)
        return 0;
    const char *s = fields;
    for (;;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        while (len && (*s == ' ' || *s == '\t')) {
            s++;
            len--;
        }
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        size_t f;
        for (f = 0; f < sizeof field_names / sizeof *field_names; f++)
            if (strlen(field_names[f].name) == len && strncasecmp(field_names[f].name, s, len) == 0)
                break;
        if (f == sizeof field_names / sizeof *field_names)
            return pm_err(ctx, PM_EUSAGE,
                          "unknown breakdown field '%.*s' (sex, county, source, assay, age-band)",
                          (int)len, s);
        if (*ndim == PM_COHORT_MAX_DIMS)
            return pm_err(ctx, PM_EUSAGE, "at most %d breakdown fields", PM_COHORT_MAX_DIMS);
        for (int d = 0; d < *ndim; d++)
            if (k[d] == field_names[f].kind)
                return pm_err(ctx, PM_EUSAGE, "breakdown field '%.*s' given twice", (int)len, s);
        k[*ndim] = field_names[f].kind;
        names[*ndim] = (char *)field_names[f].name;
        if (field_names[f].kind == F_AGEBAND)
            names[*ndim] = "age-band";
        (*ndim)++;
        if (!e)
            return 0;
        s = e + 1;
    }
}

/* Categories of individual i along dimension d: writes up to cap indices. */
static size_t cats_of(const dim_t *d, size_t i, size_t *buf)
{
    if (d->cat) {
        if (d->cat[i] < 0)
            return 0;
        buf[0] = (size_t)d->cat[i];
        return 1;
    }
    size_t k = 0;
    for (size_t g = 0; g < d->groups->n; g++)
        if (pm_bitset_get(d->groups->members[g], i))
            buf[k++] = g;
    return k;
}

int pm_cohort_tabulate(pm_store_t *st, const pm_bitset_t *set, const char *fields,
                       const pm_cohort_opts_t *o, pm_cohort_table_t **out)
{
    *out = NULL;
    pm_ctx_t *ctx = pm_store_ctx(st);
    enum field_kind kinds[PM_COHORT_MAX_DIMS];
    char *names[PM_COHORT_MAX_DIMS];
    int ndim;
    int rc = parse_fields(ctx, fields, kinds, names, &ndim);
    if (rc < 0)
        return rc;
    int ref = pm_cohort_ref_date(st, o);
    if (ref < 0)
        return ref;
    int64_t n = pm_store_n_individuals(st);
    if (n < 0)
        return (int)n;
    if ((size_t)n != set->n)
        return pm_err(ctx, PM_EINTERNAL, "set of %zu individuals for a store of %lld", set->n,
                      (long long)n);

    dim_t dims[PM_COHORT_MAX_DIMS];
    memset(dims, 0, sizeof dims);
    pm_cat_demo_t *demo = NULL;
    pm_bitset_t *present = NULL;
    pm_cohort_table_t *t = calloc(1, sizeof *t);
    size_t *buf0 = NULL, *buf1 = NULL;
    if (!t) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    t->ndim = ndim;
    for (int d = 0; d < ndim && rc == 0; d++) {
        dims[d].kind = kinds[d];
        if (kinds[d] == F_SOURCE || kinds[d] == F_ASSAY) {
            rc = pm_cat_sample_groups(st, kinds[d] == F_ASSAY ? PM_CAT_ASSAY : PM_CAT_SOURCE,
                                      &dims[d].groups);
            for (size_t g = 0; rc == 0 && g < dims[d].groups->n; g++)
                if (add_label(&dims[d], dims[d].groups->name[g]) < 0)
                    rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        } else {
            if (!demo && (rc = pm_cat_demo_load(st, &demo)) < 0)
                break;
            if (!present) {
                if (!(present = pm_bitset_new((size_t)n))) {
                    rc = pm_err(ctx, PM_ENOMEM, "out of memory");
                    break;
                }
                if ((rc = pm_cat_present(st, present)) < 0)
                    break;
            }
            rc = build_partition(ctx, &dims[d], demo, present, ref);
        }
        t->additive[d] = dims[d].cat != NULL;
    }
    if (rc < 0)
        goto out;

    size_t R = ndim >= 1 ? dims[0].nlab + 1 : 1, C = ndim >= 2 ? dims[1].nlab + 1 : 1;
    t->cell = calloc(R * C, sizeof *t->cell);
    buf0 = malloc(R * sizeof *buf0);
    buf1 = malloc(C * sizeof *buf1);
    if (!t->cell || !buf0 || !buf1) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    int64_t total = 0;
    for (size_t i = pm_bitset_next(set, 0); i != (size_t)-1; i = pm_bitset_next(set, i + 1)) {
        total++;
        size_t k0 = ndim >= 1 ? cats_of(&dims[0], i, buf0) : 0;
        size_t k1 = ndim >= 2 ? cats_of(&dims[1], i, buf1) : 0;
        for (size_t a = 0; a < k0; a++) {
            for (size_t b = 0; b < k1; b++)
                t->cell[buf0[a] * C + buf1[b]]++;
            if (ndim >= 2)
                t->cell[buf0[a] * C + (C - 1)]++; /* row margin */
        }
        if (ndim == 1)
            for (size_t a = 0; a < k0; a++)
                t->cell[buf0[a]]++;
        if (ndim >= 2)
            for (size_t b = 0; b < k1; b++)
                t->cell[(R - 1) * C + buf1[b]]++; /* column margin */
    }
    t->cell[R * C - 1] = total;
    for (int d = 0; d < ndim; d++) {
        t->field[d] = strdup(names[d]);
        t->nlab[d] = dims[d].nlab;
        t->lab[d] = dims[d].lab;
        dims[d].lab = NULL;
        if (!t->field[d]) {
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
            goto out;
        }
    }
out:
    for (int d = 0; d < PM_COHORT_MAX_DIMS; d++)
        dim_clear(&dims[d]);
    free(buf0);
    free(buf1);
    pm_bitset_free(present);
    pm_cat_demo_free(demo);
    if (rc < 0) {
        pm_cohort_table_free(t);
        return rc;
    }
    *out = t;
    return 0;
}
