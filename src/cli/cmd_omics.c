/* cmd_omics.c - promise omics STORE --assay A --feature F [--cohort EXPR]
 * [--sample first|last|all|nearest:DATE] [--summary] [--trajectory]
 * [--transform int|log2] [--as-tier T] | --list-features. See docs/omics.md. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_audit.h"
#include "promise/cohort.h"
#include "promise/omics.h"
#include "promise/policy.h"

#define CMD "omics"

/* Shortest of %.6g .. %.9g that reads back as the same float. */
static void fmt_value(char *buf, size_t cap, double v, int is_float)
{
    if (isnan(v)) {
        snprintf(buf, cap, "NA");
        return;
    }
    if (is_float) {
        for (int p = 6; p <= 9; p++) {
            snprintf(buf, cap, "%.*g", p, v);
            if (strtof(buf, NULL) == (float)v)
                return;
        }
        return;
    }
    snprintf(buf, cap, "%.7g", v); /* statistics: seven significant digits */
}

static void fmt_date(char *buf, size_t cap, int32_t d)
{
    if (d)
        snprintf(buf, cap, "%04d-%02d-%02d", d / 10000, d / 100 % 100, d % 100);
    else
        snprintf(buf, cap, "NA");
}

static void fmt_flags(char *buf, size_t cap, uint8_t f)
{
    size_t n = 0;
    buf[0] = '\0';
    static const struct {
        uint8_t bit;
        const char *name;
    } names[] = {{PM_OMICS_MISSING, "missing"},
                 {PM_OMICS_BELOW_LOD, "below_lod"},
                 {PM_OMICS_QC_WARNING, "qc_warning"}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (f & names[i].bit) {
            int w = snprintf(buf + n, cap - n, "%s%s", n ? "," : "", names[i].name);
            if (w > 0 && (size_t)w < cap - n)
                n += (size_t)w;
        }
    if (!n)
        snprintf(buf, cap, ".");
}

static int list_row(void *ud, const pm_omics_feature_t *f)
{
    FILE *out = ud;
    char pos[32] = "NA";
    if (f->pos)
        snprintf(pos, sizeof pos, "%lld", (long long)f->pos);
    fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\t%lld\t%lld\n", f->feature_id, *f->name ? f->name : "NA",
           *f->uniprot ? f->uniprot : "NA", *f->panel ? f->panel : "NA",
           *f->chrom ? f->chrom : "NA", pos, (long long)f->batches, (long long)f->samples);
    return 0;
}

/* Number of distinct individuals among v's non-missing values (v is ordered by individual). */
static int64_t n_individuals(const pm_omics_vals_t *v, const double *x)
{
    int64_t n = 0, last = -1;
    for (size_t i = 0; i < v->n; i++)
        if (!isnan(x[i]) && v->individual[i] != last) {
            n++;
            last = v->individual[i];
        }
    return n;
}

