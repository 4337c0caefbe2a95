/* test_catalog_cache.c - the per-handle caches of catalog reads (catalog.h):
 * reused while nothing changed, reloaded after a commit by another
 * connection, after the handle's own writes and after a rollback; shared
 * snapshots stay valid for their holders. Settings likewise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/cat_cohort.h"
#include "catalog/cat_genotype.h"
#include "catalog/cat_registry.h"
#include "catalog/catalog.h"
#include "check.h"
#include "promise/promise.h"

static char tmpdir[256];

static int64_t add(pm_store_t *st, int i, const char *sex)
{
    char ps[64];
    snprintf(ps, sizeof ps, "cache-%026d", i);
    return pm_cat_test_add_individual(st, ps, sex, "1950-01-01", "01", NULL, NULL, 0);
}

static size_t present(pm_store_t *st)
{
    pm_bitset_t *b = pm_bitset_new((size_t)pm_store_n_individuals(st));
    size_t n = b && pm_cat_present(st, b) == 0 ? pm_bitset_count(b) : (size_t)-1;
    pm_bitset_free(b);
    return n;
}

/* Registers a batch of no samples on contig name: a change to gt_contig. */
static int add_contig(pm_store_t *st, int64_t id, const char *name)
{
    pm_catgt_contig_in_t c = {name, 1000};
    pm_catgt_batch_in_t b = {.id = id, .file = "x.vcf", .contigs = &c, .n_contigs = 1};
    int rc = pm_catalog_begin(st);
    if (rc == 0 && (rc = pm_catgt_register(st, &b)) == 0)
        rc = pm_catalog_commit(st);
    return rc;
}

