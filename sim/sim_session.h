/* sim_session.h: the ORA session as ora-sim's server side plays it
 * (doc/design.md §2).
 *
 * SESSION_WELCOME; then the client's SESSION_INITIALIZE is checked
 * (protocol version V1, known offerings, a token this server signed and
 * that has not expired) and answered with SESSION_INITIALIZED or a
 * SESSION_ERROR; then SESSION_SNAPSHOT (the model's state, then
 * SESSION_SNAPSHOT_COMPLETED) or SESSION_REPLAY from an offset (or
 * SESSION_ERROR OFFSET_TOO_OLD when the retained log no longer holds it,
 * after which the client may ask again), the retained log up to the head,
 * SESSION_REPLAY_COMPLETED, and realtime messages as they are generated,
 * until the server stops. Pings every opts.ping_interval; a client that
 * leaves one unanswered for opts.pong_timeout is dropped, as is one that
 * falls behind the retained log. The faults counted in data messages fire
 * between gzip members.
 */
#ifndef ORA_SIM_SESSION_H
#define ORA_SIM_SESSION_H

#include "sim_conn.h"

/* Plays the session on c (after the handshake) until it ends. Returns
 * SR_CLOSE or SR_ERR (sim_conn.h): how to close. */
int sim_session_serve(sim_conn *c);

#endif
