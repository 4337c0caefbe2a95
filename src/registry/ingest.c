/*
 * ingest.c - loading registry events (promise ingest registry), in the
 * long format of PRODUCT.md section 4 or in the layouts the Swedish
 * register holders deliver (docs/registry.md has the column mapping).
 *
 * One file is one catalog transaction. Rows become events (a patient
 * register visit gives one per diagnosis, external cause and procedure),
 * events are collected in a batch, sorted by their index key and written
 * with one prepared statement, so that the b-tree is filled in key order
 * rather than at random places. Any error rolls everything back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/cat_registry.h"
#include "catalog/catalog.h"
#include "registry/registry_int.h"

#define BATCH_EVENTS (1 << 18)
#define ROW_EVENTS_MAX 256
#define MAX_MULTI_COLS 64 /* DIA1..DIAn, EKOD1..n, MORSAK1..n, OP1..n */

static const char *const layout_names[] = {"long", "npr", "lmed", "dors", "cancer"};

int pm_layout_parse(const char *name)
{
    for (size_t i = 0; i < sizeof layout_names / sizeof *layout_names; i++)
        if (strcmp(layout_names[i], name) == 0)
            return (int)i;
    return PM_EINPUT;
}

const char *pm_layout_name(int layout)
{
    return layout >= 0 && layout < (int)(sizeof layout_names / sizeof *layout_names)
               ? layout_names[layout]
               : "";
}

/* Columns of the file as the layout reads them. -1 = absent. */
typedef struct cols {
    int id;
    int date, date_alt;       /* e.g. INDATUM and INDATUMA */
    int reg, code, value, pos, sys;               /* long */
    int source, hdia, icdo3;                      /* npr */
    int dia[MAX_MULTI_COLS], ndia;
    int ekod[MAX_MULTI_COLS], nekod;
    int op[MAX_MULTI_COLS], nop;
    int atc, antal, forpddd, ddd;                 /* lmed */
    int ulorsak, morsak[MAX_MULTI_COLS], nmorsak; /* dors */
    int topo, morph, icd10;                       /* cancer */
} cols_t;

typedef struct ingest {
    pm_store_t *st;
    pm_ctx_t *ctx;
    pm_tsv_t *t;
    const pm_registry_opts_t *o;
    cols_t c;
    unsigned char *used; /* per column: read by the layout */
    pm_catreg_event_t row[ROW_EVENTS_MAX];
    int nrow;
    pm_catreg_event_t *batch;
    size_t nbatch;
    pm_catreg_writer_t *w;
    pm_registry_result_t res;
    int64_t individual;
} ingest_t;

/* ---- columns ---- */

static int use(ingest_t *g, const char *name)
{
    int c = pm_registry_findcol(g->t, name);
    if (c >= 0)
        g->used[c] = 1;
    return c;
}

/* The first of several names that is present. */
static int use_any(ingest_t *g, const char *const *names)
{
    for (; *names; names++) {
        int c = use(g, *names);
        if (c >= 0)
            return c;
    }
    return -1;
}

/* Columns PREFIX<n> (DIA1..DIA30), in file order; "OP" alone counts when
 * bare is set. */
static int use_numbered(ingest_t *g, const char *prefix, int bare, int *out, int *n)
{
    size_t pl = strlen(prefix);
    *n = 0;
    for (int i = 0; i < pm_tsv_ncols(g->t); i++) {
        const char *name = pm_tsv_colname(g->t, i);
        if (strncasecmp(name, prefix, pl) != 0)
            continue;
        const char *p = name + pl;
        int ok = *p ? 1 : bare;
        for (; *p; p++)
            if (*p < '0' || *p > '9')
                ok = 0;
        if (!ok)
            continue;
        if (*n >= MAX_MULTI_COLS)
            return pm_err(g->ctx, PM_ELIMIT, "%s:1: more than %d columns named %s<n>",
                          pm_tsv_path(g->t), MAX_MULTI_COLS, prefix);
        out[(*n)++] = i;
        g->used[i] = 1;
    }
    return 0;
}

static int need(ingest_t *g, int col, const char *what)
{
    if (col >= 0)
        return 0;
    return pm_err(g->ctx, PM_EINPUT, "%s:1: missing column %s (layout %s)", pm_tsv_path(g->t),
                  what, pm_layout_name(g->o->layout));
}

