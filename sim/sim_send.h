/* sim_send.h: what ora-sim writes on a connection: frames packed into gzip
 * members (doc/design.md §2), written in pieces of random size.
 *
 * Every function writes all its bytes before returning, in pieces of
 * opts.chunk_min..chunk_max bytes so that a client sees reads cut
 * anywhere (what it compresses goes through c->out, empty afterwards).
 * The drop-after-bytes fault fires here: the write stops at exactly that
 * many bytes and the result is SR_CLOSE with c->abrupt set. Returns SR_OK, SR_ERR or SR_CLOSE
 * (sim_conn.h).
 */
#ifndef ORA_SIM_SEND_H
#define ORA_SIM_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "sim_conn.h"

/* The n frames m[i] (l[i] bytes each) as one gzip member; with split, as
 * two members cut at a random byte, so that a frame spans them. */
int sim_send_frames(sim_conn *c, const uint8_t *const *m, const size_t *l, size_t n, int split);

/* n bytes as they are: gzip members made beforehand (sim_snap.h), or a
 * corrupt one. */
int sim_send_raw(sim_conn *c, const uint8_t *p, size_t n);

#endif