static void test_cache(void)
{
    pm_ctx_t *ctx = pm_ctx_new(), *rctx = pm_ctx_new();
    char path[512];
    snprintf(tmpdir, sizeof tmpdir, "%s/pmcatcache.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(tmpdir) != NULL);
    snprintf(path, sizeof path, "%s/st", tmpdir);
    pm_store_t *w = NULL, *r = NULL;
    CHECK(pm_store_init(ctx, path) == 0);
    CHECK(pm_store_open(ctx, path, PM_STORE_RDWR, &w) == 0);
    CHECK(pm_store_open(rctx, path, PM_STORE_RDONLY, &r) == 0);
    if (!w || !r)
        goto out;
    for (int i = 0; i < 10; i++)
        CHECK(add(w, i, i % 2 ? "M" : "F") == i);

    /* the reader: loads, then reuses */
    CHECK(pm_store_n_individuals(r) == 10);
    CHECK(present(r) == 10);
    pm_cat_demo_t *d1 = NULL, *d2 = NULL;
    CHECK(pm_cat_demo_load(r, &d1) == 0);
    CHECK(pm_cat_demo_load(r, &d2) == 0);
    CHECK(d1 && d1 == d2); /* shared */
    pm_cat_demo_free(d2);
    uint64_t g = pm_catalog_generation(r);
    CHECK(g != 0 && pm_catalog_generation(r) == g);

    /* a commit by another connection: the reader sees it at once */
    CHECK(add(w, 10, "F") == 10);
    int changed = 0;
    CHECK(pm_catreg_set_withdrawn(w, 3, &changed) == 0 && changed == 1);
    CHECK(pm_catalog_generation(r) != g);
    CHECK(pm_store_n_individuals(r) == 11);
    CHECK(present(r) == 10);
    CHECK(pm_cat_demo_load(r, &d2) == 0);
    CHECK(d2 && d2 != d1 && d2->n == 11 && d2->withdrawn[3] == 1 && d2->sex[10] == 'F');
    /* the old snapshot is still whole for its holder */
    CHECK(d1 && d1->n == 10 && d1->withdrawn[3] == 0 && d1->sex[9] == 'M');
    pm_cat_demo_free(d1);
    pm_cat_demo_free(d2);

    /* the writer's own changes, committed */
    CHECK(pm_store_n_individuals(w) == 11);
    CHECK(present(w) == 10);
    CHECK(pm_catreg_set_withdrawn(w, 4, &changed) == 0 && changed == 1);
    CHECK(present(w) == 9);
    CHECK(add(w, 11, "M") == 11);
    CHECK(pm_store_n_individuals(w) == 12);
    CHECK(present(r) == 10);

    /* inside a transaction nothing is cached; a rollback is seen */
    CHECK(pm_catalog_begin(w) == 0);
    CHECK(add(w, 12, "M") == 12);
    CHECK(pm_catalog_generation(w) == 0);
    CHECK(pm_store_n_individuals(w) == 13);
    pm_catalog_rollback(w);
    CHECK(pm_store_n_individuals(w) == 12);
    CHECK(pm_store_n_individuals(r) == 12);

    /* settings: cached, and changed by either connection */
    char buf[64] = "";
    CHECK(pm_store_setting(r, "k", buf, sizeof buf) == 1 && strcmp(buf, "5") == 0);
    CHECK(pm_store_setting(r, "no_such_setting", buf, sizeof buf) == 0);
    CHECK(pm_catalog_meta_set(w, "k", "7") == 0);
    CHECK(pm_store_setting(r, "k", buf, sizeof buf) == 1 && strcmp(buf, "7") == 0);
    CHECK(pm_store_setting(w, "k", buf, sizeof buf) == 1 && strcmp(buf, "7") == 0);
    CHECK(pm_catalog_meta_set(w, "k", "8") == 0);
    CHECK(pm_store_setting(w, "k", buf, sizeof buf) == 1 && strcmp(buf, "8") == 0);
    CHECK(pm_catalog_meta_set(w, "new_setting", "x") == 0);
    CHECK(pm_store_setting(w, "new_setting", buf, sizeof buf) == 1 && strcmp(buf, "x") == 0);
    CHECK(pm_store_setting(r, "new_setting", buf, sizeof buf) == 1 && strcmp(buf, "x") == 0);

    /* the genotype snapshot: shared by reference, reloaded after a change */
    pm_catgt_t *c1 = NULL, *c2 = NULL;
    CHECK(pm_catgt_load(r, 0, &c1) == 0);
    CHECK(pm_catgt_load(r, 0, &c2) == 0);
    CHECK(c1 && c1 == c2 && c1->n_contigs == 0);
    pm_catgt_free(c2);
    CHECK(pm_catgt_load(r, 1, &c2) == 0); /* wants sample ids: a new snapshot */
    CHECK(c2 && c2 != c1 && c2->with_ids);
    pm_catgt_free(c2);
    CHECK(pm_catgt_load(r, 0, &c2) == 0); /* the one with ids serves this too */
    CHECK(c2 && c2 != c1 && c2->with_ids);
    pm_catgt_free(c2);
    CHECK(add_contig(w, 1, "22") == 0);
    CHECK(pm_catgt_load(r, 0, &c2) == 0);
    CHECK(c2 && c2->n_contigs == 1 && strcmp(c2->contig[0], "22") == 0);
    CHECK(c1 && c1->n_contigs == 0);
    pm_catgt_free(c2);
    CHECK(pm_catgt_load(w, 0, &c2) == 0);
    CHECK(c2 && c2->n_contigs == 1);
    pm_catgt_free(c2);
    CHECK(add_contig(w, 2, "X") == 0);
    CHECK(pm_catgt_load(w, 0, &c2) == 0);
    CHECK(c2 && c2->n_contigs == 2);
    pm_catgt_free(c2);
    pm_catgt_free(c1);
out:
    pm_store_close(r);
    pm_store_close(w);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    CHECK(system(cmd) == 0);
    pm_ctx_free(rctx);
    pm_ctx_free(ctx);
}

int main(void)
{
    test_cache();
    return check_summary("test_catalog_cache");
}