/* Columns a layout knows but does not load; tolerated without
 * --ignore-extra. */
static const char *const known_npr[] = {"AR", "UTDATUM", "UTDATUMA", "SNOMED3", "SNOMEDO10",
                                        "ALDER", "KON", "LK", "LAN", "MVO", "SJUKHUS",
                                        "PVARD", "INSATT", "UTSATT", "VTID", NULL};
static const char *const known_lmed[] = {"FDATUM", "AR", "ALDER", "KON", "LK", "VARUNR",
                                         "FORPSTL", "OTYP", NULL};
static const char *const known_dors[] = {"AR", "DODSDATUM_ORIG", "ALDER", "KON", "LK", NULL};

static int setup_columns(ingest_t *g)
{
    cols_t *c = &g->c;
    int rc = 0;
    const char *const *known = NULL;
    switch (g->o->layout) {
    case PM_LAYOUT_LONG: {
        /* exact names, as every promise table */
        const char *names[] = {"date", "register", "code", "value", "position", "system"};
        int *slots[] = {&c->date, &c->reg, &c->code, &c->value, &c->pos, &c->sys};
        for (int i = 0; i < 6; i++) {
            *slots[i] = pm_tsv_col(g->t, names[i]);
            if (*slots[i] >= 0)
                g->used[*slots[i]] = 1;
        }
        c->date_alt = -1;
        if ((rc = need(g, c->date, "'date'")) < 0 || (rc = need(g, c->reg, "'register'")) < 0 ||
            (rc = need(g, c->code, "'code'")) < 0)
            return rc;
        break;
    }
    case PM_LAYOUT_NPR:
        c->date = use(g, "INDATUM");
        c->date_alt = use(g, "INDATUMA");
        c->source = use(g, "SOURCE");
        c->hdia = use(g, "HDIA");
        c->icdo3 = use(g, "ICDO3");
        if ((rc = use_numbered(g, "DIA", 0, c->dia, &c->ndia)) < 0 ||
            (rc = use_numbered(g, "EKOD", 1, c->ekod, &c->nekod)) < 0 ||
            (rc = use_numbered(g, "OP", 1, c->op, &c->nop)) < 0)
            return rc;
        if (c->date < 0 && c->date_alt < 0)
            return need(g, -1, "INDATUM (or INDATUMA)");
        if ((rc = need(g, c->hdia, "HDIA")) < 0)
            return rc;
        known = known_npr;
        break;
    case PM_LAYOUT_LMED: {
        c->date = use(g, "EDATUM");
        c->date_alt = -1;
        c->atc = use(g, "ATC");
        c->antal = use(g, "ANTAL");
        c->forpddd = use(g, "FORPDDD");
        c->ddd = use(g, "DDD");
        if ((rc = need(g, c->date, "EDATUM")) < 0 || (rc = need(g, c->atc, "ATC")) < 0)
            return rc;
        known = known_lmed;
        break;
    }
    case PM_LAYOUT_DORS:
        c->date = use(g, "DODSDAT");
        c->date_alt = -1;
        c->ulorsak = use(g, "ULORSAK");
        if ((rc = use_numbered(g, "MORSAK", 1, c->morsak, &c->nmorsak)) < 0)
            return rc;
        if ((rc = need(g, c->date, "DODSDAT")) < 0 || (rc = need(g, c->ulorsak, "ULORSAK")) < 0)
            return rc;
        known = known_dors;
        break;
    case PM_LAYOUT_CANCER: {
        static const char *const dates[] = {"DIADAT", "DIAGDAT", "DIAGNOSDATUM", NULL};
        static const char *const topo[] = {"TOPOGRAFI", "TOPO", "ICDO3_TOPOGRAFI", NULL};
        static const char *const morph[] = {"MORFOLOGI", "MORF", "ICDO3", "ICDO3_MORFOLOGI",
                                            NULL};
        static const char *const icd10[] = {"ICDO10", "ICD10", NULL};
        c->date = use_any(g, dates);
        c->date_alt = -1;
        c->topo = use_any(g, topo);
        c->morph = use_any(g, morph);
        c->icd10 = use_any(g, icd10);
        if ((rc = need(g, c->date, "DIADAT")) < 0)
            return rc;
        if (c->topo < 0 && c->morph < 0 && c->icd10 < 0)
            return need(g, -1, "TOPOGRAFI, MORFOLOGI/ICDO3 or ICDO10");
        break;
    }
    default:
        return pm_err(g->ctx, PM_EUSAGE, "unknown registry layout %d", g->o->layout);
    }
    for (const char *const *k = known; k && *k; k++)
        use(g, *k);
    if (!g->o->ignore_extra) {
        for (int i = 0; i < pm_tsv_ncols(g->t); i++)
            if (!g->used[i])
                return pm_err(g->ctx, PM_EINPUT,
                              "%s:1: column '%s' is not read by the %s layout (pass "
                              "--ignore-extra to skip it)",
                              pm_tsv_path(g->t), pm_tsv_colname(g->t, i),
                              pm_layout_name(g->o->layout));
    }
    return 0;
}

