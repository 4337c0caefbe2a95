/*
 * code.c - code normalisation, dates and code ranges for registry events
 * (see promise/registry.h and docs/registry.md).
 *
 * A code is stored in one canonical spelling so that an index range finds
 * it: "E11.9", "e119" and " E119 " are all E119. Each code system has a
 * shape check, so that a value in the wrong column ("C50" in an ATC
 * column) fails at ingest with the file position instead of becoming an
 * event nobody will ever find.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "registry/registry_int.h"

static const struct {
    const char *reg, *sys;
} domains[PM_DOM_MAX + 1] = {
    [PM_DOM_PATIENT_ICD10] = {"patient", "icd10"},
    [PM_DOM_PATIENT_ICD9] = {"patient", "icd9"},
    [PM_DOM_PROCEDURE_KVA] = {"procedure", "kva"},
    [PM_DOM_DRUG_ATC] = {"drug", "atc"},
    [PM_DOM_CANCER_TOPO] = {"cancer", "icdo3-topography"},
    [PM_DOM_CANCER_MORPH] = {"cancer", "icdo3-morphology"},
    [PM_DOM_CANCER_ICD10] = {"cancer", "icd10"},
    [PM_DOM_DEATH_ICD10] = {"death", "icd10"},
    [PM_DOM_DEATH_ICD9] = {"death", "icd9"},
};

const char *pm_domain_register(int dom)
{
    return dom >= 1 && dom <= PM_DOM_MAX ? domains[dom].reg : "";
}

const char *pm_domain_system(int dom)
{
    return dom >= 1 && dom <= PM_DOM_MAX ? domains[dom].sys : "";
}

/* ---- dates ---- */

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int pm_registry_month_days(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Reads n digits at s; -1 if any is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int pm_registry_date_split(const char *s, int *y, int *m, int *d)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        n--;
    if (n == 10 && s[4] == '-' && s[7] == '-') {
        *y = digits(s, 4);
        *m = digits(s + 5, 2);
        *d = digits(s + 8, 2);
    } else if (n == 8) {
        *y = digits(s, 4);
        *m = digits(s + 4, 2);
        *d = digits(s + 6, 2);
    } else {
        return PM_EINPUT;
    }
    return *y < 0 || *m < 0 || *d < 0 ? PM_EINPUT : 0;
}

int pm_registry_date_parse(const char *s, int *ymd)
{
    int y, m, d;
    if (pm_registry_date_split(s, &y, &m, &d) < 0)
        return PM_EINPUT;
    if (y < 1800 || y > 2199 || m < 1 || m > 12 || d < 1 || d > pm_registry_month_days(y, m))
        return PM_EINPUT;
    *ymd = y * 10000 + m * 100 + d;
    return 0;
}

/* ---- codes ---- */

/* Copies in into out without blanks at the ends and without '.' and ','
 * inside, upper-cased. Returns the length, or -1 if too long or a
 * character is not printable ASCII. */
static int clean(const char *in, char *out)
{
    while (*in == ' ' || *in == '\t')
        in++;
    size_t n = strlen(in);
    while (n && (in[n - 1] == ' ' || in[n - 1] == '\t'))
        n--;
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '.' || c == ',')
            continue;
        if (c < 0x21 || c > 0x7e)
            return -1;
        if (k >= PM_CODE_MAX - 1)
            return -1;
        out[k++] = (char)toupper(c);
    }
    out[k] = '\0';
    return k;
}

static int all(const char *s, int from, int to, int (*pred)(int))
{
    for (int i = from; i < to; i++)
        if (!pred((unsigned char)s[i]))
            return 0;
    return 1;
}

static int is_upper(int c) { return c >= 'A' && c <= 'Z'; }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alnum(int c) { return is_upper(c) || is_digit(c); }

