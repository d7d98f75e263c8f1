/* tls.c: see tls.h. */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct ora_tls_ctx {
    SSL_CTX *ssl;
    char *verify_name;   /* NULL: the host */
};

struct ora_tls_conn {
    SSL *ssl;
    int fd;
    short rev, wev;
    int kind;
    int broken;           /* a fatal error: no close_notify */
    char err[256];
    const char *pattern;  /* wildcard pattern checked in the verify callback */
};

static const char *const kind_names[] = {"ok", "network", "untrusted", "name", "rejected",
                                         "tls", "cancelled", "config", "nomem"};

const char *ora_tls_kind_name(int kind)
{
    return kind >= 0 && kind <= ORA_TLS_E_NOMEM ? kind_names[kind] : "unknown";
}

/* ---- names ------------------------------------------------------------- */

static int dns_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

/* A DNS name of labels of dns_char, no empty label; labels >= min_labels. */
static int dns_name_ok(const char *s, size_t n, int min_labels)
{
    if (n == 0 || n > 253)
        return 0;
    int labels = 1;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (run == 0)
                return 0;
            run = 0;
            labels++;
        } else if (dns_char((unsigned char)s[i])) {
            if (++run > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return run > 0 && labels >= min_labels;
}

static size_t strip_dot(const char *s, size_t n)
{
    return n > 1 && s[n - 1] == '.' ? n - 1 : n;
}

int ora_tls_pattern_valid(const char *p)
{
    if (!p)
        return 0;
    size_t n = strip_dot(p, strlen(p));
    if (n >= 2 && p[0] == '*' && p[1] == '.')
        return dns_name_ok(p + 2, n - 2, 2);
    return dns_name_ok(p, n, 1);
}

static int eq_nocase(const char *a, const char *b, size_t n)
{
    return strncasecmp(a, b, n) == 0;
}

int ora_tls_name_match(const char *pattern, const char *name, size_t len)
{
    if (!ora_tls_pattern_valid(pattern) || !name || memchr(name, 0, len))
        return 0;
    size_t pn = strip_dot(pattern, strlen(pattern));
    size_t nn = strip_dot(name, len);
    int pwild = pn >= 2 && pattern[0] == '*' && pattern[1] == '.';
    int nwild = nn >= 2 && name[0] == '*' && name[1] == '.';
    if (nwild ? !dns_name_ok(name + 2, nn - 2, 2) : !dns_name_ok(name, nn, 1))
        return 0;
    if (pwild && nwild)   /* the wildcard certificate "*.S" for the pattern "*.S" */
        return pn == nn && eq_nocase(pattern + 2, name + 2, pn - 2);
    if (!pwild && !nwild)
        return pn == nn && eq_nocase(pattern, name, pn);
    /* One side is "*.S", the other must be "L.S". */
    const char *w = pwild ? pattern : name, *h = pwild ? name : pattern;
    size_t wn = pwild ? pn : nn, hn = pwild ? nn : pn;
    const char *dot = memchr(h, '.', hn);
    if (!dot || dot == h)
        return 0;
    size_t rest = hn - (size_t)(dot + 1 - h);
    return rest == wn - 2 && eq_nocase(dot + 1, w + 2, rest);
}

static int has_wildcard(const char *p)
{
    return p && p[0] == '*';
}

static int is_ip(const char *s)
{
    unsigned char b[16];
    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/* ---- errors ------------------------------------------------------------ */

/* The most specific OpenSSL error text, then clears the queue. */
static unsigned long ssl_err(char *buf, size_t n)
{
    unsigned long e, last = 0;
    while ((e = ERR_get_error()) != 0)
        last = e;
    if (last) {
        const char *r = ERR_reason_error_string(last);
        if (r)
            snprintf(buf, n, "%s", r);
        else
            ERR_error_string_n(last, buf, n);
    } else if (n) {
        buf[0] = 0;
    }
    return last;
}

static int rejected_reason(int r)
{
    switch (r) {
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
    case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
        return 1;
    default:
        return 0;
    }
}

/* Classifies a failed SSL call (rc from SSL_get_error) into c->kind/err. */
static void fail(ora_tls_conn *c, int sslerr, const char *what)
{
    char detail[200];
    int saved = errno;
    c->broken = 1;
    unsigned long e = ssl_err(detail, sizeof detail);
    long vr = SSL_get_verify_result(c->ssl);
    if (vr != X509_V_OK && !SSL_is_init_finished(c->ssl)) {
        if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH) {
            c->kind = ORA_TLS_E_NAME;
            snprintf(c->err, sizeof c->err, "server certificate does not match %s", c->pattern ? c->pattern : "the host name");
        } else {
            c->kind = ORA_TLS_E_UNTRUSTED;
            snprintf(c->err, sizeof c->err, "server certificate not trusted: %s",
                     X509_verify_cert_error_string(vr));
        }
        return;
    }
    if (e && ERR_GET_LIB(e) == ERR_LIB_SSL && rejected_reason(ERR_GET_REASON(e))) {
        c->kind = ORA_TLS_E_REJECTED;
        snprintf(c->err, sizeof c->err, "the server refused our client certificate (%s)", detail);
        return;
    }
    if (sslerr == SSL_ERROR_SYSCALL || (sslerr == SSL_ERROR_SSL && !e)) {
        c->kind = ORA_TLS_E_NET;
        if (saved && saved != EAGAIN)
            snprintf(c->err, sizeof c->err, "%s: %s", what, strerror(saved));
        else
            snprintf(c->err, sizeof c->err, "%s: connection closed by the server", what);
        return;
    }
    if (e && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        c->kind = ORA_TLS_E_NET;
        snprintf(c->err, sizeof c->err, "%s: connection closed by the server", what);
        return;
    }
    c->kind = ORA_TLS_E_PROTO;
    snprintf(c->err, sizeof c->err, "%s: %s", what, detail[0] ? detail : "TLS error");
}

/* ---- context ----------------------------------------------------------- */

static int no_password(char *buf, int size, int rw, void *u)
{
    (void)buf, (void)size, (void)rw, (void)u;
    return 0;   /* encrypted keys are refused, never prompted for */
}

static int verify_cb(int ok, X509_STORE_CTX *st)
{
    if (!ok || X509_STORE_CTX_get_error_depth(st) != 0)
        return ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(st, SSL_get_ex_data_X509_STORE_CTX_idx());
    ora_tls_conn *c = ssl ? SSL_get_app_data(ssl) : NULL;
    if (!c || !has_wildcard(c->pattern))
        return ok;
    X509 *cert = X509_STORE_CTX_get_current_cert(st);
    GENERAL_NAMES *names = cert ? X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL) : NULL;
    int match = 0;
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names) && !match; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        if (g->type != GEN_DNS)
            continue;
        const ASN1_STRING *s = g->d.dNSName;
        match = ora_tls_name_match(c->pattern, (const char *)ASN1_STRING_get0_data(s),
                                   (size_t)ASN1_STRING_length(s));
    }
    GENERAL_NAMES_free(names);
    if (!match) {
        X509_STORE_CTX_set_error(st, X509_V_ERR_HOSTNAME_MISMATCH);
        return 0;
    }
    return 1;
}