/* ---- values ---- */

static int field_date(ingest_t *g, int col, int partial_ok, int *ymd)
{
    const char *s = pm_tsv_field(g->t, col);
    if (pm_registry_date_parse(s, ymd) == 0)
        return 0;
    int y, m, d;
    if (partial_ok && pm_registry_date_split(s, &y, &m, &d) == 0 && y >= 1800 && y <= 2199 &&
        m >= 0 && m <= 12 && (m > 0 || d == 0) && d >= 0 &&
        (m == 0 || d <= pm_registry_month_days(y, m))) {
        /* an unknown day is the 15th, an unknown month 1 July */
        if (m == 0) {
            m = 7;
            d = 1;
        } else if (d == 0) {
            d = 15;
        }
        *ymd = y * 10000 + m * 100 + d;
        return 0;
    }
    return pm_tsv_err(g->t, col, PM_EINPUT, "not a date (YYYY-MM-DD or YYYYMMDD): '%s'", s);
}

static int field_number(ingest_t *g, int col, double *v)
{
    const char *s = pm_tsv_field(g->t, col);
    char buf[64];
    size_t n = strlen(s);
    if (n >= sizeof buf)
        return pm_tsv_err(g->t, col, PM_EINPUT, "not a number");
    for (size_t i = 0; i <= n; i++)
        buf[i] = s[i] == ',' ? '.' : s[i]; /* Swedish decimal comma */
    char *end;
    errno = 0;
    *v = strtod(buf, &end);
    while (*end == ' ')
        end++;
    if (end == buf || *end || errno)
        return pm_tsv_err(g->t, col, PM_EINPUT, "not a number: '%s'", s);
    return 0;
}

/* The row's event date from the primary column, or the alternative one;
 * both present must agree. 0 = *ymd set, 1 = no date in the row. */
static int row_date(ingest_t *g, int partial_ok, int *ymd)
{
    int a = g->c.date >= 0 && !pm_registry_missing(pm_tsv_field(g->t, g->c.date));
    int b = g->c.date_alt >= 0 && !pm_registry_missing(pm_tsv_field(g->t, g->c.date_alt));
    int rc, y2;
    if (a && (rc = field_date(g, g->c.date, partial_ok, ymd)) < 0)
        return rc;
    if (b) {
        if ((rc = field_date(g, g->c.date_alt, partial_ok, &y2)) < 0)
            return rc;
        if (a && y2 != *ymd)
            return pm_tsv_err(g->t, g->c.date_alt, PM_EINPUT, "disagrees with %s",
                              pm_tsv_colname(g->t, g->c.date));
        *ymd = y2;
    }
    return a || b ? 0 : 1;
}

/* ---- events of a row ---- */

static int add(ingest_t *g, int dom, int pos, int col, const char *raw, int has_value,
               double value)
{
    if (g->nrow >= ROW_EVENTS_MAX)
        return pm_tsv_err(g->t, col, PM_ELIMIT, "more than %d events in one row",
                          ROW_EVENTS_MAX);
    pm_catreg_event_t *e = &g->row[g->nrow];
    const char *why = "";
    if (pm_code_normalize(dom, raw, e->code, &why) < 0)
        return pm_tsv_err(g->t, col, PM_EINPUT, "%s: '%s'", why, raw);
    e->domain = (uint8_t)dom;
    e->position = (uint8_t)pos;
    e->has_value = (uint8_t)has_value;
    e->value = has_value ? value : 0.0;
    g->nrow++;
    return 0;
}

