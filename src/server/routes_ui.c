/*
 * routes_ui.c - the browser UI (docs/ui.md): its static files, embedded
 * by CMake (pm_srv_ui_files), and the /api/v1 routes only the UI needs:
 * who am I, search, a variant by sex/county/source, a region table, saved
 * cohorts, stored GWAS results, omics distributions, projects and the
 * audit log. Every route runs behind the same token check, route tier and
 * audit entry as the others (server.c); what a route releases goes
 * through the policy layer as in routes_api.c.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog/cat_ui.h"
#include "promise/audit.h"
#include "promise/cohort.h"
#include "promise/genotype.h"
#include "promise/omics.h"
#include "server/server_int.h"

/* ---- static files ---- */

static const char ui_missing[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>promise</title></head><body>"
    "<h1>promise</h1><p>The browser UI was not built into this server (it was configured "
    "with -DPM_UI=OFF, or web/src was missing). The HTTP API is at <a "
    "href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>; see docs/ui.md.</p></body></html>\n";

static const srv_ui_file_t *ui_file(const char *name)
{
    for (size_t i = 0; i < pm_srv_ui_nfiles; i++)
        if (strcmp(pm_srv_ui_files[i].name, name) == 0)
            return &pm_srv_ui_files[i];
    return NULL;
}

static int send_file(srv_req_t *r, const srv_ui_file_t *f)
{
    r->raw = (const char *)f->data;
    r->raw_len = f->len;
    r->content_type = f->content_type;
    return 0;
}

int srv_ui_index(srv_req_t *r)
{
    const srv_ui_file_t *f = ui_file("index.html");
    if (f)
        return send_file(r, f);
    r->raw = ui_missing;
    r->content_type = "text/html; charset=utf-8";
    return 0;
}

int srv_ui_asset(srv_req_t *r)
{
    const srv_ui_file_t *f = ui_file(r->arg);
    if (!f)
        return srv_error(r, 404, "no UI file named '%.200s'", r->arg);
    return send_file(r, f);
}

/* ---- /api/v1/me ---- */

int srv_ui_me(srv_req_t *r)
{
    pm_policy_t pol;
    int rc = pm_policy_for_store(r->st, r->tier, &pol);
    if (rc < 0)
        return srv_fail(r, rc);
    int can_count = pm_policy_allows(r->ctx, &pol, PM_RELEASE_COUNT) == 0;
    int can_freq = pm_policy_allows(r->ctx, &pol, PM_RELEASE_FREQ) == 0;
    pm_ctx_clear(r->ctx);
    int exact = r->tier >= PM_TIER_PROJECT;
    int thr = r->tier == PM_TIER_PUBLIC ? pol.beacon_min_ac : pol.k;
    json_t *hidden = json_array(), *projects = json_array();
    if (!can_count)
        json_array_append_new(hidden, json_string("cohort counts and breakdowns: the public tier "
                                                  "gets no cohort counts (sign in with a "
                                                  "registered token)"));
    else if (!exact)
        json_array_append_new(hidden, json_sprintf("small counts: a count of 1 to %d people is "
                                                   "shown as \"<%d\", and a cell that would let "
                                                   "it be worked out is hidden (null)",
                                                   pol.k - 1, pol.k));
    if (can_freq && !exact)
        json_array_append_new(hidden, json_sprintf("rare alleles: an allele count of 1 to %d is "
                                                   "shown as \"<%d\", and AF is hidden with it; "
                                                   "an allele carried by all but 1 to %d copies "
                                                   "is hidden too",
                                                   thr - 1, thr, thr - 1));
    if (!exact)
        json_array_append_new(hidden, json_string("per-individual omics trajectories and saved "
                                                  "cohorts: project tier and above"));
    if (r->tier < PM_TIER_STEWARD)
        json_array_append_new(hidden, json_string("projects, grants and the audit log: steward "
                                                  "tier"));
    for (size_t i = 0; r->who && i < r->who->n_projects; i++)
        json_array_append_new(projects, json_string(r->who->projects[i].name));
    r->json = json_pack("{s:s,s:s,s:i,s:i,s:i,s:o,s:o,s:{s:b,s:b,s:b,s:b,s:b,s:b}}", "user",
                        r->who ? r->who->user : "anonymous", "tier", pm_tier_name(r->tier),
                        "k", pol.k, "beacon_min_ac", pol.beacon_min_ac, "threshold", thr,
                        "projects", projects, "hidden", hidden, "allows", "count", can_count,
                        "freq", can_freq, "gwas", r->tier >= PM_TIER_REGISTERED, "omics",
                        can_count, "trajectories", exact, "steward",
                        r->tier >= PM_TIER_STEWARD);
    return r->json ? 0 : -1;
}

/* ---- frequency tables (pm_freq's output, any number of strata) ---- */

#define UI_MAX_COLS 256
#define UI_MAX_STRATA ((UI_MAX_COLS - 9) / 2)

typedef struct ui_row {
    char *chrom, *id, *ref, *alt; /* point into the table's text */
    int64_t pos, ac, an, nhomalt;
    int64_t *s_ac, *s_an; /* nstrata each */
    double af_shown;      /* the released AF, -1 when hidden (for sorting) */
} ui_row_t;

typedef struct ui_table {
    char *text;
    int nstrata;
    char *stratum[UI_MAX_STRATA];
    ui_row_t *row;
    size_t n, cap;
    int64_t *cells;
} ui_table_t;

static void table_free(ui_table_t *t)
{
    free(t->text);
    free(t->row);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

static int split_tabs(char *line, char **f)
{
    int n = 0;
    for (char *s = line;; s++) {
        if (n < UI_MAX_COLS)
            f[n++] = s;
        s = strchr(s, '\t');
        if (!s)
            break;
        *s = '\0';
    }
    return n;
}

/* pm_freq over region (cohort NULL, by NULL or a stratum) into t. */
static int table_load(srv_req_t *r, const char *region, const char *by, ui_table_t *t)
{
    size_t size = 0;
    memset(t, 0, sizeof *t);
    FILE *mem = open_memstream(&t->text, &size);
    if (!mem)
        return pm_err(r->ctx, PM_ENOMEM, "out of memory");
    pm_gt_query_opts_t o = {.region = region, .by = by};
    int rc = pm_freq(r->st, &o, mem);
    fclose(mem);
    if (rc < 0)
        return rc;
    size_t nlines = 0;
    for (char *p = t->text; p && *p; p++)
        nlines += *p == '\n';
    char *f[UI_MAX_COLS], *save = NULL;
    char *line = strtok_r(t->text, "\n", &save);
    if (line && line[0] == '#') {
        int n = split_tabs(line, f);
        for (int i = 9; i + 1 < n && t->nstrata < UI_MAX_STRATA; i += 2)
            t->stratum[t->nstrata++] = f[i] + 3; /* "AC_x" */
        line = strtok_r(NULL, "\n", &save);
    }
    t->row = calloc(nlines + 1, sizeof *t->row);
    t->cells = calloc((nlines + 1) * (size_t)(2 * t->nstrata + 1), sizeof *t->cells);
    if (!t->row || !t->cells)
        return pm_err(r->ctx, PM_ENOMEM, "out of memory");
    for (; line; line = strtok_r(NULL, "\n", &save)) {
        int n = split_tabs(line, f);
        if (n < 9)
            continue;
        ui_row_t *w = &t->row[t->n];
        w->chrom = f[0];
        w->pos = strtoll(f[1], NULL, 10);
        w->id = f[2];
        w->ref = f[3];
        w->alt = f[4];
        w->ac = strtoll(f[5], NULL, 10);
        w->an = strtoll(f[6], NULL, 10);
        w->nhomalt = strtoll(f[8], NULL, 10);
        w->s_ac = t->cells + t->n * (size_t)(2 * t->nstrata + 1);
        w->s_an = w->s_ac + t->nstrata;
        for (int i = 0; i < t->nstrata && 10 + 2 * i < n; i++) {
            w->s_ac[i] = strtoll(f[9 + 2 * i], NULL, 10);
            w->s_an[i] = strtoll(f[10 + 2 * i], NULL, 10);
        }
        t->n++;
    }
    return 0;
}

static void variant_id(const ui_row_t *w, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s-%lld-%s-%s", w->chrom, (long long)w->pos, w->ref, w->alt);
}

/* ---- /api/v1/search?q= ---- */

static int is_rsid(const char *q)
{
    if (strncasecmp(q, "rs", 2) != 0 || !q[2])
        return 0;
    for (const char *p = q + 2; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

int srv_ui_search(srv_req_t *r)
{
    const char *q0 = pm_http_query_get(r->q, "q");
    if (!q0 || !*q0)
        return srv_error(r, 400, "missing parameter 'q' (CHR:POS:REF:ALT, CHR:POS, rsID or "
                                 "CHR:BEG-END)");
    char q[512], region[600];
    size_t n = 0;
    for (const char *p = q0; *p && n + 1 < sizeof q; p++)
        if (*p != ' ' && *p != ',')
            q[n++] = *p; /* "22:16,050,075" */
    q[n] = '\0';
    pm_policy_t pol;
    int rc = pm_policy_for_store(r->st, r->tier, &pol);
    if (rc == 0)
        rc = pm_policy_allows(r->ctx, &pol, PM_RELEASE_FREQ);
    if (rc < 0)
        return srv_fail(r, rc);
    ui_table_t t;
    json_t *vars = json_array();
    const char *kind = "variants";
    char chrom[PM_HTTP_CONTIG_MAX], a[256], b[256];
    long long pos = 0, end = 0;
    int consumed = 0, want_alleles = 0;
    if (is_rsid(q)) {
        rc = table_load(r, NULL, NULL, &t); /* every site: IDs are not indexed */
    } else if (sscanf(q, "%63[^:-]%*[:-]%lld%*[:-]%255[A-Za-z]%*[:-]%255[A-Za-z]%n", chrom, &pos,
                      a, b, &consumed) == 4 && !q[consumed]) {
        snprintf(region, sizeof region, "%s:%lld-%lld", chrom, pos, pos);
        want_alleles = 1;
        rc = table_load(r, region, NULL, &t);
    } else if (sscanf(q, "%63[^:]:%lld-%lld%n", chrom, &pos, &end, &consumed) == 3 &&
               !q[consumed]) {
        if (end < pos) {
            json_decref(vars);
            return srv_error(r, 400, "region end %lld is before its start %lld", end, pos);
        }
        snprintf(region, sizeof region, "%s:%lld-%lld", chrom, pos, end);
        kind = "region";
        json_decref(vars);
        r->json = json_pack("{s:s,s:s}", "kind", kind, "region", region);
        return r->json ? 0 : -1;
    } else if (sscanf(q, "%63[^:]:%lld%n", chrom, &pos, &consumed) == 2 && !q[consumed]) {
        snprintf(region, sizeof region, "%s:%lld-%lld", chrom, pos, pos);
        rc = table_load(r, region, NULL, &t);
    } else {
        json_decref(vars);
        return srv_error(r, 400, "'%.200s' is not CHR:POS:REF:ALT, CHR-POS-REF-ALT, CHR:POS, an "
                                 "rsID or CHR:BEG-END",
                         q0);
    }
    if (rc < 0) {
        json_decref(vars);
        table_free(&t);
        return srv_fail(r, rc);
    }
    for (size_t i = 0; i < t.n && json_array_size(vars) < 100; i++) {
        const ui_row_t *w = &t.row[i];
        if (is_rsid(q) && strcasecmp(w->id, q) != 0)
            continue;
        if (want_alleles && (strcasecmp(w->ref, a) != 0 || strcasecmp(w->alt, b) != 0))
            continue;
        char id[1024];
        variant_id(w, id, sizeof id);
        json_array_append_new(vars, json_pack("{s:s,s:s}", "variant", id, "id", w->id));
    }
    table_free(&t);
    r->json = json_pack("{s:s,s:o}", "kind", kind, "variants", vars);
    return r->json ? 0 : -1;
}

/* ---- /api/v1/freq/{CHROM-POS-REF-ALT} ---- */

int srv_ui_variant(srv_req_t *r)
{
    pm_http_variant_t v;
    char contig[PM_HTTP_CONTIG_MAX], region[PM_HTTP_CONTIG_MAX + 48];
    pm_policy_t pol;
    if (srv_variant_arg(r, &v, contig, region, &pol))
        return 0;
    int rc;
    static const char *const by[] = {"sex", "county", "source"};
    json_t *j = NULL, *strata = json_object();
    for (size_t k = 0; k < sizeof by / sizeof *by; k++) {
        ui_table_t t;
        rc = table_load(r, region, by[k], &t);
        if (rc < 0) {
            table_free(&t);
            json_decref(strata);
            json_decref(j);
            if (rc == PM_EINPUT)
                return srv_error(r, 404, "variant %s-%lld-%s-%s is not in this store", contig,
                                 (long long)v.pos, v.ref, v.alt);
            return srv_fail(r, rc);
        }
        const ui_row_t *w = NULL;
        for (size_t i = 0; i < t.n && !w; i++)
            if (t.row[i].pos == v.pos && strcmp(t.row[i].ref, v.ref) == 0 &&
                strcmp(t.row[i].alt, v.alt) == 0)
                w = &t.row[i];
        if (!w) {
            table_free(&t);
            json_decref(strata);
            json_decref(j);
            return srv_error(r, 404, "variant %s-%lld-%s-%s is not in this store", contig,
                             (long long)v.pos, v.ref, v.alt);
        }
        if (!j) {
            char id[1024];
            variant_id(w, id, sizeof id);
            j = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:i,s:i}", "variant", id, "id", w->id,
                          "chrom", w->chrom, "pos", (json_int_t)w->pos, "ref", w->ref, "alt",
                          w->alt, "tier", pm_tier_name(r->tier), "k", pol.k, "threshold",
                          r->tier == PM_TIER_PUBLIC ? pol.beacon_min_ac : pol.k);
            if (j)
                json_object_update_new(j, srv_freq_json(&pol, w->ac, w->an, 1, w->nhomalt));
        }
        json_t *s = json_object();
        for (int i = 0; i < t.nstrata; i++)
            json_object_set_new(s, t.stratum[i], srv_freq_json(&pol, w->s_ac[i], w->s_an[i], 0, 0));
        json_object_set_new(strata, by[k], s);
        table_free(&t);
    }
    if (!j) {
        json_decref(strata);
        return -1;
    }
    json_object_set_new(j, "by", strata);
    r->json = j;
    return 0;
}

/* A whole decimal integer query parameter: 0, or -1 when malformed. */
static int int_param(const char *s, long long dflt, long long *out)
{
    *out = dflt;
    if (!s)
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno)
        return -1;
    *out = v;
    return 0;
}

/* ---- /api/v1/region?region=&offset=&limit=&sort= ---- */

typedef struct sort_by {
    int desc;
    const char *key;
} sort_by_t;

static int cmp_rows(const void *pa, const void *pb, void *ud)
{
    const ui_row_t *a = pa, *b = pb;
    const sort_by_t *sb = ud;
    const char *sort_key = sb->key;
    int sort_desc = sb->desc;
    int c = 0;
    if (strcmp(sort_key, "af") == 0)
        c = (a->af_shown > b->af_shown) - (a->af_shown < b->af_shown);
    if (!c)
        c = (a->pos > b->pos) - (a->pos < b->pos);
    if (!c)
        c = strcmp(a->alt, b->alt);
    return sort_desc ? -c : c;
}

int srv_ui_region(srv_req_t *r)
{
    const char *region = pm_http_query_get(r->q, "region");
    const char *so = pm_http_query_get(r->q, "offset"), *sl = pm_http_query_get(r->q, "limit");
    const char *sort = pm_http_query_get(r->q, "sort");
    if (!region || !*region)
        return srv_error(r, 400, "missing parameter 'region' (CHR:BEG-END)");
    long long off, lim;
    if (int_param(so, 0, &off) < 0 || int_param(sl, 50, &lim) < 0 || off < 0 || lim < 1 ||
        lim > 1000)
        return srv_error(r, 400, "offset must be >= 0 and limit 1 to 1000");
    int desc = sort && sort[0] == '-';
    const char *key = sort ? sort + desc : "pos";
    if (strcmp(key, "pos") != 0 && strcmp(key, "af") != 0)
        return srv_error(r, 400, "sort is pos, af, -pos or -af, not '%.40s'", sort);
    pm_policy_t pol;
    int rc = pm_policy_for_store(r->st, r->tier, &pol);
    if (rc == 0)
        rc = pm_policy_allows(r->ctx, &pol, PM_RELEASE_FREQ);
    if (rc < 0)
        return srv_fail(r, rc);
    ui_table_t t;
    if ((rc = table_load(r, region, NULL, &t)) < 0) {
        table_free(&t);
        return srv_fail(r, rc);
    }
    /* Sort on what the caller may see: a hidden AF sorts as -1, so the
     * order of hidden rows (by position) says nothing about their AF. */
    for (size_t i = 0; i < t.n; i++) {
        pm_freq_cell_t f = pm_policy_freq_release(&pol, t.row[i].ac, t.row[i].an);
        t.row[i].af_shown = f.ac.state == PM_CELL_EXACT && t.row[i].an > 0 ? f.af : -1;
    }
    sort_by_t sb = {desc, key};
    qsort_r(t.row, t.n, sizeof *t.row, cmp_rows, &sb);
    json_t *rows = json_array();
    for (size_t i = (size_t)off; i < t.n && i < (size_t)(off + lim); i++) {
        const ui_row_t *w = &t.row[i];
        char id[1024];
        variant_id(w, id, sizeof id);
        json_t *row = json_pack("{s:s,s:s,s:I,s:s,s:s}", "variant", id, "id", w->id, "pos",
                                (json_int_t)w->pos, "ref", w->ref, "alt", w->alt);
        json_object_update_new(row, srv_freq_json(&pol, w->ac, w->an, 1, w->nhomalt));
        json_array_append_new(rows, row);
    }
    r->json = json_pack("{s:s,s:I,s:I,s:I,s:s,s:o}", "region", region, "total", (json_int_t)t.n,
                        "offset", (json_int_t)off, "limit", (json_int_t)lim, "sort",
                        sort ? sort : "pos", "rows", rows);
    table_free(&t);
    return r->json ? 0 : -1;
}

/* ---- saved cohorts ---- */

/* The project the caller names (or its only one); NULL after an error. */
static const char *pick_project(srv_req_t *r, const char *name)
{
    if (name && *name) {
        if (r->tier >= PM_TIER_STEWARD)
            return name;
        if (r->who && pm_principal_project(r->who, name))
            return name;
        srv_error(r, 403, "no grant for project '%.100s'", name);
        return NULL;
    }
    if (r->who && r->who->n_projects >= 1)
        return r->who->projects[0].name;
    srv_error(r, 400, "name a project (project=NAME): this token holds no project grant");
    return NULL;
}

static int on_cohort(void *ud, const pm_catui_cohort_t *c)
{
    json_array_append_new(ud, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)c->id,
                                        "project", c->project, "name", c->name, "expression",
                                        c->expression, "who", c->who, "at", c->at));
    return 0;
}

