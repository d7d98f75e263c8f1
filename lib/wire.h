/* wire.h: the ORA wire form (design.md §2): a stream of gzip members whose
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

typedef struct ora_wire ora_wire;

typedef struct ora_wire_limits {
    uint32_t max_frame;      /* frame length bound (default 16 MiB) */
    uint64_t max_ratio;      /* inflated bytes per compressed byte, per member (0: no bound) */
} ora_wire_limits;

enum ora_wire_rc {
    ORA_W_FRAME = 1,         /* *msg/*len hold one frame */
    ORA_W_NEED_INPUT = 0,    /* all fed bytes consumed; feed more */
    ORA_W_CORRUPT = -1,      /* gzip data error; see ora_wire_error() */
    ORA_W_TOO_LONG = -2,     /* frame length over max_frame */
    ORA_W_BOMB = -3,         /* inflation ratio over max_ratio */
    ORA_W_NOMEM = -4
};

ora_wire *ora_wire_new(const ora_wire_limits *lim);
void ora_wire_free(ora_wire *w);

/* Gives the decoder the next n compressed bytes. They must stay valid until
 * ora_wire_next() returns ORA_W_NEED_INPUT (they are not copied). */
void ora_wire_feed(ora_wire *w, const uint8_t *data, size_t n);

/* Next frame. *msg stays valid until the next call on w. After an error
 * the decoder is stuck (every call repeats it) until ora_wire_reset(). */
int ora_wire_next(ora_wire *w, const uint8_t **msg, uint32_t *len);

/* Forgets all state (a new connection). Returns the number of bytes of a
 * partial frame or member that were dropped. */
uint64_t ora_wire_reset(ora_wire *w);

uint64_t ora_wire_in_pos(const ora_wire *w);   /* compressed bytes consumed since reset */
uint64_t ora_wire_out_pos(const ora_wire *w);  /* inflated bytes since reset */
uint64_t ora_wire_members(const ora_wire *w);  /* complete members since reset */
const char *ora_wire_error(const ora_wire *w); /* last error, static or internal */
/* Nonzero when fed bytes stopped inside a member or a frame. */
int ora_wire_partial(const ora_wire *w);

#endif
