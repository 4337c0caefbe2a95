/*
 * endpoint.c - FinnGen-style endpoints: named, versioned case definitions
 * over registry events (format in docs/registry.md), the starter library
 * compiled in (endpoints_builtin.c), and their evaluation to a set of
 * cases.
 *
 * An endpoint file is parsed from memory so that the built-in library
 * and a user's file go through the same code and the same checks: every
 * include/exclude term is resolved to its index ranges at load time, so a
 * typo fails with FILE:LINE:COL when the library is loaded, not when a
 * GWAS is half done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/cat_registry.h"
#include "core/fileio.h"
#include "registry/registry_int.h"

#define ENDPOINT_FORMAT "#promise-endpoints 1"
#define ENDPOINT_FILE_MAX ((size_t)16 << 20)

struct pm_endpoint_lib {
    char *text; /* the file, NUL-split; endpoint strings point into it */
    pm_endpoint_t *ep;
    size_t n;
};

static const char *const header[] = {"name",    "version",    "description", "sex",    "min_age",
                                     "max_age", "min_events", "include",     "exclude"};
#define NCOLS 9

void pm_endpoint_lib_free(pm_endpoint_lib_t *lib)
{
    if (!lib)
        return;
    free(lib->text);
    free(lib->ep);
    free(lib);
}

size_t pm_endpoint_lib_count(const pm_endpoint_lib_t *lib) { return lib->n; }

const pm_endpoint_t *pm_endpoint_lib_get(const pm_endpoint_lib_t *lib, size_t i)
{
    return i < lib->n ? &lib->ep[i] : NULL;
}

const pm_endpoint_t *pm_endpoint_lib_find(const pm_endpoint_lib_t *lib, const char *name)
{
    for (size_t i = 0; i < lib->n; i++)
        if (strcmp(lib->ep[i].name, name) == 0)
            return &lib->ep[i];
    return NULL;
}