int srv_ui_cohorts(srv_req_t *r)
{
    const char *want = pm_http_query_get(r->q, "project");
    json_t *arr = json_array();
    int rc = 0;
    if (want && *want) {
        const char *p = pick_project(r, want);
        if (!p) {
            json_decref(arr);
            return 0;
        }
        rc = pm_catui_cohort_each(r->st, p, on_cohort, arr);
    } else if (r->tier >= PM_TIER_STEWARD) {
        rc = pm_catui_cohort_each(r->st, NULL, on_cohort, arr);
    } else {
        for (size_t i = 0; rc >= 0 && r->who && i < r->who->n_projects; i++)
            rc = pm_catui_cohort_each(r->st, r->who->projects[i].name, on_cohort, arr);
    }
    if (rc < 0) {
        json_decref(arr);
        return srv_fail(r, rc);
    }
    r->json = json_pack("{s:o}", "cohorts", arr);
    return r->json ? 0 : -1;
}

int srv_ui_cohort_save(srv_req_t *r)
{
    json_error_t err;
    json_t *body = json_loadb(r->body, r->body_len, 0, &err);
    const char *name = NULL, *expr = NULL, *proj = NULL;
    if (!body || json_unpack(body, "{s:s,s:s,s?s}", "name", &name, "expression", &expr,
                             "project", &proj) < 0) {
        json_decref(body);
        return srv_error(r, 400, "the body must be {\"name\":..., \"expression\":..., "
                                 "\"project\":...}");
    }
    int rc = 0;
    pm_cohort_t *c = NULL;
    const char *p = pick_project(r, proj);
    if (!p)
        goto out;
    if (!*name || strlen(name) > 100) {
        srv_error(r, 400, "a saved cohort needs a name of 1 to 100 characters");
        goto out;
    }
    if ((rc = pm_cohort_parse(r->ctx, expr, &c)) < 0) {
        srv_fail(r, rc);
        goto out;
    }
    if ((rc = pm_catui_cohort_save(r->st, p, name, expr, r->who ? r->who->user : "anonymous")) <
        0) {
        srv_fail(r, rc);
        goto out;
    }
    r->json = json_pack("{s:s,s:s,s:s}", "project", p, "name", name, "expression", expr);
out:
    pm_cohort_free(c);
    json_decref(body);
    return 0;
}

