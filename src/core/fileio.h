/*
 * fileio.h - crash-safe file writing. Internal to libpromise.
 *
 * Every store write follows one protocol: write a temporary file in the
 * target's directory, fsync it, rename it over the target, fsync the
 * directory. A reader therefore sees the old file or the new one, never a
 * mix, and after the call returns the new one survives power loss.
 *
 * pm_afile_* streams large files with the same protocol: open, write any
 * number of times, then commit (or abort, which removes the temporary).
 */
#ifndef PM_CORE_FILEIO_H
#define PM_CORE_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "promise/error.h"

typedef struct pm_afile pm_afile_t;

/* Opens a temporary file beside final_path; free with commit or abort. */
int pm_afile_open(pm_ctx_t *ctx, const char *final_path, mode_t mode, pm_afile_t **out);
int pm_afile_write(pm_afile_t *f, const void *data, size_t len);
/* Bytes written so far. */
uint64_t pm_afile_size(const pm_afile_t *f);
/* fsync, rename to the final path, fsync the directory; frees f. */
int pm_afile_commit(pm_afile_t *f);
/* Removes the temporary file and frees f; NULL is a no-op. */
void pm_afile_abort(pm_afile_t *f);

/* Whole-buffer version of the above. */
int pm_write_atomic(pm_ctx_t *ctx, const char *path, const void *data, size_t len, mode_t mode);
/* fsync a directory so that renames and creations in it are durable. */
int pm_fsync_dir(pm_ctx_t *ctx, const char *dir);
/* fsync the directory that contains path. */
int pm_fsync_parent(pm_ctx_t *ctx, const char *path);
/* Reads a whole file into a malloc'd buffer (NUL-terminated; *len excludes
 * the NUL). Files larger than max fail with PM_ELIMIT. */
int pm_read_file(pm_ctx_t *ctx, const char *path, size_t max, char **data, size_t *len);
/* mkdir -p with mode 0755; existing directories are fine. */
int pm_mkdir_p(pm_ctx_t *ctx, const char *path);

/* Snprintf that reports truncation as PM_ELIMIT. */
int pm_path(pm_ctx_t *ctx, char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