/* ---- credentials from memory --------------------------------------------- */

int ora_cred_read(const char *what, const char *path, unsigned flags, ora_cred *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int key = (flags & ORA_CRED_KEY) != 0;
    if (!path || !*path) {
        snprintf(err, errlen, "unable to use %s: none given", what);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (key ? O_NOFOLLOW : 0));
    if (fd < 0) {
        if (key && errno == ELOOP)
            snprintf(err, errlen, "unable to use %s %s: it is a symbolic link (name the file itself)", what, path);
        else
            snprintf(err, errlen, "unable to use %s %s: %s", what, path, strerror(errno));
        return -1;
    }
    struct stat sb;
    int rc = -1;
    if (fstat(fd, &sb) < 0) {
        snprintf(err, errlen, "unable to use %s %s: %s", what, path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "unable to use %s %s: not a regular file", what, path);
        goto out;
    }
    if (sb.st_size > (off_t)ORA_CRED_MAX) {
        snprintf(err, errlen, "unable to use %s %s: larger than %u bytes", what, path, ORA_CRED_MAX);
        goto out;
    }
    if (key && sb.st_uid != geteuid() && sb.st_uid != 0) {
        snprintf(err, errlen, "unable to use %s %s: it belongs to uid %lu, neither to us (uid %lu) nor to root",
                 what, path, (unsigned long)sb.st_uid, (unsigned long)geteuid());
        goto out;
    }
    if (key && (sb.st_mode & 077) && !(flags & ORA_CRED_ANY_MODE)) {
        snprintf(err, errlen, "unable to use %s %s: it is accessible by group or others (mode %04o)", what, path,
                 (unsigned)(sb.st_mode & 07777));
        rc = ORA_CRED_E_MODE;
        goto out;
    }
    size_t cap = (size_t)sb.st_size + 1;
    char *p = key ? sodium_malloc(cap) : malloc(cap);
    if (!p) {
        snprintf(err, errlen, "unable to read %s %s: out of memory", what, path);
        goto out;
    }
    size_t len = 0;
    while (len < cap - 1) {
        ssize_t k = read(fd, p + len, cap - 1 - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            snprintf(err, errlen, "unable to read %s %s: %s", what, path, strerror(errno));
            if (key)
                sodium_free(p);
            else
                free(p);
            goto out;
        }
        if (k == 0)
            break;
        len += (size_t)k;
    }
    p[len] = 0;
    out->p = p;
    out->len = len;
    out->secret = key;
    rc = 0;
out:
    close(fd);
    return rc;
}

