/*
 * om_cohort.c - thresholds for the cohort language (omics:ASSAY:FEATURE>X
 * and <X) and the omics term provider (see cohort/term.h). Defining
 * pm_cohort_provide_omics here replaces the weak default in
 * src/cohort/provider_default.c at link time (om_query.c makes sure this
 * file is linked wherever the omics queries are).
 *
 * Semantics (docs/omics.md): an individual matches when any of its
 * samples of the assay has a stored value above (below) X; missing values
 * never match; values flagged below LOD or with a QC warning are compared
 * as stored.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cohort/term.h"
#include "promise/omics.h"

int64_t pm_omics_threshold(pm_store_t *st, const char *assay, const char *feature, int op,
                           double x, const pm_omics_choice_t *choice, pm_bitset_t *out)
{
    if (op != '<' && op != '>')
        return pm_err(pm_store_ctx(st), PM_EUSAGE, "an omics threshold is '<' or '>'");
    if (isnan(x))
        return pm_err(pm_store_ctx(st), PM_EUSAGE, "an omics threshold needs a number");
    pm_omics_vals_t *v;
    int rc = pm_omics_values(st, assay, feature, NULL, choice, 0, &v);
    if (rc < 0)
        return rc;
    int64_t set = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (v->flags[i] & PM_OMICS_MISSING)
            continue;
        double y = (double)v->value[i];
        int pass = op == '>' ? y > x : y < x;
        size_t ind = (size_t)v->individual[i];
        if (pass && (uint64_t)v->individual[i] < out->n && !pm_bitset_get(out, ind)) {
            pm_bitset_set(out, ind);
            set++;
        }
    }
    pm_omics_vals_free(v);
    return set;
}

int pm_cohort_provide_omics(pm_store_t *st, const pm_cohort_term_t *t, pm_bitset_t *out)
{
    pm_omics_choice_t any = {PM_OMICS_ALL, 0};
    int op = t->kind == PM_TERM_OMICS_LT ? '<' : '>';
    int64_t rc = pm_omics_threshold(st, t->name, t->feature, op, t->x, &any, out);
    if (rc >= 0)
        return 0;
    pm_ctx_t *ctx = pm_store_ctx(st);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", pm_ctx_errmsg(ctx));
    /* an unknown assay or feature is bad input in an expression */
    int code = rc == PM_ENOTFOUND ? PM_EINPUT : (int)rc;
    return pm_err(ctx, code, "column %d: %s", t->col, msg);
}
