/*
 * check.h - a tiny assertion kit for the unit test programs. Each failed
 * CHECK prints file:line and the expression and counts a failure; a test
 * program ends with `return check_summary("name");`, which prints
 * "name: N passed, M failed" and returns non-zero when anything failed.
 */
#ifndef PM_TEST_CHECK_H
#define PM_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_pass_, check_fail_;

#define CHECK(expr)                                                            \
    do {                                                                       \
        if (expr) {                                                            \
            check_pass_++;                                                     \
        } else {                                                               \
            check_fail_++;                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr); \
        }                                                                      \
    } while (0)

#define CHECK_MSG(expr, ...)                                                   \
    do {                                                                       \
        if (expr) {                                                            \
            check_pass_++;                                                     \
        } else {                                                               \
            check_fail_++;                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #expr); \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *a_ = (a), *b_ = (b);                                       \
        if (a_ && b_ && strcmp(a_, b_) == 0) {                                 \
            check_pass_++;                                                     \
        } else {                                                               \
            check_fail_++;                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" vs \"%s\")\n", __FILE__, \
                    __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
        }                                                                      \
    } while (0)

static inline int check_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_pass_, check_fail_);
    return check_fail_ ? 1 : 0;
}

#endif
