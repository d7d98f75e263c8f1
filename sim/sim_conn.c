/* sim_conn.c: one client connection and its TLS transport (see sim_conn.h). */
#include "sim_conn.h"
#include "cli.h"
#include "rnd.h"

#include <errno.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

sim_conn *sim_conn_new(sim_srv *s, int fd, int auth, uint64_t id)
{
    sim_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->srv = s;
    c->fd = fd;
    c->auth = auth;
    c->id = id;
    c->rng = (s->o->model.seed + 1) * 0x9e3779b97f4a7c15ull + id * 0xbf58476d1ce4e5b9ull;
    if (!c->rng)
        c->rng = 1;
    c->ssl = SSL_new(s->ctx);
    c->dec = ora_wire_new(&(ora_wire_limits){.max_frame = 1u << 20, .max_ratio = 1000});
    c->enc = ora_wire_enc_new(s->o->level);
    if (!c->ssl || !c->dec || !c->enc || !SSL_set_fd(c->ssl, fd)) {
        c->fd = -1;
        sim_conn_free(c);
        return NULL;
    }
    return c;
}

void sim_conn_free(sim_conn *c)
{
    ora_sinit_free(&c->init);
    SSL_free(c->ssl);
    ora_wire_free(c->dec);
    ora_wire_enc_free(c->enc);
    ora_buf_free(&c->out);
    ora_buf_free(&c->plain);
    ora_buf_free(&c->smsg);
    if (c->zs_ready)
        deflateEnd(&c->zs);
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

const char *sim_ssl_error(void)
{
    static _Thread_local char buf[256];
    unsigned long e = ERR_get_error();
    if (!e)
        return errno ? strerror(errno) : "connection closed";
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

SSL_CTX *sim_conn_ctx_new(sim_srv *s)
{
    const sim_server_opts *o = s->o;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    const char *what = "load the server certificate";
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1)
        goto fail;
    what = "load the server key";
    if (SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        goto fail;
    what = "load the CA for client certificates";
    if (SSL_CTX_load_verify_locations(ctx, o->cacert, NULL) != 1)
        goto fail;
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->cacert);
    if (!names)
        goto fail;
    SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return ctx;
fail:
    sim_srv_note(s, ORA_LOG_ERROR, "unable to %s: %s", what, sim_ssl_error());
    SSL_CTX_free(ctx);
    return NULL;
}

void sim_conn_note(const sim_conn *c, int lvl, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    sim_srv_note(c->srv, lvl, "conn %llu: %s", (unsigned long long)c->id, text);
}

uint64_t sim_conn_rand(sim_conn *c) { return ora_xorshift64(&c->rng); }

uint32_t sim_conn_range(sim_conn *c, uint32_t a, uint32_t b)
{
    return b > a ? a + (uint32_t)(sim_conn_rand(c) % (b - a + 1)) : a;
}

int sim_conn_wait(sim_conn *c, short ev, int ms)
{
    struct pollfd p = {.fd = c->fd, .events = ev};
    int r = poll(&p, 1, ms);
    return r < 0 && errno == EINTR ? 0 : r;
}

int sim_conn_handshake(sim_conn *c)
{
    double deadline = cli_now() + 10;
    ERR_clear_error();
    for (;;) {
        int r = SSL_accept(c->ssl);
        if (r == 1)
            return 0;
        int e = SSL_get_error(c->ssl, r);
        if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && !sim_srv_quitting(c->srv) &&
            cli_now() < deadline) {
            sim_conn_wait(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, 100);
            continue;
        }
        sim_conn_note(c, ORA_LOG_INFO, "TLS handshake failed: %s", sim_ssl_error());
        return -1;
    }
}

int sim_conn_write(sim_conn *c, const uint8_t *p, size_t n)
{
    double timeout = c->srv->o->write_timeout;
    double deadline = cli_now() + timeout;
    while (n) {
        size_t w = 0;
        ERR_clear_error();
        if (SSL_write_ex(c->ssl, p, n, &w)) {
            p += w;
            n -= w;
            continue;
        }
        int e = SSL_get_error(c->ssl, 0);
        if ((e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) && !sim_srv_quitting(c->srv)) {
            if (timeout > 0 && cli_now() > deadline) {
                sim_conn_note(c, ORA_LOG_INFO, "the client read nothing for %gs: dropping it", timeout);
                return SR_ERR;
            }
            sim_conn_wait(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, 100);
            continue;
        }
        sim_conn_note(c, ORA_LOG_INFO, "write failed: %s", sim_ssl_error());
        return SR_ERR;
    }
    return SR_OK;
}

void sim_conn_close(sim_conn *c, int graceful)
{
    if (graceful && !c->abrupt) {
        ERR_clear_error();
        SSL_shutdown(c->ssl);
        return;
    }
    shutdown(c->fd, SHUT_WR);
    double until = cli_now() + 0.5;
    char tmp[4096];
    while (cli_now() < until && sim_conn_wait(c, POLLIN, 50) >= 0) {
        ssize_t r = read(c->fd, tmp, sizeof tmp);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
            break;
    }
}
