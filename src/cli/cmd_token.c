/* cmd_token.c - promise token new|revoke|list|check STORE ... */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/cli_audit.h"
#include "promise/access.h"

#define DEFAULT_DAYS 90

static int today_ymd(int plus_days)
{
    time_t t = time(NULL) + (time_t)plus_days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

static int token_new(int argc, char **argv)
{
    static const struct option longopts[] = {{"expires", required_argument, NULL, 'e'},
                                             {NULL, 0, NULL, 0}};
    int expires = today_ymd(DEFAULT_DAYS);
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c != 'e')
            return pm_cli_usage("token", "unknown option or missing value '%s'", argv[optind - 1]);
        if ((expires = pm_cli_parse_date(optarg, 0)) < 0)
            return pm_cli_usage("token", "invalid --expires '%s': expected YYYY-MM-DD", optarg);
        if (expires < today_ymd(0))
            return pm_cli_usage("token", "--expires '%s' is in the past", optarg);
    }
    if (argc - optind != 2)
        return pm_cli_usage("token", argc - optind < 2 ? "token new needs STORE and USER"
                                                       : "too many arguments");
    const char *user = argv[optind + 1];
    pm_ctx_t *ctx = pm_cli_ctx("token");
    pm_store_t *st = NULL;
    int64_t aid = 0, id = 0;
    char tok[PM_TOKEN_MAX] = "";
    int rc = pm_store_open(ctx, argv[optind], PM_STORE_RDWR, &st);
    if (rc >= 0 && (rc = pm_cli_audit(st, "token new", argc, argv, NULL, &aid)) >= 0) {
        rc = pm_access_token_new(st, user, expires, tok, &id);
        rc = pm_cli_audit_done(st, aid, rc, 0, 0, NULL);
    }
    int status = PM_EXIT_OK;
    if (rc < 0) {
        status = pm_cli_fail("token", ctx, rc);
    } else {
        printf("%s\n", tok);
        fprintf(stderr,
                "promise token: token %lld for user '%s', valid through %04d-%02d-%02d; it is "
                "shown only this once\n",
                (long long)id, user, expires / 10000, expires / 100 % 100, expires % 100);
    }
    memset(tok, 0, sizeof tok);
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}

static int token_revoke(int argc, char **argv)
{
    if (argc != 3)
        return pm_cli_usage("token", argc < 3 ? "token revoke needs STORE and TOKEN-ID"
                                              : "too many arguments");
    char *end;
    errno = 0;
    long long id = strtoll(argv[2], &end, 10);
    if (end == argv[2] || *end || errno || id <= 0)
        return pm_cli_usage("token", "invalid TOKEN-ID '%s': expected the number 'token new' "
                                     "printed", argv[2]);
    pm_ctx_t *ctx = pm_cli_ctx("token");
    pm_store_t *st = NULL;
    int64_t aid = 0;
    int changed = 0;
    int rc = pm_store_open(ctx, argv[1], PM_STORE_RDWR, &st);
    if (rc >= 0 && (rc = pm_cli_audit(st, "token revoke", argc, argv, NULL, &aid)) >= 0) {
        rc = pm_access_token_revoke(st, id, &changed);
        rc = pm_cli_audit_done(st, aid, rc, 0, 0, NULL);
    }
    int status = PM_EXIT_OK;
    if (rc < 0)
        status = pm_cli_fail("token", ctx, rc);
    else
        printf(changed ? "token %lld revoked\n" : "token %lld was already revoked\n", id);
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}

static int print_token(void *ud, const pm_token_info_t *t)
{
    int today = *(int *)ud;
    printf("%lld\t%s\t%s\t%04d-%02d-%02d\t%s\n", (long long)t->id, t->user, t->created,
           t->expires / 10000, t->expires / 100 % 100, t->expires % 100,
           t->revoked ? "revoked" : t->expires < today ? "expired" : "valid");
    return 0;
}