/* ---- stored GWAS results: STORE/results/NAME.tsv (+ the run's PREFIX.log) ---- */

static int results_dir(srv_req_t *r, char *buf, size_t cap)
{
    return snprintf(buf, cap, "%s/results", pm_store_path(r->st)) < (int)cap ? 0 : -1;
}

/* The tier a result file was released for, from its run's log (the log
 * beside it whose pheno lines name it, or NAME.log); steward when none. */
static int result_tier(const char *dir, const char *name, char *log, size_t cap)
{
    char path[PATH_MAX];
    int tier = PM_TIER_STEWARD;
    char stem[NAME_MAX + 1];
    snprintf(stem, sizeof stem, "%s", name);
    for (;;) {
        snprintf(path, sizeof path, "%s/%s.log", dir, stem);
        FILE *f = fopen(path, "r");
        if (f) {
            char line[4096];
            size_t used = 0;
            if (log && cap)
                log[0] = '\0';
            while (fgets(line, sizeof line, f)) {
                if (strncmp(line, "tier\t", 5) == 0) {
                    line[strcspn(line, "\n")] = '\0';
                    int t = pm_tier_parse(line + 5);
                    if (t >= 0)
                        tier = t;
                }
                if (log && used + strlen(line) + 1 < cap) {
                    memcpy(log + used, line, strlen(line) + 1);
                    used += strlen(line);
                }
            }
            fclose(f);
            return tier;
        }
        char *dot = strrchr(stem, '.');
        if (!dot)
            return tier;
        *dot = '\0'; /* PREFIX.NAME.tsv comes from PREFIX.log */
    }
}

