/*
 * digest.h - file digests for provenance (the ingest table's sha256
 * column). Internal to libpromise; libsodium stays inside src/identity.
 */
#ifndef PM_IDENTITY_DIGEST_H
#define PM_IDENTITY_DIGEST_H

#include "promise/error.h"

#define PM_SHA256_HEX 64

/* SHA-256 of the bytes of the file at path, as 64 lowercase hex digits
 * plus NUL into hex. Streams the file in 64 KiB reads. Returns 0, or
 * PM_EIO with "cannot read 'PATH': REASON" on ctx (ctx may be NULL). */
int pm_sha256_file(pm_ctx_t *ctx, const char *path, char hex[PM_SHA256_HEX + 1]);

#endif
