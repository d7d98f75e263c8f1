/* backoff.h: exponential backoff with full jitter (doc/design.md §2, issue 5).
 *
 * Attempt n (0-based, counting failures since the last reset) waits a
 * uniformly random time in [0, ceil_n], where ceil_n = min(max, min * 2^n).
 * The randomness is passed in by the caller so tests are deterministic.
 * Pure arithmetic: no I/O, no clock, no allocation.
 */
#ifndef ORA_BACKOFF_H
#define ORA_BACKOFF_H

#include <stdint.h>

typedef struct ora_backoff {
    double min;        /* first ceiling, seconds (> 0) */
    double max;        /* largest ceiling, seconds (>= min) */
    uint32_t attempts; /* failures since the last reset */
} ora_backoff;

/* Sets the bounds and resets. Returns 0, or -1 when min <= 0, max < min or
 * either is not finite (b is then left unchanged). */
int ora_backoff_init(ora_backoff *b, double min, double max);

/* The ceiling of the next delay: min(max, min * 2^attempts). */
double ora_backoff_ceiling(const ora_backoff *b);

/* Delay before the next attempt, in seconds, in [0, ceiling]: ceiling *
 * rnd / 2^32 (full jitter; rnd is a uniform 32-bit random number). Counts
 * one more attempt (the count saturates; the ceiling stays at max). */
double ora_backoff_next(ora_backoff *b, uint32_t rnd);

/* Forgets the failures: the next ceiling is min again. */
void ora_backoff_reset(ora_backoff *b);

#endif
