/* cmd_qtl.c - promise qtl: cis-QTL mapping of an omics assay (docs/omics.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_audit.h"
#include "promise/omics.h"
#include "promise/policy.h"
#include "promise/qtl.h"

static const char *CMD = "qtl";

static int parse_long(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static void remove_outputs(const char *prefix)
{
    size_t l = strlen(prefix) + 16;
    char *p = malloc(l);
    if (!p)
        return;
    snprintf(p, l, "%s.nominal.tsv", prefix);
    remove(p);
    snprintf(p, l, "%s.best.tsv", prefix);
    remove(p);
    free(p);
}

static int64_t file_size(const char *prefix, const char *ext)
{
    size_t l = strlen(prefix) + 16;
    char *p = malloc(l);
    int64_t sz = 0;
    if (!p)
        return 0;
    snprintf(p, l, "%s%s", prefix, ext);
    FILE *f = fopen(p, "rb");
    if (f && fseek(f, 0, SEEK_END) == 0) {
        long s = ftell(f);
        if (s > 0)
            sz = s;
    }
    if (f)
        fclose(f);
    free(p);
    return sz;
}

enum { O_BED = 256, O_WIN, O_COVAR, O_COHORT, O_SAMPLE, O_NORM, O_PERM, O_SEED, O_MODEL,
       O_TIER, O_REFDATE, O_ASSAY };

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"assay", required_argument, NULL, O_ASSAY},
        {"features-bed", required_argument, NULL, O_BED},
        {"cis-window", required_argument, NULL, O_WIN},
        {"covar", required_argument, NULL, O_COVAR},
        {"cohort", required_argument, NULL, O_COHORT},
        {"sample", required_argument, NULL, O_SAMPLE},
        {"normalize", required_argument, NULL, O_NORM},
        {"permute", required_argument, NULL, O_PERM},
        {"seed", required_argument, NULL, O_SEED},
        {"model", required_argument, NULL, O_MODEL},
        {"as-tier", required_argument, NULL, O_TIER},
        {"ref-date", required_argument, NULL, O_REFDATE},
        {"output", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    pm_qtl_opts_t o = {0};
    const char *tier_name = NULL;
    long long v;
    int c = pm_cli_identity_args(CMD, &argc, argv); /* --token, --as, --project (cli.h) */
    if (c)
        return c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:", longopts, NULL)) != -1) {
        switch (c) {
        case O_ASSAY:
            o.assay = optarg;
            break;
        case O_BED:
            o.features_bed = optarg;
            break;
        case O_WIN:
            if (parse_long(optarg, 0, (long long)1 << 32, &v) < 0)
                return pm_cli_usage(CMD, "--cis-window wants 0..4294967296 bp, not '%s'", optarg);
            o.window = v ? v : -1; /* -1: 0 bp, only variants overlapping the feature */
            break;
        case O_COVAR:
            o.covar = optarg;
            break;
        case O_COHORT:
            o.cohort = optarg;
            break;
        case O_SAMPLE: {
            pm_omics_choice_t ch;
            if (pm_omics_choice_parse(optarg, &ch) < 0 || ch.mode == PM_OMICS_ALL)
                return pm_cli_usage(CMD, "--sample takes first, last or nearest:YYYY-MM-DD, "
                                         "not '%s'",
                                    optarg);
            o.sample_mode = ch.mode;
            o.sample_date = ch.date;
            break;
        }
        case O_NORM:
            if (!strcmp(optarg, "none"))
                o.normalize = PM_QTL_NORM_NONE;
            else if (!strcmp(optarg, "int"))
                o.normalize = PM_QTL_NORM_INT;
            else if (!strcmp(optarg, "log2"))
                o.normalize = PM_QTL_NORM_LOG2;
            else
                return pm_cli_usage(CMD, "--normalize takes none, int or log2, not '%s'", optarg);
            break;
        case O_PERM:
            if (parse_long(optarg, 1, 100000, &v) < 0)
                return pm_cli_usage(CMD, "--permute wants 1..100000, not '%s'", optarg);
            o.permutations = (int)v;
            break;
        case O_SEED:
            if (parse_long(optarg, 1, INT64_MAX, &v) < 0)
                return pm_cli_usage(CMD, "--seed wants a positive integer, not '%s'", optarg);
            o.seed = (uint64_t)v;
            break;
        case O_MODEL:
            if (!strcmp(optarg, "lm"))
                o.model = PM_QTL_MODEL_LM;
            else if (!strcmp(optarg, "qtltools"))
                o.model = PM_QTL_MODEL_QTLTOOLS;
            else
                return pm_cli_usage(CMD, "--model takes lm or qtltools, not '%s'", optarg);
            break;
        case O_TIER:
            tier_name = optarg;
            break;
        case O_REFDATE:
            if ((o.ref_date = pm_cli_parse_date(optarg, 1)) < 0)
                return pm_cli_usage(CMD, "--ref-date wants YYYY-MM-DD, not '%s'", optarg);
            break;
        case 'o':
            o.prefix = optarg;
            break;
        default: /* ':' or '?' */
            return pm_cli_bad_option(CMD, c, argv);
        }
    }
    int usage = pm_cli_one_store(CMD, argc, argv);
    if (usage)
        return usage;
    if (!o.assay || !*o.assay)
        return pm_cli_usage(CMD, "missing --assay NAME");
    if (!o.features_bed || !*o.features_bed)
        return pm_cli_usage(CMD, "missing --features-bed FILE");
    if (!o.prefix || !*o.prefix)
        return pm_cli_usage(CMD, "missing -o PREFIX");

    pm_ctx_t *ctx = pm_cli_ctx(CMD);
    int tier;
    int tx = pm_cli_as_tier(CMD, ctx, tier_name, PM_TIER_PROJECT, "steward or registered", &tier);
    if (tx) {
        pm_ctx_free(ctx);
        return tx;
    }
    o.tier = tier;
    pm_store_t *st;
    int rc = pm_store_open(ctx, argv[optind], PM_STORE_RDONLY, &st);
    if (rc < 0) {
        int x = pm_cli_fail(CMD, ctx, rc);
        pm_ctx_free(ctx);
        return x;
    }
    pm_qtl_summary_t s = {0};
    int64_t aid = -1;
    /* logged before anything is computed or answered */
    if ((rc = pm_cli_audit(st, CMD, argc, argv, NULL, &aid)) >= 0) {
        o.tier = pm_cli_scope_tier(o.tier); /* who asks (cli.h) */
        rc = pm_cli_scope_gt(st, &o.cohort, "genotypes", PM_TIER_REGISTERED);
        if (rc >= 0 && pm_cli_scope()->has_project)
            rc = pm_access_project_allows(ctx, &pm_cli_scope()->project, "omics");
        o.purpose = pm_cli_scope_purpose(NULL); /* the project's opted-out are left out */
        if (rc >= 0)
            rc = pm_qtl_run(st, &o, &s);
        int64_t bytes = rc >= 0 ? file_size(o.prefix, ".nominal.tsv") +
                                      file_size(o.prefix, ".best.tsv")
                                : 0;
        int qrc = rc;
        rc = pm_cli_audit_done(st, aid, rc, rc >= 0 ? s.n_samples : 0, bytes, NULL);
        if (qrc >= 0 && rc < 0) /* written but not logged: withdraw the answer */
            remove_outputs(o.prefix);
    }
    int x = PM_EXIT_OK;
    if (rc < 0) {
        x = pm_cli_fail(CMD, ctx, rc);
    } else {
        fprintf(stderr,
                "promise qtl: %" PRId64 " features (%" PRId64 " with variants in cis), %" PRId64
                " individuals, %" PRId64 " variants, %" PRId64 " pairs in %.2f s",
                s.n_features, s.n_tested, s.n_samples, s.n_variants, s.n_pairs, s.seconds);
        if (s.seconds > 0)
            fprintf(stderr, " (%.0f pairs/s)", (double)s.n_pairs / s.seconds);
        fputc('\n', stderr);
        if (s.n_withheld)
            fprintf(stderr, "promise qtl: %" PRId64 " pairs withheld (fewer than %d carriers)\n",
                    s.n_withheld, s.k);
    }
    pm_store_close(st);
    pm_ctx_free(ctx);
    return x;
}