int srv_ui_gwas_list(srv_req_t *r)
{
    char dir[PATH_MAX];
    if (results_dir(r, dir, sizeof dir) < 0)
        return srv_error(r, 500, "store path too long");
    json_t *arr = json_array();
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".tsv") != 0 || e->d_name[0] == '.')
            continue;
        char name[NAME_MAX + 1], path[PATH_MAX], log[2048];
        snprintf(name, sizeof name, "%.*s", (int)(l - 4), e->d_name);
        struct stat sb;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            stat(path, &sb) < 0)
            continue;
        int tier = result_tier(dir, name, log, sizeof log);
        /* a promise phewas table starts with #ENDPOINT */
        char first[16] = "";
        FILE *hf = fopen(path, "r");
        if (hf) {
            if (!fgets(first, sizeof first, hf))
                first[0] = '\0';
            fclose(hf);
        }
        int phewas = strncmp(first, "#ENDPOINT", 9) == 0 || strstr(name, "phewas") != NULL;
        json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:b,s:s,s:b}", "name", name, "tier",
                                             pm_tier_name(tier), "bytes", (json_int_t)sb.st_size,
                                             "allowed", r->tier >= tier, "log",
                                             r->tier >= tier ? log : "", "phewas", phewas));
    }
    if (d)
        closedir(d);
    r->json = json_pack("{s:s,s:o}", "directory", "STORE/results", "results", arr);
    return r->json ? 0 : -1;
}

