/* wire.h: the ORA wire form (doc/design.md §2): a stream of gzip members whose
 * decompressed bytes are frames of [u32 big-endian length][JSON].
 * Members and frames are independent; any byte may be split anywhere.
 */
#ifndef ORA_WIRE_H
#define ORA_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"

/* ---- encoder (lib/wire_enc.c) ------------------------------------------ */

typedef struct ora_wire_enc ora_wire_enc;

/* A gzip encoder at zlib level (1..9). NULL when out of memory. */
ora_wire_enc *ora_wire_enc_new(int level);
void ora_wire_enc_free(ora_wire_enc *e);

/* Appends to out one complete gzip member holding the n frames
 * msgs[i] (msg_lens[i] bytes each, without the length prefix).
 * Returns 0, or -1 (ENOMEM, or EINVAL for a frame over 4 GiB). */
int ora_wire_encode(ora_wire_enc *e, const uint8_t *const *msgs, const size_t *msg_lens,
                    size_t n, ora_buf *out);

/* ---- decoder (lib/wire.c) ---------------------------------------------- */

/* The decoder: compressed bytes in (any split), frames out, each returned in
 * place (no copy) from one internal frame buffer that grows to the largest
 * frame seen (at most max_frame + 4 bytes). Usage:
 *
 *   ora_wire_feed(w, buf, n);
 *   while ((rc = ora_wire_next(w, &msg, &len)) == ORA_W_FRAME) use(msg, len);
 *   if (rc < 0) ... error: ora_wire_error(w), ora_wire_in_pos(w); then reset
 *   ... else rc == ORA_W_NEED_INPUT: feed the next bytes
 *
 * Inflation uses windowBits 31 (gzip members only); after each member ends
 * the inflater is reset and the next member continues the frame stream.
 * Bytes after a member that do not start a gzip member are ORA_W_CORRUPT. */

typedef struct ora_wire ora_wire;

#define ORA_WIRE_MAX_FRAME_DEFAULT (16u << 20)
#define ORA_WIRE_MAX_FRAME_LIMIT   (1u << 30)
#define ORA_WIRE_MAX_RATIO_DEFAULT 200u
/* A member may always inflate to this many bytes, whatever its ratio. */
#define ORA_WIRE_RATIO_FLOOR       (64u << 10)

typedef struct ora_wire_limits {
    uint32_t max_frame;      /* frame length bound (0: default 16 MiB; at most 1 GiB) */
    uint64_t max_ratio;      /* inflated bytes per compressed byte, per member, checked
                                once the member has inflated past ORA_WIRE_RATIO_FLOOR
                                (0: no bound) */
} ora_wire_limits;

enum ora_wire_rc {
    ORA_W_FRAME = 1,         /* *msg and *len hold one frame */
    ORA_W_NEED_INPUT = 0,    /* all fed bytes consumed; feed more */
    ORA_W_CORRUPT = -1,      /* gzip data error; see ora_wire_error() */
    ORA_W_TOO_LONG = -2,     /* frame length over max_frame */
    ORA_W_BOMB = -3,         /* inflation ratio over max_ratio */
    ORA_W_NOMEM = -4
};

/* A decoder with the given limits (NULL: max_frame 16 MiB, max_ratio 200).
 * Returns NULL when out of memory. */
ora_wire *ora_wire_new(const ora_wire_limits *lim);
void ora_wire_free(ora_wire *w);

/* Gives the decoder the next n compressed bytes. Call it only on a new or
 * reset decoder or after ora_wire_next() returned ORA_W_NEED_INPUT. The bytes
 * must stay valid until ora_wire_next() returns ORA_W_NEED_INPUT (they are
 * not copied). n == 0 is allowed. Ignored while the decoder is in error. */
void ora_wire_feed(ora_wire *w, const uint8_t *data, size_t n);

/* Next frame. *msg (len bytes, not NUL-terminated) stays valid until the
 * next call on w. ORA_W_CORRUPT comes after every frame that was complete
 * before the damage (so the frames returned never depend on how the input
 * was cut); the other errors come at once. After an error (rc < 0) the
 * decoder is stuck (every call repeats it) until ora_wire_reset(). */
int ora_wire_next(ora_wire *w, const uint8_t **msg, uint32_t *len);

/* Forgets all state (a new connection), keeps the limits. Returns
 * ora_wire_pending_frame() + ora_wire_pending_member() as they were: the
 * number of bytes that were dropped (0 when the stream stopped cleanly
 * between frames and members). */
uint64_t ora_wire_reset(ora_wire *w);

uint64_t ora_wire_in_pos(const ora_wire *w);   /* compressed bytes consumed since reset;
                                                  after ORA_W_CORRUPT: where zlib stopped */
uint64_t ora_wire_out_pos(const ora_wire *w);  /* inflated bytes since reset */
uint64_t ora_wire_members(const ora_wire *w);  /* complete members since reset */
/* Last error: a static string or one in w (valid until the next call on w);
 * "" when none. */
const char *ora_wire_error(const ora_wire *w);
/* Nonzero when fed bytes stopped inside a member or a frame. */
int ora_wire_partial(const ora_wire *w);
/* Inflated bytes of an incomplete frame held (length prefix included). */
uint64_t ora_wire_pending_frame(const ora_wire *w);
/* Compressed bytes of an unfinished member: consumed plus fed, not consumed. */
uint64_t ora_wire_pending_member(const ora_wire *w);

#endif
