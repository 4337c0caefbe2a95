/*
 * sim_population.c - a synthetic Swedish population and its samples
 * (promise/simulate.h): OUTDIR/population.tsv and OUTDIR/samples.tsv.
 *
 * Everything comes from one xoshiro256** stream seeded by splitmix64, so
 * the same seed gives byte-identical files. One pass over the people
 * writes both files; the used test numbers are tracked in a bitmap (one
 * 64-bit word per birth date: 20 personnummer + 20 samordningsnummer).
 *
 * The people:
 *  - ages 0-105 on the reference date from a Swedish population pyramid
 *    (SCB, 5-year bands). Nobody is simulated whose 100th birthday falls
 *    within three years after the reference date: their 10-digit number
 *    changes separator ('-' to '+') on that birthday, so a file written on
 *    the reference date would be read in the wrong century after it.
 *  - personnummer in the test series 980-999 (Skatteverket reserves
 *    these for test persons), Luhn check digit, '-' or '+' (100 and over);
 *    about 1% are samordningsnummer (day + 60), and a date whose twenty
 *    test numbers are used up moves to a nearby date or a samordningsnummer.
 *  - sex from the birth number parity, slightly more boys at birth and
 *    more women among the old; county by population share; deaths from a
 *    Gompertz hazard over the last ten years; some emigrations.
 * The samples: research cohorts (SCAPIS, LifeGene, TwinGene, MKC = Malmo
 * Kost Cancer) with their birth-year windows and recruitment years, and
 * Genomic Medicine Sweden regions (clinical wgs/wes, some tumour/normal
 * pairs). SCAPIS participants get a second olink sample years later
 * (longitudinal omics).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "promise/simulate.h"
#include "sim/sim_rng.h"

#define SIM_MAX_AGE 105
#define SIM_MAX_INDIVIDUALS 2000000
#define SIM_DEFAULT_REF 20260101

/* ---- random numbers ---- */

/* rng_t and friends: sim/sim_rng.h */

/* ---- dates: YYYYMMDD <-> days since 1970-01-01 ---- */

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

static int valid_ymd(int ymd)
{
    int y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
    if (m < 1 || m > 12 || d < 1 || y < 1800)
        return 0;
    return days_ymd(ymd_days(ymd)) == ymd;
}

/* Day in [lo, hi] (day numbers), uniform. */
static int64_t rng_day(rng_t *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)rng_below(r, (uint64_t)(hi - lo + 1));
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

/* ---- the population model ---- */

/* Population of Sweden by 5-year age band, thousands (SCB, rounded);
 * the last band is 100-105. */
static const double pyramid[22] = {560, 620, 640, 600, 590, 680, 720, 680, 640, 650, 680,
                                   640, 580, 560, 560, 480, 300, 160, 70,  20,  2.5, 0};

static const struct county {
    const char *code;
    double share; /* population, thousands */
    const char *gms; /* Genomic Medicine Sweden region */
} counties[] = {
    {"01", 2450, "GMS-Stockholm"}, {"03", 400, "GMS-Uppsala"},   {"04", 300, "GMS-Uppsala"},
    {"05", 470, "GMS-Linkoping"},  {"06", 370, "GMS-Linkoping"}, {"07", 205, "GMS-Skane"},
    {"08", 246, "GMS-Linkoping"},  {"09", 61, "GMS-Stockholm"},  {"10", 157, "GMS-Skane"},
    {"12", 1420, "GMS-Skane"},     {"13", 340, "GMS-Goteborg"},  {"14", 1750, "GMS-Goteborg"},
    {"17", 283, "GMS-Uppsala"},    {"18", 306, "GMS-Uppsala"},   {"19", 280, "GMS-Uppsala"},
    {"20", 288, "GMS-Uppsala"},    {"21", 287, "GMS-Uppsala"},   {"22", 244, "GMS-Umea"},
    {"23", 132, "GMS-Umea"},       {"24", 275, "GMS-Umea"},      {"25", 250, "GMS-Umea"},
};
#define N_COUNTIES (sizeof counties / sizeof *counties)

typedef struct sim {
    rng_t r;
    int ref;                 /* reference date YYYYMMDD */
    int64_t ref_day, base_day;
    uint64_t *used;          /* per day since base_day: bits 0-19 pnr, 20-39 coordination */
    int64_t ndays;
    double age_cdf[SIM_MAX_AGE + 1];
    double county_cdf[N_COUNTIES];
    out_t *pop, *smp;
    int64_t nsamples;
} sim_t;

