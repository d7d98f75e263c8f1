/* ora-connect: the resilient, authenticated source of the ORA stream
 * (doc/design.md §2, §4; man/ora-connect.1).
 *
 * States: JWT (lib/auth) -> TLS connect (lib/tls) -> session (lib/session,
 * with frames decoded by lib/wire) -> back to JWT on any failure, with
 * exponential backoff and full jitter (lib/backoff). Output: WIRE records
 * and CTRL records, through a bounded buffer written to a non-blocking
 * stdout from the same poll() loop that answers pings. The stream must be
 * inflated here anyway (to answer pings and follow the session), so each
 * frame is handed on inflated, one WIRE record flagged INFLATED each, and
 * ora-deframe does not inflate it again; --compressed hands on the bytes
 * as read instead.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "backoff.h"
#include "buf.h"
#include "checkpoint.h"
#include "cli.h"
#include "cliopt.h"
#include "metrics.h"
#include "ora.h"
#include "record.h"
#include "session.h"
#include "tls.h"
#include "wire.h"
#include "sandbox.h"

#define HEALTHY_AFTER 30.0       /* seconds connected that count as a healthy session */
#define READ_CHUNK (64u << 10)   /* bytes per socket read = per WIRE record at most */
#define MAX_OFFERINGS 64
/* Default output buffer bounds. Inflated frames take about four times the
 * bytes of the gzip stream they came in: the larger default gives a stalled
 * downstream about the slack, in messages, of 64 MiB of the stream as read
 * (a snapshot of a million messages must not overflow it and start over
 * whenever downstream is a little slower than the server). */
#define DEF_BUFFER (256ull << 20)
#define DEF_BUFFER_COMPRESSED (64ull << 20)

static const char usage_text[] =
    "usage: ora-connect --auth-url URL --host HOST --port PORT --cert FILE --key FILE\n"
    "                   --cacert FILE --offering NAME [--offering NAME ...]\n"
    "                   [--verify-name PATTERN] [--checkpoint FILE] [--state-dir DIR] [--once]\n"
    "                   [--ping-timeout SECONDS] [--backoff-min SECONDS] [--backoff-max SECONDS]\n"
    "                   [--connect-timeout SECONDS] [--max-attempts N] [--max-buffer BYTES]\n"
    "                   [--insecure-key-perms] [--compressed] [--metrics FILE]\n"
    "                   [--metrics-interval SECONDS] [-o FILE]\n"
    "       ora-connect -h | --help | --version\n";

/* ---- configuration ----------------------------------------------------- */

static struct {
    const char *auth_url, *host, *port, *cert, *key, *cacert, *verify_name, *checkpoint, *out_path;
    const char *metrics;        /* --metrics FILE */
    double metrics_interval;
    const char *offerings[MAX_OFFERINGS];
    size_t n_offerings;
    char *env_offerings;        /* ORA_OFFERINGS, split in place */
    char *state_checkpoint;     /* DIR/checkpoint of --state-dir or ORA_STATE_DIR */
    int once, insecure_key_perms, compressed;
    double ping_timeout, backoff_min, backoff_max, connect_timeout;
    uint64_t max_attempts, max_buffer;
} cfg = {
    .ping_timeout = 20, .backoff_min = 0.5, .backoff_max = 30, .connect_timeout = 10, .metrics_interval = 10,
    .max_buffer = 0,   /* default: DEF_BUFFER, or DEF_BUFFER_COMPRESSED */
};

/* ---- state and counters ------------------------------------------------ */

static volatile sig_atomic_t stop_signals;   /* SIGTERM/SIGINT received */

static struct {
    uint64_t connections, reconnects, bytes, wire, ctrl, pings, pongs, overflows, jwts;
    int flow;
    int64_t last_offset;
    uint64_t connected;         /* 1 while a session is up */
    double last_ping;           /* cli_now() of the last SESSION_PING; 0: none yet */
} st = {.flow = ORA_FLOW_NONE, .last_offset = -1};

/* ---- metrics (README "Monitoring") -------------------------------------- */

/* Why a new attempt was needed: ora_connect_reconnects_total{cause}. */
enum cause {
    C_EOF, C_NETWORK, C_TLS, C_REFUSED, C_AUTH, C_PING_TIMEOUT, C_INVALID_TOKEN, C_PROTOCOL,
    C_CORRUPT_STREAM, C_BUFFER_FULL, C_SESSION_ERROR, C_COUNT
};
static const char *const cause_labels[C_COUNT] = {
    "cause=\"eof\"", "cause=\"network\"", "cause=\"tls\"", "cause=\"refused\"", "cause=\"auth\"",
    "cause=\"ping_timeout\"", "cause=\"invalid_token\"", "cause=\"protocol\"", "cause=\"corrupt_stream\"",
    "cause=\"buffer_full\"", "cause=\"session_error\""};
static uint64_t causes[C_COUNT];
static ora_metrics *metrics;

static double ping_age(void *ctx)
{
    (void)ctx;
    return st.connected && st.last_ping > 0 ? cli_now() - st.last_ping : NAN;
}

static const int flows[] = {ORA_FLOW_SNAPSHOT, ORA_FLOW_REPLAY, ORA_FLOW_REALTIME};

static double flow_is(void *ctx)
{
    return st.flow == *(const int *)ctx ? 1 : 0;
}

