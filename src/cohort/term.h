/*
 * term.h - the cohort expression tree and the term-provider hooks.
 * Internal to libpromise.
 *
 * The parser (parse.c) turns text into a tree of nodes; the evaluator
 * (eval.c) walks it with bitsets. Every leaf is a term of one kind; the
 * table term_eval[] in eval.c maps each kind to the function that
 * evaluates it. Kinds whose data another module owns call that module's
 * public query API (promise/registry.h: pm_registry_individuals,
 * pm_endpoint_eval, pm_registry_events_*; promise/genotype.h:
 * pm_genotype_carriers). A module that is not written yet is reached
 * through a provider hook declared below, whose weak default in
 * provider_default.c fails with an honest message ("column 3: term
 * 'omics:' needs omics data, which this store has not loaded"); the module
 * replaces it by defining the same function, without `weak`, in a file
 * of its own (e.g. src/omics/om_cohort.c). To add a kind: a value here, a
 * word in parse.c's kind table, a printer case and a row in term_eval[].
 *
 * Provider contract: `out` arrives all-zero with pm_store_n_individuals
 * bits; set the matching individuals (withdrawn ones may be set: the
 * evaluator removes them). Return >= 0, or a negative PM_E* with a
 * message on the store's context that starts "column N: " (t->col).
 */
#ifndef PM_COHORT_TERM_H
#define PM_COHORT_TERM_H

#include <stdint.h>

#include "promise/bitset.h"
#include "promise/cohort.h"
#include "promise/store.h"

typedef enum pm_term_kind {
    PM_TERM_SEX,      /* sex=M | sex=F                      c.sex */
    PM_TERM_AGE_GE,   /* age>=N                             lo */
    PM_TERM_AGE_LT,   /* age<N                              lo */
    PM_TERM_BORN,     /* born:YYYY..YYYY, born:YYYY         lo..hi inclusive */
    PM_TERM_COUNTY,   /* county:NN                          lo */
    PM_TERM_ALIVE,    /* alive */
    PM_TERM_SOURCE,   /* source:NAME                        name */
    PM_TERM_ASSAY,    /* assay:NAME                         name */
    PM_TERM_ICD10,    /* icd10:CODE (patient register)      code */
    PM_TERM_ATC,      /* atc:CODE (dispensed drugs)         code */
    PM_TERM_KVA,      /* kva:CODE (procedures)              code */
    PM_TERM_ICDO3,    /* icdo3:CODE (cancer register)       code */
    PM_TERM_DEATH,    /* death:CODE (causes of death)       code */
    PM_TERM_CARRIER,  /* carrier(CHR:POS:REF:ALT)           chrom, pos, ref, alt */
    PM_TERM_OMICS_GT, /* omics:ASSAY:FEATURE>X              name (assay), feature, x */
    PM_TERM_OMICS_LT, /* omics:ASSAY:FEATURE<X */
    PM_TERM_ICD9,     /* icd9:CODE (patient register, before 1997) code */
    PM_TERM_ENDPOINT, /* endpoint:NAME (registry endpoint cases) name */
    PM_TERM_NKINDS
} pm_term_kind_t;

typedef struct pm_cohort_term {
    pm_term_kind_t kind;
    int col;        /* 1-based character column where the term starts */
    char sex;       /* 'M' or 'F' */
    int lo, hi;     /* age, birth years, county code */
    char *name;     /* source / assay name, or the omics assay */
    char *code;     /* registry code, uppercased, as written otherwise */
    char *chrom;    /* carrier: contig as written */
    int64_t pos;    /* carrier: 1-based position */
    char *ref, *alt;
    char *feature;  /* omics feature */
    double x;       /* omics threshold */
    char *xtext;    /* the threshold as written (for printing) */
} pm_cohort_term_t;

typedef enum pm_node_op { PM_NODE_TERM, PM_NODE_NOT, PM_NODE_AND, PM_NODE_OR, PM_NODE_WINDOW } pm_node_op_t;

/* Time windows: EVENT within N UNIT after|before ANCHOR (docs/cohort.md). */
enum { PM_Q_ANY = 0, PM_Q_FIRST = 1, PM_Q_LAST = 2 };
enum { PM_DIR_AFTER = 0, PM_DIR_BEFORE = 1 };
enum { PM_UNIT_DAYS = 'd', PM_UNIT_WEEKS = 'w', PM_UNIT_MONTHS = 'm', PM_UNIT_YEARS = 'y' };

typedef struct pm_node {
    pm_node_op_t op;
    int col;                /* 1-based column of the node's first token */
    struct pm_node *a, *b;  /* NOT: a; AND/OR: a, b; WINDOW: a = event, b = anchor (terms) */
    pm_cohort_term_t term;  /* TERM only */
    /* WINDOW only */
    int ev_q, an_q;         /* PM_Q_* quantifiers of the event and the anchor */
    int dir;                /* PM_DIR_* */
    int amount;             /* N */
    int unit;               /* PM_UNIT_* */
} pm_node_t;

struct pm_cohort {
    pm_node_t *root; /* NULL = everyone */
};

/* Name of a kind as written before its argument ("icd10:", "carrier(",
 * "sex="), for messages. */
const char *pm_term_kind_text(pm_term_kind_t k);
/* 1 when a kind's matches carry dates (may appear in a time window). */
int pm_term_kind_dated(pm_term_kind_t k);

/* Dated matches, for time windows: per individual, the sorted dates
 * (YYYYMMDD) of its matching events or samples, in compressed rows:
 * individual i has date[off[i] .. off[i+1]-1]. The provider fills n
 * (= pm_store_n_individuals) and mallocs off (n+1) and date; the caller
 * frees both with free(). */
typedef struct pm_cohort_dates {
    size_t n;
    uint32_t *off;
    int32_t *date;
} pm_cohort_dates_t;

/* ---- provider hooks (weak defaults in provider_default.c) ---- */
int pm_cohort_provide_omics(pm_store_t *st, const pm_cohort_term_t *t, pm_bitset_t *out);

/* Parser internals shared with eval.c and the tests. */
void pm_node_free(pm_node_t *n);

#endif