/* A diagnosis: ICD-9 when it starts with a digit ("591,99"), else ICD-10. */
static int add_diag(ingest_t *g, int icd10, int icd9, int pos, int col)
{
    const char *s = pm_tsv_field(g->t, col);
    if (pm_registry_missing(s))
        return 0;
    while (*s == ' ')
        s++;
    int dom = *s >= '0' && *s <= '9' ? icd9 : icd10;
    if (dom < 0)
        return pm_tsv_err(g->t, col, PM_EINPUT, "ICD-9 code in the cancer register: '%s'", s);
    return add(g, dom, pos, col, s, 0, 0.0);
}

/* A field holding codes separated by blanks ("JDF00 TJD10"). */
static int add_list(ingest_t *g, int dom, int pos, int col)
{
    const char *s = pm_tsv_field(g->t, col);
    if (pm_registry_missing(s))
        return 0;
    while (*s) {
        while (*s == ' ')
            s++;
        size_t n = strcspn(s, " ");
        if (!n)
            break;
        char code[64];
        if (n >= sizeof code)
            return pm_tsv_err(g->t, col, PM_EINPUT, "code too long");
        memcpy(code, s, n);
        code[n] = '\0';
        int rc = add(g, dom, pos, col, code, 0, 0.0);
        if (rc < 0)
            return rc;
        s += n;
    }
    return 0;
}

static int row_long(ingest_t *g)
{
    pm_tsv_t *t = g->t;
    cols_t *c = &g->c;
    static const char *const regs[] = {"patient", "procedure", "drug", "cancer", "death"};
    const char *reg = pm_tsv_field(t, c->reg);
    int r = -1;
    for (int i = 0; i < 5; i++)
        if (strcmp(reg, regs[i]) == 0)
            r = i;
    if (r < 0)
        return pm_tsv_err(t, c->reg, PM_EINPUT,
                          "unknown register '%s' (patient, procedure, drug, cancer or death)",
                          reg);
    const char *code = pm_tsv_field(t, c->code);
    if (pm_registry_missing(code))
        return pm_tsv_err(t, c->code, PM_EINPUT, "missing code");
    while (*code == ' ')
        code++;
    int digit = *code >= '0' && *code <= '9';

    int pos = PM_POS_MAIN;
    if (c->pos >= 0 && !pm_registry_missing(pm_tsv_field(t, c->pos))) {
        const char *p = pm_tsv_field(t, c->pos);
        if (strcmp(p, "main") == 0)
            pos = PM_POS_MAIN;
        else if (strcmp(p, "secondary") == 0)
            pos = PM_POS_SECONDARY;
        else if (strcmp(p, "external") == 0 && r == 0)
            pos = PM_POS_EXTERNAL;
        else
            return pm_tsv_err(t, c->pos, PM_EINPUT, "unknown position '%s' (main, secondary%s)",
                              p, r == 0 ? " or external" : "");
    }
    /* the code system: from the register, the code's shape, or 'system' */
    const char *sys = c->sys >= 0 && !pm_registry_missing(pm_tsv_field(t, c->sys))
                          ? pm_tsv_field(t, c->sys)
                          : NULL;
    int dom = -1;
    switch (r) {
    case 0:
        dom = sys ? (!strcmp(sys, "icd10") ? PM_DOM_PATIENT_ICD10
                     : !strcmp(sys, "icd9") ? PM_DOM_PATIENT_ICD9
                                            : -1)
                  : (digit ? PM_DOM_PATIENT_ICD9 : PM_DOM_PATIENT_ICD10);
        break;
    case 1:
        dom = !sys || !strcmp(sys, "kva") ? PM_DOM_PROCEDURE_KVA : -1;
        break;
    case 2:
        dom = !sys || !strcmp(sys, "atc") ? PM_DOM_DRUG_ATC : -1;
        break;
    case 3:
        if (sys && !strcmp(sys, "icd10"))
            dom = PM_DOM_CANCER_ICD10;
        else if (!sys || !strcmp(sys, "icdo3"))
            dom = (*code == 'C' || *code == 'c') ? PM_DOM_CANCER_TOPO : PM_DOM_CANCER_MORPH;
        else if (!strcmp(sys, "icdo3-topography"))
            dom = PM_DOM_CANCER_TOPO;
        else if (!strcmp(sys, "icdo3-morphology"))
            dom = PM_DOM_CANCER_MORPH;
        break;
    case 4:
        dom = sys ? (!strcmp(sys, "icd10") ? PM_DOM_DEATH_ICD10
                     : !strcmp(sys, "icd9") ? PM_DOM_DEATH_ICD9
                                            : -1)
                  : (digit ? PM_DOM_DEATH_ICD9 : PM_DOM_DEATH_ICD10);
        break;
    }
    if (dom < 0)
        return pm_tsv_err(t, c->sys, PM_EINPUT, "code system '%s' does not belong to the %s register",
                          sys, regs[r]);
    double v = 0.0;
    int has_v = c->value >= 0 && !pm_registry_missing(pm_tsv_field(t, c->value));
    int rc;
    if (has_v && (rc = field_number(g, c->value, &v)) < 0)
        return rc;
    return add(g, dom, pos, c->code, code, has_v, v);
}

