/* Unit test: the tables under ora-actors against naive references, with
 * random operations: the id map (backward-shift deletion), the interning
 * table (reference counts, id reuse, restore + sweep) and the watermark
 * (contiguous runs, duplicates, gap skipping). Exits 0 on success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idmap.h"
#include "intern.h"
#include "rnd.h"
#include "wm.h"

#define UNIT_MAX_FAILS 10
#include "unit.h"

static uint64_t rng = 12345;
static uint64_t rnd(void) { return ora_xorshift64(&rng); }

static void test_idmap(void)
{
    enum { N = 5000 };
    static uint64_t ref[N]; /* 0 = absent, else value + 1 */
    ora_idmap m = ORA_IDMAP_INIT;
    for (int step = 0; step < 400000; step++) {
        uint64_t k = rnd() % N, key = k * 0x100000001ull; /* clustered hashes too */
        int op = (int)(rnd() % 3);
        if (op == 0) {
            uint64_t v = rnd() >> 1;
            CHECKF(ora_idmap_put(&m, key, v) == 0, "put");
            ref[k] = v + 1;
        } else if (op == 1) {
            CHECKF(ora_idmap_del(&m, key) == (ref[k] != 0), "del %llu", (unsigned long long)key);
            ref[k] = 0;
        } else {
            uint64_t v = 0;
            int got = ora_idmap_get(&m, key, &v);
            CHECKF(got == (ref[k] != 0) && (!got || v + 1 == ref[k]), "get %llu", (unsigned long long)key);
        }
    }
    size_t n = 0;
    for (int k = 0; k < N; k++) {
        n += ref[k] != 0;
        uint64_t v;
        CHECKF(ora_idmap_get(&m, (uint64_t)k * 0x100000001ull, &v) == (ref[k] != 0), "final get %d", k);
    }
    CHECKF(m.n == n, "count %zu vs %zu", m.n, n);
    ora_idmap_free(&m);
}

static void test_intern(void)
{
    enum { S = 300 };
    static uint32_t refs[S], ids[S];
    ora_intern *t = ora_intern_new();
    char s[32];
    for (int step = 0; step < 200000; step++) {
        int k = (int)(rnd() % S);
        int n = snprintf(s, sizeof s, "str-%d", k);
        if (rnd() % 2) {
            int isnew;
            uint32_t id = ora_intern_get(t, s, (size_t)n, &isnew);
            CHECKF(id != 0, "get");
            CHECKF(isnew == (refs[k] == 0), "isnew %d", k);
            if (refs[k])
                CHECKF(id == ids[k], "same id for the same string");
            ids[k] = id;
            refs[k]++;
        } else if (refs[k]) {
            ora_intern_put(t, ids[k]);
            refs[k]--;
        }
        if (refs[k]) {
            size_t len;
            const char *p = ora_intern_str(t, ids[k], &len);
            CHECKF(p && len == (size_t)n && memcmp(p, s, len) == 0, "str of %d", k);
            CHECKF(ora_intern_refs(t, ids[k]) == refs[k], "refs of %d", k);
        }
    }
    size_t live = 0;
    for (int k = 0; k < S; k++)
        live += refs[k] != 0;
    CHECKF(ora_intern_count(t) == live, "live %zu vs %zu", ora_intern_count(t), live);
    /* restore: dense ids, half referenced, sweep frees the rest */
    ora_intern *u = ora_intern_new();
    for (uint32_t id = 1; id <= 100; id++) {
        int n = snprintf(s, sizeof s, "r-%u", id);
        CHECKF(ora_intern_set(u, id, s, (size_t)n) == 0, "set %u", id);
    }
    CHECKF(ora_intern_set(u, 101, "r-5", 3) < 0, "a duplicate string is refused");
    for (uint32_t id = 1; id <= 100; id += 2)
        ora_intern_ref(u, id);
    ora_intern_sweep(u);
    CHECKF(ora_intern_count(u) == 50, "sweep left %zu", ora_intern_count(u));
    int isnew;
    uint32_t id = ora_intern_get(u, "r-3", 3, &isnew);
    CHECKF(id == 3 && !isnew, "restored string found by content");
    id = ora_intern_get(u, "new", 3, &isnew);
    CHECKF(isnew && id >= 1 && id <= 100 && id % 2 == 0, "a swept id is reused (%u)", id);
    ora_intern_free(u);
    ora_intern_free(t);
}

