/* wm.h: the low watermark W of ora-actors (doc/design.md §4): every message
 * with an offset <= W has been applied. Offsets arrive out of order; the
 * applied ones above W are kept in a bitmap and W moves over every
 * contiguous run. A hole older than the gap limit will not be filled and
 * is skipped.
 */
#ifndef ORA_WM_H
#define ORA_WM_H

#include <stddef.h>
#include <stdint.h>

#include "ora.h"

/* Offsets are 0..ORA_OFFSET_MAX (ora.h); the caller checks them. */
#define ORA_WM_OFFSET_MAX ORA_OFFSET_MAX

#define ORA_WM_SKIPS 16

typedef struct ora_wm {
    int64_t w;            /* every offset <= w applied; -1 = unknown */
    int64_t max_seen;     /* highest applied offset (>= w), -1 when none */
    uint64_t gap_limit;   /* a hole this far behind max_seen is skipped */
    uint64_t *bits;       /* applied offsets in (w, w + cap]: bit o & (cap-1) */
    uint64_t cap;         /* power of two > gap_limit */
    uint64_t n_beyond;    /* offsets > w applied */
    uint64_t gaps, gap_offsets; /* holes skipped, offsets in them */
    uint64_t late;        /* messages that arrived inside a skipped hole */
    int64_t skip_lo[ORA_WM_SKIPS], skip_hi[ORA_WM_SKIPS]; /* recent holes */
    unsigned n_skip;
} ora_wm;

/* 0, or -1 when out of memory. gap_limit >= 1. */
int ora_wm_init(ora_wm *m, uint64_t gap_limit);
void ora_wm_free(ora_wm *m);
/* Forgets everything: w unknown. */
void ora_wm_reset(ora_wm *m);
/* All offsets <= w are covered (snapshot completed at w, or a loaded
 * state): w only moves forward; applied offsets <= w are dropped. */
void ora_wm_set(ora_wm *m, int64_t w);
/* 1 when offset o was already applied (o <= w outside a skipped hole, or
 * recorded beyond w), else 0. With w unknown, always 0. */
int ora_wm_dup(const ora_wm *m, int64_t o);
/* Records offset o as applied (w known, o not a duplicate) and advances w
 * over the contiguous run; a hole older than gap_limit is skipped. Returns
 * the number of holes skipped by this call (the caller warns); *lo, *hi
 * receive the last one's range. */
int ora_wm_mark(ora_wm *m, int64_t o, int64_t *lo, int64_t *hi);
/* Writes up to max applied offsets > w into out, ascending; returns count. */
size_t ora_wm_beyond(const ora_wm *m, int64_t *out, size_t max);
/* Restores a saved watermark: w and the applied offsets above it (offs[0..n),
 * as ora_wm_beyond() wrote them), in time linear in n. The offsets must be
 * ascending, above w, within the offset range and inside the window of
 * this tracker (less than cap above w: a larger --gap-limit may have
 * written them). 0, or -1 with a reason in *why (m is then reset). */
int ora_wm_load(ora_wm *m, int64_t w, const int64_t *offs, size_t n, const char **why);

#endif
