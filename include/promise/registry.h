/*
 * promise/registry.h - national registry events (patient register
 * diagnoses, procedures, dispensed drugs, cancer register, causes of
 * death), consent, and FinnGen-style endpoints built on them. Formats and
 * choices are documented in docs/registry.md.
 *
 *   pm_registry_opts_t o = {.layout = PM_LAYOUT_NPR, .id_column = "lopnr"};
 *   pm_registry_result_t r;
 *   if (pm_registry_ingest(st, "npr.csv", &o, &r) < 0)          // one transaction
 *       fprintf(stderr, "%s\n", pm_ctx_errmsg(ctx));              // FILE:LINE:COL: ...
 *
 *   pm_bitset_t *set = pm_bitset_new(pm_store_n_individuals(st));
 *   pm_registry_individuals(st, "icd10", "E11", set);            // E11, E11.9, E119 ...
 *
 * Every event resolves to an individual (the dense individual.idx) and
 * lives under one *domain*: a register and the code system it is coded in
 * (patient/icd10, patient/icd9, procedure/kva, drug/atc, cancer/icdo3
 * topography and morphology, cancer/icd10, death/icd10, death/icd9).
 * Code systems never mix: "591,99" is ICD-9 and is never found by an
 * icd10 query. Codes are stored normalised: upper case, no dots or commas
 * (E11.9 -> E119), ICD-O-3 morphology as "8500/3".
 *
 * Queries take a *term*, the word before the colon in a cohort expression
 * (icd10, icd9, kva, atc, icdo3, death), and a code prefix; a code matches
 * itself and all its descendants. A range "I10-I15" matches I10 up to and
 * including I15 and their descendants. Query functions do not filter
 * withdrawn individuals or consent: the cohort layer does (see
 * pm_consent_excluded). Functions on a store record errors on its context.
 * Handles are not thread-safe.
 */
#ifndef PROMISE_REGISTRY_H
#define PROMISE_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "promise/bitset.h"
#include "promise/identity.h"
#include "promise/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- codes and dates ---- */

/* Longest normalised code (+ NUL). Longer codes are refused at ingest. */
#define PM_CODE_MAX 16

/* Event domains: (register, code system). Values are stored in the
 * catalog; never renumber. */
enum pm_domain {
    PM_DOM_PATIENT_ICD10 = 1,
    PM_DOM_PATIENT_ICD9 = 2,
    PM_DOM_PROCEDURE_KVA = 3,
    PM_DOM_DRUG_ATC = 4,
    PM_DOM_CANCER_TOPO = 5,  /* ICD-O-3 topography, C509 */
    PM_DOM_CANCER_MORPH = 6, /* ICD-O-3 morphology, 8500/3 */
    PM_DOM_CANCER_ICD10 = 7, /* the cancer register's ICD-10 code */
    PM_DOM_DEATH_ICD10 = 8,
    PM_DOM_DEATH_ICD9 = 9,
    PM_DOM_MAX = 9
};

/* Event positions. */
enum pm_position {
    PM_POS_MAIN = 0,      /* main diagnosis; underlying cause of death */
    PM_POS_SECONDARY = 1, /* secondary diagnosis; contributing cause */
    PM_POS_EXTERNAL = 2   /* external cause (NPR EKOD), stored as icd10 */
};

/* Register name ("patient") and code system name ("icd10") of a domain;
 * "" for an unknown domain. */
const char *pm_domain_register(int dom);
const char *pm_domain_system(int dom);

/*
 * Normalises a code of domain dom into out (PM_CODE_MAX bytes): trims
 * blanks, drops '.', ',' and '-' inside the code, upper-cases, and checks
 * the shape of the system (ICD-10 letter+digit+..., ICD-9 digits, ATC,
 * KVA, ICD-O-3). Returns 0, or PM_EINPUT with a short reason in *why.
 */
int pm_code_normalize(int dom, const char *in, char *out, const char **why);

/* Parses a date written YYYY-MM-DD or YYYYMMDD (a real Gregorian date,
 * years 1800-2199) into *ymd as the integer YYYYMMDD. Returns 0, or
 * PM_EINPUT. */
int pm_registry_date_parse(const char *s, int *ymd);

