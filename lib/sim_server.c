/* sim_server.c: the network side of ora-sim (see sim_server.h). */
#include "sim_server.h"
#include "buf.h"
#include "cli.h"
#include "jwt.h"
#include "ora.h"
#include "sim_cmd.h"
#include "sim_log.h"
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

enum fault { F_DROP_MSGS, F_DROP_BYTES, F_STALL, F_CORRUPT, F_INVALID, F_REJECT, F_OLD, F_COUNT };
static const char *const fault_name[F_COUNT] = {
    "drop-after-msgs", "drop-after-bytes", "stall-after", "corrupt-after",
    "invalid-token-after", "reject-token", "offset-too-old"};

static struct {
    const sim_server_opts *o;
    SSL_CTX *ctx;
    pthread_mutex_t mu;
    sim_model *model;
    sim_log *log;
    uint64_t generated;        /* realtime messages generated */
    int gen_done;
    int io_err;
    uint8_t jwt_key[32];
    atomic_int active;
    atomic_int quit;
    atomic_uint_fast64_t conn_seq;
    atomic_int fired[F_COUNT];
    struct {
        atomic_uint_fast64_t generated, connections, sessions, auth_requests, tokens;
        atomic_uint_fast64_t data_sent, bytes_sent, pings, pongs, errors_sent, faults;
    } st;
} G = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void note(int lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(int lvl, const char *fmt, ...)
{
    if (!G.o->note)
        return;
    va_list ap;
    va_start(ap, fmt);
    G.o->note(lvl, fmt, ap);
    va_end(ap);
}

void sim_server_stats(sim_stats *s)
{
    s->generated = G.st.generated;
    s->connections = G.st.connections;
    s->sessions = G.st.sessions;
    s->auth_requests = G.st.auth_requests;
    s->tokens = G.st.tokens;
    s->data_sent = G.st.data_sent;
    s->bytes_sent = G.st.bytes_sent;
    s->pings = G.st.pings;
    s->pongs = G.st.pongs;
    s->errors_sent = G.st.errors_sent;
    s->faults = G.st.faults;
}

static int quitting(void) { return G.quit || *G.o->stop; }

static const char *ssl_err(void)
{
    static _Thread_local char buf[256];
    unsigned long e = ERR_get_error();
    if (!e)
        return errno ? strerror(errno) : "connection closed";
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

/* ---- generation (main thread, under G.mu) --------------------------------- */

static int sink_log(void *ctx, uint64_t off, const char *j, size_t n)
{
    (void)ctx;
    (void)off;
    if (G.o->log && (fwrite(j, 1, n, G.o->log) != n || putc('\n', G.o->log) == EOF))
        G.io_err = 1;
    return 0;
}

static int sink_deliver(void *ctx, uint64_t off, const char *j, size_t n)
{
    (void)ctx;
    return sim_log_append(G.log, off, j, n);
}

static const sim_sink sink = {sink_log, sink_deliver, NULL};

/* Generates what the rate allows by now. 0, or -1 (ENOMEM). */
static int generate(double elapsed)
{
    const sim_server_opts *o = G.o;
    if (G.gen_done || o->rate <= 0)
        return 0;
    double t = elapsed * o->rate;
    uint64_t target = t > 1e18 ? UINT64_MAX : (uint64_t)t;
    if (o->max_messages && target > o->max_messages)
        target = o->max_messages;
    if (target <= G.generated)
        return 0;
    if (target - G.generated > 20000)
        target = G.generated + 20000;
    int rc = 0;
    pthread_mutex_lock(&G.mu);
    while (G.generated < target && rc == 0) {
        rc = sim_model_step(G.model, &sink);
        G.generated++;
    }
    if (rc == 0 && o->max_messages && G.generated >= o->max_messages) {
        rc = sim_model_flush(G.model, &sink);
        G.gen_done = 1;
    }
    pthread_mutex_unlock(&G.mu);
    G.st.generated = G.generated;
    if (o->log && fflush(o->log) != 0)
        G.io_err = 1;
    return rc;
}

/* ---- connections ------------------------------------------------------------ */

typedef struct conn {
    int fd;
    SSL *ssl;
    int auth;
    uint64_t id;
    uint64_t rng;
    ora_wire *dec;
    ora_wire_enc *enc;
    z_stream zs;                /* for members that end inside a frame */
    int zs_ready;
    ora_buf out, plain;
    uint64_t msgs, bytes;
    int abrupt;                 /* end with FIN only, no close_notify */
    /* pings */
    int pinging;
    uint64_t ping_seq;
    double next_ping, ping_sent;
    int ping_pending;
    char ping_id[32];
    /* the one command waited for */
    sim_cmd cmd;
    int have_cmd;
    uint8_t rbuf[16384];
} conn;

enum { SR_OK = 0, SR_ERR = -1, SR_CLOSE = -2 };

static uint64_t crand(conn *c)
{
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    return c->rng;
}

static uint32_t crange(conn *c, uint32_t a, uint32_t b)
{
    return b > a ? a + (uint32_t)(crand(c) % (b - a + 1)) : a;
}

static int wait_fd(conn *c, short ev, int ms)
{
    struct pollfd p = {.fd = c->fd, .events = ev};
    int r = poll(&p, 1, ms);
    return r < 0 && errno == EINTR ? 0 : r;
}

static int tls_handshake(conn *c)
{
    double deadline = cli_now() + 10;
    ERR_clear_error();
    for (;;) {
        int r = SSL_accept(c->ssl);
        if (r == 1)
            return 0;
        int e = SSL_get_error(c->ssl, r);
        if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && !quitting() &&
            cli_now() < deadline) {
            wait_fd(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, 100);
            continue;
        }
        note(ORA_LOG_INFO, "conn %llu: TLS handshake failed: %s", (unsigned long long)c->id,
             ssl_err());
        return -1;
    }
}

static int tls_write(conn *c, const uint8_t *p, size_t n)
{
    double deadline = cli_now() + G.o->write_timeout;
    while (n) {
        size_t w = 0;
        ERR_clear_error();
        if (SSL_write_ex(c->ssl, p, n, &w)) {
            p += w;
            n -= w;
            continue;
        }
        int e = SSL_get_error(c->ssl, 0);
        if ((e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) && !quitting()) {
            if (G.o->write_timeout > 0 && cli_now() > deadline) {
                note(ORA_LOG_INFO, "conn %llu: the client read nothing for %gs: dropping it",
                     (unsigned long long)c->id, G.o->write_timeout);
                return SR_ERR;
            }
            wait_fd(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, 100);
            continue;
        }
        note(ORA_LOG_INFO, "conn %llu: write failed: %s", (unsigned long long)c->id, ssl_err());
        return SR_ERR;
    }
    return SR_OK;
}

static int armed(int f)
{
    return !G.o->faults.once || !atomic_load(&G.fired[f]);
}

/* True when fault f may fire now; counts it. */
static int fire(conn *c, int f)
{
    if (G.o->faults.once && atomic_exchange(&G.fired[f], 1))
        return 0;
    G.st.faults++;
    note(ORA_LOG_INFO, "conn %llu: fault %s after %llu messages, %llu bytes",
         (unsigned long long)c->id, fault_name[f], (unsigned long long)c->msgs,
         (unsigned long long)c->bytes);
    return 1;
}

/* Writes c->out in pieces of chunk_min..chunk_max bytes. */
static int flush_out(conn *c)
{
    const sim_server_opts *o = G.o;
    size_t off = 0;
    int rc = SR_OK;
    while (off < c->out.len && rc == SR_OK) {
        size_t k = crange(c, o->chunk_min, o->chunk_max);
        if (k > c->out.len - off)
            k = c->out.len - off;
        uint64_t lim = o->faults.drop_after_bytes;
        int cut = 0;
        if (lim != SIM_OFF && armed(F_DROP_BYTES) && c->bytes + k >= lim) {
            k = (size_t)(lim - c->bytes);
            cut = 1;
        }
        if (k && (rc = tls_write(c, c->out.p + off, k)) != SR_OK)
            break;
        c->bytes += k;
        G.st.bytes_sent += k;
        off += k;
        if (cut && fire(c, F_DROP_BYTES)) {
            c->abrupt = 1;
            rc = SR_CLOSE;
        }
    }
    c->out.len = 0;
    return rc;
}

static int send_frames(conn *c, const uint8_t *const *m, const size_t *l, size_t n)
{
    if (ora_wire_encode(c->enc, m, l, n, &c->out) < 0) {
        note(ORA_LOG_ERROR, "conn %llu: unable to encode: %s", (unsigned long long)c->id,
             strerror(errno));
        return SR_ERR;
    }
    return flush_out(c);
}

/* Appends one gzip member of n bytes to c->out. 0 or -1. */
static int gz_member(conn *c, const uint8_t *p, size_t n)
{
    if (!c->zs_ready) {
        if (deflateInit2(&c->zs, G.o->level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return -1;
        c->zs_ready = 1;
    } else if (deflateReset(&c->zs) != Z_OK) {
        return -1;
    }
    c->zs.next_in = (uint8_t *)p;
    c->zs.avail_in = (uInt)n;
    for (;;) {
        if (ora_buf_reserve(&c->out, deflateBound(&c->zs, (uLong)n) + 64) < 0)
            return -1;
        c->zs.next_out = c->out.p + c->out.len;
        c->zs.avail_out = (uInt)(c->out.cap - c->out.len);
        int r = deflate(&c->zs, Z_FINISH);
        c->out.len = c->out.cap - c->zs.avail_out;
        if (r == Z_STREAM_END)
            return 0;
        if (r != Z_OK && r != Z_BUF_ERROR)
            return -1;
    }
}

/* Like send_frames, but as two members split at a random byte inside the
 * frames, so that a frame spans members as the design allows. */
static int send_frames_split(conn *c, const uint8_t *const *m, const size_t *l, size_t n)
{
    c->plain.len = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t h[4] = {(uint8_t)(l[i] >> 24), (uint8_t)(l[i] >> 16), (uint8_t)(l[i] >> 8), (uint8_t)l[i]};
        if (ora_buf_append(&c->plain, h, 4) < 0 || ora_buf_append(&c->plain, m[i], l[i]) < 0)
            return SR_ERR;
    }
    size_t cut = 1 + (size_t)(crand(c) % (c->plain.len - 1));
    if (gz_member(c, c->plain.p, cut) < 0 || gz_member(c, c->plain.p + cut, c->plain.len - cut) < 0) {
        note(ORA_LOG_ERROR, "conn %llu: unable to compress", (unsigned long long)c->id);
        return SR_ERR;
    }
    return flush_out(c);
}

static int send_json(conn *c, const char *json)
{
    const uint8_t *m = (const uint8_t *)json;
    size_t l = strlen(json);
    return send_frames(c, &m, &l, 1);
}

static int send_error(conn *c, const char *code, const char *msg)
{
    char j[512];
    snprintf(j, sizeof j, "{\"type\":\"SESSION_ERROR\",\"sessionError\":{\"code\":\"%s\",\"message\":\"%s\"}}",
             code, msg);
    G.st.errors_sent++;
    note(ORA_LOG_INFO, "conn %llu: SESSION_ERROR %s: %s", (unsigned long long)c->id, code, msg);
    return send_json(c, j);
}

static void on_frame(conn *c, const uint8_t *msg, uint32_t len)
{
    sim_cmd cmd;
    if (sim_cmd_parse((const char *)msg, len, &cmd) < 0) {
        note(ORA_LOG_WARN, "conn %llu: ignoring a frame from the client: %s",
             (unsigned long long)c->id, cmd.error);
    } else if (cmd.type == ORA_S_PONG) {
        G.st.pongs++;
        if (c->ping_pending && strcmp(cmd.id, c->ping_id) == 0)
            c->ping_pending = 0;
        else
            note(ORA_LOG_DEBUG, "conn %llu: pong %s does not answer the last ping",
                 (unsigned long long)c->id, cmd.id);
    } else if (!c->have_cmd) {
        c->cmd = cmd;
        c->have_cmd = 1;
        return; /* ownership moved */
    } else {
        note(ORA_LOG_WARN, "conn %llu: ignoring an unexpected command", (unsigned long long)c->id);
    }
    sim_cmd_free(&cmd);
}

/* Reads what the client sent (waiting up to ms) and handles its frames.
 * SR_OK, or SR_ERR when the client is gone or sent a corrupt stream. */
static int pump_in(conn *c, int ms)
{
    if (!SSL_pending(c->ssl) && wait_fd(c, POLLIN, ms) <= 0)
        return SR_OK;
    for (int rounds = 0; rounds < 64; rounds++) {
        size_t got = 0;
        ERR_clear_error();
        if (!SSL_read_ex(c->ssl, c->rbuf, sizeof c->rbuf, &got)) {
            int e = SSL_get_error(c->ssl, 0);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return SR_OK;
            if (e == SSL_ERROR_ZERO_RETURN)
                note(ORA_LOG_INFO, "conn %llu: client closed the session", (unsigned long long)c->id);
            else
                note(ORA_LOG_INFO, "conn %llu: client gone: %s", (unsigned long long)c->id, ssl_err());
            return SR_ERR;
        }
        ora_wire_feed(c->dec, c->rbuf, got);
        const uint8_t *m;
        uint32_t l;
        int rc;
        while ((rc = ora_wire_next(c->dec, &m, &l)) == ORA_W_FRAME)
            on_frame(c, m, l);
        if (rc < 0) {
            note(ORA_LOG_WARN, "conn %llu: corrupt stream from the client: %s",
                 (unsigned long long)c->id, ora_wire_error(c->dec));
            return SR_ERR;
        }
    }
    return SR_OK;
}

/* Pings when due; drops a client that left a ping unanswered too long. */
static int service(conn *c)
{
    if (!c->pinging)
        return SR_OK;
    double now = cli_now();
    if (c->ping_pending && now - c->ping_sent > G.o->pong_timeout) {
        note(ORA_LOG_INFO, "conn %llu: no pong within %gs: dropping the client",
             (unsigned long long)c->id, G.o->pong_timeout);
        return SR_CLOSE;
    }
    if (now >= c->next_ping) {
        char j[128];
        snprintf(c->ping_id, sizeof c->ping_id, "\"%llu\"", (unsigned long long)++c->ping_seq);
        snprintf(j, sizeof j, "{\"type\":\"SESSION_PING\",\"sessionPing\":{\"id\":%s}}", c->ping_id);
        if (!c->ping_pending)
            c->ping_sent = now;
        c->ping_pending = 1;
        c->next_ping = now + G.o->ping_interval;
        G.st.pings++;
        return send_json(c, j);
    }
    return SR_OK;
}

/* Waits up to secs for a command other than PONG (pinging meanwhile). */
static int wait_cmd(conn *c, double secs)
{
    double deadline = cli_now() + secs;
    while (!c->have_cmd) {
        if (quitting())
            return SR_CLOSE;
        if (cli_now() > deadline) {
            note(ORA_LOG_INFO, "conn %llu: no command within %gs", (unsigned long long)c->id, secs);
            return SR_CLOSE;
        }
        int rc = service(c);
        if (rc == SR_OK)
            rc = pump_in(c, 50);
        if (rc != SR_OK)
            return rc;
    }
    return SR_OK;
}

static void take_cmd(conn *c)
{
    sim_cmd_free(&c->cmd);
    c->have_cmd = 0;
}

/* ---- faults on data ----------------------------------------------------------- */

static const int msg_faults[] = {F_DROP_MSGS, F_CORRUPT, F_INVALID, F_STALL};

static uint64_t fault_at(int f)
{
    const sim_faults *fs = &G.o->faults;
    switch (f) {
    case F_DROP_MSGS: return fs->drop_after_msgs;
    case F_CORRUPT: return fs->corrupt_after;
    case F_INVALID: return fs->invalid_token_after;
    case F_STALL: return fs->stall_after;
    }
    return SIM_OFF;
}

/* Data messages that may go before the next fault threshold. */
static uint64_t room(conn *c)
{
    uint64_t r = UINT64_MAX;
    for (size_t i = 0; i < sizeof msg_faults / sizeof msg_faults[0]; i++) {
        uint64_t t = fault_at(msg_faults[i]);
        if (t != SIM_OFF && t >= c->msgs && armed(msg_faults[i]) && t - c->msgs < r)
            r = t - c->msgs;
    }
    return r;
}

static int stall(conn *c)
{
    while (!quitting()) {
        if (wait_fd(c, POLLIN, 100) > 0) {
            size_t got;
            if (!SSL_read_ex(c->ssl, c->rbuf, sizeof c->rbuf, &got)) {
                int e = SSL_get_error(c->ssl, 0);
                if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                    break;
            }
        }
    }
    note(ORA_LOG_INFO, "conn %llu: stalled session ends", (unsigned long long)c->id);
    c->abrupt = 1;
    return SR_CLOSE;
}

static int check_faults(conn *c)
{
    for (size_t i = 0; i < sizeof msg_faults / sizeof msg_faults[0]; i++) {
        int f = msg_faults[i];
        if (fault_at(f) != c->msgs || !fire(c, f))
            continue;
        static const uint8_t corrupt[] = {0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                          0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef};
        int rc;
        switch (f) {
        case F_DROP_MSGS:
            c->abrupt = 1;
            return SR_CLOSE;
        case F_CORRUPT:
            rc = ora_buf_append(&c->out, corrupt, sizeof corrupt) < 0 ? SR_ERR : flush_out(c);
            return rc == SR_OK ? SR_CLOSE : rc;
        case F_INVALID:
            rc = send_error(c, "INVALID_TOKEN", "the token expired");
            return rc == SR_OK ? SR_CLOSE : rc;
        case F_STALL:
            return stall(c);
        }
    }
    return SR_OK;
}

/* Sends n data messages as members of per_member frames, with faults and
 * pings between members. */
static int send_data(conn *c, const uint8_t *const *m, const size_t *l, size_t n)
{
    size_t i = 0;
    int rc = check_faults(c);
    while (rc == SR_OK && i < n) {
        size_t k = crange(c, G.o->per_member_min, G.o->per_member_max);
        uint64_t r = room(c);
        if (k > n - i)
            k = n - i;
        if (k > r)
            k = (size_t)r;
        if (k == 0)
            k = 1;
        int split = G.o->split > 0 && (double)(crand(c) >> 11) * 0x1.0p-53 < G.o->split;
        if ((rc = (split ? send_frames_split : send_frames)(c, m + i, l + i, k)) != SR_OK)
            break;
        i += k;
        c->msgs += k;
        G.st.data_sent += k;
        if ((rc = check_faults(c)) != SR_OK)
            break;
        if ((rc = service(c)) == SR_OK)
            rc = pump_in(c, 0);
    }
    return rc;
}

/* ---- the session ---------------------------------------------------------------- */

typedef struct batch {
    ora_buf text;
    size_t n, cap;
    size_t *start, *len;
    const uint8_t **ptr;
} batch;

static int batch_add(batch *b, const char *j, size_t n)
{
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 256;
        size_t *s = realloc(b->start, nc * sizeof *s);
        if (!s)
            return -1;
        b->start = s;
        size_t *l = realloc(b->len, nc * sizeof *l);
        if (!l)
            return -1;
        b->len = l;
        const uint8_t **p = realloc(b->ptr, nc * sizeof *p);
        if (!p)
            return -1;
        b->ptr = p;
        b->cap = nc;
    }
    b->start[b->n] = b->text.len;
    b->len[b->n] = n;
    if (ora_buf_append(&b->text, j, n) < 0)
        return -1;
    b->n++;
    return 0;
}

static void batch_fix(batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        b->ptr[i] = b->text.p + b->start[i];
}

static void batch_clear(batch *b)
{
    b->n = 0;
    b->text.len = 0;
}

static void batch_free(batch *b)
{
    ora_buf_free(&b->text);
    free(b->start);
    free(b->len);
    free(b->ptr);
}

static int snap_emit(void *ctx, uint64_t off, const char *j, size_t n)
{
    (void)off;
    return batch_add(ctx, j, n);
}

/* Copies up to max delivered entries [*cursor, end) with offset > threshold.
 * -1 when *cursor was evicted (the client fell behind) or ENOMEM. */
static int take(uint64_t *cursor, uint64_t end, uint64_t threshold, batch *b, size_t max)
{
    int rc = 0;
    batch_clear(b);
    pthread_mutex_lock(&G.mu);
    if (*cursor < sim_log_first(G.log))
        rc = -1;
    while (rc == 0 && *cursor < end && b->n < max) {
        sim_entry e;
        if (sim_log_get(G.log, *cursor, &e) < 0)
            break;
        if (e.offset > threshold && batch_add(b, e.json, e.len) < 0)
            rc = -1;
        ++*cursor;
    }
    pthread_mutex_unlock(&G.mu);
    batch_fix(b);
    return rc;
}

static int send_batch(conn *c, batch *b)
{
    batch_fix(b);
    return send_data(c, b->ptr, b->len, b->n);
}

static int session_data(conn *c, int snapshot, uint64_t from)
{
    batch b = {0};
    uint64_t cursor, threshold, end, head;
    int rc = SR_OK;
    char j[160];
    if (snapshot) {
        pthread_mutex_lock(&G.mu);
        threshold = sim_model_head(G.model);
        cursor = sim_log_end(G.log);
        int sr = sim_model_snapshot(G.model, snap_emit, &b);
        pthread_mutex_unlock(&G.mu);
        if (sr < 0) {
            note(ORA_LOG_ERROR, "conn %llu: unable to build a snapshot: out of memory",
                 (unsigned long long)c->id);
            rc = SR_ERR;
            goto out;
        }
        note(ORA_LOG_INFO, "conn %llu: snapshot of %zu messages at offset %llu",
             (unsigned long long)c->id, b.n, (unsigned long long)threshold);
        batch_fix(&b);
        for (size_t i = 0; i < b.n && rc == SR_OK; i += 256) {
            size_t k = b.n - i < 256 ? b.n - i : 256;
            rc = send_data(c, b.ptr + i, b.len + i, k);
        }
        if (rc != SR_OK)
            goto out;
        snprintf(j, sizeof j, "{\"type\":\"SESSION_SNAPSHOT_COMPLETED\",\"sessionSnapshotCompleted\":{\"offset\":%llu}}",
                 (unsigned long long)threshold);
        if ((rc = send_json(c, j)) != SR_OK)
            goto out;
    } else {
        pthread_mutex_lock(&G.mu);
        cursor = sim_log_first(G.log);
        pthread_mutex_unlock(&G.mu);
        threshold = from;
    }
    /* replay up to the head */
    pthread_mutex_lock(&G.mu);
    end = sim_log_end(G.log);
    head = sim_model_head(G.model);
    pthread_mutex_unlock(&G.mu);
    while (rc == SR_OK && cursor < end) {
        if (take(&cursor, end, threshold, &b, 512) < 0) {
            note(ORA_LOG_WARN, "conn %llu: client fell behind the retained log", (unsigned long long)c->id);
            rc = SR_ERR;
            goto out;
        }
        rc = send_batch(c, &b);
    }
    if (rc != SR_OK)
        goto out;
    snprintf(j, sizeof j, "{\"type\":\"SESSION_REPLAY_COMPLETED\",\"sessionReplayCompleted\":{\"offset\":%llu}}",
             (unsigned long long)head);
    if ((rc = send_json(c, j)) != SR_OK)
        goto out;
    note(ORA_LOG_DEBUG, "conn %llu: replay completed at offset %llu", (unsigned long long)c->id,
         (unsigned long long)head);
    /* realtime */
    while (rc == SR_OK && !quitting()) {
        pthread_mutex_lock(&G.mu);
        end = sim_log_end(G.log);
        pthread_mutex_unlock(&G.mu);
        if (cursor < end) {
            if (take(&cursor, end, threshold, &b, 512) < 0) {
                note(ORA_LOG_WARN, "conn %llu: client fell behind the retained log",
                     (unsigned long long)c->id);
                rc = SR_ERR;
                break;
            }
            rc = send_batch(c, &b);
        } else {
            rc = check_faults(c);
            if (rc == SR_OK)
                rc = service(c);
            if (rc == SR_OK)
                rc = pump_in(c, 10);
        }
    }
out:
    batch_free(&b);
    return rc;
}

static int session(conn *c)
{
    const sim_server_opts *o = G.o;
    int rc = send_json(c, "{\"type\":\"SESSION_WELCOME\",\"sessionWelcome\":{}}");
    if (rc == SR_OK)
        rc = wait_cmd(c, o->init_timeout);
    if (rc != SR_OK)
        return rc;
    sim_cmd *cmd = &c->cmd;
    if (cmd->type != ORA_S_INITIALIZE) {
        note(ORA_LOG_INFO, "conn %llu: expected SESSION_INITIALIZE", (unsigned long long)c->id);
        return SR_CLOSE;
    }
    if (!cmd->has_version || strcmp(cmd->version, "V1") != 0)
        return send_error(c, "INVALID_PROTOCOL_VERSION", "protocolVersion must be V1"), SR_CLOSE;
    int ok = cmd->has_offerings && cmd->n_offerings > 0;
    for (size_t i = 0; ok && i < cmd->n_offerings; i++)
        ok = sim_offering_known(cmd->offerings[i]);
    if (!ok)
        return send_error(c, "INVALID_OFFERING", "offerings must be a non-empty list of known offerings"), SR_CLOSE;
    int64_t exp = 0;
    int jr = cmd->token ? jwt_verify_hs256(G.jwt_key, sizeof G.jwt_key, cmd->token, cmd->token_len,
                                           (int64_t)time(NULL), &exp)
                        : JWT_MALFORMED;
    if (jr != JWT_OK)
        return send_error(c, "INVALID_TOKEN", cmd->token ? jwt_strerror(jr) : "no token"), SR_CLOSE;
    if (o->faults.reject_token && fire(c, F_REJECT))
        return send_error(c, "INVALID_TOKEN", "token rejected (fault injection)"), SR_CLOSE;
    take_cmd(c);
    G.st.sessions++;
    if ((rc = send_json(c, "{\"type\":\"SESSION_INITIALIZED\",\"sessionInitialized\":{}}")) != SR_OK)
        return rc;
    c->pinging = o->ping_interval > 0;
    c->next_ping = cli_now() + o->ping_interval;
    for (;;) {
        if ((rc = wait_cmd(c, o->init_timeout)) != SR_OK)
            return rc;
        int type = cmd->type;
        int64_t off = cmd->offset;
        int has_off = cmd->has_offset;
        take_cmd(c);
        if (type == ORA_S_SNAPSHOT) {
            note(ORA_LOG_INFO, "conn %llu: snapshot requested", (unsigned long long)c->id);
            return session_data(c, 1, 0);
        }
        if (type != ORA_S_REPLAY || !has_off) {
            note(ORA_LOG_INFO, "conn %llu: expected SESSION_SNAPSHOT or SESSION_REPLAY",
                 (unsigned long long)c->id);
            return SR_CLOSE;
        }
        pthread_mutex_lock(&G.mu);
        uint64_t base = sim_log_base(G.log);
        pthread_mutex_unlock(&G.mu);
        note(ORA_LOG_INFO, "conn %llu: replay from offset %lld requested", (unsigned long long)c->id,
             (long long)off);
        int old = (uint64_t)off < base;
        if (!old && o->faults.offset_too_old && fire(c, F_OLD))
            old = 1;
        if (!old)
            return session_data(c, 0, (uint64_t)off);
        char msg[128];
        snprintf(msg, sizeof msg, "offset %lld is older than the retained log", (long long)off);
        if ((rc = send_error(c, "OFFSET_TOO_OLD", msg)) != SR_OK)
            return rc;
        /* the client may now ask for a snapshot on this connection */
    }
}

/* ---- the auth endpoint --------------------------------------------------------- */

static int http_reply(conn *c, const char *status, const char *extra, const char *body)
{
    char h[512];
    size_t bl = strlen(body);
    int n = snprintf(h, sizeof h, "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n", status, bl, extra);
    int rc = tls_write(c, (const uint8_t *)h, (size_t)n);
    if (rc == SR_OK && bl)
        rc = tls_write(c, (const uint8_t *)body, bl);
    return rc;
}

static void client_cn(conn *c, char *out, size_t n)
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

static int http(conn *c)
{
    char req[8192];
    size_t n = 0;
    double deadline = cli_now() + 10;
    while (!memmem(req, n, "\r\n\r\n", 4)) {
        if (n == sizeof req - 1)
            return http_reply(c, "431 Request Header Fields Too Large", "", "request too large\n"), SR_CLOSE;
        size_t got = 0;
        ERR_clear_error();
        if (!SSL_read_ex(c->ssl, req + n, sizeof req - 1 - n, &got)) {
            int e = SSL_get_error(c->ssl, 0);
            if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && !quitting() &&
                cli_now() < deadline) {
                wait_fd(c, POLLIN, 100);
                continue;
            }
            return SR_CLOSE;
        }
        n += got;
    }
    req[n] = '\0';
    G.st.auth_requests++;
    char *sp1 = strchr(req, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    char *eol = strstr(req, "\r\n");
    if (!sp1 || !sp2 || sp2 > eol || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
        return http_reply(c, "400 Bad Request", "", "bad request\n"), SR_CLOSE;
    *sp1 = *sp2 = '\0';
    char *path = sp1 + 1, *q = strchr(path, '?');
    if (q)
        *q = '\0';
    if (strcmp(path, "/auth") != 0 && strcmp(path, "/token") != 0) {
        note(ORA_LOG_INFO, "conn %llu: auth: 404 for %.64s", (unsigned long long)c->id, path);
        return http_reply(c, "404 Not Found", "", "not found\n"), SR_CLOSE;
    }
    if (strcmp(req, "GET") != 0) {
        note(ORA_LOG_INFO, "conn %llu: auth: 405 for %.16s", (unsigned long long)c->id, req);
        return http_reply(c, "405 Method Not Allowed", "Allow: GET\r\n", "method not allowed\n"), SR_CLOSE;
    }
    static atomic_uint_fast64_t served;
    if (served++ < G.o->faults.auth_fail) {
        G.st.faults++;
        note(ORA_LOG_INFO, "conn %llu: fault auth-fail: 503", (unsigned long long)c->id);
        return http_reply(c, "503 Service Unavailable", "Retry-After: 1\r\n", "try again later\n"), SR_CLOSE;
    }
    char cn[128], claims[512];
    client_cn(c, cn, sizeof cn);
    int64_t now = (int64_t)time(NULL);
    snprintf(claims, sizeof claims, "{\"sub\":\"%s\",\"aud\":\"ora-sim\",\"iat\":%lld,\"exp\":%lld,\"jti\":\"%llu\"}",
             cn, (long long)now, (long long)(now + G.o->token_ttl), (unsigned long long)c->id);
    char *tok = jwt_sign_hs256(G.jwt_key, sizeof G.jwt_key, claims);
    if (!tok)
        return http_reply(c, "500 Internal Server Error", "", "out of memory\n"), SR_CLOSE;
    G.st.tokens++; /* before the reply: a client that has it sees it counted */
    int rc = http_reply(c, "200 OK", "", tok);
    sodium_memzero(tok, strlen(tok));
    free(tok);
    note(ORA_LOG_INFO, "conn %llu: auth: token issued to %s, valid %llds", (unsigned long long)c->id,
         cn, (long long)G.o->token_ttl);
    return rc == SR_OK ? SR_CLOSE : rc;
}

/* ---- connection threads ------------------------------------------------------- */

static void close_conn(conn *c, int graceful)
{
    if (graceful && !c->abrupt) {
        ERR_clear_error();
        SSL_shutdown(c->ssl);
    } else {
        /* FIN after what was sent, no close_notify; read the rest so the
         * kernel does not answer unread bytes with a reset */
        shutdown(c->fd, SHUT_WR);
        double until = cli_now() + 0.5;
        char tmp[4096];
        while (cli_now() < until && wait_fd(c, POLLIN, 50) >= 0) {
            ssize_t r = read(c->fd, tmp, sizeof tmp);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
                break;
        }
    }
}

static void *conn_main(void *arg)
{
    conn *c = arg;
    c->ssl = SSL_new(G.ctx);
    c->dec = ora_wire_new(&(ora_wire_limits){.max_frame = 1u << 20, .max_ratio = 1000});
    c->enc = ora_wire_enc_new(G.o->level);
    int rc = SR_ERR;
    if (!c->ssl || !c->dec || !c->enc || !SSL_set_fd(c->ssl, c->fd)) {
        note(ORA_LOG_ERROR, "conn %llu: out of memory", (unsigned long long)c->id);
    } else if (tls_handshake(c) == 0) {
        note(ORA_LOG_DEBUG, "conn %llu: %s connection established", (unsigned long long)c->id,
             c->auth ? "auth" : "ORA");
        rc = c->auth ? http(c) : session(c);
        close_conn(c, rc == SR_CLOSE);
        note(ORA_LOG_DEBUG, "conn %llu: closed after %llu messages, %llu bytes",
             (unsigned long long)c->id, (unsigned long long)c->msgs, (unsigned long long)c->bytes);
    }
    if (c->have_cmd)
        sim_cmd_free(&c->cmd);
    SSL_free(c->ssl);
    ora_wire_free(c->dec);
    ora_wire_enc_free(c->enc);
    ora_buf_free(&c->out);
    ora_buf_free(&c->plain);
    if (c->zs_ready)
        deflateEnd(&c->zs);
    close(c->fd);
    free(c);
    G.active--;
    return NULL;
}

static void spawn(int fd, int auth)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (G.active >= 256) {
        note(ORA_LOG_WARN, "too many connections: refusing one");
        close(fd);
        return;
    }
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->fd = fd;
    c->auth = auth;
    c->id = ++G.conn_seq;
    c->rng = (G.o->model.seed + 1) * 0x9e3779b97f4a7c15ull + c->id * 0xbf58476d1ce4e5b9ull;
    if (!c->rng)
        c->rng = 1;
    G.st.connections++;
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    G.active++;
    if (pthread_create(&t, &a, conn_main, c) != 0) {
        note(ORA_LOG_WARN, "unable to start a connection thread: %s", strerror(errno));
        G.active--;
        close(fd);
        free(c);
    }
    pthread_attr_destroy(&a);
}

/* ---- setup -------------------------------------------------------------------- */

static int listen_on(int port, int *fd, int *bound, int do_listen)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        return -1;
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || (do_listen && listen(s, 128) < 0) ||
        getsockname(s, (struct sockaddr *)&a, &al) < 0) {
        int e = errno;
        close(s);
        errno = e;
        return -1;
    }
    *fd = s;
    *bound = ntohs(a.sin_port);
    return 0;
}

