/*
 * sim_registry.c - synthetic register events for a simulated population
 * (promise/simulate.h): OUTDIR/registry.tsv in the long format of
 * 'promise ingest registry' (personnummer, date, register, code, value,
 * position), read back from OUTDIR/population.tsv.
 *
 * Each person gets an own random stream (splitmix64 of the seed and the
 * row number), so the events are deterministic per seed and independent
 * of how many events the people before had.
 *
 * The model, per person, over the time they were alive and in Sweden:
 *  - chronic conditions with an age- and sex-dependent lifetime
 *    prevalence (logistic in age): E11 type 2 diabetes (about 5% of
 *    adults, rising with age, more men), I10, I21 (twice as likely with
 *    E11), I48, I63, N18 (three times with E11), J45, F32 (more women),
 *    and cancers C50 (women), C61 (men), C18, C34 with a cancer register
 *    row each (ICD-O-3 topography and morphology);
 *  - patient register visits (national inpatient coverage from 1987):
 *    the first diagnosis as main, follow-up visits as main or secondary;
 *  - drug dispensings from the prescribed drug register (from July 2005):
 *    A10B for most E11 patients, C07/C09/C10, B01, N06A, R03 ..., every
 *    two to five months, value = DDD of the pack;
 *  - acute diagnoses and common drugs in the background;
 *  - causes of death for the dead (death register: one main underlying
 *    cause, contributing causes as secondary), on the death date.
 * Dates lie between birth and death, emigration or the reference date.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "promise/simulate.h"
#include "sim/sim_rng.h"

#define SIM_DEFAULT_REF 20260101

/* ---- random numbers (as sim_population.c) ---- */

/* rng_t and friends: sim/sim_rng.h */

/* Poisson by inversion (small means only). */
static int rng_poisson(rng_t *r, double mean)
{
    if (mean <= 0)
        return 0;
    if (mean > 30) /* normal approximation */
        return (int)fmax(0, mean + sqrt(mean) * (rng_unif(r) + rng_unif(r) + rng_unif(r) - 1.5) * 2);
    double l = exp(-mean), p = 1;
    int k = 0;
    do {
        k++;
        p *= rng_unif(r);
    } while (p > l);
    return k - 1;
}

/* ---- dates ---- */