/* The half-open code range [lo, hi) that holds a prefix and all its
 * descendants: lo = prefix, hi = the smallest string greater than every
 * string starting with prefix ("E11" -> "E12", "A1Z" -> "A1[", "" -> no
 * bound, hi[0] = 0). lo and hi need PM_CODE_MAX bytes. */
void pm_code_prefix_range(const char *prefix, char *lo, char *hi);

/* ---- queries (for the cohort language) ---- */

/*
 * Sets (ORs) in out the individuals with at least one event matching
 * term:code. term is icd10 (patient register, any position including
 * external causes), icd9 (patient register), kva (procedures), atc
 * (drugs), icdo3 (cancer register: a code starting with C is a topography
 * and matches ICD-O-3 topography and the register's ICD-10 site code, a
 * code starting with a digit is a morphology), death (causes of death,
 * underlying and contributing; ICD-10, or ICD-9 for a digit code). code is
 * a prefix as users write it ("E11", "E11.9", "I10-I15", "8500/3").
 * out->n must be pm_store_n_individuals(st). Uses the index: cost is
 * proportional to the matching events, not to all events.
 * Errors: PM_EINPUT (unknown term, bad code), PM_EIO.
 */
int pm_registry_individuals(pm_store_t *st, const char *term, const char *code,
                            pm_bitset_t *out);

/* One event as returned by the iterator. */
typedef struct pm_event {
    int64_t individual; /* individual.idx */
    int date;           /* YYYYMMDD */
    int domain;         /* enum pm_domain */
    int position;       /* enum pm_position */
    int has_value;      /* value is set (DDD for drugs) */
    double value;
    char code[PM_CODE_MAX];
} pm_event_t;

typedef struct pm_event_iter pm_event_iter_t;

/* Iterates the events matching term:code (same meaning as above), in
 * index order: by domain, code, individual, date. Close with
 * pm_registry_events_close(). */
int pm_registry_events_open(pm_store_t *st, const char *term, const char *code,
                            pm_event_iter_t **out);
/* 0 = *ev filled, -1 = end, < -1 = error (on the store's context). */
int pm_registry_events_next(pm_event_iter_t *it, pm_event_t *ev);
/* NULL is a no-op. */
void pm_registry_events_close(pm_event_iter_t *it);

/*
 * For each individual, the date (YYYYMMDD) of the first event matching
 * term:code: first[i] is lowered to that date when first[i] is 0 or later
 * (so several calls combine into "first of any"). first has
 * pm_store_n_individuals(st) entries; 0 means no event. If count is not
 * NULL, count[i] is increased by the number of matching events
 * (saturating at UINT32_MAX).
 */
int pm_registry_first_dates(pm_store_t *st, const char *term, const char *code, int *first,
                            uint32_t *count);

/* ---- ingest ---- */

enum pm_layout {
    PM_LAYOUT_LONG = 0, /* identity, date, register, code, [value], [position], [system] */
    PM_LAYOUT_NPR,      /* National Patient Register: INDATUM, HDIA, DIA1.., EKOD1.., OP */
    PM_LAYOUT_LMED,     /* Prescribed Drug Register: EDATUM, ATC, ANTAL*FORPDDD or DDD */
    PM_LAYOUT_DORS,     /* Cause of Death Register: DODSDAT, ULORSAK, MORSAK1.. */
    PM_LAYOUT_CANCER    /* Cancer Register: DIADAT, topography, morphology, ICD-10 */
};

/* "long" -> PM_LAYOUT_LONG ...; <0 when unknown. */
int pm_layout_parse(const char *name);
const char *pm_layout_name(int layout);

typedef struct pm_registry_opts {
    int layout;              /* enum pm_layout */
    const pm_key_t *key;     /* for a personnummer column; borrowed, may be NULL */
    const char *id_column;   /* identity column name (pseudonyms, or personnummer with
                              * key); NULL = 'pseudonym' or 'personnummer' */
    int ignore_extra;        /* skip columns the layout does not read */
    int skip_unknown;        /* skip rows of people not in the population (counted) */
    int ref_date;            /* century rule for 10-digit personnummer; 0 = today */
} pm_registry_opts_t;