int pm_code_normalize(int dom, const char *in, char *out, const char **why)
{
    static const char *ignored;
    if (!why)
        why = &ignored;
    char c[PM_CODE_MAX];
    int n = clean(in, c);
    if (n < 0) {
        *why = "code too long or not printable ASCII";
        return PM_EINPUT;
    }
    if (n == 0) {
        *why = "empty code";
        return PM_EINPUT;
    }
    int ok = 0;
    switch (dom) {
    case PM_DOM_PATIENT_ICD10:
    case PM_DOM_CANCER_ICD10:
    case PM_DOM_DEATH_ICD10:
        /* letter, digit, then 1-5 letters or digits (ICD-10-SE: N950B, F6489) */
        ok = n >= 3 && n <= 7 && is_upper(c[0]) && is_digit(c[1]) && all(c, 2, n, is_alnum);
        *why = "not an ICD-10 code (letter, digit, then 1-5 letters or digits)";
        break;
    case PM_DOM_PATIENT_ICD9:
    case PM_DOM_DEATH_ICD9:
        /* 3 digits (or E/V and 2-3 digits), then up to 3 digits or letters (250A) */
        if (c[0] == 'E') /* external causes E800-E999 */
            ok = n >= 4 && n <= 7 && all(c, 1, 4, is_digit) && all(c, 4, n, is_alnum);
        else /* 001-999, V01-V82 */
            ok = n >= 3 && n <= 7 && (is_digit(c[0]) || c[0] == 'V') && is_digit(c[1]) &&
                 is_digit(c[2]) && all(c, 3, n, is_alnum);
        *why = "not an ICD-9 code (three digits, then up to four digits or letters)";
        break;
    case PM_DOM_DRUG_ATC:
        /* A10BA02: letter, 2 digits, letter, letter, 2 digits; any level */
        ok = (n == 3 || n == 4 || n == 5 || n == 7) && is_upper(c[0]) && all(c, 1, 3, is_digit) &&
             (n < 4 || is_upper(c[3])) && (n < 5 || is_upper(c[4])) &&
             (n < 7 || all(c, 5, 7, is_digit));
        *why = "not an ATC code (e.g. A10, A10B, A10BA02)";
        break;
    case PM_DOM_PROCEDURE_KVA:
        /* KVA: two letters, then 2-5 letters or digits (JDF00, DT016) */
        ok = n >= 4 && n <= 7 && all(c, 0, 2, is_upper) && all(c, 2, n, is_alnum);
        *why = "not a KVA procedure code (two letters, then 2-5 letters or digits)";
        break;
    case PM_DOM_CANCER_TOPO:
        ok = (n == 3 || n == 4) && c[0] == 'C' && all(c, 1, n, is_digit);
        *why = "not an ICD-O-3 topography (C and 2-3 digits, e.g. C50.9)";
        break;
    case PM_DOM_CANCER_MORPH: {
        /* M-8500/3, 8500/3, 85003 -> 8500/3; 8500 alone is kept */
        const char *p = c;
        if (*p == 'M')
            p++;
        if (*p == '-')
            p++;
        int m = (int)strlen(p);
        char o[PM_CODE_MAX];
        if (m == 4 && all(p, 0, 4, is_digit)) {
            memcpy(o, p, 5);
            ok = 1;
        } else if (m == 5 && all(p, 0, 5, is_digit)) {
            snprintf(o, sizeof o, "%.4s/%c", p, p[4]);
            ok = 1;
        } else if (m == 6 && all(p, 0, 4, is_digit) && p[4] == '/' && is_digit(p[5])) {
            memcpy(o, p, 7);
            ok = 1;
        }
        if (ok)
            memcpy(c, o, strlen(o) + 1);
        *why = "not an ICD-O-3 morphology (e.g. 8500/3)";
        break;
    }
    default:
        *why = "unknown code system";
        return PM_EINPUT;
    }
    if (!ok)
        return PM_EINPUT;
    memcpy(out, c, strlen(c) + 1);
    return 0;
}

void pm_code_prefix_range(const char *prefix, char *lo, char *hi)
{
    snprintf(lo, PM_CODE_MAX, "%s", prefix);
    snprintf(hi, PM_CODE_MAX, "%s", prefix);
    size_t n = strlen(hi);
    /* the successor of the prefix: drop trailing 0xff bytes, bump the last */
    while (n && (unsigned char)hi[n - 1] == 0xff)
        n--;
    if (n)
        hi[n - 1] = (char)((unsigned char)hi[n - 1] + 1);
    hi[n] = '\0';
}

/* ---- terms ---- */