static int draw_cdf(rng_t *r, const double *cdf, int n)
{
    double u = rng_unif(r) * cdf[n - 1];
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Numbers written on the reference date stay readable for three years:
 * refuse birth dates whose 100th birthday falls in (ref, ref + 3 years]. */
static int birth_ok(const sim_t *s, int ymd)
{
    int centenary = ymd + 1000000;
    return ymd <= s->ref && !(centenary > s->ref && centenary <= s->ref + 30000);
}

static void init_model(sim_t *s)
{
    double acc = 0;
    for (int a = 0; a <= SIM_MAX_AGE; a++) {
        double w = a < 100 ? pyramid[a / 5] / 5 : pyramid[20] / 6 * pow(0.6, a - 100);
        if (!birth_ok(s, (s->ref / 10000 - a - 1) * 10000 + 701) &&
            !birth_ok(s, (s->ref / 10000 - a) * 10000 + 101))
            w = 0; /* the whole year of age is in the excluded window */
        acc += w;
        s->age_cdf[a] = acc;
    }
    acc = 0;
    for (size_t i = 0; i < N_COUNTIES; i++) {
        acc += counties[i].share;
        s->county_cdf[i] = acc;
    }
}

/* Gompertz annual mortality. */
static double mortality(double age) { return exp(-10.2 + 0.092 * age); }

static double p_male(int age)
{
    if (age < 60)
        return 0.512;
    return age >= 100 ? 0.2 : 0.512 - (age - 60) * 0.0078;
}

/* Takes a free test number for sex on day (coordination or not); returns
 * the birth number 980-999, or -1 when that date is full. */
static int take_number(sim_t *s, int64_t day, int male, int coord)
{
    int64_t i = day - s->base_day;
    if (i < 0 || i >= s->ndays)
        return -1;
    int first = (int)rng_below(&s->r, 10);
    for (int k = 0; k < 10; k++) {
        int slot = ((first + k) % 10) * 2 + male; /* birth number 980 + slot: odd = male */
        uint64_t bit = (uint64_t)1 << (slot + (coord ? 20 : 0));
        if (!(s->used[i] & bit)) {
            s->used[i] |= bit;
            return 980 + slot;
        }
    }
    return -1;
}

typedef struct person {
    char pnr[16];
    int birth, death, emig; /* YYYYMMDD, 0 = none */
    int age;
    char sex;
    int county;
} person_t;

static void format_pnr(person_t *p, int ymd, int num, int coord, int plus)
{
    int yy = ymd / 10000 % 100, mm = ymd / 100 % 100, dd = ymd % 100 + (coord ? 60 : 0);
    char d[32];
    snprintf(d, sizeof d, "%02d%02d%02d%03d", yy, mm, dd, num);
    int sum = 0;
    for (int i = 0; i < 9; i++) {
        int v = (d[i] - '0') * (i % 2 == 0 ? 2 : 1);
        sum += v > 9 ? v - 9 : v;
    }
    snprintf(p->pnr, sizeof p->pnr, "%.6s%c%.3s%d", d, plus ? '+' : '-', d + 6,
             (10 - sum % 10) % 10);
}

static int age_on(int birth, int ymd) { return (ymd - birth) / 10000; }

/* Draws one person with a unique test number; -1 when no number is free. */
static int draw_person(sim_t *s, person_t *p)
{
    for (int attempt = 0; attempt < 200; attempt++) {
        int age = draw_cdf(&s->r, s->age_cdf, SIM_MAX_AGE + 1);
        int64_t hi = s->ref_day - (int64_t)(age * 365.2425), lo = hi - 365;
        int64_t day = rng_day(&s->r, lo, hi);
        int male = rng_chance(&s->r, p_male(age));
        int coord = rng_chance(&s->r, 0.01);
        int num = -1;
        int64_t d = day;
        /* the drawn date, then nearby dates, then a samordningsnummer */
        for (int pass = 0; pass < 2 && num < 0; pass++, coord = !coord) {
            for (int k = 0; k <= 60 && num < 0; k++) {
                d = day + ((k & 1) ? (k + 1) / 2 : -(k / 2));
                if (birth_ok(s, days_ymd(d)))
                    num = take_number(s, d, male, coord);
            }
        }
        if (num < 0)
            continue;
        coord = !coord; /* undo the flip of the last pass */
        memset(p, 0, sizeof *p);
        p->birth = days_ymd(d);
        p->age = age_on(p->birth, s->ref);
        p->sex = male ? 'M' : 'F';
        format_pnr(p, p->birth, num, coord, p->age >= 100);
        p->county = draw_cdf(&s->r, s->county_cdf, (int)N_COUNTIES);
        /* deaths within the last ten years */
        double h = 0;
        for (int k = 0; k < 10 && p->age - k >= 0; k++)
            h += mortality(p->age - k);
        int64_t bday = ymd_days(p->birth);
        if (rng_chance(&s->r, 1 - exp(-h))) {
            int64_t dlo = s->ref_day - 3652 > bday ? s->ref_day - 3652 : bday;
            p->death = days_ymd(rng_day(&s->r, dlo, s->ref_day));
        } else if (p->age >= 1 && rng_chance(&s->r, p->age >= 20 && p->age <= 60 ? 0.04 : 0.015)) {
            int64_t elo = s->ref_day - 30 * 365 > bday ? s->ref_day - 30 * 365 : bday;
            if (p->age >= 25 && elo < bday + 18 * 365)
                elo = bday + 18 * 365;
            p->emig = days_ymd(rng_day(&s->r, elo, s->ref_day));
        }
        return 0;
    }
    return -1;
}

/* ---- samples ---- */

static void date_str(int ymd, char *b, size_t cap)
{
    if (ymd)
        snprintf(b, cap, "%04d-%02d-%02d", ymd / 10000, ymd / 100 % 100, ymd % 100);
    else
        b[0] = '\0';
}

static void emit_sample(sim_t *s, const person_t *p, const char *source, const char *assay,
                        const char *grade, const char *tissue, int64_t day)
{
    char date[16];
    date_str(days_ymd(day), date, sizeof date);
    s->nsamples++;
    out_printf(s->smp, "S%06lld\t%s\t%s\t%s\t%s\t%s\t%s\n", (long long)s->nsamples, p->pnr, source,
               assay, grade, tissue, date);
}

/* A collection day in [from, to] (YYYYMMDD) while the person is alive,
 * in Sweden and at least min_age years old; -1 when there is none. */
static int64_t collection_day(sim_t *s, const person_t *p, int from, int to, int min_age)
{
    int64_t lo = ymd_days(from), hi = ymd_days(to);
    int64_t adult = ymd_days(p->birth) + (int64_t)(min_age * 365.2425) + 1;
    if (lo < adult)
        lo = adult;
    int64_t end = s->ref_day;
    if (p->death && ymd_days(p->death) < end)
        end = ymd_days(p->death);
    if (p->emig && ymd_days(p->emig) < end)
        end = ymd_days(p->emig);
    if (hi > end)
        hi = end;
    return lo <= hi ? rng_day(&s->r, lo, hi) : -1;
}

static void person_samples(sim_t *s, const person_t *p)
{
    int by = p->birth / 10000;
    int64_t d;
    /* SCAPIS: born 1949-1968, examined 2013-2018; repeated olink later */
    if (by >= 1949 && by <= 1968 && rng_chance(&s->r, 0.08) &&
        (d = collection_day(s, p, 20131101, 20180630, 50)) >= 0) {
        emit_sample(s, p, "SCAPIS", "array", "research", "blood", d);
        emit_sample(s, p, "SCAPIS", "olink", "research", "plasma", d);
        if (rng_chance(&s->r, 0.7))
            emit_sample(s, p, "SCAPIS", "metabolomics", "research", "plasma", d);
        if (rng_chance(&s->r, 0.6)) {
            int64_t f = d + 4 * 365 + (int64_t)rng_below(&s->r, 2 * 365);
            int64_t g = collection_day(s, p, days_ymd(f), days_ymd(f), 0);
            if (g >= 0)
                emit_sample(s, p, "SCAPIS", "olink", "research", "plasma", g);
        }
    }
    /* LifeGene: adults 18-45 recruited 2009-2016 */
    if (by >= 1964 && by <= 1998 && rng_chance(&s->r, 0.05) &&
        (d = collection_day(s, p, 20090101, 20161231, 18)) >= 0) {
        emit_sample(s, p, "LifeGene", "array", "research", "blood", d);
        if (rng_chance(&s->r, 0.3))
            emit_sample(s, p, "LifeGene", "metabolomics", "research", "plasma", d);
    }
    /* TwinGene: twins born 1911-1958, sampled 2004-2008 */
    if (by >= 1911 && by <= 1958 && rng_chance(&s->r, 0.05) &&
        (d = collection_day(s, p, 20040101, 20081231, 45)) >= 0)
        emit_sample(s, p, "TwinGene", "array", "research", "blood", d);
    /* Malmo Kost Cancer: Malmo residents born 1923-1950, 1991-1996 */
    if (by >= 1923 && by <= 1950 && strcmp(counties[p->county].code, "12") == 0 &&
        rng_chance(&s->r, 0.2) && (d = collection_day(s, p, 19910301, 19961031, 40)) >= 0) {
        emit_sample(s, p, "MKC", "array", "research", "blood", d);
        if (rng_chance(&s->r, 0.5))
            emit_sample(s, p, "MKC", "metabolomics", "research", "plasma", d);
        if (rng_chance(&s->r, 0.3))
            emit_sample(s, p, "MKC", "olink", "research", "plasma", d);
    }
    /* Genomic Medicine Sweden: rare disease (more children) and cancer */
    const char *gms = counties[p->county].gms;
    if (rng_chance(&s->r, p->age < 18 ? 0.025 : 0.01) &&
        (d = collection_day(s, p, 20200101, s->ref, 0)) >= 0)
        emit_sample(s, p, gms, rng_chance(&s->r, 0.75) ? "wgs" : "wes", "clinical", "blood", d);
    if (p->age >= 40 && rng_chance(&s->r, 0.006) &&
        (d = collection_day(s, p, 20210101, s->ref, 30)) >= 0) {
        emit_sample(s, p, gms, "wgs", "clinical", "tumour", d);
        emit_sample(s, p, gms, "wgs", "clinical", "blood", d);
    }
}

/* ---- driver ---- */

static int open_out(pm_ctx_t *ctx, const char *dir, const char *name, out_t *o)
{
    char path[4096];
    int rc = pm_path(ctx, path, sizeof path, "%s/%s", dir, name);
    if (rc < 0)
        return rc;
    return pm_afile_open(ctx, path, 0644, &o->f);
}

int pm_sim_population(pm_ctx_t *ctx, const char *outdir, const pm_sim_opts_t *opts)
{
    if (!opts || opts->individuals < 1 || opts->individuals > SIM_MAX_INDIVIDUALS)
        return pm_err(ctx, PM_EUSAGE, "the number of individuals must be 1 to %d",
                      SIM_MAX_INDIVIDUALS);
    int ref = opts->ref_date ? opts->ref_date : SIM_DEFAULT_REF;
    if (!valid_ymd(ref) || ref < 19000101)
        return pm_err(ctx, PM_EUSAGE, "no such reference date %04d-%02d-%02d (after 1900)",
                      ref / 10000, ref / 100 % 100, ref % 100);
    int rc = pm_mkdir_p(ctx, outdir);
    if (rc < 0)
        return rc;

    sim_t *s = calloc(1, sizeof *s);
    out_t *pop = calloc(1, sizeof *pop), *smp = calloc(1, sizeof *smp);
    if (!s || !pop || !smp) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    rng_seed(&s->r, opts->seed);
    s->ref = ref;
    s->ref_day = ymd_days(ref);
    s->base_day = s->ref_day - (SIM_MAX_AGE + 2) * 366;
    s->ndays = s->ref_day - s->base_day + 1;
    s->used = calloc((size_t)s->ndays, sizeof *s->used);
    if (!s->used) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    init_model(s);
    s->pop = pop;
    s->smp = smp;
    if ((rc = open_out(ctx, outdir, "population.tsv", pop)) < 0 ||
        (rc = open_out(ctx, outdir, "samples.tsv", smp)) < 0)
        goto out;
    out_printf(pop, "personnummer\tsex\tbirth_date\tcounty\tdeath_date\temigration_date\n");
    out_printf(smp, "sample_id\tpersonnummer\tsource\tassay\tgrade\ttissue\tcollection_date\n");
    for (int64_t i = 0; i < opts->individuals && rc == 0; i++) {
        person_t p;
        if (draw_person(s, &p) < 0) {
            rc = pm_err(ctx, PM_ELIMIT,
                        "the test number series (980-999) has no room for %lld individuals; "
                        "use fewer",
                        (long long)opts->individuals);
            break;
        }
        char b[16], dd[16], ed[16];
        date_str(p.birth, b, sizeof b);
        date_str(p.death, dd, sizeof dd);
        date_str(p.emig, ed, sizeof ed);
        out_printf(pop, "%s\t%c\t%s\t%s\t%s\t%s\n", p.pnr, p.sex, b, counties[p.county].code, dd,
                   ed);
        person_samples(s, &p);
        if ((rc = pop->rc) == 0)
            rc = smp->rc;
        if ((i & 0xffff) == 0xffff)
            pm_progress(ctx, "individuals", (uint64_t)i + 1, (uint64_t)opts->individuals);
    }
    if (rc == 0) {
        out_flush(pop);
        out_flush(smp);
        rc = pop->rc ? pop->rc : smp->rc;
    }
    if (rc == 0) {
        rc = pm_afile_commit(pop->f);
        pop->f = NULL;
    }
    if (rc == 0) {
        rc = pm_afile_commit(smp->f);
        smp->f = NULL;
    }
    if (rc == 0)
        pm_progress(ctx, "individuals", (uint64_t)opts->individuals,
                    (uint64_t)opts->individuals);
out:
    if (pop)
        pm_afile_abort(pop->f);
    if (smp)
        pm_afile_abort(smp->f);
    if (s)
        free(s->used);
    free(s);
    free(pop);
    free(smp);
    return rc < 0 ? rc : 0;
}
