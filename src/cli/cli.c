/* cli.c - shared helpers of the command-line tool (see cli.h). */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "promise/cohort.h"
#include "promise/policy.h"
#include "promise/registry.h"

int pm_cli_exit_code(int rc)
{
    if (rc >= 0)
        return PM_EXIT_OK;
    if (rc == PM_EUSAGE)
        return PM_EXIT_USAGE;
    if (rc == PM_EACCES)
        return PM_EXIT_ACCESS;
    return PM_EXIT_INPUT;
}

int pm_cli_fail(const char *cmd, pm_ctx_t *ctx, int rc)
{
    const char *msg = pm_ctx_errmsg(ctx);
    fprintf(stderr, "promise %s: %s\n", cmd, msg && *msg ? msg : pm_strerror(rc));
    return pm_cli_exit_code(rc);
}

int pm_cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "promise %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "; see 'promise help %s'\n", cmd);
    return PM_EXIT_USAGE;
}

int pm_cli_bad_option(const char *cmd, int c, char **argv)
{
    if (c == ':')
        return pm_cli_usage(cmd, "option '%s' needs a value", argv[optind - 1]);
    return pm_cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
}

int pm_cli_one_store(const char *cmd, int argc, char **argv)
{
    if (argc - optind < 1)
        return pm_cli_usage(cmd, "expected STORE");
    if (argc - optind > 1)
        return pm_cli_usage(cmd, "unexpected argument '%s'", argv[optind + 1]);
    return 0;
}

int pm_cli_parse_date(const char *s, int compact_ok)
{
    size_t n = strlen(s);
    char digits[9];
    size_t k = 0;
    if (n == 10 && s[4] == '-' && s[7] == '-') {
        for (size_t i = 0; i < n; i++)
            if (i != 4 && i != 7)
                digits[k++] = s[i];
    } else if (compact_ok && n == 8) {
        memcpy(digits, s, 8);
        k = 8;
    } else {
        return -1;
    }
    digits[8] = '\0';
    if (k != 8 || strspn(digits, "0123456789") != 8)
        return -1;
    int v = (int)strtol(digits, NULL, 10);
    int y = v / 10000, m = v / 100 % 100, d = v % 100;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1000 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap))
        return -1;
    return v;
}

int pm_cli_as_tier(const char *cmd, pm_ctx_t *ctx, const char *name, int refused,
                   const char *offered, int *tier)
{
    *tier = pm_policy_local_tier();
    if (!name)
        return 0;
    int want = pm_tier_parse(name);
    if (want < 0 || want == refused)
        return pm_cli_usage(cmd, "--as-tier wants %s, not '%s'", offered, name);
    int rc = pm_policy_as_tier(ctx, *tier, want);
    if (rc < 0)
        return pm_cli_fail(cmd, ctx, rc);
    *tier = rc;
    return 0;
}

int pm_cli_error(const char *cmd, int status, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "promise %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return status;
}

void pm_cli_print_usage(const pm_cli_cmd_t *cmd, FILE *fp) { fputs(cmd->usage, fp); }

int pm_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

int pm_cli_not_available(const char *cmd, const char *issue)
{
    return pm_cli_error(cmd, PM_EXIT_USAGE, "not available in this build yet (%s)", issue);
}

/* Progress: on a terminal, a live line every 0.5 s; otherwise one line
 * every 5 s, so that logs of long jobs show life without noise. */
