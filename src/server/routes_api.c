/*
 * routes_api.c - the /api/v1 handlers: count, variant frequency, registry
 * endpoints, the OpenAPI document; and srv_freq_each, the frequency rows
 * both APIs read (pm_freq's table, parsed from memory).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promise/cohort.h"
#include "promise/genotype.h"
#include "promise/registry.h"
#include "server/server_int.h"

/* ---- frequencies ---- */

#define FREQ_MAX_COLS 32

int srv_freq_each(srv_req_t *r, const char *region, const char *cohort, const char *by,
                  int (*fn)(void *ud, const srv_freq_row_t *row), void *ud)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&buf, &size);
    if (!mem)
        return pm_err(r->ctx, PM_ENOMEM, "out of memory");
    pm_gt_query_opts_t o = {.region = region, .cohort = cohort, .by = by};
    /* a project principal's frequencies leave out those who opted out of
     * the project's consent purpose (as the CLI's --as USER --project P) */
    pm_access_scope_t sc;
    int rc = 0;
    if (r->who && r->tier == PM_TIER_PROJECT &&
        (rc = pm_access_scope(r->st, r->who, pm_http_query_get(r->q, "project"), &sc)) == 0 &&
        sc.has_project && sc.purpose[0])
        o.purpose = sc.purpose;
    if (rc == 0)
        rc = pm_freq(r->st, &o, mem);
    fclose(mem);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    /* Columns: #CHROM POS ID REF ALT AC AN AF NHOMALT [AC_x AN_x]... */
    char *save = NULL, *line = strtok_r(buf, "\n", &save);
    int nstrata = 0;
    char strata[4][16];
    if (line && line[0] == '#') {
        char *f[FREQ_MAX_COLS], *s2 = NULL;
        int n = 0;
        for (char *t = strtok_r(line, "\t", &s2); t && n < FREQ_MAX_COLS; t = strtok_r(NULL, "\t", &s2))
            f[n++] = t;
        for (int i = 9; i + 1 < n && nstrata < 4; i += 2)
            snprintf(strata[nstrata++], sizeof strata[0], "%s", f[i] + 3);
        line = strtok_r(NULL, "\n", &save);
    }
    for (; line && rc >= 0; line = strtok_r(NULL, "\n", &save)) {
        char *f[FREQ_MAX_COLS], *s2 = NULL;
        int n = 0;
        for (char *t = strtok_r(line, "\t", &s2); t && n < FREQ_MAX_COLS; t = strtok_r(NULL, "\t", &s2))
            f[n++] = t;
        if (n < 9)
            continue;
        srv_freq_row_t row;
        memset(&row, 0, sizeof row);
        snprintf(row.chrom, sizeof row.chrom, "%s", f[0]);
        row.pos = strtoll(f[1], NULL, 10);
        row.ref = f[3];
        row.alt = f[4];
        row.ac = strtoll(f[5], NULL, 10);
        row.an = strtoll(f[6], NULL, 10);
        row.nhomalt = strtoll(f[8], NULL, 10);
        for (int i = 0; i < nstrata && 10 + 2 * i < n; i++) {
            memcpy(row.stratum[i], strata[i], sizeof row.stratum[i]);
            row.s_ac[i] = strtoll(f[9 + 2 * i], NULL, 10);
            row.s_an[i] = strtoll(f[10 + 2 * i], NULL, 10);
            row.nstrata = i + 1;
        }
        rc = fn(ud, &row);
    }
    free(buf);
    return rc < 0 ? rc : 0;
}

/* ---- /api/v1/count ---- */

static json_t *cell_json(const pm_cell_t *c, int k)
{
    if (c->state == PM_CELL_EXACT)
        return json_integer(c->value);
    if (c->state == PM_CELL_SMALL) {
        char buf[24];
        snprintf(buf, sizeof buf, "<%d", k);
        return json_string(buf);
    }
    return json_null();
}

