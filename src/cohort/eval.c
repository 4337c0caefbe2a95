/*
 * eval.c - evaluation of a cohort expression tree to a set of
 * individuals (semantics in docs/cohort.md).
 *
 * Each node yields a new bitset over the whole population. Terms are
 * evaluated by the function the kind table names; demographic terms share
 * one load of the population's columns per evaluation. Every intermediate
 * result is intersected with the present (non-withdrawn) population, so
 * "not" is relative to it and withdrawn individuals never appear.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/cat_cohort.h"
#include "cohort/cohort_int.h"
#include "cohort/term.h"
#include "promise/genotype.h"
#include "promise/omics.h"
#include "promise/registry.h"

typedef struct evalctx {
    pm_store_t *st;
    pm_ctx_t *ctx;
    size_t n;
    int ref;                 /* reference date YYYYMMDD */
    pm_bitset_t *present;    /* not withdrawn */
    pm_cat_demo_t *demo;     /* loaded on first use */
    const pm_cohort_opts_t *opts;
} evalctx_t;

static void warn(evalctx_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(evalctx_t *e, const char *fmt, ...)
{
    if (!e->opts || !e->opts->warn)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    e->opts->warn(e->opts->warn_ud, msg);
}

/* ---- dates ---- */

int pm_cohort_age(int32_t birth, int32_t at)
{
    if (!birth || at < birth)
        return -1;
    return (at / 10000 - birth / 10000) - ((at % 10000) < (birth % 10000));
}

int pm_cohort_person_age(const pm_cat_demo_t *d, size_t i, int ref)
{
    int32_t at = ref;
    if (d->death[i] && d->death[i] < at)
        at = d->death[i];
    return pm_cohort_age(d->birth[i], at);
}

static int valid_ymd(int v)
{
    char s[16];
    snprintf(s, sizeof s, "%04d-%02d-%02d", v / 10000, v / 100 % 100, v % 100);
    return v > 0 && pm_cat_parse_date(s) == v;
}

int pm_cohort_ref_date(pm_store_t *st, const pm_cohort_opts_t *o)
{
    if (o && o->ref_date) {
        if (!valid_ymd(o->ref_date))
            return pm_err(pm_store_ctx(st), PM_EUSAGE, "reference date %d is not a date (YYYYMMDD)",
                          o->ref_date);
        return o->ref_date;
    }
    char buf[64];
    int rc = pm_store_setting(st, "reference_date", buf, sizeof buf);
    if (rc < 0)
        return rc;
    if (rc > 0) {
        int v = pm_cat_parse_date(buf);
        if (!v && strlen(buf) == 8) {
            char s[16];
            snprintf(s, sizeof s, "%.4s-%.2s-%.2s", buf, buf + 4, buf + 6);
            v = pm_cat_parse_date(s);
        }
        if (!v)
            return pm_err(pm_store_ctx(st), PM_ECORRUPT,
                          "store setting reference_date '%s' is not a date", buf);
        return v;
    }
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/* ---- terms ---- */

static int need_demo(evalctx_t *e)
{
    return e->demo ? 0 : pm_cat_demo_load(e->st, &e->demo);
}

static int t_demo(evalctx_t *e, const pm_cohort_term_t *t, pm_bitset_t *out)
{
    int rc = need_demo(e);
    if (rc < 0)
        return rc;
    const pm_cat_demo_t *d = e->demo;
    size_t n = d->n < out->n ? d->n : out->n;
    for (size_t i = 0; i < n; i++) {
        int hit = 0;
        switch (t->kind) {
        case PM_TERM_SEX: hit = d->sex[i] == t->sex; break;
        case PM_TERM_AGE_GE: {
            int a = pm_cohort_person_age(d, i, e->ref);
            hit = a >= 0 && a >= t->lo;
            break;
        }
        case PM_TERM_AGE_LT: {
            int a = pm_cohort_person_age(d, i, e->ref);
            hit = a >= 0 && a < t->lo;
            break;
        }
        case PM_TERM_BORN: {
            int y = d->birth[i] / 10000;
            hit = d->birth[i] && y >= t->lo && y <= t->hi;
            break;
        }
        case PM_TERM_COUNTY: hit = d->county[i] == t->lo; break;
        case PM_TERM_ALIVE:
            hit = (!d->birth[i] || d->birth[i] <= e->ref) && (!d->death[i] || d->death[i] > e->ref);
            break;
        default: break;
        }
        if (hit)
            pm_bitset_set(out, i);
    }
    return 0;
}

static int t_sample(evalctx_t *e, const pm_cohort_term_t *t, pm_bitset_t *out)
{
    int what = t->kind == PM_TERM_ASSAY ? PM_CAT_ASSAY : PM_CAT_SOURCE;
    int rc = pm_cat_with_sample(e->st, what, t->name, out);
    if (rc == 0)
        warn(e, "column %d: %s '%s' is not in this store; the term matches no one", t->col,
             what == PM_CAT_ASSAY ? "assay" : "source", t->name);
    return rc < 0 ? rc : 0;
}

/* The registry's word for a kind ("icd10"); the cohort words match. */
static const char *registry_term(pm_term_kind_t k)
{
    switch (k) {
    case PM_TERM_ICD10: return "icd10";
    case PM_TERM_ICD9: return "icd9";
    case PM_TERM_ATC: return "atc";
    case PM_TERM_KVA: return "kva";
    case PM_TERM_ICDO3: return "icdo3";
    case PM_TERM_DEATH: return "death";
    default: return "";
    }
}

/* Prefixes a library message with the term's column, unless it has one. */
static int at_column(evalctx_t *e, const pm_cohort_term_t *t, int rc)
{
    const char *m = pm_ctx_errmsg(e->ctx);
    if (rc < 0 && strncmp(m, "column ", 7) != 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", m);
        pm_err(e->ctx, rc, "column %d: %s", t->col, msg);
    }
    return rc;
}

static int t_registry(evalctx_t *e, const pm_cohort_term_t *t, pm_bitset_t *out)
{
    int rc = pm_registry_individuals(e->st, registry_term(t->kind), t->code, out);
    return rc < 0 ? at_column(e, t, rc) : 0;
}

static int t_endpoint(evalctx_t *e, const pm_cohort_term_t *t, pm_bitset_t *out)
{
    int rc = pm_endpoint_eval(e->st, t->name, out);
    if (rc == PM_ENOTFOUND)
        return pm_err(e->ctx, PM_EINPUT, "column %d: no endpoint named '%s'", t->col, t->name);
    return rc < 0 ? at_column(e, t, rc) : 0;
}

static int t_carrier(evalctx_t *e, const pm_cohort_term_t *t, pm_bitset_t *out)
{
    int rc = pm_genotype_carriers(e->st, t->chrom, t->pos, t->ref, t->alt, out);
    if (rc == 0)
        warn(e, "column %d: variant %s:%lld:%s:%s is not in this store; the term matches no one",
             t->col, t->chrom, (long long)t->pos, t->ref, t->alt);
    return rc < 0 ? at_column(e, t, rc) : 0;
}

static int t_omics(evalctx_t *e, const pm_cohort_term_t *t, pm_bitset_t *out)
{
    return pm_cohort_provide_omics(e->st, t, out);
}

/* The omics provider (src/omics/om_cohort.c) replaces the weak default of
 * pm_cohort_provide_omics only if its object file is linked; referencing
 * a function defined there makes every program that evaluates cohorts
 * link it, so that omics: terms mean the same in the CLI, the server and
 * the unit tests. */
__attribute__((used)) static const void *const eval_link_omics = (const void *)pm_omics_threshold;

/* The term registry: one evaluator per kind. */
static int (*const term_eval[PM_TERM_NKINDS])(evalctx_t *, const pm_cohort_term_t *,
                                              pm_bitset_t *) = {
    [PM_TERM_SEX] = t_demo,        [PM_TERM_AGE_GE] = t_demo,    [PM_TERM_AGE_LT] = t_demo,
    [PM_TERM_BORN] = t_demo,       [PM_TERM_COUNTY] = t_demo,    [PM_TERM_ALIVE] = t_demo,
    [PM_TERM_SOURCE] = t_sample,   [PM_TERM_ASSAY] = t_sample,   [PM_TERM_ICD10] = t_registry,
    [PM_TERM_ATC] = t_registry,    [PM_TERM_KVA] = t_registry,   [PM_TERM_ICDO3] = t_registry,
    [PM_TERM_DEATH] = t_registry,  [PM_TERM_CARRIER] = t_carrier, [PM_TERM_OMICS_GT] = t_omics,
    [PM_TERM_OMICS_LT] = t_omics,  [PM_TERM_ICD9] = t_registry,  [PM_TERM_ENDPOINT] = t_endpoint,
};

/* ---- time windows ---- */

/* Pairs -> compressed rows (see pm_cohort_dates_t); v is sorted here. */
static int cmp_dated(const void *a, const void *b)
{
    const pm_cat_dated_t *x = a, *y = b;
    if (x->idx != y->idx)
        return x->idx < y->idx ? -1 : 1;
    return (x->date > y->date) - (x->date < y->date);
}

static int to_rows(evalctx_t *e, pm_cat_dated_t *v, size_t m, pm_cohort_dates_t *d)
{
    if (m > 1)
        qsort(v, m, sizeof *v, cmp_dated);
    d->n = e->n;
    d->off = calloc(e->n + 1, sizeof *d->off);
    d->date = malloc((m ? m : 1) * sizeof *d->date);
    if (!d->off || !d->date) {
        free(d->off);
        free(d->date);
        memset(d, 0, sizeof *d);
        return pm_err(e->ctx, PM_ENOMEM, "out of memory");
    }
    size_t k = 0;
    for (size_t j = 0; j < m; j++)
        if (v[j].idx >= 0 && (uint64_t)v[j].idx < e->n)
            d->off[v[j].idx + 1]++;
    for (size_t i = 0; i < e->n; i++)
        d->off[i + 1] += d->off[i];
    for (size_t j = 0; j < m; j++)
        if (v[j].idx >= 0 && (uint64_t)v[j].idx < e->n)
            d->date[k++] = v[j].date;
    return 0;
}

static int64_t registry_dates(evalctx_t *e, const pm_cohort_term_t *t, pm_cat_dated_t **out)
{
    *out = NULL;
    pm_event_iter_t *it;
    int rc = pm_registry_events_open(e->st, registry_term(t->kind), t->code, &it);
    if (rc < 0)
        return at_column(e, t, rc);
    pm_cat_dated_t *v = NULL;
    size_t n = 0, cap = 0;
    pm_event_t ev;
    while ((rc = pm_registry_events_next(it, &ev)) == 0) {
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 256;
            pm_cat_dated_t *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = pm_err(e->ctx, PM_ENOMEM, "out of memory");
                break;
            }
            v = nv;
            cap = nc;
        }
        v[n].idx = ev.individual;
        v[n].date = ev.date;
        n++;
    }
    pm_registry_events_close(it);
    if (rc < -1) {
        free(v);
        return at_column(e, t, rc);
    }
    *out = v;
    return (int64_t)n;
}

