/* backoff_test: exponential backoff with full jitter (lib/backoff.h). */
#include "backoff.h"

#include <math.h>
#include <stdio.h>
#include <stdint.h>

#include "unit.h"
#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

int main(void)
{
    ora_backoff b;

    /* Bounds are validated. */
    CHECK(ora_backoff_init(&b, 0, 1) == -1);
    CHECK(ora_backoff_init(&b, -1, 1) == -1);
    CHECK(ora_backoff_init(&b, 2, 1) == -1);
    CHECK(ora_backoff_init(&b, NAN, 1) == -1);
    CHECK(ora_backoff_init(&b, 1, INFINITY) == -1);
    CHECK(ora_backoff_init(&b, 0.5, 0.5) == 0);
    CHECK(NEAR(ora_backoff_ceiling(&b), 0.5));

    /* Ceilings double from min and stop at max. */
    CHECK(ora_backoff_init(&b, 0.25, 3) == 0);
    double want[] = {0.25, 0.5, 1, 2, 3, 3, 3};
    for (unsigned i = 0; i < sizeof want / sizeof *want; i++) {
        CHECK(NEAR(ora_backoff_ceiling(&b), want[i]));
        /* The largest random number gives (almost) the ceiling, 0 gives 0. */
        ora_backoff probe = b;
        CHECK(ora_backoff_next(&probe, 0) == 0);
        probe = b;
        double d = ora_backoff_next(&probe, UINT32_MAX);
        CHECK(d <= want[i] && d > want[i] * 0.999999);
        probe = b;
        CHECK(NEAR(ora_backoff_next(&probe, 1u << 31), want[i] / 2));
        ora_backoff_next(&b, 12345);
    }
    CHECK(b.attempts == 7);

    /* Reset starts over. */
    ora_backoff_reset(&b);
    CHECK(b.attempts == 0);
    CHECK(NEAR(ora_backoff_ceiling(&b), 0.25));

    /* A huge number of failures neither overflows nor exceeds max. */
    b.attempts = UINT32_MAX - 1;
    CHECK(NEAR(ora_backoff_ceiling(&b), 3));
    ora_backoff_next(&b, 7);
    ora_backoff_next(&b, 7);
    CHECK(b.attempts == UINT32_MAX);
    CHECK(ora_backoff_next(&b, UINT32_MAX) <= 3);

    /* Full jitter: the mean of uniform draws is about half the ceiling. */
    ora_backoff_init(&b, 1, 1);
    double sum = 0;
    uint32_t x = 2463534242u;
    for (int i = 0; i < 10000; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        double d = ora_backoff_next(&b, x);
        CHECK(d >= 0 && d <= 1);
        sum += d;
    }
    CHECK(fabs(sum / 10000 - 0.5) < 0.02);

    return unit_summary("backoff_test");
}
