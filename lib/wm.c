/* wm.c: the low watermark (wm.h). The applied offsets above w are bits of
 * a ring of cap bits (offset o is bit o & (cap - 1)); every scan and clear
 * goes a 64-bit word at a time, so that moving w costs the distance / 64,
 * never the distance. */
#include "wm.h"

#include <stdlib.h>
#include <string.h>

int ora_wm_init(ora_wm *m, uint64_t gap_limit)
{
    memset(m, 0, sizeof *m);
    if (gap_limit < 1)
        gap_limit = 1;
    m->gap_limit = gap_limit;
    m->cap = 64;
    while (m->cap <= gap_limit)
        m->cap *= 2;
    m->bits = calloc(m->cap / 64, sizeof *m->bits);
    if (!m->bits)
        return -1;
    m->w = -1;
    m->max_seen = -1;
    return 0;
}

void ora_wm_free(ora_wm *m)
{
    free(m->bits);
    m->bits = NULL;
}

static void clear_all(ora_wm *m)
{
    memset(m->bits, 0, m->cap / 8);
    m->n_beyond = 0;
}

void ora_wm_reset(ora_wm *m)
{
    clear_all(m);
    m->w = m->max_seen = -1;
    m->n_skip = 0;
}

static int bit_get(const ora_wm *m, int64_t o)
{
    uint64_t i = (uint64_t)o & (m->cap - 1);
    return m->bits[i >> 6] >> (i & 63) & 1;
}

static void bit_set(ora_wm *m, int64_t o)
{
    uint64_t i = (uint64_t)o & (m->cap - 1);
    m->bits[i >> 6] |= UINT64_C(1) << (i & 63);
}

/* Clears the bits of offsets [from, to] (to - from < cap), keeping n_beyond
 * right. */
static void clear_range(ora_wm *m, int64_t from, int64_t to)
{
    uint64_t n = (uint64_t)(to - from) + 1, i = (uint64_t)from & (m->cap - 1);
    while (n) {
        uint64_t bit = i & 63, take = 64 - bit < n ? 64 - bit : n;
        uint64_t mask = (take == 64 ? ~UINT64_C(0) : ((UINT64_C(1) << take) - 1)) << bit;
        uint64_t *wd = &m->bits[i >> 6];
        m->n_beyond -= (uint64_t)__builtin_popcountll(*wd & mask);
        *wd &= ~mask;
        n -= take;
        i = (i + take) & (m->cap - 1);
    }
}

/* The lowest offset in [from, to] (to - from < cap) whose bit is set, or -1. */
static int64_t next_set(const ora_wm *m, int64_t from, int64_t to)
{
    uint64_t n = (uint64_t)(to - from) + 1, i = (uint64_t)from & (m->cap - 1);
    int64_t o = from;
    while (n) {
        uint64_t bit = i & 63, take = 64 - bit < n ? 64 - bit : n;
        uint64_t mask = (take == 64 ? ~UINT64_C(0) : ((UINT64_C(1) << take) - 1)) << bit;
        uint64_t hit = m->bits[i >> 6] & mask;
        if (hit)
            return o + (int64_t)((uint64_t)__builtin_ctzll(hit) - bit);
        n -= take;
        o += (int64_t)take;
        i = (i + take) & (m->cap - 1);
    }
    return -1;
}

/* Moves w over the contiguous run of applied offsets above it. */
static void advance(ora_wm *m)
{
    while (m->n_beyond && bit_get(m, m->w + 1)) {
        clear_range(m, m->w + 1, m->w + 1);
        m->w++;
    }
}

/* Moves w to t (> w), forgetting what was recorded up to t. */
static void move_to(ora_wm *m, int64_t t)
{
    if ((uint64_t)(t - m->w) >= m->cap)
        clear_all(m);
    else
        clear_range(m, m->w + 1, t);
    m->w = t;
    if (m->max_seen < t)
        m->max_seen = t;
}