struct progress {
    const char *cmd;
    int tty;
    double last;
    int dirty;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void progress_cb(void *ud, const char *what, uint64_t done, uint64_t total)
{
    struct progress *p = ud;
    double t = now_s();
    int finished = total && done >= total;
    if (!finished && t - p->last < (p->tty ? 0.5 : 5.0))
        return;
    if (finished && !p->dirty && !p->tty)
        return; /* short jobs stay quiet in logs */
    p->last = t;
    if (total)
        fprintf(stderr, "%spromise %s: %s %llu/%llu (%.0f%%)%s", p->tty ? "\r" : "", p->cmd, what,
                (unsigned long long)done, (unsigned long long)total,
                100.0 * (double)done / (double)total, p->tty && !finished ? "" : "\n");
    else
        fprintf(stderr, "%spromise %s: %s %llu%s", p->tty ? "\r" : "", p->cmd, what,
                (unsigned long long)done, p->tty ? "" : "\n");
    p->dirty = !finished;
    fflush(stderr);
}

static struct progress g_progress;

pm_ctx_t *pm_cli_ctx(const char *cmd)
{
    pm_ctx_t *ctx = pm_ctx_new();
    if (!ctx) {
        fprintf(stderr, "promise %s: out of memory\n", cmd);
        exit(PM_EXIT_INPUT);
    }
    g_progress.cmd = cmd;
    g_progress.tty = isatty(2);
    g_progress.last = now_s();
    pm_ctx_set_progress(ctx, progress_cb, &g_progress);
    return ctx;
}

/* ---- who asks ---- */

static struct identity {
    int resolved;
    const char *token, *as, *project;
    char token_buf[PM_TOKEN_MAX + 2];
    char who[160];
    pm_access_scope_t scope;
} g_id = {.scope = {.tier = PM_TIER_STEWARD}};

/* Takes "--opt VALUE" or "--opt=VALUE" at argv[*i]: 1 taken (value in
 * *val), 0 not this option, -1 value missing. */
static int take_opt(int argc, char **argv, int *i, const char *opt, const char **val)
{
    size_t n = strlen(opt);
    if (strncmp(argv[*i], opt, n) != 0)
        return 0;
    if (argv[*i][n] == '=') {
        *val = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *val = argv[++*i];
    return 1;
}

int pm_cli_identity_args(const char *cmd, int *argc, char **argv)
{
    static const char *const opts[] = {"--token", "--as", "--project"};
    const char **dst[] = {&g_id.token, &g_id.as, &g_id.project};
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0) { /* keep the rest as it is */
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        int taken = 0;
        for (size_t k = 0; k < sizeof opts / sizeof *opts && !taken; k++) {
            const char *v = NULL;
            int t = take_opt(*argc, argv, &i, opts[k], &v);
            if (t < 0)
                return pm_cli_usage(cmd, "option '%s' needs a value", opts[k]);
            if (t > 0) {
                if (!*v)
                    return pm_cli_usage(cmd, "option '%s' needs a value", opts[k]);
                *dst[k] = v;
                taken = 1;
            }
        }
        if (!taken)
            argv[out++] = argv[i];
    }
    for (int i = out; i < *argc; i++)
        argv[i] = NULL;
    *argc = out;
    if (g_id.token && g_id.as)
        return pm_cli_usage(cmd, "give --token or --as, not both");
    if (g_id.token && strcmp(g_id.token, "-") == 0) {
        if (!fgets(g_id.token_buf, sizeof g_id.token_buf, stdin))
            return pm_cli_usage(cmd, "--token -: no token on standard input");
        g_id.token_buf[strcspn(g_id.token_buf, "\r\n")] = '\0';
        g_id.token = g_id.token_buf;
    }
    return 0;
}

static void local_login(char *buf, size_t cap)
{
    struct passwd pw, *res = NULL;
    char tmp[1024];
    if (getpwuid_r(geteuid(), &pw, tmp, sizeof tmp, &res) == 0 && res)
        snprintf(buf, cap, "local:%s", res->pw_name);
    else
        snprintf(buf, cap, "local:uid%ld", (long)geteuid());
}

int pm_cli_identity(pm_store_t *st)
{
    if (g_id.resolved)
        return g_id.resolved < 0 ? g_id.resolved : 0;
    char local[128];
    local_login(local, sizeof local);
    pm_principal_t who;
    memset(&who, 0, sizeof who);
    int rc = 0;
    if (g_id.token) {
        snprintf(g_id.who, sizeof g_id.who, "unauthenticated"); /* until it is known */
        rc = pm_access_authenticate(st, g_id.token, &who);
        if (rc == 0)
            snprintf(g_id.who, sizeof g_id.who, "%s", who.user);
    } else if (g_id.as) {
        snprintf(g_id.who, sizeof g_id.who, "%.100s as %.50s", local, g_id.as);
        rc = pm_access_principal(st, g_id.as, &who);
    } else {
        snprintf(g_id.who, sizeof g_id.who, "%s", local);
    }
    memset(&g_id.scope, 0, sizeof g_id.scope);
    g_id.scope.tier = rc == 0 && (g_id.token || g_id.as) ? who.tier : PM_TIER_STEWARD;
    if (rc == 0)
        rc = pm_access_scope(st, g_id.token || g_id.as ? &who : NULL, g_id.project, &g_id.scope);
    if (rc < 0) {
        /* logged with the tier of the user when known, else the lowest */
        int known = (g_id.token || g_id.as) && who.user[0];
        g_id.scope.tier = known ? who.tier : g_id.token || g_id.as ? PM_TIER_PUBLIC
                                                                  : PM_TIER_STEWARD;
        g_id.scope.has_project = 0;
    }
    g_id.resolved = rc < 0 ? rc : 1;
    return rc < 0 ? rc : 0;
}

const pm_access_scope_t *pm_cli_scope(void) { return &g_id.scope; }

const char *pm_cli_project_arg(void) { return g_id.project; }

const char *pm_cli_who(void)
{
    if (!g_id.who[0])
        local_login(g_id.who, sizeof g_id.who);
    return g_id.who;
}

int pm_cli_scope_tier(int tier) { return tier < g_id.scope.tier ? tier : g_id.scope.tier; }

int pm_cli_scope_cohort(pm_ctx_t *ctx, const char *expr, const char **out)
{
    static char buf[8192];
    *out = expr;
    if (!g_id.scope.has_project)
        return 0;
    char src[PM_ACCESS_LIST_MAX * 2 + 64];
    int rc = pm_access_project_cohort(ctx, &g_id.scope.project, src, sizeof src);
    if (rc < 0)
        return rc;
    int n = expr && *expr ? snprintf(buf, sizeof buf, "(%s) and (%s)", expr, src)
                          : snprintf(buf, sizeof buf, "%s", src);
    if (n < 0 || (size_t)n >= sizeof buf)
        return pm_err(ctx, PM_ELIMIT, "cohort expression too long");
    *out = buf;
    return 0;
}

const char *pm_cli_scope_purpose(const char *purpose)
{
    return g_id.scope.purpose[0] ? g_id.scope.purpose : purpose;
}

int pm_cli_scope_check(pm_store_t *st, const char *data_type, int min_tier)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    const pm_access_scope_t *s = &g_id.scope;
    if (s->tier < min_tier)
        return pm_err(ctx, PM_EACCES, "tier %s may not use this command (needs %s)",
                      pm_tier_name(s->tier), pm_tier_name(min_tier));
    if (!s->has_project)
        return 0;
    /* consent is not checked here: the library calls leave the opted-out
     * out themselves (their options' purpose, set by the commands) */
    return pm_access_project_allows(ctx, &s->project, data_type);
}

