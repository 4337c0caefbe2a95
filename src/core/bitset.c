/* bitset.c - sets of individuals (see promise/bitset.h). */
#include "promise/bitset.h"

#include <stdlib.h>
#include <string.h>

static size_t nwords(size_t n) { return (n + 63) / 64; }

pm_bitset_t *pm_bitset_new(size_t n)
{
    pm_bitset_t *b = malloc(sizeof *b);
    if (!b)
        return NULL;
    b->n = n;
    b->w = calloc(nwords(n) ? nwords(n) : 1, sizeof *b->w);
    if (!b->w) {
        free(b);
        return NULL;
    }
    return b;
}

pm_bitset_t *pm_bitset_dup(const pm_bitset_t *src)
{
    pm_bitset_t *b = pm_bitset_new(src->n);
    if (b)
        memcpy(b->w, src->w, nwords(src->n) * sizeof *b->w);
    return b;
}

void pm_bitset_free(pm_bitset_t *b)
{
    if (!b)
        return;
    free(b->w);
    free(b);
}

static void trim(pm_bitset_t *b)
{
    if (b->n & 63)
        b->w[b->n >> 6] &= ((uint64_t)1 << (b->n & 63)) - 1;
}

void pm_bitset_fill(pm_bitset_t *b)
{
    memset(b->w, 0xff, nwords(b->n) * sizeof *b->w);
    trim(b);
}

void pm_bitset_zero(pm_bitset_t *b) { memset(b->w, 0, nwords(b->n) * sizeof *b->w); }

void pm_bitset_and(pm_bitset_t *dst, const pm_bitset_t *src)
{
    for (size_t i = 0, n = nwords(dst->n); i < n; i++)
        dst->w[i] &= src->w[i];
}

void pm_bitset_or(pm_bitset_t *dst, const pm_bitset_t *src)
{
    for (size_t i = 0, n = nwords(dst->n); i < n; i++)
        dst->w[i] |= src->w[i];
}

void pm_bitset_andnot(pm_bitset_t *dst, const pm_bitset_t *src)
{
    for (size_t i = 0, n = nwords(dst->n); i < n; i++)
        dst->w[i] &= ~src->w[i];
}

void pm_bitset_not(pm_bitset_t *b)
{
    for (size_t i = 0, n = nwords(b->n); i < n; i++)
        b->w[i] = ~b->w[i];
    trim(b);
}

size_t pm_bitset_count(const pm_bitset_t *b)
{
    size_t c = 0;
    for (size_t i = 0, n = nwords(b->n); i < n; i++)
        c += (size_t)__builtin_popcountll(b->w[i]);
    return c;
}

size_t pm_bitset_next(const pm_bitset_t *b, size_t i)
{
    if (i >= b->n)
        return (size_t)-1;
    size_t wi = i >> 6;
    uint64_t w = b->w[wi] & (~(uint64_t)0 << (i & 63));
    for (;;) {
        if (w) {
            size_t r = (wi << 6) + (size_t)__builtin_ctzll(w);
            return r < b->n ? r : (size_t)-1;
        }
        if (++wi >= nwords(b->n))
            return (size_t)-1;
        w = b->w[wi];
    }
}
