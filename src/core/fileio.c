/* fileio.c - crash-safe file writing (see fileio.h). */
#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct pm_afile {
    pm_ctx_t *ctx;
    int fd;
    char *tmp;
    char *final;
    uint64_t size;
};

int pm_path(pm_ctx_t *ctx, char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap)
        return pm_err(ctx, PM_ELIMIT, "path too long");
    return 0;
}

int pm_fsync_dir(pm_ctx_t *ctx, const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return pm_err(ctx, PM_EIO, "cannot open directory '%s': %s", dir, strerror(errno));
    int rc = 0;
    if (fsync(fd) < 0 && errno != EINVAL)
        rc = pm_err(ctx, PM_EIO, "cannot fsync directory '%s': %s", dir, strerror(errno));
    close(fd);
    return rc;
}

int pm_fsync_parent(pm_ctx_t *ctx, const char *path)
{
    char dir[PATH_MAX];
    if (pm_path(ctx, dir, sizeof dir, "%s", path) < 0)
        return PM_ELIMIT;
    char *slash = strrchr(dir, '/');
    if (!slash)
        return pm_fsync_dir(ctx, ".");
    if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    return pm_fsync_dir(ctx, dir);
}

int pm_afile_open(pm_ctx_t *ctx, const char *final_path, mode_t mode, pm_afile_t **out)
{
    *out = NULL;
    pm_afile_t *f = calloc(1, sizeof *f);
    if (!f)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    f->ctx = ctx;
    f->fd = -1;
    size_t n = strlen(final_path) + 32;
    f->tmp = malloc(n);
    f->final = strdup(final_path);
    if (!f->tmp || !f->final) {
        pm_afile_abort(f);
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    }
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(f->tmp, n, "%s.tmp-%ld-%d", final_path, (long)getpid(), attempt);
        f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (f->fd >= 0 || errno != EEXIST)
            break;
    }
    if (f->fd < 0) {
        int rc = pm_err(ctx, PM_EIO, "cannot create '%s': %s", f->tmp, strerror(errno));
        free(f->tmp);
        f->tmp = NULL;
        pm_afile_abort(f);
        return rc;
    }
    *out = f;
    return 0;
}

int pm_afile_write(pm_afile_t *f, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t w = write(f->fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return pm_err(f->ctx, PM_EIO, "cannot write '%s': %s", f->final, strerror(errno));
        }
        p += w;
        len -= (size_t)w;
        f->size += (uint64_t)w;
    }
    return 0;
}

uint64_t pm_afile_size(const pm_afile_t *f) { return f->size; }

int pm_afile_commit(pm_afile_t *f)
{
    pm_ctx_t *ctx = f->ctx;
    int rc = 0;
    if (fsync(f->fd) < 0)
        rc = pm_err(ctx, PM_EIO, "cannot fsync '%s': %s", f->final, strerror(errno));
    if (close(f->fd) < 0 && rc == 0)
        rc = pm_err(ctx, PM_EIO, "cannot close '%s': %s", f->final, strerror(errno));
    f->fd = -1;
    if (rc == 0 && rename(f->tmp, f->final) < 0)
        rc = pm_err(ctx, PM_EIO, "cannot rename '%s': %s", f->final, strerror(errno));
    if (rc == 0) {
        free(f->tmp);
        f->tmp = NULL;
        rc = pm_fsync_parent(ctx, f->final);
    }
    pm_afile_abort(f);
    return rc;
}

void pm_afile_abort(pm_afile_t *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    if (f->tmp)
        unlink(f->tmp);
    free(f->tmp);
    free(f->final);
    free(f);
}

int pm_write_atomic(pm_ctx_t *ctx, const char *path, const void *data, size_t len, mode_t mode)
{
    pm_afile_t *f;
    int rc = pm_afile_open(ctx, path, mode, &f);
    if (rc < 0)
        return rc;
    rc = pm_afile_write(f, data, len);
    if (rc < 0) {
        pm_afile_abort(f);
        return rc;
    }
    return pm_afile_commit(f);
}

int pm_read_file(pm_ctx_t *ctx, const char *path, size_t max, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return pm_err(ctx, errno == ENOENT ? PM_ENOTFOUND : PM_EIO, "cannot open '%s': %s", path,
                      strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    int rc = 0;
    if (!buf) {
        fclose(fp);
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > max + 1) {
                rc = pm_err(ctx, PM_ELIMIT, "'%s' is larger than %zu bytes", path, max);
                break;
            }
            char *p = realloc(buf, cap * 2);
            if (!p) {
                rc = pm_err(ctx, PM_ENOMEM, "out of memory");
                break;
            }
            buf = p;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, fp);
        n += r;
        if (r == 0) {
            if (ferror(fp))
                rc = pm_err(ctx, PM_EIO, "cannot read '%s'", path);
            break;
        }
    }
    fclose(fp);
    if (rc == 0 && n > max)
        rc = pm_err(ctx, PM_ELIMIT, "'%s' is larger than %zu bytes", path, max);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

int pm_mkdir_p(pm_ctx_t *ctx, const char *path)
{
    char buf[PATH_MAX];
    if (pm_path(ctx, buf, sizeof buf, "%s", path) < 0)
        return PM_ELIMIT;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return pm_err(ctx, PM_EIO, "cannot create directory '%s': %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        return pm_err(ctx, PM_EIO, "cannot create directory '%s': %s", buf, strerror(errno));
    return 0;
}
