/* jwt.c: HS256 JSON Web Tokens (see jwt.h). */
#include "jwt.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

static const char jwt_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

/* Appends base64url(p, n) at out (room for sodium_base64_ENCODED_LEN). */
static size_t b64(char *out, const void *p, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, B64);
    sodium_bin2base64(out, cap, p, n, B64);
    return strlen(out);
}

static int hmac(const uint8_t *key, size_t key_len, const char *p, size_t n, uint8_t mac[32])
{
    unsigned int mlen = 0;
    if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)p, n, mac, &mlen) || mlen != 32)
        return -1;
    return 0;
}

char *jwt_sign_hs256(const uint8_t *key, size_t key_len, const char *claims)
{
    size_t hl = sizeof jwt_header - 1, cl = strlen(claims);
    size_t cap = sodium_base64_ENCODED_LEN(hl, B64) + sodium_base64_ENCODED_LEN(cl, B64)
                 + sodium_base64_ENCODED_LEN(32, B64) + 4;
    char *t = malloc(cap);
    if (!t)
        return NULL;
    size_t n = b64(t, jwt_header, hl);
    t[n++] = '.';
    n += b64(t + n, claims, cl);
    uint8_t mac[32];
    if (hmac(key, key_len, t, n, mac) < 0) {
        free(t);
        return NULL;
    }
    t[n++] = '.';
    n += b64(t + n, mac, sizeof mac);
    sodium_memzero(mac, sizeof mac);
    return t;
}

/* Decodes base64url part [p, p+n) into a malloc'd NUL-terminated buffer. */
static char *unb64(const char *p, size_t n, size_t *out_len)
{
    char *o = malloc(n + 1);
    size_t ol = 0;
    if (!o)
        return NULL;
    const char *end = NULL;
    if (sodium_base642bin((unsigned char *)o, n, p, n, NULL, &ol, &end, B64) != 0 || end != p + n) {
        free(o);
        return NULL;
    }
    o[ol] = '\0';
    if (out_len)
        *out_len = ol;
    return o;
}

int jwt_verify_hs256(const uint8_t *key, size_t key_len, const char *tok, size_t len,
                     int64_t now, int64_t *exp)
{
    const char *d1 = memchr(tok, '.', len);
    if (!d1 || d1 == tok)
        return JWT_MALFORMED;
    const char *d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok));
    if (!d2 || d2 == d1 + 1 || d2 + 1 == tok + len)
        return JWT_MALFORMED;
    if (memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)))
        return JWT_MALFORMED;

    int rc = JWT_MALFORMED;
    char *hdr = NULL, *cl = NULL, *sig = NULL;
    cJSON *hj = NULL, *cj = NULL;
    size_t hlen, clen, slen;
    if (!(hdr = unb64(tok, (size_t)(d1 - tok), &hlen)) ||
        !(cl = unb64(d1 + 1, (size_t)(d2 - d1 - 1), &clen)) ||
        !(sig = unb64(d2 + 1, len - (size_t)(d2 + 1 - tok), &slen)))
        goto out;
    if (!(hj = cJSON_ParseWithLength(hdr, hlen)) || !cJSON_IsObject(hj))
        goto out;
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(hj, "alg");
    if (!cJSON_IsString(alg)) {
        goto out;
    }
    if (strcmp(alg->valuestring, "HS256") != 0) {
        rc = JWT_BAD_ALG;
        goto out;
    }
    if (!(cj = cJSON_ParseWithLength(cl, clen)) || !cJSON_IsObject(cj))
        goto out;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(cj, "exp");
    if (!cJSON_IsNumber(e))
        goto out;
    uint8_t mac[32];
    if (hmac(key, key_len, tok, (size_t)(d2 - tok), mac) < 0) {
        rc = JWT_NOMEM;
        goto out;
    }
    if (slen != sizeof mac || sodium_memcmp(mac, sig, sizeof mac) != 0) {
        rc = JWT_BAD_SIG;
        goto out;
    }
    int64_t ev = e->valuedouble >= 9.2e18 ? INT64_MAX
               : e->valuedouble <= -9.2e18 ? INT64_MIN : (int64_t)e->valuedouble;
    if (exp)
        *exp = ev;
    rc = now >= ev ? JWT_EXPIRED : JWT_OK;
out:
    cJSON_Delete(hj);
    cJSON_Delete(cj);
    free(hdr);
    if (cl) {
        sodium_memzero(cl, strlen(cl));
        free(cl);
    }
    free(sig);
    return rc;
}

const char *jwt_strerror(int rc)
{
    switch (rc) {
    case JWT_OK: return "valid";
    case JWT_MALFORMED: return "malformed token";
    case JWT_BAD_ALG: return "algorithm is not HS256";
    case JWT_BAD_SIG: return "bad signature";
    case JWT_EXPIRED: return "token expired";
    case JWT_NOMEM: return "out of memory";
    }
    return "unknown error";
}
