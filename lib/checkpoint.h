/* checkpoint.h: the committed checkpoint file (doc/design.md §4).
 *
 * The file holds one decimal offset and a newline. A commit is atomic and
 * durable: write a temporary file in the same directory, fsync it, rename
 * it over the file, fsync the directory. A reader sees the old value or the
 * new one, never a mix, and after a crash the last completed commit.
 */
#ifndef ORA_CHECKPOINT_H
#define ORA_CHECKPOINT_H

#include <stdint.h>

/* Commits w to path. Returns 0, or -1 with errno (the old file is then
 * untouched; a stray temporary is removed). */
int checkpoint_commit(const char *path, int64_t w);

/* Reads path. Returns 1 and sets *w, 0 when the file does not exist, or -1
 * with errno (EINVAL when the content is not one decimal integer with an
 * optional trailing newline). */
int checkpoint_read(const char *path, int64_t *w);

/* Flushes directory dir to disk, so that a rename done in it is durable
 * (the last step of a commit; state files commit the same way). Returns 0,
 * or -1 with errno (from open or fsync). */
int ora_fsync_dir(const char *dir);

#endif
