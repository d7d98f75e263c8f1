/* sigv4.c: AWS Signature Version 4 header signing (see sigv4.h). */
#include "sigv4.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sodium.h>

#define MAX_HDRS 64

static const char HEX[] = "0123456789abcdef";
static const char HEXU[] = "0123456789ABCDEF";

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX[p[i] >> 4];
        out[2 * i + 1] = HEX[p[i] & 15];
    }
    out[2 * n] = 0;
}

void sigv4_amz_date(time_t t, char out[17])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    if (strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        memcpy(out, "00000000T000000Z", 17);
}

void sigv4_sha256_hex(const void *data, size_t n, char out[65])
{
    uint8_t md[32];
    SHA256(data ? data : (const void *)"", n, md);
    hex(md, 32, out);
}

static void hmac(const uint8_t *key, size_t klen, const void *msg, size_t n, uint8_t out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)klen, msg, n, out, &len);
}

void sigv4_signing_key(const char *secret, const char *date8, const char *region,
                       const char *service, uint8_t key[32])
{
    /* "AWS4" + secret and the intermediate keys, in locked memory */
    size_t sl = strlen(secret);
    uint8_t *k0 = sodium_init() >= 0 ? sodium_malloc(sl + 4 + 64) : NULL; /* init: idempotent */
    if (!k0) { /* degrade: still deterministic, never crash */
        memset(key, 0, 32);
        return;
    }
    uint8_t *a = k0 + sl + 4, *b = a + 32;
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, sl);
    hmac(k0, sl + 4, date8, 8, a);
    hmac(a, 32, region, strlen(region), b);
    hmac(b, 32, service, strlen(service), a);
    hmac(a, 32, "aws4_request", 12, key);
    sodium_free(k0); /* wipes */
}

static int unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

static int enc_append(ora_buf *b, const char *s, size_t n, int keep_slash)
{
    if (ora_buf_reserve(b, n * 3) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            b->p[b->len++] = c;
        } else {
            b->p[b->len++] = '%';
            b->p[b->len++] = HEXU[c >> 4];
            b->p[b->len++] = HEXU[c & 15];
        }
    }
    return 0;
}

int sigv4_canonical_path(const char *path, int normalize, ora_buf *b)
{
    if (!path || !*path)
        return ora_buf_append(b, "/", 1);
    if (!normalize)
        return enc_append(b, path, strlen(path), 1);
    /* Split into segments, drop empty and ".", pop on "..". */
    size_t n = strlen(path);
    const char **seg = malloc((n + 1) * sizeof *seg);
    size_t *sl = malloc((n + 1) * sizeof *sl);
    size_t ns = 0;
    if (!seg || !sl) {
        free(seg), free(sl);
        errno = ENOMEM;
        return -1;
    }
    const char *p = path, *end = path + n;
    while (p < end) {
        const char *q = memchr(p, '/', (size_t)(end - p));
        if (!q)
            q = end;
        size_t l = (size_t)(q - p);
        if (l == 0 || (l == 1 && p[0] == '.')) {
            /* skip */
        } else if (l == 2 && p[0] == '.' && p[1] == '.') {
            if (ns)
                ns--;
        } else {
            seg[ns] = p;
            sl[ns++] = l;
        }
        p = q + 1;
    }
    int trailing = n > 0 && path[n - 1] == '/';
    int rc = ora_buf_append(b, "/", 1);
    for (size_t i = 0; rc == 0 && i < ns; i++) {
        rc = enc_append(b, seg[i], sl[i], 0);
        if (rc == 0 && (i + 1 < ns || trailing))
            rc = ora_buf_append(b, "/", 1);
    }
    free(seg);
    free(sl);
    return rc;
}

