/* cli.c - shared helpers of the command-line tool (see cli.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

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
