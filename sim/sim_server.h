/* sim_server.h: the network side of ora-sim: the HTTPS auth endpoint and
 * the ORA session port (doc/design.md §2), both TLS with client certificates
 * from one CA, fed by a sim_model generating at a fixed rate.
 *
 * Threads: the caller's thread accepts connections and generates messages;
 * each connection gets a thread of its own. Nothing here prints: events go
 * to opts.note, and sim_server_run() returns an exit code (enum ora_exit).
 *
 * The parts, one concern each: sim_server.c (ports, threads, generation),
 * sim_conn.c (a connection's TLS transport), sim_auth.c (the token
 * endpoint), sim_session.c (the ORA session), sim_send.c (frames to gzip
 * members to the socket), sim_snap.c (the snapshot kept compressed),
 * sim_fault.c (when injected faults fire); what they share is sim_srv.h.
 */
#ifndef ORA_SIM_SERVER_H
#define ORA_SIM_SERVER_H

#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include "sim_model.h"

#define SIM_OFF UINT64_MAX   /* a fault threshold that never fires */

typedef struct sim_faults {
    uint64_t drop_after_msgs;     /* close (TCP FIN, no TLS close_notify) after N data messages */
    uint64_t drop_after_bytes;    /* ... after N compressed bytes (cuts members) */
    uint64_t stall_after;         /* stop sending anything, pings included, after N */
    uint64_t corrupt_after;       /* send a corrupt gzip member after N, then close */
    uint64_t invalid_token_after; /* SESSION_ERROR INVALID_TOKEN after N, then close */
    int reject_token;             /* answer every INITIALIZE with INVALID_TOKEN */
    int offset_too_old;           /* answer every REPLAY with OFFSET_TOO_OLD */
    uint64_t auth_fail;           /* the first N token requests get 503 */
    double refuse_for;            /* seconds: the ORA port refuses connections at start */
    int once;                     /* each fault fires once per process, not per connection */
} sim_faults;

typedef struct sim_server_opts {
    sim_model_opts model;
    double rate;                  /* realtime messages per second (0: none) */
    uint64_t max_messages;        /* stop generating after this many (0: never) */
    int port, auth_port;          /* 0: any free port */
    const char *port_file;        /* written (atomically) once bound: "port=N\nauth_port=M\n" */
    const char *cert, *key, *cacert;
    int64_t token_ttl;            /* seconds */
    double ping_interval, pong_timeout, init_timeout;
    double write_timeout;         /* drop a client that reads nothing this long (0: never) */
    uint64_t retain;              /* delivered messages kept for REPLAY */
    uint32_t per_member_min, per_member_max;  /* frames per gzip member */
    double split;                 /* probability a member ends inside a frame */
    uint32_t chunk_min, chunk_max;            /* bytes per write */
    int level;                    /* zlib level */
    int snapshot_cache;           /* serve snapshots from members compressed once (sim_snap.h) */
    FILE *log;                    /* every generated message, offset order (may be NULL) */
    sim_faults faults;
    volatile sig_atomic_t *stop;  /* set by a signal handler: drain and return */
    void (*note)(int level, const char *fmt, va_list ap);  /* enum ora_log_level */
    void (*tick)(void);           /* called often from the main thread (SIGUSR1 summary) */
} sim_server_opts;

typedef struct sim_stats {
    uint64_t generated, connections, sessions, auth_requests, tokens;
    uint64_t data_sent, bytes_sent, pings, pongs, errors_sent, faults;
} sim_stats;

/* Serves until *opts->stop. Returns 0, ORA_EX_CONFIG (bad certificate or
 * key), ORA_EX_UNAVAILABLE (cannot bind), ORA_EX_IOERR (log write) or
 * ORA_EX_SOFTWARE (out of memory). */
int sim_server_run(const sim_server_opts *opts);

/* A consistent-enough copy of the counters (any thread). */
void sim_server_stats(sim_stats *out);

#endif
