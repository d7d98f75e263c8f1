/* session.h: the ORA session state machine of ora-connect (doc/design.md §2).
 *
 * Pure logic, no I/O: the caller decodes frames from the server with
 * lib/wire, gives each one to ora_smsg_parse() (lib/smsg.h), then to
 * ora_session_on(), and carries out the action it returns (send a command,
 * reconnect, stop). Commands are built by ora_smsg_build() and wrapped for
 * the wire by ora_smsg_frame().
 */
#ifndef ORA_SESSION_H
#define ORA_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include "smsg.h"

/* Session phases. */
enum ora_sphase {
    ORA_SP_WELCOME = 0,  /* connected, waiting for SESSION_WELCOME */
    ORA_SP_INIT,         /* sent INITIALIZE, waiting for SESSION_INITIALIZED */
    ORA_SP_STREAM,       /* sent SNAPSHOT or REPLAY: data flows */
    ORA_SP_DONE          /* --once reached REPLAY_COMPLETED, or a final error */
};

typedef struct ora_sess {
    int phase;             /* enum ora_sphase */
    int flow;              /* enum ora_flow (record.h) */
    int once;              /* stop at REPLAY_COMPLETED */
    int64_t checkpoint;    /* offset to replay from, -1 = none (snapshot) */
    int64_t last_offset;   /* largest data offset seen, -1 = none */
    uint64_t data;         /* data messages seen */
    uint64_t pings;        /* pings seen */
} ora_sess;

/* Starts the session of a new connection. checkpoint: the committed
 * offset read from the checkpoint file (-1 when none); once: --once.
 * last_offset/data/pings carry over from the previous connection. */
void ora_session_start(ora_sess *s, int64_t checkpoint, int once);

enum ora_sact_kind {
    ORA_A_NONE = 0,
    ORA_A_SEND_INITIALIZE, /* send SESSION_INITIALIZE */
    ORA_A_SEND_SNAPSHOT,   /* send SESSION_SNAPSHOT; flow is now snapshot */
    ORA_A_SEND_REPLAY,     /* send SESSION_REPLAY from offset; flow is now replay */
    ORA_A_SEND_PONG,       /* send SESSION_PONG with id */
    ORA_A_HEALTHY,         /* caught up (REPLAY_COMPLETED): reset the backoff */
    ORA_A_CAUGHT_UP,       /* --once: caught up at offset; stop */
    ORA_A_NEW_TOKEN,       /* INVALID_TOKEN: drop the JWT, reconnect with a new one */
    ORA_A_RECONNECT,       /* protocol violation: reconnect */
    ORA_A_FATAL            /* configuration error (code): stop, exit 78 */
};

typedef struct ora_sact {
    int kind;              /* enum ora_sact_kind */
    int64_t offset;        /* SEND_REPLAY, CAUGHT_UP, HEALTHY: the offset (-1 unknown) */
    const char *id;        /* SEND_PONG: JSON text of the id (points into the message) */
    const char *reason;    /* RECONNECT/FATAL/NONE-with-warning: static text or
                              the error code (points into the message); else NULL */
} ora_sact;

/* The action a message asks for. Updates flow, phase and counters.
 * A NONE action with a reason is something odd to log as a warning. */
ora_sact ora_session_on(ora_sess *s, const ora_smsg *m);

#endif