int srv_ui_gwas_get(srv_req_t *r)
{
    const char *name = r->arg;
    if (!*name || name[0] == '.' || strchr(name, '/') || strlen(name) > 200)
        return srv_error(r, 400, "bad result name");
    char dir[PATH_MAX], path[PATH_MAX];
    if (results_dir(r, dir, sizeof dir) < 0 ||
        snprintf(path, sizeof path, "%s/%s.tsv", dir, name) >= (int)sizeof path)
        return srv_error(r, 400, "bad result name");
    int tier = result_tier(dir, name, NULL, 0);
    FILE *f = fopen(path, "rb");
    if (!f)
        return srv_error(r, 404, "no GWAS result named '%s' in STORE/results", name);
    if (r->tier < tier) {
        fclose(f);
        return srv_error(r, 403, "result '%s' was released for tier %s; yours is %s", name,
                         pm_tier_name(tier), pm_tier_name(r->tier));
    }
    struct stat sb;
    char *buf = NULL;
    if (fstat(fileno(f), &sb) == 0 && (buf = malloc((size_t)sb.st_size + 1)) &&
        fread(buf, 1, (size_t)sb.st_size, f) == (size_t)sb.st_size) {
        fclose(f);
        buf[sb.st_size] = '\0';
        r->raw = r->raw_owned = buf;
        r->raw_len = (size_t)sb.st_size;
        r->content_type = "text/tab-separated-values; charset=utf-8";
        if (!r->raw_len) {
            r->raw = "\n";
            r->raw_len = 1;
        }
        return 0;
    }
    fclose(f);
    free(buf);
    return srv_error(r, 500, "cannot read result '%s'", name);
}

