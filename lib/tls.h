/* tls.h: the TLS client of ora-connect (doc/design.md §2): OpenSSL, TLS >= 1.2,
 * SNI, a client certificate, chain verification against a CA file and host
 * name verification against a name or a wildcard pattern, on a
 * non-blocking TCP socket with TCP_NODELAY.
 *
 * Errors are returned with a one-line description (never key material) and
 * a kind (enum ora_tls_kind) so the caller can tell a network hiccup from a
 * refused certificate. Nothing here prints or exits.
 */
#ifndef ORA_TLS_H
#define ORA_TLS_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

/* ---- credential files -------------------------------------------------- */

/* A certificate, key or CA file read once, through a checked descriptor,
 * and then used from memory only: nothing opens it by its path again, so a
 * file swapped later is never seen. */
typedef struct ora_cred {
    char *p;       /* the bytes, NUL-terminated; a key's in sodium_malloc()
                      memory (locked, guarded, wiped when freed) */
    size_t len;
    int secret;
} ora_cred;

#define ORA_CRED_MAX (1u << 20)   /* largest credential file read */

enum ora_cred_flag {
    ORA_CRED_KEY = 1,       /* a private key: the checks below, locked memory */
    ORA_CRED_ANY_MODE = 2   /* a key that group or others may access is accepted */
};
enum { ORA_CRED_E_MODE = -2 };

/* Reads path (a "private key", "client certificate" or "CA file", as
 * what says) into *out. The file must be a regular file of at most
 * ORA_CRED_MAX bytes. A key (ORA_CRED_KEY) is opened with O_NOFOLLOW (a
 * symbolic link is refused), and its descriptor fstat'ed: it must belong to
 * the running user or root, and give group and others no access unless
 * ORA_CRED_ANY_MODE. Returns 0; ORA_CRED_E_MODE when only the mode is
 * wrong; -1 otherwise; on failure err holds one line naming the file and
 * the reason (the OS's, from strerror, for a file that cannot be read). */
int ora_cred_read(const char *what, const char *path, unsigned flags, ora_cred *out, char *err, size_t errlen);
/* Wipes and frees the bytes. Safe on an empty ora_cred. */
void ora_cred_free(ora_cred *c);

typedef struct ora_tls_cfg {
    const char *cert;         /* client certificate (chain) file, PEM */
    const char *key;          /* its private key file, PEM, unencrypted */
    const char *cacert;       /* CA file the server chain must verify against */
    const char *verify_name;  /* name or pattern ("*.example.com") the server
                                 certificate must match; NULL: the host */
    /* The same files as read by ora_cred_read(): when set, they are used
     * from memory and the paths above only name them in errors. */
    const ora_cred *cert_pem, *key_pem, *ca_pem;
} ora_tls_cfg;

enum ora_tls_kind {
    ORA_TLS_OK = 0,
    ORA_TLS_E_NET,        /* resolve/connect/timeout/reset/EOF: retry later */
    ORA_TLS_E_UNTRUSTED,  /* server chain does not verify against the CA */
    ORA_TLS_E_NAME,       /* server certificate does not match the name */
    ORA_TLS_E_REJECTED,   /* the server refused our client certificate */
    ORA_TLS_E_PROTO,      /* another TLS failure */
    ORA_TLS_E_CANCEL,     /* *cancel became nonzero */
    ORA_TLS_E_CONFIG,     /* our own files or settings are unusable */
    ORA_TLS_E_NOMEM
};
const char *ora_tls_kind_name(int kind);   /* "network", "untrusted", ... */

typedef struct ora_tls_ctx ora_tls_ctx;
typedef struct ora_tls_conn ora_tls_conn;

/* Loads the certificate, key and CA file and checks that the key belongs to
 * the certificate. Returns NULL with a description in err (kind CONFIG or
 * NOMEM in *kind) when something is unusable. */
ora_tls_ctx *ora_tls_ctx_new(const ora_tls_cfg *cfg, int *kind, char *err, size_t errlen);
void ora_tls_ctx_free(ora_tls_ctx *ctx);

/* Connects to host:port and completes the handshake within timeout seconds
 * (checking *cancel, when not NULL, every 100 ms). On success returns
 * ORA_TLS_OK and *out (owned by the caller: ora_tls_close()); else a kind
 * and a description in err. */
int ora_tls_connect(ora_tls_ctx *ctx, const char *host, const char *port, double timeout,
                    const volatile sig_atomic_t *cancel, ora_tls_conn **out,
                    char *err, size_t errlen);

/* A diagnosis, for a server that closed a connection (of another client,
 * such as libcurl) without saying why: connects to host:port as
 * ora_tls_connect() does, but verifying the server against name (NULL: the
 * host) instead of the context's --verify-name, then waits up to wait
 * seconds for the server's first bytes. Returns ORA_TLS_E_REJECTED (with
 * TLS 1.3 a refused client certificate is only told after the handshake),
 * another failure kind, or ORA_TLS_OK when nothing went wrong in that time;
 * err describes it. */
int ora_tls_probe(ora_tls_ctx *ctx, const char *host, const char *port, const char *name,
                  double timeout, double wait, char *err, size_t errlen);

#define ORA_TLS_AGAIN (-1)  /* would block: poll fd for ora_tls_*_events() */
#define ORA_TLS_ERROR (-2)  /* failed: ora_tls_error(), ora_tls_error_kind() */

/* Reads up to n bytes: > 0 bytes read; 0 when the peer closed the
 * connection; ORA_TLS_AGAIN; ORA_TLS_ERROR. */
ssize_t ora_tls_read(ora_tls_conn *c, void *buf, size_t n);
/* Writes up to n bytes (partial writes happen): > 0 bytes written;
 * ORA_TLS_AGAIN (call again with the same bytes); ORA_TLS_ERROR. */
ssize_t ora_tls_write(ora_tls_conn *c, const void *buf, size_t n);

int ora_tls_fd(const ora_tls_conn *c);
/* poll() events the last AGAIN of a read / a write waits for (POLLIN or
 * POLLOUT); 0 when that side is not blocked. */
short ora_tls_read_events(const ora_tls_conn *c);
short ora_tls_write_events(const ora_tls_conn *c);
/* Nonzero when decrypted bytes are buffered (read without polling). */
int ora_tls_pending(const ora_tls_conn *c);
const char *ora_tls_error(const ora_tls_conn *c);
int ora_tls_error_kind(const ora_tls_conn *c);
/* Protocol version and cipher, e.g. "TLSv1.3 TLS_AES_256_GCM_SHA384". */
const char *ora_tls_describe(const ora_tls_conn *c, char *buf, size_t n);

/* Sends close_notify (without waiting), closes the socket, frees c. */
void ora_tls_close(ora_tls_conn *c);

/* Host name patterns. A pattern is a DNS name, or "*." followed by a DNS
 * name of at least two labels ("*.example.com"); '*' is allowed nowhere
 * else. Returns 1 when valid. */
int ora_tls_pattern_valid(const char *pattern);
/* Nonzero when a certificate DNS name matches pattern (both compared
 * without case and without one trailing dot). A "*.S" pattern matches
 * "L.S" for one non-empty label L of letters, digits, '-' and '_', and a
 * wildcard certificate name "*.S" itself; a DNS-name pattern matches that
 * name, or a wildcard certificate name "*.S" when it is "L.S" with S of at
 * least two labels. name is len bytes, possibly not NUL-terminated; a name
 * holding a NUL or other odd bytes never matches. */
int ora_tls_name_match(const char *pattern, const char *name, size_t len);

#endif