static void metrics_setup(void)
{
    if (!cfg.metrics)
        return;
    int rc = !(metrics = ora_metrics_new("connect"));
    if (!rc)
        rc |= ora_metrics_u64(metrics, "ora_connect_received_bytes_total", ORA_COUNTER,
                              "Bytes read from the ORA socket.", NULL, &st.bytes);
    for (int i = 0; !rc && i < C_COUNT; i++)
        rc |= ora_metrics_u64(metrics, "ora_connect_reconnects_total", ORA_COUNTER,
                              "New attempts after a failed or ended one, by cause.", cause_labels[i], &causes[i]);
    if (!rc)
        rc |= ora_metrics_u64(metrics, "ora_connect_connected", ORA_GAUGE, "1 while a session is up.", NULL,
                              &st.connected);
    if (!rc)
        rc |= ora_metrics_fn(metrics, "ora_connect_last_ping_age_seconds", ORA_GAUGE,
                             "Seconds since the server's last SESSION_PING.", NULL, ping_age, NULL);
    static const char *const flow_labels[] = {"flow=\"snapshot\"", "flow=\"replay\"", "flow=\"realtime\""};
    for (int i = 0; !rc && i < 3; i++)
        rc |= ora_metrics_fn(metrics, "ora_connect_flow", ORA_GAUGE, "1 for the current flow.", flow_labels[i],
                             flow_is, (void *)&flows[i]);
    if (rc) {
        log_error("unable to set up metrics: out of memory");
        exit(ORA_EX_SOFTWARE);
    }
    ora_metrics_schedule(metrics, cfg.metrics, cfg.metrics_interval);
}

static void metrics_tick(void)
{
    if (metrics)
        ora_metrics_tick(metrics, cli_now());
}

static int out_fd = 1;
static int out_flags_saved = -1;   /* original flags of fd 1, restored at exit */
static ora_buf out = ORA_BUF_INIT; /* encoded records; out.p[out_off..out.len) unwritten */
static size_t out_off;

static size_t out_pending(void) { return out.len - out_off; }

static void summary(char *buf, size_t n, double elapsed)
{
    char r[32], last[24] = "none";
    if (st.last_offset >= 0)
        snprintf(last, sizeof last, "%" PRId64, st.last_offset);
    snprintf(buf, n,
             "%" PRIu64 " connections, %" PRIu64 " reconnects, %" PRIu64 " bytes (%s/s), %" PRIu64
             " WIRE and %" PRIu64 " CTRL records, %" PRIu64 " pings, %" PRIu64 " pongs, %" PRIu64
             " buffer overflows, flow %s, last offset %s, %zu bytes buffered",
             st.connections, st.reconnects, st.bytes, cli_human(elapsed > 0 ? st.bytes / elapsed : 0, r, sizeof r),
             st.wire, st.ctrl, st.pings, st.pongs, st.overflows, ora_flow_name((uint8_t)st.flow),
             last, out_pending());
}

static void restore_stdout_flags(void)
{
    if (out_flags_saved >= 0)
        fcntl(1, F_SETFL, out_flags_saved);
}

static _Noreturn void finish(int code)
{
    if (metrics && ora_metrics_flush(metrics) != 0)
        log_warn("unable to write metrics to %s: %s", cfg.metrics, strerror(errno));
    restore_stdout_flags();
    cli_summary();
    exit(code);
}

static void on_stop(int sig)
{
    (void)sig;
    if (stop_signals < 100)
        stop_signals++;
}

/* ---- output ------------------------------------------------------------ */

/* Appends one record to the output buffer (never blocks). */
static void emit_flags(uint8_t type, uint16_t flags, uint8_t kind, uint32_t conn, int64_t offset, uint8_t flow,
                       const void *payload, size_t len)
{
    ora_rec r;
    ora_rec_init(&r, type);
    r.flags = flags;
    r.kind = kind;
    r.conn = conn;
    r.offset = offset;
    r.flow = flow;
    r.recv_ns = cli_wall_ns();
    r.len = (uint32_t)len;
    r.payload = payload;
    if (out_off && out_off >= out.len / 2) {
        ora_buf_consume(&out, out_off);
        out_off = 0;
    }
    if (ora_buf_reserve(&out, ORA_REC_HDR + len) < 0) {
        log_error("unable to buffer output: %s", strerror(errno));
        finish(ORA_EX_SOFTWARE);
    }
    out.len += ora_rec_encode(out.p + out.len, &r);
    if (type == ORA_T_WIRE)
        st.wire++;
    else
        st.ctrl++;
}

static void emit(uint8_t type, uint8_t kind, uint32_t conn, int64_t offset, uint8_t flow,
                 const void *payload, size_t len)
{
    emit_flags(type, 0, kind, conn, offset, flow, payload, len);
}