static int row_npr(ingest_t *g)
{
    pm_tsv_t *t = g->t;
    cols_t *c = &g->c;
    int cancer = 0, rc;
    if (c->source >= 0 && !pm_registry_missing(pm_tsv_field(t, c->source))) {
        const char *s = pm_tsv_field(t, c->source);
        if (!strcasecmp(s, "cancer"))
            cancer = 1;
        else if (strcasecmp(s, "inpatient") && strcasecmp(s, "outpatient"))
            return pm_tsv_err(t, c->source, PM_EINPUT,
                              "unknown source '%s' (inpatient, outpatient or cancer)", s);
    }
    /* A merged file (swereg) marks cancer register rows with SOURCE=cancer:
     * their HDIA is the tumour's ICD-10 code and ICDO3 its morphology. The
     * other columns of such a row are patient register variables and are
     * read as in every other row. */
    int d10 = cancer ? PM_DOM_CANCER_ICD10 : PM_DOM_PATIENT_ICD10;
    int d9 = cancer ? -1 : PM_DOM_PATIENT_ICD9;
    if ((rc = add_diag(g, d10, d9, PM_POS_MAIN, c->hdia)) < 0)
        return rc;
    for (int i = 0; i < c->ndia; i++)
        if ((rc = add_diag(g, PM_DOM_PATIENT_ICD10, PM_DOM_PATIENT_ICD9, PM_POS_SECONDARY,
                           c->dia[i])) < 0)
            return rc;
    if (cancer && c->icdo3 >= 0 && !pm_registry_missing(pm_tsv_field(t, c->icdo3)))
        if ((rc = add(g, PM_DOM_CANCER_MORPH, PM_POS_MAIN, c->icdo3, pm_tsv_field(t, c->icdo3),
                      0, 0.0)) < 0)
            return rc;
    for (int i = 0; i < c->nekod; i++) {
        const char *s = pm_tsv_field(t, c->ekod[i]);
        if (!pm_registry_missing(s) &&
            (rc = add(g, PM_DOM_PATIENT_ICD10, PM_POS_EXTERNAL, c->ekod[i], s, 0, 0.0)) < 0)
            return rc;
    }
    for (int i = 0; i < c->nop; i++)
        if ((rc = add_list(g, PM_DOM_PROCEDURE_KVA, PM_POS_MAIN, c->op[i])) < 0)
            return rc;
    return 0;
}

