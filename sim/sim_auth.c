/* sim_auth.c: the HTTPS token endpoint (see sim_auth.h). */
#include "sim_auth.h"
#include "cli.h"
#include "jwt.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int reply(sim_conn *c, const char *status, const char *extra, const char *body)
{
    char h[512];
    size_t bl = strlen(body);
    int n = snprintf(h, sizeof h, "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n", status, bl, extra);
    int rc = sim_conn_write(c, (const uint8_t *)h, (size_t)n);
    if (rc == SR_OK && bl)
        rc = sim_conn_write(c, (const uint8_t *)body, bl);
    return rc;
}

/* The client certificate's common name, reduced to [A-Za-z0-9 ._-] (it
 * goes into the token's JSON as is); "unknown" without one. */
static void client_cn(sim_conn *c, char *out, size_t n)
{
    snprintf(out, n, "unknown");
    X509 *x = SSL_get1_peer_certificate(c->ssl);
    if (!x)
        return;
    char cn[128];
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn) > 0) {
        for (char *p = cn; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                  *p == '-' || *p == '.' || *p == '_' || *p == ' '))
                *p = '_';
        snprintf(out, n, "%s", cn);
    }
    X509_free(x);
}

/* Reads up to the end of the request head into req (NUL-terminated).
 * 0, 1 when it does not fit, -1 when the client went away or was silent
 * for 10 s. */
static int read_head(sim_conn *c, char *req, size_t cap)
{
    size_t n = 0;
    double deadline = cli_now() + 10;
    while (!memmem(req, n, "\r\n\r\n", 4)) {
        if (n == cap - 1)
            return 1;
        size_t got = 0;
        ERR_clear_error();
        if (!SSL_read_ex(c->ssl, req + n, cap - 1 - n, &got)) {
            int e = SSL_get_error(c->ssl, 0);
            if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && !sim_srv_quitting(c->srv) &&
                cli_now() < deadline) {
                sim_conn_wait(c, POLLIN, 100);
                continue;
            }
            return -1;
        }
        n += got;
    }
    req[n] = '\0';
    return 0;
}

int sim_auth_serve(sim_conn *c)
{
    sim_srv *s = c->srv;
    char req[8192];
    int h = read_head(c, req, sizeof req);
    if (h > 0)
        return reply(c, "431 Request Header Fields Too Large", "", "request too large\n"), SR_CLOSE;
    if (h < 0)
        return SR_CLOSE;
    s->st.auth_requests++;
    char *sp1 = strchr(req, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    char *eol = strstr(req, "\r\n");
    if (!sp1 || !sp2 || sp2 > eol || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
        return reply(c, "400 Bad Request", "", "bad request\n"), SR_CLOSE;
    *sp1 = *sp2 = '\0';
    char *path = sp1 + 1, *q = strchr(path, '?');
    if (q)
        *q = '\0';
    if (strcmp(path, "/auth") != 0 && strcmp(path, "/token") != 0) {
        sim_conn_note(c, ORA_LOG_INFO, "auth: 404 for %.64s", path);
        return reply(c, "404 Not Found", "", "not found\n"), SR_CLOSE;
    }
    if (strcmp(req, "GET") != 0) {
        sim_conn_note(c, ORA_LOG_INFO, "auth: 405 for %.16s", req);
        return reply(c, "405 Method Not Allowed", "Allow: GET\r\n", "method not allowed\n"), SR_CLOSE;
    }
    if (s->auth_served++ < s->o->faults.auth_fail) {
        s->st.faults++;
        sim_conn_note(c, ORA_LOG_INFO, "fault auth-fail: 503");
        return reply(c, "503 Service Unavailable", "Retry-After: 1\r\n", "try again later\n"), SR_CLOSE;
    }
    char cn[128], claims[512];
    client_cn(c, cn, sizeof cn);
    int64_t now = (int64_t)time(NULL);
    snprintf(claims, sizeof claims, "{\"sub\":\"%s\",\"aud\":\"ora-sim\",\"iat\":%lld,\"exp\":%lld,\"jti\":\"%llu\"}",
             cn, (long long)now, (long long)(now + s->o->token_ttl), (unsigned long long)c->id);
    char *tok = jwt_sign_hs256(s->jwt_key, sizeof s->jwt_key, claims);
    if (!tok)
        return reply(c, "500 Internal Server Error", "", "out of memory\n"), SR_CLOSE;
    s->st.tokens++; /* before the reply: a client that has it sees it counted */
    int rc = reply(c, "200 OK", "", tok);
    sodium_memzero(tok, strlen(tok));
    free(tok);
    sim_conn_note(c, ORA_LOG_INFO, "auth: token issued to %s, valid %llds", cn, (long long)s->o->token_ttl);
    return rc == SR_OK ? SR_CLOSE : rc;
}