void ora_cred_free(ora_cred *c)
{
    if (c->p) {
        if (c->secret)
            sodium_free(c->p);   /* zeroes it */
        else
            free(c->p);
    }
    memset(c, 0, sizeof *c);
}

static BIO *cred_bio(const ora_cred *c)
{
    return BIO_new_mem_buf(c->p, (int)c->len);
}

/* The CA certificates of a PEM in memory into the context's store;
 * 1 ok, 0 none or bad. */
static int load_ca(SSL_CTX *ssl, const ora_cred *c)
{
    BIO *b = cred_bio(c);
    if (!b)
        return 0;
    X509_STORE *st = SSL_CTX_get_cert_store(ssl);
    int n = 0, ok = 1;
    X509 *x;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
        if (X509_STORE_add_cert(st, x) != 1)
            ok = 0;
        X509_free(x);
        n++;
    }
    BIO_free(b);
    if (n && ok)
        ERR_clear_error();   /* the end of the PEM */
    return n && ok;
}

/* The client certificate and the chain after it; 1 ok, 0 not. */
static int load_cert(SSL_CTX *ssl, const ora_cred *c)
{
    BIO *b = cred_bio(c);
    if (!b)
        return 0;
    X509 *x = PEM_read_bio_X509_AUX(b, NULL, NULL, NULL);
    int ok = x && SSL_CTX_use_certificate(ssl, x) == 1;
    X509_free(x);
    if (ok) {
        SSL_CTX_clear_chain_certs(ssl);
        X509 *ca;
        while (ok && (ca = PEM_read_bio_X509(b, NULL, NULL, NULL)))
            if (SSL_CTX_add0_chain_cert(ssl, ca) != 1) {
                X509_free(ca);
                ok = 0;
            }
        if (ok)
            ERR_clear_error();
    }
    BIO_free(b);
    return ok;
}

