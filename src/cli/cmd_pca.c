/* cmd_pca.c - promise pca: principal components of the genotypes, stored
 * for --covar pcN (docs/gwas.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_audit.h"
#include "promise/bitset.h"
#include "promise/pca.h"
#include "promise/policy.h"

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !*s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || !*s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

static void remove_outputs(const char *prefix)
{
    static const char *const ext[] = {".eigenvec", ".eigenval", ".variants"};
    size_t l = strlen(prefix) + 16;
    char *p = malloc(l);
    if (!p)
        return;
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
        snprintf(p, l, "%s%s", prefix, ext[i]);
        remove(p);
    }
    free(p);
}

static int run(int argc, char **argv)
{
    static const char *cmd = "pca";
    static const struct option longopts[] = {
        {"cohort", required_argument, NULL, 'c'},    {"maf", required_argument, NULL, 'm'},
        {"ld-window", required_argument, NULL, 'w'}, {"ld-step", required_argument, NULL, 's'},
        {"ld-r2", required_argument, NULL, 'r'},     {"no-prune", no_argument, NULL, 'N'},
        {"exact", no_argument, NULL, 'x'},           {"seed", required_argument, NULL, 'S'},
        {"output", required_argument, NULL, 'o'},    {"as-tier", required_argument, NULL, 'T'},
        {"threads", required_argument, NULL, 't'},   {NULL, 0, NULL, 0},
    };
    pm_pca_opts_t o = {0};
    const char *prefix = NULL, *tier_name = NULL;
    int threads = 0;
    long v;
    double d;
    int c = pm_cli_identity_args(cmd, &argc, argv); /* --token, --as, --project (cli.h) */
    if (c)
        return c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:k:o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o.cohort = optarg;
            break;
        case 'k':
            if (parse_int(optarg, 1, PM_PCA_MAX_K, &v) < 0)
                return pm_cli_usage(cmd, "-k wants 1..%d, not '%s'", PM_PCA_MAX_K, optarg);
            o.k = (int)v;
            break;
        case 'm':
            if (parse_double(optarg, 0, 0.4999999, &d) < 0)
                return pm_cli_usage(cmd, "--maf wants a number in [0, 0.5), not '%s'", optarg);
            o.maf = d > 0 ? d : -1; /* 0 means "default" in the options */
            break;
        case 'w':
            if (parse_int(optarg, 2, 100000, &v) < 0)
                return pm_cli_usage(cmd, "--ld-window wants 2..100000 variants, not '%s'",
                                    optarg);
            if (o.ld_window >= 0)
                o.ld_window = (int)v;
            break;
        case 's':
            if (parse_int(optarg, 1, 100000, &v) < 0)
                return pm_cli_usage(cmd, "--ld-step wants 1..100000, not '%s'", optarg);
            o.ld_step = (int)v;
            break;
        case 'r':
            if (parse_double(optarg, 1e-9, 1, &d) < 0)
                return pm_cli_usage(cmd, "--ld-r2 wants a number in (0, 1], not '%s'", optarg);
            o.ld_r2 = d;
            break;
        case 'N':
            o.ld_window = -1;
            break;
        case 'x':
            o.exact = 1;
            break;
        case 'S':
            if (parse_int(optarg, 1, 2147483647, &v) < 0)
                return pm_cli_usage(cmd, "--seed wants a positive integer, not '%s'", optarg);
            o.seed = (uint64_t)v;
            break;
        case 'o':
            prefix = optarg;
            break;
        case 'T':
            tier_name = optarg;
            break;
        case 't':
            if (parse_int(optarg, 1, 256, &v) < 0)
                return pm_cli_usage(cmd, "--threads wants 1..256, not '%s'", optarg);
            threads = (int)v;
            break;
        default: /* ':' or '?' */
            return pm_cli_bad_option(cmd, c, argv);
        }
    }
    int usage = pm_cli_one_store(cmd, argc, argv);
    if (usage)
        return usage;
    if (prefix && !*prefix)
        return pm_cli_usage(cmd, "-o wants a PREFIX");
    o.keep_variants = prefix != NULL;

    pm_ctx_t *ctx = pm_cli_ctx(cmd);
    if (threads)
        pm_ctx_set_threads(ctx, threads);
    int tier;
    int tx = pm_cli_as_tier(cmd, ctx, tier_name, PM_TIER_PUBLIC, "steward, project or registered", &tier);
    if (tx) {
        pm_ctx_free(ctx);
        return tx;
    }
    pm_store_t *st;
    int rc = pm_store_open(ctx, argv[optind], PM_STORE_RDWR, &st);
    if (rc < 0) {
        int x = pm_cli_fail(cmd, ctx, rc);
        pm_ctx_free(ctx);
        return x;
    }
    pm_pca_t *p = NULL;
    pm_bitset_t *used = NULL;
    int64_t aid = -1;
    if ((rc = pm_cli_audit(st, cmd, argc, argv, NULL, &aid)) >= 0) {
        /* the stored components only become covariates; PREFIX.eigenvec is
         * individual-level and needs the project tier or above */
        tier = pm_cli_scope_tier(tier); /* who asks (cli.h) */
        rc = pm_cli_scope_gt(st, &o.cohort, "genotypes", PM_TIER_PROJECT);
        o.purpose = pm_cli_scope_purpose(NULL); /* the project's opted-out are left out */
        if (rc >= 0 && tier < PM_TIER_PROJECT)
            rc = pm_err(ctx, PM_EACCES,
                        "principal components are individual-level data: they need the "
                        "project tier or above (this is '%s')",
                        pm_tier_name(tier));
        if (rc >= 0)
            rc = pm_pca_run(st, &o, &p);
        if (rc >= 0)
            rc = pm_pca_save(st, p, &o);
        if (rc >= 0 && prefix)
            rc = pm_pca_write(st, p, prefix);
        int64_t bytes = 0;
        if (rc >= 0 && prefix) {
            int64_t N = pm_store_n_individuals(st);
            if (N > 0 && (used = pm_bitset_new((size_t)N)))
                for (uint32_t i = 0; i < p->n; i++)
                    pm_bitset_set(used, (size_t)p->individual[i]);
            bytes = (int64_t)p->n * p->k;
        }
        int prc = rc;
        rc = pm_cli_audit_done(st, aid, rc, rc >= 0 && p ? p->n : 0, bytes, used);
        if (prc >= 0 && rc < 0 && prefix) /* written but not logged: withdraw the answer */
            remove_outputs(prefix);
    }
    int x = PM_EXIT_OK;
    if (rc < 0) {
        x = pm_cli_fail(cmd, ctx, rc);
    } else {
        fprintf(stderr,
                "promise pca: %u individuals, %" PRId64 " of %" PRId64
                " common biallelic autosomal SNPs %s, %d components (%s), "
                "run %" PRId64 " saved, %.2f s\n",
                p->n, p->n_variants, p->n_candidates,
                o.ld_window < 0 ? "(no LD pruning)" : "after LD pruning", p->k,
                o.exact ? "exact" : "approx",
                p->run, p->seconds);
        if (prefix)
            fprintf(stderr, "promise pca: wrote %s.eigenvec, %s.eigenval, %s.variants\n", prefix,
                    prefix, prefix);
        printf("#PC\tEIGENVALUE\n");
        for (int j = 0; j < p->k; j++)
            printf("PC%d\t%.4g\n", j + 1, p->eigval[j]);
    }
    pm_bitset_free(used);
    pm_pca_free(p);
    pm_store_close(st);
    pm_ctx_free(ctx);
    return x;
}