/* ---- frequency release ---- */

static void put_cell(FILE *out, const pm_cell_t *c, int threshold)
{
    if (c->state == PM_CELL_EXACT)
        fprintf(out, "%lld", (long long)c->value);
    else if (c->state == PM_CELL_SMALL)
        fprintf(out, "<%d", threshold);
    else
        fputc('.', out);
}

int pm_cli_freq_release(pm_store_t *st, int tier, FILE *raw, FILE *out)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    pm_policy_t pol;
    int rc = pm_policy_for_store(st, tier, &pol);
    if (rc < 0)
        return rc;
    if ((rc = pm_policy_allows(ctx, &pol, PM_RELEASE_FREQ)) < 0)
        return rc;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    enum { MAXCOL = 256 };
    int kind[MAXCOL]; /* 0 copy, 1 AC, 2 AN, 3 AF, 4 NHOMALT, 5 AC_x, 6 AN_x */
    int ncol = 0;
    while ((len = getline(&line, &cap, raw)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        char *f[MAXCOL];
        int n = 0;
        for (char *p = line; n < MAXCOL;) {
            f[n++] = p;
            char *t = strchr(p, '\t');
            if (!t)
                break;
            *t = '\0';
            p = t + 1;
        }
        if (line[0] == '#') {
            ncol = n;
            for (int i = 0; i < n; i++)
                kind[i] = !strcmp(f[i], "AC")        ? 1
                          : !strcmp(f[i], "AN")      ? 2
                          : !strcmp(f[i], "AF")      ? 3
                          : !strcmp(f[i], "NHOMALT") ? 4
                          : !strncmp(f[i], "AC_", 3) ? 5
                          : !strncmp(f[i], "AN_", 3) ? 6
                                                     : 0;
            for (int i = 0; i < n; i++)
                fprintf(out, "%s%s", i ? "\t" : "", f[i]);
            fputc('\n', out);
            continue;
        }
        if (n != ncol) {
            free(line);
            return pm_err(ctx, PM_EINTERNAL, "frequency row with %d columns, header has %d", n,
                          ncol);
        }
        pm_freq_cell_t main = {{0, 0}, 0, 0, 1};
        for (int i = 0; i < n; i++)
            if (kind[i] == 1) {
                int an_col = -1;
                for (int j = 0; j < n; j++)
                    if (kind[j] == 2)
                        an_col = j;
                if (an_col >= 0)
                    main = pm_policy_freq_release(&pol, strtoll(f[i], NULL, 10),
                                                  strtoll(f[an_col], NULL, 10));
            }
        for (int i = 0; i < n; i++) {
            if (i)
                fputc('\t', out);
            if (kind[i] == 1) {
                put_cell(out, &main.ac, main.threshold);
            } else if (kind[i] == 3) {
                fputs(main.ac.state == PM_CELL_EXACT ? f[i] : ".", out);
            } else if (kind[i] == 4) {
                long long hom = strtoll(f[i], NULL, 10);
                pm_cell_t hc = {hom, PM_CELL_EXACT};
                if (main.ac.state != PM_CELL_EXACT)
                    hc = (pm_cell_t){-1, PM_CELL_MASKED};
                else if (hom > 0 && hom < main.threshold)
                    hc = (pm_cell_t){-1, PM_CELL_SMALL};
                put_cell(out, &hc, main.threshold);
            } else if (kind[i] == 5 && i + 1 < n && kind[i + 1] == 6) {
                pm_freq_cell_t s = pm_policy_freq_release(&pol, strtoll(f[i], NULL, 10),
                                                          strtoll(f[i + 1], NULL, 10));
                put_cell(out, &s.ac, s.threshold);
            } else {
                fputs(f[i], out);
            }
        }
        fputc('\n', out);
    }
    free(line);
    if (ferror(raw))
        return pm_err(ctx, PM_EIO, "cannot read the frequency table back");
    return 0;
}