int srv_api_count(srv_req_t *r)
{
    const char *cohort = pm_http_query_get(r->q, "cohort");
    const char *by = pm_http_query_get(r->q, "by");
    const char *purpose = pm_http_query_get(r->q, "purpose");
    if (!cohort)
        return srv_error(r, 400, "missing parameter 'cohort' (a cohort expression; \"\" for "
                                 "everyone)");
    pm_cohort_t *c = NULL;
    pm_bitset_t *set = NULL;
    pm_cohort_table_t *raw = NULL;
    pm_released_t *rel = NULL;
    pm_policy_t pol;
    pm_cohort_opts_t o = {.purpose = purpose && *purpose ? purpose : NULL};
    int ref = 0;
    int rc = pm_policy_for_store(r->st, r->tier, &pol);
    if (rc == 0 && (rc = pm_policy_allows(r->ctx, &pol, PM_RELEASE_COUNT)) < 0) {
        srv_fail(r, rc); /* the public tier gets no cohort counts: 403 */
        return 0;
    }
    if (rc == 0)
        rc = pm_cohort_parse(r->ctx, cohort, &c);
    if (rc == 0)
        rc = pm_cohort_eval_parsed(r->st, c, &o, &set);
    if (rc == 0 && (ref = pm_cohort_ref_date(r->st, &o)) < 0)
        rc = ref;
    if (rc == 0)
        rc = pm_cohort_tabulate(r->st, set, by && *by ? by : NULL, &o, &raw);
    if (rc == 0)
        rc = pm_policy_release_table(r->ctx, &pol, raw, &rel);
    if (raw)
        r->n_individuals = raw->cell[pm_cohort_table_ncells(raw) - 1];
    pm_cohort_table_free(raw);
    pm_bitset_free(set);
    if (rc < 0) {
        srv_fail(r, rc);
        pm_cohort_free(c);
        return 0;
    }
    char norm[4096], date[16];
    size_t n = pm_cohort_format(c, norm, sizeof norm);
    snprintf(date, sizeof date, "%04d-%02d-%02d", ref / 10000, ref / 100 % 100, ref % 100);
    json_t *j = json_pack("{s:s,s:s,s:s,s:i,s:o}", "cohort", n < sizeof norm ? norm : cohort,
                          "reference_date", date, "tier", pm_tier_name(rel->tier), "k", rel->k,
                          "count", cell_json(&rel->cell[rel->ncells - 1], rel->k));
    if (j && rel->ndim > 0) {
        json_t *byj = json_array(), *cells = json_array();
        for (int d = 0; d < rel->ndim; d++)
            json_array_append_new(byj, json_string(rel->field[d]));
        size_t R = rel->nlab[0] + 1, C = rel->ndim >= 2 ? rel->nlab[1] + 1 : 1;
        for (size_t i = 0; i < R; i++)
            for (size_t jx = 0; jx < C; jx++) {
                if (i == R - 1 && jx == C - 1)
                    continue; /* the total is "count" */
                json_t *cell = json_object();
                json_object_set_new(cell, rel->field[0],
                                    i < rel->nlab[0] ? json_string(rel->lab[0][i]) : json_null());
                if (rel->ndim >= 2)
                    json_object_set_new(cell, rel->field[1], jx < rel->nlab[1]
                                                                 ? json_string(rel->lab[1][jx])
                                                                 : json_null());
                json_object_set_new(cell, "count", cell_json(&rel->cell[i * C + jx], rel->k));
                json_array_append_new(cells, cell);
            }
        json_object_set_new(j, "by", byj);
        json_object_set_new(j, "cells", cells);
    }
    r->json = j;
    pm_released_free(rel);
    pm_cohort_free(c);
    return j ? 0 : -1;
}

/* ---- /api/v1/variants/{chrom}-{pos}-{ref}-{alt} ---- */

typedef struct variant_find {
    const pm_http_variant_t *v;
    int found;
    srv_freq_row_t row;
} variant_find_t;

static int on_variant_row(void *ud, const srv_freq_row_t *row)
{
    variant_find_t *f = ud;
    if (row->pos == f->v->pos && strcmp(row->ref, f->v->ref) == 0 &&
        strcmp(row->alt, f->v->alt) == 0) {
        f->found = 1;
        f->row = *row;
        f->row.ref = f->v->ref;
        f->row.alt = f->v->alt;
    }
    return 0;
}

/* A frequency row as the policy releases it to the caller's tier
 * (pm_policy_freq_release): an AC in 1..T-1 is "<T", an AC whose
 * complement AN - AC is in 1..T-1 is null; AF is null whenever AC is
 * hidden. NHOMALT (a count of people) is shown as "<T" when in 1..T-1 and
 * null when AC is hidden. */
static json_t *freq_json(const pm_policy_t *pol, int64_t ac, int64_t an, int has_hom,
                         int64_t hom)
{
    pm_freq_cell_t f = pm_policy_freq_release(pol, ac, an);
    pm_cell_t hc = {hom, PM_CELL_EXACT};
    if (f.ac.state != PM_CELL_EXACT)
        hc = (pm_cell_t){-1, PM_CELL_MASKED}; /* hidden with AC */
    else if (hom > 0 && hom < f.threshold)
        hc = (pm_cell_t){-1, PM_CELL_SMALL};
    json_t *j = json_pack("{s:o,s:I,s:o}", "AC", cell_json(&f.ac, f.threshold), "AN",
                          (json_int_t)an, "AF",
                          f.ac.state != PM_CELL_EXACT || an == 0 ? json_null()
                                                                 : json_real(f.af));
    if (j && has_hom)
        json_object_set_new(j, "NHOMALT", cell_json(&hc, f.threshold));
    return j;
}

