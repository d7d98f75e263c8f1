/* backoff.c: see backoff.h. */
#include "backoff.h"

#include <math.h>

int ora_backoff_init(ora_backoff *b, double min, double max)
{
    if (!isfinite(min) || !isfinite(max) || min <= 0 || max < min)
        return -1;
    b->min = min;
    b->max = max;
    b->attempts = 0;
    return 0;
}

double ora_backoff_ceiling(const ora_backoff *b)
{
    /* min * 2^attempts without overflow: stop doubling once past max. */
    double c = b->min;
    for (uint32_t i = 0; i < b->attempts && c < b->max; i++)
        c *= 2;
    return c < b->max ? c : b->max;
}

double ora_backoff_next(ora_backoff *b, uint32_t rnd)
{
    double c = ora_backoff_ceiling(b);
    if (b->attempts < UINT32_MAX)
        b->attempts++;
    return c * ((double)rnd / 4294967296.0);
}

void ora_backoff_reset(ora_backoff *b)
{
    b->attempts = 0;
}