static void print_summary(FILE *out, const pm_omics_vals_t *v, const double *x,
                          const pm_policy_t *pol)
{
    pm_omics_summary_t s;
    if (pm_omics_summarize(x, v->n, &s) < 0)
        memset(&s, 0, sizeof s);
    int64_t ni = n_individuals(v, x);
    char m[32], sd[32], mn[32], q1[32], md[32], q3[32], mx[32];
    const char *fname = v->feature_name && *v->feature_name ? v->feature_name : "NA";
    if (pol->tier >= PM_TIER_PROJECT) {
        int64_t miss = 0, lod = 0, qc = 0;
        for (size_t i = 0; i < v->n; i++) {
            miss += (v->flags[i] & PM_OMICS_MISSING) != 0;
            lod += (v->flags[i] & PM_OMICS_BELOW_LOD) != 0;
            qc += (v->flags[i] & PM_OMICS_QC_WARNING) != 0;
        }
        fmt_value(m, sizeof m, s.mean, 0);
        fmt_value(sd, sizeof sd, s.sd, 0);
        fmt_value(mn, sizeof mn, s.min, 0);
        fmt_value(q1, sizeof q1, s.q25, 0);
        fmt_value(md, sizeof md, s.median, 0);
        fmt_value(q3, sizeof q3, s.q75, 0);
        fmt_value(mx, sizeof mx, s.max, 0);
        fprintf(out, "#assay\tfeature_id\tname\tindividuals\tvalues\tmissing\tbelow_lod\tqc_warning\t"
               "mean\tsd\tmin\tq25\tmedian\tq75\tmax\n");
        fprintf(out, "%s\t%s\t%s\t%lld\t%zu\t%lld\t%lld\t%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v->assay,
               v->feature_id, fname, (long long)ni, s.n, (long long)miss, (long long)lod,
               (long long)qc, m, sd, mn, q1, md, q3, mx);
        return;
    }
    /* Lower tiers: no extremes (they are single people's values), no
     * flag counts, and nothing at all below k individuals. */
    pm_cell_t c = pm_policy_release_count(pol, ni);
    char n[32];
    if (c.state == PM_CELL_EXACT) {
        snprintf(n, sizeof n, "%lld", (long long)c.value);
        fmt_value(m, sizeof m, s.mean, 0);
        fmt_value(sd, sizeof sd, s.sd, 0);
        fmt_value(q1, sizeof q1, s.q25, 0);
        fmt_value(md, sizeof md, s.median, 0);
        fmt_value(q3, sizeof q3, s.q75, 0);
    } else {
        snprintf(n, sizeof n, "<%d", pol->k);
        snprintf(m, sizeof m, "NA");
        snprintf(sd, sizeof sd, "NA");
        snprintf(q1, sizeof q1, "NA");
        snprintf(md, sizeof md, "NA");
        snprintf(q3, sizeof q3, "NA");
    }
    if (c.state == PM_CELL_EXACT && c.value == 0)
        snprintf(n, sizeof n, "0");
    fprintf(out, "#assay\tfeature_id\tname\tindividuals\tmean\tsd\tq25\tmedian\tq75\n");
    fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v->assay, v->feature_id, fname, n, m, sd, q1,
           md, q3);
}

static void print_values(FILE *out, const pm_omics_vals_t *v, const double *x, int transformed)
{
    char val[32], date[16], fl[64];
    fprintf(out, "#pseudonym\tsample_id\tcollection_date\tvalue\tflags\n");
    for (size_t i = 0; i < v->n; i++) {
        fmt_value(val, sizeof val, x[i], !transformed);
        fmt_date(date, sizeof date, v->date[i]);
        fmt_flags(fl, sizeof fl, v->flags[i]);
        fprintf(out, "%s\t%s\t%s\t%s\t%s\n", v->pseudonym[i], v->sample_id[i], date, val, fl);
    }
}

/* Days since 1970-01-01 of a YYYYMMDD date (civil calendar). */
static int64_t days_of(int32_t d)
{
    int64_t y = d / 10000, m = d / 100 % 100, dd = d % 100;
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + dd - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy;
}

static void print_trajectory(FILE *out, const pm_omics_vals_t *v, const double *x,
                             int transformed)
{
    char val[32], date[16], fl[64], days[24];
    fprintf(out, "#pseudonym\tvisit\tcollection_date\tdays\tsample_id\tvalue\tflags\n");
    int64_t cur = -1, first_day = 0;
    int visit = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (v->individual[i] != cur) {
            cur = v->individual[i];
            visit = 0;
            /* dated samples come first, so this is the earliest date (or none) */
            first_day = v->date[i] ? days_of(v->date[i]) : 0;
        }
        visit++;
        if (v->date[i])
            snprintf(days, sizeof days, "%lld", (long long)(days_of(v->date[i]) - first_day));
        else
            snprintf(days, sizeof days, "NA");
        fmt_value(val, sizeof val, x[i], !transformed);
        fmt_date(date, sizeof date, v->date[i]);
        fmt_flags(fl, sizeof fl, v->flags[i]);
        fprintf(out, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", v->pseudonym[i], visit, date, days,
               v->sample_id[i], val, fl);
    }
}

