/* statefile.h: ora-actors' state files (doc/design.md §4).
 *
 * A state file ("actors-<W, 20 digits>.state") is:
 *   "ORASTATE" (8 bytes), u32 version (2), i64 W, u64 stream time (ns),
 *   u32 n, n x i64: offsets > W already applied,
 *   the actors body (persist.h),
 *   32 bytes: BLAKE2b-256 (crypto_generichash) of every byte before it.
 * Integers are little-endian (serial.h). A file whose sum does not hold is
 * rejected whole, and so is one whose W or applied offsets lie outside the
 * offset range, whose applied offsets are not ascending above W or reach
 * further than the watermark's window (wm.h), or whose W is not the W of
 * its name. Files are created 0600, through a temporary file opened with
 * O_EXCL | O_NOFOLLOW. Files are written to a temporary name, fsync()ed, renamed
 * into place, and the directory is fsync()ed: a crash at any point leaves
 * the previous files intact and never a partial file under a final name.
 */
#ifndef ORA_STATEFILE_H
#define ORA_STATEFILE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "wm.h"


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

/* Reads and parses the state for w in dir (a regular file: a symbolic link
 * is refused). The W it holds must be w (the W of its name) and, when limit
 * >= 0 (the committed checkpoint), at most limit. 0, or -1 with a reason in
 * err (a and wm are then empty). */
int ora_state_load(const char *dir, int64_t w, int64_t limit, struct ora_actors *a, ora_wm *wm, uint64_t *now_ns,
                   char *err, size_t errn);

/* The path of the state for w in dir (caller frees), or NULL. */
char *ora_state_path(const char *dir, int64_t w);
/* The watermarks of the state files in dir, ascending (caller frees *out).
 * Returns the count, or -1 with errno. Temporary files, and names whose W
 * is outside the offset range, are not listed. */
long ora_state_list(const char *dir, int64_t **out);
/* Deletes the state files no restart can need, and stale temporary files.
 * With a committed checkpoint (committed >= 0): every state below it; the
 * state for it and every newer one (emitted, maybe not committed yet) stay.
 * Without one (-1): all but the newest keep. Returns files deleted. */
int ora_state_prune(const char *dir, unsigned keep, int64_t committed);
/* The number of state files in dir above w (-1: all of them), or -1 with
 * errno. */
long ora_state_count_above(const char *dir, int64_t w);

/* Reads a checkpoint file (a decimal offset, as kinesis-put writes it).
 * 1 and *w when it holds one, 0 when the file does not exist or is empty,
 * 2 with a reason in err when it holds a number outside the offset range
 * (0..ORA_OFFSET_MAX), -1 with a reason in err when unreadable or
 * malformed. */
int ora_checkpoint_read(const char *path, int64_t *w, char *err, size_t errn);

#endif
