/* cmd_count.c - promise count STORE --cohort EXPR [--by F[,F]] [--json] [--as-tier T] [--purpose P] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_audit.h"
#include "promise/cohort.h"
#include "promise/policy.h"

static void on_warn(void *ud, const char *msg)
{
    (void)ud;
    fprintf(stderr, "promise count: warning: %s\n", msg);
}

/* Parses YYYY-MM-DD or YYYYMMDD into YYYYMMDD (range-checked later by the library). */
static void json_str(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(fp, "\\%c", *c);
        else if (*c < 0x20)
            fprintf(fp, "\\u%04x", *c);
        else
            fputc(*c, fp);
    }
    fputc('"', fp);
}

/* A released cell as text: the count, "<k", or "x" (complementary). */
static void cell_text(const pm_cell_t *c, int k, char *buf, size_t cap)
{
    if (c->state == PM_CELL_EXACT)
        snprintf(buf, cap, "%lld", (long long)c->value);
    else if (c->state == PM_CELL_SMALL)
        snprintf(buf, cap, "<%d", k);
    else
        snprintf(buf, cap, "x");
}

static void cell_json(FILE *fp, const pm_cell_t *c, int k)
{
    char buf[32];
    if (c->state == PM_CELL_EXACT)
        fprintf(fp, "%lld", (long long)c->value);
    else if (c->state == PM_CELL_SMALL) {
        snprintf(buf, sizeof buf, "<%d", k);
        json_str(fp, buf);
    } else
        fputs("null", fp);
}

#define MARGIN_LABEL "total"

static void print_tsv(const pm_released_t *r)
{
    char buf[32];
    if (r->ndim == 0) {
        cell_text(&r->cell[0], r->k, buf, sizeof buf);
        printf("%s\n", buf);
        return;
    }
    for (int d = 0; d < r->ndim; d++)
        printf("%s\t", r->field[d]);
    printf("count\n");
    size_t R = r->nlab[0] + 1, C = r->ndim >= 2 ? r->nlab[1] + 1 : 1;
    for (size_t i = 0; i < R; i++)
        for (size_t j = 0; j < C; j++) {
            printf("%s\t", i < r->nlab[0] ? r->lab[0][i] : MARGIN_LABEL);
            if (r->ndim >= 2)
                printf("%s\t", j < r->nlab[1] ? r->lab[1][j] : MARGIN_LABEL);
            cell_text(&r->cell[i * C + j], r->k, buf, sizeof buf);
            printf("%s\n", buf);
        }
}