/* ---- omics ---- */

static int on_feature(void *ud, const pm_omics_feature_t *f)
{
    if (json_array_size(ud) < 5000)
        json_array_append_new(ud, json_pack("{s:s,s:s,s:s,s:I}", "feature_id", f->feature_id,
                                            "name", f->name, "panel", f->panel, "samples",
                                            (json_int_t)f->samples));
    return 0;
}

int srv_ui_omics_features(srv_req_t *r)
{
    const char *assay = pm_http_query_get(r->q, "assay");
    if (!assay || !*assay)
        assay = "olink";
    json_t *arr = json_array();
    int rc = pm_omics_features_each(r->st, assay, on_feature, arr);
    if (rc < 0) {
        json_decref(arr);
        return srv_fail(r, rc);
    }
    r->json = json_pack("{s:s,s:o}", "assay", assay, "features", arr);
    return r->json ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define UI_BINS 24
#define UI_MAX_TRAJ 200

int srv_ui_omics_values(srv_req_t *r)
{
    const char *assay = pm_http_query_get(r->q, "assay");
    const char *feature = pm_http_query_get(r->q, "feature");
    const char *cohort = pm_http_query_get(r->q, "cohort");
    const char *traj = pm_http_query_get(r->q, "trajectories");
    int want_traj = traj && strcmp(traj, "1") == 0;
    if (!assay || !*assay || !feature || !*feature)
        return srv_error(r, 400, "missing parameter 'assay' or 'feature'");
    pm_policy_t pol;
    int rc = pm_policy_for_store(r->st, r->tier, &pol);
    if (rc == 0)
        rc = pm_policy_allows(r->ctx, &pol, PM_RELEASE_COUNT);
    if (rc < 0)
        return srv_fail(r, rc);
    if (want_traj && r->tier < PM_TIER_PROJECT)
        return srv_error(r, 403, "per-individual trajectories need the project tier; yours is %s",
                         pm_tier_name(r->tier));
    int exact = r->tier >= PM_TIER_PROJECT;
    pm_bitset_t *set = NULL;
    if (cohort && *cohort && (rc = pm_cohort_eval(r->st, cohort, &set)) < 0)
        return srv_fail(r, rc);
    pm_omics_choice_t first = {PM_OMICS_FIRST, 0}, all = {PM_OMICS_ALL, 0};
    pm_omics_vals_t *v = NULL;
    rc = pm_omics_values(r->st, assay, feature, set, &first, 0, &v);
    if (rc < 0) {
        pm_bitset_free(set);
        return srv_fail(r, rc);
    }
    double *x = malloc((v->n + 1) * sizeof *x);
    size_t n = 0;
    for (size_t i = 0; x && i < v->n; i++)
        if (!isnan(v->value[i]))
            x[n++] = v->value[i];
    r->n_individuals = (int64_t)n;
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i}", "assay", v->assay, "feature",
                          v->feature_id, "name", v->feature_name, "cohort",
                          cohort ? cohort : "", "tier", pm_tier_name(r->tier), "k", pol.k);
    pm_omics_vals_free(v);
    if (!x || !j) {
        free(x);
        json_decref(j);
        pm_bitset_free(set);
        return -1;
    }
    qsort(x, n, sizeof *x, cmp_double);
    if (!exact && n > 0 && n < (size_t)pol.k) {
        json_object_set_new(j, "n", json_sprintf("<%d", pol.k));
        json_object_set_new(j, "hidden", json_string("fewer than k people: no distribution is "
                                                     "shown"));
    } else if (n > 0) {
        /* The range runs from the 1st to the 99th percentile (values past it
         * go to the end bins), so no single person's extreme value shows. */
        double lo = pm_omics_quantile(x, n, 0.01), hi = pm_omics_quantile(x, n, 0.99);
        if (hi <= lo)
            hi = lo + 1;
        int64_t cnt[UI_BINS] = {0};
        for (size_t i = 0; i < n; i++) {
            int b = (int)((x[i] - lo) / (hi - lo) * UI_BINS);
            cnt[b < 0 ? 0 : b >= UI_BINS ? UI_BINS - 1 : b]++;
        }
        json_t *bins = json_array();
        for (int b = 0; b < UI_BINS; b++) {
            json_t *c = !exact && cnt[b] > 0 && cnt[b] < pol.k ? json_sprintf("<%d", pol.k)
                                                                : json_integer(cnt[b]);
            json_array_append_new(bins, json_pack("{s:f,s:f,s:o}", "lo",
                                                  lo + (hi - lo) * b / UI_BINS, "hi",
                                                  lo + (hi - lo) * (b + 1) / UI_BINS, "count", c));
        }
        json_object_set_new(j, "n", json_integer((json_int_t)n));
        json_object_set_new(j, "bins", bins);
        json_object_set_new(
            j, "quantiles",
            json_pack("{s:f,s:f,s:f,s:f,s:f}", "p05", pm_omics_quantile(x, n, 0.05), "p25",
                      pm_omics_quantile(x, n, 0.25), "p50", pm_omics_quantile(x, n, 0.5), "p75",
                      pm_omics_quantile(x, n, 0.75), "p95", pm_omics_quantile(x, n, 0.95)));
    } else {
        json_object_set_new(j, "n", json_integer(0));
    }
    free(x);
    if (want_traj) {
        /* Individuals with two or more valued samples, numbered in store
         * order (no pseudonyms), at most UI_MAX_TRAJ of them; below the
         * steward tier only those in the project's approved sources. */
        pm_bitset_t *tset = NULL;
        if (r->tier < PM_TIER_STEWARD) {
            const char *pn = pick_project(r, pm_http_query_get(r->q, "project"));
            const pm_project_info_t *pi = pn ? pm_principal_project(r->who, pn) : NULL;
            if (!pi) {
                if (pn)
                    srv_error(r, 403, "no grant for project '%.100s'", pn);
                json_decref(j);
                pm_bitset_free(set);
                return 0;
            }
            char expr[2 * PM_ACCESS_LIST_MAX + 64], list[PM_ACCESS_LIST_MAX], *save = NULL;
            size_t used = 0;
            snprintf(list, sizeof list, "%s", pi->sources);
            expr[0] = '\0';
            for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                int w = snprintf(expr + used, sizeof expr - used, "%ssource:\"%s\"",
                                 used ? " or " : "", t);
                if (w < 0 || (size_t)w >= sizeof expr - used)
                    break;
                used += (size_t)w;
            }
            if (!used) {
                json_decref(j);
                pm_bitset_free(set);
                return srv_error(r, 403, "project '%s' has no approved sources", pn);
            }
            /* the project's answers leave out who opted out of its consent
             * purpose (pm_access_scope: "commercial" or "research") */
            pm_access_scope_t sc;
            pm_cohort_opts_t co = {0};
            if ((rc = pm_access_scope(r->st, r->who, pn, &sc)) == 0) {
                co.purpose = sc.purpose[0] ? sc.purpose : NULL;
                rc = pm_cohort_eval_opts(r->st, expr, &co, &tset);
            }
            if (rc < 0) {
                json_decref(j);
                pm_bitset_free(set);
                return srv_fail(r, rc);
            }
            if (set)
                pm_bitset_and(tset, set);
        }
        rc = pm_omics_values(r->st, assay, feature, tset ? tset : set, &all, 0, &v);
        pm_bitset_free(tset);
        if (rc < 0) {
            json_decref(j);
            pm_bitset_free(set);
            return srv_fail(r, rc);
        }
        json_t *tr = json_array();
        size_t i = 0;
        pm_bitset_free(r->used);
        r->used = pm_bitset_new((size_t)pm_store_n_individuals(r->st));
        while (i < v->n && json_array_size(tr) < UI_MAX_TRAJ) {
            size_t e = i, nv = 0;
            while (e < v->n && v->individual[e] == v->individual[i])
                nv += !isnan(v->value[e++]);
            if (nv >= 2) {
                json_t *pts = json_array();
                for (size_t k = i; k < e; k++)
                    if (!isnan(v->value[k]) && v->date[k]) {
                        char d[40];
                        snprintf(d, sizeof d, "%04d-%02d-%02d", v->date[k] / 10000,
                                 v->date[k] / 100 % 100, v->date[k] % 100);
                        json_array_append_new(pts, json_pack("{s:s,s:f}", "date", d, "value",
                                                             (double)v->value[k]));
                    }
                if (json_array_size(pts) >= 2) {
                    json_array_append_new(tr, pts);
                    if (r->used) /* an individual-level answer: for promise audit person */
                        pm_bitset_set(r->used, (size_t)v->individual[i]);
                } else
                    json_decref(pts);
            }
            i = e;
        }
        pm_omics_vals_free(v);
        json_object_set_new(j, "trajectories", tr);
    }
    pm_bitset_free(set);
    r->json = j;
    return 0;
}

