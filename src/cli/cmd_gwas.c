/* cmd_gwas.c - promise gwas: genome-wide association (docs/gwas.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_audit.h"
#include "promise/gwas.h"
#include "promise/policy.h"

#define MAX_PHENO 64

static int write_log(const char *prefix, const pm_gwas_opts_t *o, const pm_gwas_summary_t *s,
                     int tier)
{
    size_t l = strlen(prefix) + 8;
    char *path = malloc(l);
    if (!path)
        return -1;
    snprintf(path, l, "%s.log", prefix);
    FILE *f = fopen(path, "w");
    free(path);
    if (!f)
        return -1;
    fprintf(f, "promise gwas\n");
    fprintf(f, "cohort\t%s\n", o->cohort && *o->cohort ? o->cohort : "(everyone)");
    if (o->purpose && *o->purpose) /* who opted out of it was left out */
        fprintf(f, "consent_purpose\t%s\n", o->purpose);
    fprintf(f, "region\t%s\n", o->region ? o->region : "(all)");
    fprintf(f, "covariates\t%s\n", *s->covar_names ? s->covar_names : "(none)");
    fprintf(f, "tier\t%s\n", pm_tier_name(tier));
    if (s->k)
        fprintf(f, "withhold_below\t%d\n", s->k);
    fprintf(f, "genotyped_individuals\t%" PRId64 "\n", s->n_cohort);
    fprintf(f, "with_covariates\t%" PRId64 "\n", s->n_analysis);
    fprintf(f, "variants\t%" PRId64 "\n", s->n_variants);
    fprintf(f, "seconds\t%.3f\n", s->seconds);
    for (size_t j = 0; j < s->n_pheno; j++) {
        const pm_gwas_pheno_summary_t *p = &s->pheno[j];
        fprintf(f, "pheno\t%s\tname=%s\tfile=%s\tkind=%s\tobs=%" PRId64, p->spec, p->name,
                p->path, p->binary ? "binary" : "quantitative", p->n_obs);
        if (p->binary)
            fprintf(f, "\tcases=%" PRId64, p->n_cases);
        fprintf(f, "\trows=%" PRId64 "\tna=%" PRId64 "\tfirth=%" PRId64 "\twithheld=%" PRId64,
                p->n_rows, p->n_error, p->n_firth, p->n_withheld);
        if (isnan(p->lambda))
            fprintf(f, "\tlambda=NA\n");
        else
            fprintf(f, "\tlambda=%.4f\n", p->lambda);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* Removes the files pm_gwas_run wrote (the .tsv and its plots), for an
 * answer that must not be released because its audit entry failed. */
static void remove_outputs(const pm_gwas_summary_t *s)
{
    for (size_t j = 0; s && j < s->n_pheno; j++) {
        const char *p = s->pheno[j].path;
        if (!p)
            continue;
        size_t l = strlen(p), stem = l > 4 && strcmp(p + l - 4, ".tsv") == 0 ? l - 4 : l;
        size_t bl = stem + 32;
        char *buf = malloc(bl);
        remove(p);
        if (!buf)
            continue;
        snprintf(buf, bl, "%.*s.manhattan.svg", (int)stem, p);
        remove(buf);
        snprintf(buf, bl, "%.*s.qq.svg", (int)stem, p);
        remove(buf);
        free(buf);
    }
}

static int run(int argc, char **argv)
{
    static const char *cmd = "gwas";
    static const struct option longopts[] = {
        {"pheno", required_argument, NULL, 'p'},   {"covar", required_argument, NULL, 'v'},
        {"cohort", required_argument, NULL, 'c'},  {"region", required_argument, NULL, 'r'},
        {"threads", required_argument, NULL, 't'}, {"output", required_argument, NULL, 'o'},
        {"as-tier", required_argument, NULL, 'T'}, {"ref-date", required_argument, NULL, 'd'},
        {"no-plots", no_argument, NULL, 'n'},      {NULL, 0, NULL, 0},
    };
    const char *pheno[MAX_PHENO];
    pm_gwas_opts_t o = {.pheno = pheno};
    const char *tier_name = NULL;
    int covar_given = 0;
    int c = pm_cli_identity_args(cmd, &argc, argv); /* --token, --as, --project (cli.h) */
    if (c)
        return c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":p:v:c:r:t:o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (o.n_pheno == MAX_PHENO)
                return pm_cli_usage(cmd, "at most %d --pheno in one pass", MAX_PHENO);
            if (!*optarg)
                return pm_cli_usage(cmd, "--pheno needs a cohort expression, endpoint:NAME "
                                         "or omics:ASSAY:FEATURE");
            pheno[o.n_pheno++] = optarg;
            break;
        case 'v':
            o.covar = optarg;
            covar_given = 1;
            break;
        case 'c':
            o.cohort = optarg;
            break;
        case 'r':
            o.region = optarg;
            break;
        case 't': {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || v < 1 || v > 256)
                return pm_cli_usage(cmd, "--threads wants 1..256, not '%s'", optarg);
            o.threads = (int)v;
            break;
        }
        case 'o':
            o.prefix = optarg;
            break;
        case 'T':
            tier_name = optarg;
            break;
        case 'd':
            if ((o.ref_date = pm_cli_parse_date(optarg, 1)) < 0)
                return pm_cli_usage(cmd, "--ref-date wants YYYY-MM-DD, not '%s'", optarg);
            break;
        case 'n':
            o.no_plots = 1;
            break;
        default: /* ':' or '?' */
            return pm_cli_bad_option(cmd, c, argv);
        }
    }
    int usage = pm_cli_one_store(cmd, argc, argv);
    if (usage)
        return usage;
    if (!o.n_pheno)
        return pm_cli_usage(cmd, "missing --pheno (a cohort expression, endpoint:NAME or "
                                 "omics:ASSAY:FEATURE)");
    if (!covar_given)
        return pm_cli_usage(cmd, "missing --covar (e.g. --covar age,sex; --covar '' for none)");
    if (!o.prefix || !*o.prefix)
        return pm_cli_usage(cmd, "missing -o PREFIX");

    pm_ctx_t *ctx = pm_cli_ctx(cmd);
    int tier;
    int tx = pm_cli_as_tier(cmd, ctx, tier_name, PM_TIER_PROJECT, "steward or registered", &tier);
    if (tx) {
        pm_ctx_free(ctx);
        return tx;
    }
    o.tier = tier;
    if (o.threads)
        pm_ctx_set_threads(ctx, o.threads);
    pm_store_t *st;
    int rc = pm_store_open(ctx, argv[optind], PM_STORE_RDONLY, &st);
    if (rc < 0) {
        int x = pm_cli_fail(cmd, ctx, rc);
        pm_ctx_free(ctx);
        return x;
    }
    pm_gwas_summary_t *s = NULL;
    int64_t aid = -1;
    /* logged before anything is computed or answered */
    if ((rc = pm_cli_audit(st, cmd, argc, argv, NULL, &aid)) >= 0) {
        o.tier = tier = pm_cli_scope_tier(o.tier); /* who asks (cli.h) */
        rc = pm_cli_scope_gt(st, &o.cohort, "genotypes", PM_TIER_REGISTERED);
        o.purpose = pm_cli_scope_purpose(NULL); /* the project's opted-out are left out */
        if (rc >= 0)
            rc = pm_gwas_run(st, &o, &s);
        /* the result entry precedes the answer; refusals are logged too.
         * An aggregate: the analysis cohort's size, no art. 15 list. */
        int64_t bytes = 0;
        for (size_t j = 0; rc >= 0 && s && j < s->n_pheno; j++) {
            FILE *f = s->pheno[j].path ? fopen(s->pheno[j].path, "rb") : NULL;
            if (f && fseek(f, 0, SEEK_END) == 0) {
                long sz = ftell(f);
                if (sz > 0)
                    bytes += sz;
            }
            if (f)
                fclose(f);
        }
        int grc = rc;
        rc = pm_cli_audit_done(st, aid, rc, rc >= 0 && s ? s->n_analysis : 0, bytes, NULL);
        if (grc >= 0 && rc < 0) /* written but not logged: withdraw the answer */
            remove_outputs(s);
    }
    int x = PM_EXIT_OK;
    if (rc < 0) {
        x = pm_cli_fail(cmd, ctx, rc);
    } else {
        fprintf(stderr, "promise gwas: %" PRId64 " variants, %" PRId64
                        " genotyped individuals (%" PRId64 " with every covariate), %.2f s",
                s->n_variants, s->n_cohort, s->n_analysis, s->seconds);
        if (s->seconds > 0)
            fprintf(stderr, " (%.0f variants/s)", (double)s->n_variants / s->seconds);
        fputc('\n', stderr);
        for (size_t j = 0; j < s->n_pheno; j++) {
            const pm_gwas_pheno_summary_t *p = &s->pheno[j];
            fprintf(stderr, "promise gwas: %s: %s, %" PRId64 " observations", p->path,
                    p->binary ? "binary" : "quantitative", p->n_obs);
            if (p->binary)
                fprintf(stderr, " (%" PRId64 " cases), %" PRId64 " Firth rows", p->n_cases,
                        p->n_firth);
            if (p->n_withheld)
                fprintf(stderr, ", %" PRId64 " rows withheld (fewer than %d carriers)",
                        p->n_withheld, s->k);
            if (isnan(p->lambda))
                fprintf(stderr, ", genomic-control lambda NA\n");
            else
                fprintf(stderr, ", genomic-control lambda %.4f\n", p->lambda);
        }
        if (write_log(o.prefix, &o, s, tier) < 0)
            x = pm_cli_error(cmd, PM_EXIT_INPUT, "cannot write '%s.log': %s", o.prefix,
                             strerror(errno));
    }
    pm_gwas_summary_free(s);
    pm_store_close(st);
    pm_ctx_free(ctx);
    return x;
}

