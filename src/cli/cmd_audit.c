/* cmd_audit.c - promise audit verify|list|person STORE ... */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_audit.h"
#include "promise/access.h"
#include "promise/audit.h"

struct head_find {
    int64_t id;
    char hash[PM_AUDIT_HASH_HEX + 1];
    int found;
};

static int head_cb(void *ud, const pm_audit_row_t *r)
{
    struct head_find *h = ud;
    if (r->id == h->id) {
        snprintf(h->hash, sizeof h->hash, "%s", r->hash);
        h->found = 1;
    }
    return -1000; /* the first row is the one wanted */
}

/* "N:HASH" -> id and hash; 0 or -1. */
static int parse_head(const char *s, int64_t *id, char *hash)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != ':' || errno || v <= 0 || strlen(end + 1) != PM_AUDIT_HASH_HEX)
        return -1;
    for (const char *p = end + 1; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return -1;
    *id = v;
    memcpy(hash, end + 1, PM_AUDIT_HASH_HEX + 1);
    return 0;
}

static int audit_verify(int argc, char **argv)
{
    static const struct option longopts[] = {{"head", required_argument, NULL, 'H'},
                                             {NULL, 0, NULL, 0}};
    int64_t want_id = 0;
    char want_hash[PM_AUDIT_HASH_HEX + 1] = "";
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c != 'H' || parse_head(optarg, &want_id, want_hash) < 0)
            return pm_cli_usage("audit", c == 'H' ? "invalid --head '%s': expected N:HASH as "
                                                    "'audit head' prints it"
                                                  : "unknown option or missing value '%s'",
                                c == 'H' ? optarg : argv[optind - 1]);
    }
    if (argc - optind != 1)
        return pm_cli_usage("audit", argc - optind < 1 ? "audit verify needs STORE"
                                                       : "too many arguments");
    pm_ctx_t *ctx = pm_cli_ctx("audit");
    pm_store_t *st = NULL;
    int64_t n = 0, bad = 0;
    int rc = pm_store_open(ctx, argv[optind], PM_STORE_RDONLY, &st);
    if (rc >= 0)
        rc = pm_audit_verify(st, &n, &bad);
    if (rc >= 0 && want_id) {
        /* a head published earlier: the verified chain must still contain it */
        struct head_find h = {want_id, "", 0};
        if (want_id <= n)
            rc = pm_audit_each(st, want_id - 1, head_cb, &h);
        if (rc == -1000)
            rc = 0;
        if (rc >= 0 && (!h.found || strcmp(h.hash, want_hash) != 0))
            rc = pm_err(ctx, PM_ECORRUPT,
                        "audit log of '%s' fails at entry %lld: it %s the published head",
                        argv[optind], (long long)(h.found ? want_id : n + 1),
                        h.found ? "differs from" : "ends before");
    }
    int status = PM_EXIT_OK;
    if (rc < 0)
        status = pm_cli_fail("audit", ctx, rc);
    else
        printf("%lld entries verified\n", (long long)n);
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}

static int audit_head(int argc, char **argv)
{
    if (argc != 2)
        return pm_cli_usage("audit", argc < 2 ? "audit head needs STORE" : "too many arguments");
    pm_ctx_t *ctx = pm_cli_ctx("audit");
    pm_store_t *st = NULL;
    int64_t n = 0, bad = 0;
    int rc = pm_store_open(ctx, argv[1], PM_STORE_RDONLY, &st);
    if (rc >= 0)
        rc = pm_audit_verify(st, &n, &bad);
    struct head_find h = {n, "", 0};
    if (rc >= 0 && n > 0 && (rc = pm_audit_each(st, n - 1, head_cb, &h)) == -1000)
        rc = 0;
    int status = PM_EXIT_OK;
    if (rc < 0)
        status = pm_cli_fail("audit", ctx, rc);
    else if (n > 0)
        printf("%lld:%s\n", (long long)n, h.hash);
    else
        printf("0\n");
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}

static const char *dash(const char *s) { return s && *s ? s : "-"; }

static int print_row(void *ud, const pm_audit_row_t *r)
{
    (void)ud;
    if (strcmp(r->kind, "result") == 0)
        printf("%lld\t%s\tresult\t%s\t%s\t%s\t%s\tref=%lld outcome=%s individuals=%lld "
               "size=%lld used=%lld\n",
               (long long)r->id, r->at, r->who, r->tier, dash(r->project), r->command,
               (long long)r->ref, r->outcome, (long long)r->n_individuals,
               (long long)r->result_size, (long long)r->n_used);
    else
        printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", (long long)r->id, r->at, r->kind, r->who,
               r->tier, dash(r->project), r->command, r->query);
    return 0;
}

static int audit_list(int argc, char **argv)
{
    static const struct option longopts[] = {{"last", required_argument, NULL, 'n'},
                                             {NULL, 0, NULL, 0}};
    long long last = -1;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        char *end;
        errno = 0;
        if (c != 'n')
            return pm_cli_usage("audit", "unknown option or missing value '%s'", argv[optind - 1]);
        last = strtoll(optarg, &end, 10);
        if (end == optarg || *end || errno || last < 0)
            return pm_cli_usage("audit", "invalid --last '%s': expected a whole number", optarg);
    }
    if (argc - optind != 1)
        return pm_cli_usage("audit", argc - optind < 1 ? "audit list needs STORE"
                                                       : "too many arguments");
    pm_ctx_t *ctx = pm_cli_ctx("audit");
    pm_store_t *st = NULL;
    int64_t n = 0, last_id = 0;
    int rc = pm_store_open(ctx, argv[optind], PM_STORE_RDONLY, &st);
    if (rc >= 0)
        rc = pm_audit_count(st, &n, &last_id);
    if (rc >= 0) {
        int64_t after = last >= 0 && last < last_id ? last_id - last : 0;
        rc = pm_audit_each(st, after, print_row, NULL);
    }
    int status = rc < 0 ? pm_cli_fail("audit", ctx, rc) : PM_EXIT_OK;
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}