/* ---- steward: projects, users, grants; the audit log ---- */

static int on_project(void *ud, const pm_project_info_t *p)
{
    char exp[40];
    snprintf(exp, sizeof exp, "%04d-%02d-%02d", p->expires / 10000, p->expires / 100 % 100,
             p->expires % 100);
    json_array_append_new(ud, json_pack("{s:s,s:s,s:s,s:s,s:s}", "name", p->name, "sources",
                                        p->sources, "data_types", p->data_types, "purpose",
                                        p->purpose, "expires", exp));
    return 0;
}

static int on_user(void *ud, const pm_user_info_t *u)
{
    json_array_append_new(ud, json_pack("{s:s,s:s,s:s}", "name", u->name, "tier",
                                        pm_tier_name(u->tier), "created", u->created));
    return 0;
}

static int on_grant(void *ud, const char *user, const char *project, const char *created)
{
    json_array_append_new(ud, json_pack("{s:s,s:s,s:s}", "user", user, "project", project,
                                        "created", created));
    return 0;
}

int srv_ui_projects(srv_req_t *r)
{
    json_t *p = json_array(), *u = json_array(), *g = json_array();
    int rc = pm_access_project_each(r->st, on_project, p);
    if (rc >= 0)
        rc = pm_access_user_each(r->st, on_user, u);
    if (rc >= 0)
        rc = pm_catui_grant_each(r->st, on_grant, g);
    r->json = json_pack("{s:o,s:o,s:o}", "projects", p, "users", u, "grants", g);
    if (rc < 0)
        return srv_fail(r, rc);
    return r->json ? 0 : -1;
}

