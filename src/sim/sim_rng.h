/*
 * sim_rng.h - the random numbers of the synthetic data set: xoshiro256**
 * seeded through splitmix64. Deterministic for a seed on every platform,
 * so the same seed gives byte-identical files. Internal to src/sim.
 */
#ifndef PM_SIM_RNG_H
#define PM_SIM_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct rng {
    uint64_t s[4];
} rng_t;

static inline uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline void rng_seed(rng_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform in [0, 1). */
static inline double rng_unif(rng_t *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

/* Uniform integer in [0, n) (modulo: the files depend on this exact draw). */
static inline uint64_t rng_below(rng_t *r, uint64_t n) { return n ? rng_next(r) % n : 0; }

static inline int rng_chance(rng_t *r, double p) { return rng_unif(r) < p; }

/* Standard normal (Box-Muller, one value per two draws). */
static inline double rng_normal(rng_t *r)
{
    double u = rng_unif(r), v = rng_unif(r);
    return sqrt(-2 * log(1 - u)) * cos(2 * M_PI * v);
}

#endif
