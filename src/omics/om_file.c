/* om_file.c - the omics batch file: writing and checked block reads (see om_int.h). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/fileio.h"
#include "omics/om_int.h"

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t crc(const uint8_t *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (n) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)c;
}

uint64_t pm_om_block_bytes(uint32_t n_samples)
{
    uint64_t body = 4 + 5 * (uint64_t)n_samples;
    return (body + 3) / 4 * 4 + 4;
}

struct pm_om_writer {
    pm_ctx_t *ctx;
    pm_afile_t *f;
    uint32_t ns, nf, done;
    uint8_t *buf;
    size_t bytes;
};

int pm_om_writer_open(pm_ctx_t *ctx, const char *path, int64_t batch, uint32_t n_samples,
                      uint32_t n_features, pm_om_writer_t **out)
{
    *out = NULL;
    pm_om_writer_t *w = calloc(1, sizeof *w);
    if (!w)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    w->ctx = ctx;
    w->ns = n_samples;
    w->nf = n_features;
    w->bytes = (size_t)pm_om_block_bytes(n_samples);
    w->buf = calloc(1, w->bytes < PM_OM_HEADER ? PM_OM_HEADER : w->bytes);
    if (!w->buf) {
        free(w);
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    }
    int rc = pm_afile_open(ctx, path, 0640, &w->f);
    if (rc < 0) {
        free(w->buf);
        free(w);
        return rc;
    }
    uint8_t *h = w->buf;
    memset(h, 0, PM_OM_HEADER);
    memcpy(h, PM_OM_MAGIC, 8);
    put_u32(h + 8, PM_OM_VERSION);
    put_u32(h + 12, n_samples);
    put_u32(h + 16, n_features);
    put_u32(h + 20, (uint32_t)w->bytes);
    put_u32(h + 24, (uint32_t)((uint64_t)batch & 0xffffffffu));
    put_u32(h + 28, (uint32_t)((uint64_t)batch >> 32));
    put_u32(h + 60, crc(h, 60));
    if ((rc = pm_afile_write(w->f, h, PM_OM_HEADER)) < 0) {
        pm_om_writer_abort(w);
        return rc;
    }
    *out = w;
    return 0;
}

int pm_om_writer_block(pm_om_writer_t *w, const float *val, const uint8_t *flags)
{
    if (w->done >= w->nf)
        return pm_err(w->ctx, PM_EINTERNAL, "omics file: more blocks than announced");
    uint8_t *b = w->buf;
    memset(b, 0, w->bytes);
    put_u32(b, w->done);
    for (uint32_t i = 0; i < w->ns; i++) {
        uint32_t bits;
        memcpy(&bits, &val[i], 4);
        put_u32(b + 4 + 4 * (size_t)i, bits);
    }
    memcpy(b + 4 + 4 * (size_t)w->ns, flags, w->ns);
    put_u32(b + w->bytes - 4, crc(b, w->bytes - 4));
    w->done++;
    return pm_afile_write(w->f, b, w->bytes);
}

int pm_om_writer_commit(pm_om_writer_t *w, uint64_t *bytes)
{
    int rc;
    if (w->done != w->nf) {
        rc = pm_err(w->ctx, PM_EINTERNAL, "omics file: %u of %u blocks written", w->done, w->nf);
        pm_om_writer_abort(w);
        return rc;
    }
    if (bytes)
        *bytes = pm_afile_size(w->f);
    rc = pm_afile_commit(w->f);
    free(w->buf);
    free(w);
    return rc;
}

void pm_om_writer_abort(pm_om_writer_t *w)
{
    if (!w)
        return;
    pm_afile_abort(w->f);
    free(w->buf);
    free(w);
}

static int read_at(int fd, uint8_t *p, size_t n, off_t off)
{
    while (n) {
        ssize_t r = pread(fd, p, n, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -1 : -2;
        p += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

int pm_om_read_block(pm_ctx_t *ctx, const char *path, uint32_t n_samples, uint32_t n_features,
                     uint32_t block, float *val, uint8_t *flags)
{
    if (block >= n_features)
        return pm_err(ctx, PM_ECORRUPT, "omics file '%s': block %u of %u", path, block,
                      n_features);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pm_err(ctx, errno == ENOENT ? PM_ECORRUPT : PM_EIO,
                      "cannot open omics file '%s': %s", path, strerror(errno));
    uint64_t bb = pm_om_block_bytes(n_samples);
    uint8_t h[PM_OM_HEADER];
    uint8_t *b = NULL;
    int rc = 0, r = read_at(fd, h, sizeof h, 0);
    if (r == -1) {
        rc = pm_err(ctx, PM_EIO, "cannot read omics file '%s': %s", path, strerror(errno));
        goto out;
    }
    if (r == -2 || memcmp(h, PM_OM_MAGIC, 8) != 0 || get_u32(h + 60) != crc(h, 60)) {
        rc = pm_err(ctx, PM_ECORRUPT, "omics file '%s': bad header", path);
        goto out;
    }
    if (get_u32(h + 8) != PM_OM_VERSION || get_u32(h + 12) != n_samples ||
        get_u32(h + 16) != n_features || get_u32(h + 20) != bb) {
        rc = pm_err(ctx, PM_ECORRUPT,
                    "omics file '%s': holds %u x %u values, the catalog says %u x %u", path,
                    get_u32(h + 16), get_u32(h + 12), n_features, n_samples);
        goto out;
    }
    if (!(b = malloc(bb))) {
        rc = pm_err(ctx, PM_ENOMEM, "out of memory");
        goto out;
    }
    r = read_at(fd, b, bb, (off_t)(PM_OM_HEADER + (uint64_t)block * bb));
    if (r == -1) {
        rc = pm_err(ctx, PM_EIO, "cannot read omics file '%s': %s", path, strerror(errno));
        goto out;
    }
    if (r == -2 || get_u32(b) != block || get_u32(b + bb - 4) != crc(b, bb - 4)) {
        rc = pm_err(ctx, PM_ECORRUPT, "omics file '%s': block %u is damaged (%s)", path, block,
                    r == -2 ? "file too short" : "checksum mismatch");
        goto out;
    }
    for (uint32_t i = 0; i < n_samples; i++) {
        uint32_t bits = get_u32(b + 4 + 4 * (size_t)i);
        memcpy(&val[i], &bits, 4);
    }
    memcpy(flags, b + 4 + 4 * (size_t)n_samples, n_samples);
out:
    free(b);
    close(fd);
    return rc;
}

int64_t pm_om_days(int32_t v)
{
    int64_t y = v / 10000, m = v / 100 % 100, d = v % 100;
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}
