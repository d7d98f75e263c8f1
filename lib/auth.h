/* auth.h: the JWT of an ORA session (doc/design.md §2): an HTTPS GET to the auth
 * URL with a client certificate; the body is the token.
 *
 * The token is a secret: it lives in memory from sodium_malloc() that is
 * wiped (sodium_free() zeroes it) when it is replaced or freed, and it never
 * appears in an error text. Nothing here prints or exits.
 * The caller runs curl_global_init() and sodium_init() once at start.
 */
#ifndef ORA_AUTH_H
#define ORA_AUTH_H

#include <signal.h>
#include <stddef.h>

#include "tls.h"

#define ORA_JWT_MAX 16384   /* longest token accepted, bytes */

typedef struct ora_auth_cfg {
    const char *url;         /* https:// URL */
    const char *cert;        /* client certificate, PEM */
    const char *key;         /* its private key, PEM */
    const char *cacert;      /* CA file for the server */
    double connect_timeout;  /* seconds */
    double timeout;          /* seconds for the whole request */
    const volatile sig_atomic_t *cancel;  /* abort when it becomes nonzero (or NULL) */
    /* The same files as read once by ora_cred_read() (tls.h): when set,
     * libcurl gets them from memory (CURLOPT_*_BLOB, not copied) and never
     * opens the paths, which then only name them in errors. */
    const ora_cred *cert_pem, *key_pem, *ca_pem;
} ora_auth_cfg;

/* The token: NUL-terminated printable ASCII, len bytes; p NULL when none. */
typedef struct ora_jwt {
    char *p;
    size_t len;
} ora_jwt;

enum ora_auth_kind {
    ORA_AUTH_OK = 0,
    ORA_AUTH_E_NET,        /* resolve/connect/timeout/5xx...: retry later */
    ORA_AUTH_E_UNTRUSTED,  /* the auth server's certificate does not verify */
    ORA_AUTH_E_REJECTED,   /* our client certificate refused (TLS alert, 401, 403) */
    ORA_AUTH_E_BODY,       /* the body is not a token (empty, too long, odd bytes) */
    ORA_AUTH_E_CONFIG,     /* our files or the URL are unusable */
    ORA_AUTH_E_CANCEL,     /* *cancel became nonzero */
    ORA_AUTH_E_NOMEM
};
const char *ora_auth_kind_name(int kind);

/* Fetches a new token. On success wipes and replaces *jwt and returns
 * ORA_AUTH_OK; otherwise leaves *jwt alone and returns a kind, with a
 * one-line description in err (the HTTP status or curl's reason; never the
 * body). */
int ora_auth_fetch(const ora_auth_cfg *cfg, ora_jwt *jwt, char *err, size_t errlen);

/* The URL as it may be logged: scheme, host, port and path, without user
 * information, query or fragment (which might hold a secret). Writes into
 * out (n bytes) and returns out; "(unparsable URL)" when curl cannot parse it. */
const char *ora_auth_display_url(const char *url, char *out, size_t n);

/* Wipes and frees the token (p becomes NULL). Safe on an empty jwt. */
void ora_jwt_clear(ora_jwt *jwt);

/* Checks a token body of n bytes and returns its length without trailing
 * white space, or 0 when it is empty or holds bytes outside printable
 * ASCII (a JWT is base64url and dots). Exposed for tests. */
size_t ora_jwt_check(const char *body, size_t n);

#endif