const pm_cli_cmd_t pm_cmd_qtl = {
    "qtl",
    "cis-QTL mapping of an omics assay",
    "usage: promise qtl STORE --assay A --features-bed FILE [--cis-window BP]\n"
    "                  [--covar LIST] [--cohort EXPR] [--sample first|last|nearest:DATE]\n"
    "                  [--normalize none|int|log2] [--model lm|qtltools]\n"
    "                  [--permute N] [--seed S] [--as-tier registered]\n"
    "                  [--token TOKEN | --as USER [--project P]]\n"
    "                  [--ref-date YYYY-MM-DD] -o PREFIX\n"
    "\n"
    "Tests every feature of the BED (chrom, 0-based start, end, feature id\n"
    "[, strand]; a QTLtools phenotype BED works too) against every variant\n"
    "(site and ALT) within --cis-window bp (default 1000000) of its interval,\n"
    "as QTLtools cis does. Individuals: the cohort's genotyped individuals with\n"
    "every covariate and a value of at least one feature (the --sample choice,\n"
    "default first). Missing values and missing calls are replaced by the\n"
    "mean (as QTLtools).\n"
    "\n"
    "  --covar LIST   comma list of age, sex, omics:ASSAY:FEATURE (default none)\n"
    "  --normalize T  none (default), int (rank inverse-normal) or log2\n"
    "  --model M      lm (default): y ~ 1 + covariates + g, df = n - 2 - k;\n"
    "                 qtltools: QTLtools 1.3.1 (covariates out of y only, df = n - 2)\n"
    "  --permute N    N shuffles for an empirical and a beta-approximated p per\n"
    "                 feature (as QTLtools cis --permute)\n"
    "  --as-tier registered  withhold pairs whose variant has 1..k-1 carriers\n"
    "  -o PREFIX      writes PREFIX.nominal.tsv (every pair) and PREFIX.best.tsv\n"
    "                 (best variant per feature)\n"
    "  --token TOKEN | --as USER [--project P]\n"
    "                 ask as that user, with their tier and project: the\n"
    "                 project's sources (approved for genotypes and omics),\n"
    "                 without those who opted out of its consent purpose\n"
    "                 (docs/access.md); default: the local steward\n"
    "\n"
    "See docs/omics.md, section cis-QTL mapping.\n",
    run,
};