static void print_json(const pm_released_t *r, const char *cohort, int ref)
{
    printf("{\"cohort\":");
    json_str(stdout, cohort);
    printf(",\"reference_date\":\"%04d-%02d-%02d\",\"tier\":\"%s\",\"k\":%d,\"count\":",
           ref / 10000, ref / 100 % 100, ref % 100, pm_tier_name(r->tier), r->k);
    cell_json(stdout, &r->cell[r->ncells - 1], r->k);
    if (r->ndim > 0) {
        printf(",\"by\":[");
        for (int d = 0; d < r->ndim; d++) {
            printf(d ? "," : "");
            json_str(stdout, r->field[d]);
        }
        printf("],\"cells\":[");
        size_t R = r->nlab[0] + 1, C = r->ndim >= 2 ? r->nlab[1] + 1 : 1;
        int first = 1;
        for (size_t i = 0; i < R; i++)
            for (size_t j = 0; j < C; j++) {
                if (i == R - 1 && j == C - 1)
                    continue; /* the total is "count" */
                printf("%s{", first ? "" : ",");
                first = 0;
                json_str(stdout, r->field[0]);
                putchar(':');
                if (i < r->nlab[0])
                    json_str(stdout, r->lab[0][i]);
                else
                    fputs("null", stdout);
                if (r->ndim >= 2) {
                    putchar(',');
                    json_str(stdout, r->field[1]);
                    putchar(':');
                    if (j < r->nlab[1])
                        json_str(stdout, r->lab[1][j]);
                    else
                        fputs("null", stdout);
                }
                printf(",\"count\":");
                cell_json(stdout, &r->cell[i * C + j], r->k);
                putchar('}');
            }
        printf("]");
    }
    printf("}\n");
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"cohort", required_argument, NULL, 'c'}, {"by", required_argument, NULL, 'b'},
        {"json", no_argument, NULL, 'j'},         {"as-tier", required_argument, NULL, 't'},
        {"ref-date", required_argument, NULL, 'r'}, {"purpose", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    const char *cohort = NULL, *by = NULL, *tier_name = NULL, *purpose = NULL;
    int json = 0, ref = 0;
    int opt = pm_cli_identity_args("count", &argc, argv); /* --token, --as, --project */
    if (opt)
        return opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "c:b:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': cohort = optarg; break;
        case 'b': by = optarg; break;
        case 'j': json = 1; break;
        case 't': tier_name = optarg; break;
        case 'p': purpose = optarg; break;
        case 'r':
            if ((ref = pm_cli_parse_date(optarg, 1)) < 0)
                return pm_cli_usage("count", "--ref-date takes YYYY-MM-DD, not '%s'", optarg);
            break;
        default:
            if (optopt)
                return pm_cli_usage("count", "option '-%c' needs a value or is unknown", optopt);
            return pm_cli_usage("count", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return pm_cli_usage("count", "missing STORE");
    if (optind + 1 < argc)
        return pm_cli_usage("count", "unexpected argument '%s'", argv[optind + 1]);
    const char *path = argv[optind];

    pm_ctx_t *ctx = pm_cli_ctx("count");
    int tier = pm_policy_local_tier();
    if (tier_name) {
        int want = pm_tier_parse(tier_name);
        if (want < 0) {
            pm_ctx_free(ctx);
            return pm_cli_usage("count", "unknown tier '%s' (steward or registered)",
                                tier_name);
        }
        if (want == PM_TIER_PROJECT) {
            pm_ctx_free(ctx);
            return pm_cli_usage("count", "the project tier answers within a project grant; "
                                         "count shows steward or registered");
        }
        int rc = pm_policy_as_tier(ctx, tier, want);
        if (rc < 0) {
            int st = pm_cli_fail("count", ctx, rc);
            pm_ctx_free(ctx);
            return st;
        }
        tier = rc;
    }

    pm_store_t *st = NULL;
    pm_cohort_t *c = NULL;
    pm_bitset_t *set = NULL;
    pm_cohort_table_t *raw = NULL;
    pm_released_t *rel = NULL;
    pm_policy_t pol;
    pm_cohort_opts_t o = {.ref_date = ref, .warn = on_warn, .purpose = purpose};
    int64_t aid = -1, touched = 0;
    int rc = pm_store_open(ctx, path, PM_STORE_RDONLY, &st);
    if (rc == 0) /* logged before anything is computed or answered */
        rc = pm_cli_audit(st, "count", argc, argv, NULL, &aid);
    if (rc == 0) { /* what the caller may see (cli.h): tier, project sources, consent */
        tier = pm_cli_scope_tier(tier);
        o.purpose = pm_cli_scope_purpose(purpose);
        rc = pm_cli_scope_cohort(ctx, cohort, &cohort);
    }
    if (rc == 0)
        rc = pm_policy_for_store(st, tier, &pol);
    if (rc == 0)
        rc = pm_policy_allows(ctx, &pol, PM_RELEASE_COUNT); /* public: no counts */
    if (rc == 0)
        rc = pm_cohort_parse(ctx, cohort, &c);
    if (rc == 0)
        rc = pm_cohort_eval_parsed(st, c, &o, &set);
    if (rc == 0 && (ref = pm_cohort_ref_date(st, &o)) < 0)
        rc = ref;
    if (rc == 0)
        rc = pm_cohort_tabulate(st, set, by, &o, &raw);
    if (rc == 0)
        rc = pm_policy_release_table(ctx, &pol, raw, &rel);
    pm_cohort_table_free(raw); /* from here on only the released table */
    if (set)
        touched = (int64_t)pm_bitset_count(set);
    if (aid >= 0) { /* the result entry precedes the answer; refusals are logged too */
        int arc = pm_cli_audit_done(st, aid, rc, touched, 0, NULL);
        if (rc == 0 && arc < 0)
            rc = arc;
    }
    pm_bitset_free(set);
    int status = PM_EXIT_OK;
    if (rc < 0) {
        status = pm_cli_fail("count", ctx, rc);
        long col;
        const char *m = pm_ctx_errmsg(ctx);
        if (cohort && strncmp(m, "column ", 7) == 0 && (col = strtol(m + 7, NULL, 10)) >= 1 &&
            col <= 200 && !strchr(cohort, '\n'))
            fprintf(stderr, "promise count:   %s\npromise count:   %*s^\n", cohort, (int)col - 1, "");
    } else if (json) {
        char norm[4096];
        size_t n = pm_cohort_format(c, norm, sizeof norm);
        print_json(rel, n < sizeof norm ? norm : cohort ? cohort : "", ref);
    } else {
        print_tsv(rel);
        if (rel->ndim > 0 && rel->n_small)
            fprintf(stderr, "promise count: note: '<%d' is a count from 1 to %d\n", rel->k,
                    rel->k - 1);
        if (rel->ndim > 0 && rel->n_masked)
            fprintf(stderr, "promise count: note: 'x' is hidden so that no small count can be "
                            "worked out from the others\n");
    }
    if (fflush(stdout) != 0 && status == PM_EXIT_OK)
        status = pm_cli_error("count", PM_EXIT_INPUT, "cannot write the output");
    pm_released_free(rel);
    pm_cohort_free(c);
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}

const pm_cli_cmd_t pm_cmd_count = {
    "count",
    "count a cohort (with disclosure control)",
    "usage: promise count STORE --cohort EXPR [--by FIELD[,FIELD]] [--json]\n"
    "                     [--as-tier registered] [--ref-date YYYY-MM-DD]\n"
    "                     [--purpose PURPOSE] [--token TOKEN | --as USER]\n"
    "                     [--project P]\n"
    "\n"
    "Prints the number of individuals in the cohort EXPR (see docs/cohort.md;\n"
    "e.g. 'sex=F and age>=50 and not source:SCAPIS'). Without --cohort,\n"
    "everyone in the population. Withdrawn individuals are never counted.\n"
    "\n"
    "  --by FIELD[,FIELD]  a breakdown by one or two of sex, county, source,\n"
    "                      assay, age-band (10-year bands 0-9 ... 90-99, 100+;\n"
    "                      NA = unknown), as TSV with a header; rows labelled\n"
    "                      'total' are margins. An individual with samples of\n"
    "                      several sources (assays) counts in each of them.\n"
    "  --json              one JSON object instead of TSV\n"
    "  --as-tier TIER      show what a lower tier would get: counts from 1 to\n"
    "                      k-1 as '<k' (k is the store setting, default 5), and\n"
    "                      in breakdowns further cells as 'x' (JSON null) so that\n"
    "                      no hidden count follows from the margins. The public\n"
    "                      tier gets no counts at all (only frequencies and\n"
    "                      yes/no Beacon answers): --as-tier public is refused\n"
    "  --ref-date DATE     judge ages and 'alive' at DATE instead of today\n"
    "                      (or the store setting reference_date)\n"
    "  --purpose PURPOSE   leave out who opted out of PURPOSE (e.g. research,\n"
    "                      commercial) or of all use\n"
    "\n"
    "  --token TOKEN       ask as the token's user ('-': read it from stdin)\n"
    "  --as USER           the steward asking as USER (their tier and grants)\n"
    "  --project P         within project P: its approved sources, and without\n"
    "                      who opted out of its purpose (docs/access.md)\n"
    "\n"
    "The local user is the steward and sees exact counts; a tier can only be\n"
    "lowered. Exit status 2 for a bad expression (the message names the\n"
    "column), 1 for a usage error, 3 for a refused tier.\n",
    run,
};