static int row_lmed(ingest_t *g)
{
    pm_tsv_t *t = g->t;
    cols_t *c = &g->c;
    const char *atc = pm_tsv_field(t, c->atc);
    if (pm_registry_missing(atc))
        return 0;
    double v = 0.0, a, f;
    int has_v = 0, rc;
    int ha = c->antal >= 0 && !pm_registry_missing(pm_tsv_field(t, c->antal));
    int hf = c->forpddd >= 0 && !pm_registry_missing(pm_tsv_field(t, c->forpddd));
    if (ha && hf) {
        if ((rc = field_number(g, c->antal, &a)) < 0 || (rc = field_number(g, c->forpddd, &f)) < 0)
            return rc;
        v = a * f; /* packages x DDD per package */
        has_v = 1;
    } else if (c->ddd >= 0 && !pm_registry_missing(pm_tsv_field(t, c->ddd))) {
        if ((rc = field_number(g, c->ddd, &v)) < 0)
            return rc;
        has_v = 1;
    }
    return add(g, PM_DOM_DRUG_ATC, PM_POS_MAIN, c->atc, atc, has_v, v);
}

static int row_dors(ingest_t *g)
{
    int rc = add_diag(g, PM_DOM_DEATH_ICD10, PM_DOM_DEATH_ICD9, PM_POS_MAIN, g->c.ulorsak);
    for (int i = 0; rc >= 0 && i < g->c.nmorsak; i++)
        rc = add_diag(g, PM_DOM_DEATH_ICD10, PM_DOM_DEATH_ICD9, PM_POS_SECONDARY, g->c.morsak[i]);
    return rc;
}

