/* cmd_phewas.c - promise phewas: one variant against every endpoint
 * (docs/gwas.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_audit.h"
#include "promise/phewas.h"
#include "promise/policy.h"
#include "promise/registry.h"

static void fmt_count(char *buf, size_t cap, int64_t n, int k)
{
    if (k > 1 && n >= 1 && n < k)
        snprintf(buf, cap, "<%d", k);
    else
        snprintf(buf, cap, "%" PRId64, n);
}

/* PREFIX.log, as gwas writes it: the run's parameters and the tier whose
 * release rules the table follows (the UI shows a stored table to that
 * tier and above). */
static int write_log(const char *prefix, const pm_phewas_opts_t *o, const pm_phewas_summary_t *s,
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
    char na[32], nk[32];
    fmt_count(na, sizeof na, s->n_analysis, s->k);
    fmt_count(nk, sizeof nk, s->n_carriers, s->k);
    fprintf(f, "promise phewas\n");
    fprintf(f, "variant\t%s\n", o->variant);
    fprintf(f, "cohort\t%s\n", o->cohort && *o->cohort ? o->cohort : "(everyone)");
    if (o->purpose && *o->purpose) /* who opted out of it was left out */
        fprintf(f, "consent_purpose\t%s\n", o->purpose);
    fprintf(f, "covariates\t%s\n", *s->covar_names ? s->covar_names : "(none)");
    fprintf(f, "test\t%s\n", o->firth ? "firth" : "logistic, firth-fallback");
    fprintf(f, "tier\t%s\n", pm_tier_name(tier));
    if (s->k)
        fprintf(f, "withhold_below\t%d\n", s->k);
    fprintf(f, "analysis_individuals\t%s\n", na);
    fprintf(f, "carriers\t%s\n", nk);
    fprintf(f, "endpoints\t%zu\n", s->n_endpoints);
    fprintf(f, "tested\t%zu\n", s->n_tested);
    fprintf(f, "withheld\t%zu\n", s->n_withheld);
    fprintf(f, "na\t%zu\n", s->n_error);
    return fclose(f) == 0 ? 0 : -1;
}

static void remove_outputs(const char *prefix)
{
    size_t l = strlen(prefix) + 8;
    char *p = malloc(l);
    if (!p)
        return;
    snprintf(p, l, "%s.tsv", prefix);
    remove(p);
    snprintf(p, l, "%s.svg", prefix);
    remove(p);
    free(p);
}

