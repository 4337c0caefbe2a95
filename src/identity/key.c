/*
 * key.c - pseudonymisation keys, fingerprints and pseudonyms (see
 * promise/identity.h and docs/identity.md). The only libsodium user.
 *
 * Key file: one line "promise-key v1 <64 lowercase hex digits>\n", mode
 * 0600. Derivations (all HMAC-SHA-256 under the 32-byte key):
 *   fingerprint = hex(HMAC(key, "promise-key-fingerprint-v1"))
 *   tag         = first 6 chars of base32(HMAC(key, "promise-key-fingerprint-v1"))
 *   pseudonym   = tag "-" base32(first 16 bytes of HMAC(key, "promise-pnr-v1:" canon12))
 * base32 is RFC 4648 in lower case without padding. Changing any label
 * changes every pseudonym: they are part of the on-disk contract.
 */
#include "promise/identity.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"

#define KEY_MAGIC "promise-key v1 "
#define KEY_MAGIC_LEN (sizeof KEY_MAGIC - 1)
#define KEY_LINE_LEN (KEY_MAGIC_LEN + 2 * PM_KEY_BYTES + 1) /* with the '\n' */
#define FPR_LABEL "promise-key-fingerprint-v1"
#define PNR_LABEL "promise-pnr-v1:"
#define PSEUDO_HASH_BYTES 16
#define PSEUDO_B32_LEN 26 /* ceil(128 / 5) */

struct pm_key {
    uint8_t k[PM_KEY_BYTES];
};

static const char b32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

/* Lowercase RFC 4648 base32 without padding; out must hold
 * ceil(n * 8 / 5) + 1 bytes. */
static void base32(const uint8_t *in, size_t n, char *out)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32_alphabet[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = b32_alphabet[(acc << (5 - bits)) & 31];
    out[o] = '\0';
}

static int b32_value(char c)
{
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

static int sodium_ready(pm_ctx_t *ctx)
{
    /* Thread-safe and idempotent: 0 on the first call, 1 afterwards. */
    if (sodium_init() < 0)
        return pm_err(ctx, PM_EINTERNAL, "cannot initialise libsodium");
    return 0;
}

void pm_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t msglen,
                    uint8_t out[32])
{
    crypto_auth_hmacsha256_state st;
    int ready = sodium_init(); /* HMAC needs no initialised state; this is for form */
    (void)ready;
    crypto_auth_hmacsha256_init(&st, key, keylen);
    crypto_auth_hmacsha256_update(&st, msg, msglen);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

static void fingerprint_bytes(const pm_key_t *key, uint8_t out[32])
{
    pm_hmac_sha256(key->k, sizeof key->k, (const uint8_t *)FPR_LABEL, sizeof FPR_LABEL - 1, out);
}

void pm_key_fingerprint(const pm_key_t *key, char *buf)
{
    uint8_t h[32];
    fingerprint_bytes(key, h);
    sodium_bin2hex(buf, PM_FINGERPRINT_HEX + 1, h, sizeof h);
}

void pm_key_tag(const pm_key_t *key, char *buf)
{
    uint8_t h[32];
    char b[53];
    fingerprint_bytes(key, h);
    base32(h, sizeof h, b);
    memcpy(buf, b, PM_KEY_TAG_LEN);
    buf[PM_KEY_TAG_LEN] = '\0';
}

void pm_pseudonym(const pm_key_t *key, const pm_pnr_t *pnr, char *buf)
{
    uint8_t msg[sizeof PNR_LABEL - 1 + 12], h[32];
    memcpy(msg, PNR_LABEL, sizeof PNR_LABEL - 1);
    memcpy(msg + sizeof PNR_LABEL - 1, pnr->canon, 12);
    pm_hmac_sha256(key->k, sizeof key->k, msg, sizeof msg, h);
    pm_key_tag(key, buf);
    buf[PM_KEY_TAG_LEN] = '-';
    base32(h, PSEUDO_HASH_BYTES, buf + PM_KEY_TAG_LEN + 1);
    sodium_memzero(msg, sizeof msg);
}

int pm_pseudonym_parse(const char *s, char *tag)
{
    if (!s)
        return PM_EINPUT;
    size_t n = strnlen(s, PM_PSEUDONYM_MAX);
    if (n != PM_KEY_TAG_LEN + 1 + PSEUDO_B32_LEN || s[PM_KEY_TAG_LEN] != '-')
        return PM_EINPUT;
    for (size_t i = 0; i < n; i++)
        if (i != PM_KEY_TAG_LEN && b32_value(s[i]) < 0)
            return PM_EINPUT;
    /* 26 chars carry 130 bits for 128: the last two must be zero. */
    if (b32_value(s[n - 1]) & 3)
        return PM_EINPUT;
    if (tag) {
        memcpy(tag, s, PM_KEY_TAG_LEN);
        tag[PM_KEY_TAG_LEN] = '\0';
    }
    return 0;
}

/* ---- key files ---- */

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Creates path with mode 0600 and writes line to it, fsync'd; O_EXCL. */
static int write_new_file(const char *path, const char *line, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    if (fchmod(fd, 0600) < 0 || write_all(fd, line, len) < 0 || fsync(fd) < 0) {
        int e = errno;
        close(fd);
        unlink(path);
        errno = e;
        return -1;
    }
    if (close(fd) < 0) {
        int e = errno;
        unlink(path);
        errno = e;
        return -1;
    }
    return 0;
}

/*
 * Crash safety without overwriting: the key is written and fsync'd under
 * a temporary name, then hard-linked to the final name (link() fails if
 * the name exists, atomically), then the temporary name is removed and
 * the directory fsync'd. A reader sees no key file or a complete one. On
 * file systems without hard links the key is written with O_EXCL directly.
 */
int pm_key_generate(pm_ctx_t *ctx, const char *path)
{
    int rc = sodium_ready(ctx);
    if (rc < 0)
        return rc;
    struct stat st;
    if (lstat(path, &st) == 0)
        return pm_err(ctx, PM_EEXIST, "'%s' already exists; a key is never overwritten", path);
    if (errno != ENOENT)
        return pm_err(ctx, PM_EIO, "cannot create key file '%s': %s", path, strerror(errno));

    uint8_t k[PM_KEY_BYTES];
    char line[KEY_LINE_LEN + 1];
    randombytes_buf(k, sizeof k);
    memcpy(line, KEY_MAGIC, KEY_MAGIC_LEN);
    sodium_bin2hex(line + KEY_MAGIC_LEN, 2 * PM_KEY_BYTES + 1, k, sizeof k);
    line[KEY_LINE_LEN - 1] = '\n';
    line[KEY_LINE_LEN] = '\0';

    size_t tlen = strlen(path) + 32;
    char *tmp = malloc(tlen);
    if (!tmp) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out_wipe;
    }
    int made = -1;
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(tmp, tlen, "%s.tmp-%ld-%d", path, (long)getpid(), attempt);
        made = write_new_file(tmp, line, KEY_LINE_LEN);
        if (made == 0 || errno != EEXIST)
            break;
    }
    if (made < 0) {
        rc = pm_err(ctx, errno == EACCES ? PM_EACCES : PM_EIO, "cannot create key file '%s': %s",
                    path, strerror(errno));
        goto out_free_tmp;
    }
    if (link(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        if (e == EEXIST) {
            rc = pm_err(ctx, PM_EEXIST, "'%s' already exists; a key is never overwritten", path);
            goto out_free_tmp;
        }
        if (e != EPERM && e != ENOTSUP && e != EOPNOTSUPP && e != ENOSYS && e != EMLINK) {
            rc = pm_err(ctx, PM_EIO, "cannot create key file '%s': %s", path, strerror(e));
            goto out_free_tmp;
        }
        if (write_new_file(path, line, KEY_LINE_LEN) < 0) {
            rc = pm_err(ctx, errno == EEXIST ? PM_EEXIST : PM_EIO,
                        "cannot create key file '%s': %s", path, strerror(errno));
            goto out_free_tmp;
        }
    } else {
        unlink(tmp);
    }
    rc = pm_fsync_parent(ctx, path);

out_free_tmp:
    free(tmp);
out_wipe:
    sodium_memzero(k, sizeof k);
    sodium_memzero(line, sizeof line);
    return rc;
}

