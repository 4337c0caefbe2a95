/* cmd_export.c - promise export STORE --project P -o DIR [--cohort EXPR] [--what LIST] */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/cli_audit.h"
#include "promise/access.h"

static int run(int argc, char **argv)
{
    static const char *cmd = "export";
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"cohort", required_argument, NULL, 'c'},
        {"what", required_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    pm_export_opts_t o = {0};
    int c = pm_cli_identity_args(cmd, &argc, argv); /* --project, --token, --as (cli.h) */
    if (c)
        return c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:c:w:", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o.out_dir = optarg; break;
        case 'c': o.cohort = optarg; break;
        case 'w': o.what = optarg; break;
        case ':': return pm_cli_usage(cmd, "option '%s' needs a value", argv[optind - 1]);
        default: return pm_cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return pm_cli_usage(cmd, argc - optind < 1 ? "missing STORE" : "too many arguments");
    if (!o.out_dir)
        return pm_cli_usage(cmd, "missing -o DIR");
    pm_ctx_t *ctx = pm_cli_ctx(cmd);
    pm_store_t *st = NULL;
    pm_bitset_t *used = NULL;
    pm_export_result_t res = {0};
    int64_t aid = -1;
    int rc = pm_store_open(ctx, argv[optind], PM_STORE_RDONLY, &st);
    if (rc == 0 && (rc = pm_cli_audit(st, cmd, argc, argv, NULL, &aid)) == 0) {
        const pm_access_scope_t *sc = pm_cli_scope();
        if (!sc->has_project)
            rc = sc->tier < PM_TIER_PROJECT
                     ? pm_err(ctx, PM_EACCES, "tier %s may not export (an extract is "
                                              "individual-level data for a project)",
                              pm_tier_name(sc->tier))
                     : pm_err(ctx, PM_EUSAGE, "missing --project P");
        else if (sc->tier < PM_TIER_PROJECT)
            rc = pm_err(ctx, PM_EACCES, "tier %s may not export", pm_tier_name(sc->tier));
        if (rc == 0) {
            o.project = sc->project.name;
            rc = pm_export(st, &o, &used, &res);
        }
        /* individual-level: the art. 15 list names everyone exported */
        rc = pm_cli_audit_done(st, aid, rc, rc >= 0 ? res.individuals : 0, 0, used);
    }
    int x = PM_EXIT_OK;
    if (rc < 0)
        x = pm_cli_fail(cmd, ctx, rc);
    else
        printf("exported %" PRId64 " individuals of project %s to %s: %" PRId64
               " registry events, %" PRId64 " omics values, %" PRId64 " variants (%d files)\n",
               res.individuals, o.project, o.out_dir, res.events, res.omics_values,
               res.variants, res.files);
    pm_bitset_free(used);
    pm_store_close(st);
    pm_ctx_free(ctx);
    return x;
}

const pm_cli_cmd_t pm_cmd_export = {
    "export",
    "a project's extract under project pseudonyms",
    "usage: promise export STORE --project P -o DIR [--cohort EXPR]\n"
    "                     [--what phenotypes,registry,genotypes,omics]\n"
    "                     [--token TOKEN | --as USER]\n"
    "\n"
    "Writes project P's individual-level data into the new directory DIR:\n"
    "  individuals.tsv  id, sex, county\n"
    "  registry.tsv     id, date, register, code system, code, position, value\n"
    "  omics.tsv        id, assay, feature, sample date, value, flags\n"
    "  genotypes.vcf    GT of the genotyped, one record per ALT allele\n"
    "  MANIFEST.tsv     rows, bytes and SHA-256 of each file\n"
    "Everyone is named by the project's own pseudonym (HMAC-SHA-256 of the\n"
    "store pseudonym under a key drawn for the project), and every file is\n"
    "sorted by it, so two projects' extracts cannot be linked. The people are\n"
    "the cohort EXPR (default everyone) within the project's approved\n"
    "sources, without the withdrawn and without those who opted out of the\n"
    "project's purpose (commercial unless the project is not-for-profit).\n"
    "Only the data types the project is approved for are written (default:\n"
    "phenotypes and all of them); an expired project is refused.\n"
    "\n"
    "DIR must not exist; it appears whole or not at all (written to\n"
    "DIR.tmp-PID, synced, renamed). The export is audited with the list of\n"
    "individuals exported.\n"
    "\n"
    "The local user is the steward and may export for any project; with\n"
    "--token or --as, the user needs a grant for P.\n"
    "Exit status: 0 done, 1 usage, 2 bad input (DIR exists, bad cohort),\n"
    "3 refused (no grant, expired project, data type not approved).\n",
    run,
};