static int run(int argc, char **argv)
{
    static const char *cmd = "phewas";
    static const struct option longopts[] = {
        {"variant", required_argument, NULL, 'V'},  {"covar", required_argument, NULL, 'v'},
        {"cohort", required_argument, NULL, 'c'},   {"min-cases", required_argument, NULL, 'm'},
        {"endpoints", required_argument, NULL, 'e'}, {"output", required_argument, NULL, 'o'},
        {"as-tier", required_argument, NULL, 'T'},  {"ref-date", required_argument, NULL, 'd'},
        {"no-plot", no_argument, NULL, 'n'},        {"firth", no_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    pm_phewas_opts_t o = {0};
    const char *tier_name = NULL, *epfile = NULL;
    int c = pm_cli_identity_args(cmd, &argc, argv); /* --token, --as, --project (cli.h) */
    if (c)
        return c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'V':
            o.variant = optarg;
            break;
        case 'v':
            o.covar = optarg;
            break;
        case 'c':
            o.cohort = optarg;
            break;
        case 'm': {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || !*optarg || *end || v < 1 || v > 1000000000)
                return pm_cli_usage(cmd, "--min-cases wants a positive integer, not '%s'",
                                    optarg);
            o.min_cases = (int)v;
            break;
        }
        case 'e':
            epfile = optarg;
            break;
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
            o.no_plot = 1;
            break;
        case 'F':
            o.firth = 1;
            break;
        default: /* ':' or '?' */
            return pm_cli_bad_option(cmd, c, argv);
        }
    }
    int usage = pm_cli_one_store(cmd, argc, argv);
    if (usage)
        return usage;
    if (!o.variant || !*o.variant)
        return pm_cli_usage(cmd, "missing --variant CHR:POS:REF:ALT");
    /* PRODUCT.md section 5: `-o OUT` is optional. Without it the table goes
     * to stdout (through a private temporary prefix, no plot or log); an
     * OUT ending in .tsv is that file itself. */
    char tmpdir[] = "/tmp/promise-phewas.XXXXXX", prefix_buf[4096];
    int to_stdout = !o.prefix;
    if (to_stdout) {
        if (!mkdtemp(tmpdir))
            return pm_cli_error(cmd, PM_EXIT_INPUT, "cannot create a temporary directory: %s",
                                strerror(errno));
        snprintf(prefix_buf, sizeof prefix_buf, "%s/out", tmpdir);
        o.prefix = prefix_buf;
        o.no_plot = 1;
    } else {
        size_t pl = strlen(o.prefix);
        if (pl == 0 || pl >= sizeof prefix_buf)
            return pm_cli_usage(cmd, "-o wants a file name or prefix");
        if (pl > 4 && strcmp(o.prefix + pl - 4, ".tsv") == 0) {
            snprintf(prefix_buf, sizeof prefix_buf, "%.*s", (int)(pl - 4), o.prefix);
            o.prefix = prefix_buf;
        }
    }

    pm_ctx_t *ctx = pm_cli_ctx(cmd);
    int tier;
    int tx = pm_cli_as_tier(cmd, ctx, tier_name, PM_TIER_PROJECT, "steward or registered", &tier);
    if (tx) {
        pm_ctx_free(ctx);
        return tx;
    }
    o.tier = tier;
    pm_endpoint_lib_t *lib = NULL;
    if (epfile) {
        int rc = pm_endpoint_lib_load(ctx, epfile, &lib);
        if (rc < 0) {
            int x = pm_cli_fail(cmd, ctx, rc);
            pm_ctx_free(ctx);
            return x;
        }
        o.lib = lib;
    }
    pm_store_t *st;
    int rc = pm_store_open(ctx, argv[optind], PM_STORE_RDONLY, &st);
    if (rc < 0) {
        int x = pm_cli_fail(cmd, ctx, rc);
        pm_endpoint_lib_free(lib);
        pm_ctx_free(ctx);
        return x;
    }
    pm_phewas_summary_t s = {0};
    int64_t aid = -1;
    /* logged before anything is computed or answered */
    if ((rc = pm_cli_audit(st, cmd, argc, argv, NULL, &aid)) >= 0) {
        o.tier = tier = pm_cli_scope_tier(o.tier); /* who asks (cli.h) */
        rc = pm_cli_scope_gt(st, &o.cohort, "genotypes", PM_TIER_REGISTERED);
        o.purpose = pm_cli_scope_purpose(NULL); /* the project's opted-out are left out */
        if (rc >= 0)
            rc = pm_phewas_run(st, &o, &s);
        int64_t bytes = 0;
        if (rc >= 0) {
            size_t l = strlen(o.prefix) + 8;
            char *p = malloc(l);
            FILE *f = NULL;
            if (p) {
                snprintf(p, l, "%s.tsv", o.prefix);
                f = fopen(p, "rb");
            }
            if (f && fseek(f, 0, SEEK_END) == 0) {
                long sz = ftell(f);
                if (sz > 0)
                    bytes = sz;
            }
            if (f)
                fclose(f);
            free(p);
        }
        int prc = rc;
        /* an aggregate: the analysis cohort's size, no art. 15 list */
        rc = pm_cli_audit_done(st, aid, rc, rc >= 0 ? s.n_analysis : 0, bytes, NULL);
        if (prc >= 0 && rc < 0) /* written but not logged: withdraw the answer */
            remove_outputs(o.prefix);
    }
    int x = PM_EXIT_OK;
    if (rc < 0) {
        x = pm_cli_fail(cmd, ctx, rc);
    } else {
        /* below the project tier, small counts are shown as "<k" */
        char na[32], nc[32], nk[32];
        fmt_count(na, sizeof na, s.n_analysis, s.k);
        fmt_count(nc, sizeof nc, s.n_cohort, s.k);
        fmt_count(nk, sizeof nk, s.n_carriers, s.k);
        fprintf(stderr,
                "promise phewas: %s: %s of %s genotyped individuals with a call and every "
                "covariate (%s carriers); %zu of %zu endpoints with enough cases",
                o.variant, na, nc, nk, s.n_tested, s.n_endpoints);
        if (s.n_withheld)
            fprintf(stderr, ", %zu rows withheld (fewer than %d cases or carriers)", s.n_withheld,
                    s.k);
        if (!isnan(s.best_p))
            fprintf(stderr, "; smallest p %.3g (%s)", s.best_p, s.best);
        if (to_stdout) {
            fputc('\n', stderr);
            char path[sizeof prefix_buf + 8];
            snprintf(path, sizeof path, "%s.tsv", o.prefix);
            FILE *f = fopen(path, "rb");
            char buf[65536];
            size_t n;
            while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
                fwrite(buf, 1, n, stdout);
            if (!f || ferror(f) || fflush(stdout) != 0)
                x = pm_cli_error(cmd, PM_EXIT_INPUT, "cannot copy the table to stdout");
            if (f)
                fclose(f);
        } else {
            fprintf(stderr, "\npromise phewas: wrote %s.tsv%s%s%s and %s.log\n", o.prefix,
                    o.no_plot ? "" : ", ", o.no_plot ? "" : o.prefix, o.no_plot ? "" : ".svg",
                    o.prefix);
            if (write_log(o.prefix, &o, &s, tier) < 0)
                x = pm_cli_error(cmd, PM_EXIT_INPUT, "cannot write '%s.log': %s", o.prefix,
                                 strerror(errno));
        }
    }
    if (to_stdout) {
        remove_outputs(o.prefix);
        rmdir(tmpdir);
    }
    pm_store_close(st);
    pm_endpoint_lib_free(lib);
    pm_ctx_free(ctx);
    return x;
}

