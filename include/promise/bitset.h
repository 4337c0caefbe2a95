/*
 * promise/bitset.h - sets of individuals as bitsets.
 *
 * A cohort is a set of dense individual indices. 500,000 people are
 * 62.5 kB, so and/or/not run at memory speed. A bitset owns its words;
 * free with pm_bitset_free(). Operations on two sets require equal sizes.
 */
#ifndef PROMISE_BITSET_H
#define PROMISE_BITSET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pm_bitset {
    uint64_t *w;    /* words, (n + 63) / 64 of them; bits past n are zero */
    size_t n;       /* number of bits */
} pm_bitset_t;

/* New all-zero set of n bits; NULL on OOM. Free with pm_bitset_free(). */
pm_bitset_t *pm_bitset_new(size_t n);
pm_bitset_t *pm_bitset_dup(const pm_bitset_t *b);
void pm_bitset_free(pm_bitset_t *b);

static inline void pm_bitset_set(pm_bitset_t *b, size_t i) { b->w[i >> 6] |= (uint64_t)1 << (i & 63); }
static inline void pm_bitset_clear(pm_bitset_t *b, size_t i) { b->w[i >> 6] &= ~((uint64_t)1 << (i & 63)); }
static inline int pm_bitset_get(const pm_bitset_t *b, size_t i) { return (int)((b->w[i >> 6] >> (i & 63)) & 1); }

void pm_bitset_fill(pm_bitset_t *b);                         /* all ones */
void pm_bitset_zero(pm_bitset_t *b);
void pm_bitset_and(pm_bitset_t *dst, const pm_bitset_t *src);
void pm_bitset_or(pm_bitset_t *dst, const pm_bitset_t *src);
void pm_bitset_andnot(pm_bitset_t *dst, const pm_bitset_t *src); /* dst &= ~src */
void pm_bitset_not(pm_bitset_t *b);
size_t pm_bitset_count(const pm_bitset_t *b);
/* Next set bit at or after i, or (size_t)-1 when none. */
size_t pm_bitset_next(const pm_bitset_t *b, size_t i);

#ifdef __cplusplus
}
#endif
#endif