/* A query prefix: cleaned like a code, characters A-Z 0-9 '/' only. */
static int clean_prefix(int dom, const char *in, char *out)
{
    int n = clean(in, out);
    if (n < 0)
        return PM_EINPUT;
    if (dom == PM_DOM_CANCER_MORPH) {
        /* M-8500/3 -> 8500/3; 85003 -> 8500/3 */
        char *p = out;
        if (*p == 'M')
            p++;
        if (*p == '-')
            p++;
        memmove(out, p, strlen(p) + 1);
        n = (int)strlen(out);
        if (n == 5 && all(out, 0, 5, is_digit)) {
            out[6] = '\0';
            out[5] = out[4];
            out[4] = '/';
        }
    }
    for (const char *p = out; *p; p++)
        if (!is_alnum((unsigned char)*p) && *p != '/')
            return PM_EINPUT;
    return 0;
}

int pm_registry_term_ranges(pm_ctx_t *ctx, const char *term, const char *code,
                            pm_code_range_t *r, int cap)
{
    int doms[3], nd = 0;
    const char *c = code ? code : "";
    while (*c == ' ')
        c++;
    int first = toupper((unsigned char)*c);
    if (!strcmp(term, "icd10")) {
        doms[nd++] = PM_DOM_PATIENT_ICD10;
    } else if (!strcmp(term, "icd9")) {
        doms[nd++] = PM_DOM_PATIENT_ICD9;
    } else if (!strcmp(term, "kva")) {
        doms[nd++] = PM_DOM_PROCEDURE_KVA;
    } else if (!strcmp(term, "atc")) {
        doms[nd++] = PM_DOM_DRUG_ATC;
    } else if (!strcmp(term, "icdo3")) {
        if (first == 'C' || first == 0) {
            doms[nd++] = PM_DOM_CANCER_TOPO;
            doms[nd++] = PM_DOM_CANCER_ICD10;
        }
        if (first != 'C')
            doms[nd++] = PM_DOM_CANCER_MORPH;
    } else if (!strcmp(term, "death")) {
        if (!is_digit(first))
            doms[nd++] = PM_DOM_DEATH_ICD10;
        if (is_digit(first) || first == 0)
            doms[nd++] = PM_DOM_DEATH_ICD9;
    } else {
        return pm_err(ctx, PM_EINPUT,
                      "unknown registry term '%s' (icd10, icd9, kva, atc, icdo3 or death)", term);
    }
    if (nd > cap)
        return pm_err(ctx, PM_EINTERNAL, "too many code ranges");

    /* "I10-I15": a range of codes; "M-8500/3" is a morphology, not a range */
    char left[64], right[64];
    const char *dash = strchr(c, '-');
    int is_range = 0;
    if (dash && dash != c && dash[1]) {
        size_t ln = (size_t)(dash - c);
        if (!(ln == 1 && toupper((unsigned char)c[0]) == 'M')) {
            if (ln >= sizeof left || strlen(dash + 1) >= sizeof right)
                return pm_err(ctx, PM_EINPUT, "%s:%s: code too long", term, c);
            memcpy(left, c, ln);
            left[ln] = '\0';
            snprintf(right, sizeof right, "%s", dash + 1);
            is_range = 1;
        }
    }
    if (strlen(c) >= sizeof left)
        return pm_err(ctx, PM_EINPUT, "%s:%s: code too long", term, c);
    for (int i = 0; i < nd; i++) {
        char a[PM_CODE_MAX], b[PM_CODE_MAX], tmp[PM_CODE_MAX];
        r[i].domain = doms[i];
        if (is_range) {
            if (clean_prefix(doms[i], left, a) < 0 || clean_prefix(doms[i], right, b) < 0)
                return pm_err(ctx, PM_EINPUT, "%s:%s: not a code range", term, c);
            if (strcmp(a, b) > 0)
                return pm_err(ctx, PM_EINPUT, "%s:%s: range ends before it starts", term, c);
            snprintf(r[i].lo, sizeof r[i].lo, "%s", a);
            pm_code_prefix_range(b, tmp, r[i].hi);
        } else {
            if (clean_prefix(doms[i], c, a) < 0)
                return pm_err(ctx, PM_EINPUT, "%s:%s: not a code", term, c);
            pm_code_prefix_range(a, r[i].lo, r[i].hi);
        }
    }
    return nd;
}
