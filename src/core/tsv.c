/* tsv.c - header-driven table reader (see tsv.h). */
#include "core/tsv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <zlib.h>

#define TSV_READ_CHUNK (1 << 16)

struct pm_tsv {
    pm_ctx_t *ctx;
    gzFile gz;
    char *path;
    pm_tsv_opts_t o;
    /* raw input buffer */
    char *in;
    size_t in_len, in_pos, in_cap;
    int eof;
    /* current line (owned, NUL-split into fields) */
    char *line;
    size_t line_cap;
    long lineno;
    /* fields of the current row */
    char **f;
    size_t *flen;
    long *fpos;
    int nf, fcap;
    /* header */
    char **cols;
    int ncols;
};

static int read_line(pm_tsv_t *t, size_t *len_out)
{
    size_t len = 0;
    for (;;) {
        if (t->in_pos >= t->in_len) {
            if (t->eof)
                break;
            int n = gzread(t->gz, t->in, (unsigned)t->in_cap);
            if (n < 0) {
                int e;
                const char *m = gzerror(t->gz, &e);
                return pm_err(t->ctx, PM_EIO, "%s: read error: %s", t->path, m);
            }
            if (n == 0) {
                t->eof = 1;
                break;
            }
            t->in_len = (size_t)n;
            t->in_pos = 0;
        }
        char *s = t->in + t->in_pos;
        size_t avail = t->in_len - t->in_pos;
        char *nl = memchr(s, '\n', avail);
        size_t take = nl ? (size_t)(nl - s) : avail;
        if (len + take + 1 > t->o.max_line)
            return pm_err(t->ctx, PM_ELIMIT, "%s:%ld: line longer than %zu bytes",
                          t->path, t->lineno + 1, t->o.max_line);
        if (len + take + 1 > t->line_cap) {
            size_t cap = t->line_cap ? t->line_cap : 256;
            while (cap < len + take + 1)
                cap *= 2;
            char *p = realloc(t->line, cap);
            if (!p)
                return pm_err(t->ctx, PM_ENOMEM, "out of memory reading '%s'", t->path);
            t->line = p;
            t->line_cap = cap;
        }
        memcpy(t->line + len, s, take);
        len += take;
        t->in_pos += take;
        if (nl) {
            t->in_pos++;
            t->lineno++;
            t->line[len] = '\0';
            if (len && t->line[len - 1] == '\r')
                t->line[--len] = '\0';
            *len_out = len;
            return 1;
        }
    }
    if (len == 0)
        return 0;
    t->lineno++;
    t->line[len] = '\0';
    if (len && t->line[len - 1] == '\r')
        t->line[--len] = '\0';
    *len_out = len;
    return 1;
}

static int push_field(pm_tsv_t *t, char *s, size_t len, long pos)
{
    if (t->nf == t->fcap) {
        int cap = t->fcap ? t->fcap * 2 : 16;
        char **f = realloc(t->f, (size_t)cap * sizeof *f);
        if (f)
            t->f = f;
        size_t *fl = realloc(t->flen, (size_t)cap * sizeof *fl);
        if (fl)
            t->flen = fl;
        long *fp = realloc(t->fpos, (size_t)cap * sizeof *fp);
        if (fp)
            t->fpos = fp;
        if (!f || !fl || !fp)
            return pm_err(t->ctx, PM_ENOMEM, "out of memory reading '%s'", t->path);
        t->fcap = cap;
    }
    t->f[t->nf] = s;
    t->flen[t->nf] = len;
    t->fpos[t->nf] = pos;
    t->nf++;
    return 0;
}

/* Splits t->line (length len) into fields in place. */
static int split(pm_tsv_t *t, size_t len)
{
    char *s = t->line, *end = t->line + len;
    t->nf = 0;
    for (;;) {
        long pos = (long)(s - t->line) + 1;
        if (t->o.quotes && s < end && *s == '"') {
            char *w = s, *r = s + 1;
            for (;;) {
                if (r >= end)
                    return pm_err(t->ctx, PM_EINPUT, "%s:%ld:%ld: unterminated quoted field",
                                  t->path, t->lineno, pos);
                if (*r == '"') {
                    if (r + 1 < end && r[1] == '"') {
                        *w++ = '"';
                        r += 2;
                        continue;
                    }
                    r++;
                    break;
                }
                *w++ = *r++;
            }
            if (r < end && *r != t->o.sep)
                return pm_err(t->ctx, PM_EINPUT, "%s:%ld:%ld: text after closing quote",
                              t->path, t->lineno, (long)(r - t->line) + 1);
            *w = '\0';
            if (push_field(t, s, (size_t)(w - s), pos) < 0)
                return PM_ENOMEM;
            if (r >= end)
                break;
            s = r + 1;
            continue;
        }
        char *e = memchr(s, t->o.sep, (size_t)(end - s));
        if (!e)
            e = end;
        *e = '\0';
        if (push_field(t, s, (size_t)(e - s), pos) < 0)
            return PM_ENOMEM;
        if (e >= end)
            break;
        s = e + 1;
    }
    return 0;
}