const pm_cli_cmd_t pm_cmd_gwas = {
    "gwas",
    "genome-wide association",
    "usage: promise gwas STORE --pheno P [--pheno P2 ...] --covar LIST [--cohort EXPR]\n"
    "                   [--region R] [--threads N] [--as-tier registered]\n"
    "                   [--ref-date YYYY-MM-DD] [--no-plots] -o PREFIX\n"
    "\n"
    "Tests every variant (site and ALT) of the cohort's genotypes against each\n"
    "phenotype, in one pass over the genotypes:\n"
    "  P = a cohort expression or endpoint:NAME   binary: cases are the analysis\n"
    "      cohort's members matching P, controls the rest; a score test, with\n"
    "      Firth logistic regression where the score p < 0.05 (TEST SCORE/FIRTH)\n"
    "  P = omics:ASSAY:FEATURE                     quantitative: linear regression\n"
    "      (TEST ADD) on the individual's earliest sample with a value\n"
    "Samples with a missing call are dropped per variant, as plink2 does.\n"
    "\n"
    "  --covar LIST   comma list of age, sex, source (one-hot, first level dropped),\n"
    "                 omics:ASSAY:FEATURE, pc1..pcK (the latest 'promise pca' run);\n"
    "                 '' for none\n"
    "  --cohort E     restrict to a cohort (default everyone); the analysis cohort\n"
    "                 is its genotyped members with every covariate\n"
    "  --region R     CHR, CHR:BEG or CHR:BEG-END\n"
    "  --threads N    worker threads\n"
    "  --as-tier registered  withhold rows with 1..k-1 ALT carriers (binary: among\n"
    "                 cases or among controls)\n"
    "  --ref-date D   date at which ages are taken\n"
    "  -o PREFIX      writes PREFIX.tsv (several --pheno: PREFIX.NAME.tsv, NAME the\n"
    "                 endpoint, ASSAY_FEATURE or phenoI), .manhattan.svg, .qq.svg\n"
    "                 per phenotype, and PREFIX.log with the genomic-control lambda\n"
    "\n"
    "Columns: #CHROM POS ID REF ALT A1 TEST OBS_CT BETA SE T_OR_Z P (A1 = ALT;\n"
    "BETA per ALT copy, log-odds for binary phenotypes; NA where no test is\n"
    "possible). See docs/gwas.md.\n"
    "\n"
    "  --token TOKEN | --as USER [--project P]\n"
    "               ask as that user, with their tier and project: the\n"
    "               project's sources, without those who opted out of its\n"
    "               consent purpose (docs/access.md); default: the local steward\n",
    run,
};
