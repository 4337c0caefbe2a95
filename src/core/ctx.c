/* ctx.c - error context and progress reporting (see promise/error.h). */
#include "promise/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PM_ERRMSG_MAX 2048

struct pm_ctx {
    int code;
    char msg[PM_ERRMSG_MAX];
    pm_progress_fn progress;
    void *progress_ud;
    int threads;
};

pm_ctx_t *pm_ctx_new(void)
{
    pm_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (ctx)
        ctx->threads = 1;
    return ctx;
}

void pm_ctx_free(pm_ctx_t *ctx) { free(ctx); }

int pm_ctx_errcode(const pm_ctx_t *ctx) { return ctx ? ctx->code : 0; }

const char *pm_ctx_errmsg(const pm_ctx_t *ctx) { return ctx ? ctx->msg : ""; }

void pm_ctx_clear(pm_ctx_t *ctx)
{
    if (!ctx)
        return;
    ctx->code = 0;
    ctx->msg[0] = '\0';
}

int pm_verr(pm_ctx_t *ctx, int code, const char *fmt, va_list ap)
{
    if (ctx) {
        ctx->code = code;
        vsnprintf(ctx->msg, sizeof ctx->msg, fmt, ap);
    }
    return code;
}

int pm_err(pm_ctx_t *ctx, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pm_verr(ctx, code, fmt, ap);
    va_end(ap);
    return code;
}

const char *pm_strerror(int code)
{
    switch (code) {
#define PM_X_(name, val, text) \
    case val:                  \
        return text;
        PM_ERRNO_MAP(PM_X_)
#undef PM_X_
    case 0:
        return "success";
    default:
        return "unknown error";
    }
}

void pm_ctx_set_progress(pm_ctx_t *ctx, pm_progress_fn fn, void *ud)
{
    if (!ctx)
        return;
    ctx->progress = fn;
    ctx->progress_ud = ud;
}

void pm_progress(pm_ctx_t *ctx, const char *what, uint64_t done, uint64_t total)
{
    if (ctx && ctx->progress)
        ctx->progress(ctx->progress_ud, what, done, total);
}

void pm_ctx_set_threads(pm_ctx_t *ctx, int n)
{
    if (ctx)
        ctx->threads = n < 1 ? 1 : n;
}

int pm_ctx_threads(const pm_ctx_t *ctx) { return ctx ? ctx->threads : 1; }
