/* sim_conn.h: one client connection of ora-sim and its TLS transport.
 *
 * A connection belongs to the one thread that serves it. The struct holds
 * the state of every layer above the socket, each part owned by the module
 * named beside it; this file's functions touch only the transport part.
 *
 * Results of the functions that move bytes (here, sim_send, sim_session,
 * sim_auth) are one of:
 *   SR_OK     go on;
 *   SR_ERR    the connection failed (peer gone, write timeout, out of
 *             memory): close without a goodbye;
 *   SR_CLOSE  the conversation is over: close, with a TLS close_notify
 *             unless c->abrupt says the end must look like a cut cable.
 */
#ifndef ORA_SIM_CONN_H
#define ORA_SIM_CONN_H

#include <openssl/ssl.h>
#include <stdint.h>
#include <zlib.h>

#include "buf.h"
#include "sim_srv.h"
#include "smsg.h"
#include "wire.h"

enum { SR_OK = 0, SR_ERR = -1, SR_CLOSE = -2 };

typedef struct sim_conn {
    sim_srv *srv;
    int fd;
    SSL *ssl;
    int auth;                   /* accepted on the auth port, not the ORA port */
    uint64_t id;                /* 1, 2, ... in accept order (names it in diagnostics) */
    uint64_t rng;               /* xorshift state: chunk sizes, members, splits */
    uint64_t msgs, bytes;       /* data messages and bytes sent so far */
    int abrupt;                 /* end with FIN only, no close_notify */
    /* outgoing wire (sim_send.c) */
    ora_wire_enc *enc;
    z_stream zs;                /* for members that end inside a frame */
    int zs_ready;
    ora_buf out, plain;
    /* incoming wire and the session (sim_session.c) */
    ora_wire *dec;
    int pinging;
    uint64_t ping_seq;
    double next_ping, ping_sent;
    int ping_pending;
    char ping_id[32];
    ora_smsg cmd;               /* the one command waited for (not PONG) */
    ora_sinit init;             /* its body when it is an INITIALIZE */
    int have_cmd;
    ora_buf smsg;               /* a session message being built */
    uint8_t rbuf[16384];
} sim_conn;

/* A connection for an accepted socket fd (owned from now on), with its
 * TLS object, decoder and encoder. NULL when out of memory (fd is then
 * still the caller's). */
sim_conn *sim_conn_new(sim_srv *s, int fd, int auth, uint64_t id);

/* Frees c and closes its socket. */
void sim_conn_free(sim_conn *c);

/* The server's TLS context for opts (certificate, key, CA of the client
 * certificates, which are required). NULL on failure, noted. */
SSL_CTX *sim_conn_ctx_new(sim_srv *s);

/* Passes "conn N: " and the formatted text to the server's note. */
void sim_conn_note(const sim_conn *c, int lvl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The next pseudo-random number of the connection; one in [a, b] (a when
 * b <= a). */
uint64_t sim_conn_rand(sim_conn *c);
uint32_t sim_conn_range(sim_conn *c, uint32_t a, uint32_t b);

/* poll() for ev on the socket for up to ms: >0 ready, 0 not (or EINTR),
 * <0 error. */
int sim_conn_wait(sim_conn *c, short ev, int ms);

/* The server side of the handshake, for up to 10 s. 0, or -1 (noted). */
int sim_conn_handshake(sim_conn *c);

/* Writes all n bytes, waiting for the socket; a client that reads nothing
 * for opts.write_timeout is given up on. SR_OK or SR_ERR (noted). */
int sim_conn_write(sim_conn *c, const uint8_t *p, size_t n);

/* Ends the connection: a TLS close_notify when graceful and not abrupt;
 * else a FIN after what was sent, reading (for up to 0.5 s) what the client
 * still sends so that the kernel does not answer it with a reset. */
void sim_conn_close(sim_conn *c, int graceful);

/* The pending OpenSSL error as text (or errno's, or "connection closed");
 * clears the OpenSSL error queue. Valid until the thread's next call. */
const char *sim_ssl_error(void);

#endif