void ora_wm_set(ora_wm *m, int64_t w)
{
    if (m->w < 0) {
        clear_all(m);
        m->w = w;
        if (m->max_seen < w)
            m->max_seen = w;
        return;
    }
    if (w > m->w) {
        move_to(m, w);
        advance(m);
    }
}

int ora_wm_dup(const ora_wm *m, int64_t o)
{
    if (m->w < 0 || o < 0)
        return 0;
    if (o <= m->w) {
        for (unsigned k = 0; k < m->n_skip; k++)
            if (o >= m->skip_lo[k] && o <= m->skip_hi[k])
                return 0;
        return 1;
    }
    if ((uint64_t)(o - m->w) > m->cap)
        return 0;
    return bit_get(m, o);
}

static void note_skip(ora_wm *m, int64_t lo, int64_t hi)
{
    if (m->n_skip == ORA_WM_SKIPS) {
        memmove(m->skip_lo, m->skip_lo + 1, (ORA_WM_SKIPS - 1) * sizeof m->skip_lo[0]);
        memmove(m->skip_hi, m->skip_hi + 1, (ORA_WM_SKIPS - 1) * sizeof m->skip_hi[0]);
        m->n_skip--;
    }
    m->skip_lo[m->n_skip] = lo;
    m->skip_hi[m->n_skip] = hi;
    m->n_skip++;
    m->gaps++;
    m->gap_offsets += (uint64_t)(hi - lo + 1);
}

int ora_wm_mark(ora_wm *m, int64_t o, int64_t *lo, int64_t *hi)
{
    int skipped = 0;
    if (m->w < 0 || o <= m->w)
        return 0;
    if ((uint64_t)(o - m->w) <= m->cap && bit_get(m, o))
        return 0;
    if ((uint64_t)(o - m->w) > m->cap) {
        /* far ahead: everything up to o - cap is a hole (or was recorded) */
        int64_t t = o - (int64_t)m->cap;
        int64_t from = m->w + 1;
        move_to(m, t);
        note_skip(m, from, t);
        *lo = from;
        *hi = t;
        skipped++;
        advance(m);
    }
    if (o > m->w) {
        bit_set(m, o);
        m->n_beyond++;
    }
    if (o > m->max_seen)
        m->max_seen = o;
    advance(m);
    while (m->n_beyond && (uint64_t)(m->max_seen - m->w) > m->gap_limit) {
        /* the hole at w + 1 is older than the limit: skip it */
        int64_t y = next_set(m, m->w + 2, m->max_seen);
        int64_t from = m->w + 1;
        move_to(m, y - 1);
        note_skip(m, from, y - 1);
        *lo = from;
        *hi = y - 1;
        skipped++;
        advance(m);
    }
    return skipped;
}

size_t ora_wm_beyond(const ora_wm *m, int64_t *out, size_t max)
{
    size_t n = 0;
    if (m->w < 0 || !m->n_beyond)
        return 0;
    int64_t o = m->w + 1;
    while (n < max && n < m->n_beyond && o <= m->max_seen) {
        o = next_set(m, o, m->max_seen);
        if (o < 0)
            break;
        out[n++] = o++;
    }
    return n;
}

int ora_wm_load(ora_wm *m, int64_t w, const int64_t *offs, size_t n, const char **why)
{
    ora_wm_reset(m);
    if (w < 0 || w > ORA_WM_OFFSET_MAX) {
        *why = "W outside the offset range";
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        if (offs[k] <= (k ? offs[k - 1] : w)) {
            *why = "applied offsets not ascending above W";
            return -1;
        }
        if (offs[k] > ORA_WM_OFFSET_MAX) {
            *why = "an applied offset outside the offset range";
            return -1;
        }
        if ((uint64_t)(offs[k] - w) >= m->cap) {
            *why = "applied offsets reach further above W than the --gap-limit window";
            return -1;
        }
    }
    m->w = m->max_seen = w;
    for (size_t k = 0; k < n; k++)
        bit_set(m, offs[k]);
    m->n_beyond = n;
    if (n)
        m->max_seen = offs[n - 1];
    advance(m);
    return 0;
}