typedef struct audit_page {
    json_t *arr;
    int64_t before;
} audit_page_t;

static int on_audit(void *ud, const pm_audit_row_t *a)
{
    audit_page_t *pg = ud;
    if (a->id >= pg->before)
        return 0; /* newer than the page */
    json_t *e = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)a->id, "kind",
                          a->kind, "at", a->at, "who", a->who, "tier", a->tier, "project",
                          a->project, "command", a->command, "query", a->query);
    if (e && strcmp(a->kind, "result") == 0) {
        json_object_set_new(e, "ref", json_integer(a->ref));
        json_object_set_new(e, "outcome", json_string(a->outcome));
        json_object_set_new(e, "n_individuals",
                            a->n_individuals >= 0 ? json_integer(a->n_individuals) : json_null());
        json_object_set_new(e, "result_size",
                            a->result_size >= 0 ? json_integer(a->result_size) : json_null());
    }
    json_array_insert_new(pg->arr, 0, e); /* newest first */
    return 0;
}

int srv_ui_audit(srv_req_t *r)
{
    const char *sl = pm_http_query_get(r->q, "limit"), *sb = pm_http_query_get(r->q, "before");
    long long lim, before;
    if (int_param(sl, 100, &lim) < 0 || lim < 1 || lim > 1000)
        return srv_error(r, 400, "limit is 1 to 1000");
    int64_t n = 0, last = 0, n_ok = 0, bad = 0;
    int rc = pm_audit_count(r->st, &n, &last);
    if (rc < 0)
        return srv_fail(r, rc);
    if (int_param(sb, last + 1, &before) < 0)
        return srv_error(r, 400, "before is an entry id");
    audit_page_t pg = {json_array(), before};
    int64_t after = before - 1 - lim;
    rc = pm_audit_each(r->st, after > 0 ? after : 0, on_audit, &pg);
    if (rc < 0) {
        json_decref(pg.arr);
        return srv_fail(r, rc);
    }
    int vr = pm_audit_verify(r->st, &n_ok, &bad);
    const char *msg = vr < 0 ? pm_ctx_errmsg(r->ctx) : "";
    r->json = json_pack("{s:I,s:I,s:{s:b,s:I,s:o,s:s},s:o}", "entries", (json_int_t)n, "last_id",
                        (json_int_t)last, "verify", "ok", vr == 0, "verified",
                        (json_int_t)n_ok, "bad_id", vr < 0 ? json_integer(bad) : json_null(),
                        "message", msg ? msg : "", "log", pg.arr);
    pm_ctx_clear(r->ctx);
    return r->json ? 0 : -1;
}
