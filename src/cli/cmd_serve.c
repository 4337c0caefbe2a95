/* cmd_serve.c - promise serve STORE [--listen ADDR:PORT] [--threads N] ... */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "promise/policy.h"
#include "promise/server.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int parse_count(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 't'},
        {"max-connections", required_argument, NULL, 'c'},
        {"max-body", required_argument, NULL, 'b'},
        {"rate-limit", required_argument, NULL, 'r'},
        {"anonymous-tier", required_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    pm_server_opts_t o = {0};
    long v;
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "l:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'l': o.listen = optarg; break;
        case 't':
            if (parse_count(optarg, 1, 64, &v) < 0)
                return pm_cli_usage("serve", "--threads takes 1 to 64, not '%s'", optarg);
            o.threads = (int)v;
            break;
        case 'c':
            if (parse_count(optarg, 1, 100000, &v) < 0)
                return pm_cli_usage("serve", "--max-connections takes 1 to 100000, not '%s'", optarg);
            o.max_connections = (int)v;
            break;
        case 'b':
            if (parse_count(optarg, 1, 64L << 20, &v) < 0)
                return pm_cli_usage("serve", "--max-body takes 1 to 67108864 bytes, not '%s'", optarg);
            o.max_body = (size_t)v;
            break;
        case 'r':
            if (parse_count(optarg, 1, 10000000, &v) < 0)
                return pm_cli_usage("serve", "--rate-limit takes a positive count, not '%s'", optarg);
            o.rate_limit = (int)v;
            break;
        case 'a': {
            int t = pm_tier_parse(optarg);
            if (t != PM_TIER_PUBLIC && t != PM_TIER_REGISTERED)
                return pm_cli_usage("serve", "--anonymous-tier is public or registered, not '%s'",
                                    optarg);
            o.anonymous_tier = t;
            break;
        }
        default:
            if (optopt)
                return pm_cli_usage("serve", "option '-%c' needs a value or is unknown", optopt);
            return pm_cli_usage("serve", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return pm_cli_usage("serve", "missing STORE");
    if (optind + 1 < argc)
        return pm_cli_usage("serve", "unexpected argument '%s'", argv[optind + 1]);

    /* Block the signals first so that the server's threads inherit the
     * mask, then wait for them here. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    signal(SIGPIPE, SIG_IGN);

    pm_ctx_t *ctx = pm_cli_ctx("serve");
    pm_server_t *srv;
    int rc = pm_server_open(ctx, argv[optind], &o, &srv);
    if (rc < 0) {
        int status = pm_cli_fail("serve", ctx, rc);
        pm_ctx_free(ctx);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return status;
    }
    const char *listen = o.listen ? o.listen : "127.0.0.1:8080";
    const char *colon = strrchr(listen, ':');
    fprintf(stderr, "promise serve: listening on http://%.*s:%d\n", (int)(colon - listen), listen,
            pm_server_port(srv));
    int sig = 0;
    (void)stop_requested;
    (void)on_signal;
    sigwait(&set, &sig);
    fprintf(stderr, "promise serve: %s, stopping\n", sig == SIGINT ? "interrupted" : "terminated");
    pm_server_close(srv);
    pm_ctx_free(ctx);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return PM_EXIT_OK;
}

const pm_cli_cmd_t pm_cmd_serve = {
    "serve",
    "HTTP API and GA4GH Beacon v2",
    "usage: promise serve STORE [--listen ADDR:PORT] [options]\n"
    "\n"
    "Serves the browser UI at / (docs/ui.md), the JSON API under /api/v1\n"
    "(OpenAPI at /api/v1/openapi.json) and GA4GH Beacon v2 under\n"
    "/api/beacon/v2 until SIGINT or SIGTERM. Requests\n"
    "carry 'Authorization: Bearer TOKEN' (see promise token); without one\n"
    "they get the public tier. Every request is audited before it is answered.\n"
    "\n"
    "  --listen ADDR:PORT      IPv4 address and port (default 127.0.0.1:8080;\n"
    "                          port 0 picks a free one, printed on stderr)\n"
    "  --threads N             worker threads (default 4)\n"
    "  --max-connections N     concurrent connections (default 256)\n"
    "  --max-body BYTES        request body cap, 413 past it (default 65536)\n"
    "  --rate-limit N          requests per second per token or address (default 2000)\n"
    "  --anonymous-tier T      tier without a token: public (default) or registered\n"
    "                          (for a closed network only)\n",
    run,
};
