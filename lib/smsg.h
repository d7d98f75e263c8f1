/* smsg.h: ORA session messages (doc/design.md §2), in both directions: the one
 * place that parses and builds them, for ora-connect (the client state
 * machine, lib/session.c) and for ora-sim (the server, sim/sim_session.c).
 * The type names and the names of their bodies ("sessionPing", ...) are in
 * ora.h.
 *
 *   server: SESSION_WELCOME, SESSION_INITIALIZED,
 *           SESSION_SNAPSHOT_COMPLETED {offset}, SESSION_REPLAY_COMPLETED
 *           {offset}, SESSION_PING {id}, SESSION_ERROR {code, message}
 *   client: SESSION_INITIALIZE {protocolVersion, offerings, token},
 *           SESSION_SNAPSHOT, SESSION_REPLAY {offset}, SESSION_PONG {id}
 *
 * Each is a JSON object {"type": NAME, BODY: {...}}; a frame without a
 * SESSION_* "type" is a data message.
 */
#ifndef ORA_SMSG_H
#define ORA_SMSG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define ORA_SMSG_ID_MAX 128    /* bytes of a ping id kept (as JSON text) */
#define ORA_SMSG_CODE_MAX 64   /* bytes of an error code kept */
#define ORA_SMSG_TEXT_MAX 160  /* bytes of an error message kept */

/* One frame, as far as the session cares. */
typedef struct ora_smsg {
    int type;        /* enum ora_session (ora.h); ORA_S_NONE for data */
    int bad;         /* a session message with a missing/ill-typed field */
    int64_t offset;  /* data: "offset"; SNAPSHOT_COMPLETED, REPLAY_COMPLETED,
                        REPLAY: their offset; -1 when absent */
    /* PING, PONG: the "id" value as compact JSON text ("\"17\"" or 17), ""
     * when absent */
    char id[ORA_SMSG_ID_MAX];
    char code[ORA_SMSG_CODE_MAX];  /* ERROR: code ("" when absent) */
    char text[ORA_SMSG_TEXT_MAX];  /* ERROR: message, printable ASCII only */
} ora_smsg;

/* Classifies one frame (untrusted bytes). A frame whose top-level "type" is
 * a SESSION_* string is parsed fully (session messages are small); any
 * other frame is scanned only for its top-level "offset". Returns 0, or -1
 * when the frame is not a well-formed JSON object at top level (m->type is
 * then ORA_S_NONE and m->offset -1: treat it as data). An unknown SESSION_*
 * type gives type ORA_S_NONE and bad = 1. bad is set when a body is not an
 * object, and for PING/PONG without a usable id, ERROR without a code,
 * REPLAY without an offset in 0..2^53. The offerings and token of an
 * INITIALIZE are left to ora_smsg_initialize(). */
int ora_smsg_parse(const uint8_t *msg, size_t len, ora_smsg *m);

#define ORA_SINIT_MAX_OFFERINGS 64
#define ORA_SINIT_NAME_MAX 64     /* bytes of an offering name, NUL included */
#define ORA_SINIT_VERSION_MAX 16
#define ORA_SINIT_TOKEN_MAX 8192

/* The body of a SESSION_INITIALIZE, as a server checks it. */
typedef struct ora_sinit {
    int has_version;               /* "protocolVersion" is a short string */
    char version[ORA_SINIT_VERSION_MAX];
    int has_offerings;             /* "offerings" is an array of short strings */
    size_t n_offerings;
    char offerings[ORA_SINIT_MAX_OFFERINGS][ORA_SINIT_NAME_MAX];
    char *token;                   /* malloc'd, NULL when absent, not a string or too long */
    size_t token_len;
    const char *error;             /* the first unusable field (static), NULL when none */
} ora_sinit;

/* Parses the body of a SESSION_INITIALIZE frame (len bytes) into *in, which
 * it initialises; every field is checked for type and bounded in size.
 * Returns 0, or -1 when the frame is not a SESSION_INITIALIZE with an
 * object body (in->error says why). Either way the caller calls
 * ora_sinit_free() afterwards. */
int ora_smsg_initialize(const uint8_t *msg, size_t len, ora_sinit *in);

/* Wipes and frees the token. */
void ora_sinit_free(ora_sinit *in);

/* What to build: type, and the fields that type has. */
typedef struct ora_smsg_args {
    int type;                       /* enum ora_session */
    const char *const *offerings;   /* INITIALIZE: offerings[0..n_offerings) */
    size_t n_offerings;
    const char *token;              /* INITIALIZE (required) */
    int64_t offset;                 /* REPLAY, SNAPSHOT_COMPLETED, REPLAY_COMPLETED:
                                       0..ORA_OFFSET_MAX */
    const char *id;                 /* PING, PONG: JSON text of a string or a
                                       number; NULL or "" for none */
    const char *code, *message;     /* ERROR: code (required), message (may be NULL) */
} ora_smsg_args;

/* Appends the JSON text of the message to out. The caller wipes out after
 * sending an INITIALIZE (it holds the token). Returns 0, or -1 (ENOMEM, or
 * EINVAL for an unknown type, a missing token or code, an offset out of
 * range, or an id that is not a JSON string or number). */
int ora_smsg_build(const ora_smsg_args *a, ora_buf *out);

/* Appends to out one gzip member (stored deflate blocks: commands are tiny,
 * and no compressor state keeps a copy of the token) holding one frame:
 * [u32 big-endian n][json]. Returns 0, or -1 (ENOMEM, EINVAL for n >= 2^32). */
int ora_smsg_frame(const uint8_t *json, size_t n, ora_buf *out);

#endif
