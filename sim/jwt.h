/* jwt.h: JSON Web Tokens signed with HS256 (RFC 7519, RFC 7515), as the
 * ORA auth endpoint of ora-sim issues them and its session port checks them.
 * (ora-connect does not verify tokens: it only fetches and presents them.)
 */
#ifndef ORA_JWT_H
#define ORA_JWT_H

#include <stddef.h>
#include <stdint.h>

enum jwt_rc {
    JWT_OK = 0,
    JWT_MALFORMED = -1,     /* not three base64url parts, bad JSON, no "exp" */
    JWT_BAD_ALG = -2,       /* header "alg" is not "HS256" */
    JWT_BAD_SIG = -3,       /* signature does not match */
    JWT_EXPIRED = -4,       /* now >= exp */
    JWT_NOMEM = -5
};

/* Signs claims (the text of a JSON object, used as is) with key:
 * base64url(header) "." base64url(claims) "." base64url(HMAC-SHA256).
 * Returns a malloc'd NUL-terminated token (the caller wipes it with
 * sodium_memzero and frees it), or NULL when out of memory. */
char *jwt_sign_hs256(const uint8_t *key, size_t key_len, const char *claims);

/* Verifies a token of len bytes (need not be NUL-terminated): its shape,
 * alg HS256, the signature (constant time), and that the claims object has a
 * numeric "exp" greater than now (seconds since the epoch). On JWT_OK and
 * JWT_EXPIRED, *exp (when not NULL) receives the claim. Returns enum jwt_rc. */
int jwt_verify_hs256(const uint8_t *key, size_t key_len, const char *tok, size_t len,
                     int64_t now, int64_t *exp);

/* A short static description of rc ("expired", ...). */
const char *jwt_strerror(int rc);

#endif
