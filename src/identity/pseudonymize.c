/*
 * pseudonymize.c - the personnummer column of a table becomes a pseudonym
 * column (see promise/identity.h). Every row is validated before a byte
 * reaches the caller's stream: output is staged in an anonymous
 * temporary file (tmpfile(): unlinked, so nothing is left behind) that
 * holds pseudonyms only, and copied to `out` once the input is known good.
 */
#include "promise/identity.h"

#include <errno.h>
#include <string.h>

#include "core/tsv.h"

#define PNR_COLUMN "personnummer"
#define PSEUDONYM_COLUMN "pseudonym"
#define PROGRESS_EVERY 65536

static int put_field(FILE *fp, int i, const char *s)
{
    if (i > 0 && fputc('\t', fp) == EOF)
        return -1;
    return fputs(s, fp) == EOF ? -1 : 0;
}

static int copy_stream(FILE *from, FILE *to)
{
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, from)) > 0)
        if (fwrite(buf, 1, n, to) != n)
            return -1;
    return ferror(from) ? -1 : 0;
}

int pm_pseudonymize_table(pm_ctx_t *ctx, const pm_key_t *key, const char *in_path, FILE *out)
{
    pm_tsv_t *t;
    int rc = pm_tsv_open(ctx, in_path, NULL, &t);
    if (rc < 0)
        return rc;
    int col = pm_tsv_col(t, PNR_COLUMN);
    int dup = pm_tsv_col(t, PSEUDONYM_COLUMN);
    if (col < 0) {
        rc = pm_err(ctx, PM_EINPUT, "%s:1: no '%s' column in the header%s", in_path, PNR_COLUMN,
                    dup >= 0 ? " (it has a 'pseudonym' column: already pseudonymised?)" : "");
        goto out_close;
    }
    if (dup >= 0) {
        /* right after opening, the current row is the header */
        rc = pm_err(ctx, PM_EINPUT, "%s:1:%ld: the header already has a '%s' column", in_path,
                    pm_tsv_colpos(t, dup), PSEUDONYM_COLUMN);
        goto out_close;
    }
    FILE *tmp = tmpfile();
    if (!tmp) {
        rc = pm_err(ctx, PM_EIO, "cannot create a temporary file: %s", strerror(errno));
        goto out_close;
    }

    int werr = 0, ncols = pm_tsv_ncols(t);
    for (int i = 0; i < ncols; i++)
        werr |= put_field(tmp, i, i == col ? PSEUDONYM_COLUMN : pm_tsv_colname(t, i));
    werr |= fputc('\n', tmp) == EOF;

    /* One reference date for the whole table, so that a run across
     * midnight reads every 10-digit number the same way. */
    int ref_date = pm_pnr_today();
    uint64_t rows = 0;
    char pseudo[PM_PSEUDONYM_MAX];
    int r;
    while ((r = pm_tsv_next(t)) > 0) {
        pm_pnr_t p;
        int e = pm_pnr_parse(pm_tsv_field(t, col), ref_date, &p);
        if (e != PM_PNR_OK) {
            rc = pm_tsv_err(t, col, PM_EINPUT, "invalid personnummer: %s", pm_pnr_strerror(e));
            goto out_tmp;
        }
        pm_pseudonym(key, &p, pseudo);
        for (int i = 0; i < ncols; i++)
            werr |= put_field(tmp, i, i == col ? pseudo : pm_tsv_field(t, i));
        werr |= fputc('\n', tmp) == EOF;
        if (werr) {
            rc = pm_err(ctx, PM_EIO, "cannot write the temporary file: %s", strerror(errno));
            goto out_tmp;
        }
        if (++rows % PROGRESS_EVERY == 0)
            pm_progress(ctx, "rows", rows, 0);
    }
    if (r < 0) {
        rc = r;
        goto out_tmp;
    }
    if (werr || fflush(tmp) != 0) {
        rc = pm_err(ctx, PM_EIO, "cannot write the temporary file: %s", strerror(errno));
        goto out_tmp;
    }
    rewind(tmp);
    if (copy_stream(tmp, out) < 0 || fflush(out) != 0) {
        rc = pm_err(ctx, PM_EIO, "cannot write the output: %s", strerror(errno));
        goto out_tmp;
    }
    rc = 0;
out_tmp:
    fclose(tmp);
out_close:
    pm_tsv_close(t);
    return rc;
}
