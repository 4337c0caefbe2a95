/* cmd_pseudonymize.c - promise pseudonymize --key KEYFILE IN.tsv [-o OUT] */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "promise/identity.h"

#define CMD "pseudonymize"

/* Writes the table to OUT through "OUT.tmp-PID" and a rename, so that a
 * failure leaves an existing OUT untouched and never a partial one. */
static int to_file(pm_ctx_t *ctx, const pm_key_t *key, const char *in, const char *out)
{
    size_t n = strlen(out) + 32;
    char *tmp = malloc(n);
    if (!tmp)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    snprintf(tmp, n, "%s.tmp-%ld", out, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!fp) {
        int rc = pm_err(ctx, PM_EIO, "cannot create '%s': %s", out, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        return rc;
    }
    int rc = pm_pseudonymize_table(ctx, key, in, fp);
    if (rc >= 0 && (fflush(fp) != 0 || fsync(fileno(fp)) != 0))
        rc = pm_err(ctx, PM_EIO, "cannot write '%s': %s", out, strerror(errno));
    if (fclose(fp) != 0 && rc >= 0)
        rc = pm_err(ctx, PM_EIO, "cannot write '%s': %s", out, strerror(errno));
    if (rc >= 0 && rename(tmp, out) < 0)
        rc = pm_err(ctx, PM_EIO, "cannot rename to '%s': %s", out, strerror(errno));
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'},
        {"output", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    const char *keyfile = NULL, *outfile = NULL;
    optind = 0; /* full re-initialisation of GNU getopt; argv[0] is the command */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":k:o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'k':
            keyfile = optarg;
            break;
        case 'o':
            outfile = optarg;
            break;
        case ':':
            return pm_cli_usage(CMD, "option '%s' needs an argument", argv[optind - 1]);
        default:
            return pm_cli_usage(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!keyfile)
        return pm_cli_usage(CMD, "missing --key KEYFILE");
    if (argc - optind != 1)
        return pm_cli_usage(CMD, argc - optind < 1 ? "missing IN.tsv" : "too many arguments");
    const char *in = argv[optind];

    pm_ctx_t *ctx = pm_cli_ctx(CMD);
    pm_key_t *key = NULL;
    int rc = pm_key_load(ctx, keyfile, &key);
    if (rc >= 0) {
        if (outfile && strcmp(outfile, "-") != 0)
            rc = to_file(ctx, key, in, outfile);
        else
            rc = pm_pseudonymize_table(ctx, key, in, stdout);
    }
    int status = rc < 0 ? pm_cli_fail(CMD, ctx, rc) : PM_EXIT_OK;
    pm_key_free(key);
    pm_ctx_free(ctx);
    return status;
}

const pm_cli_cmd_t pm_cmd_pseudonymize = {
    CMD,
    "personnummer column -> pseudonym column",
    "usage: promise pseudonymize --key KEYFILE [-o OUT] IN.tsv\n"
    "\n"
    "Reads the tab-separated table IN.tsv (plain or gzip; '-' = stdin) and\n"
    "replaces its 'personnummer' column by a 'pseudonym' column in the same\n"
    "position; every other column is copied unchanged. Writes to stdout, or\n"
    "to OUT with -o (atomically: an existing OUT is replaced only on success).\n"
    "\n"
    "  -k, --key KEYFILE   key made by 'promise keygen' (must be mode 0600)\n"
    "  -o, --output OUT    write here instead of stdout\n"
    "\n"
    "Accepted numbers: personnummer and samordningsnummer (day + 60) as\n"
    "YYYYMMDDNNNC, YYYYMMDD-NNNC, YYMMDD-NNNC, YYMMDD+NNNC or YYMMDDNNNC, with\n"
    "ASCII digits only. '+' marks someone who turns 100 this year or is\n"
    "older; 10-digit numbers are read relative to today, so prefer 12 digits.\n"
    "Checked: the birth date (leap years included), the Luhn check digit,\n"
    "birth number 000 and reserve numbers with letters (both refused).\n"
    "\n"
    "A pseudonym looks like 'abcdef-<26 base32 chars>': the key's tag, then\n"
    "128 bits of HMAC-SHA-256 over the 12-digit number. The same person gets\n"
    "the same pseudonym under the same key, whatever the spelling.\n"
    "\n"
    "Safety: the whole input is checked before anything is written, so a bad\n"
    "row produces no output at all. Errors name the file, line and column\n"
    "but never the number itself. Run this where the key is held; the output\n"
    "contains no personnummer and can go to the store.\n"
    "\n"
    "Exit status: 0 done, 1 usage error, 2 bad input or missing key file,\n"
    "3 the key file is open to group or others.\n",
    run,
};
