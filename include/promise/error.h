/*
 * promise/error.h - the one error contract of libpromise.
 *
 * Every fallible function returns an int >= 0 on success or a negative
 * PM_E* code, or NULL for pointer-returning functions. The detailed,
 * human-readable message is kept on the context (pm_ctx_t) that the
 * caller passed in or that the handle was opened with; read it with
 * pm_ctx_errmsg(). The library never prints and never exits: the CLI and
 * the server decide what to show and which exit status to use.
 *
 * A context is not thread-safe: use one per thread.
 */
#ifndef PROMISE_ERROR_H
#define PROMISE_ERROR_H

#include <stdarg.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Codes and their short texts live in one X-macro table. */
#define PM_ERRNO_MAP(X)                                              \
    X(PM_EUSAGE, -1, "usage error")                                  \
    X(PM_EINPUT, -2, "bad input")                                    \
    X(PM_EACCES, -3, "access refused")                               \
    X(PM_EIO, -4, "input/output error")                              \
    X(PM_ENOMEM, -5, "out of memory")                                \
    X(PM_ECORRUPT, -6, "store is corrupt")                           \
    X(PM_EEXIST, -7, "already exists")                               \
    X(PM_ENOTFOUND, -8, "not found")                                 \
    X(PM_ELIMIT, -9, "limit exceeded")                               \
    X(PM_EINTERNAL, -10, "internal error")

enum {
#define PM_X_(name, val, text) name = (val),
    PM_ERRNO_MAP(PM_X_)
#undef PM_X_
};

typedef struct pm_ctx pm_ctx_t;

/* Progress callback: `what` names the work, `done` of `total` units
 * (total may be 0 when unknown). Called from the thread doing the work. */
typedef void (*pm_progress_fn)(void *ud, const char *what, uint64_t done, uint64_t total);

/* Creates a context; free with pm_ctx_free(). Returns NULL on OOM. */
pm_ctx_t *pm_ctx_new(void);
/* Frees a context; NULL is a no-op. */
void pm_ctx_free(pm_ctx_t *ctx);

/* Last error code (0 when none) and message ("" when none). The message
 * string is owned by the context and valid until the next call that
 * fails or pm_ctx_clear(). */
int pm_ctx_errcode(const pm_ctx_t *ctx);
const char *pm_ctx_errmsg(const pm_ctx_t *ctx);
void pm_ctx_clear(pm_ctx_t *ctx);

/* Records an error on ctx and returns `code`, so that callers can write
 * `return pm_err(ctx, PM_EIO, "cannot open '%s'", path);`. ctx may be NULL. */
int pm_err(pm_ctx_t *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int pm_verr(pm_ctx_t *ctx, int code, const char *fmt, va_list ap);

/* Short text for a code ("bad input"), never NULL. */
const char *pm_strerror(int code);

/* Progress reporting; the library calls pm_progress() on long work. */
void pm_ctx_set_progress(pm_ctx_t *ctx, pm_progress_fn fn, void *ud);
void pm_progress(pm_ctx_t *ctx, const char *what, uint64_t done, uint64_t total);

/* Number of worker threads the library may use (default 1). */
void pm_ctx_set_threads(pm_ctx_t *ctx, int n);
int pm_ctx_threads(const pm_ctx_t *ctx);

#ifdef __cplusplus
}
#endif
#endif
