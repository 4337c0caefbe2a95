/* cmd_keygen.c - promise keygen KEYFILE */
#include <getopt.h>

#include "cli/cli.h"
#include "promise/identity.h"

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {{NULL, 0, NULL, 0}};
    optind = 0; /* full re-initialisation of GNU getopt; argv[0] is "keygen" */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
        return pm_cli_usage("keygen", "unknown option '%s'", argv[optind - 1]);
    if (argc - optind != 1)
        return pm_cli_usage("keygen", argc - optind < 1 ? "missing KEYFILE" : "too many arguments");
    const char *path = argv[optind];

    pm_ctx_t *ctx = pm_cli_ctx("keygen");
    pm_key_t *key = NULL;
    int rc = pm_key_generate(ctx, path);
    if (rc >= 0)
        rc = pm_key_load(ctx, path, &key); /* reads back what was written */
    int status = PM_EXIT_OK;
    if (rc < 0) {
        status = pm_cli_fail("keygen", ctx, rc);
    } else {
        char fpr[PM_FINGERPRINT_HEX + 1], tag[PM_KEY_TAG_LEN + 1];
        pm_key_fingerprint(key, fpr);
        pm_key_tag(key, tag);
        printf("key written to '%s' (mode 0600)\nfingerprint %s\ntag %s\n", path, fpr, tag);
    }
    pm_key_free(key);
    pm_ctx_free(ctx);
    return status;
}

const pm_cli_cmd_t pm_cmd_keygen = {
    "keygen",
    "create a pseudonymisation key",
    "usage: promise keygen KEYFILE\n"
    "\n"
    "Creates a new pseudonymisation key: 32 random bytes (libsodium), written\n"
    "to KEYFILE as the single line\n"
    "\n"
    "    promise-key v1 <64 hex digits>\n"
    "\n"
    "with mode 0600 (whatever the umask). KEYFILE must not exist: a key is\n"
    "never overwritten, because every pseudonym made with it would be lost.\n"
    "The file appears atomically: after a crash there is no key or a complete\n"
    "one. Prints the key's fingerprint and tag (safe to share: they reveal\n"
    "nothing about the key); a store records the fingerprint and every\n"
    "pseudonym made with the key starts with the tag.\n"
    "\n"
    "Keep the key with the key holder, away from the store and its backups:\n"
    "whoever has the key can turn a personnummer into its pseudonym. Loss of\n"
    "the key means new data can no longer be linked to old data.\n"
    "\n"
    "Exit status: 0 done, 1 usage error, 2 KEYFILE exists or cannot be\n"
    "written.\n",
    run,
};
