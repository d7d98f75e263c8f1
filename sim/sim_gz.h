/* sim_gz.h: the wire form as ora-sim packs it by hand (doc/design.md §2):
 * frames of a 4-byte big-endian length and the JSON, in gzip members that
 * may end anywhere, even inside a frame. lib/wire.h's encoder makes only
 * members of whole frames; these serve the members split on purpose and
 * the snapshot cache, which packs frames it has framed beforehand.
 */
#ifndef ORA_SIM_GZ_H
#define ORA_SIM_GZ_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "buf.h"

/* Appends to plain the frame of the n bytes at json (its length as 4 bytes
 * big-endian, then the bytes). 0, or -1 (ENOMEM). */
int sim_gz_frame(ora_buf *plain, const void *json, size_t n);

/* Appends to out the n bytes at p as one gzip member at zlib level, or,
 * when 0 < cut < n, as two: the bytes before cut and those from it. The
 * deflater zs serves one member after another: while *ready is 0 it is set
 * up here (at level) and *ready set; the caller deflateEnd()s it when *ready.
 * 0, or -1 (ENOMEM or a zlib error; out may then hold part of a member). */
int sim_gz_members(z_stream *zs, int *ready, int level, const uint8_t *p, size_t n, size_t cut,
                   ora_buf *out);

#endif
