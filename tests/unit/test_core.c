/* test_core.c - errors, bitsets, the table reader and atomic writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/fileio.h"
#include "core/tsv.h"
#include "promise/promise.h"

static void test_errors(void)
{
    pm_ctx_t *ctx = pm_ctx_new();
    CHECK(pm_ctx_errcode(ctx) == 0);
    CHECK_STR(pm_ctx_errmsg(ctx), "");
    CHECK(pm_err(ctx, PM_EIO, "cannot open '%s'", "x.vcf") == PM_EIO);
    CHECK_STR(pm_ctx_errmsg(ctx), "cannot open 'x.vcf'");
    CHECK(pm_ctx_errcode(ctx) == PM_EIO);
    CHECK_STR(pm_strerror(PM_EINPUT), "bad input");
    CHECK_STR(pm_strerror(12345), "unknown error");
    pm_ctx_clear(ctx);
    CHECK(pm_ctx_errcode(ctx) == 0);
    CHECK(pm_err(NULL, PM_EACCES, "no ctx") == PM_EACCES);
    pm_ctx_free(ctx);
    pm_ctx_free(NULL);
}

static void test_bitset(void)
{
    for (size_t n = 0; n < 200; n += 13) {
        pm_bitset_t *a = pm_bitset_new(n), *b = pm_bitset_new(n);
        CHECK(a && b);
        CHECK(pm_bitset_count(a) == 0);
        pm_bitset_fill(a);
        CHECK(pm_bitset_count(a) == n);
        pm_bitset_not(a);
        CHECK(pm_bitset_count(a) == 0);
        for (size_t i = 0; i < n; i += 3)
            pm_bitset_set(a, i);
        for (size_t i = 0; i < n; i += 2)
            pm_bitset_set(b, i);
        pm_bitset_t *c = pm_bitset_dup(a);
        pm_bitset_and(c, b);
        CHECK(pm_bitset_count(c) == (n + 5) / 6);
        pm_bitset_or(c, a);
        CHECK(pm_bitset_count(c) == pm_bitset_count(a));
        pm_bitset_andnot(c, b);
        size_t expect = 0;
        for (size_t i = 0; i < n; i++)
            expect += (i % 3 == 0 && i % 2 != 0);
        CHECK(pm_bitset_count(c) == expect);
        size_t seen = 0;
        for (size_t i = pm_bitset_next(a, 0); i != (size_t)-1; i = pm_bitset_next(a, i + 1)) {
            CHECK(i % 3 == 0);
            seen++;
        }
        CHECK(seen == pm_bitset_count(a));
        pm_bitset_free(a);
        pm_bitset_free(b);
        pm_bitset_free(c);
    }
    pm_bitset_free(NULL);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
}

static void test_tsv(const char *dir)
{
    pm_ctx_t *ctx = pm_ctx_new();
    char path[512];
    snprintf(path, sizeof path, "%s/a.tsv", dir);
    write_file(path, "b\ta\tc\r\n1\t2\t3\r\n\n4\t\t6\n7\t8\n");
    pm_tsv_t *t;
    CHECK(pm_tsv_open(ctx, path, NULL, &t) == 0);
    CHECK(pm_tsv_ncols(t) == 3);
    CHECK(pm_tsv_col(t, "a") == 1);
    CHECK(pm_tsv_col(t, "z") == -1);
    CHECK(pm_tsv_next(t) == 1);
    CHECK_STR(pm_tsv_field(t, 2), "3");
    CHECK(pm_tsv_lineno(t) == 2);
    CHECK(pm_tsv_next(t) == 1);
    CHECK_STR(pm_tsv_field(t, 1), "");
    CHECK(pm_tsv_colpos(t, 2) == 4);
    CHECK(pm_tsv_lineno(t) == 4);
    CHECK(pm_tsv_err(t, 2, PM_EINPUT, "bad value") == PM_EINPUT);
    char want[600];
    snprintf(want, sizeof want, "%s:4:4: bad value (column 'c')", path);
    CHECK_STR(pm_ctx_errmsg(ctx), want);
    CHECK(pm_tsv_next(t) == PM_EINPUT);
    pm_tsv_close(t);

    snprintf(path, sizeof path, "%s/b.csv", dir);
    write_file(path, "x,\"y\"\n\"a,b\",\"say \"\"hi\"\"\"\n");
    pm_tsv_opts_t o = {.sep = ',', .quotes = 1};
    CHECK(pm_tsv_open(ctx, path, &o, &t) == 0);
    CHECK(pm_tsv_col(t, "y") == 1);
    CHECK(pm_tsv_next(t) == 1);
    CHECK_STR(pm_tsv_field(t, 0), "a,b");
    CHECK_STR(pm_tsv_field(t, 1), "say \"hi\"");
    CHECK(pm_tsv_next(t) == 0);
    pm_tsv_close(t);

    snprintf(path, sizeof path, "%s/dup.tsv", dir);
    write_file(path, "a\tb\ta\n");
    CHECK(pm_tsv_open(ctx, path, NULL, &t) == PM_EINPUT);
    CHECK(strstr(pm_ctx_errmsg(ctx), "duplicate column 'a'") != NULL);

    snprintf(path, sizeof path, "%s/long.tsv", dir);
    write_file(path, "a\n0123456789012345678901234567890123456789\n");
    pm_tsv_opts_t small = {.max_line = 16};
    CHECK(pm_tsv_open(ctx, path, &small, &t) == 0);
    CHECK(pm_tsv_next(t) == PM_ELIMIT);
    pm_tsv_close(t);

    CHECK(pm_tsv_open(ctx, "/nonexistent/x.tsv", NULL, &t) == PM_EIO);
    pm_ctx_free(ctx);
}

static void test_atomic(const char *dir)
{
    pm_ctx_t *ctx = pm_ctx_new();
    char path[512];
    snprintf(path, sizeof path, "%s/atomic.bin", dir);
    CHECK(pm_write_atomic(ctx, path, "hello", 5, 0600) == 0);
    char *data;
    size_t len;
    CHECK(pm_read_file(ctx, path, 100, &data, &len) == 0);
    CHECK(len == 5 && memcmp(data, "hello", 5) == 0);
    free(data);
    CHECK(pm_read_file(ctx, path, 3, &data, &len) == PM_ELIMIT);
    pm_afile_t *f;
    CHECK(pm_afile_open(ctx, path, 0600, &f) == 0);
    CHECK(pm_afile_write(f, "bye", 3) == 0);
    pm_afile_abort(f); /* the old content must survive an aborted write */
    CHECK(pm_read_file(ctx, path, 100, &data, &len) == 0);
    CHECK(len == 5);
    free(data);
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    pm_ctx_free(ctx);
}