static int load_key(SSL_CTX *ssl, const ora_cred *c)
{
    BIO *b = cred_bio(c);
    if (!b)
        return 0;
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, no_password, NULL);
    BIO_free(b);
    int ok = k && SSL_CTX_use_PrivateKey(ssl, k) == 1;
    EVP_PKEY_free(k);
    return ok;
}

ora_tls_ctx *ora_tls_ctx_new(const ora_tls_cfg *cfg, int *kind, char *err, size_t errlen)
{
    char detail[200];
    *kind = ORA_TLS_E_NOMEM;
    snprintf(err, errlen, "out of memory");
    ora_tls_ctx *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (cfg->verify_name && !(t->verify_name = strdup(cfg->verify_name)))
        goto fail;
    if (!(t->ssl = SSL_CTX_new(TLS_client_method())))
        goto fail;
    *kind = ORA_TLS_E_CONFIG;
    if (cfg->verify_name && !ora_tls_pattern_valid(cfg->verify_name) && !is_ip(cfg->verify_name)) {
        snprintf(err, errlen, "bad --verify-name pattern %s", cfg->verify_name);
        goto fail;
    }
    SSL_CTX_set_min_proto_version(t->ssl, TLS1_2_VERSION);
    SSL_CTX_set_mode(t->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_default_passwd_cb(t->ssl, no_password);
    SSL_CTX_set_verify(t->ssl, SSL_VERIFY_PEER, verify_cb);
    if (cfg->ca_pem ? !load_ca(t->ssl, cfg->ca_pem)
                    : (!cfg->cacert || SSL_CTX_load_verify_locations(t->ssl, cfg->cacert, NULL) != 1)) {
        ssl_err(detail, sizeof detail);
        snprintf(err, errlen, "unable to load CA file %s: %s", cfg->cacert ? cfg->cacert : "(none)",
                 detail[0] ? detail : "missing");
        goto fail;
    }
    if (cfg->cert_pem ? !load_cert(t->ssl, cfg->cert_pem)
                      : (!cfg->cert || SSL_CTX_use_certificate_chain_file(t->ssl, cfg->cert) != 1)) {
        ssl_err(detail, sizeof detail);
        snprintf(err, errlen, "unable to load client certificate %s: %s", cfg->cert ? cfg->cert : "(none)",
                 detail[0] ? detail : "missing");
        goto fail;
    }
    if (cfg->key_pem ? !load_key(t->ssl, cfg->key_pem)
                     : (!cfg->key || SSL_CTX_use_PrivateKey_file(t->ssl, cfg->key, SSL_FILETYPE_PEM) != 1)) {
        unsigned long e = ssl_err(detail, sizeof detail);
        if (e && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
            snprintf(err, errlen, "private key %s does not belong to certificate %s", cfg->key, cfg->cert);
        else
            snprintf(err, errlen, "unable to load private key %s: %s", cfg->key ? cfg->key : "(none)",
                     detail[0] ? detail : "missing");
        goto fail;
    }
    if (SSL_CTX_check_private_key(t->ssl) != 1) {
        ssl_err(detail, sizeof detail);
        snprintf(err, errlen, "private key %s does not belong to certificate %s", cfg->key, cfg->cert);
        goto fail;
    }
    *kind = ORA_TLS_OK;
    err[0] = 0;
    return t;
fail:
    ERR_clear_error();
    ora_tls_ctx_free(t);
    return NULL;
}

void ora_tls_ctx_free(ora_tls_ctx *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ssl);
    free(t->verify_name);
    free(t);
}

/* ---- connecting -------------------------------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits for events on fd until deadline: 1 ready, 0 timeout, -1 cancelled/error. */
static int wait_fd(int fd, short events, double deadline, const volatile sig_atomic_t *cancel)
{
    for (;;) {
        if (cancel && *cancel)
            return -1;
        double left = deadline - now();
        if (left <= 0)
            return 0;
        struct pollfd p = {fd, events, 0};
        int ms = left > 0.1 ? 100 : (int)(left * 1000) + 1;
        int rc = poll(&p, 1, ms);
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

static int tcp_connect(const char *host, const char *port, double deadline,
                       const volatile sig_atomic_t *cancel, int *kind, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        *kind = ORA_TLS_E_NET;
        snprintf(err, errlen, "unable to resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    *kind = ORA_TLS_E_NET;
    snprintf(err, errlen, "unable to connect to %s port %s: no address", host, port);
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            snprintf(err, errlen, "unable to create a socket: %s", strerror(errno));
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS) {
            int w = wait_fd(fd, POLLOUT, deadline, cancel);
            if (w == 1) {
                int soerr = 0;
                socklen_t sl = sizeof soerr;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                if (soerr == 0)
                    break;
                errno = soerr;
            } else if (w == 0) {
                errno = ETIMEDOUT;
            } else if (cancel && *cancel) {
                *kind = ORA_TLS_E_CANCEL;
                snprintf(err, errlen, "cancelled");
                close(fd);
                fd = -1;
                break;
            }
        }
        snprintf(err, errlen, "unable to connect to %s port %s: %s", host, port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int tls_connect(ora_tls_ctx *t, const char *host, const char *port, const char *name,
                       double timeout, const volatile sig_atomic_t *cancel, ora_tls_conn **out,
                       char *err, size_t errlen);

int ora_tls_connect(ora_tls_ctx *t, const char *host, const char *port, double timeout,
                    const volatile sig_atomic_t *cancel, ora_tls_conn **out,
                    char *err, size_t errlen)
{
    return tls_connect(t, host, port, t->verify_name, timeout, cancel, out, err, errlen);
}

int ora_tls_probe(ora_tls_ctx *t, const char *host, const char *port, const char *name,
                  double timeout, double wait, char *err, size_t errlen)
{
    ora_tls_conn *c = NULL;
    int kind = tls_connect(t, host, port, name, timeout, NULL, &c, err, errlen);
    if (kind != ORA_TLS_OK)
        return kind;
    double deadline = now() + wait;
    char buf[256];
    snprintf(err, errlen, "no answer");
    for (;;) {
        ssize_t k = ora_tls_read(c, buf, sizeof buf);
        if (k > 0) {
            snprintf(err, errlen, "the server answered");
            break;
        }
        if (k == 0) {
            kind = ORA_TLS_E_NET;
            snprintf(err, errlen, "connection closed by the server");
            break;
        }
        if (k == ORA_TLS_ERROR) {
            kind = c->kind;
            snprintf(err, errlen, "%s", c->err);
            break;
        }
        if (wait_fd(c->fd, ora_tls_read_events(c), deadline, NULL) != 1)
            break;
    }
    ora_tls_close(c);
    return kind;
}

static int tls_connect(ora_tls_ctx *t, const char *host, const char *port, const char *name,
                       double timeout, const volatile sig_atomic_t *cancel, ora_tls_conn **out,
                       char *err, size_t errlen)
{
    *out = NULL;
    double deadline = now() + timeout;
    int kind;
    int fd = tcp_connect(host, port, deadline, cancel, &kind, err, errlen);
    if (fd < 0)
        return kind;
    ora_tls_conn *c = calloc(1, sizeof *c);
    if (!c || !(c->ssl = SSL_new(t->ssl))) {
        free(c);
        close(fd);
        snprintf(err, errlen, "out of memory");
        return ORA_TLS_E_NOMEM;
    }
    c->fd = fd;
    c->pattern = name ? name : host;
    SSL_set_app_data(c->ssl, c);
    SSL_set_fd(c->ssl, fd);
    /* SNI: the name we want, never an IP address nor a pattern. */
    const char *sni = name && !has_wildcard(name) && !is_ip(name) ? name : (!is_ip(host) ? host : NULL);
    if (sni)
        SSL_set_tlsext_host_name(c->ssl, sni);
    if (!has_wildcard(c->pattern)) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
        X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
                                                X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
        int ok = is_ip(c->pattern) ? X509_VERIFY_PARAM_set1_ip_asc(vp, c->pattern)
                                   : X509_VERIFY_PARAM_set1_host(vp, c->pattern, 0);
        if (ok != 1) {
            snprintf(err, errlen, "bad host name %s", c->pattern);
            ora_tls_close(c);
            return ORA_TLS_E_CONFIG;
        }
    }
    for (;;) {
        ERR_clear_error();
        errno = 0;
        int rc = SSL_connect(c->ssl);
        if (rc == 1)
            break;
        int se = SSL_get_error(c->ssl, rc);
        short ev = se == SSL_ERROR_WANT_READ ? POLLIN : se == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (ev) {
            int w = wait_fd(fd, ev, deadline, cancel);
            if (w == 1)
                continue;
            kind = w == 0 ? ORA_TLS_E_NET : ORA_TLS_E_CANCEL;
            snprintf(err, errlen, w == 0 ? "TLS handshake with %s port %s timed out" : "cancelled", host, port);
            ora_tls_close(c);
            return kind;
        }
        fail(c, se, "TLS handshake");
        snprintf(err, errlen, "%s", c->err);
        kind = c->kind;
        ora_tls_close(c);
        return kind;
    }
    *out = c;
    return ORA_TLS_OK;
}

/* ---- I/O --------------------------------------------------------------- */

/* The result of an SSL_read_ex (is_read) or SSL_write_ex that returned rc
 * with done bytes: what to wait for next goes into c->rev for a read, c->wev
 * for a write (0: nothing). A clean close by the peer ends a read (0);
 * during a write it is an error like any other. */
static ssize_t io_result(ora_tls_conn *c, int rc, size_t done, int is_read)
{
    short *ev = is_read ? &c->rev : &c->wev;
    if (rc == 1) {
        *ev = 0;
        return (ssize_t)done;
    }
    int se = SSL_get_error(c->ssl, rc);
    switch (se) {
    case SSL_ERROR_WANT_READ:
        *ev = POLLIN;
        return ORA_TLS_AGAIN;
    case SSL_ERROR_WANT_WRITE:
        *ev = POLLOUT;
        return ORA_TLS_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        if (is_read)
            return 0;
        /* fall through */
    default:
        fail(c, se, is_read ? "read" : "write");
        return ORA_TLS_ERROR;
    }
}

ssize_t ora_tls_read(ora_tls_conn *c, void *buf, size_t n)
{
    size_t got = 0;
    ERR_clear_error();
    errno = 0;
    int rc = SSL_read_ex(c->ssl, buf, n, &got);
    return io_result(c, rc, got, 1);
}

ssize_t ora_tls_write(ora_tls_conn *c, const void *buf, size_t n)
{
    size_t put = 0;
    ERR_clear_error();
    errno = 0;
    int rc = SSL_write_ex(c->ssl, buf, n, &put);
    return io_result(c, rc, put, 0);
}

int ora_tls_fd(const ora_tls_conn *c) { return c->fd; }
short ora_tls_read_events(const ora_tls_conn *c) { return c->rev; }
short ora_tls_write_events(const ora_tls_conn *c) { return c->wev; }
int ora_tls_pending(const ora_tls_conn *c) { return SSL_pending(c->ssl) > 0; }
const char *ora_tls_error(const ora_tls_conn *c) { return c->err; }
int ora_tls_error_kind(const ora_tls_conn *c) { return c->kind; }

const char *ora_tls_describe(const ora_tls_conn *c, char *buf, size_t n)
{
    snprintf(buf, n, "%s %s", SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl));
    return buf;
}

void ora_tls_close(ora_tls_conn *c)
{
    if (!c)
        return;
    if (c->ssl) {
        if (SSL_is_init_finished(c->ssl) && !c->broken)
            SSL_shutdown(c->ssl);   /* one try, non-blocking */
        SSL_free(c->ssl);
    }
    ERR_clear_error();
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}