static int row_cancer(ingest_t *g)
{
    pm_tsv_t *t = g->t;
    cols_t *c = &g->c;
    struct {
        int col, dom;
    } f[] = {{c->topo, PM_DOM_CANCER_TOPO}, {c->morph, PM_DOM_CANCER_MORPH},
             {c->icd10, PM_DOM_CANCER_ICD10}};
    for (int i = 0; i < 3; i++) {
        if (f[i].col < 0 || pm_registry_missing(pm_tsv_field(t, f[i].col)))
            continue;
        int rc = add(g, f[i].dom, PM_POS_MAIN, f[i].col, pm_tsv_field(t, f[i].col), 0, 0.0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- batches ---- */

static int ev_cmp(const void *a, const void *b)
{
    const pm_catreg_event_t *x = a, *y = b;
    if (x->domain != y->domain)
        return x->domain < y->domain ? -1 : 1;
    int c = strcmp(x->code, y->code);
    if (c)
        return c;
    if (x->individual != y->individual)
        return x->individual < y->individual ? -1 : 1;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    if (x->position != y->position)
        return x->position < y->position ? -1 : 1;
    return 0;
}

static int flush(ingest_t *g)
{
    /* a stable order for identical keys is not needed: they are the same
     * event, told apart only by occurrence */
    qsort(g->batch, g->nbatch, sizeof *g->batch, ev_cmp);
    for (size_t i = 0; i < g->nbatch; i++) {
        int ins = 0;
        int rc = pm_catreg_writer_put(g->w, &g->batch[i], &ins);
        if (rc < 0)
            return rc;
        if (ins)
            g->res.inserted++;
        else
            g->res.present++;
    }
    g->nbatch = 0;
    return 0;
}

static int ingest_rows(ingest_t *g, pm_resolver_t *rs)
{
    int (*row_fn)(ingest_t *) = NULL;
    switch (g->o->layout) {
    case PM_LAYOUT_LONG: row_fn = row_long; break;
    case PM_LAYOUT_NPR: row_fn = row_npr; break;
    case PM_LAYOUT_LMED: row_fn = row_lmed; break;
    case PM_LAYOUT_DORS: row_fn = row_dors; break;
    default: row_fn = row_cancer; break;
    }
    int partial_dates = g->o->layout == PM_LAYOUT_DORS;
    int r;
    while ((r = pm_tsv_next(g->t)) > 0) {
        g->res.rows++;
        if ((g->res.rows & 0xffff) == 0)
            pm_progress(g->ctx, "rows", (uint64_t)g->res.rows, 0);
        int64_t idx = 0;
        int wd = 0;
        int found = pm_resolver_get(rs, &idx, &wd);
        if (found < 0)
            return found;
        g->nrow = 0;
        int rc = row_fn(g);
        if (rc < 0)
            return rc;
        int ymd = 0;
        if ((rc = row_date(g, partial_dates, &ymd)) < 0)
            return rc;
        if (rc == 1 && g->nrow > 0)
            return pm_tsv_err(g->t, g->c.date >= 0 ? g->c.date : g->c.date_alt, PM_EINPUT,
                              "missing date");
        if (!found) {
            if (!g->o->skip_unknown)
                return pm_tsv_err(g->t, rs->ic.col, PM_EINPUT,
                                  "individual not in the population (ingest the population "
                                  "first, or pass --skip-unknown)");
            g->res.skipped_unknown++;
            continue;
        }
        if (wd) {
            g->res.skipped_withdrawn++;
            continue;
        }
        for (int i = 0; i < g->nrow; i++) {
            g->row[i].individual = idx;
            g->row[i].date = ymd;
            g->batch[g->nbatch++] = g->row[i];
            g->res.events++;
            if (g->nbatch == BATCH_EVENTS && (rc = flush(g)) < 0)
                return rc;
        }
        /* the batch always has room for one more row */
        if (g->nbatch + ROW_EVENTS_MAX > BATCH_EVENTS && (rc = flush(g)) < 0)
            return rc;
    }
    if (r < 0)
        return r;
    return flush(g);
}

int pm_registry_ingest(pm_store_t *st, const char *path, const pm_registry_opts_t *o,
                       pm_registry_result_t *res)
{
    static const pm_registry_opts_t defaults;
    if (!o)
        o = &defaults;
    pm_ctx_t *ctx = pm_store_ctx(st);
    if (res)
        memset(res, 0, sizeof *res);
    if (o->layout < PM_LAYOUT_LONG || o->layout > PM_LAYOUT_CANCER)
        return pm_err(ctx, PM_EUSAGE, "unknown registry layout %d", o->layout);

    /* CSV (quoted) by extension, else TSV */
    size_t n = strlen(path);
    int csv = (n > 4 && !strcasecmp(path + n - 4, ".csv")) ||
              (n > 7 && !strcasecmp(path + n - 7, ".csv.gz"));
    pm_tsv_opts_t to = {.sep = csv ? ',' : '\t', .quotes = csv};
    ingest_t *g = calloc(1, sizeof *g);
    if (!g)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    g->st = st;
    g->ctx = ctx;
    g->o = o;
    pm_resolver_t rs;
    memset(&rs, 0, sizeof rs);
    int64_t ingest_id = 0;
    int rc = pm_tsv_open(ctx, path, &to, &g->t);
    if (rc < 0)
        goto out_free;
    g->used = calloc((size_t)pm_tsv_ncols(g->t) + 1, 1);
    g->batch = malloc(BATCH_EVENTS * sizeof *g->batch);
    if (!g->used || !g->batch) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out_free;
    }
    if ((rc = pm_catalog_begin(st)) < 0)
        goto out_free;
    int id_col = -1;
    if ((rc = pm_resolver_init(&rs, st, g->t, o, &id_col)) < 0)
        goto out_rollback;
    g->used[id_col] = 1;
    if ((rc = setup_columns(g)) < 0)
        goto out_rollback;
    if ((rc = pm_catreg_ingest_begin(st, "registry", path, &ingest_id)) < 0)
        goto out_rollback;
    if ((rc = pm_catreg_writer_new(st, ingest_id, &g->w)) < 0)
        goto out_rollback;
    if ((rc = ingest_rows(g, &rs)) < 0)
        goto out_rollback;
    pm_catreg_writer_free(g->w);
    g->w = NULL;
    int changed = g->res.inserted > 0 || rs.ic.bound;
    if ((rc = pm_catreg_ingest_end(st, ingest_id, g->res.rows, changed)) < 0)
        goto out_rollback;
    if ((rc = pm_catalog_commit(st)) < 0)
        goto out_free;
    pm_progress(ctx, "rows", (uint64_t)g->res.rows, (uint64_t)g->res.rows);
    if (res)
        *res = g->res;
    goto out_free;
out_rollback:
    pm_catreg_writer_free(g->w);
    g->w = NULL;
    pm_catalog_rollback(st);
out_free:
    pm_resolver_free(&rs);
    pm_catreg_writer_free(g->w);
    pm_tsv_close(g->t);
    free(g->used);
    free(g->batch);
    free(g);
    return rc < 0 ? rc : 0;
}
