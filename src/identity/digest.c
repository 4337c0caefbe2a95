/*
 * digest.c - SHA-256 of a file with libsodium's streaming API (see
 * digest.h).
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "identity/digest.h"

int pm_sha256_file(pm_ctx_t *ctx, const char *path, char hex[PM_SHA256_HEX + 1])
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return pm_err(ctx, PM_EIO, "cannot read '%s': %s", path, strerror(errno));
    crypto_hash_sha256_state hs;
    crypto_hash_sha256_init(&hs);
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
        crypto_hash_sha256_update(&hs, buf, n);
    int bad = ferror(fp);
    int err = errno;
    fclose(fp);
    if (bad)
        return pm_err(ctx, PM_EIO, "cannot read '%s': %s", path, strerror(err));
    unsigned char md[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&hs, md);
    sodium_bin2hex(hex, PM_SHA256_HEX + 1, md, sizeof md);
    return 0;
}