static int token_list(int argc, char **argv)
{
    if (argc != 2)
        return pm_cli_usage("token", argc < 2 ? "token list needs STORE" : "too many arguments");
    pm_ctx_t *ctx = pm_cli_ctx("token");
    pm_store_t *st = NULL;
    int64_t aid = 0;
    int today = today_ymd(0);
    int rc = pm_store_open(ctx, argv[1], PM_STORE_RDONLY, &st);
    if (rc >= 0 && (rc = pm_cli_audit(st, "token list", argc, argv, NULL, &aid)) >= 0)
        rc = pm_cli_audit_done(st, aid, 0, 0, 0, NULL);
    if (rc >= 0)
        rc = pm_access_token_each(st, print_token, &today);
    int status = rc < 0 ? pm_cli_fail("token", ctx, rc) : PM_EXIT_OK;
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}

static int token_check(int argc, char **argv)
{
    if (argc != 3)
        return pm_cli_usage("token", argc < 3 ? "token check needs STORE and TOKEN (or -)"
                                              : "too many arguments");
    char tok[256];
    if (strcmp(argv[2], "-") == 0) {
        if (!fgets(tok, sizeof tok, stdin))
            tok[0] = '\0';
        tok[strcspn(tok, "\r\n")] = '\0';
    } else {
        snprintf(tok, sizeof tok, "%s", argv[2]);
    }
    pm_ctx_t *ctx = pm_cli_ctx("token");
    pm_store_t *st = NULL;
    int64_t aid = 0;
    pm_principal_t *p = calloc(1, sizeof *p);
    int rc = p ? pm_store_open(ctx, argv[1], PM_STORE_RDONLY, &st) : PM_ENOMEM;
    if (rc >= 0 && (rc = pm_cli_audit(st, "token check", argc, argv, NULL, &aid)) >= 0) {
        rc = pm_access_authenticate(st, tok, p);
        rc = pm_cli_audit_done(st, aid, rc, 0, 0, NULL);
    }
    memset(tok, 0, sizeof tok);
    int status = PM_EXIT_OK;
    if (rc < 0) {
        status = pm_cli_fail("token", ctx, rc);
    } else {
        printf("user\t%s\ntier\t%s\ntoken\t%lld\n", p->user, pm_tier_name(p->tier),
               (long long)p->token_id);
        for (size_t i = 0; i < p->n_projects; i++)
            printf("project\t%s\n", p->projects[i].name);
    }
    free(p);
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} subs[] = {{"new", token_new}, {"revoke", token_revoke}, {"list", token_list},
            {"check", token_check}};

static int run(int argc, char **argv)
{
    if (argc < 2)
        return pm_cli_usage("token", "missing subcommand: new, revoke, list or check");
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].run(argc - 1, argv + 1);
    return pm_cli_usage("token", "unknown subcommand '%s': use new, revoke, list or check",
                        argv[1]);
}

const pm_cli_cmd_t pm_cmd_token = {
    "token",
    "bearer tokens for the HTTP API",
    "usage: promise token new STORE USER [--expires YYYY-MM-DD]\n"
    "       promise token revoke STORE TOKEN-ID\n"
    "       promise token list STORE\n"
    "       promise token check STORE TOKEN|-\n"
    "\n"
    "'new' draws a random bearer token for USER and prints it on stdout, once:\n"
    "the store keeps only its SHA-256, so a lost token cannot be shown again\n"
    "(make a new one and revoke the old). It is valid through --expires\n"
    "(default: 90 days from today). Its id, for 'revoke', goes to stderr.\n"
    "'revoke' makes a token useless at once. 'list' prints ID, USER, CREATED,\n"
    "EXPIRES and STATE (valid, expired, revoked). 'check' resolves a token (or\n"
    "one read from stdin with '-', which keeps it out of the process list) to\n"
    "its user, tier and unexpired projects, as the HTTP server does.\n"
    "All are recorded in the audit log, without the token.\n"
    "\n"
    "Exit status: 0 done, 1 usage error, 2 bad input (unknown user or token\n"
    "id), 3 token invalid, expired or revoked ('check').\n",
    run,
};
