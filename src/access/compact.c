/*
 * compact.c - physical removal of withdrawn individuals' data (`promise
 * compact`; see pm_access_compact in promise/access.h and
 * docs/access.md). Files first, then one catalog switch, then cleanup:
 *
 *   1. delete data files the catalog does not reference (left by a crash
 *      in an earlier compaction or ingest; the writer lock keeps ingests
 *      out while we run)
 *   2. rewrite every genotype segment / omics batch file that holds a
 *      column of a queued individual, under a new name, calls cleared
 *      (src/genotype/gtcompact.c, src/omics/om_compact.c; each file is
 *      fsynced and renamed into place by its writer)
 *   3. one catalog transaction: files switched, registry events and
 *      consent rows deleted, queue marked compacted
 *   4. delete the old files, fsync the directories
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog/cat_access.h"
#include "genotype/gtstore.h"
#include "omics/om_compact.h"
#include "promise/access.h"

static const char *const DIRS[] = {"gt", "omics"};

/* Fault injection for the crash tests: with PM_TEST_CRASH_AT=compact:N the
 * process kills itself (SIGKILL, as kill -9) at crash point N. */
static void crash_point(int n)
{
    const char *e = getenv("PM_TEST_CRASH_AT");
    if (e && strncmp(e, "compact:", 8) == 0 && strtol(e + 8, NULL, 10) == n)
        raise(SIGKILL);
}
static const char *const EXTS[] = {".gts", ".pmo"};

static int fsync_dir(pm_ctx_t *ctx, const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return errno == ENOENT ? 0 : pm_err(ctx, PM_EIO, "cannot open '%s': %s", dir, strerror(errno));
    int rc = fsync(fd) == 0 ? 0 : pm_err(ctx, PM_EIO, "cannot sync '%s': %s", dir, strerror(errno));
    close(fd);
    return rc;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Step 1: unreferenced *.gts / *.pmo files (and writers' temporaries) go. */
static int remove_stale(pm_store_t *st, int k, int64_t *removed)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    char **names = NULL;
    size_t n = 0;
    int rc = pm_cataccess_data_files(st, k, &names, &n);
    if (rc < 0)
        return rc;
    qsort(names, n, sizeof *names, name_cmp);
    char dir[4096], path[4400];
    snprintf(dir, sizeof dir, "%s/%s", pm_store_path(st), DIRS[k]);
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            const char *nm = e->d_name;
            size_t len = strlen(nm), el = strlen(EXTS[k]);
            int ours = (len > el && strcmp(nm + len - el, EXTS[k]) == 0) ||
                       (strstr(nm, EXTS[k]) && strstr(nm, ".tmp"));
            const char *key = nm;
            if (!ours || bsearch(&key, names, n, sizeof *names, name_cmp))
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, nm);
            if (unlink(path) == 0)
                (*removed)++;
        }
        closedir(d);
        rc = fsync_dir(ctx, dir);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* "b000001-00000.gts" -> "b000001-00000.c<gen>.gts" (an earlier .c<gen>
 * replaced). */
static int new_name(pm_ctx_t *ctx, const char *old, const char *ext, long long gen, char *buf,
                    size_t cap)
{
    size_t len = strlen(old), el = strlen(ext);
    size_t stem = len > el && strcmp(old + len - el, ext) == 0 ? len - el : len;
    const char *dot = memchr(old, '.', stem);
    if (dot && dot[1] == 'c')
        stem = (size_t)(dot - old);
    if ((size_t)snprintf(buf, cap, "%.*s.c%lld%s", (int)stem, old, gen, ext) >= cap)
        return pm_err(ctx, PM_ELIMIT, "file name '%s' too long", old);
    return 0;
}

int pm_access_compact(pm_store_t *st, pm_compact_result_t *res)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    pm_compact_result_t r;
    memset(&r, 0, sizeof r);
    pm_cataccess_cfile_t *f[2] = {NULL, NULL};
    size_t nf[2] = {0, 0};
    int rc = 0;
    for (int k = 0; rc >= 0 && k < 2; k++)
        rc = remove_stale(st, k, &r.stale_files);
    crash_point(1);
    if (rc >= 0)
        rc = pm_cataccess_compact_count(st, &r.individuals, &r.events);
    for (int k = 0; rc >= 0 && k < 2; k++)
        rc = pm_cataccess_compact_files(st, k, &f[k], &nf[k]);
    if (rc < 0)
        goto out;

    /* step 2: the new files */
    long long gen = (long long)time(NULL);
    uint64_t total = nf[0] + nf[1], done = 0;
    char in[4400], outp[4400];
    for (int k = 0; rc >= 0 && k < 2; k++)
        for (size_t i = 0; rc >= 0 && i < nf[k]; i++) {
            pm_cataccess_cfile_t *c = &f[k][i];
            /* never the old name: the old file must survive until the switch */
            long long g = gen;
            do
                rc = new_name(ctx, c->file, EXTS[k], g++, c->new_file, sizeof c->new_file);
            while (rc >= 0 && strcmp(c->new_file, c->file) == 0);
            if (rc < 0)
                break;
            snprintf(in, sizeof in, "%s/%s/%s", pm_store_path(st), DIRS[k], c->file);
            snprintf(outp, sizeof outp, "%s/%s/%s", pm_store_path(st), DIRS[k], c->new_file);
            uint64_t cleared = 0;
            rc = k == 0 ? pm_gt_compact_segment(ctx, in, outp, c->clear, &c->bytes, &cleared)
                        : pm_om_compact_file(ctx, in, outp, c->batch, c->n_samples,
                                             c->n_features, c->clear, &c->bytes, &cleared);
            if (k == 0)
                r.gt_calls += cleared;
            else
                r.omics_values += cleared;
            pm_progress(ctx, "rewriting data files", ++done, total);
            crash_point(done == 1 ? 2 : 0); /* one new file written */
        }
    if (rc < 0)
        goto out_new; /* the catalog still names the old files */
    for (int k = 0; rc >= 0 && k < 2; k++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%s", pm_store_path(st), DIRS[k]);
        if (nf[k])
            rc = fsync_dir(ctx, dir);
    }
    crash_point(3); /* every new file written */
    /* step 3: the one switch */
    if (rc >= 0)
        rc = pm_cataccess_compact_commit(st, f[0], nf[0], f[1], nf[1]);
    crash_point(4); /* committed, old files still there */
    if (rc < 0)
        goto out_new;
    r.gt_files = (int64_t)nf[0];
    r.omics_files = (int64_t)nf[1];
    /* step 4: the old bytes */
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < nf[k]; i++) {
            snprintf(in, sizeof in, "%s/%s/%s", pm_store_path(st), DIRS[k], f[k][i].file);
            if (unlink(in) != 0 && errno != ENOENT && rc >= 0)
                rc = pm_err(ctx, PM_EIO, "compacted, but cannot delete '%s': %s (run compact "
                                         "again)", in, strerror(errno));
            crash_point(k == 0 && i == 0 ? 5 : 0); /* one old file deleted */
        }
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%s", pm_store_path(st), DIRS[k]);
        if (nf[k] && rc >= 0)
            rc = fsync_dir(ctx, dir);
    }
    goto out;
out_new:
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < nf[k]; i++)
            if (f[k][i].new_file[0]) {
                snprintf(outp, sizeof outp, "%s/%s/%s", pm_store_path(st), DIRS[k],
                         f[k][i].new_file);
                unlink(outp);
            }
out:
    for (int k = 0; k < 2; k++)
        pm_cataccess_cfiles_free(f[k], nf[k]);
    if (res)
        *res = r;
    return rc < 0 ? rc : 0;
}
