/* sim_srv.h: the state the parts of ora-sim's server share (internal to
 * sim/; ora-sim itself sees only sim_server.h).
 *
 * One sim_srv per process, set up by sim_server_run() before it accepts a
 * connection and torn down after the last connection thread has ended.
 * Connection threads read it; while they run, only its atomics change, and
 * the model and the retained log, which are behind mu.
 */
#ifndef ORA_SIM_SRV_H
#define ORA_SIM_SRV_H

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "sim_log.h"
#include "sim_model.h"
#include "sim_server.h"
#include "sim_snap.h"

/* The injected faults (sim_faults), in the order they are checked. */
enum sim_fault {
    SIM_F_DROP_MSGS, SIM_F_DROP_BYTES, SIM_F_STALL, SIM_F_CORRUPT, SIM_F_INVALID,
    SIM_F_REJECT, SIM_F_OLD, SIM_F_COUNT
};

typedef struct sim_srv {
    const sim_server_opts *o;
    SSL_CTX *ctx;                     /* both ports: client certificates required */
    pthread_mutex_t mu;               /* guards model and log */
    sim_model *model;
    sim_log *log;                     /* delivered messages kept for replays */
    sim_snap *snap;                   /* the snapshot kept compressed (NULL: off) */
    uint8_t jwt_key[32];              /* signs and checks tokens; random per process */
    atomic_int quit;                  /* the server is stopping: sessions end */
    atomic_int active;                /* connection threads running */
    atomic_int fired[SIM_F_COUNT];    /* --fault-once: fault f has fired */
    atomic_uint_fast64_t auth_served; /* token requests answered (--auth-fail) */
    struct {
        atomic_uint_fast64_t generated, connections, sessions, auth_requests, tokens;
        atomic_uint_fast64_t data_sent, bytes_sent, pings, pongs, errors_sent, faults;
    } st;
} sim_srv;

/* Nonzero once the server stops (quit, or the caller's stop flag). */
int sim_srv_quitting(const sim_srv *s);

/* Passes a diagnostic to opts.note (enum ora_log_level); nothing when unset. */
void sim_srv_note(const sim_srv *s, int lvl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
