/*
 * tsv.h - header-driven reader for tab-separated (or comma-separated)
 * tables, plain or gzip-compressed, with line and column positions for
 * error messages ("FILE:LINE:COL: ..."). Internal to libpromise.
 *
 * Usage:
 *   pm_tsv_t *t; pm_tsv_open(ctx, path, &opts, &t);
 *   int c = pm_tsv_col(t, "sample_id");
 *   while ((r = pm_tsv_next(t)) > 0) { pm_tsv_field(t, c) ... }
 *   pm_tsv_close(t);
 * Field pointers stay valid until the next pm_tsv_next(). Lines longer
 * than opts.max_line fail with PM_ELIMIT.
 */
#ifndef PM_CORE_TSV_H
#define PM_CORE_TSV_H

#include <stddef.h>

#include "promise/error.h"

typedef struct pm_tsv pm_tsv_t;

typedef struct pm_tsv_opts {
    char sep;          /* '\t' (default when 0) or ',' */
    int quotes;        /* honour "..." quoting with "" escapes (CSV) */
    size_t max_line;   /* 0 = 16 MiB */
    int no_header;     /* first line is data, columns unnamed */
    char comment;      /* lines starting with this char are skipped (0 = none) */
} pm_tsv_opts_t;

/* Opens path ("-" = stdin) and reads the header. Close with pm_tsv_close(). */
int pm_tsv_open(pm_ctx_t *ctx, const char *path, const pm_tsv_opts_t *opts, pm_tsv_t **out);
void pm_tsv_close(pm_tsv_t *t);

int pm_tsv_ncols(const pm_tsv_t *t);
const char *pm_tsv_colname(const pm_tsv_t *t, int i);
/* Index of the column named `name`, or -1. */
int pm_tsv_col(const pm_tsv_t *t, const char *name);

/* Reads the next data row: 1 = row, 0 = end of file, <0 = error (set on
 * ctx with file:line). Blank lines are skipped. A row whose field count
 * differs from the header is an error. */
int pm_tsv_next(pm_tsv_t *t);
/* Number of fields in the current row. */
int pm_tsv_nfields(const pm_tsv_t *t);
const char *pm_tsv_field(const pm_tsv_t *t, int i);
size_t pm_tsv_field_len(const pm_tsv_t *t, int i);
/* 1-based line number of the current row, and 1-based character column
 * where field i starts. */
long pm_tsv_lineno(const pm_tsv_t *t);
long pm_tsv_colpos(const pm_tsv_t *t, int i);
const char *pm_tsv_path(const pm_tsv_t *t);

/* Records "PATH:LINE:COL: <message> (column 'NAME')" on ctx and returns
 * code. col < 0 omits the column. */
int pm_tsv_err(pm_tsv_t *t, int col, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
