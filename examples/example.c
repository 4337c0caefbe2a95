/*
 * example.c - libpromise in sixty lines: create or open a store, report
 * its size and a cohort count. Build: part of the CMake build
 * (build/example_example); run: example_example STORE [EXPR].
 */
#include <stdio.h>
#include <stdlib.h>

#include <promise/cohort.h>
#include <promise/promise.h>

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s STORE [COHORT-EXPR]\n", argv[0]);
        return 1;
    }
    pm_ctx_t *ctx = pm_ctx_new(); /* errors land here; free with pm_ctx_free */
    if (!ctx)
        return 2;

    /* A new directory becomes an empty store; an existing store is reused. */
    int rc = pm_store_init(ctx, argv[1]);
    if (rc < 0 && rc != PM_EEXIST) {
        fprintf(stderr, "example: %s\n", pm_ctx_errmsg(ctx));
        pm_ctx_free(ctx);
        return 2;
    }

    pm_store_t *st; /* read-only: any number of readers beside one writer */
    if ((rc = pm_store_open(ctx, argv[1], PM_STORE_RDONLY, &st)) < 0) {
        fprintf(stderr, "example: %s\n", pm_ctx_errmsg(ctx));
        pm_ctx_free(ctx);
        return 2;
    }
    char version[32] = "";
    pm_store_setting(st, "schema_version", version, sizeof version);
    int64_t n = pm_store_n_individuals(st);
    printf("store %s: schema %s, %lld individuals\n", pm_store_path(st), version, (long long)n);

    if (argc == 3) {
        /* A cohort is a bitset over the individuals; the caller owns it. */
        pm_bitset_t *cohort = NULL;
        if ((rc = pm_cohort_eval(st, argv[2], &cohort)) < 0) {
            fprintf(stderr, "example: %s\n", pm_ctx_errmsg(ctx));
        } else {
            /* Exact count: this is the steward's view. Released answers go
             * through the policy layer (promise/policy.h). */
            printf("cohort '%s': %zu individuals\n", argv[2], pm_bitset_count(cohort));
            pm_bitset_free(cohort);
        }
    }
    pm_store_close(st);
    pm_ctx_free(ctx);
    return rc < 0 ? 2 : 0;
}
