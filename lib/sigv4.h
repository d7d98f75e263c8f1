/* sigv4.h: AWS Signature Version 4, Authorization-header signing
 * (HMAC-SHA256 via OpenSSL). Pure functions: no I/O, no clock.
 *
 * The signer canonicalises what it is given exactly as AWS does:
 *  - path: optionally normalised (dot segments removed, repeated slashes
 *    collapsed), then every byte except unreserved ones and '/' is
 *    percent-encoded (the "double encoding" every service except S3 uses);
 *  - query: split on '&', each name and value decoded then re-encoded,
 *    sorted by name then value;
 *  - headers: names lower-cased, values trimmed with inner whitespace runs
 *    (including obs-fold line breaks) collapsed to one space, repeated
 *    names joined with ',' in the order given, sorted by name.
 * It adds x-amz-date, x-amz-security-token (when a token is set and
 * sign_token is nonzero) and x-amz-content-sha256 (when asked) to the
 * signed headers; the caller must send the same headers it gave plus the
 * ones in sigv4_out.
 * Buffers that held the session token are wiped before they are freed.
 */
#ifndef ORA_SIGV4_H
#define ORA_SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "buf.h"

typedef struct sigv4_header {
    const char *name;
    const char *value;
} sigv4_header;

typedef struct sigv4_params {
    const char *access_key;   /* key id */
    const char *secret_key;   /* secret: used, never copied out */
    const char *token;        /* session token or NULL */
    const char *region;
    const char *service;
    const char *amz_date;     /* "YYYYMMDDTHHMMSSZ" (sigv4_amz_date) */
    int normalize_path;       /* 1 for every service but S3 */
    int sign_token;           /* 1: token is a signed header (the usual) */
    int content_sha256;       /* 1: add and sign x-amz-content-sha256 */
} sigv4_params;

typedef struct sigv4_request {
    const char *method;        /* "POST" */
    const char *path;          /* raw path without query, e.g. "/" */
    const char *query;         /* raw query without '?', or NULL */
    const sigv4_header *headers; /* as sent, including Host */
    size_t nheaders;
    const void *body;          /* may be NULL when body_len is 0 */
    size_t body_len;
} sigv4_request;

typedef struct sigv4_out {
    ora_buf canonical;         /* canonical request (no NUL) */
    ora_buf string_to_sign;    /* (no NUL) */
    char payload_hash[65];     /* hex SHA-256 of the body */
    char signature[65];        /* hex */
    char signed_headers[512];  /* "host;x-amz-date" */
    char authorization[1024];  /* value of the Authorization header */
} sigv4_out;

/* Formats t (UTC) as "YYYYMMDDTHHMMSSZ" into out[17]. */
void sigv4_amz_date(time_t t, char out[17]);

/* Hex SHA-256 of data into out[65]. */
void sigv4_sha256_hex(const void *data, size_t n, char out[65]);

/* kSigning = HMAC chain over "AWS4"+secret, date (8 chars), region,
 * service, "aws4_request". Intermediate secrets are wiped. */
void sigv4_signing_key(const char *secret, const char *date8, const char *region,
                       const char *service, uint8_t key[32]);

/* Signs rq with p. out must be zeroed (or from a previous call: it is
 * reused). Returns 0, or -1 with errno EINVAL (bad date, too many/too long
 * headers) or ENOMEM. Free with sigv4_out_free(). */
int sigv4_sign(const sigv4_request *rq, const sigv4_params *p, sigv4_out *out);
void sigv4_out_free(sigv4_out *out);

/* Canonical URI of a raw path (normalised or not), appended to b. 0 / -1. */
int sigv4_canonical_path(const char *path, int normalize, ora_buf *b);
/* Canonical query of a raw query string, appended to b. 0 / -1. */
int sigv4_canonical_query(const char *query, ora_buf *b);

#endif