int srv_variant_arg(srv_req_t *r, pm_http_variant_t *v, char *contig, char *region,
                    pm_policy_t *pol)
{
    if (pm_http_variant_parse(r->ctx, r->arg, v) < 0) {
        srv_error(r, 400, "%s", pm_ctx_errmsg(r->ctx));
        return 1;
    }
    if (pm_contig_normalise(v->chrom, contig, PM_HTTP_CONTIG_MAX) < 0) {
        srv_error(r, 400, "bad contig name");
        return 1;
    }
    snprintf(region, PM_HTTP_CONTIG_MAX + 48, "%s:%lld-%lld", contig, (long long)v->pos,
             (long long)v->pos);
    int rc = pm_policy_for_store(r->st, r->tier, pol);
    if (rc == 0)
        rc = pm_policy_allows(r->ctx, pol, PM_RELEASE_FREQ);
    if (rc < 0) {
        srv_fail(r, rc);
        return 1;
    }
    return 0;
}

int srv_api_variant(srv_req_t *r)
{
    pm_http_variant_t v;
    char contig[PM_HTTP_CONTIG_MAX], region[PM_HTTP_CONTIG_MAX + 48];
    pm_policy_t pol;
    if (srv_variant_arg(r, &v, contig, region, &pol))
        return 0;
    int rc;
    variant_find_t f = {.v = &v};
    rc = srv_freq_each(r, region, NULL, "sex", on_variant_row, &f);
    if (rc < 0 && rc != PM_EINPUT)
        return srv_fail(r, rc);
    if (rc < 0 || !f.found)
        return srv_error(r, 404, "variant %s-%lld-%s-%s is not in this store", contig,
                         (long long)v.pos, v.ref, v.alt);
    char id[PM_HTTP_CONTIG_MAX + 2 * PM_HTTP_ALLELE_MAX + 32];
    snprintf(id, sizeof id, "%s-%lld-%s-%s", contig, (long long)v.pos, v.ref, v.alt);
    json_t *j = json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:i}", "variant", id, "chrom", contig, "pos",
                          (json_int_t)v.pos, "ref", v.ref, "alt", v.alt, "tier",
                          pm_tier_name(r->tier), "k", pol.k);
    if (!j)
        return -1;
    json_object_update_new(j, freq_json(&pol, f.row.ac, f.row.an, 1, f.row.nhomalt));
    if (f.row.nstrata) {
        json_t *bysex = json_object();
        for (int i = 0; i < f.row.nstrata; i++)
            json_object_set_new(bysex, f.row.stratum[i],
                                freq_json(&pol, f.row.s_ac[i], f.row.s_an[i], 0, 0));
        json_object_set_new(j, "by_sex", bysex);
    }
    r->json = j;
    return 0;
}

/* ---- /api/v1/endpoints ---- */

int srv_api_endpoints(srv_req_t *r)
{
    pm_endpoint_lib_t *lib;
    int rc = pm_endpoint_lib_builtin(r->ctx, &lib);
    if (rc < 0)
        return srv_fail(r, rc);
    json_t *arr = json_array();
    for (size_t i = 0; i < pm_endpoint_lib_count(lib); i++) {
        const pm_endpoint_t *e = pm_endpoint_lib_get(lib, i);
        char sex[2] = {e->sex, 0};
        json_array_append_new(
            arr, json_pack("{s:s,s:i,s:s,s:s?,s:o,s:o,s:i,s:s,s:s}", "name", e->name, "version",
                           e->version, "description", e->description ? e->description : "",
                           "sex", e->sex ? sex : NULL, "min_age",
                           e->min_age >= 0 ? json_integer(e->min_age) : json_null(), "max_age",
                           e->max_age >= 0 ? json_integer(e->max_age) : json_null(),
                           "min_events", e->min_events, "include", e->include ? e->include : "",
                           "exclude", e->exclude ? e->exclude : ""));
    }
    pm_endpoint_lib_free(lib);
    r->json = json_pack("{s:o}", "endpoints", arr);
    return r->json ? 0 : -1;
}

int srv_api_openapi(srv_req_t *r)
{
    r->raw = pm_srv_openapi;
    return 0;
}

/* ---- for the browser UI's routes (routes_ui.c) ---- */

json_t *srv_freq_json(const pm_policy_t *pol, int64_t ac, int64_t an, int has_hom, int64_t hom)
{
    return freq_json(pol, ac, an, has_hom, hom);
}
