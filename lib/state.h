/* state.h: ora-actors' durable state (design.md §4): the low watermark W,
 * the byte format of a state file, and the files of a state directory.
 *
 * A state file ("actors-<W, 20 digits>.state") is:
 *   "ORASTATE" (8 bytes), u32 version (1), i64 W, u64 stream time (ns),
 *   u32 n, n x i64: offsets > W already applied,
 *   the actors body (ora_actors_save()),
 *   32 bytes: BLAKE2b-256 (crypto_generichash) of every byte before it.
 * Integers are little-endian. A file whose sum does not hold is rejected
 * whole. Files are written to a temporary name, fsync()ed, renamed into
 * place, and the directory is fsync()ed: a crash at any point leaves the
 * previous files intact and never a partial file under a final name.
 */
#ifndef ORA_STATE_H
#define ORA_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

/* ---- watermark ----------------------------------------------------------- */

#define ORA_WM_SKIPS 16

typedef struct ora_wm {
    int64_t w;            /* every offset <= w applied; -1 = unknown */
    int64_t max_seen;     /* highest applied offset (>= w), -1 when none */
    uint64_t gap_limit;   /* a hole this far behind max_seen is skipped */
    uint8_t *bits;        /* applied offsets in (w, w + cap]: bit o & (cap-1) */
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

/* ---- byte writer / reader used by the state format ------------------------ */

typedef struct ora_sw {
    int fd;
    uint8_t *buf;
    size_t len, cap;
    uint64_t bytes;
    int err;               /* errno of the first failure, 0 when none */
    crypto_generichash_state h;
} ora_sw;

int ora_sw_open(ora_sw *w, int fd);   /* 0, or -1 (ENOMEM) */
void ora_sw_bytes(ora_sw *w, const void *p, size_t n);
void ora_sw_u8(ora_sw *w, uint8_t v);
void ora_sw_u16(ora_sw *w, uint16_t v);
void ora_sw_u32(ora_sw *w, uint32_t v);
void ora_sw_u64(ora_sw *w, uint64_t v);
/* Appends the sum, flushes, frees the buffer. 0, or -1 with errno. */
int ora_sw_finish(ora_sw *w);

typedef struct ora_sr {
    const uint8_t *p;
    size_t len, pos;
    int bad;               /* set on any read past the end */
} ora_sr;

uint8_t ora_sr_u8(ora_sr *r);
uint16_t ora_sr_u16(ora_sr *r);
uint32_t ora_sr_u32(ora_sr *r);
uint64_t ora_sr_u64(ora_sr *r);
/* n bytes in place (NULL and bad set when fewer remain). */
const uint8_t *ora_sr_bytes(ora_sr *r, size_t n);
size_t ora_sr_left(const ora_sr *r);

/* ---- state files ----------------------------------------------------------- */

struct ora_actors;

/* Writes the state for wm->w into dir: temp file, fsync, rename, fsync of
 * dir. now_ns is the stream time (pending ages). Returns 0, or -1 with a
 * reason in err. *bytes receives the file size. */
int ora_state_write(const char *dir, const struct ora_actors *a, const ora_wm *wm, uint64_t now_ns,
                    uint64_t *bytes, char *err, size_t errn);

/* Parses a whole state file held in memory into a (empty on entry) and wm.
 * verify: check the trailing sum (0 only for fuzzing). 0, or -1 with a
 * reason in err (a is then cleared). */
int ora_state_parse(const uint8_t *p, size_t n, int verify, struct ora_actors *a, ora_wm *wm,
                    uint64_t *now_ns, char *err, size_t errn);

/* Reads and parses the file at path. 0, -1 with a reason in err. */
int ora_state_load(const char *path, struct ora_actors *a, ora_wm *wm, uint64_t *now_ns, char *err,
                   size_t errn);

/* The path of the state for w in dir (caller frees), or NULL. */
char *ora_state_path(const char *dir, int64_t w);
/* The watermarks of the state files in dir, ascending (caller frees *out).
 * Returns the count, or -1 with errno. Temporary files are not listed. */
long ora_state_list(const char *dir, int64_t **out);
/* Deletes all but the newest keep state files, never the one for protect
 * (-1: none), and stale temporary files. Returns files deleted. */
int ora_state_prune(const char *dir, unsigned keep, int64_t protect);

/* Reads a checkpoint file (a decimal offset, as kinesis-put writes it).
 * 1 and *w when it holds one, 0 when the file does not exist or is empty,
 * -1 with a reason in err when unreadable or malformed. */
int ora_checkpoint_read(const char *path, int64_t *w, char *err, size_t errn);

#endif