typedef struct pm_registry_result {
    int64_t rows;            /* data rows read */
    int64_t events;          /* events found in them */
    int64_t inserted;        /* new events stored */
    int64_t present;         /* events already stored by an earlier ingest */
    int64_t skipped_unknown; /* rows of people not in the population (skip_unknown) */
    int64_t skipped_withdrawn; /* rows of withdrawn people: never loaded */
} pm_registry_result_t;

/*
 * Loads a registry file (TSV, or CSV with quotes for the register
 * layouts; gzip is fine) into a store opened PM_STORE_RDWR, as one
 * catalog transaction: on any error nothing is stored. Re-loading the same
 * file adds nothing and leaves the store unchanged. o may be NULL (long
 * format); res may be NULL.
 */
int pm_registry_ingest(pm_store_t *st, const char *path, const pm_registry_opts_t *o,
                       pm_registry_result_t *res);

/* ---- consent ---- */

/* The purposes a consent row may name ("all", "research", ...); NULL-
 * terminated. See docs/registry.md. */
extern const char *const pm_consent_purposes[];

typedef struct pm_consent_result {
    int64_t rows;
    int64_t changed;     /* consent rows added or changed */
    int64_t withdrawn;   /* individuals newly withdrawn */
} pm_consent_result_t;

/* Loads a consent table (identity, purpose, status opt-out|withdrawn,
 * date) as one transaction. 'withdrawn' also marks the individual
 * withdrawn (gone from every cohort). Uses o->key, id_column,
 * ignore_extra, skip_unknown, ref_date; layout is ignored. */
int pm_consent_ingest(pm_store_t *st, const char *path, const pm_registry_opts_t *o,
                      pm_consent_result_t *res);

/* ORs into out the individuals that may not be used for purpose: opted
 * out of it or of "all", or withdrawn. */
int pm_consent_excluded(pm_store_t *st, const char *purpose, pm_bitset_t *out);

/* ---- endpoints ---- */

/* One endpoint definition (a row of an endpoint file, format in
 * docs/registry.md). Strings are owned by the library it came from. */
typedef struct pm_endpoint {
    const char *name;        /* "T2D" */
    int version;             /* definition version */
    const char *description;
    char sex;                /* 'M', 'F' or 0 for both */
    int min_age, max_age;    /* age at the first qualifying event; -1 = no limit */
    int min_events;          /* qualifying events needed (>= 1) */
    const char *include;     /* "icd10:E11 atc:A10B death:E11" */
    const char *exclude;     /* "" or terms that rule a person out */
} pm_endpoint_t;

typedef struct pm_endpoint_lib pm_endpoint_lib_t;

/* The starter library compiled into libpromise. Free with
 * pm_endpoint_lib_free(). */
int pm_endpoint_lib_builtin(pm_ctx_t *ctx, pm_endpoint_lib_t **out);
/* A library from an endpoint file; errors name FILE:LINE:COL. */
int pm_endpoint_lib_load(pm_ctx_t *ctx, const char *path, pm_endpoint_lib_t **out);
void pm_endpoint_lib_free(pm_endpoint_lib_t *lib);
size_t pm_endpoint_lib_count(const pm_endpoint_lib_t *lib);
const pm_endpoint_t *pm_endpoint_lib_get(const pm_endpoint_lib_t *lib, size_t i);
/* By name (exact), or NULL. */
const pm_endpoint_t *pm_endpoint_lib_find(const pm_endpoint_lib_t *lib, const char *name);
/* The text of the built-in library (the shipped share/endpoints/starter.tsv). */
const char *pm_endpoint_builtin_tsv(void);

/*
 * Cases of an endpoint: individuals with at least min_events events
 * matching `include`, of the right sex, aged min_age..max_age at the first
 * such event (needs a birth date when a limit is set), and with no event
 * matching `exclude`. Withdrawn individuals are never cases. Sets (after
 * zeroing) out, whose n must be pm_store_n_individuals(st).
 */
int pm_endpoint_eval_def(pm_store_t *st, const pm_endpoint_t *ep, pm_bitset_t *out);
/* The same for an endpoint of the built-in library by name; PM_ENOTFOUND
 * when there is none. */
int pm_endpoint_eval(pm_store_t *st, const char *name, pm_bitset_t *out);

#ifdef __cplusplus
}
#endif
#endif