static int dates_of(evalctx_t *e, const pm_cohort_term_t *t, pm_cohort_dates_t *d)
{
    memset(d, 0, sizeof *d);
    pm_cat_dated_t *v;
    int64_t m;
    if (t->kind == PM_TERM_SOURCE || t->kind == PM_TERM_ASSAY)
        m = pm_cat_sample_dates(e->st, t->kind == PM_TERM_ASSAY ? PM_CAT_ASSAY : PM_CAT_SOURCE,
                                t->name, &v);
    else
        m = registry_dates(e, t, &v);
    if (m < 0)
        return (int)m;
    int rc = to_rows(e, v, (size_t)m, d);
    free(v);
    return rc;
}

static int32_t days_in_month(int y, int m)
{
    static const int md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return md[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

/* Days since 1970-01-01 of a YYYYMMDD date, and back (civil calendar). */
static int64_t ymd_days(int32_t v)
{
    int64_t y = v / 10000, m = v / 100 % 100, d = v % 100;
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int32_t days_ymd(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp + (mp < 10 ? 3 : -9);
    y += m <= 2;
    return (int32_t)(y * 10000 + m * 100 + d);
}

/* date + sign * amount units; months and years keep the day of month,
 * clamped to the month's end (2024-02-29 + 1 year = 2025-02-28). */
static int32_t date_add(int32_t v, int sign, int amount, int unit)
{
    if (unit == PM_UNIT_DAYS || unit == PM_UNIT_WEEKS)
        return days_ymd(ymd_days(v) + (int64_t)sign * amount * (unit == PM_UNIT_WEEKS ? 7 : 1));
    int64_t months = (int64_t)amount * (unit == PM_UNIT_YEARS ? 12 : 1) * sign;
    int64_t y = v / 10000, m = v / 100 % 100, d = v % 100;
    int64_t t = y * 12 + (m - 1) + months;
    y = t / 12;
    m = t % 12 + 1;
    if (d > days_in_month((int)y, (int)m))
        d = days_in_month((int)y, (int)m);
    return (int32_t)(y * 10000 + m * 100 + d);
}

static void quant_range(const pm_cohort_dates_t *d, size_t i, int q, size_t *b, size_t *end)
{
    *b = d->off[i];
    *end = d->off[i + 1];
    if (*b == *end)
        return;
    if (q == PM_Q_FIRST)
        *end = *b + 1;
    else if (q == PM_Q_LAST)
        *b = *end - 1;
}

static int eval_window(evalctx_t *e, const pm_node_t *n, pm_bitset_t *out)
{
    pm_cohort_dates_t ev, an;
    int rc = dates_of(e, &n->a->term, &ev);
    if (rc < 0)
        return rc;
    if ((rc = dates_of(e, &n->b->term, &an)) < 0) {
        free(ev.off);
        free(ev.date);
        return rc;
    }
    size_t m = ev.n < an.n ? ev.n : an.n;
    if (m > out->n)
        m = out->n;
    for (size_t i = 0; i < m; i++) {
        size_t eb, ee, ab, ae;
        quant_range(&ev, i, n->ev_q, &eb, &ee);
        quant_range(&an, i, n->an_q, &ab, &ae);
        int hit = 0;
        for (size_t a = ab; a < ae && !hit; a++) {
            int32_t anchor = an.date[a], lo, hi;
            if (n->dir == PM_DIR_AFTER) {
                lo = anchor;
                hi = date_add(anchor, 1, n->amount, n->unit);
            } else {
                lo = date_add(anchor, -1, n->amount, n->unit);
                hi = anchor;
            }
            for (size_t x = eb; x < ee && !hit; x++)
                hit = ev.date[x] >= lo && ev.date[x] <= hi;
        }
        if (hit)
            pm_bitset_set(out, i);
    }
    free(ev.off);
    free(ev.date);
    free(an.off);
    free(an.date);
    return 0;
}

/* ---- the tree ---- */

static int eval_node(evalctx_t *e, const pm_node_t *n, pm_bitset_t **out)
{
    *out = NULL;
    pm_bitset_t *r = NULL, *s = NULL;
    int rc = 0;
    switch (n->op) {
    case PM_NODE_TERM:
    case PM_NODE_WINDOW:
        if (!(r = pm_bitset_new(e->n)))
            return pm_err(e->ctx, PM_ENOMEM, "out of memory");
        if (n->op == PM_NODE_WINDOW)
            rc = eval_window(e, n, r);
        else if (n->term.kind < PM_TERM_NKINDS && term_eval[n->term.kind])
            rc = term_eval[n->term.kind](e, &n->term, r);
        else
            rc = pm_err(e->ctx, PM_EINTERNAL, "column %d: no evaluator for this term", n->col);
        break;
    case PM_NODE_NOT:
        if ((rc = eval_node(e, n->a, &r)) == 0)
            pm_bitset_not(r);
        break;
    case PM_NODE_AND:
    case PM_NODE_OR:
        if ((rc = eval_node(e, n->a, &r)) == 0 && (rc = eval_node(e, n->b, &s)) == 0) {
            if (n->op == PM_NODE_AND)
                pm_bitset_and(r, s);
            else
                pm_bitset_or(r, s);
        }
        pm_bitset_free(s);
        break;
    }
    if (rc < 0) {
        pm_bitset_free(r);
        return rc;
    }
    pm_bitset_and(r, e->present);
    *out = r;
    return 0;
}

int pm_cohort_eval_parsed(pm_store_t *st, const pm_cohort_t *c, const pm_cohort_opts_t *o,
                          pm_bitset_t **out)
{
    *out = NULL;
    evalctx_t e = {.st = st, .ctx = pm_store_ctx(st), .opts = o};
    int64_t n = pm_store_n_individuals(st);
    if (n < 0)
        return (int)n;
    e.n = (size_t)n;
    int ref = pm_cohort_ref_date(st, o);
    if (ref < 0)
        return ref;
    e.ref = ref;
    if (!(e.present = pm_bitset_new(e.n)))
        return pm_err(e.ctx, PM_ENOMEM, "out of memory");
    int rc = pm_cat_present(st, e.present);
    if (rc == 0 && o && o->purpose && *o->purpose) {
        pm_bitset_t *ex = pm_bitset_new(e.n);
        rc = ex ? pm_consent_excluded(st, o->purpose, ex) : pm_err(e.ctx, PM_ENOMEM, "out of memory");
        if (rc >= 0) {
            pm_bitset_andnot(e.present, ex);
            rc = 0;
        }
        pm_bitset_free(ex);
    }
    if (rc == 0) {
        if (c && c->root) {
            rc = eval_node(&e, c->root, out);
        } else {
            *out = e.present;
            e.present = NULL;
        }
    }
    pm_bitset_free(e.present);
    pm_cat_demo_free(e.demo);
    return rc;
}

int pm_cohort_eval_opts(pm_store_t *st, const char *expr, const pm_cohort_opts_t *o,
                        pm_bitset_t **out)
{
    *out = NULL;
    pm_cohort_t *c;
    int rc = pm_cohort_parse(pm_store_ctx(st), expr, &c);
    if (rc < 0)
        return rc;
    rc = pm_cohort_eval_parsed(st, c, o, out);
    pm_cohort_free(c);
    return rc;
}

int pm_cohort_eval(pm_store_t *st, const char *expr, pm_bitset_t **out)
{
    return pm_cohort_eval_opts(st, expr, NULL, out);
}