static void test_wm(void)
{
    ora_wm m;
    int64_t lo, hi;
    CHECKF(ora_wm_init(&m, 50) == 0, "init");
    CHECKF(!ora_wm_dup(&m, 5), "unknown w: nothing is a duplicate");
    ora_wm_set(&m, 100);
    /* shuffled window of 101..1100 */
    static int64_t offs[1000];
    for (int i = 0; i < 1000; i++)
        offs[i] = 101 + i;
    /* out of order within blocks of 10: never further than the limit */
    for (int b = 0; b < 1000; b += 10)
        for (int i = 9; i > 0; i--) {
            int j = (int)(rnd() % (uint64_t)(i + 1));
            int64_t x = offs[b + i];
            offs[b + i] = offs[b + j];
            offs[b + j] = x;
        }
    for (int i = 0; i < 1000; i++) {
        CHECKF(!ora_wm_dup(&m, offs[i]), "first sight of %lld", (long long)offs[i]);
        CHECKF(ora_wm_mark(&m, offs[i], &lo, &hi) == 0, "no gap expected");
        CHECKF(ora_wm_dup(&m, offs[i]), "second sight of %lld", (long long)offs[i]);
    }
    CHECKF(m.w == 1100, "w %lld", (long long)m.w);
    CHECKF(ora_wm_dup(&m, 50), "old offsets are duplicates");
    /* a hole at 1101: W waits until the limit, then skips it */
    for (int64_t o = 1102; o <= 1150; o++)
        CHECKF(ora_wm_mark(&m, o, &lo, &hi) == 0, "within the limit");
    CHECKF(m.w == 1100, "w waits at the hole");
    int64_t buf[100];
    CHECKF(ora_wm_beyond(&m, buf, 100) == 49 && buf[0] == 1102, "beyond list");
    CHECKF(ora_wm_mark(&m, 1151, &lo, &hi) == 1 && lo == 1101 && hi == 1101, "hole skipped");
    CHECKF(m.w == 1151, "w %lld", (long long)m.w);
    CHECKF(!ora_wm_dup(&m, 1101), "a late message in a skipped hole is not a duplicate");
    /* far ahead */
    CHECKF(ora_wm_mark(&m, 5000, &lo, &hi) >= 1 && m.w <= 5000, "far ahead");
    CHECKF(ora_wm_dup(&m, 5000), "recorded");
    ora_wm_free(&m);
}

/* ora_wm_load: a saved list comes back as it was, in any window position;
 * lists that no tracker could have written are refused. */
static void test_wm_load(void)
{
    ora_wm m, r;
    const char *why;
    CHECKF(ora_wm_init(&m, 1000) == 0 && ora_wm_init(&r, 1000) == 0, "init");
    for (int round = 0; round < 200; round++) {
        int64_t w = (int64_t)(rnd() % 1000000);
        ora_wm_reset(&m);
        ora_wm_set(&m, w);
        for (int k = 0; k < 300; k++) {
            int64_t o = w + 2 + (int64_t)(rnd() % 900), lo, hi;
            if (!ora_wm_dup(&m, o))
                ora_wm_mark(&m, o, &lo, &hi);
        }
        static int64_t a[2048], b[2048];
        size_t na = ora_wm_beyond(&m, a, 2048);
        CHECKF(ora_wm_load(&r, m.w, a, na, &why) == 0, "load: %s", why);
        size_t nb = ora_wm_beyond(&r, b, 2048);
        CHECKF(r.w == m.w && na == nb && memcmp(a, b, na * sizeof *a) == 0, "round %d: w %lld/%lld, %zu/%zu", round,
              (long long)r.w, (long long)m.w, na, nb);
        for (int k = 0; k < 50; k++) {
            int64_t o = m.w - 10 + (int64_t)(rnd() % 1100);
            CHECKF(ora_wm_dup(&r, o) == ora_wm_dup(&m, o), "dup %lld differs", (long long)o);
        }
    }
    int64_t bad1[] = {5, 4}, bad2[] = {3}, bad3[] = {11, (int64_t)1 << 62}, bad4[] = {11, 10 + 1024 + 1};
    CHECKF(ora_wm_load(&r, 10, bad1, 2, &why) < 0, "not ascending");
    CHECKF(ora_wm_load(&r, 10, bad2, 1, &why) < 0, "below W");
    CHECKF(ora_wm_load(&r, 10, bad3, 2, &why) < 0, "outside the range");
    CHECKF(ora_wm_load(&r, 10, bad4, 2, &why) < 0, "outside the window (cap 1024)");
    CHECKF(ora_wm_load(&r, ORA_OFFSET_MAX + 1, NULL, 0, &why) < 0, "W outside the range");
    CHECKF(r.w == -1, "a refused load leaves the tracker reset");
    int64_t ok[] = {11, 12, 14};
    CHECKF(ora_wm_load(&r, 10, ok, 3, &why) == 0 && r.w == 12 && r.n_beyond == 1 && ora_wm_dup(&r, 14) &&
              !ora_wm_dup(&r, 13),
          "contiguous offsets move W");
    ora_wm_free(&m);
    ora_wm_free(&r);
}

int main(void)
{
    test_idmap();
    test_intern();
    test_wm_load();
    test_wm();
    return unit_summary("actors_tables");
}