/* Reads lines until a non-blank, non-comment one; splits it. */
static int next_row(pm_tsv_t *t)
{
    for (;;) {
        size_t len = 0;
        int r = read_line(t, &len);
        if (r <= 0)
            return r;
        if (len == 0)
            continue;
        if (t->o.comment && t->line[0] == t->o.comment)
            continue;
        if (split(t, len) < 0)
            return pm_ctx_errcode(t->ctx);
        return 1;
    }
}

int pm_tsv_open(pm_ctx_t *ctx, const char *path, const pm_tsv_opts_t *opts, pm_tsv_t **out)
{
    *out = NULL;
    pm_tsv_t *t = calloc(1, sizeof *t);
    if (!t)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    t->ctx = ctx;
    if (opts)
        t->o = *opts;
    if (!t->o.sep)
        t->o.sep = '\t';
    if (!t->o.max_line)
        t->o.max_line = (size_t)16 << 20;
    t->path = strdup(path);
    t->in_cap = TSV_READ_CHUNK;
    t->in = malloc(t->in_cap);
    if (!t->path || !t->in) {
        pm_tsv_close(t);
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    }
    if (strcmp(path, "-") == 0)
        t->gz = gzdopen(0, "rb");
    else
        t->gz = gzopen(path, "rb");
    if (!t->gz) {
        int rc = pm_err(ctx, PM_EIO, "cannot open '%s': %s", path, strerror(errno));
        pm_tsv_close(t);
        return rc;
    }
    if (t->o.no_header) {
        *out = t;
        return 0;
    }
    int r = next_row(t);
    if (r < 0) {
        pm_tsv_close(t);
        return r;
    }
    if (r == 0) {
        pm_tsv_close(t);
        return pm_err(ctx, PM_EINPUT, "%s:1: empty file, expected a header line", path);
    }
    t->ncols = t->nf;
    t->cols = calloc((size_t)t->ncols, sizeof *t->cols);
    if (!t->cols) {
        pm_tsv_close(t);
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    }
    for (int i = 0; i < t->ncols; i++) {
        t->cols[i] = strdup(t->f[i]);
        if (!t->cols[i]) {
            pm_tsv_close(t);
            return pm_err(ctx, PM_ENOMEM, "out of memory");
        }
        for (int j = 0; j < i; j++)
            if (strcmp(t->cols[j], t->cols[i]) == 0) {
                int rc = pm_err(ctx, PM_EINPUT, "%s:%ld:%ld: duplicate column '%s'", path,
                                t->lineno, t->fpos[i], t->cols[i]);
                pm_tsv_close(t);
                return rc;
            }
    }
    *out = t;
    return 0;
}

void pm_tsv_close(pm_tsv_t *t)
{
    if (!t)
        return;
    if (t->gz)
        gzclose(t->gz);
    for (int i = 0; i < t->ncols; i++)
        free(t->cols[i]);
    free(t->cols);
    free(t->f);
    free(t->flen);
    free(t->fpos);
    free(t->line);
    free(t->in);
    free(t->path);
    free(t);
}

int pm_tsv_ncols(const pm_tsv_t *t) { return t->ncols; }

const char *pm_tsv_colname(const pm_tsv_t *t, int i)
{
    return (i >= 0 && i < t->ncols) ? t->cols[i] : "";
}

int pm_tsv_col(const pm_tsv_t *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i], name) == 0)
            return i;
    return -1;
}

int pm_tsv_next(pm_tsv_t *t)
{
    int r = next_row(t);
    if (r <= 0)
        return r;
    if (!t->o.no_header && t->nf != t->ncols)
        return pm_err(t->ctx, PM_EINPUT, "%s:%ld: expected %d fields, found %d", t->path,
                      t->lineno, t->ncols, t->nf);
    return 1;
}

int pm_tsv_nfields(const pm_tsv_t *t) { return t->nf; }

const char *pm_tsv_field(const pm_tsv_t *t, int i) { return (i >= 0 && i < t->nf) ? t->f[i] : ""; }

size_t pm_tsv_field_len(const pm_tsv_t *t, int i) { return (i >= 0 && i < t->nf) ? t->flen[i] : 0; }

long pm_tsv_lineno(const pm_tsv_t *t) { return t->lineno; }

long pm_tsv_colpos(const pm_tsv_t *t, int i) { return (i >= 0 && i < t->nf) ? t->fpos[i] : 1; }

const char *pm_tsv_path(const pm_tsv_t *t) { return t->path; }

int pm_tsv_err(pm_tsv_t *t, int col, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (col >= 0 && col < t->ncols)
        return pm_err(t->ctx, code, "%s:%ld:%ld: %s (column '%s')", t->path, t->lineno,
                      pm_tsv_colpos(t, col), msg, t->cols[col]);
    if (col >= 0)
        return pm_err(t->ctx, code, "%s:%ld:%ld: %s", t->path, t->lineno, pm_tsv_colpos(t, col),
                      msg);
    return pm_err(t->ctx, code, "%s:%ld: %s", t->path, t->lineno, msg);
}