static void test_store(const char *dir)
{
    pm_ctx_t *ctx = pm_ctx_new();
    char path[512];
    snprintf(path, sizeof path, "%s/s1", dir);
    CHECK(pm_store_init(ctx, path) == 0);
    CHECK(pm_store_init(ctx, path) == PM_EEXIST);
    pm_store_t *st;
    CHECK(pm_store_open(ctx, path, PM_STORE_RDONLY, &st) == 0);
    char v[64];
    CHECK(pm_store_setting(st, "schema_version", v, sizeof v) == 1);
    CHECK(strtol(v, NULL, 10) == PM_STORE_SCHEMA_VERSION);
    CHECK(pm_store_setting(st, "k", v, sizeof v) == 1 && strcmp(v, "5") == 0);
    CHECK(pm_store_setting(st, "nope", v, sizeof v) == 0);
    CHECK(pm_store_n_individuals(st) == 0);
    pm_store_close(st);
    CHECK(pm_store_open(ctx, dir, PM_STORE_RDONLY, &st) == PM_EINPUT);
    snprintf(path, sizeof path, "%s/missing", dir);
    CHECK(pm_store_open(ctx, path, PM_STORE_RDONLY, &st) == PM_ENOTFOUND);
    pm_store_close(NULL);
    pm_ctx_free(ctx);
}

int main(void)
{
    char dir[] = "/tmp/pm_test_core.XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    test_errors();
    test_bitset();
    test_tsv(dir);
    test_atomic(dir);
    test_store(dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not clean %s\n", dir);
    return check_summary("test_core");
}
