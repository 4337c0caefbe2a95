/* cmd_config.c - promise config STORE [KEY [VALUE]]: show or change store settings. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "promise/policy.h"

static const pm_setting_info_t *find(const char *key)
{
    const pm_setting_info_t *s;
    for (size_t i = 0; (s = pm_policy_setting_info(i)); i++)
        if (strcmp(s->key, key) == 0)
            return s;
    return NULL;
}

static int show(const char *path, const char *key)
{
    pm_ctx_t *ctx = pm_cli_ctx("config");
    pm_store_t *st = NULL;
    int rc = pm_store_open(ctx, path, PM_STORE_RDONLY, &st);
    int status = PM_EXIT_OK;
    const pm_setting_info_t *s;
    char buf[512];
    if (rc < 0) {
        status = pm_cli_fail("config", ctx, rc);
    } else if (key) {
        s = find(key);
        if ((rc = pm_store_setting(st, key, buf, sizeof buf)) < 0)
            status = pm_cli_fail("config", ctx, rc);
        else if (rc > 0)
            printf("%s\n", buf);
        else if (s->deflt)
            printf("%s\n", s->deflt);
        else
            status = pm_cli_error("config", PM_EXIT_INPUT, "%s is not set", key);
    } else {
        printf("key\tvalue\tstate\n");
        for (size_t i = 0; (s = pm_policy_setting_info(i)) && status == PM_EXIT_OK; i++) {
            if ((rc = pm_store_setting(st, s->key, buf, sizeof buf)) < 0) {
                status = pm_cli_fail("config", ctx, rc);
                break;
            }
            const char *state = !s->writable ? "read-only" : rc > 0 ? "set" : s->deflt ? "default"
                                                                               : "unset";
            printf("%s\t%s\t%s\n", s->key, rc > 0 ? buf : s->deflt ? s->deflt : "-", state);
        }
    }
    if (fflush(stdout) != 0 && status == PM_EXIT_OK)
        status = pm_cli_error("config", PM_EXIT_INPUT, "cannot write the output");
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}

static int set(const char *path, const char *key, const char *value)
{
    pm_ctx_t *ctx = pm_cli_ctx("config");
    /* validate before taking the writer lock */
    int rc = pm_policy_setting_check(ctx, key, value);
    pm_store_t *st = NULL;
    if (rc == 0)
        rc = pm_store_open(ctx, path, PM_STORE_RDWR, &st);
    if (rc == 0)
        rc = pm_policy_setting_set(st, key, value);
    int status = rc < 0 ? pm_cli_fail("config", ctx, rc) : PM_EXIT_OK;
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}

static int run(int argc, char **argv)
{
    int n = argc - 1;
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '-' && argv[i][1])
            return pm_cli_usage("config", "unknown option '%s'", argv[i]);
    if (n < 1)
        return pm_cli_usage("config", "missing STORE");
    if (n > 3)
        return pm_cli_usage("config", "unexpected argument '%s'", argv[4]);
    if (n >= 2 && !find(argv[2]))
        return pm_cli_usage("config", "unknown setting '%s' (k, reference_date, beacon_min_ac, "
                                      "beacon_budget, beacon_edge_band)",
                            argv[2]);
    if (n == 3)
        return set(argv[1], argv[2], argv[3]);
    return show(argv[1], n == 2 ? argv[2] : NULL);
}

const pm_cli_cmd_t pm_cmd_config = {
    "config",
    "show or change store settings (k, Beacon protection)",
    "usage: promise config STORE [KEY [VALUE]]\n"
    "\n"
    "Without KEY, lists every setting as TSV: key, value, state (set, default,\n"
    "unset or read-only). With KEY, prints its value (or default). With VALUE,\n"
    "changes it. Settings (see docs/privacy.md):\n"
    "\n"
    "  k               smallest count released below the project tier; counts\n"
    "                  1..k-1 show as '<k' (a whole number from 2 to 1000;\n"
    "                  default 5)\n"
    "  reference_date  the date (YYYY-MM-DD) at which ages and 'alive' are\n"
    "                  judged when a query gives none (default: today)\n"
    "  beacon_min_ac   public tier: carriers an allele needs before Beacon says\n"
    "                  it exists, and allele copies before a frequency is shown\n"
    "                  (default 5)\n"
    "  beacon_budget   public tier: how many positive Beacon answers one\n"
    "                  individual may take part in, per user (default 20)\n"
    "  beacon_edge_band public tier: alleles with beacon_min_ac .. min_ac+band-1\n"
    "                  carriers answer yes only with probability 2^-(min_ac+\n"
    "                  band-carriers), the same draw for every user; 0 = off\n"
    "                  (default 10; 0 to 1000)\n"
    "\n"
    "schema_version, created, key_fingerprint, key_tag and reference_build are\n"
    "shown but cannot be changed. Exit status 1 for an unknown or read-only\n"
    "key or a bad value, 2 for a KEY that is not set.\n",
    run,
};