/* Decodes %XX (and '+' stays '+') then re-encodes into b. */
static int reenc(ora_buf *b, const char *s, size_t n)
{
    char *tmp = malloc(n + 1);
    size_t m = 0;
    if (!tmp) {
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char byte;
        size_t bl;
        /* two hex digits, either case, or it is no escape */
        if (s[i] == '%' && i + 2 < n && sodium_hex2bin(&byte, 1, s + i + 1, 2, NULL, &bl, NULL) == 0) {
            tmp[m++] = (char)byte;
            i += 2;
        } else {
            tmp[m++] = s[i];
        }
    }
    int rc = enc_append(b, tmp, m, 0);
    free(tmp);
    return rc;
}

typedef struct qpair {
    char *k, *v;
} qpair;

static int qcmp(const void *a, const void *b)
{
    const qpair *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

int sigv4_canonical_query(const char *query, ora_buf *b)
{
    if (!query || !*query)
        return 0;
    size_t n = strlen(query), np = 0, cap = 1;
    for (size_t i = 0; i < n; i++)
        cap += query[i] == '&';
    qpair *ps = calloc(cap, sizeof *ps);
    int rc = 0;
    if (!ps) {
        errno = ENOMEM;
        return -1;
    }
    const char *p = query, *end = query + n;
    while (p <= end && rc == 0) {
        const char *q = memchr(p, '&', (size_t)(end - p));
        if (!q)
            q = end;
        if (q > p) {
            const char *eq = memchr(p, '=', (size_t)(q - p));
            const char *ke = eq ? eq : q;
            ora_buf kb = ORA_BUF_INIT, vb = ORA_BUF_INIT;
            rc = reenc(&kb, p, (size_t)(ke - p));
            if (rc == 0 && eq)
                rc = reenc(&vb, eq + 1, (size_t)(q - eq - 1));
            if (rc == 0)
                rc = ora_buf_append(&kb, "", 1);
            if (rc == 0)
                rc = ora_buf_append(&vb, "", 1);
            ps[np].k = (char *)kb.p;
            ps[np++].v = (char *)vb.p;
        }
        p = q + 1;
    }
    if (rc == 0) {
        qsort(ps, np, sizeof *ps, qcmp);
        for (size_t i = 0; rc == 0 && i < np; i++)
            rc = ora_buf_printf(b, "%s%s=%s", i ? "&" : "", ps[i].k, ps[i].v);
    }
    for (size_t i = 0; i < np; i++)
        free(ps[i].k), free(ps[i].v);
    free(ps);
    return rc;
}

typedef struct chdr {
    char name[128];
    ora_buf value;
    size_t order;
} chdr;

static int hcmp(const void *a, const void *b)
{
    const chdr *x = a, *y = b;
    return strcmp(x->name, y->name);
}

/* Appends value trimmed, whitespace runs collapsed, to v. */
static int add_value(ora_buf *v, const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (ora_buf_reserve(v, n + 1) < 0)
        return -1;
    int sp = 0;
    for (size_t i = 0; i < n; i++) {
        if (isspace((unsigned char)s[i])) {
            sp = 1;
            continue;
        }
        if (sp)
            v->p[v->len++] = ' ';
        sp = 0;
        v->p[v->len++] = (uint8_t)s[i];
    }
    return 0;
}

static int add_hdr(chdr *h, size_t *nh, const char *name, const char *value)
{
    size_t nl = strlen(name);
    if (nl == 0 || nl >= sizeof h[0].name) {
        errno = EINVAL;
        return -1;
    }
    char lname[128];
    for (size_t i = 0; i <= nl; i++)
        lname[i] = (char)tolower((unsigned char)name[i]);
    for (size_t i = 0; i < *nh; i++) {
        if (strcmp(h[i].name, lname) == 0) {
            if (ora_buf_append(&h[i].value, ",", 1) < 0)
                return -1;
            return add_value(&h[i].value, value);
        }
    }
    if (*nh >= MAX_HDRS) {
        errno = EINVAL;
        return -1;
    }
    chdr *c = &h[(*nh)++];
    memcpy(c->name, lname, nl + 1);
    c->value = (ora_buf)ORA_BUF_SECRET_INIT; /* may be the session token */
    c->order = *nh;
    return add_value(&c->value, value);
}

int sigv4_sign(const sigv4_request *rq, const sigv4_params *p, sigv4_out *out)
{
    if (!p->amz_date || strlen(p->amz_date) != 16 || !p->access_key || !p->secret_key ||
        !p->region || !p->service || !rq->method) {
        errno = EINVAL;
        return -1;
    }
    out->canonical.len = 0;
    ora_buf_secret(&out->canonical); /* it holds the session token */
    out->string_to_sign.len = 0;
    sigv4_sha256_hex(rq->body, rq->body_len, out->payload_hash);

    chdr *h = calloc(MAX_HDRS, sizeof *h);
    size_t nh = 0;
    int rc = 0;
    if (!h) {
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; rc == 0 && i < rq->nheaders; i++)
        rc = add_hdr(h, &nh, rq->headers[i].name, rq->headers[i].value);
    if (rc == 0)
        rc = add_hdr(h, &nh, "x-amz-date", p->amz_date);
    if (rc == 0 && p->token && *p->token && p->sign_token)
        rc = add_hdr(h, &nh, "x-amz-security-token", p->token);
    if (rc == 0 && p->content_sha256)
        rc = add_hdr(h, &nh, "x-amz-content-sha256", out->payload_hash);
    if (rc == 0)
        qsort(h, nh, sizeof *h, hcmp);

    ora_buf *c = &out->canonical;
    if (rc == 0)
        rc = ora_buf_printf(c, "%s\n", rq->method);
    if (rc == 0)
        rc = sigv4_canonical_path(rq->path, p->normalize_path, c);
    if (rc == 0)
        rc = ora_buf_append(c, "\n", 1);
    if (rc == 0)
        rc = sigv4_canonical_query(rq->query, c);
    if (rc == 0)
        rc = ora_buf_append(c, "\n", 1);
    size_t sh = 0;
    out->signed_headers[0] = 0;
    for (size_t i = 0; rc == 0 && i < nh; i++) {
        rc = ora_buf_printf(c, "%s:", h[i].name);
        if (rc == 0)
            rc = ora_buf_append(c, h[i].value.p, h[i].value.len);
        if (rc == 0)
            rc = ora_buf_append(c, "\n", 1);
        size_t nl = strlen(h[i].name);
        if (sh + nl + 2 > sizeof out->signed_headers) {
            errno = EINVAL;
            rc = -1;
            break;
        }
        if (i)
            out->signed_headers[sh++] = ';';
        memcpy(out->signed_headers + sh, h[i].name, nl + 1);
        sh += nl;
    }
    for (size_t i = 0; i < nh; i++)
        ora_buf_free(&h[i].value); /* secret: wiped */
    free(h);
    if (rc == 0)
        rc = ora_buf_printf(c, "\n%s\n%s", out->signed_headers, out->payload_hash);
    if (rc < 0)
        return -1;

    char date8[9], creq_hash[65];
    memcpy(date8, p->amz_date, 8);
    date8[8] = 0;
    sigv4_sha256_hex(c->p, c->len, creq_hash);
    ora_buf *s = &out->string_to_sign;
    if (ora_buf_printf(s, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", p->amz_date, date8,
                       p->region, p->service, creq_hash) < 0)
        return -1;

    uint8_t sig[32], *key = sodium_init() >= 0 ? sodium_malloc(32) : NULL;
    if (!key) {
        errno = ENOMEM;
        return -1;
    }
    sigv4_signing_key(p->secret_key, date8, p->region, p->service, key);
    hmac(key, 32, s->p, s->len, sig);
    sodium_free(key);
    hex(sig, 32, out->signature);
    int n = snprintf(out->authorization, sizeof out->authorization,
                     "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
                     p->access_key, date8, p->region, p->service, out->signed_headers, out->signature);
    if (n < 0 || (size_t)n >= sizeof out->authorization) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

void sigv4_out_free(sigv4_out *out)
{
    ora_buf_free(&out->canonical); /* secret: wiped */
    ora_buf_free(&out->string_to_sign);
}