static void on_warn(void *ud, const char *msg)
{
    (void)ud;
    fprintf(stderr, "promise " CMD ": warning: %s\n", msg);
}

static int run(int argc, char **argv)
{
    enum { O_ASSAY = 1, O_FEATURE, O_COHORT, O_SAMPLE, O_SUMMARY, O_TRAJ, O_TIER, O_TRANSFORM,
           O_LIST };
    static const struct option longopts[] = {
        {"assay", required_argument, NULL, O_ASSAY},
        {"feature", required_argument, NULL, O_FEATURE},
        {"cohort", required_argument, NULL, O_COHORT},
        {"sample", required_argument, NULL, O_SAMPLE},
        {"summary", no_argument, NULL, O_SUMMARY},
        {"trajectory", no_argument, NULL, O_TRAJ},
        {"as-tier", required_argument, NULL, O_TIER},
        {"transform", required_argument, NULL, O_TRANSFORM},
        {"list-features", no_argument, NULL, O_LIST},
        {NULL, 0, NULL, 0},
    };
    const char *assay = NULL, *feature = NULL, *cohort = NULL, *sample = NULL, *tier_name = NULL,
               *transform = NULL;
    int summary = 0, traj = 0, list = 0;
    int c = pm_cli_identity_args(CMD, &argc, argv); /* --token, --as, --project (cli.h) */
    if (c)
        return c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case O_ASSAY: assay = optarg; break;
        case O_FEATURE: feature = optarg; break;
        case O_COHORT: cohort = optarg; break;
        case O_SAMPLE: sample = optarg; break;
        case O_SUMMARY: summary = 1; break;
        case O_TRAJ: traj = 1; break;
        case O_TIER: tier_name = optarg; break;
        case O_TRANSFORM: transform = optarg; break;
        case O_LIST: list = 1; break;
        case ':': return pm_cli_usage(CMD, "%s needs a value", argv[optind - 1]);
        default:
            if (optopt >= O_ASSAY && optopt <= O_LIST)
                return pm_cli_usage(CMD, "%s needs a value", argv[optind - 1]);
            return pm_cli_usage(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return pm_cli_usage(CMD, argc - optind < 1 ? "missing STORE" : "too many arguments");
    if (!assay)
        return pm_cli_usage(CMD, "missing --assay NAME");
    if (!feature && !list)
        return pm_cli_usage(CMD, "missing --feature F (or --list-features)");
    if (summary && traj)
        return pm_cli_usage(CMD, "--summary and --trajectory exclude each other");
    pm_omics_choice_t choice;
    if (pm_omics_choice_parse(sample, &choice) < 0)
        return pm_cli_usage(CMD, "--sample takes first, last, all or nearest:YYYY-MM-DD, not '%s'",
                            sample);
    if (traj && choice.mode != PM_OMICS_ALL)
        return pm_cli_usage(CMD, "--trajectory shows every sample; leave out --sample");
    if (transform && strcmp(transform, "int") != 0 && strcmp(transform, "log2") != 0)
        return pm_cli_usage(CMD, "--transform takes int or log2, not '%s'", transform);

    pm_ctx_t *ctx = pm_cli_ctx(CMD);
    int tier = pm_policy_local_tier();
    int rc = 0;
    if (tier_name) {
        int want = pm_tier_parse(tier_name);
        if (want < 0) {
            pm_ctx_free(ctx);
            return pm_cli_usage(CMD, "unknown tier '%s' (steward, registered or public)",
                                tier_name);
        }
        if (want == PM_TIER_PROJECT) {
            pm_ctx_free(ctx);
            return pm_cli_usage(CMD, "the project tier answers within a project grant (project "
                                     "pseudonyms); omics shows steward, registered or public");
        }
        if ((rc = pm_policy_as_tier(ctx, tier, want)) < 0) {
            int s = pm_cli_fail(CMD, ctx, rc);
            pm_ctx_free(ctx);
            return s;
        }
        tier = rc;
        rc = 0;
    }
    /* a lower tier asking for a trajectory is refused, after the request is logged */
    int refuse_traj = tier < PM_TIER_PROJECT && traj;
    if (tier < PM_TIER_PROJECT)
        summary = 1;

    pm_store_t *st = NULL;
    pm_bitset_t *set = NULL, *used = NULL;
    pm_omics_vals_t *v = NULL;
    double *x = NULL;
    pm_policy_t pol;
    char *answer = NULL; /* the whole answer, released after the audit result entry */
    size_t answer_len = 0;
    FILE *mf = NULL;
    int64_t aid = -1, touched = 0;
    int status = PM_EXIT_OK;
    rc = pm_store_open(ctx, argv[optind], PM_STORE_RDONLY, &st);
    if (rc == 0) /* logged before anything is computed or answered */
        rc = pm_cli_audit(st, CMD, argc, argv, NULL, &aid);
    if (rc == 0) { /* who asks (cli.h): tier, project sources and data types */
        tier = pm_cli_scope_tier(tier);
        /* individual rows name people by store pseudonym and sample id: a
         * project's individual values leave through 'export' instead */
        int indiv = pm_cli_scope()->tier >= PM_TIER_STEWARD ? PM_TIER_PROJECT : PM_TIER_STEWARD;
        refuse_traj = tier < indiv && traj;
        summary |= tier < indiv;
        rc = pm_cli_scope_cohort(ctx, cohort, &cohort);
        if (rc == 0 && pm_cli_scope()->has_project)
            rc = pm_access_project_allows(ctx, &pm_cli_scope()->project, "omics");
    }
    if (rc == 0 && tier < PM_TIER_REGISTERED) /* PRODUCT.md section 7: frequencies and Beacon only */
        rc = pm_err(ctx, PM_EACCES, "the public tier gets allele frequencies and Beacon answers; "
                                    "omics summaries need the registered tier");
    if (rc == 0 && refuse_traj)
        rc = pm_err(ctx, PM_EACCES, "the %s tier gets a summary only, not individual values",
                    pm_tier_name(tier));
    if (rc == 0 && !(mf = open_memstream(&answer, &answer_len)))
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
    if (rc == 0 && list) {
        fprintf(mf, "#feature_id\tname\tuniprot\tpanel\tchrom\tpos\tbatches\tsamples\n");
        rc = pm_omics_features_each(st, assay, list_row, mf);
        goto done;
    }
    if (rc == 0)
        rc = pm_policy_for_store(st, tier, &pol);
    if (rc == 0 && cohort) {
        pm_cohort_opts_t co = {.warn = on_warn, .purpose = pm_cli_scope_purpose(NULL)};
        rc = pm_cohort_eval_opts(st, cohort, &co, &set);
    }
    if (rc == 0)
        rc = pm_omics_values(st, assay, feature, set, &choice, 1, &v);
    if (rc == 0 && !(x = malloc((v->n ? v->n : 1) * sizeof *x)))
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
    if (rc == 0) {
        for (size_t i = 0; i < v->n; i++)
            x[i] = (v->flags[i] & PM_OMICS_MISSING) ? NAN : (double)v->value[i];
        if (transform && strcmp(transform, "log2") == 0) {
            int64_t bad = pm_omics_log2(x, v->n, x);
            if (bad)
                fprintf(stderr, "promise " CMD ": %lld values <= 0 have no log2 (NA)\n",
                        (long long)bad);
        } else if (transform && pm_omics_int(x, v->n, x) < 0) {
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        }
    }
    if (rc == 0 && summary) {
        /* an aggregate: the individuals with a value, no art. 15 list */
        touched = n_individuals(v, x);
        print_summary(mf, v, x, &pol);
    } else if (rc == 0) {
        /* record level: every individual with a row (pseudonym) is in the answer */
        int64_t nst = pm_store_n_individuals(st);
        size_t n_ind = nst > 0 ? (size_t)nst : 0;
        for (size_t i = 0; i < v->n; i++)
            if (v->individual[i] >= 0 && (size_t)v->individual[i] + 1 > n_ind)
                n_ind = (size_t)v->individual[i] + 1;
        if (!(used = pm_bitset_new(n_ind ? n_ind : 1)))
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        for (size_t i = 0; rc == 0 && i < v->n; i++)
            if (v->individual[i] >= 0)
                pm_bitset_set(used, (size_t)v->individual[i]);
        if (rc == 0) {
            touched = (int64_t)pm_bitset_count(used);
            if (traj)
                print_trajectory(mf, v, x, transform != NULL);
            else
                print_values(mf, v, x, transform != NULL);
        }
    }
done:
    if (mf && fclose(mf) != 0 && rc == 0)
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
    if (aid >= 0) /* the result entry precedes the answer; refusals are logged too */
        rc = pm_cli_audit_done(st, aid, rc, touched, rc == 0 ? (int64_t)answer_len : 0, used);
    if (rc < 0)
        status = pm_cli_fail(CMD, ctx, rc);
    else if (answer_len)
        fwrite(answer, 1, answer_len, stdout);
    if (fflush(stdout) != 0 && status == PM_EXIT_OK)
        status = pm_cli_error(CMD, PM_EXIT_INPUT, "cannot write the output");
    free(answer);
    free(x);
    pm_omics_vals_free(v);
    pm_bitset_free(used);
    pm_bitset_free(set);
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}

const pm_cli_cmd_t pm_cmd_omics = {
    "omics",
    "omics values of a feature: per sample, trajectories, summaries",
    "usage: promise omics STORE --assay A --feature F [--cohort EXPR]\n"
    "                     [--sample first|last|all|nearest:YYYY-MM-DD]\n"
    "                     [--summary | --trajectory] [--transform int|log2]\n"
    "                     [--as-tier registered|public]\n"
    "       promise omics STORE --assay A --list-features\n"
    "\n"
    "Prints the values of feature F (a feature id such as an OlinkID, or a\n"
    "name such as an Olink Assay that names one feature) of assay A, as TSV:\n"
    "pseudonym, sample_id, collection_date, value, flags (missing, below_lod,\n"
    "qc_warning, or '.'), ordered by individual and date. NA = no value.\n"
    "\n"
    "  --cohort EXPR   only the individuals of EXPR (see docs/cohort.md)\n"
    "  --sample S      which sample per individual: all (default), first,\n"
    "                  last, or nearest:YYYY-MM-DD (by collection date; first,\n"
    "                  last and nearest choose among samples with a value)\n"
    "  --summary       individuals, values, flag counts, mean, sd, min,\n"
    "                  quartiles and max instead of the values\n"
    "  --trajectory    every sample per individual in date order, with the\n"
    "                  visit number and the days since the first sample\n"
    "  --transform T   int (rank-based inverse normal, Blom offset, ties\n"
    "                  averaged, over the values shown) or log2\n"
    "  --as-tier TIER  what a lower tier gets. registered: the summary only,\n"
    "                  without min, max and flag counts, and nothing but '<k'\n"
    "                  when fewer than k individuals (store setting, default\n"
    "                  5); public: refused (exit 3)\n"
    "  --list-features the features of assay A with UniProt, panel and\n"
    "                  position where known\n"
    "\n"
    "The local user is the steward; a tier can only be lowered. Withdrawn\n"
    "individuals never appear. See docs/omics.md.\n"
    "\n"
    "  --token TOKEN | --as USER [--project P]\n"
    "               ask as that user, with their tier and project: the\n"
    "               project's sources, without those who opted out of its\n"
    "               consent purpose (docs/access.md); default: the local steward\n",
    run,
};