static void emit_ctrl(uint8_t kind, uint32_t conn, int64_t offset, uint8_t flow, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void emit_ctrl(uint8_t kind, uint32_t conn, int64_t offset, uint8_t flow, const char *fmt, ...)
{
    char json[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(json, sizeof json, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof json)
        n = 0;
    emit(ORA_T_CTRL, kind, conn, offset, flow, json, (size_t)n);
}

/* Writes what stdout takes without blocking. Exits 74 on a write error. */
static void flush_some(void)
{
    while (out_pending()) {
        ssize_t k = write(out_fd, out.p + out_off, out_pending());
        if (k > 0) {
            out_off += (size_t)k;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        log_error("unable to write to %s: %s", cfg.out_path ? cfg.out_path : "stdout",
                  k < 0 ? strerror(errno) : "short write");
        finish(ORA_EX_IOERR);
    }
    out.len = out_off = 0;
}

/* Waits up to secs (or, with secs < 0, until the buffer is empty) while
 * writing stdout. Returns early (nonzero) when a stop signal arrives. */
static int idle(double secs, int stop_on_signal)
{
    double end = cli_now() + secs;
    for (;;) {
        flush_some();
        cli_poll();
        metrics_tick();
        if (stop_on_signal && stop_signals)
            return 1;
        double left = secs < 0 ? 1.0 : end - cli_now();
        if (secs < 0 && !out_pending())
            return 0;
        if (left <= 0)
            return 0;
        struct pollfd p = {out_fd, POLLOUT, 0};
        int ms = left > 0.2 ? 200 : (int)(left * 1000) + 1;
        poll(&p, out_pending() ? 1 : 0, ms);
    }
}

/* At exit: writes everything left, blocking. A second stop signal gives up. */
static void drain_and_close(void)
{
    int before = stop_signals;
    while (out_pending()) {
        flush_some();
        if (!out_pending())
            break;
        if (stop_signals > before && stop_signals >= 2) {
            log_error("unable to drain output: %zu bytes not written (stopped again)", out_pending());
            finish(ORA_EX_TEMPFAIL);
        }
        struct pollfd p = {out_fd, POLLOUT, 0};
        poll(&p, 1, 200);
        cli_poll();
    }
    restore_stdout_flags();
    if (close(out_fd) < 0) {
        log_error("unable to close %s: %s", cfg.out_path ? cfg.out_path : "stdout", strerror(errno));
        finish(ORA_EX_IOERR);
    }
}

/* ---- the session ------------------------------------------------------- */

enum end {
    END_STOP = 1,   /* SIGTERM/SIGINT */
    END_NET,        /* socket error or closed by the server */
    END_STALE,      /* no PING within --ping-timeout */
    END_OVERFLOW,   /* output buffer full */
    END_TOKEN,      /* INVALID_TOKEN */
    END_PROTO,      /* protocol violation */
    END_CORRUPT,    /* undecodable stream */
    END_FATAL,      /* configuration error reported by the server */
    END_DONE,       /* --once caught up */
    END_NOMEM
};

static const char *const end_reason[] = {
    "", "shutdown", "network", "stale", "buffer_full", "invalid_token", "protocol",
    "corrupt_stream", "session_error", "caught_up", "out_of_memory"};

typedef struct conn_state {
    ora_tls_conn *tls;
    uint32_t no;
    ora_sess sess;
    ora_wire *wire;
    ora_buf tx;               /* framed commands not yet written (may hold the token) */
    double t_start, last_ping;
    int welcomed, healthy;
    int eof, tls_failed;      /* END_NET: closed by the server; a TLS failure */
    unsigned warnings;
    const ora_jwt *jwt;
    ora_backoff *backoff;
    char fatal[ORA_SMSG_CODE_MAX + ORA_SMSG_TEXT_MAX + 8];
} conn_state;

static void wipe_tx(conn_state *c)
{
    if (c->tx.p)
        sodium_memzero(c->tx.p, c->tx.cap);
    c->tx.len = 0;
}

/* Frames and queues one command. Returns 0, or -1 (out of memory). */
static int send_cmd(conn_state *c, const ora_smsg_args *cmd)
{
    /* Room reserved up front so no realloc leaves a copy of the token. */
    ora_buf json = ORA_BUF_INIT;
    size_t need = 1024 + (c->jwt->len + 64) * 6;
    for (size_t i = 0; i < cfg.n_offerings; i++)
        need += strlen(cfg.offerings[i]) * 6 + 8;
    int rc = -1;
    if (ora_buf_reserve(&json, need) == 0 && ora_smsg_build(cmd, &json) == 0 &&
        ora_buf_reserve(&c->tx, json.len + 64) == 0)
        rc = ora_smsg_frame(json.p, json.len, &c->tx);
    if (json.p)
        sodium_memzero(json.p, json.cap);
    ora_buf_free(&json);
    if (rc == 0)
        log_debug("connection %" PRIu32 ": sent %s", c->no, ora_session_name(cmd->type));
    return rc;
}

/* Writes queued commands. Returns 0, or -1 on a socket error (logged). */
static int flush_tx(conn_state *c)
{
    size_t done = 0;
    while (done < c->tx.len) {
        ssize_t k = ora_tls_write(c->tls, c->tx.p + done, c->tx.len - done);
        if (k > 0) {
            done += (size_t)k;
            continue;
        }
        if (k == ORA_TLS_AGAIN)
            break;
        log_warn("connection %" PRIu32 ": unable to send to %s port %s: %s", c->no, cfg.host, cfg.port,
                 ora_tls_error(c->tls));
        return -1;
    }
    if (done == c->tx.len)
        wipe_tx(c);
    else if (done) {
        ora_buf_consume(&c->tx, done);
        sodium_memzero(c->tx.p + c->tx.len, c->tx.cap - c->tx.len);
    }
    return 0;
}

static void warn_limited(conn_state *c, const char *what)
{
    if (++c->warnings <= 10)
        log_warn("connection %" PRIu32 ": %s%s", c->no, what, c->warnings == 10 ? " (further warnings muted)" : "");
}

/* Decodes the frames of a chunk and acts on session messages. */
static int on_frames(conn_state *c)
{
    const uint8_t *msg;
    uint32_t len;
    int rc;
    while ((rc = ora_wire_next(c->wire, &msg, &len)) == ORA_W_FRAME) {
        /* Handed on as inflated, before anything it causes (a flow record) */
        if (!cfg.compressed)
            emit_flags(ORA_T_WIRE, ORA_RF_INFLATED, 0, c->no, -1, ORA_FLOW_NONE, msg, len);
        ora_smsg m;
        ora_smsg_parse(msg, len, &m);
        ora_sact a = ora_session_on(&c->sess, &m);
        if (m.type == ORA_S_PING) {
            c->last_ping = st.last_ping = cli_now();
            st.pings++;
        } else if (m.type == ORA_S_WELCOME) {
            c->welcomed = 1;
        }
        if (c->sess.last_offset > st.last_offset)
            st.last_offset = c->sess.last_offset;
        if (c->sess.flow != ORA_FLOW_NONE)
            st.flow = c->sess.flow;
        ora_smsg_args cmd = {.offerings = cfg.offerings, .n_offerings = cfg.n_offerings, .offset = -1};
        switch (a.kind) {
        case ORA_A_NONE:
            if (a.reason)
                warn_limited(c, a.reason);
            break;
        case ORA_A_SEND_INITIALIZE:
            cmd.type = ORA_S_INITIALIZE;
            cmd.token = c->jwt->p;
            if (send_cmd(c, &cmd) < 0)
                return END_NOMEM;
            break;
        case ORA_A_SEND_SNAPSHOT:
            if (a.reason)
                log_info("connection %" PRIu32 ": %s: the checkpoint is older than the server's log; "
                         "asking for a snapshot", c->no, a.reason);
            cmd.type = ORA_S_SNAPSHOT;
            if (send_cmd(c, &cmd) < 0)
                return END_NOMEM;
            emit_ctrl(ORA_C_FLOW, c->no, -1, ORA_FLOW_SNAPSHOT, "{\"ctrl\":\"flow\",\"flow\":\"snapshot\"}");
            log_info("connection %" PRIu32 ": snapshot requested", c->no);
            break;
        case ORA_A_SEND_REPLAY:
            cmd.type = ORA_S_REPLAY;
            cmd.offset = a.offset;
            if (send_cmd(c, &cmd) < 0)
                return END_NOMEM;
            emit_ctrl(ORA_C_FLOW, c->no, a.offset, ORA_FLOW_REPLAY,
                      "{\"ctrl\":\"flow\",\"flow\":\"replay\",\"offset\":%" PRId64 "}", a.offset);
            log_info("connection %" PRIu32 ": replay requested after offset %" PRId64, c->no, a.offset);
            break;
        case ORA_A_SEND_PONG:
            if (a.reason)
                warn_limited(c, a.reason);
            cmd.type = ORA_S_PONG;
            cmd.id = a.id;
            if (send_cmd(c, &cmd) < 0)
                return END_NOMEM;
            st.pongs++;
            break;
        case ORA_A_HEALTHY:
            log_info("connection %" PRIu32 ": caught up at offset %" PRId64 ": realtime", c->no, a.offset);
            ora_backoff_reset(c->backoff);
            c->healthy = 1;
            break;
        case ORA_A_CAUGHT_UP:
            log_info("connection %" PRIu32 ": caught up at offset %" PRId64, c->no, a.offset);
            if (a.offset >= 0)
                emit_ctrl(ORA_C_CAUGHT_UP, c->no, a.offset, ORA_FLOW_REALTIME,
                          "{\"ctrl\":\"caught_up\",\"offset\":%" PRId64 "}", a.offset);
            else
                emit_ctrl(ORA_C_CAUGHT_UP, c->no, -1, ORA_FLOW_REALTIME, "{\"ctrl\":\"caught_up\"}");
            return END_DONE;
        case ORA_A_NEW_TOKEN:
            log_warn("connection %" PRIu32 ": the server refused our token (INVALID_TOKEN): "
                     "reconnecting with a new one", c->no);
            return END_TOKEN;
        case ORA_A_RECONNECT:
            log_warn("connection %" PRIu32 ": %s: reconnecting", c->no, a.reason);
            return END_PROTO;
        case ORA_A_FATAL:
            snprintf(c->fatal, sizeof c->fatal, "%s%s%s%s", a.reason, m.text[0] ? " (" : "", m.text,
                     m.text[0] ? ")" : "");
            return END_FATAL;
        }
        if (c->sess.flow != ORA_FLOW_NONE)
            st.flow = c->sess.flow;
    }
    if (rc == ORA_W_NEED_INPUT)
        return 0;
    if (rc == ORA_W_NOMEM)
        return END_NOMEM;
    log_warn("connection %" PRIu32 ": undecodable stream from the server at byte %" PRIu64 ": %s",
             c->no, ora_wire_in_pos(c->wire), ora_wire_error(c->wire));
    return END_CORRUPT;
}

/* One chunk read from the socket. Returns 0 or an enum end. */
static int on_bytes(conn_state *c, const uint8_t *data, size_t n)
{
    if (out_pending() + ORA_REC_HDR + n > cfg.max_buffer) {
        st.overflows++;
        log_warn("connection %" PRIu32 ": downstream stalled: %zu bytes of output buffered (--max-buffer %" PRIu64
                 "); disconnecting, resuming from the checkpoint once the output drains",
                 c->no, out_pending(), cfg.max_buffer);
        return END_OVERFLOW;
    }
    st.bytes += n;
    size_t before = out_pending();
    if (cfg.compressed)
        emit(ORA_T_WIRE, 0, c->no, -1, ORA_FLOW_NONE, data, n);
    ora_wire_feed(c->wire, data, n);
    int e = on_frames(c);
    if (!e && out_pending() > cfg.max_buffer) {
        /* inflated, the read did not fit after all: it goes as a whole
         * (nothing was written since it began) */
        out.len -= out_pending() - before;
        st.overflows++;
        log_warn("connection %" PRIu32 ": downstream stalled: %zu bytes of output buffered (--max-buffer %" PRIu64
                 "); disconnecting, resuming from the checkpoint once the output drains",
                 c->no, out_pending(), cfg.max_buffer);
        return END_OVERFLOW;
    }
    return e;
}

/* Runs one connection until it ends; returns the enum end. */
static int run_session(conn_state *c)
{
    static uint8_t rbuf[READ_CHUNK];
    int fd = ora_tls_fd(c->tls);
    c->t_start = c->last_ping = cli_now();
    emit_ctrl(ORA_C_CONNECTED, c->no, -1, ORA_FLOW_NONE, "{\"ctrl\":\"connected\",\"conn\":%" PRIu32 "}", c->no);
    for (;;) {
        if (stop_signals)
            return END_STOP;
        /* Read what is there (bounded, so stdout gets its turn). */
        int more = 0;
        for (int i = 0; i < 64; i++) {
            ssize_t k = ora_tls_read(c->tls, rbuf, sizeof rbuf);
            if (k > 0) {
                int e = on_bytes(c, rbuf, (size_t)k);
                if (e)
                    return e;
                if (c->tx.len && flush_tx(c) < 0)   /* a PONG goes out at once */
                    return END_NET;
                more = i == 63;
                continue;
            }
            if (k == 0) {
                log_warn("connection %" PRIu32 ": closed by the server", c->no);
                c->eof = 1;
                return END_NET;
            }
            if (k == ORA_TLS_AGAIN)
                break;
            c->tls_failed = ora_tls_error_kind(c->tls) != ORA_TLS_E_NET;
            if (ora_tls_error_kind(c->tls) == ORA_TLS_E_REJECTED)
                log_error("connection %" PRIu32 ": %s port %s: %s", c->no, cfg.host, cfg.port, ora_tls_error(c->tls));
            else
                log_warn("connection %" PRIu32 ": %s port %s: %s", c->no, cfg.host, cfg.port, ora_tls_error(c->tls));
            return END_NET;
        }
        if (c->tx.len && flush_tx(c) < 0)
            return END_NET;
        flush_some();
        cli_poll();
        metrics_tick();

        double now = cli_now();
        if (now - c->last_ping > cfg.ping_timeout) {
            log_warn("connection %" PRIu32 ": no SESSION_PING for %.0f s: stale connection, reconnecting",
                     c->no, cfg.ping_timeout);
            return END_STALE;
        }
        if (!c->healthy && now - c->t_start >= HEALTHY_AFTER) {
            c->healthy = 1;
            ora_backoff_reset(c->backoff);
        }
        if (more || ora_tls_pending(c->tls))
            continue;

        struct pollfd p[2];
        short rev = ora_tls_read_events(c->tls);
        p[0].fd = fd;
        p[0].events = (short)((rev ? rev : POLLIN) | (c->tx.len ? (ora_tls_write_events(c->tls) ? ora_tls_write_events(c->tls) : POLLOUT) : 0));
        p[1].fd = out_fd;
        p[1].events = POLLOUT;
        double left = c->last_ping + cfg.ping_timeout - now;
        int ms = left > 1 ? 1000 : (int)(left * 1000) + 1;
        poll(p, out_pending() ? 2 : 1, ms);
    }
}

/* ---- connecting -------------------------------------------------------- */

/* The certificate, key and CA files, read once at start (lib/tls.c): the
 * key through a checked descriptor into locked memory. Everything after
 * uses these bytes; nothing opens the files again. */
static ora_cred cert_pem, key_pem, ca_pem;

/* Exits 78 when a file is unusable; a key that group or others can access
 * is refused, like ssh does, unless --insecure-key-perms. */
static void read_credentials(void)
{
    char err[512];
    int rc = ora_cred_read("private key", cfg.key, ORA_CRED_KEY | (cfg.insecure_key_perms ? ORA_CRED_ANY_MODE : 0),
                           &key_pem, err, sizeof err);
    if (rc == ORA_CRED_E_MODE) {
        log_error("%s; chmod 600 it, or pass --insecure-key-perms", err);
        finish(ORA_EX_CONFIG);
    }
    if (rc < 0 || ora_cred_read("client certificate", cfg.cert, 0, &cert_pem, err, sizeof err) < 0 ||
        ora_cred_read("CA file", cfg.cacert, 0, &ca_pem, err, sizeof err) < 0) {
        log_error("%s", err);
        finish(ORA_EX_CONFIG);
    }
}

/* The checkpoint offset, -1 when there is none (said when announce is set).
 * Exits 78 on a bad file. */
static int64_t read_checkpoint(int announce)
{
    if (!cfg.checkpoint)
        return -1;
    int64_t w;
    int rc = checkpoint_read(cfg.checkpoint, &w);
    if (rc == 1 && w >= 0 && w <= ORA_OFFSET_MAX)
        return w;
    if (rc == 0) {
        if (announce)
            log_info("no checkpoint in %s yet: starting from a snapshot", cfg.checkpoint);
        return -1;
    }
    log_error("unable to read checkpoint %s: %s", cfg.checkpoint,
              rc == 1 || errno == EINVAL ? "not one decimal offset in 0..2^53-1 and a newline" : strerror(errno));
    finish(ORA_EX_CONFIG);
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
    char m[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    exit(cli_usage_error("%s", m));
}

/* A bad value in the environment is configuration, not usage: exit 78. */
static void env_error(const char *name, const char *value, const char *want) __attribute__((noreturn));
static void env_error(const char *name, const char *value, const char *want)
{
    log_error("unable to use %s '%s': need %s", name, value, want);
    exit(ORA_EX_CONFIG);
}

static void add_offering(const char *name)
{
    if (!*name)
        usage_error("unable to use an empty --offering");
    if (cfg.n_offerings == MAX_OFFERINGS)
        usage_error("unable to use more than %d offerings", MAX_OFFERINGS);
    cfg.offerings[cfg.n_offerings++] = name;
}

/* --offering NAME (cliopt.h CLI_CALL); add_offering exits when there are too many. */
static int offering_opt(const char *name, void *unused)
{
    (void)unused;
    add_offering(name);
    return 0;
}

/* --state-dir DIR, not empty (cliopt.h CLI_CALL). */
static int state_dir_opt(const char *dir, void *flag)
{
    if (!*dir)
        usage_error("unable to use an empty --state-dir");
    *(const char **)flag = dir;
    return 0;
}

/* A bad value (cliopt.h): the seconds options have no message of their own. */
static int bad_value(const cli_opt *o, const char *arg)
{
    if (o->bad)
        return cli_opt_bad(o, arg);
    char name[64];
    usage_error("unable to parse %s '%s': need seconds in [%g, %g]", cli_opt_name(o, name, sizeof name), arg, o->d.min,
                o->d.max);
}

static void parse_args(int argc, char **argv)
{
    /* Environment first; flags win. */
    const char *e;
    cfg.auth_url = cli_env("ORA_AUTH_URL");
    cfg.host = cli_env("ORA_HOST");
    cfg.port = cli_env("ORA_PORT");
    cfg.cert = cli_env("ORA_CERT");
    cfg.key = cli_env("ORA_KEY");
    cfg.cacert = cli_env("ORA_CACERT");
    cfg.verify_name = cli_env("ORA_VERIFY_NAME");
    const char *ck_flag = NULL, *sd_flag = NULL, *ck_env = cli_env("ORA_CHECKPOINT"),
               *sd_env = cli_env("ORA_STATE_DIR");
    if ((e = cli_env("ORA_PING_TIMEOUT")) && cli_parse_double(e, 0.1, 3600, &cfg.ping_timeout) < 0)
        env_error("ORA_PING_TIMEOUT", e, "seconds in [0.1, 3600]");
    if ((e = cli_env("ORA_MAX_BUFFER")) && cli_parse_size(e, 128u << 10, (uint64_t)1 << 40, &cfg.max_buffer) < 0)
        env_error("ORA_MAX_BUFFER", e, "bytes in [128K, 1T]");
    int offering_given = 0;
    cli_opt opts[] = {
        {.name = "auth-url", .kind = CLI_STR, .dest = &cfg.auth_url},
        {.name = "host", .kind = CLI_STR, .dest = &cfg.host},
        {.name = "port", .kind = CLI_STR, .dest = &cfg.port},
        {.name = "cert", .kind = CLI_STR, .dest = &cfg.cert},
        {.name = "key", .kind = CLI_STR, .dest = &cfg.key},
        {.name = "cacert", .kind = CLI_STR, .dest = &cfg.cacert},
        {.name = "verify-name", .kind = CLI_STR, .dest = &cfg.verify_name},
        {.name = "offering", .kind = CLI_CALL, .call = offering_opt, .takes_arg = 1, .given = &offering_given},
        {.name = "checkpoint", .kind = CLI_STR, .dest = &ck_flag},
        {.name = "state-dir", .kind = CLI_CALL, .dest = &sd_flag, .call = state_dir_opt, .takes_arg = 1},
        {.name = "once", .kind = CLI_FLAG, .dest = &cfg.once},
        {.name = "ping-timeout", .kind = CLI_DOUBLE, .dest = &cfg.ping_timeout, .d = {0.1, 3600}},
        {.name = "backoff-min", .kind = CLI_DOUBLE, .dest = &cfg.backoff_min, .d = {0.001, 3600}},
        {.name = "backoff-max", .kind = CLI_DOUBLE, .dest = &cfg.backoff_max, .d = {0.001, 86400}},
        {.name = "connect-timeout", .kind = CLI_DOUBLE, .dest = &cfg.connect_timeout, .d = {0.1, 600}},
        {.name = "max-attempts", .kind = CLI_U64, .dest = &cfg.max_attempts, .u = {0, 1000000},
         .bad = "unable to parse --max-attempts '%s': need a count in [0, 1000000]"},
        {.name = "max-buffer", .kind = CLI_SIZE, .dest = &cfg.max_buffer, .u = {128u << 10, (uint64_t)1 << 40},
         .bad = "unable to parse --max-buffer '%s': need bytes in [128K, 1T]"},
        {.name = "insecure-key-perms", .kind = CLI_FLAG, .dest = &cfg.insecure_key_perms},
        {.name = "compressed", .kind = CLI_FLAG, .dest = &cfg.compressed},
        {.name = "metrics", .kind = CLI_STR, .dest = &cfg.metrics},
        {.name = "metrics-interval", .kind = CLI_DOUBLE, .dest = &cfg.metrics_interval, .d = {0.1, 86400}},
        CLI_OPT_OUTPUT(&cfg.out_path),
        CLI_OPT_HELP(usage_text),
        CLI_OPT_VERSION,
    };
    cli_opts t = {.opt = opts, .n = sizeof opts / sizeof opts[0], .bad = bad_value,
                  .operand = "unable to use argument '%s': ora-connect takes no operands"};
    int go = cli_getopt(argc, argv, &t);
    if (go != CLI_GO)
        exit(go);
    /* The checkpoint: --checkpoint, else DIR/checkpoint of --state-dir, else
     * ORA_CHECKPOINT, else that of ORA_STATE_DIR (the stages of one
     * pipeline agree on it without repeating a path). */
    const char *sd = ck_flag ? NULL : sd_flag ? sd_flag : ck_env ? NULL : sd_env;
    cfg.checkpoint = ck_flag ? ck_flag : sd ? NULL : ck_env;
    if (sd) {
        size_t n = strlen(sd);
        if (!(cfg.state_checkpoint = malloc(n + sizeof "/checkpoint")))
            finish(ORA_EX_SOFTWARE);
        snprintf(cfg.state_checkpoint, n + sizeof "/checkpoint", "%s%scheckpoint", sd, sd[n - 1] == '/' ? "" : "/");
        cfg.checkpoint = cfg.state_checkpoint;
    }
    if (!offering_given && (e = cli_env("ORA_OFFERINGS"))) {
        if (!(cfg.env_offerings = strdup(e)))
            finish(ORA_EX_SOFTWARE);
        for (char *save = NULL, *t = strtok_r(cfg.env_offerings, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
            add_offering(t);
    }
    struct { const char *v, *name; } req[] = {
        {cfg.auth_url, "--auth-url"}, {cfg.host, "--host"}, {cfg.port, "--port"}, {cfg.cert, "--cert"},
        {cfg.key, "--key"}, {cfg.cacert, "--cacert"}};
    for (size_t i = 0; i < sizeof req / sizeof *req; i++)
        if (!req[i].v || !*req[i].v)
            usage_error("unable to start: %s is required", req[i].name);
    if (!cfg.n_offerings)
        usage_error("unable to start: at least one --offering is required");
    uint64_t port;
    if (cli_parse_u64(cfg.port, 1, 65535, &port) < 0)
        usage_error("unable to parse --port '%s': need a port in [1, 65535]", cfg.port);
    if (cfg.backoff_max < cfg.backoff_min)
        usage_error("unable to use --backoff-max %g below --backoff-min %g", cfg.backoff_max, cfg.backoff_min);
    unsigned char ip[16];
    if (cfg.verify_name && !ora_tls_pattern_valid(cfg.verify_name) && inet_pton(AF_INET, cfg.verify_name, ip) != 1 &&
        inet_pton(AF_INET6, cfg.verify_name, ip) != 1)
        usage_error("unable to use --verify-name '%s': need a host name, an address, "
                    "or *. and a name of two labels or more", cfg.verify_name);
}

/* After a token request failed at the network level: with TLS 1.3 a server
 * refuses a client certificate only after the handshake, and libcurl then
 * reports a mere closed connection. Probes the auth server with our own TLS
 * client to tell; nonzero (and err describes it) when it refused us. */
static int diagnose_auth(ora_tls_ctx *tls, char *err, size_t n)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;
    int rejected = 0;
    if (u && curl_url_set(u, CURLUPART_URL, cfg.auth_url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        char h[256], why[256];
        size_t hl = strlen(host);
        if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']')
            snprintf(h, sizeof h, "%.*s", (int)(hl - 2), host + 1);
        else
            snprintf(h, sizeof h, "%s", host);
        if (ora_tls_probe(tls, h, port, h, cfg.connect_timeout, 1.0, why, sizeof why) == ORA_TLS_E_REJECTED) {
            char shown[512];
            snprintf(err, n, "auth server %s: %s", ora_auth_display_url(cfg.auth_url, shown, sizeof shown), why);
            rejected = 1;
        }
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rejected;
}

/* Counts a failed attempt; gives up with 69 past --max-attempts. */
static void failed_attempt(uint64_t *fails)
{
    (*fails)++;
    if (cfg.max_attempts && *fails >= cfg.max_attempts) {
        log_error("unable to reach %s port %s: giving up after %" PRIu64 " failed attempts", cfg.host, cfg.port,
                  *fails);
        drain_and_close();
        finish(ORA_EX_UNAVAILABLE);
    }
}

/* Confines the stage (sandbox.h) once the key, certificate and CA are in
 * memory and the output is open: TCP connect to --port, the auth URL's
 * port and 53 (DNS over TCP), or any port when a proxy is set (libcurl
 * then connects to the proxy's); reads what libcurl, OpenSSL and the
 * resolver read again, and the checkpoint (re-read at each reconnection,
 * through its directory: kinesis-put replaces it by rename); writes the
 * metrics file's directory. 0, or the exit code. */
static int confine(void)
{
    ora_sandbox sb = {.profile = ORA_SB_NET};
    char ck[4096], md[4096], *aport = NULL;
    uint64_t p = 0;
    if (cfg.checkpoint)
        ora_sandbox_add(sb.read, ora_sandbox_dir(cfg.checkpoint, ck, sizeof ck));
    if (cfg.metrics) {
        sb.profile |= ORA_SB_FILES;
        ora_sandbox_add(sb.write, ora_sandbox_dir(cfg.metrics, md, sizeof md));
    }
    int full = ora_sandbox_add_system(&sb) < 0;
    sb.any_port = getenv("HTTPS_PROXY") || getenv("https_proxy") || getenv("ALL_PROXY") || getenv("all_proxy");
    CURLU *u = curl_url();
    if (!u || curl_url_set(u, CURLUPART_URL, cfg.auth_url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &aport, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        cli_parse_u64(aport, 1, 65535, &p) < 0 || ora_sandbox_port(&sb, (uint16_t)p) < 0)
        sb.any_port = 1; /* a URL read differently here than by libcurl: any port */
    curl_free(aport);
    curl_url_cleanup(u);
    if (cli_parse_u64(cfg.port, 1, 65535, &p) == 0)
        ora_sandbox_port(&sb, (uint16_t)p);
    ora_sandbox_port(&sb, 53);
    if (full) {
        log_error("unable to confine: too many paths to allow");
        return ORA_EX_SOFTWARE;
    }
    return cli_confine(&sb);
}

int main(int argc, char **argv)
{
    if (cli_start(argv[0]) != 0)
        return ORA_EX_CONFIG;
    parse_args(argc, argv);
    if (!cfg.max_buffer)
        cfg.max_buffer = cfg.compressed ? DEF_BUFFER_COMPRESSED : DEF_BUFFER;
    cli_set_summary(summary);
    metrics_setup();

    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("unable to initialize libsodium or libcurl");
        return ORA_EX_SOFTWARE;
    }
    read_credentials();
    int kind;
    char err[512];
    ora_tls_cfg tc = {.cert = cfg.cert, .key = cfg.key, .cacert = cfg.cacert, .verify_name = cfg.verify_name,
                      .cert_pem = &cert_pem, .key_pem = &key_pem, .ca_pem = &ca_pem};
    ora_tls_ctx *tls = ora_tls_ctx_new(&tc, &kind, err, sizeof err);
    if (!tls) {
        log_error("%s", err);
        return kind == ORA_TLS_E_CONFIG ? ORA_EX_CONFIG : ORA_EX_SOFTWARE;
    }
    if (cfg.checkpoint)
        (void)read_checkpoint(0);  /* a bad file is a configuration error: fail early */

    if ((out_fd = cli_open_out(cfg.out_path)) < 0) {
        log_error("unable to open %s: %s", cfg.out_path, strerror(errno));
        return ORA_EX_IOERR;
    }
    if (out_fd == 1) {
        out_flags_saved = fcntl(1, F_GETFL);
        if (out_flags_saved < 0) {
            log_error("unable to use stdout: %s", strerror(errno));
            return ORA_EX_IOERR;
        }
    }
    fcntl(out_fd, F_SETFL, fcntl(out_fd, F_GETFL) | O_NONBLOCK);

    cli_on_stop(on_stop);
    int cx = confine();
    if (cx)
        return cx;

    ora_backoff backoff;
    ora_backoff_init(&backoff, cfg.backoff_min, cfg.backoff_max);
    ora_wire *wire = ora_wire_new(NULL);
    if (!wire) {
        log_error("unable to allocate the stream decoder: out of memory");
        finish(ORA_EX_SOFTWARE);
    }
    ora_jwt jwt = {NULL, 0};
    ora_auth_cfg ac = {.url = cfg.auth_url, .cert = cfg.cert, .key = cfg.key, .cacert = cfg.cacert,
                       .connect_timeout = cfg.connect_timeout, .timeout = cfg.connect_timeout * 2,
                       .cancel = &stop_signals, .cert_pem = &cert_pem, .key_pem = &key_pem, .ca_pem = &ca_pem};
    uint32_t conn_no = 0;
    uint64_t fails = 0;
    int wait_first = 0, drain_first = 0, code = ORA_EX_OK;

    for (;;) {
        if (drain_first) {
            log_info("waiting for downstream to take %zu buffered bytes", out_pending());
            if (idle(-1, 1))
                break;
            drain_first = 0;
        }
        if (wait_first) {
            double d = ora_backoff_next(&backoff, randombytes_random());
            log_info("reconnecting in %.2f s", d);
            if (idle(d, 1))
                break;
        }
        wait_first = 1;
        if (stop_signals)
            break;

        int64_t checkpoint = read_checkpoint(1);
        ora_jwt_clear(&jwt);
        int ak = ora_auth_fetch(&ac, &jwt, err, sizeof err);
        if (ak == ORA_AUTH_E_CANCEL)
            break;
        if (ak != ORA_AUTH_OK) {
            if (ak == ORA_AUTH_E_CONFIG) {
                log_error("%s", err);
                code = ORA_EX_CONFIG;
                break;
            }
            if (ak == ORA_AUTH_E_NOMEM) {
                log_error("unable to fetch a token: out of memory");
                code = ORA_EX_SOFTWARE;
                break;
            }
            if (ak == ORA_AUTH_E_NET && diagnose_auth(tls, err, sizeof err))
                ak = ORA_AUTH_E_REJECTED;
            if (ak == ORA_AUTH_E_REJECTED || ak == ORA_AUTH_E_UNTRUSTED)
                log_error("unable to fetch a token: %s", err);
            else
                log_warn("unable to fetch a token: %s", err);
            causes[C_AUTH]++;
            failed_attempt(&fails);
            continue;
        }
        st.jwts++;
        log_debug("fetched a token (%zu bytes)", jwt.len);

        ora_tls_conn *conn = NULL;
        int tk = ora_tls_connect(tls, cfg.host, cfg.port, cfg.connect_timeout, &stop_signals, &conn, err, sizeof err);
        if (tk == ORA_TLS_E_CANCEL)
            break;
        if (tk != ORA_TLS_OK) {
            if (tk == ORA_TLS_E_NET)
                log_warn("%s", err);
            else
                log_error("unable to connect to %s port %s: %s", cfg.host, cfg.port, err);
            if (tk == ORA_TLS_E_CONFIG) {
                code = ORA_EX_CONFIG;
                break;
            }
            causes[tk == ORA_TLS_E_NET ? C_REFUSED : C_TLS]++;
            failed_attempt(&fails);
            continue;
        }

        conn_state c;
        memset(&c, 0, sizeof c);
        c.tls = conn;
        c.no = ++conn_no;
        c.wire = wire;
        c.jwt = &jwt;
        c.backoff = &backoff;
        ora_wire_reset(wire);
        c.sess.last_offset = st.last_offset;
        ora_session_start(&c.sess, checkpoint, cfg.once);
        if (ora_buf_reserve(&c.tx, 64u << 10) < 0) {
            log_error("unable to allocate: out of memory");
            finish(ORA_EX_SOFTWARE);
        }
        st.connections++;
        if (conn_no > 1)
            st.reconnects++;
        char desc[128];
        log_info("connection %" PRIu32 ": connected to %s port %s (%s)", c.no, cfg.host, cfg.port,
                 ora_tls_describe(conn, desc, sizeof desc));

        st.connected = 1;
        st.last_ping = 0;
        int end = run_session(&c);
        st.connected = 0;
        if (end == END_DONE || end == END_STOP)
            flush_tx(&c);
        if (!cfg.compressed && end != END_CORRUPT && ora_wire_partial(wire))
            log_warn("connection %" PRIu32 " ended inside a frame or member: dropped %" PRIu64
                     " bytes (%" PRIu64 " of a partial frame, %" PRIu64 " of an unfinished member)", c.no,
                     ora_wire_pending_frame(wire) + ora_wire_pending_member(wire), ora_wire_pending_frame(wire),
                     ora_wire_pending_member(wire));
        emit_ctrl(ORA_C_DISCONNECTED, c.no, -1, ORA_FLOW_NONE,
                  "{\"ctrl\":\"disconnected\",\"conn\":%" PRIu32 ",\"reason\":\"%s\"}", c.no, end_reason[end]);
        ora_tls_close(c.tls);
        wipe_tx(&c);
        ora_buf_free(&c.tx);
        ora_jwt_clear(&jwt);
        if (end == END_STOP || end == END_DONE)
            break;
        if (end == END_FATAL) {
            log_error("unable to start a session: the server answered %s", c.fatal);
            code = ORA_EX_CONFIG;
            break;
        }
        if (end == END_NOMEM) {
            log_error("unable to continue: out of memory");
            code = ORA_EX_SOFTWARE;
            break;
        }
        switch (end) {
        case END_NET: causes[c.eof ? C_EOF : c.tls_failed ? C_TLS : C_NETWORK]++; break;
        case END_STALE: causes[C_PING_TIMEOUT]++; break;
        case END_OVERFLOW: causes[C_BUFFER_FULL]++; break;
        case END_TOKEN: causes[C_INVALID_TOKEN]++; break;
        case END_PROTO: causes[C_PROTOCOL]++; break;
        case END_CORRUPT: causes[C_CORRUPT_STREAM]++; break;
        }
        if (c.welcomed)
            fails = 0;
        else
            failed_attempt(&fails);
        if (end == END_OVERFLOW)
            drain_first = 1;
    }

    ora_jwt_clear(&jwt);
    ora_wire_free(wire);
    ora_tls_ctx_free(tls);
    if (stop_signals)
        log_info("stopping: %s", out_pending() ? "draining output" : "done");
    drain_and_close();
    curl_global_cleanup();
    ora_cred_free(&key_pem);
    ora_cred_free(&cert_pem);
    ora_cred_free(&ca_pem);
    free(cfg.env_offerings);
    free(cfg.state_checkpoint);
    ora_buf_free(&out);
    finish(code);
}