static int64_t ymd_days(int ymd)
{
    int64_t y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int days_ymd(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    return (int)((yoe + era * 400 + (m <= 2)) * 10000 + m * 100 + d);
}

/* "YYYY-MM-DD" -> day number; 0 and *ok = 0 when empty or malformed. */
static int64_t parse_day(const char *s, int *ok)
{
    *ok = 0;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    int y = 0, m = 0, d = 0;
    for (int i = 0; i < 4; i++)
        y = y * 10 + (s[i] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    *ok = 1;
    return ymd_days(y * 10000 + m * 100 + d);
}

static int64_t rng_day(rng_t *r, int64_t lo, int64_t hi)
{
    return hi <= lo ? lo : lo + (int64_t)rng_below(r, (uint64_t)(hi - lo + 1));
}

/* ---- buffered atomic output ---- */

typedef struct out {
    pm_afile_t *f;
    char buf[1 << 16];
    size_t len;
    int rc;
} out_t;

static void out_flush(out_t *o)
{
    if (o->rc == 0 && o->len)
        o->rc = pm_afile_write(o->f, o->buf, o->len);
    o->len = 0;
}

static void out_printf(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(out_t *o, const char *fmt, ...)
{
    if (sizeof o->buf - o->len < 512)
        out_flush(o);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, sizeof o->buf - o->len, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof o->buf - o->len)
        o->len += (size_t)n;
}

/* ---- the model ---- */

enum { R_PATIENT, R_DRUG, R_CANCER, R_DEATH };
static const char *const reg_names[] = {"patient", "drug", "cancer", "death"};
enum { P_NONE, P_MAIN, P_SECONDARY };
static const char *const pos_names[] = {"", "main", "secondary"};

typedef struct drug {
    const char *atc;
    double p;      /* share of the patients who get it */
    int ddd[3];    /* pack sizes in DDD */
} drug_t;

/* A condition: lifetime prevalence pmax / (1 + exp(-(age - mid) / scale))
 * times the sex factor, from min_age on. */
typedef struct cond {
    const char *icd;
    double pmax, mid, scale, male, female;
    int min_age;
    double visits; /* follow-up visits per year */
    const char *topo, *morph; /* cancer register codes, or NULL */
    drug_t drugs[4];
} cond_t;

enum { C_E11, C_I10, C_I21, C_I48, C_I63, C_N18, C_J45, C_F32, C_C50, C_C61, C_C18, C_C34, C_N };

static const cond_t conds[C_N] = {
    [C_E11] = {"E119", 0.16, 60, 8, 1.3, 0.8, 25, 0.25, NULL, NULL,
               {{"A10BA02", 0.75, {50, 100, 100}}, {"A10BK01", 0.15, {30, 90, 98}},
                {"A10BJ02", 0.1, {30, 60, 90}}, {"A10AE04", 0.15, {30, 50, 100}}}},
    [C_I10] = {"I109", 0.4, 58, 10, 1.0, 1.0, 25, 0.05, NULL, NULL,
               {{"C09AA05", 0.5, {50, 100, 100}}, {"C08CA01", 0.35, {30, 100, 100}},
                {"C03AA03", 0.15, {100, 100, 100}}}},
    [C_I21] = {"I219", 0.08, 70, 8, 1.6, 0.6, 35, 0.3, NULL, NULL,
               {{"C07AB02", 0.8, {50, 100, 100}}, {"B01AC06", 0.85, {100, 100, 100}},
                {"C10AA05", 0.85, {50, 100, 100}}}},
    [C_I48] = {"I489", 0.14, 74, 7, 1.2, 0.9, 40, 0.3, NULL, NULL,
               {{"B01AF01", 0.7, {50, 100, 100}}, {"C07AB02", 0.5, {50, 100, 100}}}},
    [C_I63] = {"I639", 0.08, 76, 7, 1.1, 0.95, 40, 0.3, NULL, NULL,
               {{"B01AC04", 0.6, {50, 100, 100}}, {"C10AA05", 0.6, {50, 100, 100}}}},
    [C_N18] = {"N189", 0.06, 75, 8, 1.1, 1.0, 40, 0.4, NULL, NULL, {{NULL, 0, {0}}}},
    [C_J45] = {"J459", 0.09, 8, 3, 1.0, 1.0, 3, 0.15, NULL, NULL,
               {{"R03AC02", 0.8, {20, 40, 60}}, {"R03BA02", 0.5, {30, 60, 120}}}},
    [C_F32] = {"F329", 0.12, 30, 8, 0.7, 1.3, 13, 0.4, NULL, NULL,
               {{"N06AB06", 0.45, {30, 50, 100}}, {"N06AB10", 0.35, {28, 56, 98}},
                {"N05CF01", 0.2, {10, 30, 30}}}},
    [C_C50] = {"C509", 0.11, 62, 8, 0.01, 1.0, 25, 0.5, "C509", "8500/3",
               {{"L02BG03", 0.5, {30, 100, 100}}, {"L02BA01", 0.3, {30, 100, 100}}}},
    [C_C61] = {"C61", 0.14, 71, 6, 1.0, 0.0, 45, 0.5, "C619", "8140/3",
               {{"L02AE02", 0.3, {90, 90, 180}}, {"L02BB03", 0.3, {28, 84, 84}}}},
    [C_C18] = {"C189", 0.035, 72, 7, 1.1, 0.9, 35, 0.5, "C189", "8140/3", {{NULL, 0, {0}}}},
    [C_C34] = {"C349", 0.035, 70, 7, 1.1, 0.9, 35, 0.5, "C349", "8046/3", {{NULL, 0, {0}}}},
};

/* Acute diagnoses in the background, by age band and sex. */
static const struct acute {
    const char *icd;
    int lo, hi;
    char sex; /* 0 = both */
    double w;
} acute[] = {
    {"J069", 0, 15, 0, 3},  {"J189", 0, 110, 0, 2},  {"A099", 0, 10, 0, 2},
    {"S525", 0, 110, 0, 1}, {"K358", 5, 40, 0, 1},   {"M545", 18, 110, 0, 3},
    {"R074", 25, 110, 0, 3}, {"K802", 30, 110, 0, 1.5}, {"N390", 15, 110, 'F', 2},
    {"O800", 18, 44, 'F', 4}, {"K409", 20, 110, 'M', 1}, {"H259", 60, 110, 0, 2},
    {"S720", 65, 110, 0, 1.5}, {"M179", 50, 110, 0, 1.5}, {"E669", 18, 80, 0, 1},
    {"K210", 25, 110, 0, 1}, {"Z039", 0, 110, 0, 1},
};
#define N_ACUTE (sizeof acute / sizeof *acute)

/* Common drugs in the background. */
static const struct common {
    const char *atc;
    int min_age, ddd;
    double w;
} common[] = {
    {"J01CE02", 0, 7, 4}, {"J01CA04", 0, 7, 2}, {"N02BE01", 0, 20, 2}, {"M01AE01", 12, 20, 2},
    {"R06AE07", 3, 30, 1.5}, {"D07AC01", 0, 10, 1}, {"A02BC01", 18, 28, 1.5},
    {"G03AA12", 15, 84, 1}, {"C10AA01", 45, 100, 2}, {"H03AA01", 30, 100, 1},
};
#define N_COMMON (sizeof common / sizeof *common)

/* Underlying causes of death without a known condition. */
static const struct cause {
    const char *icd;
    double w;
} causes[] = {
    {"I251", 15}, {"I219", 6}, {"I509", 8}, {"F039", 10}, {"J449", 6}, {"I639", 5},
    {"C349", 5},  {"C189", 3}, {"J189", 4}, {"G309", 5},  {"N179", 2}, {"R99", 3},
    {"W19", 2},   {"X70", 1},  {"V892", 1}, {"A419", 3},  {"K746", 1}, {"C259", 2},
};
#define N_CAUSES (sizeof causes / sizeof *causes)

typedef struct ev {
    int64_t day;
    uint8_t reg, pos;
    int value; /* DDD, 0 = none */
    const char *code;
} ev_t;

typedef struct person {
    rng_t r;
    int64_t birth, end, death; /* day numbers; death 0 = alive */
    int male, age_end, had_death;
    ev_t *ev;
    size_t n, cap;
    int nomem;
} person_t;

static void add(person_t *p, int64_t day, int reg, int pos, const char *code, int value)
{
    if (day < p->birth || day > p->end)
        return;
    if (p->n == p->cap) {
        size_t c = p->cap ? p->cap * 2 : 64;
        ev_t *e = realloc(p->ev, c * sizeof *e);
        if (!e) {
            p->nomem = 1;
            return;
        }
        p->ev = e;
        p->cap = c;
    }
    p->ev[p->n++] = (ev_t){day, (uint8_t)reg, (uint8_t)pos, value, code};
}

static int age_at(const person_t *p, int64_t day) { return (int)((day - p->birth) / 365.2425); }

static int64_t at_age(person_t *p, double age)
{
    return p->birth + (int64_t)(age * 365.2425) + (int64_t)rng_below(&p->r, 365);
}

static const int64_t *reg_start(void)
{
    static int64_t d[3];
    if (!d[0]) {
        d[0] = ymd_days(19870101); /* national inpatient register */
        d[1] = ymd_days(20050701); /* prescribed drug register */
        d[2] = ymd_days(19580101); /* cancer register */
    }
    return d;
}

static void dispensings(person_t *p, const drug_t *d, int64_t from)
{
    int64_t lo = from > reg_start()[1] ? from : reg_start()[1];
    int64_t stop = p->end;
    if (rng_chance(&p->r, 0.25)) /* some stop taking it */
        stop = rng_day(&p->r, lo, p->end);
    for (int64_t day = lo + (int64_t)rng_below(&p->r, 30); day <= stop;
         day += 60 + (int64_t)rng_below(&p->r, 100))
        add(p, day, R_DRUG, P_NONE, d->atc, d->ddd[rng_below(&p->r, 3)]);
}

static double prevalence(const cond_t *c, const person_t *p, const int *has)
{
    if (p->age_end < c->min_age)
        return 0;
    double v = c->pmax / (1 + exp(-(p->age_end - c->mid) / c->scale));
    v *= p->male ? c->male : c->female;
    if ((c == &conds[C_I21] || c == &conds[C_I63]) && has[C_E11])
        v *= 2;
    if (c == &conds[C_N18] && has[C_E11])
        v *= 3;
    if (c == &conds[C_I10] && has[C_E11])
        v *= 1.5;
    return v > 0.95 ? 0.95 : v;
}

static void simulate_person(person_t *p)
{
    int has[C_N] = {0};
    int64_t onset[C_N] = {0};
    const int64_t *rs = reg_start();
    for (int k = 0; k < C_N; k++) {
        const cond_t *c = &conds[k];
        if (!rng_chance(&p->r, prevalence(c, p, has)))
            continue;
        int lo = c->min_age, span = p->age_end - lo;
        if (span > 25)
            span = 25;
        double oa = p->age_end - rng_unif(&p->r) * span;
        int64_t day = at_age(p, oa);
        if (day > p->end)
            day = p->end;
        has[k] = 1;
        onset[k] = day;
        /* the first diagnosis, and follow-up visits */
        add(p, day, R_PATIENT, P_MAIN, c->icd, 0);
        int64_t from = day > rs[0] ? day : rs[0];
        int nv = rng_poisson(&p->r, (double)(p->end - from) / 365.25 * c->visits);
        for (int v = 0; v < nv; v++)
            add(p, rng_day(&p->r, from, p->end), R_PATIENT,
                rng_chance(&p->r, 0.4) ? P_MAIN : P_SECONDARY, c->icd, 0);
        if (c->topo && day >= rs[2]) {
            add(p, day, R_CANCER, P_NONE, c->topo, 0);
            add(p, day, R_CANCER, P_NONE, c->morph, 0);
        }
        for (int d = 0; d < 4 && c->drugs[d].atc; d++)
            if (rng_chance(&p->r, c->drugs[d].p))
                dispensings(p, &c->drugs[d], day + (int64_t)rng_below(&p->r, 60));
    }
    /* acute diagnoses: about one every twelve years in the register */
    int64_t from = p->birth > rs[0] ? p->birth : rs[0];
    int na = rng_poisson(&p->r, (double)(p->end - from) / 365.25 / 12);
    for (int i = 0; i < na; i++) {
        int64_t day = rng_day(&p->r, from, p->end);
        int age = age_at(p, day);
        double tot = 0;
        for (size_t j = 0; j < N_ACUTE; j++)
            if (age >= acute[j].lo && age <= acute[j].hi &&
                (!acute[j].sex || acute[j].sex == (p->male ? 'M' : 'F')))
                tot += acute[j].w;
        double u = rng_unif(&p->r) * tot;
        for (size_t j = 0; j < N_ACUTE; j++)
            if (age >= acute[j].lo && age <= acute[j].hi &&
                (!acute[j].sex || acute[j].sex == (p->male ? 'M' : 'F')) &&
                (u -= acute[j].w) < 0) {
                add(p, day, R_PATIENT, P_MAIN, acute[j].icd, 0);
                if (rng_chance(&p->r, 0.3) && has[C_I10])
                    add(p, day, R_PATIENT, P_SECONDARY, conds[C_I10].icd, 0);
                break;
            }
    }
    /* common drugs: about one dispensing every two years */
    from = p->birth > rs[1] ? p->birth : rs[1];
    int nd = rng_poisson(&p->r, (double)(p->end - from) / 365.25 / 2);
    for (int i = 0; i < nd; i++) {
        int64_t day = rng_day(&p->r, from, p->end);
        int age = age_at(p, day);
        double tot = 0;
        for (size_t j = 0; j < N_COMMON; j++)
            if (age >= common[j].min_age && (common[j].atc[0] != 'G' || !p->male))
                tot += common[j].w;
        double u = rng_unif(&p->r) * tot;
        for (size_t j = 0; j < N_COMMON; j++)
            if (age >= common[j].min_age && (common[j].atc[0] != 'G' || !p->male) &&
                (u -= common[j].w) < 0) {
                add(p, day, R_DRUG, P_NONE, common[j].atc, common[j].ddd);
                break;
            }
    }
    /* causes of death */
    if (p->death) {
        const char *main = NULL;
        for (int k = C_C50; k <= C_C34 && !main; k++)
            if (has[k] && p->death - onset[k] < 10 * 365 && rng_chance(&p->r, 0.6))
                main = conds[k].icd;
        if (!main && has[C_I21] && rng_chance(&p->r, 0.4))
            main = conds[C_I21].icd;
        if (!main && has[C_I63] && rng_chance(&p->r, 0.4))
            main = conds[C_I63].icd;
        if (!main) {
            double tot = 0;
            for (size_t j = 0; j < N_CAUSES; j++)
                tot += causes[j].w;
            double u = rng_unif(&p->r) * tot;
            for (size_t j = 0; j < N_CAUSES && !main; j++)
                if ((u -= causes[j].w) < 0)
                    main = causes[j].icd;
            if (!main)
                main = causes[0].icd;
        }
        add(p, p->death, R_DEATH, P_MAIN, main, 0);
        static const int contrib[] = {C_E11, C_I10, C_I48, C_N18};
        for (size_t j = 0; j < sizeof contrib / sizeof *contrib; j++)
            if (has[contrib[j]] && strcmp(conds[contrib[j]].icd, main) && rng_chance(&p->r, 0.5))
                add(p, p->death, R_DEATH, P_SECONDARY, conds[contrib[j]].icd, 0);
        if (strcmp(main, "J189") && rng_chance(&p->r, 0.2))
            add(p, p->death, R_DEATH, P_SECONDARY, "J189", 0);
    }
}

/* Drops events beyond cap: drug dispensings first, never a cause of death. */
static void apply_cap(person_t *p, int64_t cap)
{
    while ((int64_t)p->n > cap) {
        size_t ndrug = 0, nother = 0;
        for (size_t i = 0; i < p->n; i++) {
            ndrug += p->ev[i].reg == R_DRUG;
            nother += p->ev[i].reg != R_DRUG && p->ev[i].reg != R_DEATH;
        }
        int want = ndrug ? R_DRUG : -1;
        size_t pool = ndrug ? ndrug : nother;
        if (!pool)
            break;
        size_t k = (size_t)rng_below(&p->r, pool);
        for (size_t i = 0; i < p->n; i++) {
            int r = p->ev[i].reg;
            int match = want == R_DRUG ? r == R_DRUG : r != R_DRUG && r != R_DEATH;
            if (match && k-- == 0) {
                p->ev[i] = p->ev[--p->n];
                break;
            }
        }
    }
}

static int ev_cmp(const void *a, const void *b)
{
    const ev_t *x = a, *y = b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    if (x->reg != y->reg)
        return x->reg < y->reg ? -1 : 1;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    int c = strcmp(x->code, y->code);
    if (c)
        return c;
    return (x->value > y->value) - (x->value < y->value);
}

/* Splits a tab-separated line in place; returns the number of fields. */
static int split(char *line, char **f, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *s = line; n < max;) {
        f[n++] = s;
        char *t = strchr(s, '\t');
        if (!t)
            break;
        *t = '\0';
        s = t + 1;
    }
    return n;
}

int pm_sim_registry(pm_ctx_t *ctx, const char *outdir, const pm_sim_opts_t *opts)
{
    if (!opts)
        return pm_err(ctx, PM_EUSAGE, "no simulation options");
    int64_t cap = opts->events_per_person ? opts->events_per_person : PM_SIM_DEFAULT_EVENTS;
    int ref = opts->ref_date ? opts->ref_date : SIM_DEFAULT_REF;
    int64_t ref_day = ymd_days(ref);
    char path[4096];
    int rc = pm_path(ctx, path, sizeof path, "%s/population.tsv", outdir);
    if (rc < 0)
        return rc;
    FILE *in = fopen(path, "r");
    if (!in)
        return pm_err(ctx, PM_EIO, "cannot read '%s': %s", path, strerror(errno));
    out_t *o = calloc(1, sizeof *o);
    person_t p = {0};
    char *line = NULL;
    size_t lcap = 0;
    if (!o) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = pm_path(ctx, path, sizeof path, "%s/registry.tsv", outdir)) < 0 ||
        (rc = pm_afile_open(ctx, path, 0644, &o->f)) < 0)
        goto out;
    out_printf(o, "personnummer\tdate\tregister\tcode\tvalue\tposition\n");
    int64_t row = 0, events = 0;
    while (rc == 0 && getline(&line, &lcap, in) > 0) {
        char *f[8];
        if (row++ == 0)
            continue; /* header: personnummer sex birth_date county death_date emigration_date */
        if (split(line, f, 8) < 6) {
            rc = pm_err(ctx, PM_EINPUT, "%s/population.tsv:%lld: not a simulated population row",
                        outdir, (long long)row);
            break;
        }
        int ok, okd, oke;
        uint64_t x = opts->seed ^ ((uint64_t)row * 0xd1b54a32d192ed03ull) ^ 0x5265676973747279ull;
        rng_seed(&p.r, splitmix64(&x));
        p.birth = parse_day(f[2], &ok);
        int64_t death = parse_day(f[4], &okd), emig = parse_day(f[5], &oke);
        if (!ok) {
            rc = pm_err(ctx, PM_EINPUT, "%s/population.tsv:%lld: no birth date", outdir,
                        (long long)row);
            break;
        }
        p.male = f[1][0] == 'M';
        p.death = okd ? death : 0;
        p.end = ref_day;
        if (okd && death < p.end)
            p.end = death;
        if (oke && emig < p.end)
            p.end = emig;
        p.age_end = age_at(&p, p.end);
        p.n = 0;
        simulate_person(&p);
        if (p.nomem) {
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
            break;
        }
        if (cap >= 0)
            apply_cap(&p, cap);
        qsort(p.ev, p.n, sizeof *p.ev, ev_cmp);
        for (size_t i = 0; i < p.n; i++) {
            const ev_t *e = &p.ev[i];
            int ymd = days_ymd(e->day);
            char val[16] = "";
            if (e->value)
                snprintf(val, sizeof val, "%d", e->value);
            out_printf(o, "%s\t%04d-%02d-%02d\t%s\t%s\t%s\t%s\n", f[0], ymd / 10000,
                       ymd / 100 % 100, ymd % 100, reg_names[e->reg], e->code, val,
                       pos_names[e->pos]);
        }
        events += (int64_t)p.n;
        rc = o->rc;
        if ((row & 0xffff) == 0)
            pm_progress(ctx, "registry individuals", (uint64_t)row, (uint64_t)opts->individuals);
    }
    if (rc == 0 && ferror(in))
        rc = pm_err(ctx, PM_EIO, "cannot read '%s/population.tsv'", outdir);
    if (rc == 0) {
        out_flush(o);
        rc = o->rc;
    }
    if (rc == 0) {
        rc = pm_afile_commit(o->f);
        o->f = NULL;
    }
    if (rc == 0)
        pm_progress(ctx, "registry events", (uint64_t)events, (uint64_t)events);
out:
    if (o)
        pm_afile_abort(o->f);
    free(o);
    free(p.ev);
    free(line);
    fclose(in);
    return rc < 0 ? rc : 0;
}
