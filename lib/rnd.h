/* rnd.h: small, reproducible pseudo-random generators for the simulator,
 * the test generators and the benchmarks (never for anything secret: keys
 * and nonces come from libsodium).
 *
 * Each takes the generator's state by pointer, advances it and returns the
 * next value. The state must not be 0 (0 maps to 0 forever); seeding is the
 * caller's. A sequence depends only on the seed, so a seed given on a command
 * line reproduces a stream exactly.
 */
#ifndef ORA_RND_H
#define ORA_RND_H

#include <stdint.h>

/* Marsaglia's xorshift64 (shifts 13, 7, 17): period 2^64 - 1. */
static inline uint64_t ora_xorshift64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* xorshift64* (shifts 12, 25, 27, then a multiply): better low bits, for
 * values taken modulo small ranges. */
static inline uint64_t ora_xorshift64s(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717ull;
}

#endif