const pm_cli_cmd_t pm_cmd_phewas = {
    "phewas",
    "one variant against every endpoint",
    "usage: promise phewas STORE --variant CHR:POS:REF:ALT [--covar LIST]\n"
    "                     [--min-cases 20] [--cohort EXPR] [--endpoints FILE]\n"
    "                     [--as-tier registered] [--ref-date YYYY-MM-DD]\n"
    "                     [--firth] [--no-plot] [-o PREFIX|OUT.tsv]\n"
    "\n"
    "Tests the variant's ALT dosage against every endpoint of the endpoint\n"
    "library (the built-in one, or --endpoints FILE; see 'promise endpoint\n"
    "list') that has at least --min-cases cases and as many controls in the\n"
    "analysis cohort: the cohort's genotyped members with a call at the\n"
    "variant and every covariate (controls of a sex-specific endpoint are of\n"
    "that sex, and no sex covariate). Each endpoint: logistic regression on\n"
    "the dosage and the covariates, Wald test (TEST LOGISTIC, as R's glm),\n"
    "with Firth's penalty where that does not converge (TEST FIRTH, as\n"
    "plink2's firth-fallback).\n"
    "\n"
    "  --covar LIST   as for promise gwas: age, sex, source, pc1..pcK (from the\n"
    "                 latest 'promise pca'), omics:ASSAY:FEATURE; default none\n"
    "  --firth        Firth-penalised regression on every row (as gwas's FIRTH\n"
    "                 rows)\n"
    "  --as-tier registered  withhold rows with 1..k-1 cases, or carriers among\n"
    "                 cases or controls\n"
    "  -o PREFIX      writes PREFIX.tsv, the PheWAS plot PREFIX.svg and PREFIX.log\n"
    "                 (parameters, tier); -o OUT.tsv writes OUT.tsv itself (and\n"
    "                 OUT.svg, OUT.log); without -o the table goes to stdout\n"
    "  --token TOKEN | --as USER [--project P]\n"
    "                 ask as that user, with their tier and project: the\n"
    "                 project's sources, without those who opted out of its\n"
    "                 consent purpose (docs/access.md); default: the local steward\n"
    "\n"
    "Columns, grouped by the ICD-10 chapter of the endpoint's first diagnosis\n"
    "code (CHAPTER I..XXII, 'other' without one), then by name:\n"
    "#ENDPOINT CHAPTER N_CASES N_CONTROLS OBS_CT BETA OR SE Z P TEST DESCRIPTION\n"
    "(BETA the log-odds per ALT copy; NA where the model cannot be fitted).\n"
    "See docs/gwas.md.\n",
    run,
};