struct person_out {
    int64_t n;
    FILE *fp; /* the answer, held back until its audit entry is committed */
};

static int print_use(void *ud, const pm_audit_row_t *r)
{
    struct person_out *o = ud;
    o->n++;
    fprintf(o->fp, "%s\t%s\t%s\t%s\tentry %lld\n", r->at, dash(r->project), r->who, r->command,
           (long long)r->ref);
    return 0;
}

static int audit_person(int argc, char **argv)
{
    static const struct option longopts[] = {{"key", required_argument, NULL, 'k'},
                                             {NULL, 0, NULL, 0}};
    const char *keyfile = NULL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c != 'k')
            return pm_cli_usage("audit", "unknown option or missing value '%s'", argv[optind - 1]);
        keyfile = optarg;
    }
    if (argc - optind != 2)
        return pm_cli_usage("audit", argc - optind < 2 ? "audit person needs STORE and "
                                                         "PERSONNUMMER"
                                                       : "too many arguments");
    if (!keyfile)
        return pm_cli_usage("audit", "audit person needs --key KEYFILE");
    pm_ctx_t *ctx = pm_cli_ctx("audit");
    pm_store_t *st = NULL;
    pm_key_t *key = NULL;
    pm_bitset_t *me = NULL;
    int64_t aid = 0, idx = -1;
    struct person_out out = {0, NULL};
    char *answer = NULL;
    size_t answer_len = 0;
    int rc = pm_store_open(ctx, argv[optind], PM_STORE_RDONLY, &st);
    if (rc >= 0 && (rc = pm_cli_audit(st, "audit person", argc, argv, NULL, &aid)) >= 0) {
        rc = pm_key_load(ctx, keyfile, &key);
        if (rc >= 0)
            rc = pm_access_person(st, key, argv[optind + 1], &idx, NULL);
        /* the uses are collected first, so that this lookup, which uses the
         * person too, is not part of its own answer */
        if (rc >= 0 && !(me = pm_bitset_new((size_t)idx + 1)))
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        if (rc >= 0) {
            pm_bitset_set(me, (size_t)idx);
            if (!(out.fp = open_memstream(&answer, &answer_len)))
                rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        }
        if (rc >= 0)
            rc = pm_audit_person(st, idx, print_use, &out);
        if (out.fp && fclose(out.fp) != 0 && rc >= 0)
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        rc = pm_cli_audit_done(st, aid, rc, rc >= 0 ? 1 : 0, (int64_t)answer_len, me);
    }
    if (rc >= 0 && answer_len)
        fwrite(answer, 1, answer_len, stdout);
    free(answer);
    int status = rc < 0 ? pm_cli_fail("audit", ctx, rc) : PM_EXIT_OK;
    pm_bitset_free(me);
    pm_key_free(key);
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} subs[] = {{"verify", audit_verify}, {"head", audit_head}, {"list", audit_list},
            {"person", audit_person}};

static int run(int argc, char **argv)
{
    if (argc < 2)
        return pm_cli_usage("audit", "missing subcommand: verify, head, list or person");
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].run(argc - 1, argv + 1);
    return pm_cli_usage("audit", "unknown subcommand '%s': use verify, head, list or person", argv[1]);
}

const pm_cli_cmd_t pm_cmd_audit = {
    "audit",
    "verify and read the audit log",
    "usage: promise audit verify STORE [--head N:HASH]\n"
    "       promise audit head STORE\n"
    "       promise audit list STORE [--last N]\n"
    "       promise audit person STORE --key KEYFILE PERSONNUMMER\n"
    "\n"
    "Every request is appended to the store's audit log before it is answered,\n"
    "and its outcome (how many individuals it touched, the size of the result)\n"
    "as a second entry before the answer is released. Entries are hash-chained:\n"
    "each stores SHA-256 of the previous entry's hash and its own content.\n"
    "\n"
    "'verify' recomputes the chain and checks it against the head witness\n"
    "STORE/audit/head: it prints 'N entries verified', or names the first entry\n"
    "that was edited, deleted, reordered or cut off and exits 2.\n"
    "'head' verifies the log and prints its head as N:HASH; keep a copy\n"
    "outside the store (a journal, another machine): 'verify --head N:HASH'\n"
    "then also checks that the log still holds that entry unchanged, which\n"
    "catches even a rewrite of the whole log and its witness.\n"
    "'list' prints the entries (the last N with --last), tab-separated: ID, TIME,\n"
    "KIND, WHO, TIER, PROJECT, COMMAND, then the query (requests) or the outcome\n"
    "(results).\n"
    "'person' lists the answers that used one person's data (GDPR art. 15):\n"
    "TIME, PROJECT, WHO, COMMAND and the request's entry. The number is\n"
    "pseudonymised with KEYFILE, which must be the store's key; it is never\n"
    "printed or logged.\n"
    "'verify', 'head' and 'list' read the log without adding to it; 'person' is logged.\n"
    "\n"
    "Exit status: 0 done, 1 usage error, 2 the log fails verification or bad\n"
    "input (invalid or unknown personnummer), 3 the key is not the store's.\n",
    run,
};