int pm_cli_scope_gt(pm_store_t *st, const char **cohort, const char *data_type, int min_tier)
{
    int rc = pm_cli_scope_cohort(pm_store_ctx(st), *cohort, cohort);
    return rc < 0 ? rc : pm_cli_scope_check(st, data_type, min_tier);
}

int pm_cli_freq(pm_store_t *st, pm_gt_query_opts_t *o, FILE *out)
{
    int rc = pm_cli_scope_gt(st, &o->cohort, "genotypes", PM_TIER_PUBLIC);
    if (rc < 0)
        return rc;
    o->purpose = pm_cli_scope_purpose(o->purpose);
    int tier = g_id.scope.tier;
    if (tier >= PM_TIER_STEWARD)
        return pm_freq(st, o, out);
    pm_policy_t pol; /* refuse before computing anything */
    if ((rc = pm_policy_for_store(st, tier, &pol)) < 0 ||
        (rc = pm_policy_allows(pm_store_ctx(st), &pol, PM_RELEASE_FREQ)) < 0)
        return rc;
    FILE *raw = tmpfile();
    if (!raw)
        return pm_err(pm_store_ctx(st), PM_EIO, "cannot make a temporary file: %s",
                      strerror(errno));
    rc = pm_freq(st, o, raw);
    if (rc >= 0) {
        rewind(raw);
        rc = pm_cli_freq_release(st, tier, raw, out);
    }
    fclose(raw);
    return rc;
}

int pm_cli_view(pm_store_t *st, pm_gt_query_opts_t *o, const char *out_path)
{
    int rc = pm_cli_scope_gt(st, &o->cohort, "genotypes", PM_TIER_STEWARD);
    if (rc == PM_EACCES && g_id.scope.tier < PM_TIER_STEWARD)
        return pm_err(pm_store_ctx(st), PM_EACCES,
                      "view names samples by their store ids, for the steward only; a "
                      "project's genotypes leave through 'promise export' under its "
                      "pseudonyms");
    if (rc < 0)
        return rc;
    o->purpose = pm_cli_scope_purpose(o->purpose);
    return pm_view(st, o, out_path);
}
