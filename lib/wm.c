/* wm.c: the low watermark (wm.h). */
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
    m->bits = calloc(m->cap / 8, 1);
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

void ora_wm_reset(ora_wm *m)
{
    memset(m->bits, 0, m->cap / 8);
    m->w = m->max_seen = -1;
    m->n_beyond = 0;
    m->n_skip = 0;
}

static int bit_get(const ora_wm *m, int64_t o)
{
    uint64_t i = (uint64_t)o & (m->cap - 1);
    return m->bits[i >> 3] >> (i & 7) & 1;
}

static void bit_set(ora_wm *m, int64_t o, int v)
{
    uint64_t i = (uint64_t)o & (m->cap - 1);
    if (v)
        m->bits[i >> 3] |= (uint8_t)(1u << (i & 7));
    else
        m->bits[i >> 3] &= (uint8_t)~(1u << (i & 7));
}

static void advance(ora_wm *m)
{
    while (m->n_beyond && bit_get(m, m->w + 1)) {
        bit_set(m, m->w + 1, 0);
        m->w++;
        m->n_beyond--;
    }
}

/* Moves w to t (> w), forgetting what was recorded up to t. */
static void move_to(ora_wm *m, int64_t t)
{
    if ((uint64_t)(t - m->w) >= m->cap) {
        memset(m->bits, 0, m->cap / 8);
        m->n_beyond = 0;
    } else
        for (int64_t o = m->w + 1; o <= t; o++)
            if (bit_get(m, o)) {
                bit_set(m, o, 0);
                m->n_beyond--;
            }
    m->w = t;
    if (m->max_seen < t)
        m->max_seen = t;
}

void ora_wm_set(ora_wm *m, int64_t w)
{
    if (m->w < 0) {
        memset(m->bits, 0, m->cap / 8);
        m->n_beyond = 0;
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
        bit_set(m, o, 1);
        m->n_beyond++;
    }
    if (o > m->max_seen)
        m->max_seen = o;
    advance(m);
    while (m->n_beyond && (uint64_t)(m->max_seen - m->w) > m->gap_limit) {
        int64_t y = m->w + 2;
        while (!bit_get(m, y))
            y++;
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
    if (m->w < 0)
        return 0;
    for (int64_t o = m->w + 1; n < max && n < m->n_beyond && o <= m->max_seen; o++)
        if (bit_get(m, o))
            out[n++] = o;
    return n;
}

