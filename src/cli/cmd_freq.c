/* cmd_freq.c - promise freq: allele frequencies for a cohort. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_audit.h"
#include "promise/genotype.h"

/* --iter-debug (tests only): the site iterator's view of the store, one
 * line per site and ALT: counts, carriers as IND:DOSAGE, missing IND. */
static int dump_iter(pm_store_t *st, const pm_gt_query_opts_t *o, FILE *out)
{
    pm_gt_iter_t *it;
    int rc = pm_gt_iter_open(st, o, &it);
    if (rc < 0)
        return rc;
    const int64_t *ind = pm_gt_iter_individuals(it);
    fprintf(out, "#n=%u\n", pm_gt_iter_n(it));
    pm_gt_site_t s;
    while ((rc = pm_gt_iter_next(it, &s)) == 1) {
        fprintf(out, "%s\t%lld\t%s\t%s\t%s\t%d\t%lld\t%lld\t%lld\t", s.chrom, (long long)s.pos,
                s.id, s.ref, s.alt, s.allele, (long long)s.ac, (long long)s.an,
                (long long)s.nhomalt);
        for (uint32_t i = 0; i < s.n_carrier; i++)
            fprintf(out, "%s%lld:%d", i ? "," : "", (long long)ind[s.carrier[i]], s.dosage[i]);
        fputs(s.n_carrier ? "\t" : ".\t", out);
        for (uint32_t i = 0; i < s.n_missing; i++)
            fprintf(out, "%s%lld", i ? "," : "", (long long)ind[s.missing[i]]);
        fputs(s.n_missing ? "\n" : ".\n", out);
    }
    pm_gt_iter_close(it);
    return rc < 0 ? rc : 0;
}

static int run(int argc, char **argv)
{
    static const char *cmd = "freq";
    static const struct option longopts[] = {
        {"region", required_argument, NULL, 'r'},
        {"cohort", required_argument, NULL, 'c'},
        {"by", required_argument, NULL, 'b'},
        {"output", required_argument, NULL, 'o'},
        {"threads", required_argument, NULL, 't'},
        {"iter-debug", no_argument, NULL, 'I'},
        {NULL, 0, NULL, 0},
    };
    pm_gt_query_opts_t o = {0};
    const char *outp = NULL;
    int iter_debug = 0;
    int c = pm_cli_identity_args(cmd, &argc, argv); /* --token, --as, --project */
    if (c)
        return c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":r:c:b:o:t:", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            o.region = optarg;
            break;
        case 'c':
            o.cohort = optarg;
            break;
        case 'b':
            if (strcmp(optarg, "sex") && strcmp(optarg, "county") && strcmp(optarg, "source"))
                return pm_cli_usage(cmd, "--by wants sex, county or source, not '%s'", optarg);
            o.by = optarg;
            break;
        case 'o':
            outp = optarg;
            break;
        case 'I':
            iter_debug = 1;
            break;
        case 't':
            break; /* accepted for symmetry; counting is memory-bound */
        default: /* ':' or '?' */
            return pm_cli_bad_option(cmd, c, argv);
        }
    }
    if (argc - optind != 1)
        return pm_cli_usage(cmd, "expected STORE");
    pm_ctx_t *ctx = pm_cli_ctx(cmd);
    pm_store_t *st;
    int64_t aid = -1;
    int rc = pm_store_open(ctx, argv[optind], PM_STORE_RDONLY, &st);
    if (rc == 0 && (rc = pm_cli_audit(st, cmd, argc, argv, NULL, &aid)) < 0)
        pm_store_close(st); /* no log entry, no answer */
    if (rc < 0) {
        int x = pm_cli_fail(cmd, ctx, rc);
        pm_ctx_free(ctx);
        return x;
    }
    FILE *out = stdout;
    if (outp && strcmp(outp, "-") != 0 && !(out = fopen(outp, "w"))) {
        int x = pm_cli_error(cmd, PM_EXIT_INPUT, "cannot open '%s' for writing: %s", outp,
                             strerror(errno));
        pm_cli_audit_done(st, aid, PM_EIO, 0, 0, NULL);
        pm_store_close(st);
        pm_ctx_free(ctx);
        return x;
    }
    /* as the caller may see it (cli.h): scoped cohort, released rows */
    if (iter_debug && pm_cli_scope()->tier < PM_TIER_STEWARD) {
        rc = pm_err(ctx, PM_EACCES, "--iter-debug is for the steward");
    } else if (iter_debug) { /* with --project: its sources and consent purpose */
        rc = pm_cli_scope_gt(st, &o.cohort, "genotypes", PM_TIER_STEWARD);
        o.purpose = pm_cli_scope_purpose(NULL);
        if (rc >= 0)
            rc = dump_iter(st, &o, out);
    } else {
        rc = pm_cli_freq(st, &o, out);
    }
    if (out != stdout && fclose(out) != 0 && rc >= 0)
        rc = pm_err(ctx, PM_EIO, "cannot write '%s': %s", outp, strerror(errno));
    /* The table streams out as it is computed: the request entry above
     * precedes it, the result entry follows it. */
    int arc = pm_cli_audit_done(st, aid, rc, 0, 0, NULL);
    if (rc >= 0 && arc < 0)
        rc = arc;
    int x = rc < 0 ? pm_cli_fail(cmd, ctx, rc) : PM_EXIT_OK;
    pm_store_close(st);
    pm_ctx_free(ctx);
    return x;
}

const pm_cli_cmd_t pm_cmd_freq = {
    "freq",
    "allele frequencies for a cohort",
    "usage: promise freq STORE [--region CHR:BEG-END] [--cohort EXPR] [--by sex|county|source]\n"
    "                   [-o OUT]\n"
    "\n"
    "Writes one tab-separated row per site and ALT allele:\n"
    "  #CHROM POS ID REF ALT AC AN AF NHOMALT\n"
    "plus an AC_x AN_x pair per stratum with --by (e.g. AC_M AN_M AC_F AN_F; a\n"
    "stratum NA collects individuals without a value). AC, AN and NHOMALT count\n"
    "alleles and homozygous-ALT individuals among the cohort's non-missing calls,\n"
    "as 'bcftools +fill-tags' does; haploid calls count one allele; each\n"
    "individual counts once. Sites are the union over all ingested files;\n"
    "samples of a file without a record at a site are missing there (hom-ref\n"
    "inside the file's --callable regions). Withdrawn individuals never count.\n"
    "\n"
    "  --region R   CHR, CHR:BEG or CHR:BEG-END (1-based, inclusive; chr22 = 22)\n"
    "  --cohort E   cohort expression (see 'promise help count'); default everyone\n"
    "  --by F       stratify by sex, county or source\n"
    "  -o OUT       write to OUT instead of standard output\n"
    "\n"
    "  --token TOKEN | --as USER [--project P]\n"
    "               ask as that user, with their tier and project: the\n"
    "               project's sources, without those who opted out of its\n"
    "               consent purpose (docs/access.md); default: the local steward\n",
    run,
};