const pm_cli_cmd_t pm_cmd_pca = {
    "pca",
    "principal components of the genotypes",
    "usage: promise pca STORE [--cohort EXPR] [-k 10] [--maf 0.01]\n"
    "                  [--ld-window 50 --ld-step 5 --ld-r2 0.2 | --no-prune]\n"
    "                  [--exact] [--seed N] [--threads N] [-o PREFIX]\n"
    "\n"
    "Principal components of the cohort's genotypes, as plink2 --indep-pairwise\n"
    "and --pca approx compute them: biallelic autosomal SNPs with minor allele\n"
    "frequency >= --maf, LD-pruned in a sliding window of --ld-window variants\n"
    "(of a pair with r^2 > --ld-r2 the one with the lower MAF goes), genotypes\n"
    "standardised as (g - 2p) / sqrt(2p(1-p)) with missing calls at the mean,\n"
    "then the top k eigenvectors of the relationship matrix by randomized\n"
    "block Krylov iteration (--exact: full eigendecomposition).\n"
    "\n"
    "The result is saved in the store (one run; the latest run is what\n"
    "'promise gwas --covar pc1,pc2,...' and 'promise phewas' use; individuals\n"
    "outside it have no value and drop out). Project tier or above. Prints the\n"
    "eigenvalues of the relationship matrix on stdout.\n"
    "\n"
    "  -o PREFIX      also writes PREFIX.eigenvec (#IID PC1..PCk, IID the store\n"
    "                 pseudonym), PREFIX.eigenval and PREFIX.variants (the pruned\n"
    "                 variants as CHR:POS:REF:ALT); individual-level data\n"
    "  --as-tier T    act as a lower tier (refused below project)\n"
    "  --token TOKEN | --as USER [--project P]\n"
    "                 ask as that user, with their tier and project: the\n"
    "                 project's sources, without those who opted out of its\n"
    "                 consent purpose (docs/access.md); default: the local steward\n"
    "\n"
    "See docs/gwas.md.\n",
    run,
};