static int write_port_file(const char *path, int port, int auth_port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "port=%d\nauth_port=%d\n", port, auth_port);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

static SSL_CTX *make_ctx(const sim_server_opts *o)
{
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
    note(ORA_LOG_ERROR, "unable to %s: %s", what, ssl_err());
    SSL_CTX_free(ctx);
    return NULL;
}

int sim_server_run(const sim_server_opts *o)
{
    G.o = o;
    int ex = 0, ofd = -1, afd = -1, port = 0, aport = 0;
    randombytes_buf(G.jwt_key, sizeof G.jwt_key);
    if (!(G.ctx = make_ctx(o)))
        return ORA_EX_CONFIG;
    G.model = sim_model_new(&o->model);
    G.log = sim_log_new(o->retain);
    if (!G.model || !G.log || sim_model_init(G.model, &sink) < 0) {
        note(ORA_LOG_ERROR, "unable to build the model: out of memory");
        ex = ORA_EX_SOFTWARE;
        goto out;
    }
    if (o->log && fflush(o->log) != 0)
        G.io_err = 1;
    int listening = o->faults.refuse_for <= 0;
    if (listen_on(o->port, &ofd, &port, listening) < 0 || listen_on(o->auth_port, &afd, &aport, 1) < 0) {
        note(ORA_LOG_ERROR, "unable to listen on 127.0.0.1: %s", strerror(errno));
        ex = ORA_EX_UNAVAILABLE;
        goto out;
    }
    if (o->port_file && write_port_file(o->port_file, port, aport) < 0) {
        note(ORA_LOG_ERROR, "unable to write %s: %s", o->port_file, strerror(errno));
        ex = ORA_EX_IOERR;
        goto out;
    }
    note(ORA_LOG_INFO, "serving ORA on 127.0.0.1:%d, auth on https://127.0.0.1:%d/auth; model: %zu events, %zu bet offers, head offset %llu%s",
         port, aport, sim_model_events(G.model), sim_model_offers(G.model),
         (unsigned long long)sim_model_head(G.model),
         listening ? "" : "; refusing ORA connections for now");
    double t0 = cli_now();
    while (!*o->stop) {
        struct pollfd p[2] = {{.fd = ofd, .events = POLLIN}, {.fd = afd, .events = POLLIN}};
        int r = poll(p, 2, 5);
        double now = cli_now();
        if (!listening && now - t0 >= o->faults.refuse_for) {
            if (listen(ofd, 128) < 0) {
                note(ORA_LOG_ERROR, "unable to listen: %s", strerror(errno));
                ex = ORA_EX_UNAVAILABLE;
                break;
            }
            listening = 1;
            note(ORA_LOG_INFO, "accepting ORA connections now");
        }
        for (int i = 0; r > 0 && i < 2; i++) {
            if (!(p[i].revents & POLLIN) || (i == 0 && !listening))
                continue;
            int fd = accept4(p[i].fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0)
                spawn(fd, i == 1);
        }
        if (generate(now - t0) < 0) {
            note(ORA_LOG_ERROR, "unable to generate: out of memory");
            ex = ORA_EX_SOFTWARE;
            break;
        }
        if (G.io_err) {
            note(ORA_LOG_ERROR, "unable to write the log: %s", strerror(errno));
            ex = ORA_EX_IOERR;
            break;
        }
        if (o->tick)
            o->tick();
    }
out:
    G.quit = 1;
    if (ofd >= 0)
        close(ofd);
    if (afd >= 0)
        close(afd);
    for (int i = 0; i < 100 && G.active > 0; i++)
        usleep(20000);
    if (G.active == 0) {
        sim_model_free(G.model);
        sim_log_free(G.log);
        SSL_CTX_free(G.ctx);
        G.model = NULL;
        G.log = NULL;
        G.ctx = NULL;
    }
    return ex;
}
