/*
 * query.c - registry queries for the cohort language (see
 * promise/registry.h): a term and a code prefix become one to three index
 * ranges of the event table, read in key order.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog/cat_registry.h"
#include "registry/registry_int.h"

int pm_registry_individuals(pm_store_t *st, const char *term, const char *code,
                            pm_bitset_t *out)
{
    pm_code_range_t r[PM_TERM_MAX_RANGES];
    int n = pm_registry_term_ranges(pm_store_ctx(st), term, code, r, PM_TERM_MAX_RANGES);
    if (n < 0)
        return n;
    for (int i = 0; i < n; i++) {
        int rc = pm_catreg_range_individuals(st, r[i].domain, r[i].lo, r[i].hi, out);
        if (rc < 0)
            return rc;
    }
    return 0;
}

struct pm_event_iter {
    pm_store_t *st;
    pm_code_range_t r[PM_TERM_MAX_RANGES];
    int n, cur;
    pm_catreg_iter_t *it;
};

int pm_registry_events_open(pm_store_t *st, const char *term, const char *code,
                            pm_event_iter_t **out)
{
    *out = NULL;
    pm_event_iter_t *it = calloc(1, sizeof *it);
    if (!it)
        return pm_err(pm_store_ctx(st), PM_ENOMEM, "out of memory");
    it->st = st;
    it->n = pm_registry_term_ranges(pm_store_ctx(st), term, code, it->r, PM_TERM_MAX_RANGES);
    if (it->n < 0) {
        int rc = it->n;
        free(it);
        return rc;
    }
    *out = it;
    return 0;
}

int pm_registry_events_next(pm_event_iter_t *it, pm_event_t *ev)
{
    for (;;) {
        if (!it->it) {
            if (it->cur >= it->n)
                return -1;
            const pm_code_range_t *r = &it->r[it->cur++];
            int rc = pm_catreg_iter_open(it->st, r->domain, r->lo, r->hi, &it->it);
            if (rc < 0)
                return rc < -1 ? rc : PM_EIO;
        }
        int rc = pm_catreg_iter_next(it->it, ev);
        if (rc != -1)
            return rc;
        pm_catreg_iter_close(it->it);
        it->it = NULL;
    }
}

void pm_registry_events_close(pm_event_iter_t *it)
{
    if (!it)
        return;
    pm_catreg_iter_close(it->it);
    free(it);
}

int pm_registry_first_dates(pm_store_t *st, const char *term, const char *code, int *first,
                            uint32_t *count)
{
    int64_t n = pm_store_n_individuals(st);
    if (n < 0)
        return (int)n;
    pm_event_iter_t *it;
    int rc = pm_registry_events_open(st, term, code, &it);
    if (rc < 0)
        return rc;
    pm_event_t ev;
    while ((rc = pm_registry_events_next(it, &ev)) == 0) {
        if (ev.individual < 0 || ev.individual >= n)
            continue;
        int *f = &first[ev.individual];
        if (*f == 0 || ev.date < *f)
            *f = ev.date;
        if (count && count[ev.individual] < UINT32_MAX)
            count[ev.individual]++;
    }
    pm_registry_events_close(it);
    return rc == -1 ? 0 : rc;
}