static int parse_hex_lower(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < 2 * n; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return -1;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return 0;
}

int pm_key_load(pm_ctx_t *ctx, const char *path, pm_key_t **out)
{
    *out = NULL;
    int rc = sodium_ready(ctx);
    if (rc < 0)
        return rc;
    /* O_NONBLOCK: a FIFO must not hang us before the S_ISREG check */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return pm_err(ctx,
                      errno == ENOENT  ? PM_ENOTFOUND
                      : errno == EACCES ? PM_EACCES
                                        : PM_EIO,
                      "cannot open key file '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        rc = pm_err(ctx, PM_EIO, "cannot stat key file '%s': %s", path, strerror(errno));
        goto out_close;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = pm_err(ctx, PM_EINPUT, "key file '%s' is not a regular file", path);
        goto out_close;
    }
    if (st.st_mode & 077) {
        rc = pm_err(ctx, PM_EACCES,
                    "key file '%s' is open to group or others (mode %04o); "
                    "refusing to use it: 'chmod 600' it if it has not leaked, else make a new key",
                    path, (unsigned)(st.st_mode & 07777));
        goto out_close;
    }

    char buf[KEY_LINE_LEN + 2];
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, sizeof buf - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = pm_err(ctx, PM_EIO, "cannot read key file '%s': %s", path, strerror(errno));
            goto out_wipe;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == sizeof buf)
            break;
    }
    pm_key_t *key = malloc(sizeof *key);
    if (!key) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out_wipe;
    }
    /* Exactly the magic, 64 lowercase hex digits and an optional '\n'. */
    if ((len != KEY_LINE_LEN && len != KEY_LINE_LEN - 1) ||
        memcmp(buf, KEY_MAGIC, KEY_MAGIC_LEN) != 0 ||
        parse_hex_lower(buf + KEY_MAGIC_LEN, key->k, PM_KEY_BYTES) < 0 ||
        (len == KEY_LINE_LEN && buf[KEY_LINE_LEN - 1] != '\n')) {
        pm_key_free(key);
        rc = pm_err(ctx, PM_EINPUT,
                    "'%s' is not a promise key file (expected one line "
                    "'promise-key v1 <64 hex digits>')",
                    path);
        goto out_wipe;
    }
    *out = key;
    rc = 0;
out_wipe:
    sodium_memzero(buf, sizeof buf);
out_close:
    close(fd);
    return rc;
}

void pm_key_free(pm_key_t *key)
{
    if (!key)
        return;
    sodium_memzero(key, sizeof *key);
    free(key);
}