/* Parses an integer field; "" gives dflt. */
static int int_field(const char *s, int lo, int hi, int dflt, int *out)
{
    if (!*s) {
        *out = dflt;
        return 0;
    }
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* Checks every blank-separated term:code of a list. */
static int check_terms(pm_ctx_t *ctx, const char *list, char *why, size_t cap)
{
    const char *s = list;
    while (*s) {
        while (*s == ' ')
            s++;
        size_t n = strcspn(s, " ");
        if (!n)
            break;
        char tc[96], *colon;
        if (n >= sizeof tc || !(colon = memchr(s, ':', n))) {
            snprintf(why, cap, "'%.*s' is not TERM:CODE", (int)(n < 60 ? n : 60), s);
            return PM_EINPUT;
        }
        memcpy(tc, s, n);
        tc[n] = '\0';
        tc[colon - s] = '\0';
        if (!tc[colon - s + 1]) {
            snprintf(why, cap, "'%s:' has no code", tc);
            return PM_EINPUT;
        }
        pm_code_range_t r[PM_TERM_MAX_RANGES];
        if (pm_registry_term_ranges(ctx, tc, tc + (colon - s) + 1, r, PM_TERM_MAX_RANGES) < 0) {
            snprintf(why, cap, "%s", pm_ctx_errmsg(ctx));
            return PM_EINPUT;
        }
        s += n;
    }
    return 0;
}

static int parse(pm_ctx_t *ctx, const char *path, char *text, pm_endpoint_lib_t **out)
{
    *out = NULL;
    pm_endpoint_lib_t *lib = calloc(1, sizeof *lib);
    if (!lib) {
        free(text);
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    }
    lib->text = text;
    size_t cap = 0;
    long lineno = 0;
    int seen_header = 0, seen_format = 0;
    char *p = text;
    int rc = 0;
    while (*p && rc == 0) {
        char *nl = strchr(p, '\n');
        char *next = nl ? nl + 1 : p + strlen(p);
        if (nl)
            *nl = '\0';
        if (nl && nl > p && nl[-1] == '\r')
            nl[-1] = '\0';
        lineno++;
        char *line = p;
        p = next;
        if (lineno == 1) {
            if (strcmp(line, ENDPOINT_FORMAT) != 0) {
                rc = pm_err(ctx, PM_EINPUT,
                            "%s:1:1: not an endpoint file of format 1 (first line must be '%s')",
                            path, ENDPOINT_FORMAT);
                break;
            }
            seen_format = 1;
            continue;
        }
        if (!*line || line[0] == '#')
            continue;
        char *f[NCOLS];
        long pos[NCOLS];
        int nf = 0;
        for (char *s = line;;) {
            char *tab = strchr(s, '\t');
            if (nf < NCOLS) {
                f[nf] = s;
                pos[nf] = (long)(s - line) + 1;
            }
            nf++;
            if (!tab)
                break;
            *tab = '\0';
            s = tab + 1;
        }
        if (nf != NCOLS) {
            rc = pm_err(ctx, PM_EINPUT, "%s:%ld: expected %d fields, found %d", path, lineno,
                        NCOLS, nf);
            break;
        }
        if (!seen_header) {
            for (int i = 0; i < NCOLS && rc == 0; i++)
                if (strcmp(f[i], header[i]) != 0)
                    rc = pm_err(ctx, PM_EINPUT, "%s:%ld:%ld: expected column '%s', found '%s'",
                                path, lineno, pos[i], header[i], f[i]);
            seen_header = 1;
            continue;
        }
        if (lib->n == cap) {
            cap = cap ? cap * 2 : 32;
            pm_endpoint_t *e = realloc(lib->ep, cap * sizeof *e);
            if (!e) {
                rc = pm_err(ctx, PM_ENOMEM, "out of memory");
                break;
            }
            lib->ep = e;
        }
        pm_endpoint_t *e = &lib->ep[lib->n];
        memset(e, 0, sizeof *e);
        int bad = -1;
        char why[512] = "";
        e->name = f[0];
        if (!*f[0] || strspn(f[0], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789_") != strlen(f[0])) {
            bad = 0;
            snprintf(why, sizeof why, "endpoint name must be letters, digits and '_'");
        } else if (pm_endpoint_lib_find(lib, f[0])) {
            bad = 0;
            snprintf(why, sizeof why, "endpoint '%s' defined twice", f[0]);
        } else if (int_field(f[1], 1, 1000000, -1, &e->version) < 0 || e->version < 1) {
            bad = 1;
            snprintf(why, sizeof why, "version must be a positive integer");
        } else if (strcmp(f[3], "") && strcmp(f[3], "M") && strcmp(f[3], "F")) {
            bad = 3;
            snprintf(why, sizeof why, "sex must be M, F or empty");
        } else if (int_field(f[4], 0, 150, -1, &e->min_age) < 0) {
            bad = 4;
            snprintf(why, sizeof why, "min_age must be 0-150 or empty");
        } else if (int_field(f[5], 0, 150, -1, &e->max_age) < 0 ||
                   (e->min_age >= 0 && e->max_age >= 0 && e->max_age < e->min_age)) {
            bad = 5;
            snprintf(why, sizeof why, "max_age must be 0-150, not below min_age, or empty");
        } else if (int_field(f[6], 1, 1000000, 1, &e->min_events) < 0) {
            bad = 6;
            snprintf(why, sizeof why, "min_events must be a positive integer or empty");
        } else if (!*f[7]) {
            bad = 7;
            snprintf(why, sizeof why, "include must name at least one TERM:CODE");
        } else if (check_terms(ctx, f[7], why, sizeof why) < 0) {
            bad = 7;
        } else if (check_terms(ctx, f[8], why, sizeof why) < 0) {
            bad = 8;
        }
        if (bad >= 0) {
            rc = pm_err(ctx, PM_EINPUT, "%s:%ld:%ld: %s (column '%s')", path, lineno, pos[bad],
                        why, header[bad]);
            break;
        }
        e->description = f[2];
        e->sex = f[3][0];
        e->include = f[7];
        e->exclude = f[8];
        lib->n++;
    }
    if (rc == 0 && !seen_format)
        rc = pm_err(ctx, PM_EINPUT, "%s:1:1: empty endpoint file", path);
    if (rc == 0 && !seen_header)
        rc = pm_err(ctx, PM_EINPUT, "%s: no header line", path);
    if (rc < 0) {
        pm_endpoint_lib_free(lib);
        return rc;
    }
    pm_ctx_clear(ctx);
    *out = lib;
    return 0;
}

int pm_endpoint_lib_builtin(pm_ctx_t *ctx, pm_endpoint_lib_t **out)
{
    char *text = strdup(pm_endpoint_builtin_tsv());
    if (!text)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    return parse(ctx, "(built-in endpoints)", text, out);
}

int pm_endpoint_lib_load(pm_ctx_t *ctx, const char *path, pm_endpoint_lib_t **out)
{
    *out = NULL;
    char *text;
    size_t len;
    int rc = pm_read_file(ctx, path, ENDPOINT_FILE_MAX, &text, &len);
    if (rc < 0)
        return rc;
    if (memchr(text, '\0', len)) {
        free(text);
        return pm_err(ctx, PM_EINPUT, "%s: not a text file", path);
    }
    return parse(ctx, path, text, out);
}

/* ---- evaluation ---- */

/* Calls fn(term, code) for each TERM:CODE of a checked list. */
static int each_term(const char *list, int (*fn)(void *ud, const char *term, const char *code),
                     void *ud)
{
    const char *s = list;
    while (*s) {
        while (*s == ' ')
            s++;
        size_t n = strcspn(s, " ");
        if (!n)
            break;
        char tc[96];
        if (n >= sizeof tc)
            return PM_EINPUT;
        memcpy(tc, s, n);
        tc[n] = '\0';
        char *colon = strchr(tc, ':');
        if (!colon)
            return PM_EINPUT;
        *colon = '\0';
        int rc = fn(ud, tc, colon + 1);
        if (rc < 0)
            return rc;
        s += n;
    }
    return 0;
}

struct eval {
    pm_store_t *st;
    int *first;
    uint32_t *count;
    pm_bitset_t *excl;
};

static int add_include(void *ud, const char *term, const char *code)
{
    struct eval *e = ud;
    return pm_registry_first_dates(e->st, term, code, e->first, e->count);
}

static int add_exclude(void *ud, const char *term, const char *code)
{
    struct eval *e = ud;
    return pm_registry_individuals(e->st, term, code, e->excl);
}

int pm_endpoint_eval_def(pm_store_t *st, const pm_endpoint_t *ep, pm_bitset_t *out)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    int64_t n64 = pm_store_n_individuals(st);
    if (n64 < 0)
        return (int)n64;
    size_t n = (size_t)n64;
    if (out->n != n)
        return pm_err(ctx, PM_EINTERNAL, "endpoint set has %zu bits for %zu individuals", out->n,
                      n);
    pm_bitset_zero(out);
    struct eval e = {st, calloc(n + 1, sizeof(int)), calloc(n + 1, sizeof(uint32_t)),
                     pm_bitset_new(n)};
    char *sex = malloc(n + 1);
    int *birth = calloc(n + 1, sizeof(int));
    uint8_t *wd = calloc(n + 1, 1);
    int rc = 0;
    if (!e.first || !e.count || !e.excl || !sex || !birth || !wd) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    memset(sex, 0, n + 1);
    if ((rc = each_term(ep->include, add_include, &e)) < 0 ||
        (rc = each_term(ep->exclude ? ep->exclude : "", add_exclude, &e)) < 0 ||
        (rc = pm_catreg_individual_attrs(st, n, sex, birth, wd)) < 0) {
        if (rc == PM_EINPUT && !*pm_ctx_errmsg(ctx))
            pm_err(ctx, PM_EINPUT, "endpoint '%s': bad term list", ep->name);
        goto out;
    }
    int limits = ep->min_age >= 0 || ep->max_age >= 0;
    for (size_t i = 0; i < n; i++) {
        if (e.count[i] < (uint32_t)(ep->min_events > 0 ? ep->min_events : 1) || wd[i] ||
            pm_bitset_get(e.excl, i))
            continue;
        if (ep->sex && sex[i] != ep->sex)
            continue;
        if (limits) {
            if (!birth[i])
                continue;
            int age = (e.first[i] - birth[i]) / 10000; /* full years, on YYYYMMDD integers */
            if ((ep->min_age >= 0 && age < ep->min_age) || (ep->max_age >= 0 && age > ep->max_age))
                continue;
        }
        pm_bitset_set(out, i);
    }
out:
    free(e.first);
    free(e.count);
    pm_bitset_free(e.excl);
    free(sex);
    free(birth);
    free(wd);
    return rc;
}

int pm_endpoint_eval(pm_store_t *st, const char *name, pm_bitset_t *out)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    pm_endpoint_lib_t *lib;
    int rc = pm_endpoint_lib_builtin(ctx, &lib);
    if (rc < 0)
        return rc;
    const pm_endpoint_t *ep = pm_endpoint_lib_find(lib, name);
    rc = ep ? pm_endpoint_eval_def(st, ep, out)
            : pm_err(ctx, PM_ENOTFOUND, "no endpoint named '%s'; see 'promise endpoint list'",
                     name);
    pm_endpoint_lib_free(lib);
    return rc;
}
