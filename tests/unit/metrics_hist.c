/* metrics_hist: ora_hist_observe() puts each value in the first bucket
 * whose upper bound it does not exceed (le is inclusive), +Inf past the
 * last; checked at, just around and between every bound of
 * ora_hist_seconds, and for bound lists of every length up to 8. */
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "unit.h"

/* The bucket v belongs in, by the definition: the count of bounds below v
 * (bounds ascending). */
static size_t expected(const double *le, size_t n, double v)
{
    size_t below = 0;
    for (size_t i = 0; i < n; i++)
        below += v > le[i];
    return below;
}

/* Observes v alone in a fresh histogram; checks the one bucket it went to. */
static void one(const double *le, size_t n, double v)
{
    ora_hist h;
    CHECK(ora_hist_init(&h, le, n) == 0);
    ora_hist_observe(&h, v);
    size_t want = expected(le, n, v);
    for (size_t i = 0; i <= n; i++)
        if (h.bucket[i] != (i == want)) {
            fprintf(stderr, "value %g in bucket %zu, want %zu (of %zu bounds)\n", v, i, want, n);
            unit_failed();
        }
    CHECK(h.count == 1);
    ora_hist_free(&h);
}

int main(void)
{
    const double *le = ora_hist_seconds;
    size_t n = ora_hist_seconds_n;
    one(le, n, -1);
    one(le, n, 0);
    one(le, n, 1e9);  /* a stale record's lag: +Inf */
    one(le, n, INFINITY);
    for (size_t i = 0; i < n; i++) {
        one(le, n, le[i]);                         /* inclusive */
        one(le, n, nextafter(le[i], 0));
        one(le, n, nextafter(le[i], INFINITY));    /* the next bucket */
        if (i + 1 < n)
            one(le, n, (le[i] + le[i + 1]) / 2);
    }
    static const double small[] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (size_t k = 0; k <= 8; k++)
        for (double v = 0; v <= 9; v += 0.5)
            one(small, k, v);
    return unit_summary("metrics_hist");
}
